package gate_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

type lookup struct{}

func (lookup) Change(id string) (*document.Change, bool, error) {
	return &document.Change{ID: id, Status: "approved"}, true, nil
}
func (lookup) CMDBItem(string) (*document.CMDBItem, bool, error) { return nil, false, nil }

func testPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.New(&document.Policy{
		People:          []document.Person{{Login: "owner"}, {Login: "head1"}, {Login: "head2"}, {Login: "mgr"}, {Login: "gm"}},
		Departments:     []document.Department{{ID: "d1", Head: "head1"}, {ID: "d2", Head: "head2"}},
		Roles:           map[string][]string{"release-owner": {"owner", "mgr"}, "release-manager": {"mgr"}, "process-approver": {"gm"}},
		BlackoutWindows: []document.Window{{Name: "holiday", Start: "2027-02-01T00:00:00+08:00", End: "2027-02-10T00:00:00+08:00"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func release(window string) *loader.Release {
	return &loader.Release{ID: "REL-2026-0001",
		Release: &document.Release{ID: "REL-2026-0001", Departments: []string{"d1", "d2"}, Changes: []document.ChangeRef{{ID: "CHG-2026-0001"}},
			People: document.ReleasePeople{Owner: "owner", Manager: "mgr"}, Window: document.Period{Start: window, End: window}},
		Plan:  &document.Plan{Author: "mgr"},
		Files: map[string]*loader.Doc{"release.yaml": {Value: 1}, "plan.yaml": {Value: 1}}}
}

func vote(person, role, digest string) gate.Vote {
	return gate.Vote{Person: person, Role: role, Decision: "approve", Digest: digest, AuthVia: "base"}
}

// TestPlanReview: the procedure's plan review decided from votes.
func TestPlanReview(t *testing.T) {
	const d = "sha256:current"
	tests := []struct {
		name      string
		votes     []gate.Vote
		passed    bool
		approved  []string // per requirement, in order: d1 head, d2 head, owner
		ignored   []string // reasons
		rejection bool
	}{
		{"every head and the owner", []gate.Vote{vote("head1", "department-head", d), vote("head2", "department-head", d), vote("owner", "release-owner", d)},
			true, []string{"head1", "head2", "owner"}, nil, false},
		{"R-5.1.3 a head missing", []gate.Vote{vote("head1", "department-head", d), vote("owner", "release-owner", d)},
			false, []string{"head1", "", "owner"}, nil, false},
		{"stale approval", []gate.Vote{vote("head1", "department-head", d), vote("head2", "department-head", "sha256:old"), vote("owner", "release-owner", d)},
			false, []string{"head1", "", "owner"}, []string{"stale"}, false},
		{"an owner the release does not name", []gate.Vote{vote("head1", "department-head", d), vote("head2", "department-head", d), vote("mgr", "release-owner", d)},
			false, []string{"head1", "head2", ""}, []string{"not-in-role"}, false},
		{"the plan's author approves it (separation of duties)", []gate.Vote{vote("head1", "department-head", d), vote("head2", "department-head", d), vote("owner", "release-owner", d)},
			false, []string{"head1", "head2", ""}, []string{"self-approval"}, false},
		{"a head of another department", []gate.Vote{vote("head2", "department-head", d), {Person: "head2", Role: "department-head", Decision: "approve", Digest: d}},
			false, []string{"", "head2", ""}, []string{"not-required"}, false},
		{"unauthenticated", []gate.Vote{{Person: "owner", Role: "release-owner", Decision: "approve", Digest: d, AuthProblem: "no signature"}},
			false, []string{"", "", ""}, []string{"unauthenticated"}, false},
		{"a rejection blocks", []gate.Vote{vote("head1", "department-head", d), vote("head2", "department-head", d), vote("owner", "release-owner", d),
			{Person: "head1", Role: "department-head", Decision: "reject", Digest: d}}, false, nil, nil, true},
		{"copied from another release", []gate.Vote{{Person: "owner", Role: "release-owner", Decision: "approve", Digest: d, Release: "REL-2026-0002"}},
			false, []string{"", "", ""}, []string{"wrong-release"}, false},
		{"R-3.2 an approval dated after the commit that adds it", []gate.Vote{vote("head1", "department-head", d), vote("head2", "department-head", d),
			{Person: "owner", Role: "release-owner", Decision: "approve", Digest: d, AuthVia: "signature", DateProblem: "dated after its commit"}},
			false, []string{"head1", "head2", ""}, []string{"misdated"}, false},
		{"R-3.2 a misdated rejection still blocks", []gate.Vote{vote("head1", "department-head", d), vote("head2", "department-head", d), vote("owner", "release-owner", d),
			{Person: "head1", Role: "department-head", Decision: "reject", Digest: d, AuthVia: "signature", DateProblem: "dated after its commit"}}, false, nil, nil, true},
		{"a rejection in a role the gate does not require blocks nothing", []gate.Vote{vote("head1", "department-head", d),
			vote("head2", "department-head", d), vote("owner", "release-owner", d),
			{Person: "gm", Role: "process-approver", Decision: "reject", Digest: d, AuthVia: "signature"}}, true, nil, []string{"not-required"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := release("2026-12-01T22:00:00+08:00")
			if tc.name == "the plan's author approves it (separation of duties)" {
				rel.Plan.Author = "owner"
			}
			st, err := gate.Evaluate(gate.Input{Policy: testPolicy(t), Release: rel, Lookup: lookup{},
				Digests: map[string]string{"plan-review": d}, Votes: map[string][]gate.Vote{"plan-review": tc.votes}})
			if err != nil {
				t.Fatal(err)
			}
			g, _ := st.Gate("plan-review")
			if g.Passed != tc.passed {
				t.Errorf("passed = %v, want %v; missing %v", g.Passed, tc.passed, g.Missing())
			}
			if tc.rejection != (len(g.Rejections) > 0) {
				t.Errorf("rejections %v", g.Rejections)
			}
			if tc.approved != nil {
				var got []string
				for _, q := range g.Requirements {
					p := ""
					if len(q.Approved) > 0 {
						p = q.Approved[0]
					}
					got = append(got, p)
				}
				if diff := cmp.Diff(tc.approved, got); diff != "" {
					t.Errorf("approved (-want +got):\n%s", diff)
				}
			}
			var reasons []string
			for _, ig := range g.Ignored {
				reasons = append(reasons, ig.Reason)
			}
			if diff := cmp.Diff(tc.ignored, reasons); diff != "" {
				t.Errorf("ignored (-want +got):\n%s", diff)
			}
			if tc.passed && st.State != gate.StateTesting {
				t.Errorf("state %s after plan review", st.State)
			}
			if !tc.passed && st.State != gate.StatePlanReview {
				t.Errorf("state %s", st.State)
			}
		})
	}
}

// TestBlackoutNeedsProcessApprover.
func TestBlackoutNeedsProcessApprover(t *testing.T) {
	for _, tc := range []struct {
		window string
		roles  []string
	}{
		{"2026-12-01T22:00:00+08:00", []string{"release-owner"}},
		{"2027-02-05T22:00:00+08:00", []string{"release-owner", "process-approver"}},
	} {
		st, err := gate.Evaluate(gate.Input{Policy: testPolicy(t), Release: release(tc.window), Lookup: lookup{}})
		if err != nil {
			t.Fatal(err)
		}
		g, _ := st.Gate("go-live-approval")
		var roles []string
		for _, q := range g.Requirements {
			roles = append(roles, q.Role)
		}
		if diff := cmp.Diff(tc.roles, roles); diff != "" {
			t.Errorf("window %s (-want +got):\n%s", tc.window, diff)
		}
	}
}

// TestRejectionSurvivesReleaseEdits, a head's rejection still blocks
// after the release drops their department; the message says why.
func TestRejectionSurvivesReleaseEdits(t *testing.T) {
	const d = "sha256:current"
	rel := release("2026-12-01T22:00:00+08:00")
	rel.Release.Departments = []string{"d1"} // d2 removed after head2 rejected
	st, err := gate.Evaluate(gate.Input{Policy: testPolicy(t), Release: rel, Lookup: lookup{}, Digests: map[string]string{"plan-review": d},
		Votes: map[string][]gate.Vote{"plan-review": {vote("head1", "department-head", d), vote("owner", "release-owner", d),
			{Person: "head2", Role: "department-head", Decision: "reject", Digest: d, AuthVia: "signature"}}}})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := st.Gate("plan-review")
	if g.Passed || len(g.Rejections) != 1 || g.Rejections[0].Note == "" {
		t.Fatalf("passed %v, rejections %+v", g.Passed, g.Rejections)
	}
	for _, ig := range g.Ignored {
		if ig.Person == "head2" {
			t.Errorf("head2's rejection reported as %s", ig.Reason)
		}
	}
}

// TestNotCountedSaysWhatToDo: every reason an approval does not count comes
// with what to do about it, in English and in Chinese (issue 12).
func TestNotCountedSaysWhatToDo(t *testing.T) {
	const d = "sha256:current"
	tests := []struct {
		reason string
		vote   gate.Vote
		author string // the plan's author
		en, zh string // the fix, in each language
	}{
		{"stale", gate.Vote{Person: "head2", Role: "department-head", Decision: "approve", Digest: "sha256:old", AuthVia: "base", ChangedSince: []string{"plan.yaml in 1a2b3c4d5e6f"}}, "",
			"changed after the approval: plan.yaml in commit 1a2b3c4d5e6f; head2 must review the change and approve again", "plan.yaml（提交 1a2b3c4d5e6f）；head2 须审阅修改后重新审批"},
		{"not-in-role", vote("mgr", "release-owner", d), "", "name them in release.yaml people", "请在 release.yaml 的 people 中指定"},
		{"not-in-role", vote("head1", "release-owner", d), "", "a policy change adds them", "通过流程变更添加"},
		{"self-approval", vote("owner", "release-owner", d), "owner", "another holder of release-owner must approve", "须由另一位发布负责人审批"},
		{"unauthenticated", gate.Vote{Person: "owner", Role: "release-owner", Decision: "approve", Digest: d, AuthProblem: "commit 1a2b carries no valid signature by a key the policy lists for owner"}, "",
			"relgate approve --commit signs it", "relgate approve --commit 会签名"},
		{"misdated", gate.Vote{Person: "owner", Role: "release-owner", Decision: "approve", Digest: d, AuthVia: "signature", DateProblem: "dated after its commit"}, "",
			"record the approval again with its true time", "请按真实时间重新记录审批"},
		{"wrong-release", gate.Vote{Person: "owner", Role: "release-owner", Decision: "approve", Digest: d, Release: "REL-2026-0002"}, "",
			"record it under the release it approves", "请在其所审批的发布下记录"},
		{"not-required", vote("gm", "process-approver", d), "", "approve with a role it requires", "请以该关卡要求的角色审批"},
	}
	for _, tc := range tests {
		t.Run(tc.reason+" "+tc.vote.Person, func(t *testing.T) {
			rel := release("2026-12-01T22:00:00+08:00")
			if tc.author != "" {
				rel.Plan.Author = tc.author
			}
			st, err := gate.Evaluate(gate.Input{Policy: testPolicy(t), Release: rel, Lookup: lookup{},
				Digests: map[string]string{"plan-review": d}, Votes: map[string][]gate.Vote{"plan-review": {tc.vote}}})
			if err != nil {
				t.Fatal(err)
			}
			g, _ := st.Gate("plan-review")
			if len(g.Ignored) != 1 || g.Ignored[0].Reason != tc.reason {
				t.Fatalf("ignored %+v, want one %s", g.Ignored, tc.reason)
			}
			ig := g.Ignored[0]
			if !strings.Contains(ig.Message, tc.en) {
				t.Errorf("en %q lacks %q", ig.Message, tc.en)
			}
			if zh := ig.MessageIn(i18n.Chinese); !strings.Contains(zh, tc.zh) {
				t.Errorf("zh %q lacks %q", zh, tc.zh)
			}
			if ig.MessageIn(i18n.English) != ig.Message {
				t.Errorf("the JSON's English %q is not the English rendering %q", ig.Message, ig.MessageIn(i18n.English))
			}
		})
	}
}

// TestUnauthenticatedNotSignable: a problem no signature solves (a file
// named for someone else) does not advise signing.
func TestUnauthenticatedNotSignable(t *testing.T) {
	st, err := gate.Evaluate(gate.Input{Policy: testPolicy(t), Release: release("2026-12-01T22:00:00+08:00"), Lookup: lookup{},
		Digests: map[string]string{"plan-review": "d"}, Votes: map[string][]gate.Vote{"plan-review": {{Person: "owner", Role: "release-owner",
			Decision: "approve", Digest: "d", AuthProblem: "the file name and the content name different gates or people"}}}})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := st.Gate("plan-review")
	if len(g.Ignored) != 1 || strings.Contains(g.Ignored[0].Message, "signed") {
		t.Errorf("ignored %+v", g.Ignored)
	}
}
