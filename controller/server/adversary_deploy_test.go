package server

// Adversarial tests of the deployment gate (issue 16): hostile
// deployment_protection_rule and deployment_status events against a real
// server, the fake GitHub and a real bare remote. Each test asserts the safe
// behaviour; one whose attack succeeds is skipped with "BYPASS:" and
// reported.

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/provenance"
)

// afterWindow42 is past REL-2026-0042's window (it ended 2026-11-14T22:00Z).
var afterWindow42 = time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)

// advStatus is a deployment_status event whose deployment and status the
// caller shapes.
func advStatus(t *testing.T, state, statusEnv string, id int64, dm map[string]any) []byte {
	return payload(t, "deployment_status.created.json", func(m map[string]any) {
		st := m["deployment_status"].(map[string]any)
		st["state"], st["environment"] = state, statusEnv
		st["created_at"] = "2026-11-15T02:05:00Z"
		st["target_url"] = "https://github.com/grid-it/releases/actions/runs/4711"
		d := m["deployment"].(map[string]any)
		d["id"] = id
		d["created_at"] = "2026-11-15T01:00:00Z"
		for k, v := range dm {
			d[k] = v
		}
	})
}

// remoteStatus is relgate status and audit verify of a release on the
// remote's main, as a person would run them on a clone.
func remoteStatus(t *testing.T, e *env, rel string) (gate.Status, []audit.Violation) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "-q", "-b", "main", e.remote, dir).CombinedOutput(); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	head, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := history.Open(repo, "", []plumbing.Hash{head}, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := ix.TreeAt(repo, head)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pol, _, err := engine.PolicyInForce(repo, "", ix, head)
	if err != nil {
		t.Fatal(err)
	}
	led, err := provenance.New(repo, ix, head)
	if err != nil {
		t.Fatal(err)
	}
	st, err := evaluate.Release(pol, snap, rel, evaluate.Options{Provenance: led})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(repo, ix, head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	return st, rep.Violations
}

// flagged lists what status and audit verify say is wrong with the
// release's deployment record.
func flagged(st gate.Status, vs []audit.Violation) []string {
	var out []string
	g, _ := st.Gate("deployment-confirmation")
	for _, c := range g.Checks {
		if !c.OK && c.Name != "deployment.yaml" && c.Name != gate.CheckRollbackCarriedOut {
			out = append(out, "status: "+c.Name+": "+c.Message)
		}
	}
	for _, v := range vs {
		out = append(out, "verify: "+v.Rule+": "+v.Message)
	}
	return out
}

func (e *env) hasDeploymentRecord(rel string) bool {
	return exec.Command("git", "--git-dir", e.remote, "cat-file", "-e", "main:releases/"+rel+"/deployment.yaml").Run() == nil
}

// TestAdversaryReceiptOfUngatedDeployment: a deployment the gate never saw
// (created through the REST API, or in an unprotected environment and moved
// to production by its status: the statuses API takes an environment) reports
// success with the tested artifacts. The bot must not record it as a clean
// receipt: either nothing is written, or status / audit verify flag it.
func TestAdversaryReceiptOfUngatedDeployment(t *testing.T) {
	for _, tc := range []struct {
		name   string
		depEnv string
	}{
		{"created through the API in production", "production"},
		{"created in staging, its status names production", "staging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42, realWriter: true})
			body := advStatus(t, "success", "production", 31337, map[string]any{"environment": tc.depEnv, "ref": "refs/heads/main",
				"payload": map[string]any{"release": rel42, "artifacts": []string{payment42, marketing42}}})
			if code := e.deliver("deployment_status", body); code != http.StatusAccepted {
				t.Fatalf("deployment_status: %d", code)
			}
			e.settle()
			if len(e.gh.DeploymentReviews()) != 0 {
				t.Fatalf("reviews posted: %+v", e.gh.DeploymentReviews())
			}
			if !e.hasDeploymentRecord(rel42) {
				return // safe: nothing recorded
			}
			st, vs := remoteStatus(t, e, rel42)
			if f := flagged(st, vs); len(f) == 0 {
				t.Errorf("deployment %d was never allowed by the gate, yet the bot recorded it and neither status (state %s) nor audit verify flags it:\n%s",
					31337, st.State, e.remoteGit("show", "main:releases/"+rel42+"/deployment.yaml"))
			}
		})
	}
}

