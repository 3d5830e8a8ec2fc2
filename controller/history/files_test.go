package history_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"errors"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/source"
)

// trickyHistory makes a history where what a path holds is hard to follow:
// a file that becomes a folder and back (at the top and inside releases/),
// a symlink, a release deleted and restored with its old content, a merge
// that keeps its first parent's side, one that takes the other side, and
// one that resolves a path to something neither side had.
func trickyHistory(t *testing.T, prefix string) (*gitrepotest.Repo, []string) {
	t.Helper()
	r := gitrepotest.New(t)
	p := func(s string) string { return strings.TrimPrefix(prefix+"/"+s, "/") }
	commit := func(msg string) {
		r.GitCLI("add", "-A")
		r.GitCLI("-c", "user.name=dev", "-c", "user.email=dev@example.cn", "commit", "-q", "--allow-empty", "-m", msg)
	}
	merge := func(args ...string) {
		r.GitCLI(append([]string{"-c", "user.name=m", "-c", "user.email=m@example.cn", "merge", "--no-ff", "-q"}, args...)...)
	}
	r.Write(p("relgate.yaml"), "kind: Policy\n")
	r.Write(p("releases/REL-1/release.yaml"), "one\n")
	r.Write(p("releases/REL-1/approvals/a.yaml"), "approval\n")
	r.Write(p("reports/releases/REL-1.md"), "report\n")
	r.Write(p("cmdb/a.yaml"), "a\n")
	commit("root")
	r.Write(p("releases/REL-1/release.yaml"), "one, edited\n")
	r.Write(p("releases/REL-2"), "a file where a release folder goes\n")
	r.Write(p("approvals"), "a file where a folder goes\n")
	commit("files where folders go")
	r.Remove(p("releases/REL-2"))
	r.Remove(p("approvals"))
	r.Write(p("releases/REL-2/release.yaml"), "two\n")
	r.Write(p("approvals/policy-change.x.yaml"), "x\n")
	if err := os.Symlink("release.yaml", filepath.Join(r.Dir, filepath.FromSlash(p("releases/REL-1/plan.yaml")))); err != nil {
		t.Fatal(err)
	}
	r.Write(p("releases/REL-2/.notes/a.yaml"), "a dot folder: not listed\n")
	r.Write(p("releases/REL-2/golive.yaml"), "executable\n")
	if err := os.Chmod(filepath.Join(r.Dir, filepath.FromSlash(p("releases/REL-2/golive.yaml"))), 0o755); err != nil {
		t.Fatal(err)
	}
	commit("folders where files were, a symlink")
	r.Remove(p("releases/REL-1"))
	r.Write(p("reports/releases/REL-2.md"), "report two\n")
	commit("delete a release")
	r.Write(p("releases/REL-1/release.yaml"), "one, edited\n")
	r.Write(p("releases/REL-1/approvals/a.yaml"), "approval\n")
	commit("restore it")
	if err := os.Chmod(filepath.Join(r.Dir, filepath.FromSlash(p("releases/REL-2/golive.yaml"))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(r.Dir, filepath.FromSlash(p("cmdb/a.yaml"))), 0o755); err != nil {
		t.Fatal(err)
	}
	commit("only modes change")
	r.GitCLI("checkout", "-q", "-b", "side")
	r.Write(p("releases/REL-2/release.yaml"), "two on the side\n")
	r.Write(p("reports/releases/REL-2.md"), "report two, side\n")
	commit("side")
	r.GitCLI("checkout", "-q", "main")
	r.Write(p("releases/REL-1/release.yaml"), "one on main\n")
	commit("main")
	merge("-s", "ours", "-m", "keep main's side", "side")
	r.GitCLI("checkout", "-q", "-b", "side2", "side")
	r.Write(p("cmdb/b.yaml"), "b\n")
	commit("side2")
	r.GitCLI("checkout", "-q", "main")
	merge("-X", "theirs", "-m", "take the side", "side2")
	r.GitCLI("checkout", "-q", "-b", "side3")
	r.Write(p("cmdb/a.yaml"), "a on side3\n")
	commit("side3")
	r.GitCLI("checkout", "-q", "main")
	r.Write(p("cmdb/a.yaml"), "a on main\n")
	commit("a on main")
	r.GitCLI("-c", "user.name=m", "-c", "user.email=m@example.cn", "merge", "--no-ff", "-q", "--no-commit", "-s", "ours", "side3")
	r.Write(p("cmdb/a.yaml"), "a resolved\n")
	commit("resolve a to neither side")
	return r, strings.Fields(r.GitCLI("rev-list", "--all"))
}

// TestFilesAtMatchesGit: what the index says a path holds at a commit is
// what git ls-tree says, for every commit and every path the history ever
// had (files, folders, and paths below files), at the root and in a subfolder.
func TestFilesAtMatchesGit(t *testing.T) {
	for _, prefix := range []string{"", "ops/releases-repo"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			r, commits := trickyHistory(t, prefix)
			if r.GitCLI("branch", "--show-current") != "main\n" {
				t.Fatal("the history is not on main")
			}
			cache := filepath.Join(t.TempDir(), "index")
			_, _, repo := open(t, r, prefix, cache)
			loaded, st, _ := open(t, r, prefix, cache) // what the cache file kept
			if !st.Loaded {
				t.Fatalf("the cache was not used: %+v", st)
			}
			files := loaded.Files(repo)
			type want struct{ mode, id string }
			at := map[string]map[string]want{}
			paths := map[string]bool{"releases/REL-1/release.yaml/x": true, "relgate.yaml/x": true, "approvals/policy-change.x.yaml": true}
			for _, c := range commits {
				at[c] = map[string]want{}
				for _, line := range strings.Split(strings.TrimSpace(r.GitCLI("ls-tree", "-r", "-t", c)), "\n") {
					meta, path, _ := strings.Cut(line, "\t")
					f := strings.Fields(meta)
					if prefix != "" {
						if !strings.HasPrefix(path, prefix+"/") {
							continue
						}
						path = strings.TrimPrefix(path, prefix+"/")
					}
					at[c][path] = want{f[0], f[2]}
					paths[path] = true
				}
			}
			kind := map[string]history.Kind{"100644": history.File, "100755": history.File, "040000": history.Dir, "120000": history.Other}
			for _, c := range commits {
				for p := range paths {
					got, err := files.At(plumbing.NewHash(c), p)
					if err != nil {
						t.Fatalf("%s at %s: %v", p, c[:8], err)
					}
					w, ok := at[c][p]
					if ok && w.mode == "040000" && aboveKeys(p) && got.Kind != history.File && got.Kind != history.Other {
						continue // a folder above the keys is not a file: that is all Files says of it
					}
					switch {
					case !ok && got.Kind != history.Absent:
						t.Errorf("%s at %s: got %+v, git has nothing", p, c[:8], got)
					case ok && (got.Kind != kind[w.mode] || got.ID.String() != w.id):
						t.Errorf("%s at %s: got %+v, git %s %s", p, c[:8], got, w.mode, w.id)
					}
				}
			}
		})
	}
}

