package server

// Adversarial scenarios against relgate serve (issue 11): each test is an
// attack; it passes when the attack is stopped.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// TestAdversaryDismissedRejectionLifted (attack: the author, with write
// access, dismisses a reviewer's change request). A rejection is withdrawn
// only by its author (README, "a person's last decision for a gate stands
// until that person changes it"); a dismissal by someone else must leave
// the pull request blocked.
func TestAdversaryDismissedRejectionLifted(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 5)
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("before the attack: %s", cr.Conclusion)
	}
	cr := e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: head})
	e.deliver("pull_request_review", reviewEvent(t, 5, "hejun", "changes_requested", head))
	e.settle()
	if got := e.latest(head, true); got != "failure" {
		t.Fatalf("after hejun's change request: %q, want failure", got)
	}
	// GitHub turns hejun's review into DISMISSED when wangfang dismisses it;
	// only the timeline says it was a change request and who dismissed it.
	if err := e.gh.DismissReview(slug, 5, cr, "wangfang"); err != nil {
		t.Fatal(err)
	}
	e.deliver("pull_request_review", dismissPayload(t, 5, head, "hejun", "wangfang"))
	e.settle()
	if cr := e.checkRun(head); cr.Conclusion != "failure" || !strings.Contains(cr.Summary, "rejected by hejun") {
		t.Errorf("hejun's rejection, dismissed by the author wangfang, no longer blocks: %q\n%s", cr.Conclusion, cr.Summary)
	}
}

// dismissPayload is the pull_request_review "dismissed" delivery for login's
// review, sent by sender.
func dismissPayload(t *testing.T, n int, head, login, sender string) []byte {
	return payload(t, "pull_request_review.dismissed.json", func(m map[string]any) {
		p := m["pull_request"].(map[string]any)
		p["number"] = n
		p["head"].(map[string]any)["sha"] = head
		p["base"].(map[string]any)["ref"] = "main"
		rv := m["review"].(map[string]any)
		rv["user"].(map[string]any)["login"] = login
		rv["state"], rv["commit_id"] = "dismissed", head
		m["sender"].(map[string]any)["login"] = sender
	})
}

// forcePush replaces pull request n's head by a new commit of the same
// change, so the old head is on no ref any more.
func forcePush(t *testing.T, e *env, n int) string {
	t.Helper()
	pr, _ := e.gh.Pull(slug, n)
	e.work.GitCLI("reset", "-q", "--hard", "main")
	addGoLive(e.work)
	h2 := e.work.Commit("change, reworded", who(pr.Author))
	if h2 == pr.HeadSHA {
		t.Fatal("the force-push made the same commit")
	}
	e.push(fmt.Sprintf("refs/heads/pr%d:refs/pull/%d/head", n, n), fmt.Sprintf("refs/heads/pr%d:refs/heads/pr%d", n, n))
	pr.HeadSHA = h2
	e.gh.SetPull(slug, pr)
	return h2
}

