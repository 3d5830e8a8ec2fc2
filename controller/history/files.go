package history

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/gitrepo"
)

// entryAt is what key k names at commit i. A commit that did not touch k
// holds what its first parent holds there (that is what touching means), so
// the answer is at the nearest commit of k's postings on i's first-parent
// chain; none means k was never there.
func (ix *Index) entryAt(i, k int32) Entry {
	post := ix.postings(k)
	for {
		j := sort.Search(len(post), func(x int) bool { return post[x] > i }) - 1
		if j < 0 {
			return Entry{}
		}
		for i > post[j] {
			ps := ix.commits[i].parents
			if len(ps) == 0 || ps[0] < 0 {
				// A root, or a first parent not in the repository: the
				// commit was compared with the empty tree, so k was absent.
				return Entry{}
			}
			i = ps[0]
		}
		if i == post[j] {
			e := ix.commits[i]
			x := sort.Search(len(e.keys), func(x int) bool { return e.keys[x] >= k })
			return e.vals[x]
		}
	}
}

// EntryAt returns what key (KeyOf of a path) names in the tree of commit h,
// from the index alone.
func (ix *Index) EntryAt(h plumbing.Hash, key string) (Entry, error) {
	i, ok := ix.pos[h]
	if !ok {
		return Entry{}, fmt.Errorf("commit %s is not in the history index", h)
	}
	k, ok := ix.keyPos[key]
	if !ok {
		return Entry{}, nil // no commit ever had it
	}
	return ix.entryAt(i, k), nil
}

// Files answers what a path of the release repository holds at an indexed
// commit: the index gives the entry of the path's key (its release folder,
// its governed file, its top-level entry), and only the small trees below
// that key are read. It never reads the releases folder, whose thousands of
// entries change with every commit. A Files is for one goroutine.
type Files struct {
	ix *Index
	rd *reader
}

// Files returns the path resolver of the index over r's objects.
func (ix *Index) Files(r *gitrepo.Repo) *Files {
	return &Files{ix: ix, rd: newReader(r)}
}

// At returns what p (a slash-separated path relative to the release
// repository) names at commit h: Absent when nothing is there.
func (f *Files) At(h plumbing.Hash, p string) (Entry, error) {
	key := KeyOf(p)
	e, err := f.ix.EntryAt(h, key)
	if err != nil || p == key {
		return e, err
	}
	rest := strings.Split(strings.TrimPrefix(p, key+"/"), "/")
	for _, name := range rest {
		if e.Kind != Dir {
			return Entry{}, nil
		}
		b, err := f.rd.tree(e.ID)
		if err != nil {
			return Entry{}, err
		}
		re, ok, err := find(b, name)
		if err != nil {
			return Entry{}, fmt.Errorf("tree %s: %w", e.ID, err)
		}
		if !ok {
			return Entry{}, nil
		}
		e = entryOf(&re)
	}
	return e, nil
}
