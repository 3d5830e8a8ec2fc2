package audit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/history"
)

// These tests build their own small histories: a start with the example's
// policy and a README only, then the commits each case needs, so that they
// do not depend on how the example's own approvals count.

func example(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examples, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// lawfulStart commits relgate.yaml and a README: the lawful start of a history.
func lawfulStart(t *testing.T) (*gitrepotest.Repo, string) {
	t.Helper()
	r := gitrepotest.New(t)
	r.Write("relgate.yaml", example(t, "relgate.yaml"))
	r.Write("README.md", "# releases\n")
	return r, r.Commit("start", who("liuzhiqiang"))
}

const rel43 = "releases/REL-2026-0043"

// newRelease43 writes REL-2026-0043 in plan review (release.yaml and
// plan.yaml): it cites an external change and adds its item, so nothing else
// must exist for it to be valid, and it asserts no step.
func newRelease43(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	rel := example(t, rel43+"/release.yaml")
	rel = strings.Replace(rel, "action: update", "action: add", 1)
	rel = strings.Replace(rel, "  - id: CHG-2026-0104\n", "  - id: ITSM-2026-0104\n    external: true\n    url: https://itsm.grid-it.example.cn/change/ITSM-2026-0104\n", 1)
	r.Write(rel43+"/release.yaml", rel)
	r.Write(rel43+"/plan.yaml", example(t, rel43+"/plan.yaml"))
}

// goLive43 writes REL-2026-0043's go-live plan and communication record
// (claims of plan review) without any approval.
func goLive43(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	for _, f := range []string{"golive.yaml", "communication.yaml"} {
		r.Write(rel43+"/"+f, strings.ReplaceAll(example(t, "releases/REL-2026-0041/"+f), "REL-2026-0041", "REL-2026-0043"))
	}
}

// deploy43 writes a deployment record (a claim of go-live approval).
func deploy43(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	r.Write(rel43+"/deployment.yaml", strings.ReplaceAll(example(t, "releases/REL-2026-0041/deployment.yaml"), "REL-2026-0041", "REL-2026-0043"))
}

func head(r *gitrepotest.Repo) string { return strings.TrimSpace(r.GitCLI("rev-parse", "HEAD")) }

func verifyWith(t *testing.T, r *gitrepotest.Repo, opts audit.VerifyOptions) *audit.VerifyReport {
	t.Helper()
	repo, ix, tip := open(t, r)
	rep, err := audit.VerifyWith(repo, ix, tip, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// find returns the violations of rule at commit.
func find(rep *audit.VerifyReport, commit, rule string) []audit.Violation {
	var out []audit.Violation
	for _, v := range rep.Violations {
		if v.Commit == commit && v.Rule == rule {
			out = append(out, v)
		}
	}
	return out
}

func hasNote(rep *audit.VerifyReport, commit, text string) bool {
	for _, n := range rep.Notes {
		if n.Commit == commit && strings.Contains(n.Message, text) {
			return true
		}
	}
	return false
}

// TestVerifyStartOfHistory, a commit with no parent policy (a root, or
// the commit that brings relgate.yaml in) may carry the policy and plain
// files only; what else it carries no gate has seen, unless the auditor
// trusts it as an import (--baseline).
func TestVerifyStartOfHistory(t *testing.T) {
	tests := []struct {
		name string
		// history builds the branch and returns the commit to look at.
		history  func(t *testing.T) (*gitrepotest.Repo, string)
		baseline bool   // name the commit history returns as the baseline
		rule     string // the violation expected at that commit; "" for none
		want     string // in its message, or in a note when rule is ""
	}{
		{name: "lawful: relgate.yaml and a README, then a new release in plan review",
			history: func(t *testing.T) (*gitrepotest.Repo, string) {
				r, root := lawfulStart(t)
				newRelease43(t, r)
				r.Commit("new release", who("wangfang"))
				return r, root
			}, want: "lawful start"},
		{name: "attack: a root commit that carries a go-live plan and a deployment nobody approved",
			history: func(t *testing.T) (*gitrepotest.Repo, string) {
				r := gitrepotest.New(t)
				r.Write("relgate.yaml", example(t, "relgate.yaml"))
				newRelease43(t, r)
				goLive43(t, r)
				deploy43(t, r)
				root := r.Commit("import", who("sunlei"))
				r.Write("README.md", "x\n")
				r.Commit("readme", who("sunlei"))
				return r, root
			}, rule: audit.RuleRootCommit, want: "releases/ (1: REL-2026-0043)"},
		{name: "attack: a root commit that carries a report",
			history: func(t *testing.T) (*gitrepotest.Repo, string) {
				r := gitrepotest.New(t)
				r.Write("relgate.yaml", example(t, "relgate.yaml"))
				r.Write("reports/REL-2026-0043.md", "# report\n")
				return r, r.Commit("import", who("sunlei"))
			}, rule: audit.RuleRootCommit, want: "reports/ (1)"},
		{name: "baseline: the auditor trusts the import of an older process",
			history: func(t *testing.T) (*gitrepotest.Repo, string) {
				r := gitrepotest.New(t)
				r.CopyDir(examples)
				root := r.Commit("import of the 2026 releases", who("zhangwei"))
				r.Write("README.md", "# releases\n")
				r.Commit("readme", who("wangfang"))
				return r, root
			}, baseline: true, want: "trusted baseline"},
		{name: "attack: the commit that brings relgate.yaml in carries releases",
			history: func(t *testing.T) (*gitrepotest.Repo, string) {
				r := gitrepotest.New(t)
				r.Write("README.md", "# releases\n")
				r.Commit("start", who("sunlei"))
				r.Write("relgate.yaml", example(t, "relgate.yaml"))
				newRelease43(t, r)
				deploy43(t, r)
				return r, r.Commit("relgate", who("sunlei"))
			}, rule: audit.RuleRootCommit, want: "no relgate.yaml"},
		{name: "attack: relgate.yaml deleted, then restored with a deployment record",
			history: func(t *testing.T) (*gitrepotest.Repo, string) {
				r, _ := lawfulStart(t)
				r.Remove("relgate.yaml")
				r.Commit("drop the policy", who("sunlei"))
				r.Write("relgate.yaml", example(t, "relgate.yaml"))
				newRelease43(t, r)
				deploy43(t, r)
				return r, r.Commit("policy back, with a release", who("sunlei"))
			}, rule: audit.RuleRootCommit, want: "REL-2026-0043"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, at := tc.history(t)
			var opts audit.VerifyOptions
			if tc.baseline {
				opts.Baseline = plumbing.NewHash(at)
			}
			rep := verifyWith(t, r, opts)
			if tc.rule == "" {
				if !rep.Passed || rep.Checked == 0 {
					t.Fatalf("want a clean pass with commits evaluated: %+v", rep)
				}
				if !hasNote(rep, at, tc.want) {
					t.Errorf("no note %q at %s: %+v", tc.want, at[:12], rep.Notes)
				}
				return
			}
			vs := find(rep, at, tc.rule)
			if rep.Passed || len(vs) != 1 || !strings.Contains(vs[0].Message, tc.want) {
				t.Fatalf("want one %s violation at %s containing %q: %+v", tc.rule, at[:12], tc.want, rep.Violations)
			}
			if !strings.Contains(vs[0].Message, at[:12]) {
				t.Errorf("the message does not name the commit: %s", vs[0].Message)
			}
		})
	}
}

// TestVerifyForeignRoot, a merge that brings in a history with a root
// of its own brings in documents no gate of this repository checked.
func TestVerifyForeignRoot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		other func(t *testing.T, r *gitrepotest.Repo)
		bad   bool
	}{
		{name: "attack: another history carrying an unapproved deployment", bad: true,
			other: func(t *testing.T, r *gitrepotest.Repo) {
				newRelease43(t, r)
				goLive43(t, r)
				deploy43(t, r)
			}},
		{name: "another history with a README only",
			other: func(t *testing.T, r *gitrepotest.Repo) { r.Write("README.en.md", "# releases\n") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := lawfulStart(t)
			r.Edit("README.md", "# releases", "# releases of the dispatch systems")
			r.Commit("readme", who("wangfang"))
			r.GitCLI("checkout", "-q", "--orphan", "other")
			r.GitCLI("rm", "-rq", "--cached", ".")
			r.Remove("README.md")
			r.Remove("relgate.yaml")
			tc.other(t, r)
			foreign := r.Commit("elsewhere", who("sunlei"))
			r.GitCLI("checkout", "-q", "main")
			r.GitCLI("-c", "user.name=sunlei", "-c", "user.email=sunlei@grid-it.example.cn", "merge", "-q", "--no-ff", "--allow-unrelated-histories", "-m", "Merge other", "other")
			merge := head(r)
			rep := verifyWith(t, r, audit.VerifyOptions{})
			vs := find(rep, merge, audit.RuleForeignRoot)
			if !tc.bad {
				if len(vs) != 0 || !hasNote(rep, merge, foreign[:12]) {
					t.Fatalf("a merge of plain files from another history: %+v %+v", rep.Violations, rep.Notes)
				}
				return
			}
			if len(vs) != 1 || !strings.Contains(vs[0].Message, foreign[:12]) || !strings.Contains(vs[0].Message, rel43) {
				t.Fatalf("want a foreign-root violation at the merge naming root %s and the release: %+v", foreign[:12], rep.Violations)
			}
		})
	}
}

