package gitrepo

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrCorrupt is returned by Verify for a repository whose objects cannot all
// be read: a truncated pack, a missing object.
var ErrCorrupt = errors.New("repository is damaged")

// LooksCorrupt tells an error that a damaged object store gives (an object
// that is not there, a pack that ends early or does not inflate) from
// others. It is a hint: Verify decides.
func LooksCorrupt(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, zlib.ErrChecksum) || errors.Is(err, zlib.ErrHeader) || errors.Is(err, ErrCorrupt) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"object not found", "unexpected EOF", "zlib", "packfile", "malformed", "invalid object", "bad object", "checksum"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// CheckPacks is the cheap part of Verify: every pack ends with the checksum
// its index names, so a pack truncated or overwritten after it was written
// is found without reading it. It reads 60 bytes per pack.
func (r *Repo) CheckPacks() error {
	dir := filepath.Join(r.GitDir(), "objects", "pack")
	idxs, err := filepath.Glob(filepath.Join(dir, "pack-*.idx"))
	if err != nil {
		return err
	}
	for _, idx := range idxs {
		want, err := tail(idx, 40)
		if err != nil {
			return fmt.Errorf("%s: %w: %v", filepath.Base(idx), ErrCorrupt, err)
		}
		pack := strings.TrimSuffix(idx, ".idx") + ".pack"
		got, err := tail(pack, 20)
		if err != nil {
			return fmt.Errorf("%s: %w: %v", filepath.Base(pack), ErrCorrupt, err)
		}
		if !bytes.Equal(got, want[:20]) {
			return fmt.Errorf("%s does not end with the checksum its index names (truncated or overwritten): %w", filepath.Base(pack), ErrCorrupt)
		}
	}
	return nil
}

func tail(name string, n int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() < n+12 {
		return nil, fmt.Errorf("only %d bytes", info.Size())
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, info.Size()-n); err != nil {
		return nil, err
	}
	return buf, nil
}

// Verify checks that what relgate reads can be read: the packs (CheckPacks),
// and for every reference, every commit of its history and every tree and
// blob of its tip. It returns an error wrapping ErrCorrupt naming the first
// thing that fails. Its cost is one pass over the history and the tips'
// trees, so callers run it when a read failed, not on every read.
func (r *Repo) Verify() error {
	if err := r.CheckPacks(); err != nil {
		return err
	}
	refs, err := r.Git.Storer.IterReferences()
	if err != nil {
		return fmt.Errorf("references: %w: %v", ErrCorrupt, err)
	}
	var tips []*plumbing.Reference
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference {
			tips = append(tips, ref)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("references: %w: %v", ErrCorrupt, err)
	}
	shallow := map[plumbing.Hash]bool{}
	if sh, err := r.Git.Storer.Shallow(); err == nil {
		for _, h := range sh {
			shallow[h] = true
		}
	}
	seen := map[plumbing.Hash]bool{}
	for _, ref := range tips {
		tip := ref.Hash()
		c, err := r.Git.CommitObject(tip)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			// A reference may name a tag or a tree; only what is missing is damage.
			if _, err := r.Git.Storer.EncodedObject(plumbing.AnyObject, tip); err != nil {
				return fmt.Errorf("%s names %s, which is missing: %w: %v", ref.Name(), tip, ErrCorrupt, err)
			}
			continue
		}
		if err != nil {
			if _, terr := r.Git.TagObject(tip); terr == nil {
				continue
			}
			return fmt.Errorf("commit %s (%s): %w: %v", tip, ref.Name(), ErrCorrupt, err)
		}
		if err := r.verifyTree(c.TreeHash, map[plumbing.Hash]bool{}); err != nil {
			return err
		}
		if err := r.verifyHistory(c, seen, shallow); err != nil {
			return err
		}
	}
	return nil
}

