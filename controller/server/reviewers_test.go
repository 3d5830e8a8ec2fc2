package server

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
)

// relgateLogin is the login the server's token acts as on the fake GitHub.
const relgateLogin = "relgate-ci"

// reviewerEnv is a server with reviewer requests on. The flag is set once
// the startup work has drained and before any other work is queued: the
// queue's lock orders the write before every read of it.
func reviewerEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, envOptions{checkRuns: true})
	e.gh.SetUserToken("ghs_test_token", relgateLogin)
	e.settle()
	e.srv.cfg.RequestReviewers = true
	e.srv.queue.push(workKey{kind: kindResync})
	e.settle()
	return e
}

// restart stops the server and starts a new one on the same mirror, remote
// and GitHub, remembering nothing of the first: what it knows of its
// review requests it must read from GitHub.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	cfg := e.srv.cfg
	cfg.Metrics = NewMetrics()
	srv, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv, e.url = srv, "http://"+ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- srv.Serve(ctx, ln) }()
	e.eventually("the restarted server is ready", func() bool { return srv.ready.Load() })
	e.settle()
}

// requested is who GitHub shows as requested on pull request n, login → requester.
func (e *env) requested(n int) map[string]string {
	out := map[string]string{}
	for _, r := range e.gh.RequestedReviewers(slug, n) {
		out[r.Login] = r.By
	}
	return out
}

func (e *env) noViolations() {
	e.t.Helper()
	if v := e.gh.Violations(); len(v) > 0 {
		e.t.Errorf("the fake GitHub recorded requests its OpenAPI description refuses:\n%s", strings.Join(v, "\n"))
	}
}

