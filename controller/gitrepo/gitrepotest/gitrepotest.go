// Package gitrepotest makes real git repositories for tests: initialised with
// go-git in a temporary directory, isolated from the machine's git
// configuration, with helpers to write files and commit them as a given
// person, optionally signed.
package gitrepotest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is a git repository with a work tree, made for one test.
type Repo struct {
	t    testing.TB
	Dir  string
	Git  *git.Repository
	tick time.Time
}

// Isolate points git's configuration at an empty home for this test, so
// neither go-git nor the git CLI reads the machine's settings.
func Isolate(t testing.TB) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
}

// New initialises an empty repository on branch main.
func New(t testing.TB) *Repo {
	t.Helper()
	Isolate(t)
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{t: t, Dir: dir, Git: r, tick: time.Date(2026, 11, 26, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))}
}

// CopyDir copies a directory tree (the example repository) into the work tree.
func (r *Repo) CopyDir(src string) {
	r.t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(r.Dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(r.Dir, rel), data, 0o644)
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// Write writes a file of the work tree.
func (r *Repo) Write(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Read returns a file of the work tree.
func (r *Repo) Read(path string) string {
	r.t.Helper()
	data, err := os.ReadFile(filepath.Join(r.Dir, filepath.FromSlash(path)))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(data)
}

// Edit replaces old with new in a file of the work tree; old must occur.
func (r *Repo) Edit(path, old, new string) {
	r.t.Helper()
	s := r.Read(path)
	if !strings.Contains(s, old) {
		r.t.Fatalf("%s does not contain %q", path, old)
	}
	r.Write(path, strings.Replace(s, old, new, 1))
}

// Remove deletes a file or folder of the work tree.
func (r *Repo) Remove(path string) {
	r.t.Helper()
	if err := os.RemoveAll(filepath.Join(r.Dir, filepath.FromSlash(path))); err != nil {
		r.t.Fatal(err)
	}
}

// Person is a commit author.
type Person struct {
	Name, Email string
	Key         *openpgp.Entity // signs the commit when set
}

// Commit stages every change of the work tree and commits it as who.
func (r *Repo) Commit(msg string, who Person) string {
	r.t.Helper()
	wt, err := r.Git.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	r.tick = r.tick.Add(time.Hour)
	sig := &object.Signature{Name: who.Name, Email: who.Email, When: r.tick}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, SignKey: who.Key, AllowEmptyCommits: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// Branch creates (or moves) a branch to a commit, and checks it out.
func (r *Repo) Checkout(branch string, create bool) {
	r.t.Helper()
	wt, err := r.Git.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create, Force: true}); err != nil {
		r.t.Fatal(err)
	}
}

// Git runs the git CLI in the repository, for interoperability checks.
func (r *Repo) GitCLI(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// NewKey makes an OpenPGP key for a person, and returns it with its armored public key.
func NewKey(t testing.TB, name, email string) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", email, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w, err := armorPublic(&b)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return e, b.String()
}
