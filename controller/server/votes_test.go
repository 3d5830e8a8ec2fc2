package server

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/policy"
)

func testPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.New(&document.Policy{
		People: []document.Person{{Login: "zhangwei"}, {Login: "maxiaodong"}, {Login: "wangfang"}, {Login: "liuzhiqiang"},
			{Login: "relgate-bot", Bot: true}, {Login: "hejun"}},
		Departments: []document.Department{{ID: "dispatch-automation", Head: "maxiaodong"}, {ID: "it-operations", Head: "hejun"}},
		Roles: map[string][]string{"release-owner": {"zhangwei"}, "release-manager": {"wangfang"},
			"process-approver": {"liuzhiqiang"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	c1 = strings.Repeat("1", 40)
	c2 = strings.Repeat("2", 40)
)

func at(min int) time.Time { return time.Date(2026, 11, 25, 10, min, 0, 0, time.UTC) }

// digests: commit c1 and c2 differ for plan-review, agree elsewhere.
func fakeDigest(commit, release string, g policy.Gate) (string, error) {
	if commit == "missing" {
		return "", errors.New("object not found")
	}
	if g.ID == policy.GatePlanReview {
		return "sha256:" + commit[:4], nil
	}
	return "sha256:same-" + g.ID, nil
}

func TestForgeVotes(t *testing.T) {
	pol := testPolicy(t)
	pr := ghapi.PullRequest{Number: 1, Author: "wangfang", HeadSHA: c2}
	type vote struct{ Release, Gate, Person, Role, Decision, Digest string }
	tests := []struct {
		name      string
		reviews   []ghapi.Review
		policyChg bool
		want      []vote
		notes     map[string]string
		// voted: notes on reviews that became votes.
		voted map[string]string
	}{
		{name: "an approval votes for every gate requiring a role the reviewer holds",
			reviews: []ghapi.Review{{ID: 1, Login: "zhangwei", State: "APPROVED", CommitID: c2, SubmittedAt: at(1)}},
			want: []vote{{"REL-1", "plan-review", "zhangwei", "release-owner", "approve", "sha256:2222"},
				{"REL-1", "go-live-approval", "zhangwei", "release-owner", "approve", "sha256:same-go-live-approval"}}},
		{name: "the digest is the one at the reviewed commit",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "APPROVED", CommitID: c1, SubmittedAt: at(1)}},
			want:    []vote{{"REL-1", "plan-review", "maxiaodong", "department-head", "approve", "sha256:1111"}}},
		{name: "a comment after an approval leaves it standing",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "APPROVED", CommitID: c2, SubmittedAt: at(1)},
				{ID: 2, Login: "maxiaodong", State: "COMMENTED", CommitID: c2, SubmittedAt: at(2)}},
			want: []vote{{"REL-1", "plan-review", "maxiaodong", "department-head", "approve", "sha256:2222"}}},
		{name: "only the latest deciding review counts: approval after a change request",
			reviews: []ghapi.Review{{ID: 2, Login: "maxiaodong", State: "APPROVED", CommitID: c2, SubmittedAt: at(5)},
				{ID: 1, Login: "MaXiaoDong", State: "CHANGES_REQUESTED", CommitID: c1, SubmittedAt: at(1)}},
			want: []vote{{"REL-1", "plan-review", "maxiaodong", "department-head", "approve", "sha256:2222"}}},
		{name: "a change request is a rejection",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "APPROVED", CommitID: c1, SubmittedAt: at(1)},
				{ID: 2, Login: "maxiaodong", State: "CHANGES_REQUESTED", CommitID: c2, SubmittedAt: at(2)}},
			want: []vote{{"REL-1", "plan-review", "maxiaodong", "department-head", "reject", "sha256:2222"}}},
		{name: "a dismissed approval never counts, and is no rejection (GitHub dismisses stale approvals on push)",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "DISMISSED", CommitID: c2, SubmittedAt: at(1),
				OriginalState: "APPROVED", DismissedBy: "wangfang"}},
			notes: map[string]string{"maxiaodong": "approved review was dismissed by wangfang"}},
		{name: "a change request, an approval, the approval dismissed on push: no vote, the change request does not come back",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "CHANGES_REQUESTED", CommitID: c1, SubmittedAt: at(1)},
				{ID: 2, Login: "maxiaodong", State: "DISMISSED", CommitID: c1, SubmittedAt: at(2), OriginalState: "APPROVED", DismissedBy: "wangfang"}},
			notes: map[string]string{"maxiaodong": "dismissed"}},
		{name: "attack: the author dismisses a change request; it stays a rejection",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "DISMISSED", CommitID: c1, SubmittedAt: at(1),
				OriginalState: "CHANGES_REQUESTED", DismissedBy: "wangfang"}},
			want:  []vote{{"REL-1", "plan-review", "maxiaodong", "department-head", "reject", "sha256:1111"}},
			voted: map[string]string{"maxiaodong": "wangfang dismissed this change request; it stands until maxiaodong withdraws it"}},
		{name: "attack: a change request dismissed by another on a force-pushed-away commit stays a rejection",
			reviews: []ghapi.Review{{ID: 1, Login: "zhangwei", State: "DISMISSED", CommitID: "missing", SubmittedAt: at(1),
				OriginalState: "CHANGES_REQUESTED", DismissedBy: "liuzhiqiang"}},
			want: []vote{{"REL-1", "plan-review", "zhangwei", "release-owner", "reject", ""},
				{"REL-1", "go-live-approval", "zhangwei", "release-owner", "reject", ""}},
			voted: map[string]string{"zhangwei": "liuzhiqiang dismissed this change request; it stands until zhangwei withdraws it (approve, or dismiss it themselves); the reviewed commit cannot be read"}},
		{name: "the reviewer dismisses their own change request: withdrawn",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "DISMISSED", CommitID: c1, SubmittedAt: at(1),
				OriginalState: "CHANGES_REQUESTED", DismissedBy: "MaXiaoDong"}},
			notes: map[string]string{"maxiaodong": "withdrew their change request"}},
		{name: "a change request dismissed by another, then the reviewer approves: the approval counts",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "DISMISSED", CommitID: c1, SubmittedAt: at(1),
				OriginalState: "CHANGES_REQUESTED", DismissedBy: "wangfang"},
				{ID: 2, Login: "maxiaodong", State: "APPROVED", CommitID: c2, SubmittedAt: at(2)}},
			want: []vote{{"REL-1", "plan-review", "maxiaodong", "department-head", "approve", "sha256:2222"}}},
		{name: "attack: a dismissal relgate knows nothing of (timeline not applied) fails closed as a rejection",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "DISMISSED", CommitID: c2, SubmittedAt: at(1)}},
			want:    []vote{{"REL-1", "plan-review", "maxiaodong", "department-head", "reject", "sha256:2222"}},
			voted:   map[string]string{"maxiaodong": "could not learn what this dismissed review was"}},
		{name: "a dismissed review of the author or a bot still gives nothing",
			reviews: []ghapi.Review{{ID: 1, Login: "wangfang", State: "DISMISSED", CommitID: c2, OriginalState: "CHANGES_REQUESTED", DismissedBy: "zhangwei"},
				{ID: 2, Login: "dependabot[bot]", IsBot: true, State: "DISMISSED", CommitID: c2, OriginalState: "CHANGES_REQUESTED", DismissedBy: "zhangwei"}},
			notes: map[string]string{"wangfang": "author", "dependabot[bot]": "bot's review"}},
		{name: "attack: the author, a bot, a bot of the policy, a stranger",
			reviews: []ghapi.Review{{ID: 1, Login: "wangfang", State: "APPROVED", CommitID: c2},
				{ID: 2, Login: "dependabot[bot]", IsBot: true, State: "APPROVED", CommitID: c2},
				{ID: 3, Login: "relgate-bot", State: "APPROVED", CommitID: c2},
				{ID: 4, Login: "octocat", State: "APPROVED", CommitID: c2},
				{ID: 5, Login: "hejun", State: "COMMENTED", CommitID: c2}},
			notes: map[string]string{"wangfang": "author", "dependabot[bot]": "bot's review", "relgate-bot": "bot in the base policy",
				"octocat": "not a person of the base policy", "hejun": "comments never count"}},
		{name: "a reviewer without a required role",
			reviews: []ghapi.Review{{ID: 1, Login: "liuzhiqiang", State: "APPROVED", CommitID: c2}},
			want: []vote{{"REL-1", "go-live-approval", "liuzhiqiang", "process-approver", "approve", "sha256:same-go-live-approval"},
				{"REL-1", "closed-release-change", "liuzhiqiang", "process-approver", "approve", "sha256:same-closed-release-change"}}},
		{name: "R-7 the process approver votes on policy-change when relgate.yaml changed",
			reviews:   []ghapi.Review{{ID: 1, Login: "liuzhiqiang", State: "APPROVED", CommitID: c2}},
			policyChg: true,
			want: []vote{{"REL-1", "go-live-approval", "liuzhiqiang", "process-approver", "approve", "sha256:same-go-live-approval"},
				{"REL-1", "closed-release-change", "liuzhiqiang", "process-approver", "approve", "sha256:same-closed-release-change"},
				{"", "policy-change", "liuzhiqiang", "process-approver", "approve", "sha256:same-policy-change"}}},
		{name: "an approval of a commit the mirror lacks does not count",
			reviews: []ghapi.Review{{ID: 1, Login: "zhangwei", State: "APPROVED", CommitID: "missing"}},
			notes:   map[string]string{"zhangwei": "cannot be read"}},
		{name: "attack: a change request on a force-pushed-away commit still rejects, bound to no digest",
			reviews: []ghapi.Review{{ID: 1, Login: "zhangwei", State: "CHANGES_REQUESTED", CommitID: "missing"}},
			want: []vote{{"REL-1", "plan-review", "zhangwei", "release-owner", "reject", ""},
				{"REL-1", "go-live-approval", "zhangwei", "release-owner", "reject", ""}},
			voted: map[string]string{"zhangwei": "blocks whatever the documents hold now"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			votes, notes := forgeVotes(pol, pr, tc.reviews, []string{"REL-1"}, changedPaths(tc.policyChg), fakeDigest)
			var got []vote
			for _, v := range votes {
				got = append(got, vote{v.Release, v.Gate, v.Person, v.Role, v.Decision, v.Digest})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("votes (-want +got):\n%s", d)
			}
			for login, want := range tc.notes {
				found := false
				for _, n := range notes {
					if n.Login == login && strings.Contains(n.Note, want) && !n.Voted {
						found = true
					}
				}
				if !found {
					t.Errorf("no note for %s containing %q: %+v", login, want, notes)
				}
			}
			for login, want := range tc.voted {
				if !slices.ContainsFunc(notes, func(n reviewNote) bool { return n.Login == login && n.Voted && strings.Contains(n.Note, want) }) {
					t.Errorf("no vote note for %s containing %q: %+v", login, want, notes)
				}
			}
		})
	}
}

