package gate_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// calPolicy has a weekly maintenance window for the scada system (Saturday
// 22:00 for 6 hours, Asia/Shanghai, from 2027-01-01), a freeze of scada in
// National Day week and a global blackout at the Spring Festival.
func calPolicy(t *testing.T, edit func(*document.Policy)) *policy.Policy {
	t.Helper()
	p := &document.Policy{
		People:      []document.Person{{Login: "owner"}, {Login: "head1"}, {Login: "mgr"}, {Login: "gm"}, {Login: "duty"}, {Login: "cust"}, {Login: "tester"}},
		Departments: []document.Department{{ID: "d1", Head: "head1"}},
		Roles: map[string][]string{"release-owner": {"owner"}, "release-manager": {"mgr"}, "process-approver": {"gm"},
			"on-duty-manager": {"duty"}, "customer-representative": {"cust"}, "release-tester": {"tester"}},
		MaintenanceWindows: []document.MaintenanceWindow{{Name: "scada-weekly", Systems: []string{"scada"},
			Weekly: &document.WeeklyRecurrence{Days: []string{"sat"}, Start: "22:00"}, Duration: "6h", From: "2027-01-01"}},
		Freezes: []document.Freeze{{Name: "国庆保电", Reason: "national day", Systems: []string{"scada"},
			Start: "2027-10-01T00:00:00+08:00", End: "2027-10-08T00:00:00+08:00"}},
		BlackoutWindows: []document.Window{{Name: "春节", Start: "2027-02-05T00:00:00+08:00", End: "2027-02-12T00:00:00+08:00"}},
	}
	if edit != nil {
		edit(p)
	}
	pol, err := policy.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// liveRelease is a release with everything its go-live approval looks at,
// on the given systems and items, in [start, end).
func liveRelease(id string, systems, items []string, start, end string) *loader.Release {
	var its []document.Item
	for _, i := range items {
		its = append(its, document.Item{ID: i, Action: "update", Version: "1.0.0"})
	}
	return &loader.Release{ID: id,
		Release: &document.Release{ID: id, Type: "normal", Systems: systems, Items: its, Departments: []string{"d1"},
			Changes: []document.ChangeRef{{ID: "CHG-2027-0001"}},
			People:  document.ReleasePeople{Owner: "owner", Manager: "mgr", CustomerRepresentative: "cust", Testers: []string{"tester"}},
			Window:  document.Period{Start: start, End: end}},
		Plan:          &document.Plan{Author: "writer"},
		TestReport:    passingReport(items),
		GoLive:        &document.GoLive{Author: "writer", RolloutMode: "all-at-once"},
		Communication: &document.Communication{Author: "writer", Responsibilities: []document.Responsibility{{Person: "mgr", Acknowledged: true}}},
		Files: map[string]*loader.Doc{"release.yaml": {Value: 1}, "plan.yaml": {Value: 1}, "golive.yaml": {Value: 1},
			"communication.yaml": {Value: 1}, "test-report.yaml": {Value: 1}}}
}

// passingReport is a test report that passes every category of.
func passingReport(items []string) *document.TestReport {
	tr := &document.TestReport{Author: "tester", Verdict: "pass"}
	for _, c := range document.TestCategories {
		tr.Results = append(tr.Results, document.TestResult{Category: c, Verdict: "pass"})
	}
	for _, i := range items {
		tr.Artifacts = append(tr.Artifacts, document.VersionRef{Item: i, Version: "1.0.0"})
	}
	return tr
}

type bookings []loader.Booking

func (b bookings) Bookings() ([]loader.Booking, error) { return b, nil }

// goLive evaluates the release's go-live approval with the votes given
// (the gates before it are not the point: their approvals are supplied).
func goLive(t *testing.T, pol *policy.Policy, rel *loader.Release, others bookings, mergeAt time.Time, voters ...string) gate.Result {
	t.Helper()
	st := evaluateAll(t, pol, rel, others, mergeAt, map[string][]string{
		"plan-review": {"head1:department-head", "owner:release-owner"}, "test-acceptance": {"cust:customer-representative"},
		"go-live-approval": voters})
	g, _ := st.Gate("go-live-approval")
	return g
}

func evaluateAll(t *testing.T, pol *policy.Policy, rel *loader.Release, others bookings, mergeAt time.Time, votes map[string][]string) gate.Status {
	t.Helper()
	in := gate.Input{Policy: pol, Release: rel, Lookup: lookup{}, Digests: map[string]string{}, Votes: map[string][]gate.Vote{},
		Bookings: others, MergeAt: mergeAt}
	for _, g := range pol.Gates() {
		in.Digests[g.ID] = "sha256:" + g.ID
	}
	for g, vs := range votes {
		for _, v := range vs {
			person, role, _ := strings.Cut(v, ":")
			in.Votes[g] = append(in.Votes[g], vote(person, role, "sha256:"+g))
		}
	}
	st, err := gate.Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func conflictsOf(g gate.Result) []string {
	var out []string
	for _, c := range g.Checks {
		if c.Name == gate.ConflictCheck || c.Name == gate.FreezeAtMergeCheck {
			out = append(out, c.Message)
		}
	}
	return out
}

func rolesOf(g gate.Result) []string {
	var out []string
	for _, q := range g.Requirements {
		out = append(out, q.Role)
	}
	return out
}

// TestCalendarConflicts: each conflict of a release window with the change
// calendar needs the exception approver's approval of the go-live, bound to
// its digest; the everyday release inside its maintenance window needs
// nothing more.
func TestCalendarConflicts(t *testing.T) {
	const (
		satIn  = "2027-03-06T22:00:00+08:00" // a Saturday, inside scada-weekly
		satOut = "2027-03-07T03:00:00+08:00" // inside too, until 04:00
	)
	merge := time.Date(2027, 10, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name     string
		edit     func(*document.Policy)
		rel      *loader.Release
		others   bookings
		mergeAt  time.Time
		conflict string // a word of the conflict's message; "" for none
	}{
		{name: "lawful R-5.1.5: inside the system's maintenance window",
			rel: liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, satIn, satOut)},
		{name: "lawful R-5.1.5: a system no window names is not restricted",
			rel: liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00")},
		{name: "lawful R-5.1.5: a window planned before the maintenance windows began",
			rel: liveRelease("REL-2026-0001", []string{"scada"}, []string{"fe"}, "2026-12-08T10:00:00+08:00", "2026-12-08T12:00:00+08:00")},
		{name: "attack R-5.1.5: a Monday window for a system changed only on Saturday nights",
			rel:      liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00"),
			conflict: "outside every maintenance window of system scada (scada-weekly)"},
		{name: "attack R-5.1.5: a window that runs past the maintenance window's end",
			rel:      liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, satIn, "2027-03-07T05:00:00+08:00"),
			conflict: "outside every maintenance window"},
		{name: "attack R-5.1.6: inside a freeze of its system",
			rel:      liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, "2027-10-02T22:00:00+08:00", "2027-10-03T02:00:00+08:00"),
			conflict: "freeze 国庆保电: national day"},
		{name: "lawful R-5.1.6: another system's freeze does not stop it",
			rel: liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-10-02T22:00:00+08:00", "2027-10-03T02:00:00+08:00")},
		{name: "attack R-5.1.6: inside a blackout window, which freezes every system",
			rel:      liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-02-06T22:00:00+08:00", "2027-02-07T02:00:00+08:00"),
			conflict: "blackout window 春节"},
		{name: "attack R-5.1.6: a go-live approval merged during a freeze, for a window after it",
			rel:      liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, "2027-10-09T22:00:00+08:00", "2027-10-10T02:00:00+08:00"),
			mergeAt:  merge,
			conflict: "would merge during freeze 国庆保电"},
		{name: "lawful R-5.1.6: merged outside the freeze",
			rel:     liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, "2027-10-09T22:00:00+08:00", "2027-10-10T02:00:00+08:00"),
			mergeAt: merge.Add(7 * 24 * time.Hour)},
		{name: "attack R-5.1.5: overlaps another release on the same system",
			rel:      liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00"),
			others:   bookings{{Release: "REL-2027-0002", Systems: []string{"oms"}, Items: []string{"db"}, Start: "2027-03-08T11:00:00+08:00", End: "2027-03-08T13:00:00+08:00"}},
			conflict: "overlaps release REL-2027-0002"},
		{name: "attack R-5.1.5: overlaps another release on the same CMDB item",
			rel:      liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00"),
			others:   bookings{{Release: "REL-2027-0002", Systems: []string{"crm"}, Items: []string{"fe"}, Start: "2027-03-08T09:00:00+08:00", End: "2027-03-08T10:30:00+08:00"}},
			conflict: "on CMDB item fe"},
		{name: "lawful R-5.1.5: back to back on one system (windows are half-open)",
			rel:    liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00"),
			others: bookings{{Release: "REL-2027-0002", Systems: []string{"oms"}, Items: []string{"fe"}, Start: "2027-03-08T12:00:00+08:00", End: "2027-03-08T13:00:00+08:00"}}},
		{name: "lawful R-5.1.5: the same time on other systems and items",
			rel:    liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00"),
			others: bookings{{Release: "REL-2027-0002", Systems: []string{"crm"}, Items: []string{"db"}, Start: "2027-03-08T10:00:00+08:00", End: "2027-03-08T12:00:00+08:00"}}},
		{name: "fail closed: another release that cannot be read may overlap",
			rel:      liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00"),
			others:   bookings{{Release: "REL-2027-0002", Problem: "its release.yaml is invalid"}},
			conflict: "REL-2027-0002 may overlap the window"},
		{name: "fail closed: a window that cannot be read",
			rel:      liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T12:00:00+08:00", "2027-03-08T10:00:00+08:00"),
			conflict: "cannot be read"},
		{name: "fail closed: a freeze whose times cannot be read freezes all time",
			edit: func(p *document.Policy) {
				p.Freezes = append(p.Freezes, document.Freeze{Name: "broken", Reason: "x", Start: "soon", End: "later"})
			},
			rel:      liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00"),
			conflict: "freeze broken, whose times cannot be read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := calPolicy(t, tc.edit)
			g := goLive(t, pol, tc.rel, tc.others, tc.mergeAt, "owner:release-owner")
			got := conflictsOf(g)
			if tc.conflict == "" {
				if len(got) > 0 || !g.Passed || !slices.Equal(rolesOf(g), []string{"release-owner"}) {
					t.Fatalf("want no conflict and the go-live passed by the owner; conflicts %q, passed %v, roles %v, missing %v", got, g.Passed, rolesOf(g), g.Missing())
				}
				return
			}
			if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), tc.conflict) {
				t.Fatalf("conflicts %q, want one saying %q", got, tc.conflict)
			}
			if g.Passed || !slices.Equal(rolesOf(g), []string{"release-owner", "process-approver"}) {
				t.Fatalf("without the exception: passed %v, roles %v; want blocked on the process approver", g.Passed, rolesOf(g))
			}
			// The exception approved: the go-live passes.
			g = goLive(t, pol, tc.rel, tc.others, tc.mergeAt, "owner:release-owner", "gm:process-approver")
			if !g.Passed {
				t.Fatalf("with the process approver's exception the go-live passes; missing %v", g.Missing())
			}
		})
	}
}

