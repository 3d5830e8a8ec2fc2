package server

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares rendered output with testdata/name; -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	// Commit ids and digests follow every byte of the example repository.
	got = objectIDs.ReplaceAllString(got, "<id>")
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got), go test -update rewrites it:\n%s", p, d)
	}
}

func wantContains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// TestPullRequestLifecycle walks one pull request through the issue's
// scenario on a real server, a fake GitHub and a real bare remote.
func TestPullRequestLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})

	// Opened: go-live planning asserts plan review passed: blocked.
	head1 := e.openPR(1, "wangfang", addGoLive)
	if code := e.deliver("pull_request", prEvent(t, "opened", 1, head1)); code != http.StatusAccepted {
		t.Fatalf("opened: %d", code)
	}
	cr := e.checkRun(head1)
	if cr.Conclusion != "failure" {
		t.Fatalf("opened: conclusion %s, want failure\n%s", cr.Conclusion, cr.Summary)
	}
	wantContains(t, "opened summary", cr.Summary, "plan-review", "department-head (dispatch-automation)", "release-owner")
	wantContains(t, "opened title", cr.Title, "blocked: REL-2026-0043 plan-review")
	if !slices.ContainsFunc(cr.Annotations, func(a map[string]any) bool {
		return a["path"] == rel43+"/release.yaml" && a["annotation_level"] == "failure" && strings.Contains(a["message"].(string), "release-owner missing; who may give it: zhangwei")
	}) {
		t.Errorf("no failure annotation on %s/release.yaml: %v", rel43, cr.Annotations)
	}

	// Reviews by the author, a non-member and a bot: no effect (attack).
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "wangfang", State: "APPROVED", CommitID: head1})
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "octocat", State: "APPROVED", CommitID: head1})
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "relgate-bot", UserType: "Bot", State: "APPROVED", CommitID: head1})
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "zhangwei", State: "COMMENTED", CommitID: head1})
	n := len(e.gh.CheckRuns())
	e.deliver("pull_request_review", reviewEvent(t, 1, "octocat", "approved", head1))
	e.eventually("a new check run", func() bool { return len(e.gh.CheckRuns()) > n })
	cr = e.checkRun(head1)
	if cr.Conclusion != "failure" {
		t.Fatalf("after author/non-member reviews: %s", cr.Conclusion)
	}
	wantContains(t, "summary", cr.Summary, "the pull request's author cannot approve it", "octocat is not a person of the base policy",
		"a bot's review never counts", "comments never count")

	// Reviews by the right roles: passes.
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "maxiaodong", State: "APPROVED", CommitID: head1})
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: head1})
	n = len(e.gh.CheckRuns())
	e.deliver("pull_request_review", reviewEvent(t, 1, "zhangwei", "approved", head1))
	e.eventually("a new check run", func() bool { return len(e.gh.CheckRuns()) > n })
	e.settle()
	cr = e.checkRun(head1)
	if cr.Conclusion != "success" {
		t.Fatalf("after the right reviews: %s\n%s", cr.Conclusion, cr.Summary)
	}

	// A commit that only adds to golive.yaml keeps the plan approvals: the
	// reviews were on an earlier commit whose plan-review documents digest the same.
	head2 := e.pushPR(1, "wangfang", func(r *gitrepotest.Repo) {
		r.Write(rel43+"/golive.yaml", r.Read(rel43+"/golive.yaml")+"# 补充\n")
	})
	e.deliver("pull_request", prEvent(t, "synchronize", 1, head2))
	if cr = e.checkRun(head2); cr.Conclusion != "success" {
		t.Fatalf("golive-only commit: %s\n%s", cr.Conclusion, cr.Summary)
	}

	// A commit that edits the plan: blocked again, naming the stale approvals.
	head3 := e.pushPR(1, "wangfang", func(r *gitrepotest.Repo) {
		r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 临时加一个步骤。")
	})
	e.deliver("pull_request", prEvent(t, "synchronize", 1, head3))
	cr = e.checkRun(head3)
	if cr.Conclusion != "failure" {
		t.Fatalf("plan edited after approval: %s", cr.Conclusion)
	}
	golden(t, "stale-summary.md", cr.Summary)
	wantContains(t, "stale summary", cr.Summary, "not counted: maxiaodong (department-head) — **stale**", "zhangwei (release-owner) — **stale**", "they changed after the approval")

	// Approvals on the new head, hejun's included (his approval file went stale too): passes.
	for _, who := range []string{"maxiaodong", "zhangwei", "hejun"} {
		e.gh.AddReview(slug, 1, ghapitest.Review{Login: who, State: "APPROVED", CommitID: head3})
	}
	n = len(e.gh.CheckRuns())
	e.deliver("pull_request_review", reviewEvent(t, 1, "hejun", "approved", head3))
	e.eventually("a new check run", func() bool { return len(e.gh.CheckRuns()) > n })
	e.settle()
	if cr = e.checkRun(head3); cr.Conclusion != "success" {
		t.Fatalf("re-approved: %s\n%s", cr.Conclusion, cr.Summary)
	}

	// Merged: the approvals that gated the merge go to the write-back, then
	// the push reconciles and re-evaluates open pull requests.
	e.work.Checkout("main", false)
	e.work.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "--no-ff", "-m", "Merge pull request #1", "pr1")
	merge := strings.TrimSpace(e.work.GitCLI("rev-parse", "HEAD"))
	e.push("refs/heads/main:refs/heads/main")
	e.gh.SetPull(slug, ghapitest.PR{Number: 1, State: "closed", Merged: true, MergeCommitSHA: merge, Author: "wangfang", HeadSHA: head3, HeadRef: "pr1", BaseRef: "main"})
	e.deliver("pull_request", prEvent(t, "closed", 1, head3))
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.eventually("approval records and a reconcile", func() bool {
		e.writer.mu.Lock()
		defer e.writer.mu.Unlock()
		return len(e.writer.approvals) == 3 && e.writer.reconciles >= 1
	})
	e.writer.mu.Lock()
	var got []string
	for _, a := range e.writer.approvals {
		if a.Release != "REL-2026-0043" || a.Gate != "plan-review" || a.HeadCommit != head3 || a.PullRequest != 1 ||
			!strings.HasPrefix(a.Digest, "sha256:") || a.ReviewID == 0 || a.At.IsZero() {
			t.Errorf("approval record %+v", a)
		}
		got = append(got, a.Person+"/"+a.Role)
	}
	branches := e.writer.branches
	e.writer.mu.Unlock()
	slices.Sort(got)
	if d := cmp.Diff([]string{"hejun/department-head", "maxiaodong/department-head", "zhangwei/release-owner"}, got); d != "" {
		t.Errorf("recorded approvals (-want +got):\n%s", d)
	}
	if !slices.Equal(branches, []string{"main"}) {
		t.Errorf("recorded on %v", branches)
	}
	// No success was ever posted on a head while it lacked its approvals.
	for _, c := range e.gh.CheckRuns() {
		if c.HeadSHA == head1 && c.Conclusion == "success" && !strings.Contains(c.Summary, "maxiaodong") {
			t.Errorf("success without the approvals: %+v", c)
		}
	}
	if v := e.gh.Violations(); len(v) > 0 {
		t.Errorf("requests GitHub would refuse: %v", v)
	}

	// The status API shows the merged state of the branch.
	resp, err := http.Get(e.url + "/api/releases?release=REL-2026-0043")
	if err != nil {
		t.Fatal(err)
	}
	var rep ReleasesReport
	json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if len(rep.Releases) != 1 || rep.Releases[0].Release != "REL-2026-0043" || rep.Revision != merge {
		t.Errorf("status API: %+v", rep)
	}
}