func changedPaths(policyChanged bool) []string {
	if policyChanged {
		return []string{"relgate.yaml"}
	}
	return nil
}

func TestApplyDismissals(t *testing.T) {
	reviews := []ghapi.Review{{ID: 1, Login: "hejun", State: "DISMISSED", CommitID: c1},
		{ID: 2, Login: "zhangwei", State: "APPROVED", CommitID: c2},
		{ID: 3, Login: "maxiaodong", State: "dismissed", CommitID: c1}}
	tests := []struct {
		name       string
		dismissals map[int64]ghapi.Dismissal
		want       []ghapi.Review
		wantErr    string
	}{
		{name: "each dismissed review learns what it was and who dismissed it; the others are untouched",
			dismissals: map[int64]ghapi.Dismissal{1: {ReviewID: 1, State: "CHANGES_REQUESTED", Actor: "wangfang"},
				2: {ReviewID: 2, State: "APPROVED", Actor: "wangfang"}, // not dismissed in the reviews: left alone
				3: {ReviewID: 3, State: "approved", Actor: "wangfang", CommitID: c2}},
			want: []ghapi.Review{{ID: 1, Login: "hejun", State: "DISMISSED", CommitID: c1, OriginalState: "CHANGES_REQUESTED", DismissedBy: "wangfang"},
				{ID: 2, Login: "zhangwei", State: "APPROVED", CommitID: c2},
				{ID: 3, Login: "maxiaodong", State: "dismissed", CommitID: c1, OriginalState: "APPROVED", DismissedBy: "wangfang"}}},
		{name: "attack: a dismissed review the timeline does not explain is an error, not a lifted rejection",
			dismissals: map[int64]ghapi.Dismissal{1: {ReviewID: 1, State: "CHANGES_REQUESTED", Actor: "wangfang"}},
			wantErr:    "review 3 by maxiaodong is dismissed"},
		{name: "attack: a dismissal without its actor is an error",
			dismissals: map[int64]ghapi.Dismissal{1: {ReviewID: 1, State: "CHANGES_REQUESTED"}, 3: {ReviewID: 3, State: "APPROVED", Actor: "x"}},
			wantErr:    "review 1 by hejun is dismissed"},
		{name: "no timeline at all is an error when a review is dismissed",
			wantErr: "does not say who dismissed it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(reviews)
			got, err := applyDismissals(reviews, tc.dismissals)
			if d := cmp.Diff(before, reviews); d != "" {
				t.Errorf("the input changed:\n%s", d)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("reviews (-want +got):\n%s", d)
			}
		})
	}
}
