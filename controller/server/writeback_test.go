package server

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
)

// TestMergeLandsApprovalRecords runs the server with relgate's own
// write-back: once the pull request merges, the reviews that gated it land on
// the branch as approval files (with the review's id, the reviewer, the role,
// the head commit and the digest), together with the reconcile commits.
func TestMergeLandsApprovalRecords(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true, realWriter: true})
	head := e.openPR(1, "wangfang", addGoLive)
	if code := e.deliver("pull_request", prEvent(t, "opened", 1, head)); code != http.StatusAccepted {
		t.Fatalf("opened: %d", code)
	}
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "maxiaodong", State: "APPROVED", CommitID: head})
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: head})
	n := len(e.gh.CheckRuns())
	e.deliver("pull_request_review", reviewEvent(t, 1, "zhangwei", "approved", head))
	e.eventually("a new check run", func() bool { return len(e.gh.CheckRuns()) > n })
	e.settle()
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("approved: %s\n%s", cr.Conclusion, cr.Summary)
	}
	e.work.Checkout("main", false)
	e.work.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "--no-ff", "-m", "Merge pull request #1", "pr1")
	merge := strings.TrimSpace(e.work.GitCLI("rev-parse", "HEAD"))
	e.push("refs/heads/main:refs/heads/main")
	e.gh.SetPull(slug, ghapitest.PR{Number: 1, State: "closed", Merged: true, MergeCommitSHA: merge, Author: "wangfang", HeadSHA: head, HeadRef: "pr1", BaseRef: "main"})
	e.deliver("pull_request", prEvent(t, "closed", 1, head))
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	show := func(path string) string {
		out, _ := exec.Command("git", "-C", e.remote, "show", "main:"+path).CombinedOutput()
		return string(out)
	}
	e.eventually("approval records on the branch", func() bool {
		return strings.Contains(show(rel43+"/approvals/plan-review.zhangwei.yaml"), "reviewId")
	})
	rec := show(rel43 + "/approvals/plan-review.maxiaodong.yaml")
	for _, want := range []string{"person: maxiaodong", "role: department-head", "provider: github", "headCommit: " + head, "digest: sha256:"} {
		if !strings.Contains(rec, want) {
			t.Errorf("approval record lacks %q:\n%s", want, rec)
		}
	}
	e.eventually("the release reports", func() bool { return strings.Contains(show("reports/releases/REL-2026-0041.md"), "REL-2026-0041") })
	log, _ := exec.Command("git", "-C", e.remote, "log", "--format=%an|%s", "main").CombinedOutput()
	t.Logf("remote log:\n%s", log)
	if strings.Count(string(log), "record maxiaodong's approve of plan-review") != 1 {
		t.Errorf("log:\n%s", log)
	}
	if out, err := exec.Command("git", "-C", e.remote, "fsck", "--strict").CombinedOutput(); err != nil {
		t.Errorf("fsck: %v\n%s", err, out)
	}
	// The lawful flow passes audit verify: the merge is judged together with
	// the bot's records of the reviews that gated it.
	verifyRemote(t, e.remote)
}

// verifyRemote runs audit verify over the remote's main and fails the test on
// any violation.
func verifyRemote(t *testing.T, remote string) {
	t.Helper()
	r, err := gitrepo.Open(remote)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tip, err := r.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := history.Open(r, "", []plumbing.Hash{tip}, history.Options{CachePath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(r, ix, tip, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rep.Violations {
		t.Errorf("audit verify: commit %.12s (%s): %s: %s", v.Commit, v.Subject, v.Rule, v.Message)
	}
	if rep.Checked == 0 {
		t.Errorf("audit verify evaluated nothing: %+v", rep)
	}
}