// TestAdversaryReceiptOfRefusedDeployment: the gate refused the deployment
// (after its window); its status then says it succeeded, with the tested
// artifacts. A deployment relgate refused must not become a clean record.
func TestAdversaryReceiptOfRefusedDeployment(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: afterWindow42, realWriter: true})
	wantRejected(t, e.review(dep{env: "production", release: rel42, artifacts: []string{payment42, marketing42}, ref: "refs/heads/main", id: 5150, run: 880}),
		[]string{deploy.RuleWindow}, "已结束")
	e.eventually("the refusal in the deployment log", func() bool {
		out, err := exec.Command("git", "--git-dir", e.remote, "show", "main:reports/deployments/"+rel42+".yaml").CombinedOutput()
		return err == nil && strings.Contains(string(out), "github/5150/880")
	})
	body := advStatus(t, "success", "production", 5150, map[string]any{"ref": "refs/heads/main",
		"payload": map[string]any{"release": rel42, "artifacts": []string{payment42, marketing42}}})
	e.deliver("deployment_status", body)
	e.settle()
	if !e.hasDeploymentRecord(rel42) {
		return
	}
	st, vs := remoteStatus(t, e, rel42)
	if f := flagged(st, vs); len(f) == 0 {
		t.Errorf("the gate refused deployment 5150, yet its receipt is a clean record (state %s); nothing in status or audit verify says so", st.State)
	}
}

// TestAdversaryReceiptUntestedAfterRefusal: refused for an untested digest,
// the pipeline deployed it anyway and reports it: recorded as it happened,
// and status and audit verify say was violated (stopped).
func TestAdversaryReceiptUntestedAfterRefusal(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42, realWriter: true})
	bad := "payment-interface=3.2.0@sha256:" + strings.Repeat("e", 64)
	wantRejected(t, e.review(dep{env: "production", release: rel42, artifacts: []string{bad, marketing42}, ref: "refs/heads/main", id: 6001, run: 881}),
		[]string{deploy.RuleArtifacts})
	e.deliver("deployment_status", advStatus(t, "success", "production", 6001, map[string]any{"ref": "refs/heads/main",
		"payload": map[string]any{"release": rel42, "artifacts": []string{bad, marketing42}}}))
	e.eventually("deployment.yaml", func() bool { return e.hasDeploymentRecord(rel42) })
	e.settle()
	st, vs := remoteStatus(t, e, rel42)
	f := strings.Join(flagged(st, vs), "\n")
	if !strings.Contains(f, "status: deployed-as-tested") || !strings.Contains(f, "verify: ") {
		t.Errorf("an untested digest in production is not flagged by both status and audit verify:\n%s", f)
	}
}

