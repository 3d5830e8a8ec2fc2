package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// TestReviewerRequestFailuresShowInReadyz: when GitHub
// fails a reviewer-request call (the App without pull_requests: write, a
// GitHub outage), /readyz says not ready and names the call, as for any
// GitHub failure; the check run is what it is when GitHub answers (the
// check is about the gate, never about the requests), and nobody is asked.
func TestReviewerRequestFailuresShowInReadyz(t *testing.T) {
	clean := reviewerEnv(t)
	head := clean.openPR(3, "wangfang", addGoLive)
	clean.deliver("pull_request", prEvent(t, "opened", 3, head))
	want := clean.checkRun(head)
	clean.settle()
	if len(clean.requested(3)) == 0 {
		t.Fatal("without faults nobody is asked: the test proves nothing")
	}
	if code, body := clean.get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz without faults: %d %s", code, body)
	}

	forbidden := `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/pulls/review-requests"}`
	tests := []struct {
		name  string
		fault ghapitest.Fault
		op    string // what /readyz names
	}{
		{"who relgate is (GET /user) fails", ghapitest.Fault{Method: http.MethodGet, Path: "/user", Status: 502, Times: 1000}, "github self"},
		{"the requested reviewers cannot be read", ghapitest.Fault{Method: http.MethodGet, Path: "/requested_reviewers", Status: 502, Times: 1000}, "github list-requested-reviewers"},
		{"GitHub refuses the request: no pull_requests: write", ghapitest.Fault{Method: http.MethodPost, Path: "/requested_reviewers", Status: 403, Body: forbidden, Times: 1000}, "github request-reviewers"},
		{"the request fails", ghapitest.Fault{Method: http.MethodPost, Path: "/requested_reviewers", Status: 502, Times: 1000}, "github request-reviewers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := reviewerEnv(t)
			e.gh.Inject(tt.fault)
			head := e.openPR(3, "wangfang", addGoLive)
			e.deliver("pull_request", prEvent(t, "opened", 3, head))
			got := e.checkRun(head)
			e.settle()
			if got.Conclusion != want.Conclusion || got.Title != want.Title {
				t.Errorf("with %s the check is %s %q, without %s %q", tt.op, got.Conclusion, got.Title, want.Conclusion, want.Title)
			}
			if r := e.requested(3); len(r) != 0 {
				t.Errorf("requested despite the failure: %v", r)
			}
			code, body := e.get("/readyz")
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "- "+tt.op+": ") {
				t.Errorf("/readyz = %d %q; want 503 naming %q", code, body, tt.op)
			}
			if strings.Contains(body, "ghs_test_token") {
				t.Errorf("/readyz shows the token: %s", body)
			}
			e.noViolations()
		})
	}

	// Withdrawing: relgate asked two people; once the gate passes it
	// withdraws its request, and GitHub fails the withdrawal. The check
	// passes all the same; /readyz names the failed call.
	t.Run("the withdrawal fails", func(t *testing.T) {
		e := reviewerEnv(t)
		head := e.openPR(3, "wangfang", addGoLive)
		e.deliver("pull_request", prEvent(t, "opened", 3, head))
		e.checkRun(head)
		e.settle()
		e.gh.AddReview(slug, 3, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: head})
		e.deliver("pull_request_review", reviewEvent(t, 3, "zhangwei", "APPROVED", head))
		e.settle()
		if _, ok := e.requested(3)["maxiaodong"]; !ok {
			t.Fatalf("relgate's request of maxiaodong is not there to withdraw: %v", e.requested(3))
		}
		e.gh.Inject(ghapitest.Fault{Method: http.MethodDelete, Path: "/requested_reviewers", Status: 502, Times: 1000})
		head = e.pushPR(3, "maxiaodong", func(r *gitrepotest.Repo) { commitApproval(t, r, "maxiaodong", "department-head") })
		e.deliver("pull_request", prEvent(t, "synchronize", 3, head))
		if cr := e.checkRun(head); cr.Conclusion != "success" {
			t.Errorf("with the withdrawal failing the check is %s %q, want plan review passed", cr.Conclusion, cr.Title)
		}
		e.settle()
		if _, ok := e.requested(3)["maxiaodong"]; !ok {
			t.Errorf("withdrawn despite the failure: %v", e.requested(3))
		}
		if code, body := e.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "- github remove-requested-reviewers: ") {
			t.Errorf("/readyz = %d %q; want 503 naming the withdrawal", code, body)
		}
		e.noViolations()
	})
}
