package provenance_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/source"
)

const path = "releases/REL-2026-0001/approvals/plan-review.zhangwei.yaml"

// git runs the git CLI with a fixed identity and date: the histories below
// are made the way people make them, with merges and reverts.
func git(t *testing.T, dir, who, date string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME="+who, "GIT_AUTHOR_EMAIL="+who+"@example.cn",
		"GIT_COMMITTER_NAME="+who, "GIT_COMMITTER_EMAIL="+who+"@example.cn",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

type repo struct {
	t   *testing.T
	r   *gitrepotest.Repo
	now int
}

func newRepo(t *testing.T) *repo {
	r := gitrepotest.New(t)
	x := &repo{t: t, r: r}
	x.write("relgate.yaml", "policy")
	x.commit("alice", "policy")
	return x
}

func (x *repo) write(p, content string) { x.r.Write(p, content) }

// commit commits everything as who; dates go backwards on purpose, so that
// nothing can depend on them.
func (x *repo) commit(who, msg string) string {
	x.now++
	date := "1970-01-02T00:00:00Z"
	if x.now%2 == 0 {
		date = "2030-01-01T00:00:00Z"
	}
	git(x.t, x.r.Dir, who, date, "add", "-A")
	git(x.t, x.r.Dir, who, date, "commit", "-q", "--allow-empty", "-m", msg)
	return git(x.t, x.r.Dir, who, date, "rev-parse", "HEAD")
}

func (x *repo) git(who string, args ...string) string {
	return git(x.t, x.r.Dir, who, "2001-01-01T00:00:00Z", args...)
}

func (x *repo) origin(tips ...string) provenance.Origin {
	x.t.Helper()
	r, err := gitrepo.Open(x.r.Dir)
	if err != nil {
		x.t.Fatal(err)
	}
	defer r.Close()
	var hs []plumbing.Hash
	for _, tip := range tips {
		hs = append(hs, plumbing.NewHash(tip))
	}
	led, err := provenance.Open(r, "", hs...)
	if err != nil {
		x.t.Fatal(err)
	}
	tree, err := r.TreeAt(hs[0], "")
	if err != nil {
		x.t.Fatal(err)
	}
	e, err := tree.Stat(path)
	if err != nil {
		x.t.Fatal(err)
	}
	o, err := led.Origin(path, e.ID)
	if err != nil {
		x.t.Fatal(err)
	}
	return o
}

func commits(o provenance.Origin) []string {
	var out []string
	for _, c := range o.Commits {
		out = append(out, c.ID)
	}
	return out
}

func TestOrigin(t *testing.T) {
	t.Run("the commit that wrote it", func(t *testing.T) {
		x := newRepo(t)
		x.write(path, "approve v1")
		y := x.commit("zhangwei", "approve")
		x.write("README.md", "unrelated")
		tip := x.commit("bob", "readme")
		o := x.origin(tip)
		if o.Problem != "" || len(o.Commits) != 1 || o.Commits[0].ID != y || o.Commits[0].AuthorEmail != "zhangwei@example.cn" {
			t.Fatalf("origin = %+v %v, want commit %s", o, commits(o), y)
		}
	})
	t.Run("R-3.2 a revert restores a withdrawn approval: nobody vouches", func(t *testing.T) {
		x := newRepo(t)
		x.write(path, "approve v1")
		x.commit("zhangwei", "approve")
		x.write(path, "reject")
		x.commit("zhangwei", "reject")
		x.write(path, "approve v1")
		tip := x.commit("mallory", "restore")
		o := x.origin(tip)
		// mallory's commit gave the path its content: it is the origin, and
		// authenticating it as zhangwei fails in evaluate.
		if o.Problem != "" || len(o.Commits) != 1 || o.Commits[0].AuthorEmail != "mallory@example.cn" {
			t.Fatalf("origin = %+v, want mallory's commit", o)
		}
	})
	t.Run("R-3.2 a merge that takes the stale side restores the approval: nobody vouches", func(t *testing.T) {
		x := newRepo(t)
		x.write(path, "approve v1")
		y := x.commit("zhangwei", "approve")
		x.git("mallory", "branch", "attack", y)
		x.write(path, "reject")
		k := x.commit("zhangwei", "reject")
		x.write("README.md", "harmless")
		x.commit("bob", "harmless, dated 1970")
		x.git("mallory", "checkout", "-q", "attack")
		x.write("notes.md", "x")
		x.commit("mallory", "work")
		// Merge main into the branch, keeping the branch's side of the approval.
		x.git("mallory", "merge", "-q", "-s", "ours", "--no-edit", "main")
		tip := x.git("mallory", "rev-parse", "HEAD")
		o := x.origin(tip)
		if len(o.Commits) != 0 || !strings.Contains(o.Problem, "restores the content commit "+y[:12]) || !strings.Contains(o.Problem, k[:12]) {
			t.Fatalf("origin = %+v %v, want a restored content replaced by %s", o, commits(o), k[:12])
		}
		// Judged as a pull request into main (both tips), the same.
		if o := x.origin(tip, k); len(o.Commits) != 0 || o.Problem == "" {
			t.Fatalf("origin over base and head = %+v, want none", o)
		}
	})
	t.Run("a branch behind base: base's later decision replaces it", func(t *testing.T) {
		x := newRepo(t)
		x.write(path, "approve v1")
		y := x.commit("zhangwei", "approve")
		x.write(path, "reject")
		k := x.commit("zhangwei", "reject")
		x.git("bob", "checkout", "-q", "-b", "old", y)
		x.write("README.md", "docs")
		head := x.commit("bob", "docs")
		// The branch alone still shows the approval; with base in view it is replaced.
		if o := x.origin(head); len(o.Commits) != 1 {
			t.Fatalf("origin at head alone = %+v, want y", o)
		}
		if o := x.origin(head, k); len(o.Commits) != 0 || o.Problem == "" {
			t.Fatalf("origin at head with base = %+v, want replaced", o)
		}
	})
	t.Run("a lawful re-approval after a rejection", func(t *testing.T) {
		x := newRepo(t)
		x.write(path, "approve v1")
		x.commit("zhangwei", "approve")
		x.write(path, "reject")
		x.commit("zhangwei", "reject")
		x.write(path, "approve v2")
		z := x.commit("zhangwei", "approve again")
		if o := x.origin(z); o.Problem != "" || len(o.Commits) != 1 || o.Commits[0].ID != z {
			t.Fatalf("origin = %+v, want %s", o, z)
		}
	})
	t.Run("a branch merged with a merge commit: the branch's commit made it", func(t *testing.T) {
		x := newRepo(t)
		x.git("zhangwei", "checkout", "-q", "-b", "pr")
		x.write(path, "approve v1")
		y := x.commit("zhangwei", "approve")
		x.git("bot", "checkout", "-q", "main")
		x.git("bot", "merge", "-q", "--no-ff", "--no-edit", "pr")
		tip := x.git("bot", "rev-parse", "HEAD")
		if o := x.origin(tip); o.Problem != "" || len(o.Commits) != 1 || o.Commits[0].ID != y {
			t.Fatalf("origin = %+v, want %s", o, y)
		}
	})
	t.Run("concurrent decisions on two branches: the merge's choice is vouched for by nobody", func(t *testing.T) {
		x := newRepo(t)
		x.git("zhangwei", "checkout", "-q", "-b", "a")
		x.write(path, "approve")
		x.commit("zhangwei", "approve")
		x.git("zhangwei", "checkout", "-q", "-b", "b", "main")
		x.write(path, "reject")
		x.commit("zhangwei", "reject")
		x.git("bot", "checkout", "-q", "a")
		x.git("bot", "merge", "-q", "-s", "ours", "--no-edit", "b")
		tip := x.git("bot", "rev-parse", "HEAD")
		if o := x.origin(tip); len(o.Commits) != 0 || !strings.Contains(o.Problem, "another line of history") {
			t.Fatalf("origin = %+v, want contested", o)
		}
	})
}

// TestOriginUncommitted: content no commit has is not attributed.
func TestOriginUncommitted(t *testing.T) {
	x := newRepo(t)
	x.write(path, "approve v1")
	tip := x.commit("zhangwei", "approve")
	r, err := gitrepo.Open(x.r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	led, err := provenance.Open(r, "", plumbing.NewHash(tip))
	if err != nil {
		t.Fatal(err)
	}
	o, err := led.Origin(path, source.HashBlob([]byte("approve v2")))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Commits) != 0 || !strings.Contains(o.Problem, "not committed") {
		t.Fatalf("origin = %+v, want not committed", o)
	}
}

// TestChangesSkipMerges: a merge that takes one side changes nothing, so
// the merger is not an editor of the file (separation of duties).
func TestChangesSkipMerges(t *testing.T) {
	x := newRepo(t)
	x.git("wangfang", "checkout", "-q", "-b", "pr")
	x.write("releases/REL-2026-0001/plan.yaml", "plan")
	x.commit("wangfang", "plan")
	x.git("zhangwei", "checkout", "-q", "main")
	x.git("zhangwei", "merge", "-q", "--no-ff", "--no-edit", "pr")
	r, err := gitrepo.Open(x.r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tip, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	led, err := provenance.Open(r, "", tip)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := led.Changes(filepath.ToSlash("releases/REL-2026-0001/plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Commit.AuthorEmail != "wangfang@example.cn" {
		t.Fatalf("changes = %+v, want wangfang's commit only", cs)
	}
}
