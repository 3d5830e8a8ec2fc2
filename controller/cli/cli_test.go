package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/cli"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

const examples = "../../examples/release-repo"

// run invokes the CLI as a user would and returns exit code, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

var gitrepoPerson = gitrepotest.Person{Name: "测试", Email: "test@example.cn"}

// exampleRepo copies the example release repository into a new git
// repository and commits it.
func exampleRepo(t *testing.T) *gitrepotest.Repo {
	t.Helper()
	r := gitrepotest.New(t)
	// The lawful history a careful team would have: every document and
	// approval committed by its person, every step merged as a pull request.
	if err := gen.Replay(examples, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestValidateExamples(t *testing.T) {
	code, out, errs := run(t, "validate", examples)
	if code != 0 {
		t.Fatalf("validate examples: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "valid") {
		t.Errorf("output does not say valid:\n%s", out)
	}
}

// TestValidateRevEqualsWorkTree: the same repository read from a commit gives
// the same findings as from the work tree.
func TestValidateRevEqualsWorkTree(t *testing.T) {
	r := exampleRepo(t)
	r.Edit("releases/REL-2026-0043/plan.yaml", "pointInTime:", "pointInTme:")
	r.Commit("break the plan", gitrepotest.Person{Name: "x", Email: "x@example.cn"})
	read := func(args ...string) finding.Report {
		code, out, errs := run(t, append([]string{"validate", r.Dir, "--format", "json"}, args...)...)
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
		}
		var rep finding.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		rep.Revision = ""
		return rep
	}
	wt, rev := read(), read("--rev", "HEAD")
	if diff := cmp.Diff(wt, rev); diff != "" {
		t.Errorf("work tree and --rev HEAD differ (-work tree +rev):\n%s", diff)
	}
	if len(wt.Findings) == 0 {
		t.Fatal("no findings")
	}
}

// TestValidateSubfolderAtRev reads a release repository kept in a folder of
// a larger git repository, as examples/ is in relgate's own.
func TestValidateSubfolderAtRev(t *testing.T) {
	r := gitrepotest.New(t)
	r.CopyDir(examples)
	all, _ := os.ReadDir(r.Dir)
	if err := os.MkdirAll(filepath.Join(r.Dir, "ops", "releases-repo"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if e.Name() == ".git" {
			continue
		}
		if err := os.Rename(filepath.Join(r.Dir, e.Name()), filepath.Join(r.Dir, "ops", "releases-repo", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	r.Commit("nested", gitrepotest.Person{Name: "x", Email: "x@example.cn"})
	code, out, errs := run(t, "validate", filepath.Join(r.Dir, "ops", "releases-repo"), "--rev", "HEAD")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

func TestValidateFindings(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		old    string
		new    string
		want   []string // substrings of the text output
		clause string
	}{
		{"R-5.1.2 rollback point in time deleted", "releases/REL-2026-0041/plan.yaml", "pointInTime:", "#pointInTime:",
			[]string{"releases/REL-2026-0041/plan.yaml:", "rollback.pointInTime: required field is missing", "[R-5.1.2]"}, "R-5.1.2"},
		{"unknown field", "releases/REL-2026-0043/release.yaml", "\ntitle:", "\nowner_name: x\ntitle:",
			[]string{"releases/REL-2026-0043/release.yaml:", "owner_name: unknown field"}, ""},
		{"id does not match folder", "releases/REL-2026-0043/release.yaml", "id: REL-2026-0043", "id: REL-2026-0099",
			[]string{"id REL-2026-0099 does not match the folder REL-2026-0043"}, ""},
		{"cites a change that does not exist", "releases/REL-2026-0043/release.yaml", "CHG-2026-", "CHG-2029-",
			[]string{"does not exist in changes/"}, "R-3.3"},
		{"R-4.2 plan author not a person of the policy", "releases/REL-2026-0043/plan.yaml", "author: wangfang", "author: nobody",
			[]string{"author: nobody is not a person of the policy"}, "R-4.2"},
		{"version as a float", "cmdb/payment-interface.yaml", "version: \"3.1.4\"", "version: 3.10",
			[]string{"version: expected text, found a number; write it in quotes (\"3.10\")"}, ""},
		{"department not in the policy", "releases/REL-2026-0043/release.yaml", "  - it-operations", "  - finance",
			[]string{"department finance is not defined in the policy"}, "R-5.1.3"},
		{"R-5.1.1 dates out of order", "releases/REL-2026-0043/release.yaml", "end: \"2026-11-29T04:00:00+08:00\"", "end: \"2026-11-27T04:00:00+08:00\"",
			[]string{"window.end: the window ends before it starts"}, ""},
		{"CMDB item named by a release does not exist", "releases/REL-2026-0043/release.yaml", "  - id: oracle-db-dispatch", "  - id: oracle-db-nowhere",
			[]string{"configuration item oracle-db-nowhere does not exist in cmdb/"}, "R-3.4"},
		{"duplicate person in the policy", "relgate.yaml", "people:\n", "people:\n  - login: zhangwei\n    name: 张伟\n    email: z@example.cn\n",
			[]string{"person zhangwei is listed twice"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			r.Edit(tc.file, tc.old, tc.new)
			code, out, _ := run(t, "validate", r.Dir)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			_, js, _ := run(t, "validate", r.Dir, "--format", "json")
			var rep finding.Report
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				if f.Severity == finding.Error && (f.Line == 0 || f.File == "") {
					t.Errorf("finding without file and line: %+v", f)
				}
			}
			if tc.clause != "" && !strings.Contains(js, tc.clause) {
				t.Errorf("json lacks clause %s", tc.clause)
			}
		})
	}
}

func TestValidateGitHubFormat(t *testing.T) {
	r := exampleRepo(t)
	r.Edit("releases/REL-2026-0041/plan.yaml", "pointInTime:", "#pointInTime:")
	code, out, _ := run(t, "validate", r.Dir, "--format", "github")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out, "::error file=") || !strings.Contains(out, "releases/REL-2026-0041/plan.yaml,line=") {
		t.Errorf("not a GitHub annotation:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{},
		{"no-such-command"},
		{"validate", "--format", "xml", examples},
		{"validate", "/no/such/dir"},
		{"validate", examples, "--rev", "no-such-rev"},
		{"validate", "a", "b"},
	}
	for _, args := range tests {
		code, _, errs := run(t, args...)
		if code != 2 {
			t.Errorf("relgate %v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}