// TestVerifyHistoryRewritten: the tip an earlier run verified must still be
// on the branch's first-parent history.
func TestVerifyHistoryRewritten(t *testing.T) {
	tests := []struct {
		name    string
		history func(t *testing.T, r *gitrepotest.Repo) (previous string)
		want    string // in the message; "" for no violation
	}{
		{name: "the branch moved on", want: "",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				prev := head(r)
				newRelease43(t, r)
				r.Commit("new release", who("wangfang"))
				return prev
			}},
		{name: "attack: the verified tip was dropped by a reset and a new commit", want: "rewritten",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				r.Write("README.md", "one\n")
				prev := r.Commit("one", who("wangfang"))
				r.GitCLI("reset", "-q", "--hard", "HEAD~1")
				r.Write("README.md", "two\n")
				r.Commit("two", who("wangfang"))
				return prev
			}},
		{name: "attack: the branch fast-forwarded onto another line that merged the verified tip", want: "another line",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				start := head(r)
				r.Write("README.md", "one\n")
				prev := r.Commit("one", who("wangfang"))
				r.GitCLI("checkout", "-q", "-b", "side", start)
				r.Write("README.en.md", "side\n")
				r.Commit("side", who("sunlei"))
				r.GitCLI("-c", "user.name=sunlei", "-c", "user.email=sunlei@grid-it.example.cn", "merge", "-q", "--no-ff", "-m", "Merge main", "main")
				return prev
			}},
		{name: "the verified tip is not in the repository any more", want: "rewritten",
			history: func(t *testing.T, r *gitrepotest.Repo) string { return strings.Repeat("ab", 20) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := lawfulStart(t)
			prev := tc.history(t, r)
			rep := verifyWith(t, r, audit.VerifyOptions{Previous: plumbing.NewHash(prev), State: "STATE"})
			vs := find(rep, prev, audit.RuleHistoryRewritten)
			if tc.want == "" {
				if !rep.Passed {
					t.Fatalf("want a pass: %+v", rep.Violations)
				}
				return
			}
			if rep.Passed || len(vs) != 1 || !strings.Contains(vs[0].Message, tc.want) || !strings.Contains(vs[0].Message, "STATE") {
				t.Fatalf("want a history-rewritten violation naming %s (%q): %+v", prev[:12], tc.want, rep.Violations)
			}
		})
	}
}

