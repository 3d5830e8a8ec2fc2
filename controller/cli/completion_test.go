package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletion: the candidates relgate offers, from the repository the
// user is in: commands, release ids, gates, logins, environments, flags.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		words []string // after the program name; the last is being completed
		want  []string // all of these, in order
		not   []string
	}{
		{words: []string{"ap"}, want: []string{"approve"}, not: []string{"audit"}},
		{words: []string{"approve", "REL-2026-004"}, want: []string{"REL-2026-0041", "REL-2026-0042", "REL-2026-0043"}},
		{words: []string{"approve", ""}, want: []string{"REL-2026-0041", "change-record", "policy-change"}},
		{words: []string{"approve", "REL-2026-0042", "p"}, want: []string{"plan-review"}, not: []string{"policy-change"}},
		{words: []string{"approve", "REL-2026-0042", "plan-review", "--as", "zh"}, want: []string{"zhangwei", "zhouhao"}, not: []string{"relgate-bot"}},
		{words: []string{"approve", "REL-2026-0042", "plan-review", "--co"}, want: []string{"--comment", "--commit"}},
		{words: []string{"deploy-check", "REL-2026-0042", "--env", ""}, want: []string{"production"}},
		{words: []string{"deploy-check", "--env", "production", ""}, want: []string{"REL-2026-0041"}},
		{words: []string{"audit", "v"}, want: []string{"verify"}},
		{words: []string{"completion", ""}, want: []string{"bash", "fish", "zsh"}},
		{words: []string{"status", "REL-2026-0042", ""}, want: nil},
	} {
		t.Run(strings.Join(tc.words, " "), func(t *testing.T) {
			code, got, errs := runIn(t, examples, append([]string{"__complete"}, tc.words...)...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := strings.Fields(got)
			at := 0
			for _, w := range tc.want {
				i := indexFrom(lines, w, at)
				if i < 0 {
					t.Errorf("candidates %v lack %q (in order %v)", lines, w, tc.want)
					continue
				}
				at = i
			}
			if tc.want == nil && len(lines) > 0 {
				t.Errorf("candidates %v, want none", lines)
			}
			for _, n := range tc.not {
				if indexFrom(lines, n, 0) >= 0 {
					t.Errorf("candidates %v offer %q", lines, n)
				}
			}
		})
	}
}

func indexFrom(s []string, w string, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == w {
			return i
		}
	}
	return -1
}

// runIn runs the CLI with dir as the working directory.
func runIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	return run(t, args...)
}

// TestCompletionBash: the bash script, sourced in a real bash, completes a
// login after --as by asking relgate itself.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on this machine")
	}
	bin := t.TempDir()
	if err := os.Symlink(os.Args[0], filepath.Join(bin, "relgate")); err != nil {
		t.Fatal(err)
	}
	script := `source <(relgate completion bash)
COMP_WORDS=(relgate approve REL-2026-0042 plan-review --as zh)
COMP_CWORD=5
_relgate
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, "--norc", "-c", script)
	abs, err := filepath.Abs(examples)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "LC_ALL=", "RELGATE_TEST_AS_CLI=1", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != "zhangwei zhouhao" {
		t.Errorf("bash completes %q, want zhangwei zhouhao", got)
	}
	for _, sh := range []string{"zsh", "fish"} {
		if p, err := exec.LookPath(sh); err == nil {
			c := exec.Command(p, "-n")
			c.Stdin = strings.NewReader(strings.TrimPrefix(runOut(t, "completion", sh), "#compdef relgate\n"))
			if out, err := c.CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
		}
	}
}

func runOut(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := run(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}

// TestVersion: --version and version say which build this is.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out := runOut(t, args...)
		if !strings.HasPrefix(out, "relgate ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: %q", args, out)
		}
	}
	if out := runOut(t, "version", "--format", "json"); !strings.Contains(out, `"kind": "Version"`) {
		t.Errorf("version --format json: %s", out)
	}
}
