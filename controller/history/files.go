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
// chain: the one with the highest index, since parents come before their
// children. None means k was never there.
func (ix *Index) entryAt(i, k int32) Entry {
	post := ix.postings(k)
	up := ix.lifts()
	for j := sort.Search(len(post), func(x int) bool { return post[x] > i }) - 1; j >= 0; j-- {
		if p := post[j]; up.onChain(p, i) {
			e := ix.commits[p]
			x := sort.Search(len(e.keys), func(x int) bool { return e.keys[x] >= k })
			return e.vals[x]
		}
	}
	return Entry{}
}

// lifting answers "is p on i's first-parent chain" in O(log n): depth[i]
// counts first parents back to a commit without one (a root, or a first
// parent missing), and up[l][i] is the commit 2^l first parents back.
type lifting struct {
	depth []int32
	up    [][]int32
}

func (ix *Index) lifts() *lifting {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.lift != nil && len(ix.lift.depth) == len(ix.commits) {
		return ix.lift
	}
	n := len(ix.commits)
	l := &lifting{depth: make([]int32, n)}
	first := make([]int32, n)
	for i, e := range ix.commits {
		first[i] = -1
		if len(e.parents) > 0 && e.parents[0] >= 0 {
			first[i] = e.parents[0]
			l.depth[i] = l.depth[e.parents[0]] + 1
		}
	}
	l.up = append(l.up, first)
	for lv := 1; 1<<lv <= n; lv++ {
		prev, cur := l.up[lv-1], make([]int32, n)
		for i := range cur {
			cur[i] = -1
			if prev[i] >= 0 {
				cur[i] = prev[prev[i]]
			}
		}
		l.up = append(l.up, cur)
	}
	ix.lift = l
	return l
}

// onChain reports whether p is i or on i's first-parent chain.
func (l *lifting) onChain(p, i int32) bool {
	d := l.depth[i] - l.depth[p]
	if d < 0 {
		return false
	}
	for lv := 0; d > 0 && i >= 0; lv++ {
		if d&1 == 1 {
			i = l.up[lv][i]
		}
		d >>= 1
	}
	return i == p
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
	if err := diffFiles(rd, a, b, "", &out); err != nil {
		return nil, fmt.Errorf("diff %s and %s: %w", base, head, err)
	}
	sort.Strings(out)
	return slicesCompact(out), nil
}

// diffFiles appends the paths of the files (links, submodules) that differ
// between two trees, below p.
func diffFiles(rd *reader, a, b plumbing.Hash, p string, out *[]string) error {
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
			if err := diffFiles(rd, dirID(ea), dirID(eb), full, out); err != nil && inner == nil {
				inner = err
			}
			if fileOnly(ea) == nil && fileOnly(eb) == nil {
				return
			}
		}
		*out = append(*out, full)
	})
	if err == nil {
		err = inner
	}
	return err
}

// ChangedPaths is the package's ChangedPaths between two commits of the
// index, found from the index when base is on head's first-parent chain (a
// commit and its parent, a branch and where it forked): only the keys the
// commits between them touched can differ, and only the small trees below
// those that do are compared. Otherwise it compares the whole trees.
func (ix *Index) ChangedPaths(r *gitrepo.Repo, base, head plumbing.Hash) ([]string, error) {
	ib, okb := ix.pos[base]
	ih, okh := ix.pos[head]
	if !okb || !okh || !ix.lifts().onChain(ib, ih) {
		return ChangedPaths(r, ix.prefix, base, head)
	}
	if _, err := r.TreeAt(base, ix.prefix); err != nil {
		return nil, err
	}
	if _, err := r.TreeAt(head, ix.prefix); err != nil {
		return nil, err
	}
	cand := map[int32]bool{}
	for i := ih; i != ib; i = ix.commits[i].parents[0] {
		for _, k := range ix.commits[i].keys {
			cand[k] = true
		}
	}
	rd := newReader(r)
	defer rd.close()
	var out []string
	for k := range cand {
		ea, eb := ix.entryAt(ib, k), ix.entryAt(ih, k)
		if ea == eb {
			continue
		}
		key := ix.keys[k]
		if !keyed(key) {
			// A folder above the keys (releases, reports/releases): its
			// entries are keys of their own; it counts only as a file.
			if fileEntry(ea) != fileEntry(eb) {
				out = append(out, key)
			}
			continue
		}
		if ea.Kind == Dir || eb.Kind == Dir {
			if err := diffFiles(rd, dirOf(ea), dirOf(eb), key, &out); err != nil {
				return nil, fmt.Errorf("diff %s and %s: %w", base, head, err)
			}
			if fileEntry(ea) == (Entry{}) && fileEntry(eb) == (Entry{}) {
				continue
			}
		}
		out = append(out, key)
	}
	sort.Strings(out)
	return slicesCompact(out), nil
}

// fileEntry is e when it is not a folder.
func fileEntry(e Entry) Entry {
	if e.Kind == Dir {
		return Entry{}
	}
	return e
}

func dirOf(e Entry) plumbing.Hash {
	if e.Kind == Dir {
		return e.ID
	}
	return plumbing.ZeroHash
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
