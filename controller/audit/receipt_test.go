package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/reconcile"
	"github.com/relgate/relgate/controller/writeback"
)

const (
	rel42        = "REL-2026-0042"
	deployment42 = "releases/REL-2026-0042/deployment.yaml"
)

// tested42 are the artifacts REL-2026-0042's test report tested.
var tested42 = []document.VersionRef{
	{Item: "payment-interface", Version: "3.2.0", Digest: "sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6"},
	{Item: "marketing-app-server", Version: "5.7.0", Digest: "sha256:9ea24af1be33fbbf6a5fdee7eb2121bb2d0bfb690f399c6faadf382206f5502d"},
}

// receiptEnv is the example's lawful history as it stood before
// REL-2026-0042 was deployed (0042 approved to go live, ready-to-deploy),
// published as a bare remote that the server's write-back pushes to.
type receiptEnv struct {
	r      *gitrepotest.Repo
	remote string
	w      *reconcile.Writer
}

func newReceiptEnv(t *testing.T) *receiptEnv {
	t.Helper()
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"deployment.yaml", "approvals/deployment-confirmation.huangli.yaml", "approvals/deployment-confirmation.lina.yaml"} {
		if err := os.Remove(filepath.Join(src, "releases", rel42, filepath.FromSlash(f))); err != nil {
			t.Fatal(err)
		}
	}
	r := gitrepotest.New(t)
	if err := gen.Replay(src, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	remote := filepath.Join(t.TempDir(), "releases.git")
	r.GitCLI("clone", "-q", "--bare", r.Dir, remote)
	mirrorDir := filepath.Join(t.TempDir(), "mirror")
	r.GitCLI("init", "-q", "--bare", mirrorDir)
	m, err := gitrepo.Open(mirrorDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	now := time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)
	return &receiptEnv{r: r, remote: remote, w: &reconcile.Writer{Mirror: m, Remote: remote,
		Options: reconcile.Options{Now: func() time.Time { return now }}}}
}

// record is the server's write-back of a receipt; then the work repository
// fetches what it pushed.
func (e *receiptEnv) record(t *testing.T, rc writeback.Receipt) error {
	t.Helper()
	err := e.w.RecordReceipt(context.Background(), "main", rc)
	e.r.GitCLI("pull", "-q", "--ff-only", e.remote, "main")
	return err
}

// decide logs the deployment gate's decision on forge deployment id, as the
// server does when it answers the protection rule.
func (e *receiptEnv) decide(t *testing.T, id int64, allowed bool, arts []document.VersionRef) {
	t.Helper()
	d := deploy.Decision{APIVersion: document.APIVersion, Kind: "DeploymentDecision", Release: rel42, Environment: "production",
		Allowed: allowed, Artifacts: arts, ArtifactsFrom: deploy.FromRequest, Revision: strings.Repeat("ab", 20)}
	if !allowed {
		d.Rules = []deploy.Rule{{ID: "window", Clause: "R-5.1.5", Message: "the window is over"}}
	}
	rec := writeback.DecisionRecord{Decision: d, At: time.Date(2026, 11, 14, 13, 0, 0, 0, time.UTC), Source: "github", DeploymentID: id}
	if err := e.w.RecordDecision(context.Background(), "main", rec); err != nil {
		t.Fatal(err)
	}
	e.r.GitCLI("pull", "-q", "--ff-only", e.remote, "main")
}

func receipt42(deployed []document.VersionRef, outcome string) writeback.Receipt {
	return writeback.Receipt{Release: rel42, Environment: "production", Outcome: outcome, Deployed: deployed,
		StartedAt: time.Date(2026, 11, 14, 13, 5, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 14, 15, 30, 0, 0, time.UTC),
		Source: document.ReceiptGitHubDeployment, Run: "https://github.com/grid-it/pay/actions/runs/812", DeploymentID: 812}
}

// status evaluates a release at HEAD as relgate status does: the policy in
// force, every document attributed to its commits.
func status(t *testing.T, r *gitrepotest.Repo, rel string) gate.Status {
	t.Helper()
	repo, ix, head := open(t, r)
	tree, err := repo.TreeAt(head, "")
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
	return st
}

