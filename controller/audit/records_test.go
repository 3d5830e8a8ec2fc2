package audit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
)

// TestVerifyMergeWithReviewRecords: the server's lawful flow — a pull request
// approved by GitHub reviews is merged, then the bot records the reviews as
// approval files (its other write-back may come between) — passes verify,
// the merge being judged together with its records. Records that
// name a head commit the merge did not bring in, or that someone other than
// the bot commits, are not part of it, and the merge is a violation.
func TestVerifyMergeWithReviewRecords(t *testing.T) {
	for _, tc := range []struct {
		name    string
		head    func(prHead string) string // the head commit the records name
		by      string                     // who commits the records
		between bool                       // the bot's other write-back lands first
		pass    bool
	}{
		{name: "lawful: records of the merged head by the bot", head: func(h string) string { return h }, by: "relgate-bot", pass: true},
		{name: "lawful: with the bot's write-back between merge and records", head: func(h string) string { return h }, by: "relgate-bot", between: true, pass: true},
		{name: "attack: records naming a head the merge did not bring in", head: func(string) string { return strings.Repeat("ab", 20) }, by: "relgate-bot"},
		{name: "attack: records committed by a person as if by the bot", head: func(h string) string { return h }, by: "wangfang"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gitrepotest.New(t)
			if err := gen.Replay(examples, r.Dir, gen.ReplayOptions{}); err != nil {
				t.Fatal(err)
			}
			r.Checkout("pr1", true)
			for _, f := range []string{"golive.yaml", "communication.yaml"} {
				r.Write(rel43+"/"+f, strings.ReplaceAll(r.Read("releases/REL-2026-0041/"+f), "REL-2026-0041", "REL-2026-0043"))
			}
			prHead := r.Commit("go-live plan", who("wangfang"))
			r.Checkout("main", false)
			r.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "pr1")
			merge := strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))
			if tc.between {
				r.Edit("cmdb/oms-workflow.yaml", "environment: production", "environment: production # 机器人")
				r.Commit("REL-2026-0041: update the CMDB", who("relgate-bot"))
			}
			d := digest(t, r.Dir, "REL-2026-0043", policy.GatePlanReview)
			for i, rv := range [][2]string{{"maxiaodong", "department-head"}, {"zhangwei", "release-owner"}} {
				r.Write(fmt.Sprintf("%s/approvals/plan-review.%s.yaml", rel43, rv[0]), fmt.Sprintf(`apiVersion: relgate.dev/v1
kind: Approval
release: REL-2026-0043
gate: plan-review
person: %s
role: %s
decision: approve
digest: %s
at: "2026-11-26T10:00:00+08:00"
comment: GitHub review %d on pull request #1
forge:
  provider: github
  repository: grid-it/releases
  pullNumber: 1
  reviewId: %d
  headCommit: %s
`, rv[0], rv[1], d, 100+i, 100+i, tc.head(prHead)))
				r.Commit("REL-2026-0043: record "+rv[0]+"'s approve of plan-review", who(tc.by))
			}
			repo, ix, head := open(t, r)
			rep, err := audit.Verify(repo, ix, head, plumbing.ZeroHash)
			if err != nil {
				t.Fatal(err)
			}
			if tc.pass {
				for _, v := range rep.Violations {
					t.Errorf("violation: %.12s %s: %s", v.Commit, v.Rule, v.Message)
				}
				return
			}
			found := false
			for _, v := range rep.Violations {
				found = found || v.Commit == merge && v.Rule == "gate:plan-review"
			}
			if !found {
				t.Errorf("no gate:plan-review violation at the merge %.12s: %+v", merge, rep.Violations)
			}
		})
	}
}

// digest computes a gate's digest in the work tree.
func digest(t *testing.T, dir, rel, gateID string) string {
	t.Helper()
	tree := source.Dir{Root: dir}
	snap, err := loader.LoadReleases(tree, nil)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := pol.Gate(gateID)
	d, _, err := evaluate.Digest(tree, rel, g)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