// planReviewDigest is REL-2026-0043's plan-review digest in the work tree.
func planReviewDigest(t *testing.T, r *gitrepotest.Repo) string {
	t.Helper()
	tree := source.Dir{Root: r.Dir}
	snap, err := loader.LoadReleases(tree, nil)
	if err != nil || snap.Policy == nil {
		t.Fatalf("policy: %v", err)
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := pol.Gate(policy.GatePlanReview)
	d, _, err := evaluate.Digest(tree, "REL-2026-0043", g)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func commitApproval(t *testing.T, r *gitrepotest.Repo, person, role string) {
	t.Helper()
	r.Write(rel43+"/approvals/plan-review."+person+".yaml", "apiVersion: relgate.dev/v1\nkind: Approval\nrelease: REL-2026-0043\ngate: plan-review\nperson: "+
		person+"\nrole: "+role+"\ndecision: approve\ndigest: "+planReviewDigest(t, r)+"\nat: \"2026-11-25T09:00:00+08:00\"\n")
}

// TestReviewerRequestsAskWhoMaySupplyTheApproval: a
// change missing plan-review approvals gets, as GitHub's requested
// reviewers, exactly the people the base policy lets supply them — never
// the pull request's author, never a role holder excluded as an author of
// the plan (separation of duties), never someone the head's policy puts in
// the role — and each request is made once however often it is evaluated.
func TestReviewerRequestsAskWhoMaySupplyTheApproval(t *testing.T) {
	tests := []struct {
		name string
		// change makes pull request 3 (opened by wangfang); more, when set,
		// is a second commit by its author.
		change     func(r *gitrepotest.Repo)
		moreAuthor string
		more       func(r *gitrepotest.Repo)
		want       map[string]string
	}{
		{name: "the department head and the release owner, not the author", change: addGoLive,
			want: map[string]string{"maxiaodong": relgateLogin, "zhangwei": relgateLogin}},
		// The edit makes hejun's committed approval stale: he is asked again.
		{name: "the release owner wrote the plan: excluded (separation of duties), not asked", change: addGoLive,
			moreAuthor: "zhangwei", more: func(r *gitrepotest.Repo) {
				r.Write(rel43+"/plan.yaml", r.Read(rel43+"/plan.yaml")+"# 回滚步骤已复核\n")
			},
			want: map[string]string{"hejun": relgateLogin, "maxiaodong": relgateLogin}},
		{name: "the head's policy makes xuhui the department head: the base's maxiaodong is asked, and the process approver for the policy change",
			change: func(r *gitrepotest.Repo) {
				addGoLive(r)
				r.Write("relgate.yaml", strings.Replace(r.Read("relgate.yaml"), "head: maxiaodong", "head: xuhui", 1))
			},
			want: map[string]string{"liuzhiqiang": relgateLogin, "maxiaodong": relgateLogin, "zhangwei": relgateLogin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := reviewerEnv(t)
			head := e.openPR(3, "wangfang", tt.change)
			if tt.more != nil {
				head = e.pushPR(3, tt.moreAuthor, tt.more)
			}
			e.deliver("pull_request", prEvent(t, "opened", 3, head))
			if cr := e.checkRun(head); cr.Conclusion != "failure" {
				t.Fatalf("check %s %q, want a blocked change", cr.Conclusion, cr.Title)
			}
			e.settle()
			if d := cmp.Diff(tt.want, e.requested(3)); d != "" {
				t.Errorf("requested reviewers (-want +got):\n%s", d)
			}
			posts := countRequests(e, "POST", "requested_reviewers")
			e.deliver("pull_request", prEvent(t, "synchronize", 3, head))
			e.settle()
			if n := countRequests(e, "POST", "requested_reviewers"); n != posts {
				t.Errorf("a second evaluation asked again: %d requests, then %d", posts, n)
			}
			e.noViolations()
		})
	}
}

// TestReviewerRequestsWithdrawnOnceApproved: the release owner approves by
// review (GitHub clears his request) and the department head by a committed
// approval; once plan review passes relgate withdraws its own request,
// while the reviewer the author asked for stays. A restart in between
// neither asks twice nor forgets which requests were relgate's.
func TestReviewerRequestsWithdrawnOnceApproved(t *testing.T) {
	e := reviewerEnv(t)
	head := e.openPR(3, "wangfang", addGoLive)
	e.deliver("pull_request", prEvent(t, "opened", 3, head))
	e.checkRun(head)
	e.settle()
	if d := cmp.Diff(map[string]string{"maxiaodong": relgateLogin, "zhangwei": relgateLogin}, e.requested(3)); d != "" {
		t.Fatalf("requested (-want +got):\n%s", d)
	}
	// The author asks lina, who holds no role this gate needs.
	if err := e.gh.RequestReviewersAs(slug, 3, "wangfang", "lina"); err != nil {
		t.Fatal(err)
	}
	e.gh.AddReview(slug, 3, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: head})
	e.deliver("pull_request_review", reviewEvent(t, 3, "zhangwei", "APPROVED", head))
	e.settle()
	want := map[string]string{"maxiaodong": relgateLogin, "lina": "wangfang"}
	if d := cmp.Diff(want, e.requested(3)); d != "" {
		t.Errorf("after zhangwei's review (-want +got):\n%s", d)
	}

	posts := countRequests(e, "POST", "requested_reviewers")
	e.restart()
	e.srv.queue.push(workKey{kind: kindPull, n: 3})
	e.settle()
	if n := countRequests(e, "POST", "requested_reviewers"); n != posts {
		t.Errorf("the restarted server asked again: %d requests, then %d", posts, n)
	}
	if d := cmp.Diff(want, e.requested(3)); d != "" {
		t.Errorf("after the restart (-want +got):\n%s", d)
	}

	// maxiaodong's approval is committed on the branch; zhangwei's review
	// still approves the same documents.
	head = e.pushPR(3, "maxiaodong", func(r *gitrepotest.Repo) { commitApproval(t, r, "maxiaodong", "department-head") })
	e.deliver("pull_request", prEvent(t, "synchronize", 3, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("check %s %q, want plan review passed", cr.Conclusion, cr.Title)
	}
	e.settle()
	if d := cmp.Diff(map[string]string{"lina": "wangfang"}, e.requested(3)); d != "" {
		t.Errorf("after the gate passed (-want +got): relgate's request must go, the author's stay\n%s", d)
	}
	e.noViolations()
}

// TestReviewerRequestsWithdrawnWhenClosed: a pull request that closes,
// merged or not, keeps no request relgate made; a person's stays.
func TestReviewerRequestsWithdrawnWhenClosed(t *testing.T) {
	for _, merged := range []bool{false, true} {
		name := "closed"
		if merged {
			name = "merged"
		}
		t.Run(name, func(t *testing.T) {
			e := reviewerEnv(t)
			head := e.openPR(3, "wangfang", addGoLive)
			e.deliver("pull_request", prEvent(t, "opened", 3, head))
			e.checkRun(head)
			e.settle()
			if err := e.gh.RequestReviewersAs(slug, 3, "lina", "hejun"); err != nil {
				t.Fatal(err)
			}
			pr, _ := e.gh.Pull(slug, 3)
			pr.State, pr.Merged = "closed", merged
			e.gh.SetPull(slug, pr)
			if merged {
				e.deliver("pull_request", prEvent(t, "closed", 3, head))
			} else {
				// What the server does for a closed pull request (work.go
				// queues no work for an unmerged close yet).
				e.srv.queue.push(workKey{kind: kindPull, n: 3})
			}
			e.eventually("relgate's requests withdrawn", func() bool {
				return cmp.Equal(map[string]string{"hejun": "lina"}, e.requested(3))
			})
			e.noViolations()
		})
	}
}

// TestReviewerRequestFailuresLeaveTheCheckAlone: when GitHub fails every
// reviewer request, the check run is what it is without requests (the
// check is about the gate), and the failure is logged and counted.
func TestReviewerRequestFailuresLeaveTheCheckAlone(t *testing.T) {
	e := reviewerEnv(t)
	head := e.openPR(3, "wangfang", addGoLive)
	e.deliver("pull_request", prEvent(t, "opened", 3, head))
	ok := e.checkRun(head)
	e.settle()

	e.gh.Inject(ghapitest.Fault{Method: "POST", Path: "requested_reviewers", Status: 502, Times: 1000})
	e.work.Checkout("main", false)
	head4 := e.openPR(4, "wangfang", addGoLive)
	e.deliver("pull_request", prEvent(t, "opened", 4, head4))
	failed := e.checkRun(head4)
	e.settle()
	if failed.Conclusion != ok.Conclusion || failed.Title != ok.Title {
		t.Errorf("with reviewer requests failing the check is %s %q, without %s %q", failed.Conclusion, failed.Title, ok.Conclusion, ok.Title)
	}
	if got := e.requested(4); len(got) != 0 {
		t.Errorf("requested despite the failures: %v", got)
	}
	if !strings.Contains(e.logs.String(), "reviewer requests not updated") {
		t.Error("the failure is not logged")
	}
	_, metrics := e.get("/metrics")
	if !strings.Contains(metrics, `relgate_github_api_errors_total{op="request-reviewers"} 1`) {
		t.Errorf("the failure is not counted:\n%s", grepLines(metrics, "api_errors"))
	}
	e.noViolations()
}

func grepLines(s, part string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestReviewerRequestsOff: with --request-reviewers=false nobody is asked.
func TestReviewerRequestsOff(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	e.gh.SetUserToken("ghs_test_token", relgateLogin)
	head := e.openPR(3, "wangfang", addGoLive)
	e.deliver("pull_request", prEvent(t, "opened", 3, head))
	e.checkRun(head)
	e.settle()
	if n := countRequests(e, "", "requested_reviewers"); n != 0 {
		t.Errorf("%d reviewer request calls with requests off", n)
	}
}

// TestWantedReviewers: whom a report asks for, in the report's order, once
// each, never the author or someone who reviewed, from failing gates the
// change needs only, at most GitHub's 15.
func TestWantedReviewers(t *testing.T) {
	req := func(missing int, eligible ...string) gate.Requirement {
		return gate.Requirement{Role: "r", Need: missing, Missing: missing, Eligible: eligible}
	}
	many := make([]string, 20)
	for i := range many {
		many[i] = "p" + string(rune('a'+i))
	}
	tests := []struct {
		name   string
		rep    *evaluate.GateReport
		author string
		skip   []string
		want   []string
	}{
		{name: "passed: nobody", rep: &evaluate.GateReport{Passed: true}},
		{name: "no report: nobody"},
		{name: "policy, repository and release gates in order, once each",
			rep: &evaluate.GateReport{
				Policy:     &gate.Result{Gate: "policy-change", Requirements: []gate.Requirement{req(1, "liuzhiqiang")}},
				Repository: []gate.Result{{Gate: "change-record", Requirements: []gate.Requirement{req(1, "hejun", "liuzhiqiang")}}},
				Releases: []evaluate.ReleaseGates{{Release: "REL-1", Required: []string{"plan-review"},
					Gates: []gate.Result{{Gate: "plan-review", Requirements: []gate.Requirement{req(1, "zhangwei"), req(0, "lina"), req(1, "maxiaodong")}}}}}},
			want: []string{"liuzhiqiang", "hejun", "zhangwei", "maxiaodong"}},
		{name: "a gate the change does not require, a passed gate and a withdrawn one ask nobody",
			rep: &evaluate.GateReport{Releases: []evaluate.ReleaseGates{{Release: "REL-1", Required: []string{"plan-review", "go-live"}, Withdrawn: []string{"go-live"},
				Gates: []gate.Result{
					{Gate: "plan-review", Passed: true, Requirements: []gate.Requirement{req(0, "a")}},
					{Gate: "go-live", Requirements: []gate.Requirement{req(1, "b")}},
					{Gate: "test-acceptance", Requirements: []gate.Requirement{req(1, "c")}},
				}}}},
		},
		{name: "not the author, not who reviewed the head (any case)", author: "WangFang", skip: []string{"Zhangwei"},
			rep:  &evaluate.GateReport{Repository: []gate.Result{{Gate: "change-record", Requirements: []gate.Requirement{req(2, "wangfang", "zhangwei", "lina")}}}},
			want: []string{"lina"}},
		{name: "at most 15",
			rep:  &evaluate.GateReport{Repository: []gate.Result{{Gate: "change-record", Requirements: []gate.Requirement{req(20, many...)}}}},
			want: many[:ghapi.MaxRequestedReviewers]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, wantedReviewers(tt.rep, tt.author, tt.skip)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestReviewerRequestRenewedByAPersonIsTheirs: the author withdraws
// relgate's request of maxiaodong and asks him herself; when the gate
// passes, that request is hers and stays (the timeline's latest request
// decides whose it is).
func TestReviewerRequestRenewedByAPersonIsTheirs(t *testing.T) {
	e := reviewerEnv(t)
	head := e.openPR(3, "wangfang", addGoLive)
	e.deliver("pull_request", prEvent(t, "opened", 3, head))
	e.checkRun(head)
	e.settle()
	e.gh.RemoveRequestedReviewersAs(slug, 3, "wangfang", "maxiaodong")
	if err := e.gh.RequestReviewersAs(slug, 3, "wangfang", "maxiaodong"); err != nil {
		t.Fatal(err)
	}
	head = e.pushPR(3, "maxiaodong", func(r *gitrepotest.Repo) { commitApproval(t, r, "maxiaodong", "department-head") })
	e.gh.AddReview(slug, 3, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: head})
	e.deliver("pull_request", prEvent(t, "synchronize", 3, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("check %s %q, want plan review passed", cr.Conclusion, cr.Title)
	}
	e.settle()
	if d := cmp.Diff(map[string]string{"maxiaodong": "wangfang"}, e.requested(3)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if n := countRequests(e, "DELETE", "requested_reviewers"); n != 0 {
		t.Errorf("relgate withdrew %d request(s) that were a person's", n)
	}
	e.noViolations()
}
