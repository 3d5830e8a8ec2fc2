package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/writeback"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

const (
	payment42   = "payment-interface=3.2.0@sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6"
	marketing42 = "marketing-app-server=5.7.0@sha256:9ea24af1be33fbbf6a5fdee7eb2121bb2d0bfb690f399c6faadf382206f5502d"
	rel42       = "REL-2026-0042"
)

// inWindow42 is inside REL-2026-0042's release window (20:00–06:00 +08:00).
var inWindow42 = time.Date(2026, 11, 14, 13, 0, 0, 0, time.UTC)

// deploySrc is the example repository as it stood before REL-2026-0042 was
// deployed: 0042 is approved to go live (ready-to-deploy).
func deploySrc(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(src, "releases", rel42)
	for _, f := range []string{"deployment.yaml", "approvals/deployment-confirmation.huangli.yaml", "approvals/deployment-confirmation.lina.yaml"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// dep describes a deployment protection rule request.
type dep struct {
	env       string
	release   any // payload.release; nil: no payload field
	artifacts any // payload.artifacts; nil: no field
	payload   any // the whole payload, when set (overrides release and artifacts)
	ref       string
	id, run   int64
}

func (e *env) callback(run int64) string {
	return fmt.Sprintf("%srepos/grid-it/releases/actions/runs/%d/deployment_protection_rule", e.gh.APIURL(), run)
}

func ruleEvent(t *testing.T, e *env, d dep) []byte {
	return payload(t, "deployment_protection_rule.requested.json", func(m map[string]any) {
		m["environment"] = d.env
		m["ref"] = d.ref
		m["deployment_callback_url"] = e.callback(d.run)
		dm := m["deployment"].(map[string]any)
		dm["id"], dm["environment"], dm["ref"] = d.id, d.env, d.ref
		dm["creator"].(map[string]any)["login"] = "zhaolei"
		p := map[string]any{}
		if d.release != nil {
			p["release"] = d.release
		}
		if d.artifacts != nil {
			p["artifacts"] = d.artifacts
		}
		dm["payload"] = p
		if d.payload != nil {
			dm["payload"] = d.payload
		}
	})
}

func statusEvent(t *testing.T, state string, id int64, release string) []byte {
	return payload(t, "deployment_status.created.json", func(m map[string]any) {
		st := m["deployment_status"].(map[string]any)
		st["state"] = state
		st["created_at"] = "2026-11-14T14:05:00Z"
		st["target_url"] = "https://github.com/grid-it/releases/actions/runs/77"
		dm := m["deployment"].(map[string]any)
		dm["id"] = id
		dm["created_at"] = "2026-11-14T13:00:00Z"
		dm["payload"] = map[string]any{"release": release}
	})
}

// review delivers a request and waits for the review it gets.
func (e *env) review(d dep) ghapitest.DeploymentReview {
	e.t.Helper()
	n := len(e.gh.DeploymentReviews())
	if code := e.deliver("deployment_protection_rule", ruleEvent(e.t, e, d)); code != http.StatusAccepted {
		e.t.Fatalf("deployment_protection_rule: %d", code)
	}
	e.eventually("a deployment review", func() bool { return len(e.gh.DeploymentReviews()) > n })
	e.settle()
	revs := e.gh.DeploymentReviews()
	if len(revs) != n+1 {
		e.t.Fatalf("%d reviews posted for one request: %+v", len(revs)-n, revs[n:])
	}
	return revs[n]
}

func (e *env) remoteGit(args ...string) string {
	e.t.Helper()
	out, err := exec.Command("git", append([]string{"--git-dir", e.remote}, args...)...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func wantRejected(t *testing.T, rv ghapitest.DeploymentReview, rules []string, want ...string) {
	t.Helper()
	if rv.State != "rejected" {
		t.Fatalf("state %s, want rejected\n%s", rv.State, rv.Comment)
	}
	for _, r := range rules {
		if !strings.Contains(rv.Comment, "✗ "+r+" ") && !strings.Contains(rv.Comment, "✗ "+r+":") {
			t.Errorf("the comment does not name rule %s:\n%s", r, rv.Comment)
		}
	}
	wantContains(t, "comment", rv.Comment, want...)
}

// TestDeploymentProtectionRule: a deployment to production waits for
// relgate; only the release's tested artifacts, approved to go live and
// inside its window, are approved. Each refusal
// names its rule and what to do; an event relgate cannot evaluate is never
// approved.
func TestDeploymentProtectionRule(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42, realWriter: true})
	before := strings.Count(e.remoteGit("log", "--format=%H", "main"), "\n")

	// Lawful: the tested artifacts, inside the window.
	rv := e.review(dep{env: "production", release: rel42, artifacts: []string{payment42, marketing42}, ref: "refs/heads/main", id: 9001, run: 501})
	if rv.State != "approved" || rv.RunID != 501 || rv.Environment != "production" {
		t.Fatalf("lawful deployment: %+v", rv)
	}
	wantContains(t, "approval", rv.Comment, "relgate approved the deployment of REL-2026-0042 to production", "✓ artifacts (R-3.1)")

	// The release found from the ref (a tag), no artifacts named: the release's items stand in.
	rv = e.review(dep{env: "production", ref: "refs/tags/" + rel42, id: 9002, run: 502})
	if rv.State != "approved" {
		t.Errorf("release from the tag: %+v", rv)
	}

	tests := []struct {
		name  string
		d     dep
		rules []string
		want  []string
	}{
		{"attack R-3.1: an untested digest in the payload",
			dep{env: "production", release: rel42, artifacts: []string{"payment-interface=3.2.0@sha256:" + strings.Repeat("0", 64)}},
			[]string{deploy.RuleArtifacts}, []string{"不是 release.yaml 要安装的版本", "请严格部署 test-report.yaml 中的配置项、版本和摘要"}},
		{"attack R-5.1.6: no go-live approval (REL-2026-0043 is in plan review)",
			dep{env: "production", ref: "refs/heads/release/REL-2026-0043"},
			[]string{deploy.RuleGoLive}, []string{"REL-2026-0043", "上线审批尚未通过"}},
		{"attack R-3.3: an unknown release",
			dep{env: "production", release: "REL-2026-9999"},
			[]string{deploy.RuleRelease}, []string{`不存在发布 "REL-2026-9999"`}},
		{"attack R-3.3: no release named at all",
			dep{env: "production", ref: "refs/heads/main"},
			[]string{deploy.RuleRelease}, []string{"(no release named)"}},
		{"attack: an environment the policy does not gate",
			dep{env: "staging", release: rel42},
			[]string{deploy.RuleEnvironment}, []string{`环境 "staging" 不在策略管控的环境中`}},
		{"attack: an artifact that does not parse",
			dep{env: "production", release: rel42, artifacts: []string{"payment-interface:3.2.0"}},
			[]string{deploy.RuleEvaluation}, []string{"payload.artifacts", "write ITEM=VERSION@sha256:DIGEST"}},
		{"attack: a payload relgate cannot read",
			dep{env: "production", payload: "not json"},
			[]string{deploy.RuleEvaluation}, []string{"not a JSON object"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.id, tc.d.run = int64(9100+i), int64(600+i)
			wantRejected(t, e.review(tc.d), tc.rules, tc.want...)
		})
	}

	// Replayed: the same request delivered again posts nothing and logs
	// no second decision.
	decisions := strings.Count(e.logs.String(), `"msg":"deployment decision"`)
	if code := e.deliver("deployment_protection_rule", ruleEvent(t, e, dep{env: "production", release: rel42, ref: "refs/heads/main", id: 9001, run: 501})); code != http.StatusAccepted {
		t.Fatalf("replay: %d", code)
	}
	e.settle()
	if got := strings.Count(e.logs.String(), `"msg":"deployment decision"`); got != decisions {
		t.Errorf("a replay logged %d more decisions", got-decisions)
	}
	if n := len(e.gh.DeploymentReviews()); n != 2+len(tests) {
		t.Errorf("%d reviews, want %d: a replay posted again", n, 2+len(tests))
	}

	// Every decision is in the release's deployment log, once; the others
	// name no release of the repository and stay in the server's log.
	e.eventually("the deployment log", func() bool {
		out, err := exec.Command("git", "--git-dir", e.remote, "show", "main:reports/deployments/REL-2026-0042.yaml").CombinedOutput()
		return err == nil && strings.Count(string(out), "key: github/") == 5
	})
	logged := e.remoteGit("show", "main:reports/deployments/REL-2026-0042.yaml")
	wantContains(t, "deployment log", logged, "key: github/9001/501", "allowed: true", "requester: zhaolei", "id: artifacts")
	if strings.Count(logged, "key: github/9001/501") != 1 {
		t.Errorf("a decision logged twice:\n%s", logged)
	}
	if e.srv.metrics.Get(mDeployDecisions, "environment", "production", "result", "approved") != 2 ||
		e.srv.metrics.Get(mDeployDecisions, "environment", "ungated", "result", "rejected") != 1 ||
		e.srv.metrics.Get(mDeployDecisions, "environment", "unknown", "result", "error") != 2 {
		t.Errorf("metrics:\n%s", metricsText(t, e))
	}

	// The deployment finished: its status becomes deployment.yaml, a bot
	// commit, with the artifacts the gate allowed; replays add nothing.
	for i := 0; i < 3; i++ {
		if code := e.deliver("deployment_status", statusEvent(t, "success", 9001, rel42)); code != http.StatusAccepted {
			t.Fatalf("deployment_status: %d", code)
		}
		e.settle()
	}
	e.eventually("deployment.yaml on main", func() bool {
		return exec.Command("git", "--git-dir", e.remote, "cat-file", "-e", "main:releases/REL-2026-0042/deployment.yaml").Run() == nil
	})
	e.settle()
	commits := strings.Fields(e.remoteGit("log", "--format=%H", "main", "--", "releases/REL-2026-0042/deployment.yaml"))
	if len(commits) != 1 {
		t.Errorf("%d commits wrote deployment.yaml, want 1", len(commits))
	}
	author := e.remoteGit("log", "-1", "--format=%an <%ae>", "main", "--", "releases/REL-2026-0042/deployment.yaml")
	if strings.TrimSpace(author) != "relgate-bot <relgate-bot@grid-it.example.cn>" {
		t.Errorf("deployment.yaml written by %s, want the bot", author)
	}
	rec := e.remoteGit("show", "main:releases/REL-2026-0042/deployment.yaml")
	wantContains(t, "deployment.yaml", rec, "succeeded", "github-deployment", "https://github.com/grid-it/releases/actions/runs/77",
		"6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6", "9ea24af1be33fbbf6a5fdee7eb2121bb2d0bfb690f399c6faadf382206f5502d", "relgate-bot")
	if after := strings.Count(e.remoteGit("log", "--format=%H", "main"), "\n"); after <= before {
		t.Errorf("no commits written (%d → %d)", before, after)
	}
	if v := e.gh.Violations(); len(v) > 0 {
		t.Errorf("requests GitHub would refuse: %v", v)
	}
}

func metricsText(t *testing.T, e *env) string {
	_, body := e.get("/metrics")
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, "relgate_deployment") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDeploymentOutsideTheWindow: by the server's clock.
func TestDeploymentOutsideTheWindow(t *testing.T) {
	src := deploySrc(t)
	for _, tc := range []struct {
		name  string
		now   time.Time
		rules []string
		want  string
	}{
		{"attack R-5.1.5: after the window", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), []string{deploy.RuleWindow}, "已结束；请重新规划窗口并重新审批"},
		{"attack R-5.1.6: inside the Spring Festival blackout", time.Date(2027, 2, 5, 2, 0, 0, 0, time.UTC), []string{deploy.RuleWindow, deploy.RuleFreeze}, "2027年春节保电期"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{src: src, now: tc.now})
			wantRejected(t, e.review(dep{env: "production", release: rel42, artifacts: []string{payment42}, id: 1, run: 1}), tc.rules, tc.want)
		})
	}
}

