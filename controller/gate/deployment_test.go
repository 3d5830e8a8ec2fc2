package gate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

func digestOf(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// Versions of the deployment tests' release: it updates app-a, adds app-b
// and retires app-old.
var (
	appA = document.VersionRef{Item: "app-a", Version: "2.0.0", Digest: digestOf('a')}
	appB = document.VersionRef{Item: "app-b", Version: "1.0.0", Digest: digestOf('b')}
)

func deploymentPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.New(&document.Policy{
		People:      []document.Person{{Login: "owner"}, {Login: "head1"}, {Login: "mgr"}, {Login: "tester"}, {Login: "cust"}, {Login: "impl"}},
		Departments: []document.Department{{ID: "d1", Head: "head1"}},
		Roles: map[string][]string{"release-owner": {"owner"}, "release-manager": {"mgr"}, "release-tester": {"tester"},
			"customer-representative": {"cust"}, "implementer": {"impl"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// deployedRelease is a release that passed every gate up to deployment,
// with the given deployment record.
func deployedRelease(d *document.Deployment) *loader.Release {
	const id = "REL-2026-0001"
	d.Release, d.RecordedBy = id, "impl"
	var results []document.TestResult
	for _, c := range document.TestCategories {
		results = append(results, document.TestResult{Category: c, Verdict: "pass"})
	}
	files := map[string]*loader.Doc{}
	for _, f := range []string{"release.yaml", "plan.yaml", "test-report.yaml", "golive.yaml", "communication.yaml", "deployment.yaml"} {
		files[f] = &loader.Doc{Value: 1}
	}
	return &loader.Release{ID: id,
		Release: &document.Release{ID: id, Departments: []string{"d1"}, Changes: []document.ChangeRef{{ID: "CHG-2026-0001"}},
			Items: []document.Item{
				{ID: appA.Item, Action: "update", Version: appA.Version, Digest: appA.Digest},
				{ID: appB.Item, Action: "add", Version: appB.Version, Digest: appB.Digest},
				{ID: "app-old", Action: "retire"},
			},
			People: document.ReleasePeople{Owner: "owner", Manager: "mgr", Testers: []string{"tester"}, Implementers: []string{"impl"}, CustomerRepresentative: "cust"},
			Window: document.Period{Start: "2026-12-01T22:00:00+08:00", End: "2026-12-02T02:00:00+08:00"}},
		Plan:          &document.Plan{Author: "mgr"},
		TestReport:    &document.TestReport{Release: id, Author: "tester", Artifacts: []document.VersionRef{appA, appB}, Results: results, Verdict: "pass"},
		GoLive:        &document.GoLive{Release: id, Author: "mgr", RolloutMode: "all-at-once"},
		Communication: &document.Communication{Release: id, Author: "mgr", Responsibilities: []document.Responsibility{{Person: "impl", Responsibility: "deploy", Acknowledged: true}}},
		Deployment:    d,
		Files:         files,
	}
}

// confirmations are genuine approvals of every gate up to and including
// deployment-confirmation, by the people the release names.
func confirmations(d string) map[string][]gate.Vote {
	return map[string][]gate.Vote{
		"plan-review":             {vote("head1", "department-head", d), vote("owner", "release-owner", d)},
		"test-acceptance":         {vote("cust", "customer-representative", d)},
		"go-live-approval":        {vote("owner", "release-owner", d)},
		"deployment-confirmation": {vote("mgr", "release-manager", d), vote("cust", "customer-representative", d)},
	}
}

var rollbackDone = &document.RollbackRecord{Executed: true, SurroundingSystemsNotified: true, NotifiedSystems: []string{"billing"}}

// TestDeploymentRecord: with every confirmation given, a deployment record
// reaches confirmed only when it says truthfully that what reached production
// was tested and, if it succeeded, that all of the release was deployed
//
func TestDeploymentRecord(t *testing.T) {
	untested := document.VersionRef{Item: "app-a", Version: "9.9.9", Digest: digestOf('9')}
	tests := []struct {
		name    string
		record  document.Deployment
		change  func(r *loader.Release)
		state   string
		failing []string // names of the deployment-confirmation checks that fail
		want    []string // substrings of their messages
	}{
		{name: "R-5.1.8 lawful: a succeeded record lists every item at its tested version",
			record: document.Deployment{Outcome: "succeeded", Deployed: []document.VersionRef{appB, appA}},
			state:  gate.StateConfirmed},
		{name: "R-5.1.2 lawful: rolled back after deploying exactly the tested versions, rollback executed",
			record: document.Deployment{Outcome: "rolled-back", Deployed: []document.VersionRef{appA, appB}, Rollback: rollbackDone},
			state:  gate.StateConfirmed},
		{name: "R-5.1.2 lawful: failed partway, the part deployed was tested, rollback executed",
			record: document.Deployment{Outcome: "failed", Deployed: []document.VersionRef{appA}, Rollback: rollbackDone},
			state:  gate.StateConfirmed},
		{name: "R-5.1.2 lawful: failed before anything was installed",
			record: document.Deployment{Outcome: "failed", Deployed: []document.VersionRef{}, Rollback: rollbackDone},
			state:  gate.StateConfirmed},
		{name: "R-5.1.8 lawful: a release that only retires items succeeds with nothing deployed",
			record: document.Deployment{Outcome: "succeeded", Deployed: []document.VersionRef{}},
			change: func(r *loader.Release) {
				r.Release.Items = r.Release.Items[2:]
				r.TestReport.Artifacts = nil
			},
			state: gate.StateConfirmed},
		{name: "attack R-3.1: rolled back after deploying an untested 9.9.9 with a wrong digest",
			record:  document.Deployment{Outcome: "rolled-back", Deployed: []document.VersionRef{untested, appB}, Rollback: rollbackDone},
			state:   gate.StateDeployed,
			failing: []string{"deployed-as-tested", "deployed-complete"},
			want:    []string{"app-a 9.9.9 (tested: 2.0.0)", "R-3.1 violation whatever the outcome", "release.yaml does not install at that version and digest: app-a 9.9.9"}},
		{name: "attack R-3.1: failed after deploying the tested version with another digest",
			record:  document.Deployment{Outcome: "failed", Deployed: []document.VersionRef{{Item: "app-a", Version: "2.0.0", Digest: digestOf('c')}}, Rollback: rollbackDone},
			state:   gate.StateDeployed,
			failing: []string{"deployed-as-tested", "deployed-complete"},
			want:    []string{"app-a 2.0.0 with digest " + digestOf('c') + ", but the tested digest is " + digestOf('a')}},
		{name: "attack R-3.1: succeeded with the tested version but another digest",
			record:  document.Deployment{Outcome: "succeeded", Deployed: []document.VersionRef{{Item: "app-a", Version: "2.0.0", Digest: digestOf('c')}, appB}},
			state:   gate.StateDeployed,
			failing: []string{"deployed-as-tested", "deployed-complete"},
			want:    []string{"but the tested digest is " + digestOf('a')}},
		{name: "attack R-5.1.8: succeeded with nothing deployed (reconcile would update no CMDB item)",
			record:  document.Deployment{Outcome: "succeeded", Deployed: []document.VersionRef{}},
			state:   gate.StateDeployed,
			failing: []string{"deployed-complete"},
			want:    []string{"outcome succeeded but deployed is empty", "app-a 2.0.0, app-b 1.0.0", "or record outcome failed or rolled-back"}},
		{name: "attack R-5.1.8: succeeded with only one of the release's two items",
			record:  document.Deployment{Outcome: "succeeded", Deployed: []document.VersionRef{appA}},
			state:   gate.StateDeployed,
			failing: []string{"deployed-complete"},
			want:    []string{"outcome succeeded but deployed does not list app-b 1.0.0"}},
		{name: "attack R-3.1: a tested artifact the release does not install reaches production",
			record: document.Deployment{Outcome: "failed", Deployed: []document.VersionRef{{Item: "app-c", Version: "0.1.0"}}, Rollback: rollbackDone},
			change: func(r *loader.Release) {
				r.TestReport.Artifacts = append(r.TestReport.Artifacts, document.VersionRef{Item: "app-c", Version: "0.1.0"})
			},
			state:   gate.StateDeployed,
			failing: []string{"deployed-complete"},
			want:    []string{"release.yaml does not install at that version and digest: app-c 0.1.0"}},
		{name: "attack R-3.1: deployed entries but no test report",
			record: document.Deployment{Outcome: "rolled-back", Deployed: []document.VersionRef{appA}, Rollback: rollbackDone},
			change: func(r *loader.Release) {
				r.TestReport = nil
				r.Files["test-report.yaml"] = &loader.Doc{}
			},
			state:   gate.StateTesting,
			failing: []string{"deployed-as-tested"},
			want:    []string{"the release has no test report"}},
		{name: "attack R-5.1.8: release.yaml unreadable, the record cannot be checked",
			record: document.Deployment{Outcome: "succeeded", Deployed: []document.VersionRef{appA, appB}},
			change: func(r *loader.Release) {
				r.Release = nil
				r.Files["release.yaml"] = &loader.Doc{}
			},
			state:   gate.StatePlanReview,
			failing: []string{"deployed-complete"},
			want:    []string{"release.yaml is missing or invalid"}},
		{name: "R-5.1.2 rolled back without the rollback carried out",
			record:  document.Deployment{Outcome: "rolled-back", Deployed: []document.VersionRef{appA, appB}, Rollback: &document.RollbackRecord{Executed: true}},
			state:   gate.StateDeployed,
			failing: []string{"rollback-carried-out"},
			want:    []string{"rollback.surroundingSystemsNotified"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const d = "sha256:current"
			rec := tc.record
			rel := deployedRelease(&rec)
			if tc.change != nil {
				tc.change(rel)
			}
			digests := map[string]string{}
			for _, g := range []string{"plan-review", "test-acceptance", "go-live-approval", "deployment-confirmation", "closure"} {
				digests[g] = d
			}
			st, err := gate.Evaluate(gate.Input{Policy: deploymentPolicy(t), Release: rel, Lookup: lookup{}, Digests: digests, Votes: confirmations(d)})
			if err != nil {
				t.Fatal(err)
			}
			g, _ := st.Gate("deployment-confirmation")
			var failing, messages []string
			for _, c := range g.Checks {
				if !c.OK {
					failing = append(failing, c.Name)
					messages = append(messages, c.Message)
				}
			}
			if diff := cmp.Diff(tc.failing, failing); diff != "" {
				t.Errorf("failing checks (-want +got):\n%s\nmessages: %q", diff, messages)
			}
			all := strings.Join(messages, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("messages lack %q:\n%s", w, all)
				}
			}
			for _, q := range g.Requirements {
				if q.Missing > 0 {
					t.Errorf("the confirmations do not count: %+v; ignored %+v", q, g.Ignored)
				}
			}
			if st.State != tc.state {
				t.Errorf("state %s, want %s; missing %q", st.State, tc.state, g.Missing())
			}
		})
	}
}

// TestRecordChecks: every check RecordChecks names is a check the
// deployment-confirmation gate makes of a failed deployment's record, so the
// pull-request evaluation that filters by these names misses none.
func TestRecordChecks(t *testing.T) {
	rec := document.Deployment{Outcome: "rolled-back", Deployed: []document.VersionRef{appA}, Rollback: rollbackDone}
	st, err := gate.Evaluate(gate.Input{Policy: deploymentPolicy(t), Release: deployedRelease(&rec), Lookup: lookup{}})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := st.Gate("deployment-confirmation")
	for _, name := range gate.RecordChecks {
		if !slices.ContainsFunc(g.Checks, func(c gate.Check) bool { return c.Name == name }) {
			t.Errorf("deployment-confirmation makes no check %q; checks: %+v", name, g.Checks)
		}
	}
}