// aboveKeys reports whether p is a folder whose entries are keys of their own.
func aboveKeys(p string) bool {
	top, rest, nested := strings.Cut(p, "/")
	switch top {
	case "releases", "changes", "cmdb", "reviews", "approvals":
		return !nested
	case "reports":
		return !nested || !strings.Contains(rest, "/")
	}
	return false
}

// TestChangedPathsMatchesGitrepo: the raw-tree diff lists what go-git's
// decoded-tree diff lists, between any two commits of the tricky history.
func TestChangedPathsMatchesGitrepo(t *testing.T) {
	for _, prefix := range []string{"", "ops/releases-repo"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			r, commits := trickyHistory(t, prefix)
			ix, _, repo := open(t, r, prefix, "-")
			for _, a := range commits {
				for _, b := range commits {
					ha, hb := plumbing.NewHash(a), plumbing.NewHash(b)
					want, werr := repo.ChangedPaths(ha, hb, prefix)
					got, gerr := history.ChangedPaths(repo, prefix, ha, hb)
					if (werr == nil) != (gerr == nil) {
						t.Fatalf("%s..%s: error %v, gitrepo %v", a[:8], b[:8], gerr, werr)
					}
					if strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("%s..%s: %v, gitrepo %v", a[:8], b[:8], got, want)
					}
					fromIndex, ierr := ix.ChangedPaths(repo, ha, hb)
					if (werr == nil) != (ierr == nil) {
						t.Fatalf("%s..%s: index error %v, gitrepo %v", a[:8], b[:8], ierr, werr)
					}
					if strings.Join(fromIndex, ",") != strings.Join(want, ",") {
						t.Errorf("%s..%s from the index: %v, gitrepo %v", a[:8], b[:8], fromIndex, want)
					}
				}
			}
		})
	}
}

// TestTreeMatchesGitrepo: the index-backed tree answers Stat, Read and List
// as gitrepo.Tree does, for every commit and path of the tricky history
// (files, folders, links, a dot folder, an executable, invalid paths).
func TestTreeMatchesGitrepo(t *testing.T) {
	for _, prefix := range []string{"", "ops/releases-repo"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			r, commits := trickyHistory(t, prefix)
			ix, _, repo := open(t, r, prefix, "-")
			paths := map[string]bool{"": true, ".": true, "../x": true, "releases/REL-1/release.yaml/x": true}
			for _, c := range commits {
				for _, line := range strings.Split(strings.TrimSpace(r.GitCLI("ls-tree", "-r", "-t", "--name-only", c)), "\n") {
					if prefix != "" {
						if !strings.HasPrefix(line, prefix+"/") {
							continue
						}
						line = strings.TrimPrefix(line, prefix+"/")
					}
					paths[line] = true
				}
			}
			class := func(err error) string {
				switch {
				case err == nil:
					return "ok"
				case errors.Is(err, fs.ErrNotExist):
					return "not exist"
				case errors.Is(err, source.ErrNotRegular):
					return "not regular"
				case errors.Is(err, fs.ErrInvalid):
					return "invalid"
				}
				return "other: " + err.Error()
			}
			for _, c := range commits {
				h := plumbing.NewHash(c)
				want, err := repo.TreeAt(h, prefix)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ix.TreeAt(repo, h)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := got.(*history.Tree); !ok {
					t.Fatalf("commit %s: not the index's tree", c[:8])
				}
				for p := range paths {
					we, werr := want.Stat(p)
					ge, gerr := got.Stat(p)
					if we != ge || class(werr) != class(gerr) {
						t.Errorf("Stat %q at %s: %+v %v, gitrepo %+v %v", p, c[:8], ge, gerr, we, werr)
					}
					wd, werr := want.Read(p)
					gd, gerr := got.Read(p)
					if string(wd) != string(gd) || class(werr) != class(gerr) {
						t.Errorf("Read %q at %s: %q %v, gitrepo %q %v", p, c[:8], gd, gerr, wd, werr)
					}
					wl, werr := want.List(p)
					gl, gerr := got.List(p)
					if diff := cmp.Diff(wl, gl); diff != "" || class(werr) != class(gerr) {
						t.Errorf("List %q at %s (-gitrepo +index) %v %v:\n%s", p, c[:8], gerr, werr, diff)
					}
				}
			}
		})
	}
}