func check(st gate.Status, name string) (gate.Check, bool) {
	g, _ := st.Gate("deployment-confirmation")
	for _, c := range g.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return gate.Check{}, false
}

func verifyAll(t *testing.T, r *gitrepotest.Repo) *audit.VerifyReport {
	t.Helper()
	repo, ix, head := open(t, r)
	rep, err := audit.Verify(repo, ix, head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func receiptCommits(r *gitrepotest.Repo) []string {
	return strings.Fields(r.GitCLI("log", "--format=%H", "--", deployment42))
}

// TestReceiptScenarios: the pipeline's report of a deployment becomes the
// release's deployment record through the bot's write-back, and is
// judged like any record: what it says was deployed is what was tested
// whoever reported it.
func TestReceiptScenarios(t *testing.T) {
	yes, no := true, false
	untested := []document.VersionRef{tested42[0], {Item: "marketing-app-server", Version: "5.7.0", Digest: "sha256:" + strings.Repeat("9", 64)}}
	for _, tc := range []struct {
		name     string
		decided  *bool // the gate's logged decision on deployment 812; nil = none
		asked    []document.VersionRef
		rc       writeback.Receipt
		failed   []string // the deployment-confirmation checks that fail in status
		violates string   // in a violation of audit verify at the receipt's commit; "" = verify passes
	}{
		{name: "lawful: allowed, the tested artifacts deployed, the bot's commit on main",
			decided: &yes, asked: tested42, rc: receipt42(tested42, document.OutcomeSucceeded)},
		{name: "lawful: allowed, the deployment failed; the rollback is left for people to complete",
			decided: &yes, asked: tested42, rc: receipt42(tested42[:1], document.OutcomeFailed), failed: []string{gate.CheckRollbackCarriedOut}},
		{name: "attack R-3.1: refused for an untested digest, the pipeline deployed it anyway",
			decided: &no, asked: untested, rc: receipt42(untested, document.OutcomeSucceeded),
			failed: []string{"deployed-as-tested", "deployed-complete", gate.CheckDeployedAsAllowed}, violates: "(R-3.1)"},
		{name: "attack R-3.1: refused (window over), the pipeline deployed the tested artifacts anyway",
			decided: &no, asked: tested42, rc: receipt42(tested42, document.OutcomeSucceeded),
			failed: []string{gate.CheckDeployedAsAllowed}, violates: "never allowed deployment 812"},
		{name: "attack R-3.1: a deployment the gate never saw reports success with the tested artifacts",
			rc: receipt42(tested42, document.OutcomeSucceeded), failed: []string{gate.CheckDeployedAsAllowed}, violates: "never allowed deployment 812"},
		{name: "attack R-3.1: allowed for the tested artifacts, another digest reported deployed",
			decided: &yes, asked: tested42, rc: receipt42(untested, document.OutcomeSucceeded),
			failed: []string{"deployed-as-tested", "deployed-complete", gate.CheckDeployedAsAllowed}, violates: "allowed for other artifacts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newReceiptEnv(t)
			if tc.decided != nil {
				e.decide(t, 812, *tc.decided, tc.asked)
			}
			if err := e.record(t, tc.rc); err != nil {
				t.Fatal(err)
			}
			// Recorded as it happened, by the bot, once.
			cs := receiptCommits(e.r)
			if len(cs) != 1 {
				t.Fatalf("%d commits write %s, want 1", len(cs), deployment42)
			}
			if a := strings.TrimSpace(e.r.GitCLI("log", "-1", "--format=%ae", cs[0])); a != "relgate-bot@grid-it.example.cn" {
				t.Errorf("the receipt was committed by %s, not the bot", a)
			}
			st := status(t, e.r, rel42)
			if st.State != gate.StateDeployed {
				t.Errorf("state %s, want %s", st.State, gate.StateDeployed)
			}
			if c, ok := check(st, gate.CheckReceiptAuthentic); !ok || !c.OK {
				t.Errorf("receipt-authentic: %+v (made %v)", c, ok)
			}
			g, _ := st.Gate("deployment-confirmation")
			for _, c := range g.Checks {
				if want := slices.Contains(tc.failed, c.Name); c.OK == want && c.Name != "deployment.yaml" {
					t.Errorf("status: %s ok %v, want %v: %s", c.Name, c.OK, !want, c.Message)
				}
			}
			for _, name := range tc.failed {
				if _, ok := check(st, name); !ok {
					t.Errorf("status makes no check %s", name)
				}
			}
			rep := verifyAll(t, e.r)
			var at []audit.Violation
			for _, v := range rep.Violations {
				if v.Commit != cs[0] {
					t.Errorf("violation at another commit %.12s: %s: %s", v.Commit, v.Rule, v.Message)
					continue
				}
				at = append(at, v)
			}
			if tc.violates == "" {
				for _, v := range at {
					t.Errorf("violation: %s: %s", v.Rule, v.Message)
				}
				return
			}
			found := false
			for _, v := range at {
				found = found || v.Release == rel42 && (strings.Contains(v.Message, tc.violates) || v.Clause == strings.Trim(tc.violates, "()"))
			}
			if !found {
				t.Errorf("no violation %q of %s at the receipt's commit: %+v", tc.violates, rel42, rep.Violations)
			}
		})
	}
}

// TestReceiptOnce: attack and replays: the same receipt delivered
// twice (a redelivered webhook, a second replica) is one commit; a different
// receipt for the same release is an error and the record stays as written.
func TestReceiptOnce(t *testing.T) {
	e := newReceiptEnv(t)
	e.decide(t, 812, true, tested42)
	rc := receipt42(tested42, document.OutcomeSucceeded)
	if err := e.record(t, rc); err != nil {
		t.Fatal(err)
	}
	// What the receipt makes due (the release report) is written by the
	// next run; after it nothing is due.
	if err := e.w.Reconcile(context.Background(), "main"); err != nil {
		t.Fatal(err)
	}
	e.r.GitCLI("pull", "-q", "--ff-only", e.remote, "main")
	tip := strings.TrimSpace(e.r.GitCLI("rev-parse", "HEAD"))
	written := e.r.Read(deployment42)
	if err := e.record(t, rc); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if now := strings.TrimSpace(e.r.GitCLI("rev-parse", "HEAD")); now != tip {
		t.Errorf("the replay moved main from %.12s to %.12s:\n%s", tip, now, e.r.GitCLI("log", "--stat", tip+".."+now))
	}
	other := receipt42(tested42[:1], document.OutcomeRolledBack)
	other.Run, other.DeploymentID = "https://github.com/grid-it/pay/actions/runs/813", 813
	if err := e.record(t, other); !errors.Is(err, writeback.ErrRecordExists) {
		t.Errorf("a different receipt: %v, want ErrRecordExists", err)
	}
	if e.r.Read(deployment42) != written || len(receiptCommits(e.r)) != 1 {
		t.Errorf("the record was overwritten")
	}
}

// TestReceiptInBotsNameByAPerson: attack: a person pushes a
// deployment record in the bot's name, as if the pipeline had reported it;
// audit verify finds it (receipt-authentic), and status shows the check
// failed.
func TestReceiptInBotsNameByAPerson(t *testing.T) {
	e := newReceiptEnv(t)
	e.decide(t, 812, true, tested42)
	pol := policyAtHead(t, e.r)
	content, err := writeback.ReceiptContent(pol, receipt42(tested42, document.OutcomeSucceeded))
	if err != nil {
		t.Fatal(err)
	}
	e.r.Write(deployment42, string(content))
	forged := e.r.Commit("REL-2026-0042: record the succeeded deployment to production from the pipeline's report", who("sunlei"))
	if c, ok := check(status(t, e.r, rel42), gate.CheckReceiptAuthentic); !ok || c.OK {
		t.Errorf("receipt-authentic in status: %+v (made %v), want failed", c, ok)
	}
	found := false
	for _, v := range verifyAll(t, e.r).Violations {
		found = found || v.Commit == forged && strings.Contains(v.Message, "no authenticated commit of the bot")
	}
	if !found {
		t.Errorf("audit verify does not report the forged receipt at %.12s", forged)
	}
}

func policyAtHead(t *testing.T, r *gitrepotest.Repo) *policy.Policy {
	t.Helper()
	repo, ix, head := open(t, r)
	pol, _, err := engine.PolicyInForce(repo, "", ix, head)
	if err != nil {
		t.Fatal(err)
	}
	return pol
}