// TestCalendarExceptionRole: the policy names who approves exceptions; a
// process approver's approval then does not count for it.
func TestCalendarExceptionRole(t *testing.T) {
	pol := calPolicy(t, func(p *document.Policy) { p.ExceptionRole = "on-duty-manager" })
	rel := liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00")
	g := goLive(t, pol, rel, nil, time.Time{}, "owner:release-owner", "gm:process-approver")
	if g.Passed || !slices.Equal(rolesOf(g), []string{"release-owner", "on-duty-manager"}) {
		t.Fatalf("passed %v roles %v; want blocked on the on-duty manager", g.Passed, rolesOf(g))
	}
	if g = goLive(t, pol, rel, nil, time.Time{}, "owner:release-owner", "duty:on-duty-manager"); !g.Passed {
		t.Fatalf("the on-duty manager's exception: missing %v", g.Missing())
	}
}

// TestCalendarDoesNotReopenDeployedReleases: a freeze added after a release
// was deployed does not send it back in a status; a change that gives its
// go-live approval again (MergeAt set) is judged against it.
func TestCalendarDoesNotReopenDeployedReleases(t *testing.T) {
	pol := calPolicy(t, nil)
	rel := liveRelease("REL-2027-0001", []string{"scada"}, []string{"fe"}, "2027-10-02T22:00:00+08:00", "2027-10-03T02:00:00+08:00")
	rel.Deployment = &document.Deployment{Outcome: "succeeded", FinishedAt: "2027-10-03T01:00:00+08:00"}
	rel.Files["deployment.yaml"] = &loader.Doc{Value: 1}
	if g := goLive(t, pol, rel, nil, time.Time{}, "owner:release-owner"); !g.Passed || len(conflictsOf(g)) > 0 {
		t.Fatalf("status of a deployed release: passed %v, conflicts %q", g.Passed, conflictsOf(g))
	}
	if g := goLive(t, pol, rel, nil, time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC), "owner:release-owner"); g.Passed {
		t.Fatal("a change giving the go-live again is judged against the freeze")
	}
}