// TestAdversaryPayloadTricks: release ids and environments that look like
// the real ones, and payloads built to confuse the reader, are rejected,
// never approved, and nothing is logged against the real release.
func TestAdversaryPayloadTricks(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42})
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	tests := []struct {
		name string
		d    dep
		rule string
	}{
		{"a leading space in payload.release", dep{env: "production", release: " " + rel42}, deploy.RuleRelease},
		{"a trailing newline in payload.release", dep{env: "production", release: rel42 + "\n"}, deploy.RuleRelease},
		{"a unicode hyphen (U+2010) in payload.release", dep{env: "production", release: "REL‐2026‐0042"}, deploy.RuleRelease},
		{"fullwidth digits in payload.release", dep{env: "production", release: "REL-２０２６-００４２"}, deploy.RuleRelease},
		{"a lowercase release id", dep{env: "production", release: "rel-2026-0042"}, deploy.RuleRelease},
		{"a path in payload.release", dep{env: "production", release: "../releases/" + rel42}, deploy.RuleRelease},
		{"payload.release an object", dep{env: "production", release: map[string]any{"id": rel42}}, deploy.RuleEvaluation},
		{"payload.release a list", dep{env: "production", release: []string{rel42}}, deploy.RuleEvaluation},
		{"payload.artifacts a string", dep{env: "production", release: rel42, artifacts: payment42}, deploy.RuleEvaluation},
		{"an uppercase digest", dep{env: "production", release: rel42, artifacts: []string{strings.ToUpper(payment42[:30]) + payment42[30:]}}, deploy.RuleEvaluation},
		{"a digest with a trailing newline", dep{env: "production", release: rel42, artifacts: []string{payment42 + "\n"}}, deploy.RuleEvaluation},
		{"the environment with a trailing space", dep{env: "production ", release: rel42}, deploy.RuleEnvironment},
		{"the environment in capitals", dep{env: "PRODUCTION", release: rel42}, deploy.RuleEnvironment},
		{"the environment with a zero-width space", dep{env: "produ\u200bction", release: rel42}, deploy.RuleEnvironment},
		{"a payload over 64 KiB", dep{env: "production", payload: map[string]any{"release": rel42, "pad": strings.Repeat("x", 70<<10)}}, deploy.RuleEvaluation},
		{"a deeply nested payload", dep{env: "production", payload: `{"release":"` + rel42 + `","x":` + deep[:10000] + deep[30000:] + `}`}, deploy.RuleEvaluation},
		{"a payload string that is JSON of a string", dep{env: "production", payload: `"{\"release\":\"` + rel42 + `\"}"`}, deploy.RuleEvaluation},
		{"the ref names an approved release, the payload an unapproved one", dep{env: "production", release: "REL-2026-0043", ref: "refs/tags/" + rel42}, deploy.RuleGoLive},
		{"a release id valid in the ref but not in the repository", dep{env: "production", ref: "refs/tags/REL-2026-0999"}, deploy.RuleRelease},
		{"a lookalike release in the ref", dep{env: "production", ref: "refs/tags/REL-2026-OO42"}, deploy.RuleRelease},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.id, tc.d.run = int64(7000+i), int64(900+i)
			rv := e.review(tc.d)
			if rv.State != "rejected" {
				t.Fatalf("approved:\n%s", rv.Comment)
			}
			if !strings.Contains(rv.Comment, "✗ "+tc.rule+" ") && !strings.Contains(rv.Comment, "✗ "+tc.rule+":") {
				t.Errorf("rejected, but not by %s:\n%s", tc.rule, rv.Comment)
			}
		})
	}
	if v := e.gh.Violations(); len(v) > 0 {
		t.Errorf("requests GitHub would refuse: %v", v)
	}
}

// TestAdversaryCallbackTricks: a deployment_callback_url that is not exactly
// this repository's review endpoint on the API relgate uses is never
// answered, neither there nor anywhere else.
func TestAdversaryCallbackTricks(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42})
	api := e.gh.APIURL()
	for i, cb := range []string{
		api + "repos/grid-it/other/actions/runs/5/deployment_protection_rule",
		api + "repos/grid-it/releases/actions/runs/5/../6/deployment_protection_rule",
		api + "repos/grid-it/releases/actions/runs/5%2F..%2F6/deployment_protection_rule",
		api + "repos/grid-it/releases/actions/runs/05/deployment_protection_rule",
		api + "repos/grid-it/releases/actions/runs/+5/deployment_protection_rule",
		api + "repos/grid-it/releases/actions/runs/-5/deployment_protection_rule",
		api + "repos/grid-it/releases/actions/runs/99999999999999999999/deployment_protection_rule",
		api + "repos/grid-it/releases/actions/runs/5/deployment_protection_rule?x=1",
		api + "repos/grid-it/releases/actions/runs/5/deployment_protection_rule#x",
		api + "repos/grid-it/releases/actions/runs/5/deployment_protection_rule/",
		strings.Replace(api, "http://", "http://evil@", 1) + "repos/grid-it/releases/actions/runs/5/deployment_protection_rule",
		strings.Replace(api, "http://", "https://", 1) + "repos/grid-it/releases/actions/runs/5/deployment_protection_rule",
		strings.Replace(api, "127.0.0.1", "localhost", 1) + "repos/grid-it/releases/actions/runs/5/deployment_protection_rule",
		"//evil.example/repos/grid-it/releases/actions/runs/5/deployment_protection_rule",
	} {
		body := payload(t, "deployment_protection_rule.requested.json", func(m map[string]any) {
			m["environment"], m["deployment_callback_url"] = "production", cb
			dm := m["deployment"].(map[string]any)
			dm["id"], dm["environment"], dm["payload"] = 8000+i, "production", map[string]any{"release": rel42}
		})
		e.deliver("deployment_protection_rule", body)
	}
	e.settle()
	if revs := e.gh.DeploymentReviews(); len(revs) != 0 {
		t.Errorf("answered a callback URL relgate must not trust: %+v", revs)
	}
	if n := strings.Count(e.logs.String(), "deployment protection rule request not answered"); n != 14 {
		t.Errorf("%d requests logged as not answered, want 14", n)
	}
}

