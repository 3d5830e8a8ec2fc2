package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Change is one file a commit writes. Paths are relative to the release
// repository; Content nil deletes the file.
type Change struct {
	Path    string
	Content []byte
}

// Author is who a commit is by.
type Author struct {
	Name, Email string
	When        time.Time
	// SignKey, when set, signs the commit (OpenPGP), so that what the bot
	// records can be authenticated like a person's approval.
	SignKey *openpgp.Entity
}

// ErrSymlinkInPath is returned when a write would pass through or replace a
// symlink: relgate never writes through links.
var ErrSymlinkInPath = errors.New("symlink in path")

// CommitFiles writes a commit on top of parent (zero for a root commit) that
// changes the given files, building only the trees on the changed paths:
// every other subtree keeps its id, so the cost does not grow with the size of
// the repository (shared/GIT-NOTES.md). It does not move any reference.
func (r *Repo) CommitFiles(parent plumbing.Hash, prefix string, changes []Change, msg string, who Author) (plumbing.Hash, error) {
	var root *object.Tree
	if !parent.IsZero() {
		c, err := r.Git.CommitObject(parent)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", parent, err)
		}
		if root, err = c.Tree(); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree of %s: %w", parent, err)
		}
	}
	prefix, err := cleanPrefix(prefix)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	edits := map[string][]byte{}
	for _, ch := range changes {
		p := strings.Trim(path.Clean(ch.Path), "/")
		if p == "." || strings.HasPrefix(p, "../") || p == ".." || strings.Contains(p, "/../") {
			return plumbing.ZeroHash, fmt.Errorf("write %s: path leaves the repository", ch.Path)
		}
		if prefix != "" {
			p = prefix + "/" + p
		}
		edits[p] = ch.Content
	}
	treeID, err := r.writeTree(root, "", edits)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sig := object.Signature{Name: who.Name, Email: who.Email, When: who.When}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: treeID}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	if who.SignKey != nil {
		sig, err := signCommit(c, who.SignKey)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		c.PGPSignature = sig
	}
	obj := r.Git.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.Git.Storer.SetEncodedObject(obj)
}

// cleanPrefix reads a release repository's folder the way TreeAt does:
// slashes around it and "." mean nothing; ".." is refused.
func cleanPrefix(prefix string) (string, error) {
	p := strings.Trim(path.Clean("/"+strings.Trim(prefix, "/")), "/")
	if p == "." {
		p = ""
	}
	for _, part := range strings.Split(prefix, "/") {
		if part == ".." {
			return "", fmt.Errorf("folder %q leaves the repository", prefix)
		}
	}
	return p, nil
}

// writeTree returns the id of tree t (nil: empty) with edits applied; edits
// are keyed by full path and only those under dir are considered.
func (r *Repo) writeTree(t *object.Tree, dir string, edits map[string][]byte) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if t != nil {
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	// Group edits by the first path element below dir.
	sub := map[string]map[string][]byte{}
	for p, content := range edits {
		rel := p
		if dir != "" {
			if !strings.HasPrefix(p, dir+"/") {
				continue
			}
			rel = strings.TrimPrefix(p, dir+"/")
		}
		first, _, nested := strings.Cut(rel, "/")
		if first == "" || first == "." || first == ".." {
			return plumbing.ZeroHash, fmt.Errorf("write %s: an empty or dot path element", p)
		}
		if !nested {
			old, exists := entries[first]
			if exists && old.Mode != filemode.Regular && old.Mode != filemode.Executable {
				return plumbing.ZeroHash, fmt.Errorf("write %s: %w (or a folder) is in the way", p, ErrSymlinkInPath)
			}
			if content == nil {
				delete(entries, first)
				continue
			}
			id, err := r.writeBlob(content)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			entries[first] = object.TreeEntry{Name: first, Mode: filemode.Regular, Hash: id}
			continue
		}

		if sub[first] == nil {
			sub[first] = map[string][]byte{}
		}
		sub[first][p] = content
	}
	for name, subEdits := range sub {
		full := name
		if dir != "" {
			full = dir + "/" + name
		}
		var child *object.Tree
		if old, exists := entries[name]; exists {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("write under %s: %w", full, ErrSymlinkInPath)
			}
			var err error
			if child, err = r.Git.TreeObject(old.Hash); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", full, err)
			}
		}
		id, err := r.writeTree(child, full, subEdits)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if id == emptyTree {
			delete(entries, name)
			continue
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: id}
	}
	out := &object.Tree{}
	for _, e := range entries {
		out.Entries = append(out.Entries, e)
	}
	// Git orders tree entries by name, with folders compared as if ending in "/".
	sort.Slice(out.Entries, func(i, j int) bool { return sortKey(out.Entries[i]) < sortKey(out.Entries[j]) })
	if len(out.Entries) == 0 {
		return emptyTree, nil
	}
	obj := r.Git.Storer.NewEncodedObject()
	if err := out.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.Git.Storer.SetEncodedObject(obj)
}

