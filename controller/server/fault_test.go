package server

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

const secondaryBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

// approvedPR opens a pull request that passes once its reviews are read.
func approvedPR(t *testing.T, e *env, n int) string {
	head := e.openPR(n, "wangfang", addGoLive)
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, n, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head})
	}
	return head
}

func countRequests(e *env, method, pathPart string) int {
	n := 0
	for _, r := range e.gh.Requests() {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, pathPart) {
			n++
		}
	}
	return n
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults []ghapitest.Fault
		// wantFinal is the last conclusion on the head: "success" when the
		// faults pass, "in_progress" (pending) when they do not, "" for none.
		wantFinal string
		// callsPath and callsMethod bound the requests to a path part.
		callsPath   string
		callsMethod string
		maxCalls    int
		wantWait    time.Duration
		timeout     time.Duration
	}{
		{name: "502 on reviews throughout: pending, never success, retries bounded",
			faults:    []ghapitest.Fault{{Path: "/reviews", Status: 502, Times: 1000}},
			wantFinal: "in_progress", callsPath: "/reviews", maxCalls: 3 * 3},
		{name: "502 twice on reviews: retried within the call, then success",
			faults:    []ghapitest.Fault{{Path: "/reviews", Status: 502, Times: 2}},
			wantFinal: "success", callsPath: "/reviews", maxCalls: 3},
		{name: "429 with Retry-After on reviews is honoured",
			faults:    []ghapitest.Fault{{Path: "/reviews", Status: 429, Header: map[string]string{"Retry-After": "2"}}},
			wantFinal: "success", wantWait: 2 * time.Second, callsPath: "/reviews", maxCalls: 2},
		{name: "403 secondary rate limit on the check run is honoured",
			faults:    []ghapitest.Fault{{Method: http.MethodPost, Path: "/check-runs", Status: 403, Body: secondaryBody}},
			wantFinal: "success", wantWait: time.Minute, callsPath: "/check-runs", callsMethod: http.MethodPost, maxCalls: 2},
		{name: "403 secondary rate limit with Retry-After on the pull request",
			faults:    []ghapitest.Fault{{Path: "/pulls/5", Status: 403, Header: map[string]string{"Retry-After": "30"}, Body: secondaryBody}},
			wantFinal: "success", wantWait: 30 * time.Second},
		{name: "check run creation failing throughout: nothing posted, retries bounded",
			faults:    []ghapitest.Fault{{Method: http.MethodPost, Path: "/check-runs", Status: 502, Times: 1000}},
			wantFinal: "", callsPath: "/check-runs", callsMethod: http.MethodPost, maxCalls: 3 * 3},
		{name: "pull request unreadable throughout: pending on the head the event named, never success",
			faults:    []ghapitest.Fault{{Path: "/pulls/5", Status: 503, Times: 1000}},
			wantFinal: "in_progress", callsPath: "/pulls/5", maxCalls: 3 * 3},
		{name: "slow reviews past the call timeout: pending, then success on retry",
			faults:    []ghapitest.Fault{{Path: "/reviews", Delay: 400 * time.Millisecond}},
			timeout:   150 * time.Millisecond,
			wantFinal: "success"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{checkRuns: true, timeout: tc.timeout})
			head := approvedPR(t, e, 5)
			for _, f := range tc.faults {
				e.gh.Inject(f)
			}
			e.deliver("pull_request", prEvent(t, "opened", 5, head))
			e.settle()
			time.Sleep(150 * time.Millisecond) // retries are scheduled after 20 and 50 ms
			e.settle()
			var runs []ghapitest.CheckRun
			for _, c := range e.gh.CheckRuns() {
				if c.HeadSHA == head {
					runs = append(runs, c)
				}
			}
			final := ""
			if len(runs) > 0 {
				final = runs[len(runs)-1].Conclusion
				if final == "" {
					final = runs[len(runs)-1].Status
				}
			}
			if final != tc.wantFinal {
				t.Errorf("final result %q, want %q; runs %+v", final, tc.wantFinal, runs)
			}
			if tc.wantFinal != "success" && slices.ContainsFunc(runs, func(c ghapitest.CheckRun) bool { return c.Conclusion == "success" }) {
				t.Errorf("success posted while GitHub failed: %+v", runs)
			}
			if tc.callsPath != "" {
				if n := countRequests(e, tc.callsMethod, tc.callsPath); n > tc.maxCalls {
					t.Errorf("%d requests to %s, want at most %d (retries must stay bounded)", n, tc.callsPath, tc.maxCalls)
				}
			}
			if tc.wantWait > 0 && !slices.ContainsFunc(e.waits.all(), func(d time.Duration) bool { return d >= tc.wantWait && d <= tc.wantWait*11/10 }) {
				t.Errorf("waits %v, want one of %v (+ up to 10%% jitter)", e.waits.all(), tc.wantWait)
			}
			if tc.wantWait > 0 && e.srv.metrics.Get(mAPIRetries, "reason", map[bool]string{true: "rate-limit", false: "secondary-rate-limit"}[tc.faults[0].Status == 429]) == 0 {
				t.Errorf("no retry counted in the metrics")
			}
			if v := e.gh.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

// TestCheckRunRefusedIsRetriedNotSwitched: a 403 on check runs is an
// error to retry and to show in /readyz, not a reason to switch to commit
// statuses until restart; once GitHub accepts again, the check run appears.
func TestCheckRunRefusedIsRetriedNotSwitched(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 5)
	e.gh.Inject(ghapitest.Fault{Method: http.MethodPost, Path: "/check-runs", Status: 403, Times: 2,
		Body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/checks/runs#create-a-check-run"}`})
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("after the refusal passed: %+v", cr)
	}
	e.settle()
	if st := e.gh.Statuses(); len(st) > 0 {
		t.Errorf("commit statuses posted after a check-run refusal: %+v", st)
	}
	if n := countRequests(e, http.MethodPost, "/check-runs"); n != 3 {
		t.Errorf("%d check run attempts, want 3 (two refused, one made)", n)
	}
	wantContains(t, "logs", e.logs.String(), "checks: write permission")
	code, body := e.get("/readyz")
	if code != http.StatusOK || !strings.Contains(body, "results: check runs") {
		t.Errorf("/readyz after recovery: %d %s", code, body)
	}
}
