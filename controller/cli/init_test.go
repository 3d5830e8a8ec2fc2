package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/scaffold"
)

// TestInitGolden: the policy, README and workflow init writes, in each
// language, with and without the trial setting; each result validates.
func TestInitGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"zh", []string{"--lang", "zh"}},
		{"en", []string{"--lang", "en"}},
		{"zh-trust", []string{"--lang", "zh", "--trust-commit-author"}},
		{"en-trust", []string{"--lang", "en", "--trust-commit-author"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := run(t, append(append([]string{"init", dir}, tc.args...), initFlags...)...)
			if code != 0 {
				t.Fatalf("init: exit %d\n%s%s", code, out, errs)
			}
			if code, out, errs := run(t, "validate", dir); code != 0 {
				t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
			}
			for _, f := range []string{"relgate.yaml", "README.md"} {
				golden(t, filepath.Join("testdata", "init", tc.name, filepath.Base(f)), read(t, filepath.Join(dir, f)))
			}
			for _, f := range []string{"releases/.gitkeep", "changes/.gitkeep", "cmdb/.gitkeep", ".relgate/schemas/release.schema.json"} {
				read(t, filepath.Join(dir, f))
			}
			pol := read(t, filepath.Join(dir, "relgate.yaml"))
			if trust := strings.Contains(pol, "\ntrustCommitAuthor: true\n"); trust != strings.HasSuffix(tc.name, "-trust") {
				t.Errorf("trustCommitAuthor written: %v, want %v", trust, !trust)
			}
		})
	}
}

// TestInitWorkflowCurrent: the workflow init writes is the example's.
func TestInitWorkflowCurrent(t *testing.T) {
	files, err := scaffold.Init(scaffold.Setup{Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	want := read(t, "../../examples/workflows/relgate.yml")
	for _, f := range files {
		if f.Path == ".github/workflows/relgate.yml" && string(f.Content) != want {
			t.Error("controller/scaffold/templates/workflow.yml differs from examples/workflows/relgate.yml; copy the example")
		}
	}
}

// TestInitRefusesToOverwrite: init writes nothing when any file it would
// write is there, and names each.
func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"relgate.yaml", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errs := run(t, append([]string{"init", dir}, initFlags...)...)
	if code != 2 || !strings.Contains(errs, "relgate.yaml, README.md") {
		t.Errorf("exit %d, want 2 naming relgate.yaml and README.md:\n%s", code, errs)
	}
	if got := read(t, filepath.Join(dir, "relgate.yaml")); got != "mine\n" {
		t.Errorf("relgate.yaml was overwritten:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".github")); err == nil {
		t.Error("init wrote files before refusing")
	}
}

// TestInitMissingFlags: without a terminal, init names every missing
// required flag at once, and every malformed one.
func TestInitMissingFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"nothing", nil, []string{"missing: --org ORGANIZATION, --bot-email EMAIL, --person LOGIN:NAME:EMAIL, --department ID:NAME:HEAD, --role release-owner=LOGIN, --role release-manager=LOGIN, --role release-tester=LOGIN, --role implementer=LOGIN, --role customer-representative=LOGIN, --role configuration-manager=LOGIN, --role change-manager=LOGIN, --role process-approver=LOGIN"}},
		{"one role missing", withoutFlag(initFlags, "--role", "process-approver=liuzhiqiang"), []string{"missing: --role process-approver=LOGIN"}},
		{"malformed values", slices.Concat(initFlags, []string{"--person", "zhangsan", "--department", "ops:运维:nobody", "--role", "release-owner=ghost", "--timezone", "Mars/Olympus"}),
			[]string{`--person "zhangsan": want LOGIN:NAME:EMAIL`, "--department ops: nobody is not a person", "--role release-owner: ghost is not a person", `--timezone "Mars/Olympus"`}},
		{"bad language", slices.Concat(initFlags, []string{"--lang", "fr"}), []string{`--lang "fr": want one of zh, en`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, errs := run(t, append([]string{"init", dir}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("init wrote %d entries before refusing", len(entries))
			}
		})
	}
}

func withoutFlag(args []string, name, value string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == name && i+1 < len(args) && args[i+1] == value {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func read(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
