package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

// latest is what GitHub shows on head for relgate/main in either mode:
// the newest check run's conclusion (or "in_progress"), or the newest status.
func (e *env) latest(head string, checkRuns bool) string {
	if checkRuns {
		cr, ok := e.gh.LatestCheckRun(head, "relgate/main")
		switch {
		case !ok:
			return ""
		case cr.Status != "completed":
			return "pending"
		}
		return cr.Conclusion
	}
	st, ok := e.gh.LatestStatus(head, "relgate/main")
	if !ok {
		return ""
	}
	return st.State
}

// latestPerPR is the newest check run of each pull request on head.
func (e *env) latestPerPR(head string) map[string]ghapitest.CheckRun {
	out := map[string]ghapitest.CheckRun{}
	for _, c := range e.gh.CheckRuns() {
		if c.HeadSHA == head && c.Name == "relgate/main" {
			out[c.ExternalID] = c // later runs overwrite earlier ones
		}
	}
	return out
}

// TestOutageAfterSuccessWithdrawsGreen: after a success, a rejection
// arrives while GET pull fails. The event names the head, so the head turns
// pending within that one event — not after the retries or the resync —
// and the rejection shows once GitHub answers again.
func TestOutageAfterSuccessWithdrawsGreen(t *testing.T) {
	for _, checkRuns := range []bool{true, false} {
		t.Run(map[bool]string{true: "check runs", false: "statuses"}[checkRuns], func(t *testing.T) {
			e := newEnv(t, envOptions{checkRuns: checkRuns})
			head := approvedPR(t, e, 5)
			e.deliver("pull_request", prEvent(t, "opened", 5, head))
			e.settle()
			if got := e.latest(head, checkRuns); got != "success" {
				t.Fatalf("before the outage: %q, want success", got)
			}
			// The outage outlasts the client's attempts and the server's retries.
			e.gh.Inject(ghapitest.Fault{Path: "/pulls/5", Method: http.MethodGet, Status: 502, Times: 3 * 3})
			e.gh.AddReview(slug, 5, ghapitest.Review{Login: "zhangwei", State: "CHANGES_REQUESTED", CommitID: head})
			e.deliver("pull_request_review", reviewEvent(t, 5, "zhangwei", "changes_requested", head))
			e.eventually("the head to turn pending", func() bool { return e.latest(head, checkRuns) == "pending" })
			code, body := e.get("/readyz")
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "github get-pull:") {
				t.Errorf("/readyz during the outage: %d %s", code, body)
			}
			e.settle()
			// The outage is over (the faults are used up): the resync finds the rejection.
			e.srv.queue.push(workKey{kind: kindResync})
			e.eventually("the rejection to show", func() bool { return e.latest(head, checkRuns) == "failure" })
			if v := e.gh.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

// TestSharedHeadShowsStrictest: two open pull requests with one head and
// base, by different authors. zhangwei's own approval does not count on
// his pull request (separation of duties), wangfang's passes with it.
// GitHub shows one relgate/main per commit, so both show the failure.
func TestSharedHeadShowsStrictest(t *testing.T) {
	for _, checkRuns := range []bool{true, false} {
		t.Run(map[bool]string{true: "check runs", false: "statuses"}[checkRuns], func(t *testing.T) {
			e := newEnv(t, envOptions{checkRuns: checkRuns})
			head := approvedPR(t, e, 2) // wangfang's
			e.push("refs/heads/pr2:refs/pull/1/head")
			e.gh.SetPull(slug, ghapitest.PR{Number: 1, Title: "same change", Author: "zhangwei", HeadSHA: head, HeadRef: "zw", BaseRef: "main"})
			for _, w := range []string{"maxiaodong", "zhangwei"} {
				e.gh.AddReview(slug, 1, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head})
			}
			// Only wangfang's pull request is named by the event.
			e.deliver("pull_request_review", reviewEvent(t, 2, "zhangwei", "approved", head))
			e.settle()
			if got := e.latest(head, checkRuns); got != "failure" {
				t.Fatalf("shared head shows %q, want failure (the strictest)", got)
			}
			if checkRuns {
				runs := e.latestPerPR(head)
				if len(runs) != 2 {
					t.Fatalf("check runs per pull request: %+v", runs)
				}
				for id, c := range runs {
					if c.Conclusion != "failure" {
						t.Errorf("%s shows %s, want failure", id, c.Conclusion)
					}
				}
				wantContains(t, "wangfang's summary", runs["pr-2"].Summary, "#1 | zhangwei", "#2 | wangfang", "strictest")
				wantContains(t, "wangfang's title", runs["pr-2"].Title, "pull request #1 by zhangwei")
			} else {
				st, _ := e.gh.LatestStatus(head, "relgate/main")
				wantContains(t, "status", st.Description, "#1:")
			}
			// zhangwei's pull request is closed: wangfang's passes alone.
			e.gh.SetPull(slug, ghapitest.PR{Number: 1, State: "closed", Author: "zhangwei", HeadSHA: head, HeadRef: "zw", BaseRef: "main"})
			e.deliver("pull_request", prEvent(t, "synchronize", 2, head))
			e.settle()
			if got := e.latest(head, checkRuns); got != "success" {
				t.Errorf("after the other pull request closed: %q, want success", got)
			}
			if v := e.gh.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

// TestCheckRunCreatedOnceAndUpdated: an in-progress run (here one a
// previous process left behind) is found and completed, not duplicated;
// an unchanged result posts nothing; a changed completed result gets a
// new run, since GitHub does not reopen a completed one.
func TestCheckRunCreatedOnceAndUpdated(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := e.openPR(5, "wangfang", addGoLive)
	c, err := ghapi.New(ghapi.Config{BaseURL: e.gh.APIURL(), Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	left, err := c.CreateCheckRun(context.Background(), ghapi.Repo{Owner: "grid-it", Name: "releases"},
		ghapi.CheckRun{Name: "relgate/main", HeadSHA: head, Status: "in_progress", ExternalID: "pr-5", Title: "pending: before a restart", Summary: "s"})
	if err != nil {
		t.Fatal(err)
	}
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	cr := e.checkRun(head)
	if cr.ID != left || cr.Conclusion != "failure" {
		t.Fatalf("the run left in progress was not completed: %+v (left %d)", cr, left)
	}
	n := len(e.gh.CheckRuns())
	e.deliver("pull_request", prEvent(t, "synchronize", 5, head))
	e.settle()
	if got := len(e.gh.CheckRuns()); got != n {
		t.Errorf("an unchanged result made %d new check run(s)", got-n)
	}
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 5, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head})
	}
	e.deliver("pull_request_review", reviewEvent(t, 5, "zhangwei", "approved", head))
	e.settle()
	if got := e.latest(head, true); got != "success" {
		t.Errorf("after approvals: %q", got)
	}
	if got := len(e.gh.CheckRuns()); got != n+1 {
		t.Errorf("%d check runs after a changed result, want %d", got, n+1)
	}
	for _, c := range e.gh.CheckRuns() {
		if c.HeadSHA == head && c.Status != "completed" {
			t.Errorf("check run %d left %s", c.ID, c.Status)
		}
	}
	if v := e.gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestStatusCarriesTheWholeReason: a commit status holds 140 characters;
// it says how many items are missing, starts with them and links to a page
// with all of them, which only the link's token opens.
func TestStatusCarriesTheWholeReason(t *testing.T) {
	e := newEnv(t, envOptions{publicURL: true})
	head := e.openPR(5, "wangfang", addGoLive)
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	e.settle()
	st, ok := e.gh.LatestStatus(head, "relgate/main")
	if !ok || st.State != "failure" {
		t.Fatalf("status %+v", st)
	}
	wantContains(t, "description", st.Description, "blocked (", "plan-review")
	u, err := url.Parse(st.TargetURL)
	if err != nil || !strings.HasPrefix(st.TargetURL, e.url+"/result?") {
		t.Fatalf("target_url %q", st.TargetURL)
	}
	code, page := e.get(u.RequestURI())
	if code != http.StatusOK {
		t.Fatalf("result page: %d", code)
	}
	wantContains(t, "result page", page, "<h1>relgate/main @ "+head[:12], "department-head (dispatch-automation)", "release-owner", "#5 · wangfang")
	q := u.Query()
	q.Set("t", strings.Repeat("0", 32))
	if code, _ := e.get("/result?" + q.Encode()); code != http.StatusNotFound {
		t.Errorf("a wrong token: %d, want 404", code)
	}
	q.Set("t", u.Query().Get("t"))
	q.Set("base", "release")
	if code, _ := e.get("/result?" + q.Encode()); code != http.StatusNotFound {
		t.Errorf("a token for another base: %d, want 404", code)
	}
}

// TestReadyzSaysMode: /readyz names how results are posted, chosen at start.
func TestReadyzSaysMode(t *testing.T) {
	for _, tc := range []struct {
		o    envOptions
		want string
	}{
		{envOptions{checkRuns: true}, "results: check runs"},
		{envOptions{}, "results: commit statuses"},
		{envOptions{noGitHub: true}, "results: none"},
	} {
		t.Run(fmt.Sprint(tc.want), func(t *testing.T) {
			e := newEnv(t, tc.o)
			code, body := e.get("/readyz")
			if code != http.StatusOK || !strings.Contains(body, tc.want) {
				t.Errorf("/readyz: %d %q, want 200 with %q", code, body, tc.want)
			}
			wantContains(t, "start log", e.logs.String(), `"results":"`+strings.TrimPrefix(tc.want, "results: "))
		})
	}
}

// TestReadOnlyNeverWrites: serve --read-only evaluates and posts, and a
// merge writes nothing to the branch.
func TestReadOnlyNeverWrites(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true, realWriter: true, readOnly: true})
	head := approvedPR(t, e, 8)
	e.deliver("pull_request", prEvent(t, "opened", 8, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("%s", cr.Conclusion)
	}
	e.work.Checkout("main", false)
	e.work.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "--no-ff", "-m", "Merge #8", "pr8")
	merge := strings.TrimSpace(e.work.GitCLI("rev-parse", "HEAD"))
	e.push("refs/heads/main:refs/heads/main")
	pr, _ := e.gh.Pull(slug, 8)
	pr.State, pr.Merged, pr.MergeCommitSHA = "closed", true, merge
	e.gh.SetPull(slug, pr)
	e.deliver("pull_request", prEvent(t, "closed", 8, head))
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.settle()
	out, err := exec.Command("git", "--git-dir", e.remote, "rev-parse", "refs/heads/main").Output()
	if err != nil {
		t.Fatal(err)
	}
	if tip := strings.TrimSpace(string(out)); tip != merge {
		t.Errorf("the branch moved from the merge %s to %s under --read-only", merge[:12], tip[:12])
	}
	if _, body := e.get("/readyz"); !strings.Contains(body, "write-back: off") {
		t.Errorf("/readyz does not say write-back is off: %s", body)
	}
	wantContains(t, "start log", e.logs.String(), `"write_back":false`)
}

// TestFirstStartSaysWhatItWillPush: before the write-back's first push the
// log lists what is due; every commit then pushed is logged with its id,
// reason and files, and was in that list.
func TestFirstStartSaysWhatItWillPush(t *testing.T) {
	e := newEnv(t, envOptions{realWriter: true, noGitHub: true})
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.settle()
	e.eventually("the write-back's plan", func() bool {
		return strings.Contains(e.logs.String(), "write-back will push") || strings.Contains(e.logs.String(), "write-back: nothing due")
	})
	logs := e.logs.String()
	plan := strings.Index(logs, "write-back will push what is due")
	pushed := strings.Index(logs, `"msg":"write-back pushed"`)
	if pushed >= 0 && (plan < 0 || plan > pushed) {
		t.Fatalf("a commit was pushed before the plan was logged:\n%s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"msg":"write-back pushed"`) {
			continue
		}
		var why string
		if i := strings.Index(line, `"why":"`); i >= 0 {
			why = line[i+7:]
			why = why[:strings.Index(why, `"`)]
		}
		if why == "" || !strings.Contains(line, `"commit":"`) || !strings.Contains(line, `"files":[`) {
			t.Errorf("a pushed commit's line lacks its id, reason or files: %s", line)
		}
		if !strings.Contains(logs[:max(plan, 0)+len(logs[max(plan, 0):pushed])], `"why":"`+why+`"`) {
			t.Errorf("pushed %q, which the plan did not list", why)
		}
	}
	if pushed < 0 {
		t.Fatalf("nothing was pushed: the example's branch has due write-back (CMDB updates, reports):\n%s", logs)
	}
	t.Logf("%d commit(s) pushed after the plan", strings.Count(logs, `"msg":"write-back pushed"`))
}