// TestPolicyChangeReviewedByProcessApprover: relgate.yaml changed, the
// process approver's review satisfies policy-change.
func TestPolicyChangeReviewedByProcessApprover(t *testing.T) {
	e := newEnv(t, envOptions{})
	head := e.openPR(2, "hejun", func(r *gitrepotest.Repo) {
		r.Edit("relgate.yaml", "maxChangesPerRelease: 3", "maxChangesPerRelease: 2")
	})
	e.deliver("pull_request", prEvent(t, "opened", 2, head))
	e.eventually("a failure status", func() bool {
		st, ok := e.gh.LatestStatus(head, "relgate/main")
		return ok && st.State == "failure"
	})
	st, _ := e.gh.LatestStatus(head, "relgate/main")
	wantContains(t, "status", st.Description, "policy-change", "process-approver")
	e.gh.AddReview(slug, 2, ghapitest.Review{Login: "liuzhiqiang", State: "APPROVED", CommitID: head})
	e.deliver("pull_request_review", reviewEvent(t, 2, "liuzhiqiang", "approved", head))
	e.eventually("a success status", func() bool {
		st, ok := e.gh.LatestStatus(head, "relgate/main")
		return ok && st.State == "success"
	})
	// A change request by the process approver blocks (a rejection).
	e.gh.AddReview(slug, 2, ghapitest.Review{Login: "liuzhiqiang", State: "CHANGES_REQUESTED", CommitID: head})
	e.deliver("pull_request_review", reviewEvent(t, 2, "liuzhiqiang", "changes_requested", head))
	e.eventually("a failure status", func() bool {
		st, ok := e.gh.LatestStatus(head, "relgate/main")
		return ok && st.State == "failure" && strings.Contains(st.Description, "rejected by liuzhiqiang")
	})
	if v := e.gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// objectIDs matches commit ids and digests, full or abbreviated.
var objectIDs = regexp.MustCompile(`\b[0-9a-f]{64}\b|\b[0-9a-f]{40}\b|\b[0-9a-f]{12}\b|\b[0-9a-f]{11}\b`)
