package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/quarter"
)

// These tests call runReport directly until the command is registered in
// commands(); they then run the same through Main.

func reportCmd(args []string, out, errb *bytes.Buffer) error { return runReport(args, out, errb) }

const exampleNow = "2026-11-25T12:00:00+08:00"

// TestReportGolden: the CLI writes exactly what quarter renders (the golden
// files of package quarter), in both languages.
func TestReportGolden(t *testing.T) {
	for _, lang := range quarter.Languages {
		for _, format := range []string{"md", "html", "svg", "json"} {
			code, out, errs := call(t, reportCmd, "quarter", "2026Q4", auditRepo(t).Dir, "--rev", "HEAD", "--no-cache", "--now", exampleNow, "--lang", lang, "--format", format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			q, _ := quarter.Parse("2026Q4")
			want, err := os.ReadFile(filepath.Join("..", "quarter", "testdata", filepath.Base(quarter.Path(q, lang, format))))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("%s %s differs from the golden file (-want +got):\n%s", lang, format, diff)
			}
		}
	}
}

// TestReportRevEqualsWorkTree: the same commit read with --rev gives the same
// numbers as the work tree, and the report names the commit.
func TestReportRevEqualsWorkTree(t *testing.T) {
	r := auditRepo(t)
	read := func(args ...string) quarter.Report {
		code, out, errs := call(t, reportCmd, append([]string{"quarter", "2026Q4", r.Dir, "--format", "json", "--now", exampleNow}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var rep quarter.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	wt, rev := read(), read("--rev", "HEAD")
	head := r.GitCLI("rev-parse", "HEAD")
	if rev.Revision+"\n" != head || wt.Revision != "" {
		t.Errorf("revision: work tree %q, --rev HEAD %q, want %s", wt.Revision, rev.Revision, head)
	}
	rev.Revision = ""
	if diff := cmp.Diff(wt, rev); diff != "" {
		t.Errorf("work tree and --rev HEAD differ (-work tree +rev):\n%s", diff)
	}
	_, md1, _ := call(t, reportCmd, "quarter", "2026Q4", r.Dir, "--rev", "HEAD", "--now", exampleNow)
	_, md2, _ := call(t, reportCmd, "quarter", "2026Q4", r.Dir, "--rev", "HEAD", "--now", exampleNow)
	if md1 != md2 || !bytes.Contains([]byte(md1), []byte(head[:40])) {
		t.Errorf("two runs at the same commit differ, or the commit is not named:\n%s", md1)
	}
	// A completed quarter does not depend on when it is made.
	_, a, _ := call(t, reportCmd, "quarter", "2026Q3", r.Dir, "--rev", "HEAD", "--now", "2026-11-25T12:00:00+08:00")
	_, b, _ := call(t, reportCmd, "quarter", "2026Q3", r.Dir, "--rev", "HEAD")
	if a != b {
		t.Errorf("a completed quarter's report depends on --now")
	}
}

func TestReportOut(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "2026Q4.en.md")
	if code, _, errs := call(t, reportCmd, "quarter", "2026Q4", auditRepo(t).Dir, "--rev", "HEAD", "--no-cache", "--now", exampleNow, "--lang", "en", "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, f := range []string{"2026Q4.en.md", "2026Q4.en.svg"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join("..", "quarter", "testdata", f))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file", f)
		}
	}
}

func TestReportUsage(t *testing.T) {
	tests := [][]string{
		{},
		{"quarter"},
		{"year", "2026"},
		{"quarter", "2026Q5", exampleDir},
		{"quarter", "2026Q4", exampleDir, "--format", "pdf"},
		{"quarter", "2026Q4", exampleDir, "--lang", "fr"},
		{"quarter", "2026Q4", exampleDir, "--now", "yesterday"},
		{"quarter", "2026Q4", "/no/such/dir"},
		{"quarter", "2026Q4", exampleDir, "--rev", "HEAD~999999"},
	}
	for _, args := range tests {
		if code, _, errs := call(t, reportCmd, append(args, "--no-cache")...); code != 2 {
			t.Errorf("relgate report %v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}
