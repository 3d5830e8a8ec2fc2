package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/source"
)

// MaxRangeCommits bounds the commits a pull request's range may hold before
// relgate refuses to search it for the commits that added approvals.
const MaxRangeCommits = 5000

// Introduction is the commit that gave a file its current content.
type Introduction struct {
	Commit      string
	AuthorName  string
	AuthorEmail string
	Signed      bool
	commit      *object.Commit
}

// CommitID is the introducing commit's id.
func (i *Introduction) CommitID() string { return i.Commit }

// AuthorEmailAddress is the introducing commit's author email.
func (i *Introduction) AuthorEmailAddress() string { return i.AuthorEmail }

// VerifiedBy reports whether the commit carries a valid OpenPGP signature by
// one of the armored public keys.
func (i *Introduction) VerifiedBy(armoredKeys []string) bool {
	if i == nil || i.commit == nil || i.commit.PGPSignature == "" || len(armoredKeys) == 0 {
		return false
	}
	_, err := i.commit.Verify(strings.Join(armoredKeys, "\n"))
	return err == nil
}

// Introductions finds, for each path, the commit in base..head that gave the
// path the content it has at head. Paths whose content at head equals that at
// base are not in the result: they were on the protected branch already.
func (r *Repo) Introductions(base, head plumbing.Hash, prefix string, paths []string) (map[string]*Introduction, error) {
	out := map[string]*Introduction{}
	if len(paths) == 0 {
		return out, nil
	}
	headTree, err := r.TreeAt(head, prefix)
	if err != nil {
		return nil, err
	}
	baseTree, err := r.TreeAt(base, prefix)
	if err != nil {
		return nil, err
	}
	want := map[string]source.BlobID{}
	for _, p := range paths {
		h, err := headTree.Stat(p)
		if err != nil {
			continue
		}
		if b, err := baseTree.Stat(p); err == nil && b.ID == h.ID {
			continue
		}
		want[p] = h.ID
	}
	if len(want) == 0 {
		return out, nil
	}
	stop := map[plumbing.Hash]bool{base: true}
	if hc, err := r.Git.CommitObject(head); err == nil {
		if bc, err := r.Git.CommitObject(base); err == nil {
			if mbs, err := hc.MergeBase(bc); err == nil {
				for _, mb := range mbs {
					stop[mb.Hash] = true
				}
			}
		}
	}
	queue := []plumbing.Hash{head}
	seen := map[plumbing.Hash]bool{head: true}
	for n := 0; len(queue) > 0 && len(want) > 0; n++ {
		if n >= MaxRangeCommits {
			return nil, fmt.Errorf("more than %d commits between base and head", MaxRangeCommits)
		}
		h := queue[0]
		queue = queue[1:]
		c, err := r.Git.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", h, err)
		}
		t, err := r.TreeAt(h, prefix)
		if err != nil {
			return nil, err
		}
		var parents []*Tree
		for _, ph := range c.ParentHashes {
			pt, err := r.TreeAt(ph, prefix)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			if pt != nil {
				parents = append(parents, pt)
			}
			if !seen[ph] && !stop[ph] {
				seen[ph] = true
				queue = append(queue, ph)
			}
		}
		for p, id := range want {
			e, err := t.Stat(p)
			if err != nil || e.ID != id {
				continue
			}
			inParent := false
			for _, pt := range parents {
				if pe, err := pt.Stat(p); err == nil && pe.ID == id {
					inParent = true
				}
			}
			if !inParent {
				out[p] = &Introduction{Commit: h.String(), AuthorName: c.Author.Name, AuthorEmail: c.Author.Email,
					Signed: c.PGPSignature != "", commit: c}
				delete(want, p)
			}
		}
	}
	return out, nil
}

// ChangedPaths lists the files that differ between two commits under the
// given folders, comparing tree ids level by level so that an unchanged
// folder costs nothing however many files it holds.
func (r *Repo) ChangedPaths(base, head plumbing.Hash, prefix string) ([]string, error) {
	bt, err := r.TreeAt(base, prefix)
	if err != nil {
		return nil, err
	}
	ht, err := r.TreeAt(head, prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	err = diffTrees(r, bt.dirs[""], ht.dirs[""], "", &out)
	sort.Strings(out)
	return out, err
}

func diffTrees(r *Repo, a, b *object.Tree, prefix string, out *[]string) error {
	entries := map[string][2]*object.TreeEntry{}
	if a != nil {
		for i := range a.Entries {
			e := &a.Entries[i]
			x := entries[e.Name]
			x[0] = e
			entries[e.Name] = x
		}
	}
	if b != nil {
		for i := range b.Entries {
			e := &b.Entries[i]
			x := entries[e.Name]
			x[1] = e
			entries[e.Name] = x
		}
	}
	for name, pair := range entries {
		ea, eb := pair[0], pair[1]
		if ea != nil && eb != nil && ea.Hash == eb.Hash && ea.Mode == eb.Mode {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "/" + name
		}
		sub := func(e *object.TreeEntry) (*object.Tree, error) {
			if e == nil || e.Mode != filemode.Dir {
				return nil, nil
			}
			return r.Git.TreeObject(e.Hash)
		}
		ta, err := sub(ea)
		if err != nil {
			return err
		}
		tb, err := sub(eb)
		if err != nil {
			return err
		}
		if ta != nil || tb != nil {
			if err := diffTrees(r, ta, tb, p, out); err != nil {
				return err
			}
		}
		if (ea != nil && ea.Mode != filemode.Dir) || (eb != nil && eb.Mode != filemode.Dir) {
			*out = append(*out, p)
		}
	}
	return nil
}
