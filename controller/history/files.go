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

// ChangedPaths lists the paths of the release repository at prefix whose
// file (or link, or submodule) differs between two commits, sorted: what
// gitrepo.Repo.ChangedPaths answers, with its errors, but compared as raw
// tree bytes, so the wide releases folder costs the bytes that differ, not a
// decoded entry per release.
func ChangedPaths(r *gitrepo.Repo, prefix string, base, head plumbing.Hash) ([]string, error) {
	// The same failures as gitrepo's (a commit or the folder missing).
	if _, err := r.TreeAt(base, prefix); err != nil {
		return nil, err
	}
	if _, err := r.TreeAt(head, prefix); err != nil {
		return nil, err
	}
	rd := newReader(r)
	defer rd.close()
	path := splitPrefix(strings.Trim(prefix, "/"))
	if len(path) == 1 && path[0] == "." {
		path = nil
	}
	root := func(c plumbing.Hash) (plumbing.Hash, error) {
		t, _, err := rd.commit(c)
		if err != nil {
			return t, err
		}
		return rd.subtree(t, path)
	}
	a, err := root(base)
	if err != nil {
		return nil, err
	}
	b, err := root(head)
	if err != nil {
		return nil, err
	}
	var out []string
	var walk func(a, b plumbing.Hash, p string) error
	walk = func(a, b plumbing.Hash, p string) error {
		if a == b {
			return nil
		}
		ta, err := rd.ptree(a)
		if err != nil {
			return err
		}
		tb, err := rd.ptree(b)
		if err != nil {
			return err
		}
		var inner error
		err = diffTrees(ta, tb, func(name []byte, ea, eb *rawEntry) {
			full := string(name)
			if p != "" {
				full = p + "/" + full
			}
			if (ea != nil && ea.dir) || (eb != nil && eb.dir) {
				if err := walk(dirID(ea), dirID(eb), full); err != nil && inner == nil {
					inner = err
				}
				if fileOnly(ea) == nil && fileOnly(eb) == nil {
					return
				}
			}
			out = append(out, full)
		})
		if err == nil {
			err = inner
		}
		return err
	}
	if err := walk(a, b, ""); err != nil {
		return nil, fmt.Errorf("diff %s and %s: %w", base, head, err)
	}
	sort.Strings(out)
	return slicesCompact(out), nil
}

// slicesCompact drops repeated paths: a file and a folder of one name are
// two entries of a raw tree, one path.
func slicesCompact(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
