package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/schedule"
	"github.com/relgate/relgate/controller/source"
)

func TestScheduledJobs(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	specs, _, err := schedule.Specs(mustPolicy(t, e))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := schedule.New(schedule.Config{Clock: func() time.Time { return time.Date(2027, 1, 3, 9, 0, 0, 0, time.UTC) }}, e.srv.Jobs(specs))
	if err != nil {
		t.Fatal(err)
	}
	// Quarterly report: the quarter before now, through the writer.
	if o, _ := sched.RunNow(schedule.JobQuarterlyReport); o.Err != nil {
		t.Fatal(o.Err)
	}
	e.writer.mu.Lock()
	quarters := e.writer.quarters
	e.writer.mu.Unlock()
	if len(quarters) != 1 || quarters[0] != "2026Q4" {
		t.Errorf("quarterly report for %v, want [2026Q4]", quarters)
	}
	// Reminders: REL-2026-0043's window began 2026-11-28 and no deployment is recorded.
	if o, _ := sched.RunNow(schedule.JobReminders); o.Err != nil {
		t.Fatal(o.Err)
	}
	if got := e.srv.metrics.Get(mOverdue); got != 1 {
		t.Errorf("overdue releases %v, want 1", got)
	}
	if !strings.Contains(e.logs.String(), `"release":"REL-2026-0043"`) {
		t.Errorf("no reminder logged for REL-2026-0043:\n%s", e.logs.String())
	}
	// Reconcile: fetch and write-back.
	if o, _ := sched.RunNow(schedule.JobReconcile); o.Err != nil {
		t.Fatal(o.Err)
	}
	// Resync: every open pull request is evaluated again.
	head := e.openPR(6, "wangfang", addGoLive)
	if o, _ := sched.RunNow(schedule.JobResync); o.Err != nil {
		t.Fatal(o.Err)
	}
	if cr := e.checkRun(head); cr.Conclusion != "failure" {
		t.Errorf("resync evaluation: %s", cr.Conclusion)
	}
	e.writer.mu.Lock()
	defer e.writer.mu.Unlock()
	if e.writer.reconciles != 1 {
		t.Errorf("reconciles %d", e.writer.reconciles)
	}
}

func mustPolicy(t *testing.T, e *env) *policy.Policy {
	t.Helper()
	st, err := e.srv.branch()
	if err != nil {
		t.Fatal(err)
	}
	return st.policy
}

// TestRetargetedPullRequest: the result's name follows the base branch.
func TestRetargetedPullRequest(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	e.work.Checkout("main", false)
	e.work.Checkout("release", true)
	e.push("refs/heads/release:refs/heads/release")
	head := e.openPR(7, "wangfang", func(r *gitrepotest.Repo) {
		r.Write(rel43+"/plan.yaml", r.Read(rel43+"/plan.yaml")+"# 补充\n")
	})
	pr, _ := e.gh.Pull(slug, 7)
	pr.BaseRef = "release"
	e.gh.SetPull(slug, pr)
	body := payload(t, "pull_request.opened.json", func(m map[string]any) {
		m["action"] = "edited"
		m["number"] = 7
		m["pull_request"].(map[string]any)["number"] = 7
		m["changes"] = map[string]any{"base": map[string]any{"ref": map[string]any{"from": "main"}, "sha": map[string]any{"from": head}}}
	})
	if code := e.deliver("pull_request", body); code != http.StatusAccepted {
		t.Fatalf("edited: %d", code)
	}
	e.settle()
	if cr, ok := e.gh.LatestCheckRun(head, "relgate/release"); !ok || cr.Conclusion != "success" {
		t.Errorf("check run relgate/release: %+v %v", cr, ok)
	}
}