// TestVerifyUnreadableCommit: a commit relgate cannot read is a violation of
// that commit, and the commits after it are still checked.
func TestVerifyUnreadableCommit(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, r *gitrepotest.Repo)
	}{
		{name: "a symlinked release.yaml in a new release folder", break_: func(t *testing.T, r *gitrepotest.Repo) {
			if err := os.MkdirAll(filepath.Join(r.Dir, "releases/REL-2026-0044"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../REL-2026-0043/release.yaml", filepath.Join(r.Dir, "releases/REL-2026-0044/release.yaml")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a release folder that is not a release id", break_: func(t *testing.T, r *gitrepotest.Repo) {
			r.Write("releases/rel_44/release.yaml", "apiVersion: relgate.dev/v1\n")
		}},
		{name: "a symlinked relgate.yaml", break_: func(t *testing.T, r *gitrepotest.Repo) {
			r.Remove("relgate.yaml")
			if err := os.Symlink("README.md", filepath.Join(r.Dir, "relgate.yaml")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := lawfulStart(t)
			newRelease43(t, r)
			r.Commit("new release", who("wangfang"))
			tc.break_(t, r)
			bad := r.Commit("unreadable", who("sunlei"))
			goLive43(t, r)
			later := r.Commit("go-live plan before plan review", who("wangfang"))
			rep := verifyWith(t, r, audit.VerifyOptions{})
			var atBad, atLater int
			for _, v := range rep.Violations {
				switch v.Commit {
				case bad:
					atBad++
				case later:
					atLater++
				default:
					t.Errorf("violation at another commit: %+v", v)
				}
			}
			if atBad == 0 || atLater == 0 || rep.Checked != 4 {
				t.Fatalf("want violations at the unreadable commit and at the one after it, 4 commits checked: %+v", rep)
			}
		})
	}
}

// TestVerifyShallow: a history cut by a shallow clone cannot be verified
// from its start: that is a violation, not a lawful root.
func TestVerifyShallow(t *testing.T) {
	r, _ := lawfulStart(t)
	newRelease43(t, r)
	r.Commit("new release", who("wangfang"))
	goLive43(t, r)
	deploy43(t, r)
	r.Commit("deployed", who("sunlei"))
	dir := filepath.Join(t.TempDir(), "shallow")
	if out, err := exec.Command("git", "clone", "-q", "--depth", "1", "file://"+r.Dir, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	tip, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := history.Open(repo, "", []plumbing.Hash{tip}, history.Options{CachePath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyWith(repo, ix, tip, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if vs := find(rep, tip.String(), audit.RuleUnverifiable); rep.Passed || len(vs) != 1 || !strings.Contains(vs[0].Message, "shallow") {
		t.Fatalf("want the cut commit unverifiable: %+v", rep)
	}
}

// TestVerifyState: the verified tip is kept per repository folder and
// branch, written whole, and a file that holds no commit id is an error.
func TestVerifyState(t *testing.T) {
	gd := t.TempDir()
	paths := map[string]bool{}
	for _, k := range [][2]string{{"", "refs/heads/main"}, {"", "refs/heads/release"}, {"ops/releases", "refs/heads/main"}} {
		p := audit.StatePath(gd, k[0], k[1])
		if filepath.Dir(p) != filepath.Join(gd, "relgate") || !strings.HasPrefix(filepath.Base(p), "verified-") {
			t.Errorf("state path %s is not under the git directory's relgate/", p)
		}
		paths[p] = true
	}
	if len(paths) != 3 {
		t.Errorf("prefixes and branches share a state file: %v", paths)
	}
	p := audit.StatePath(gd, "", "refs/heads/main")
	if h, err := audit.ReadState(p); err != nil || !h.IsZero() {
		t.Fatalf("no file: %v %v", h, err)
	}
	want := plumbing.NewHash(strings.Repeat("1f", 20))
	if err := audit.WriteState(p, want); err != nil {
		t.Fatal(err)
	}
	if err := audit.WriteState(p, want); err != nil {
		t.Fatal(err)
	}
	if h, err := audit.ReadState(p); err != nil || h != want {
		t.Fatalf("read back %v %v, want %v", h, err, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := os.WriteFile(p, []byte("not a commit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.ReadState(p); err == nil {
		t.Error("a state file without a commit id was accepted")
	}
}