func stdPolicy(t *testing.T) *policy.Policy {
	return calPolicy(t, func(p *document.Policy) {
		p.MaintenanceWindows, p.Freezes, p.BlackoutWindows = nil, nil, nil
		p.ReleaseTypes = []string{"normal", "standard", "emergency"}
		p.TypeRules = map[string]document.TypeRule{
			"standard":  {Kind: "standard", Waive: []string{"test-acceptance"}, Requires: map[string][]document.Requirement{"go-live-approval": {{Role: "release-manager", Count: 1}}}},
			"emergency": {Kind: "emergency", Approver: "on-duty-manager", RetrospectiveDays: 3},
		}
	})
}

type changes map[string]*document.Change

func (c changes) Change(id string) (*document.Change, bool, error) {
	ch, ok := c[id]
	return ch, ok, nil
}
func (changes) CMDBItem(string) (*document.CMDBItem, bool, error) { return nil, false, nil }

// TestStandardRelease: a standard release citing an approved standard
// change skips the gates its rule waives and needs the approvals its rule
// names; one citing none follows the whole procedure and is told why.
func TestStandardRelease(t *testing.T) {
	pol := stdPolicy(t)
	for _, tc := range []struct {
		name       string
		changeType string
		want       []string // passed gates
		roles      []string // go-live requirements
		check      string
	}{
		{"lawful R-9: cites a standard change", "standard", []string{"plan-review", "test-acceptance", "go-live-approval"}, []string{"release-manager"}, "waived"},
		{"attack R-9: cites a normal change", "normal", nil, []string{"release-owner"}, "standard-change"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := liveRelease("REL-2027-0001", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00")
			rel.Release.Type = "standard"
			rel.TestReport = &document.TestReport{Author: "nobody"} // not a tester, failing: only a waiver passes it
			in := gate.Input{Policy: pol, Release: rel, Digests: map[string]string{}, Votes: map[string][]gate.Vote{},
				Lookup: changes{"CHG-2027-0001": {ID: "CHG-2027-0001", Type: tc.changeType, Status: "approved"}}}
			for _, g := range pol.Gates() {
				in.Digests[g.ID] = "sha256:" + g.ID
			}
			in.Votes["plan-review"] = []gate.Vote{vote("head1", "department-head", "sha256:plan-review"), vote("owner", "release-owner", "sha256:plan-review")}
			in.Votes["go-live-approval"] = []gate.Vote{vote("mgr", "release-manager", "sha256:go-live-approval")}
			st, err := gate.Evaluate(in)
			if err != nil {
				t.Fatal(err)
			}
			var passed []string
			for _, g := range st.Gates {
				if g.Passed && g.Gate != "closure" && g.Gate != "deployment-confirmation" {
					passed = append(passed, g.Gate)
				}
			}
			if diff := cmp.Diff(tc.want, passed); diff != "" {
				t.Errorf("passed gates (-want +got):\n%s", diff)
			}
			g, _ := st.Gate("go-live-approval")
			if diff := cmp.Diff(tc.roles, rolesOf(g)); diff != "" {
				t.Errorf("go-live requirements (-want +got):\n%s", diff)
			}
			found := false
			for _, g := range st.Gates {
				for _, c := range g.Checks {
					found = found || c.Name == tc.check
				}
			}
			if !found {
				t.Errorf("no %s check", tc.check)
			}
		})
	}
}