// TestWriteBackFailureIsRetriedBoundedly: a failing write-back is retried a
// bounded number of times and never reported as done.
func TestWriteBackFailureIsRetriedBoundedly(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 8)
	e.deliver("pull_request", prEvent(t, "opened", 8, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("%s", cr.Conclusion)
	}
	e.writer.mu.Lock()
	e.writer.fail = errors.New("push rejected: stale info")
	e.writer.mu.Unlock()
	e.work.Checkout("main", false)
	e.work.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "--no-ff", "-m", "Merge #8", "pr8")
	merge := strings.TrimSpace(e.work.GitCLI("rev-parse", "HEAD"))
	e.push("refs/heads/main:refs/heads/main")
	pr, _ := e.gh.Pull(slug, 8)
	pr.State, pr.Merged, pr.MergeCommitSHA = "closed", true, merge
	e.gh.SetPull(slug, pr)
	e.deliver("pull_request", prEvent(t, "closed", 8, head))
	// Each try evaluates the merge again (slow under the race detector):
	// wait for the final failure rather than for a fixed time.
	e.eventually("the final failure", func() bool { return strings.Contains(e.logs.String(), "the resync job will try again") })
	e.settle()
	if got := e.srv.metrics.Get(mWriteback, "op", "record-approvals", "result", "error"); got != 3 {
		t.Errorf("record-approvals errors %v, want 3 (one try and two retries)", got)
	}
	if !strings.Contains(e.logs.String(), "the resync job will try again") {
		t.Errorf("no final failure logged")
	}
}

// TestScheduleStartsFromThePolicy: with the schedule on, the server starts
// the policy's jobs and writes the report of the quarter before now at once,
// catching up a quarter boundary crossed while it was down.
func TestScheduleStartsFromThePolicy(t *testing.T) {
	e := newEnv(t, envOptions{schedule: true, noGitHub: true})
	e.eventually("the catch-up quarterly report", func() bool {
		e.writer.mu.Lock()
		defer e.writer.mu.Unlock()
		return len(e.writer.quarters) == 1 && e.writer.quarters[0] == "2026Q3"
	})
	e.srv.mu.Lock()
	sc := e.srv.sched
	e.srv.mu.Unlock()
	if sc == nil || sc.loc != "Asia/Shanghai" || sc.specs[schedule.JobReconcile] != "*/5 * * * *" {
		t.Fatalf("schedule %+v", sc)
	}
	// A push that changes the policy's schedule restarts the jobs with it.
	e.work.Edit("relgate.yaml", `reconcile: "*/5 * * * *"`, `reconcile: "*/7 * * * *"`)
	approvePolicy(t, e.work)
	e.work.Commit("schedule", who("liuzhiqiang"))
	e.push("refs/heads/main:refs/heads/main")
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.eventually("the new schedule", func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return e.srv.sched.specs[schedule.JobReconcile] == "*/7 * * * *"
	})
	// A schedule that does not parse leaves the running one in place.
	e.work.Edit("relgate.yaml", `reconcile: "*/7 * * * *"`, `reconcile: "every seven minutes"`)
	approvePolicy(t, e.work)
	e.work.Commit("bad schedule", who("liuzhiqiang"))
	e.push("refs/heads/main:refs/heads/main")
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.eventually("the refusal logged", func() bool {
		return strings.Contains(e.logs.String(), "schedules.reconcile")
	})
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	if e.srv.sched.specs[schedule.JobReconcile] != "*/7 * * * *" {
		t.Errorf("schedule after a bad spec: %v", e.srv.sched.specs)
	}
}

// approvePolicy writes the process approver's approval of relgate.yaml as the
// work tree has it (gate policy-change, R-7), so that the change committed
// with it is the policy in force.
func approvePolicy(t *testing.T, r *gitrepotest.Repo) {
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
	g, _ := pol.Gate(policy.GatePolicyChange)
	d, _, err := evaluate.Digest(tree, "", g)
	if err != nil {
		t.Fatal(err)
	}
	r.Write("approvals/policy-change.liuzhiqiang.yaml", "apiVersion: relgate.dev/v1\nkind: Approval\ngate: policy-change\nperson: liuzhiqiang\nrole: process-approver\ndecision: approve\ndigest: "+d+"\nat: \"2026-11-25T10:00:00+08:00\"\n")
}
