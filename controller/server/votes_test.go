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
		{name: "a dismissed review never counts",
			reviews: []ghapi.Review{{ID: 1, Login: "maxiaodong", State: "DISMISSED", CommitID: c2, SubmittedAt: at(1)}},
			notes:   map[string]string{"maxiaodong": "dismissed"}},
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
