package gitrepo_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// TestMergeBase agrees with `git merge-base` on branches, merges both ways,
// ancestors and identical commits, and reports unrelated histories.
func TestMergeBase(t *testing.T) {
	r := gitrepotest.New(t)
	who := gitrepotest.Person{Name: "t", Email: "t@example.com"}
	r.Write("a.yaml", "a: 1\n")
	root := r.Commit("root", who)
	r.Write("a.yaml", "a: 2\n")
	r.Commit("main 1", who)
	r.Checkout("topic", true)
	r.Write("t.yaml", "t: 1\n")
	topic1 := r.Commit("topic 1", who)
	r.Checkout("main", false)
	r.Write("a.yaml", "a: 3\n")
	r.Commit("main 2", who)
	r.GitCLI("-c", "user.name=t", "-c", "user.email=t@example.com", "merge", "-q", "--no-ff", "-m", "merge topic", "topic")
	r.Checkout("topic", false)
	r.Write("t.yaml", "t: 2\n")
	r.Commit("topic 2", who)
	r.GitCLI("-c", "user.name=t", "-c", "user.email=t@example.com", "merge", "-q", "--no-ff", "-m", "merge main", "main")
	r.Write("t.yaml", "t: 3\n")
	r.Commit("topic 3", who)
	r.GitCLI("checkout", "-q", "--orphan", "lonely")
	r.Write("l.yaml", "l: 1\n")
	r.GitCLI("add", "-A")
	r.GitCLI("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "lonely")

	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	for _, tc := range [][2]string{
		{"main", "topic"}, {"topic", "main"}, {"main~1", "topic~2"}, {root, "topic"},
		{"main", "main"}, {topic1, "main~1"}, {"main^2", "main^1"},
	} {
		a, err := repo.Resolve(tc[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := repo.Resolve(tc[1])
		if err != nil {
			t.Fatal(err)
		}
		got, err := repo.MergeBase(a, b)
		want := strings.TrimSpace(r.GitCLI("merge-base", tc[0], tc[1]))
		if err != nil || got.String() != want {
			t.Errorf("MergeBase(%s, %s) = %s, %v; git says %s", tc[0], tc[1], got, err, want)
		}
	}
	a, _ := repo.Resolve("lonely")
	b, _ := repo.Resolve("main")
	if _, err := repo.MergeBase(a, b); !errors.Is(err, gitrepo.ErrNoMergeBase) {
		t.Errorf("unrelated histories: %v; want ErrNoMergeBase", err)
	}
}
