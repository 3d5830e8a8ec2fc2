package gitrepo_test

import (
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// TestCommitFiles writes commits from objects only and checks them with the
// git CLI: fsck is clean, the tree holds what was written, untouched folders
// keep their ids.
func TestCommitFiles(t *testing.T) {
	tr := gitrepotest.New(t)
	tr.Write("a/keep.yaml", "k: 1\n")
	tr.Write("b/c/old.yaml", "o: 1\n")
	tr.Write("link-target.yaml", "x: 1\n")
	base := tr.Commit("base", gitrepotest.Person{Name: "t", Email: "t@example.cn"})
	r, err := gitrepo.Open(tr.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	who := gitrepo.Author{Name: "relgate-bot", Email: "bot@example.cn", When: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	h, err := r.CommitFiles(plumbing.NewHash(base), "", []gitrepo.Change{
		{Path: "b/c/new.yaml", Content: []byte("n: 1\n")},
		{Path: "b/c/old.yaml"},
		{Path: "d/e/f.yaml", Content: []byte("f: 1\n")},
	}, "write\n\nRelease-Id: REL-2026-0001\n", who)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetBranch("main", plumbing.NewHash(base), h); err != nil {
		t.Fatal(err)
	}
	if err := r.SetBranch("main", plumbing.NewHash(base), h); err == nil {
		t.Error("moving a branch from a stale old value succeeded")
	}
	tr.GitCLI("fsck", "--strict")
	got := tr.GitCLI("ls-tree", "-r", "--name-only", "main")
	want := "a/keep.yaml\nb/c/new.yaml\nd/e/f.yaml\nlink-target.yaml\n"
	if got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
	if a, b := tr.GitCLI("rev-parse", base+":a"), tr.GitCLI("rev-parse", "main:a"); a != b {
		t.Errorf("untouched folder a changed id: %s vs %s", a, b)
	}
	if msg := tr.GitCLI("log", "-1", "--format=%an <%ae>%n%(trailers:key=Release-Id,valueonly)", "main"); msg != "relgate-bot <bot@example.cn>\nREL-2026-0001\n\n" {
		t.Errorf("log: %q", msg)
	}
	for _, bad := range []string{"../x.yaml", "a/../../x.yaml"} {
		if _, err := r.CommitFiles(h, "", []gitrepo.Change{{Path: bad, Content: []byte("x")}}, "bad", who); err == nil {
			t.Errorf("write %s: no error", bad)
		}
	}
}
