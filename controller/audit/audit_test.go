package audit_test

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/history"
)

const examples = "../../examples/release-repo"

func who(login string) gitrepotest.Person {
	return gitrepotest.Person{Name: login, Email: login + "@grid-it.example.cn"}
}

// open indexes a test repository at HEAD, without a cache file.
func open(t *testing.T, r *gitrepotest.Repo) (*gitrepo.Repo, *history.Index, plumbing.Hash) {
	t.Helper()
	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	head, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := history.Open(repo, "", []plumbing.Hash{head}, history.Options{CachePath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	return repo, ix, head
}

// TestVerifyDirectPush, a deployment record pushed straight to the
// branch is found at its commit; a plan edit that asserts nothing is not.
func TestVerifyDirectPush(t *testing.T) {
	r := gitrepotest.New(t)
	if err := gen.Replay(examples, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))
	r.Edit("releases/REL-2026-0043/plan.yaml", "purpose: ", "purpose: 补充。")
	r.Commit("edit plan", who("wangfang"))
	r.Write("releases/REL-2026-0043/deployment.yaml", strings.ReplaceAll(r.Read("releases/REL-2026-0041/deployment.yaml"), "REL-2026-0041", "REL-2026-0043"))
	bypass := r.Commit("deployed", who("sunlei"))
	repo, ix, head := open(t, r)

	// The whole history: the replayed one is lawful, so only the bypass is reported.
	all, err := audit.Verify(repo, ix, head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	if all.Passed || all.Checked != all.Commits || len(all.Notes) != 1 {
		t.Fatalf("report of the whole history: %+v", all)
	}
	// From the replayed tip on: the two commits after it.
	rep, err := audit.Verify(repo, ix, head, plumbing.NewHash(root))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || rep.Commits != 2 || rep.Checked != 2 || len(rep.Notes) != 0 || len(rep.Violations) != len(all.Violations) {
		t.Fatalf("report: %+v", rep)
	}
	rules := map[string]bool{}
	for _, v := range rep.Violations {
		if v.Commit != bypass || v.Release != "REL-2026-0043" {
			t.Errorf("violation at the wrong commit or release: %+v", v)
		}
		rules[v.Rule] = true
	}
	if !rules["gate:go-live-approval"] {
		t.Errorf("no gate:go-live-approval violation: %+v", rep.Violations)
	}

	tl, err := audit.Build(repo, ix, "REL-2026-0043", head)
	if err != nil {
		t.Fatal(err)
	}
	last := len(tl.Events) - 1
	if len(tl.Events) != 8 || tl.Events[last].Changes[0].Action != "added" || tl.Events[last].Changes[0].Kind != "Deployment" {
		t.Errorf("timeline: %+v", tl.Events)
	}
	if _, err := audit.Build(repo, ix, "../../etc", head); err == nil {
		t.Error("a path as release id was accepted")
	}
	if tl, err := audit.Build(repo, ix, "REL-2026-0099", head); err != nil || len(tl.Events) != 0 {
		t.Errorf("unknown release: %v %v", tl, err)
	}
}