// TestLawfulReviewFlows: what the two defences above must still let
// through. Each flow ends on the head's check run.
func TestLawfulReviewFlows(t *testing.T) {
	tests := []struct {
		name string
		// flow acts and returns the head to judge.
		flow func(t *testing.T, e *env) string
		want string
		// wantIn is a line the summary must hold.
		wantIn string
	}{
		{name: "a reviewer who requested changes and later approves passes",
			flow: func(t *testing.T, e *env) string {
				head := approvedPR(t, e, 5)
				e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: head})
				e.deliver("pull_request_review", reviewEvent(t, 5, "hejun", "changes_requested", head))
				e.settle()
				if got := e.latest(head, true); got != "failure" {
					t.Fatalf("after the change request: %q, want failure", got)
				}
				e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "APPROVED", CommitID: head})
				e.deliver("pull_request_review", reviewEvent(t, 5, "hejun", "approved", head))
				return head
			},
			want: "success"},
		{name: "a reviewer who dismisses their own change request lifts it",
			flow: func(t *testing.T, e *env) string {
				head := approvedPR(t, e, 5)
				cr := e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: head})
				e.deliver("pull_request_review", reviewEvent(t, 5, "hejun", "changes_requested", head))
				e.settle()
				if got := e.latest(head, true); got != "failure" {
					t.Fatalf("after the change request: %q, want failure", got)
				}
				if err := e.gh.DismissReview(slug, 5, cr, "HeJun"); err != nil {
					t.Fatal(err)
				}
				e.deliver("pull_request_review", dismissPayload(t, 5, head, "hejun", "HeJun"))
				return head
			},
			want: "success", wantIn: "hejun withdrew their change request"},
		{name: "GitHub's dismissal of a stale approval on push is no rejection",
			flow: func(t *testing.T, e *env) string {
				h1 := approvedPR(t, e, 5)
				ap := e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "APPROVED", CommitID: h1})
				h2 := e.pushPR(5, "wangfang", func(*gitrepotest.Repo) {})
				for _, w := range []string{"maxiaodong", "zhangwei"} {
					e.gh.AddReview(slug, 5, ghapitest.Review{Login: w, State: "APPROVED", CommitID: h2})
				}
				if err := e.gh.DismissStaleReview(slug, 5, ap, "wangfang", h2); err != nil {
					t.Fatal(err)
				}
				e.deliver("pull_request", prEvent(t, "synchronize", 5, h2))
				return h2
			},
			want: "success", wantIn: "the approved review was dismissed by wangfang"},
		{name: "an approval of a force-pushed-away commit does not count but does not block",
			flow: func(t *testing.T, e *env) string {
				h1 := e.openPR(5, "wangfang", addGoLive)
				e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "APPROVED", CommitID: h1})
				h2 := forcePush(t, e, 5)
				for _, w := range []string{"maxiaodong", "zhangwei"} {
					e.gh.AddReview(slug, 5, ghapitest.Review{Login: w, State: "APPROVED", CommitID: h2})
				}
				e.deliver("pull_request", prEvent(t, "synchronize", 5, h2))
				return h2
			},
			want: "success", wantIn: "| hejun | 1001 on `"},
		{name: "a needed approval of a force-pushed-away commit does not count",
			flow: func(t *testing.T, e *env) string {
				h1 := e.openPR(5, "wangfang", addGoLive)
				e.gh.AddReview(slug, 5, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: h1})
				h2 := forcePush(t, e, 5)
				e.gh.AddReview(slug, 5, ghapitest.Review{Login: "maxiaodong", State: "APPROVED", CommitID: h2})
				e.deliver("pull_request", prEvent(t, "synchronize", 5, h2))
				return h2
			},
			want: "failure", wantIn: "the reviewed commit cannot be read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{checkRuns: true})
			head := tc.flow(t, e)
			e.settle()
			cr := e.checkRun(head)
			if cr.Conclusion != tc.want {
				t.Errorf("%q, want %q\n%s", cr.Conclusion, tc.want, cr.Summary)
			}
			if tc.want == "success" && strings.Contains(cr.Summary, "rejected by") {
				t.Errorf("a rejection in a passing summary:\n%s", cr.Summary)
			}
			if !strings.Contains(cr.Summary, tc.wantIn) {
				t.Errorf("the summary lacks %q:\n%s", tc.wantIn, cr.Summary)
			}
		})
	}
}

// TestAdversaryTimelineOutage (attack: make the timeline unreadable so a
// dismissed change request reads as withdrawn). While GitHub does not
// answer, the head stays pending; never success.
func TestAdversaryTimelineOutage(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 5)
	cr := e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: head})
	if err := e.gh.DismissReview(slug, 5, cr, "wangfang"); err != nil {
		t.Fatal(err)
	}
	e.gh.Inject(ghapitest.Fault{Method: http.MethodGet, Path: "/issues/5/timeline", Status: 502, Times: 1000})
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	e.settle()
	if got := e.latest(head, true); got != "pending" {
		t.Errorf("with the timeline unreadable: %q, want pending", got)
	}
	if countRequests(e, http.MethodGet, "/issues/5/timeline") == 0 {
		t.Error("the timeline was never asked for")
	}
}

// TestAdversaryRejectionOnForcePushedCommit (attack: force-push away the
// commit a reviewer rejected). hejun requests changes on H1; wangfang
// force-pushes H2, the same change in a new commit, so H1 is no longer on
// any ref GitHub serves and never reaches a fresh mirror (a new replica, a
// rebuilt mirror, or a server that saw H1 only briefly). The change request
// still stands on GitHub and must still block.
func TestAdversaryRejectionOnForcePushedCommit(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	h1 := e.openPR(5, "wangfang", addGoLive)
	e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: h1})
	e.work.GitCLI("reset", "-q", "--hard", "main")
	addGoLive(e.work)
	h2 := e.work.Commit("change, reworded", who("wangfang"))
	if h2 == h1 {
		t.Fatal("the force-push made the same commit")
	}
	e.push("refs/heads/pr5:refs/pull/5/head", "refs/heads/pr5:refs/heads/pr5")
	pr, _ := e.gh.Pull(slug, 5)
	pr.HeadSHA = h2
	e.gh.SetPull(slug, pr)
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 5, ghapitest.Review{Login: w, State: "APPROVED", CommitID: h2})
	}
	e.deliver("pull_request", prEvent(t, "synchronize", 5, h2))
	cr := e.checkRun(h2)
	if cr.Conclusion == "success" {
		t.Errorf("hejun's change request on the force-pushed-away %s no longer blocks: %q\n%s", h1[:12], cr.Title, cr.Summary)
	}
}