// TestEmergencyRelease: an emergency release goes live on one approval of
// the on-duty manager; its plan review and test acceptance are due three
// days after the deployment, overdue after that, and closure waits for
// them.
func TestEmergencyRelease(t *testing.T) {
	pol := stdPolicy(t)
	mk := func() *loader.Release {
		rel := liveRelease("REL-2027-0009", []string{"oms"}, []string{"fe"}, "2027-03-08T10:00:00+08:00", "2027-03-08T12:00:00+08:00")
		rel.Release.Type = "emergency"
		rel.Plan, rel.TestReport = nil, nil
		delete(rel.Files, "plan.yaml")
		delete(rel.Files, "test-report.yaml")
		return rel
	}
	eval := func(rel *loader.Release, votes map[string][]gate.Vote) gate.Status {
		in := gate.Input{Policy: pol, Release: rel, Lookup: lookup{}, Digests: map[string]string{}, Votes: votes}
		for _, g := range pol.Gates() {
			in.Digests[g.ID] = "sha256:" + g.ID
		}
		st, err := gate.Evaluate(in)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	duty := map[string][]gate.Vote{"go-live-approval": {vote("duty", "on-duty-manager", "sha256:go-live-approval")}}

	st := eval(mk(), duty)
	if st.State != gate.StateReadyToDeploy || len(st.Violations) > 0 {
		t.Fatalf("lawful: on the on-duty manager's approval the release is ready to deploy; state %s, violations %v", st.State, st.Violations)
	}
	if got := st.Retrospectives; len(got) != 2 || got[0].Gate != "plan-review" || got[1].Gate != "test-acceptance" || got[0].Due != "" {
		t.Fatalf("retrospectives before the deployment: %+v", got)
	}

	// Deployed on 2027-03-08 at 11:00: due on 2027-03-11 at 11:00.
	rel := mk()
	rel.Deployment = &document.Deployment{Outcome: "succeeded", FinishedAt: "2027-03-08T11:00:00+08:00"}
	rel.Files["deployment.yaml"] = &loader.Doc{Value: 1}
	st = eval(rel, duty)
	if st.State != gate.StateDeployed || len(st.Violations) > 0 {
		t.Fatalf("deployed: state %s, violations %v", st.State, st.Violations)
	}
	due := time.Date(2027, 3, 11, 11, 0, 0, 0, time.FixedZone("CST", 8*3600))
	if got := st.OverdueRetrospectives(due.Add(-time.Minute)); len(got) != 0 {
		t.Errorf("on time: overdue %+v", got)
	}
	if got := st.OverdueRetrospectives(due); len(got) != 2 {
		t.Errorf("at the due time both are overdue: %+v", got)
	}
	if at := st.At(due.Add(-time.Minute)); at.Retrospectives[0].Overdue || at.Retrospectives[1].Overdue {
		t.Errorf("on time, At marks none overdue: %+v", at.Retrospectives)
	}
	if at := st.At(due); !at.Retrospectives[0].Overdue || !at.Retrospectives[1].Overdue || st.Retrospectives[0].Overdue {
		t.Errorf("At marks both overdue at the due time without changing the status it was given: %+v, %+v", at.Retrospectives, st.Retrospectives)
	}
	tested := func(st gate.Status) bool {
		g, _ := st.Gate("deployment-confirmation")
		for _, c := range g.Checks {
			if c.Name == "deployed-as-tested" {
				return c.OK
			}
		}
		t.Fatal("no deployed-as-tested check")
		return false
	}
	if !tested(st) {
		t.Error("lawful (R-3.1 with typeRules): an emergency release is tested after the fact; no test report yet is no violation")
	}
	// Attack: the after-the-fact test report does not name what was deployed.
	wrong := mk()
	wrong.Deployment = &document.Deployment{Outcome: "succeeded", FinishedAt: "2027-03-08T11:00:00+08:00", Deployed: []document.VersionRef{{Item: "fe", Version: "2.0.0"}}}
	wrong.Files["deployment.yaml"] = &loader.Doc{Value: 1}
	wrong.TestReport, wrong.Files["test-report.yaml"] = passingReport([]string{"fe"}), &loader.Doc{Value: 1}
	if tested(eval(wrong, duty)) {
		t.Error("attack (R-3.1): the emergency test report tested fe 1.0.0 and 2.0.0 was deployed")
	}
	if c, _ := st.Gate("closure"); !slices.Contains(c.Prerequisites, "plan-review") {
		t.Errorf("closure waits for the retrospective plan review: prerequisites %v", c.Prerequisites)
	}

	// The plan and test report written after the go-live, and reviewed:
	// nothing is overdue; the on-duty manager's approval still counts,
	// since only documents the retrospective gates review changed.
	rel = mk()
	rel.Deployment = &document.Deployment{Outcome: "succeeded", FinishedAt: "2027-03-08T11:00:00+08:00"}
	rel.Files["deployment.yaml"] = &loader.Doc{Value: 1}
	rel.Plan, rel.Files["plan.yaml"] = &document.Plan{Author: "writer"}, &loader.Doc{Value: 1}
	rel.TestReport, rel.Files["test-report.yaml"] = passingReport([]string{"fe"}), &loader.Doc{Value: 1}
	late := vote("duty", "on-duty-manager", "sha256:before-the-plan")
	late.ChangedSince = []string{"plan.yaml in 1a2b3c4d5e6f", "test-report.yaml in 2b3c4d5e6f70"}
	votes := map[string][]gate.Vote{"go-live-approval": {late},
		"plan-review": {vote("head1", "department-head", "sha256:plan-review"), vote("owner", "release-owner", "sha256:plan-review")}}
	st = eval(rel, votes)
	if g, _ := st.Gate("go-live-approval"); !g.Passed {
		t.Fatalf("the emergency approval survives the retrospective documents: %v", g.Missing())
	}
	if got := st.OverdueRetrospectives(due.Add(time.Hour)); len(got) != 1 || got[0].Gate != "test-acceptance" {
		t.Errorf("plan review given, test acceptance still owed: %+v", got)
	}

	// Attack: release.yaml changed after the emergency approval: it is stale.
	late.ChangedSince = []string{"release.yaml in 1a2b3c4d5e6f"}
	st = eval(mk(), map[string][]gate.Vote{"go-live-approval": {late}})
	if g, _ := st.Gate("go-live-approval"); g.Passed {
		t.Error("a changed release.yaml needs a new emergency approval")
	}
	// Attack: the release owner rejected the go-live: the on-duty manager
	// does not override a rejection.
	rej := vote("owner", "release-owner", "sha256:go-live-approval")
	rej.Decision = "reject"
	st = eval(mk(), map[string][]gate.Vote{"go-live-approval": {duty["go-live-approval"][0], rej}})
	if g, _ := st.Gate("go-live-approval"); g.Passed {
		t.Error("a rejection blocks the emergency path too")
	}
	// Attack: a department head rejected the plan; the emergency path
	// defers the plan review, it does not overrule the rejection.
	planRej := vote("head1", "department-head", "sha256:plan-review")
	planRej.Decision = "reject"
	st = eval(mk(), map[string][]gate.Vote{"go-live-approval": duty["go-live-approval"], "plan-review": {planRej}})
	if g, _ := st.Gate("go-live-approval"); g.Passed {
		t.Error("a standing rejection of the plan review blocks the emergency go-live")
	}
	// Attack: a normal release does not go live on the on-duty manager.
	n := mk()
	n.Release.Type = "normal"
	if st = eval(n, duty); st.State != gate.StatePlanReview {
		t.Errorf("a normal release with the on-duty manager's approval: state %s", st.State)
	}
}