// TestDeploymentNeverApprovedOnError: a fetch that fails, a decision that
// times out and one that panics are rejected, with the reason; nothing is
// approved, and read-only mode writes nothing.
func TestDeploymentNeverApprovedOnError(t *testing.T) {
	src := deploySrc(t)
	lawful := dep{env: "production", release: rel42, artifacts: []string{payment42}}

	t.Run("the mirror cannot fetch", func(t *testing.T) {
		e := newEnv(t, envOptions{src: src, now: inWindow42})
		if err := os.Rename(e.remote, e.remote+".gone"); err != nil {
			t.Fatal(err)
		}
		d := lawful
		d.id, d.run = 1, 1
		wantRejected(t, e.review(d), []string{deploy.RuleEvaluation}, "relgate could not evaluate this deployment", "fetch the protected branch main")
		if err := os.Rename(e.remote+".gone", e.remote); err != nil {
			t.Fatal(err)
		}
		// Once the remote is back, a new run of the same deployment is approved.
		d.run = 2
		if rv := e.review(d); rv.State != "approved" {
			t.Errorf("after the fault: %+v", rv)
		}
	})
	t.Run("the decision times out", func(t *testing.T) {
		e := newEnv(t, envOptions{src: src, now: inWindow42, deployTimeout: time.Nanosecond})
		d := lawful
		d.id, d.run = 1, 1
		wantRejected(t, e.review(d), []string{deploy.RuleEvaluation}, "relgate could not evaluate this deployment")
	})
	t.Run("the decision panics", func(t *testing.T) {
		e := newEnv(t, envOptions{src: src, now: inWindow42})
		e.srv.deployHook = func(deploy.Request) { panic("boom") }
		d := lawful
		d.id, d.run = 1, 1
		wantRejected(t, e.review(d), []string{deploy.RuleEvaluation}, "relgate failed while deciding")
		wantContains(t, "logs", e.logs.String(), "deployment decision panicked")
	})
	t.Run("GitHub fails the review", func(t *testing.T) {
		e := newEnv(t, envOptions{src: src, now: inWindow42})
		e.gh.Inject(ghapitest.Fault{Method: http.MethodPost, Path: "/deployment_protection_rule", Status: 502, Times: 3})
		d := lawful
		d.id, d.run = 1, 1
		// Retried after the failed attempts; answered once.
		rv := e.review(d)
		if rv.State != "approved" {
			t.Errorf("after GitHub recovered: %+v", rv)
		}
		wantContains(t, "logs", e.logs.String(), "work failed; retrying")
	})
	t.Run("a callback URL on another host is not answered", func(t *testing.T) {
		e := newEnv(t, envOptions{src: src, now: inWindow42})
		body := ruleEvent(t, e, dep{env: "production", release: rel42, id: 1, run: 1})
		body = []byte(strings.Replace(string(body), e.gh.APIURL(), "https://evil.example/", 1))
		e.deliver("deployment_protection_rule", body)
		e.settle()
		if len(e.gh.DeploymentReviews()) != 0 {
			t.Errorf("answered: %+v", e.gh.DeploymentReviews())
		}
		wantContains(t, "logs", e.logs.String(), "deployment protection rule request not answered")
	})
	t.Run("read-only decides and answers, writes nothing", func(t *testing.T) {
		e := newEnv(t, envOptions{src: src, now: inWindow42, readOnly: true})
		head := e.remoteGit("rev-parse", "main")
		d := lawful
		d.id, d.run = 1, 1
		if rv := e.review(d); rv.State != "approved" {
			t.Errorf("read-only: %+v", rv)
		}
		e.deliver("deployment_status", statusEvent(t, "success", 1, rel42))
		e.settle()
		if e.remoteGit("rev-parse", "main") != head {
			t.Error("read-only wrote to the branch")
		}
		wantContains(t, "logs", e.logs.String(), "read-only: the deployment decision is not written", "read-only: the deployment receipt is not written")
	})
}

