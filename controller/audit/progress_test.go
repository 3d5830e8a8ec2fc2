package audit_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/policy"
)

// resumeHistory is the lawful merge of a pull request whose reviews the bot
// records after it (the records are judged with the merge), a direct push
// that breaks a gate, and a lawful edit after it.
func resumeHistory(t *testing.T) *gitrepotest.Repo {
	t.Helper()
	r := gitrepotest.New(t)
	if err := gen.Replay(examples, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	r.Checkout("pr1", true)
	for _, f := range []string{"golive.yaml", "communication.yaml"} {
		r.Write(rel43+"/"+f, strings.ReplaceAll(r.Read("releases/REL-2026-0041/"+f), "REL-2026-0041", "REL-2026-0043"))
	}
	prHead := r.Commit("go-live plan", who("wangfang"))
	r.Checkout("main", false)
	r.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "pr1")
	d := digest(t, r.Dir, "REL-2026-0043", policy.GatePlanReview)
	for i, rv := range [][2]string{{"maxiaodong", "department-head"}, {"zhangwei", "release-owner"}} {
		r.Write(fmt.Sprintf("%s/approvals/plan-review.%s.yaml", rel43, rv[0]), fmt.Sprintf(`apiVersion: relgate.dev/v1
kind: Approval
release: REL-2026-0043
gate: plan-review
person: %s
role: %s
decision: approve
digest: %s
at: "2026-11-26T10:00:00+08:00"
comment: GitHub review %d on pull request #1
forge:
  provider: github
  repository: grid-it/releases
  pullNumber: 1
  reviewId: %d
  headCommit: %s
`, rv[0], rv[1], d, 100+i, 100+i, prHead))
		r.Commit("REL-2026-0043: record "+rv[0]+"'s approve of plan-review", who("relgate-bot"))
	}
	deploy43(t, r)
	r.Commit("deploy without go-live approval", who("wangfang"))
	r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 补充。")
	r.Commit("edit the plan", who("wangfang"))
	return r
}

// TestVerifyResume: a walk that resumes from the progress of an earlier walk
// of the branch, at any earlier tip, reports exactly what a full walk
// reports, including a merge whose review records came after the earlier
// walk; progress made with other options, or off the chain, is not used.
func TestVerifyResume(t *testing.T) {
	r := resumeHistory(t)
	repo, ix, tip := open(t, r)
	chain, err := ix.FirstParents(tip, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	report := func(rep *audit.VerifyReport) string {
		b, err := json.MarshalIndent(rep, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	n := len(chain)
	var progress []*audit.Progress
	failed := false
	for k := n - 8; k < n; k++ {
		at := chain[k].Hash
		full, err := audit.Verify(repo, ix, at, plumbing.ZeroHash)
		if err != nil {
			t.Fatal(err)
		}
		failed = failed || !full.Passed
		for j, p := range progress {
			got, err := audit.VerifyWith(repo, ix, at, audit.VerifyOptions{Resume: p})
			if err != nil {
				t.Fatal(err)
			}
			if got.Resumed == "" {
				t.Errorf("tip %d: the progress of tip %d was not used", k, n-8+j)
			}
			if diff := cmp.Diff(report(full), report(got)); diff != "" {
				t.Errorf("tip %d resumed from tip %d (-full +resumed):\n%s", k, n-8+j, diff)
			}
		}
		progress = append(progress, full.Progress())
	}
	if !failed {
		t.Fatal("the history has no violation: the comparison proves little")
	}
	last := progress[len(progress)-1]
	for name, p := range map[string]*audit.Progress{
		"another baseline": func() *audit.Progress { c := *last; c.Baseline = chain[1].Hash.String(); return &c }(),
		"another folder":   func() *audit.Progress { c := *last; c.Prefix = "ops"; return &c }(),
		"off the chain":    func() *audit.Progress { c := *last; c.Upto = strings.Repeat("ab", 20); return &c }(),
	} {
		rep, err := audit.VerifyWith(repo, ix, tip, audit.VerifyOptions{Resume: p})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Resumed != "" {
			t.Errorf("%s: resumed after %s", name, rep.Resumed)
		}
	}
}

// TestProgressFile: what is written is read back by the same build only; a
// damaged file is not used.
func TestProgressFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "verified-x.progress")
	want := &audit.Progress{Upto: strings.Repeat("cd", 20), Checked: 3, Notes: []audit.Note{{Commit: "c", Message: "m"}},
		Violations: []audit.Violation{{Commit: "c", Rule: "gate:plan-review", Message: "m"}}}
	if err := audit.WriteProgress(p, "build-1", want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, audit.ReadProgress(p, "build-1")); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if got := audit.ReadProgress(p, "build-2"); got != nil {
		t.Errorf("another build used it: %+v", got)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"a changed verdict":   strings.Replace(string(data), `"checked":3`, `"checked":4`, 1),
		"truncated":           string(data[:len(data)/2]),
		"no checksum":         strings.SplitN(string(data), "\n", 2)[0],
		"not a progress file": "hello\n" + strings.SplitN(string(data), "\n", 2)[1],
	} {
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := audit.ReadProgress(p, "build-1"); got != nil {
			t.Errorf("%s: used: %+v", name, got)
		}
	}
	if err := audit.WriteProgress(p, "build-1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("no progress left the file: %v", err)
	}
}