var emptyTree = plumbing.NewHash("4b825dc642cb6eb9a060e54bf8d69288fbee4904")

func sortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

func (r *Repo) writeBlob(content []byte) (plumbing.Hash, error) {
	obj := r.Git.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.Git.Storer.SetEncodedObject(obj)
}

// ErrRefMoved is returned when a branch no longer points where the caller
// expected: another writer got there first.
var ErrRefMoved = errors.New("branch moved")

// SetBranch moves refs/heads/branch from old to new, failing with ErrRefMoved
// when it no longer points at old (zero old: the branch must not exist).
//
// It updates the reference as git does: the new value goes to
// <ref>.lock (created exclusively, so git and other writers wait), is
// flushed, and is renamed over the reference. A full disk or a crash leaves
// the old value, never an empty or half-written reference (go-git's own
// update truncates the file before writing it).
func (r *Repo) SetBranch(branch string, old, new plumbing.Hash) error {
	name := plumbing.NewBranchReferenceName(branch)
	if err := name.Validate(); err != nil || strings.Contains(branch, "..") {
		return fmt.Errorf("branch %q: not a valid branch name", branch)
	}
	gd := r.GitDir()
	if gd == "" {
		return fmt.Errorf("update %s: the repository has no folder", branch)
	}
	file := filepath.Join(gd, filepath.FromSlash(name.String()))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("update %s: %w", branch, err)
	}
	lock := file + ".lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("update %s: %s exists: another git command is updating the branch (remove the file if none is running)", branch, lock)
	}
	if err != nil {
		return fmt.Errorf("update %s: %w", branch, err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(lock)
		}
	}()
	cur, err := r.Git.Storer.Reference(name)
	switch {
	case old.IsZero() && err == nil:
		return fmt.Errorf("create %s: %w", branch, ErrRefMoved)
	case old.IsZero() && !errors.Is(err, plumbing.ErrReferenceNotFound):
		return fmt.Errorf("read %s: %w", branch, err)
	case !old.IsZero() && (err != nil || cur.Hash() != old):
		return fmt.Errorf("update %s: %w", branch, ErrRefMoved)
	}
	if _, err := f.WriteString(new.String() + "\n"); err != nil {
		return fmt.Errorf("update %s: %w", branch, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("update %s: %w", branch, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("update %s: %w", branch, err)
	}
	done = true
	if err := os.Rename(lock, file); err != nil {
		os.Remove(lock)
		return fmt.Errorf("update %s: %w", branch, err)
	}
	return nil
}

// CommitMessage returns a commit's message.
func (r *Repo) CommitMessage(h plumbing.Hash) (string, error) {
	c, err := r.Git.CommitObject(h)
	if err != nil {
		return "", err
	}
	return c.Message, nil
}

// signCommit returns an armored detached signature of the commit's encoding
// without a signature, as git computes it.
func signCommit(c *object.Commit, key *openpgp.Entity) (string, error) {
	unsigned := r0(c)
	obj := &plumbing.MemoryObject{}
	if err := unsigned.EncodeWithoutSignature(obj); err != nil {
		return "", err
	}
	rd, err := obj.Reader()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := openpgp.ArmoredDetachSign(&b, key, rd, nil); err != nil {
		return "", fmt.Errorf("sign commit: %w", err)
	}
	return b.String(), nil
}

func r0(c *object.Commit) *object.Commit {
	cp := *c
	cp.PGPSignature = ""
	return &cp
}