// TestDeploymentAlreadyReviewed: a request GitHub says was reviewed (by this
// server before a restart, or by a replica) is not answered again.
func TestDeploymentAlreadyReviewed(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42})
	req, err := http.NewRequest(http.MethodPost, e.callback(7), strings.NewReader(`{"environment_name":"production","state":"rejected","comment":"earlier"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Authorization", "Bearer earlier")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.deliver("deployment_protection_rule", ruleEvent(t, e, dep{env: "production", release: rel42, artifacts: []string{payment42}, id: 3, run: 7}))
	e.settle()
	revs := e.gh.DeploymentReviews()
	if len(revs) != 1 || revs[0].Comment != "earlier" {
		t.Errorf("reviews %+v: the earlier answer must stand alone", revs)
	}
	wantContains(t, "logs", e.logs.String(), "deployment already reviewed on GitHub")
	if strings.Contains(e.logs.String(), "work failed") {
		t.Error("422 was taken for a failure")
	}
}

// TestDeploymentReceipts: a failed deployment's status is recorded as
// failed; a status of an environment the policy does not gate, or of a
// deployment that names no release, records nothing.
func TestDeploymentReceipts(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42, realWriter: true})
	head := e.remoteGit("rev-parse", "main")
	ungated := payload(t, "deployment_status.created.json", func(m map[string]any) {
		m["deployment_status"].(map[string]any)["environment"] = "staging"
		m["deployment"].(map[string]any)["environment"] = "staging"
		m["deployment"].(map[string]any)["payload"] = map[string]any{"release": rel42}
	})
	e.deliver("deployment_status", ungated)
	noRelease := payload(t, "deployment_status.created.json", func(m map[string]any) {
		dm := m["deployment"].(map[string]any)
		dm["payload"], dm["ref"] = map[string]any{}, "refs/heads/main"
	})
	e.deliver("deployment_status", noRelease)
	e.settle()
	if e.remoteGit("rev-parse", "main") != head {
		t.Errorf("a receipt was written for an ungated environment or no release:\n%s", e.remoteGit("log", "--format=%s", head+"..main"))
	}
	wantContains(t, "logs", e.logs.String(), "the policy does not gate this environment", "the deployment names no release")

	e.deliver("deployment_status", statusEvent(t, "failure", 4242, rel42))
	e.eventually("deployment.yaml on main", func() bool {
		return exec.Command("git", "--git-dir", e.remote, "cat-file", "-e", "main:releases/REL-2026-0042/deployment.yaml").Run() == nil
	})
	rec := e.remoteGit("show", "main:releases/REL-2026-0042/deployment.yaml")
	wantContains(t, "deployment.yaml", rec, "outcome: failed", "deploymentId: 4242")
}

// lostDecisions is a write-back whose first n writes of a deployment
// decision fail (a push refused, the remote down).
type lostDecisions struct {
	Writer
	mu sync.Mutex
	n  int
}

func (l *lostDecisions) RecordDecision(ctx context.Context, branch string, rec writeback.DecisionRecord) error {
	l.mu.Lock()
	fail := l.n > 0
	l.n--
	l.mu.Unlock()
	if fail {
		return errors.New("push refused (injected)")
	}
	return l.Writer.(DeploymentRecorder).RecordDecision(ctx, branch, rec)
}

func (l *lostDecisions) RecordReceipt(ctx context.Context, branch string, rc writeback.Receipt) error {
	return l.Writer.(DeploymentRecorder).RecordReceipt(ctx, branch, rc)
}

// TestDeploymentDecisionLostThenReceipt: the gate allowed a deployment but
// the write of that decision to the deployment log failed. The receipt of the
// deployment writes the decision first, so the lawful deployment does not
// stand in history as never allowed: audit verify passes.
func TestDeploymentDecisionLostThenReceipt(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42, realWriter: true,
		wrapWriter: func(w Writer) Writer { return &lostDecisions{Writer: w, n: 1} }})
	rv := e.review(dep{env: "production", release: rel42, artifacts: []string{payment42, marketing42}, ref: "refs/heads/main", id: 7100, run: 710})
	if rv.State != "approved" {
		t.Fatalf("lawful deployment: %+v", rv)
	}
	if err := exec.Command("git", "--git-dir", e.remote, "cat-file", "-e", "main:reports/deployments/REL-2026-0042.yaml").Run(); err == nil {
		t.Fatal("the decision was written although its write was made to fail")
	}
	e.deliver("deployment_status", statusEvent(t, "success", 7100, rel42))
	e.eventually("deployment.yaml on main", func() bool {
		return exec.Command("git", "--git-dir", e.remote, "cat-file", "-e", "main:releases/REL-2026-0042/deployment.yaml").Run() == nil
	})
	e.settle()
	subjects := e.remoteGit("log", "--format=%s", "-2", "main", "--", "reports/deployments/REL-2026-0042.yaml", "releases/REL-2026-0042/deployment.yaml")
	if !strings.Contains(subjects, "allowed") {
		t.Fatalf("the decision was not written before the receipt:\n%s", subjects)
	}
	repo, err := gitrepo.Open(e.remote)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	head, err := repo.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := history.Open(repo, "", []plumbing.Hash{head}, history.Options{CachePath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(repo, ix, head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Errorf("a lawful deployment whose decision was written late fails verify: %+v", rep.Violations)
	}
}