// TestAdversaryAnswerOnce: the same request delivered many times at once
// (redeliveries, a second hook) and after a restart of the answer memory
// is answered once; a re-run of the workflow (a new run id) is a new
// request and is answered on its own.
func TestAdversaryAnswerOnce(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42})
	d := dep{env: "production", release: rel42, artifacts: []string{payment42}, ref: "refs/heads/main", id: 4000, run: 40}
	for i := 0; i < 8; i++ {
		if code := e.deliver("deployment_protection_rule", ruleEvent(t, e, d)); code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, code)
		}
	}
	e.eventually("a review", func() bool { return len(e.gh.DeploymentReviews()) > 0 })
	e.settle()
	// The server forgets what it answered (a restart): GitHub's 422 stops a second answer.
	e.srv.mu.Lock()
	clear(e.srv.deployAnswered)
	e.srv.mu.Unlock()
	e.deliver("deployment_protection_rule", ruleEvent(t, e, d))
	e.settle()
	revs := e.gh.DeploymentReviews()
	if len(revs) != 1 || revs[0].State != "approved" {
		t.Fatalf("reviews %+v, want one approval", revs)
	}
	d.run = 41
	if rv := e.review(d); rv.State != "approved" || rv.RunID != 41 {
		t.Errorf("the re-run: %+v", rv)
	}
}

// TestAdversaryReceiptReplayReorder: statuses of one deployment delivered
// out of order and replayed write one record, the first final one; a later
// contradicting status never overwrites it.
func TestAdversaryReceiptReplayReorder(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42, realWriter: true})
	if rv := e.review(dep{env: "production", release: rel42, ref: "refs/heads/main", id: 9300, run: 93}); rv.State != "approved" {
		t.Fatalf("lawful: %+v", rv)
	}
	e.eventually("the decision logged", func() bool {
		out, err := exec.Command("git", "--git-dir", e.remote, "show", "main:reports/deployments/"+rel42+".yaml").CombinedOutput()
		return err == nil && strings.Contains(string(out), "github/9300/93")
	})
	for _, state := range []string{"in_progress", "queued", "pending", "inactive"} {
		e.deliver("deployment_status", statusEvent(t, state, 9300, rel42))
	}
	e.settle()
	if e.hasDeploymentRecord(rel42) {
		t.Fatal("a status that does not end the deployment wrote a record")
	}
	e.deliver("deployment_status", statusEvent(t, "failure", 9300, rel42))
	e.eventually("deployment.yaml", func() bool { return e.hasDeploymentRecord(rel42) })
	e.settle()
	for _, state := range []string{"success", "failure", "error", "success"} {
		e.deliver("deployment_status", statusEvent(t, state, 9300, rel42))
	}
	e.settle()
	commits := strings.Fields(e.remoteGit("log", "--format=%H", "main", "--", "releases/"+rel42+"/deployment.yaml"))
	rec := e.remoteGit("show", "main:releases/"+rel42+"/deployment.yaml")
	if len(commits) != 1 || !strings.Contains(rec, "outcome: failed") {
		t.Errorf("%d commits; record:\n%s", len(commits), rec)
	}
}

// TestAdversaryReceiptEventsDoNotPile: deployment_status events the
// write-back can never record (a release that does not exist, an id with a
// space) are given up after their retries, not kept: maxDeployEvents such
// events would otherwise make the server refuse every deployment event
// after them with 503, including the protection rule requests of lawful
// deployments, which GitHub does not redeliver on its own.
func TestAdversaryReceiptEventsDoNotPile(t *testing.T) {
	e := newEnv(t, envOptions{src: deploySrc(t), now: inWindow42, realWriter: true})
	for i, rel := range []string{"REL-2026-9999", rel42 + " "} {
		e.deliver("deployment_status", advStatus(t, "failure", "production", int64(12000+i), map[string]any{"payload": map[string]any{"release": rel}}))
	}
	e.settle()
	// Past the last retry (20ms, 50ms in the harness).
	time.Sleep(300 * time.Millisecond)
	e.settle()
	e.srv.mu.Lock()
	left := len(e.srv.deployEvents)
	e.srv.mu.Unlock()
	if left != 0 {
		t.Errorf("%d deployment events kept after their work gave up (the bound is %d, then every deployment event is refused)", left, maxDeployEvents)
	}
}