func (r *Repo) verifyHistory(tip *object.Commit, seen, shallow map[plumbing.Hash]bool) error {
	stack := []*object.Commit{tip}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[c.Hash] {
			continue
		}
		seen[c.Hash] = true
		if shallow[c.Hash] {
			continue
		}
		for _, p := range c.ParentHashes {
			if seen[p] {
				continue
			}
			pc, err := r.Git.CommitObject(p)
			if err != nil {
				return fmt.Errorf("commit %s (parent of %s): %w: %v", p, c.Hash, ErrCorrupt, err)
			}
			if r.Git.Storer.HasEncodedObject(pc.TreeHash) != nil {
				return fmt.Errorf("tree %s of commit %s: %w: missing", pc.TreeHash, p, ErrCorrupt)
			}
			stack = append(stack, pc)
		}
	}
	return nil
}

func (r *Repo) verifyTree(h plumbing.Hash, seen map[plumbing.Hash]bool) error {
	if seen[h] {
		return nil
	}
	seen[h] = true
	t, err := r.Git.TreeObject(h)
	if err != nil {
		return fmt.Errorf("tree %s: %w: %v", h, ErrCorrupt, err)
	}
	for _, e := range t.Entries {
		switch e.Mode {
		case filemode.Dir:
			if err := r.verifyTree(e.Hash, seen); err != nil {
				return err
			}
		case filemode.Submodule:
		default:
			if err := r.Git.Storer.HasEncodedObject(e.Hash); err != nil {
				return fmt.Errorf("blob %s (%s): %w: missing", e.Hash, e.Name, ErrCorrupt)
			}
		}
	}
	return nil
}

// BrokenSuffix is what Rebuild appends to the folder it moves aside.
const BrokenSuffix = ".broken-"

// Rebuild moves a damaged bare repository aside to <dir>.broken-<time>
// (removing any older such copy: one is kept for a post-mortem, not a pile
// of them) and puts an empty repository with the same configuration (its
// remotes) in its place, reopening r there. The caller fetches again.
// A repository with a work tree is never rebuilt: it holds work nothing can
// fetch back.
func (r *Repo) Rebuild(now time.Time) (aside string, err error) {
	if r.WorkDir != "" {
		return "", fmt.Errorf("rebuild %s: only a bare mirror can be rebuilt; it has a work tree", r.WorkDir)
	}
	dir := r.GitDir()
	if dir == "" {
		return "", errors.New("rebuild: the repository has no folder")
	}
	cfg, cfgErr := os.ReadFile(filepath.Join(dir, "config"))
	r.Close()
	old, _ := filepath.Glob(dir + BrokenSuffix + "*")
	for _, o := range old {
		if err := os.RemoveAll(o); err != nil {
			return "", fmt.Errorf("rebuild %s: remove the older copy %s: %w", dir, o, err)
		}
	}
	aside = dir + BrokenSuffix + now.UTC().Format("20060102T150405Z")
	if err := os.Rename(dir, aside); err != nil {
		return "", fmt.Errorf("rebuild %s: move it aside: %w", dir, err)
	}
	if _, err := git.PlainInit(dir, true); err != nil {
		return aside, fmt.Errorf("rebuild %s: %w", dir, err)
	}
	if cfgErr == nil {
		// The old configuration names the remotes; a damaged one is not kept.
		if _, err := config.ReadConfig(bytes.NewReader(cfg)); err == nil {
			if err := os.WriteFile(filepath.Join(dir, "config"), cfg, 0o644); err != nil {
				return aside, fmt.Errorf("rebuild %s: %w", dir, err)
			}
		}
	}
	nr, err := open(dir, "")
	if err != nil {
		return aside, err
	}
	*r = *nr
	return aside, nil
}

// RefNames lists the references under prefix (refs/remotes/origin/), for a
// caller that fetches them again after Rebuild. Reading references does not
// read objects, so it works on a damaged repository.
func (r *Repo) RefNames(prefix string) ([]plumbing.ReferenceName, error) {
	it, err := r.Git.Storer.IterReferences()
	if err != nil {
		return nil, err
	}
	var out []plumbing.ReferenceName
	err = it.ForEach(func(ref *plumbing.Reference) error {
		if strings.HasPrefix(ref.Name().String(), prefix) {
			out = append(out, ref.Name())
		}
		return nil
	})
	if errors.Is(err, storer.ErrStop) {
		err = nil
	}
	return out, err
}
