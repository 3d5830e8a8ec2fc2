package gitrepo_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// TestCommitFilesPrefixForms: TreeAt accepts a prefix with a leading or
// trailing slash and "." for the root (strings.Trim(prefix, "/"), "." =
// root), and `relgate serve --prefix` hands the flag to the write-back
// (reconcile.Writer → CommitFiles) unchanged. The write side must accept the
// same forms and write the same tree, or refuse them: never an entry with an
// empty name (sub//x) or named "." (./x), which git fsck rejects, and never
// endless recursion ("/sub" today overflows the stack: a fatal error no
// recover() catches, which takes the whole server down). Each form runs in a
// child process so that crash shows as a failure.
func TestCommitFilesPrefixForms(t *testing.T) {
	for _, prefix := range []string{"sub/", "/sub", "."} {
		t.Run(prefix, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCommitFilesPrefixFormChild$", "-test.v")
			cmd.Env = append(os.Environ(), "RELGATE_REVIEW_PREFIX="+prefix)
			out, err := cmd.CombinedOutput()
			if err != nil {
				msg := string(out)
				if i := strings.Index(msg, "\ngoroutine "); i > 0 {
					msg = msg[:i] + "\n... (stacks cut)"
				}
				if len(msg) > 3000 {
					msg = msg[:3000]
				}
				t.Errorf("CommitFiles with prefix %q:\n%s", prefix, msg)
			}
		})
	}
}

func TestCommitFilesPrefixFormChild(t *testing.T) {
	prefix, ok := os.LookupEnv("RELGATE_REVIEW_PREFIX")
	if !ok {
		t.Skip("run by TestCommitFilesPrefixForms")
	}
	want := map[string]string{"sub/": "sub/reports/x.md", "/sub": "sub/reports/x.md", ".": "reports/x.md"}[prefix]
	tr := gitrepotest.New(t)
	tr.Write("sub/relgate.yaml", "k: 1\n")
	tr.Write("top.yaml", "t: 1\n")
	base := tr.Commit("base", gitrepotest.Person{Name: "t", Email: "t@example.cn"})
	r, err := gitrepo.Open(tr.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The read side takes this prefix.
	if _, err := r.TreeAt(plumbing.NewHash(base), prefix); err != nil {
		t.Fatalf("TreeAt(%q): %v", prefix, err)
	}
	who := gitrepo.Author{Name: "relgate-bot", Email: "bot@example.cn", When: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	h, err := r.CommitFiles(plumbing.NewHash(base), prefix, []gitrepo.Change{{Path: "reports/x.md", Content: []byte("x\n")}}, "write\n", who)
	if err != nil {
		t.Logf("refused: %v", err) // refusing the form is safe too
		return
	}
	c, err := r.Git.CommitObject(h)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var walk func(tr *object.Tree, dir string)
	walk = func(tr *object.Tree, dir string) {
		for _, e := range tr.Entries {
			n := dir + e.Name
			if e.Mode == filemode.Dir {
				sub, err := r.Git.TreeObject(e.Hash)
				if err != nil {
					t.Errorf("prefix %q: the commit's folder %q cannot be read back: %v", prefix, n, err)
					continue
				}
				walk(sub, n+"/")
				continue
			}
			names = append(names, n)
		}
	}
	walk(tree, "")
	found := false
	for _, n := range names {
		if n == want {
			found = true
		}
		for _, part := range strings.Split(n, "/") {
			if part == "" || part == "." || part == ".." {
				t.Errorf("prefix %q: the commit holds the malformed path %q", prefix, n)
			}
		}
	}
	if !found {
		t.Errorf("prefix %q: %s not written; tree: %q", prefix, want, names)
	}
}
