package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileInput drives validate over files built to hurt a parser. Each
// must give a finding naming the file, exit 1 and never panic.
func TestHostileInput(t *testing.T) {
	laughs := "apiVersion: relgate.dev/v1\nkind: Change\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	for i := 'b'; i <= 'j'; i++ {
		prev := string(i - 1)
		laughs += string(i) + ": &" + string(i) + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n"
	}
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"billion laughs", laughs, "anchors and aliases"},
		{"duplicate key", "apiVersion: relgate.dev/v1\nkind: Change\nid: CHG-2026-9999\nid: CHG-2026-9998\n", "duplicate key \"id\""},
		{"two documents", "apiVersion: relgate.dev/v1\nkind: Change\n---\napiVersion: relgate.dev/v1\nkind: Change\n", "one document"},
		{"merge key", "apiVersion: relgate.dev/v1\nkind: Change\nx: &x {a: 1}\ny:\n  <<: *x\n", "anchors and aliases"},
		{"custom tag", "apiVersion: relgate.dev/v1\nkind: Change\nid: !!binary aGVsbG8=\n", "tag !!binary is not allowed"},
		{"deep flow nesting", "apiVersion: relgate.dev/v1\nkind: Change\nx: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n", "nesting deeper"},
		{"deep block nesting", "apiVersion: relgate.dev/v1\nkind: Change\n" + deepBlock(100), "nesting deeper"},
		{"oversized", "apiVersion: relgate.dev/v1\nkind: Change\ndescription: \"" + strings.Repeat("x", 2<<20) + "\"\n", "the limit is"},
		{"empty", "", "file is empty"},
		{"not a mapping", "- a\n- b\n", "mapping of fields"},
		{"syntax error", "apiVersion: relgate.dev/v1\nkind: Change\ntitle: \"unterminated\n", "YAML syntax"},
		{"tab indentation", "apiVersion: relgate.dev/v1\nkind: Change\n\tid: x\n", "YAML syntax"},
		{"wrong kind for its place", "apiVersion: relgate.dev/v1\nkind: Release\n", "must hold a Change"},
		{"unknown apiVersion", "apiVersion: relgate.dev/v2\nkind: Change\n", "is not supported"},
		{"yes is not a boolean", "apiVersion: relgate.dev/v1\nkind: Change\nid: CHG-2026-9999\ntitle: t\ntype: normal\nstatus: approved\nrequester: zhangwei\ndescription: d\nexternal: yes\n", "unknown field"},
		{"number out of range", "apiVersion: relgate.dev/v1\nkind: Change\nid: .inf\n", "not a finite decimal"},
		{"invalid utf-8", "apiVersion: relgate.dev/v1\nkind: Change\nid: \"\xff\xfe\"\n", "YAML syntax"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			r.Write("changes/CHG-2026-9999.yaml", tc.content)
			for _, rev := range [][]string{nil, {"--rev", "HEAD"}} {
				if rev != nil {
					r.Commit("hostile", gitrepoPerson)
				}
				code, out, errs := run(t, append([]string{"validate", r.Dir}, rev...)...)
				if code != 1 {
					t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
				}
				if !strings.Contains(out, "changes/CHG-2026-9999.yaml") || !strings.Contains(out, tc.want) {
					t.Errorf("output lacks the file or %q:\n%s", tc.want, out)
				}
			}
		})
	}
}

func deepBlock(n int) string {
	var b strings.Builder
	b.WriteString("x:\n")
	for i := 1; i < n; i++ {
		b.WriteString(strings.Repeat("  ", i) + "a:\n")
	}
	b.WriteString(strings.Repeat("  ", n) + "b: 1\n")
	return b.String()
}

// TestSymlinkNotFollowed: a symlinked document is reported, not read.
func TestSymlinkNotFollowed(t *testing.T) {
	r := exampleRepo(t)
	secret := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(secret, []byte("apiVersion: relgate.dev/v1\nkind: Change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(r.Dir, "changes", "CHG-2026-9999.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, rev := range [][]string{nil, {"--rev", "HEAD"}} {
		if rev != nil {
			r.Commit("symlink", gitrepoPerson)
		}
		code, out, _ := run(t, append([]string{"validate", r.Dir}, rev...)...)
		if code != 1 || !strings.Contains(out, "symlinks and submodules are not allowed") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	}
}

// TestSymlinkedFolder: a release folder that is a link is reported.
func TestSymlinkedFolder(t *testing.T) {
	r := exampleRepo(t)
	if err := os.Symlink("REL-2026-0041", filepath.Join(r.Dir, "releases", "REL-2026-0044")); err != nil {
		t.Fatal(err)
	}
	r.Commit("link", gitrepoPerson)
	for _, args := range [][]string{{"validate", r.Dir}, {"validate", r.Dir, "--rev", "HEAD"}} {
		code, out, _ := run(t, args...)
		if code != 1 || !strings.Contains(out, "releases/REL-2026-0044") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}
