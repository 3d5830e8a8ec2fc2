package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/gitrepo"
)

// rawEntry is one entry of a git tree object as stored:
// "<octal mode> <name>\x00<20-byte id>".
type rawEntry struct {
	name []byte
	dir  bool
	mode []byte
	id   []byte // 20 bytes, aliasing the tree's buffer
}

var errBadTree = errors.New("malformed tree object")

// next parses the entry at the start of b and returns the rest.
func next(b []byte) (rawEntry, []byte, error) {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return rawEntry{}, nil, errBadTree
	}
	nul := bytes.IndexByte(b[sp+1:], 0)
	if nul < 0 || sp+1+nul+21 > len(b) {
		return rawEntry{}, nil, errBadTree
	}
	end := sp + 1 + nul
	e := rawEntry{mode: b[:sp], name: b[sp+1 : end], id: b[end+1 : end+21]}
	e.dir = string(e.mode) == "40000"
	return e, b[end+21:], nil
}

// cmpEntry orders entries as git does: a folder's name compares as if it
// ended in '/'.
func cmpEntry(a, b rawEntry) int {
	n := min(len(a.name), len(b.name))
	if c := bytes.Compare(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	ca, cb := suffix(a, n), suffix(b, n)
	switch {
	case ca < cb:
		return -1
	case ca > cb:
		return 1
	}
	return 0
}

func suffix(e rawEntry, n int) int {
	if len(e.name) > n {
		return int(e.name[n])
	}
	if e.dir {
		return '/'
	}
	return -1 // the name ends here: shorter sorts first
}

// diffRaw walks two raw trees in step and calls fn for every name whose
// entry differs (added, removed, other id or mode). Equal entries are skipped
// without looking further: an unchanged folder costs one comparison.
func diffRaw(a, b []byte, fn func(name []byte, ea, eb *rawEntry)) error {
	var ea, eb rawEntry
	var err error
	haveA, haveB := false, false
	for {
		if !haveA && len(a) > 0 {
			if ea, a, err = next(a); err != nil {
				return err
			}
			haveA = true
		}
		if !haveB && len(b) > 0 {
			if eb, b, err = next(b); err != nil {
				return err
			}
			haveB = true
		}
		switch {
		case !haveA && !haveB:
			return nil
		default:
			haveA, haveB = step(&ea, &eb, haveA, haveB, fn)
		}
	}
}

// step compares the current entries of two sorted trees (at least one is
// present), reports a difference to fn, and says which of them it consumed.
func step(ea, eb *rawEntry, haveA, haveB bool, fn func(name []byte, ea, eb *rawEntry)) (bool, bool) {
	c := 0
	switch {
	case !haveB:
		c = -1
	case !haveA:
		c = 1
	default:
		c = cmpEntry(*ea, *eb)
	}
	switch {
	case c < 0:
		fn(ea.name, ea, nil)
		return false, haveB
	case c > 0:
		fn(eb.name, nil, eb)
		return haveA, false
	}
	if !bytes.Equal(ea.id, eb.id) || !bytes.Equal(ea.mode, eb.mode) {
		fn(ea.name, ea, eb)
	}
	return false, false
}

// find returns the entry named name in a raw tree.
func find(tree []byte, name string) (rawEntry, bool, error) {
	for len(tree) > 0 {
		e, rest, err := next(tree)
		if err != nil {
			return rawEntry{}, false, err
		}
		if string(e.name) == name {
			return e, true, nil
		}
		tree = rest
	}
	return rawEntry{}, false, nil
}

// reader reads raw objects, keeping recently read trees: in a walk from old
// to new commits, a commit's trees are its child's parent trees.
type reader struct {
	repo  *gitrepo.Repo
	packs *packs
	trees map[plumbing.Hash]*ptree
	order []plumbing.Hash
	// Objects counts the objects read from the repository.
	Objects int
}

const treeCacheSize = 64

func newReader(r *gitrepo.Repo) *reader {
	return &reader{repo: r, trees: map[plumbing.Hash]*ptree{}}
}

// bulk switches to reading packs directly, for a pass over many commits.
func (rd *reader) bulk() error {
	if rd.packs != nil {
		return nil
	}
	ps, err := openPacks(rd.repo.GitDir())
	if err != nil {
		return err
	}
	rd.packs = ps
	return nil
}

func (rd *reader) close() {
	if rd.packs != nil {
		rd.packs.close()
	}
}

func (rd *reader) raw(t plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	if rd.packs == nil {
		return rd.rawStorer(t, h)
	}
	if typ, data, found, err := rd.packs.object(h); found {
		if err != nil {
			return nil, err
		}
		if typ != t {
			return nil, fmt.Errorf("object %s is a %s, not a %s", h, typ, t)
		}
		rd.Objects++
		return data, nil
	}
	return rd.rawStorer(t, h)
}

func (rd *reader) rawStorer(t plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	obj, err := rd.repo.Git.Storer.EncodedObject(t, h)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t, h, err)
	}
	rc, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t, h, err)
	}
	defer rc.Close()
	buf := make([]byte, obj.Size())
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t, h, err)
	}
	rd.Objects++
	return buf, nil
}

func (rd *reader) tree(h plumbing.Hash) ([]byte, error) {
	t, err := rd.ptree(h)
	if err != nil || t == nil {
		return nil, err
	}
	return t.data, nil
}

// ptree returns a tree with room for its entry offsets; nil for the zero id.
func (rd *reader) ptree(h plumbing.Hash) (*ptree, error) {
	if h.IsZero() {
		return nil, nil
	}
	if t, ok := rd.trees[h]; ok {
		return t, nil
	}
	b, err := rd.raw(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	if len(rd.order) >= treeCacheSize {
		delete(rd.trees, rd.order[0])
		rd.order = rd.order[1:]
	}
	t := &ptree{data: b}
	rd.trees[h] = t
	rd.order = append(rd.order, h)
	return t, nil
}

// commit reads a commit's tree and parents from its raw header.
func (rd *reader) commit(h plumbing.Hash) (tree plumbing.Hash, parents []plumbing.Hash, err error) {
	b, err := rd.raw(plumbing.CommitObject, h)
	if err != nil {
		return tree, nil, err
	}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl <= 0 {
			break // the empty line before the message
		}
		line := b[:nl]
		b = b[nl+1:]
		switch {
		case bytes.HasPrefix(line, []byte("tree ")) && len(line) == 45:
			tree = plumbing.NewHash(string(line[5:]))
		case bytes.HasPrefix(line, []byte("parent ")) && len(line) == 47:
			parents = append(parents, plumbing.NewHash(string(line[7:])))
		}
	}
	if tree.IsZero() {
		return tree, nil, fmt.Errorf("commit %s: no tree in its header", h)
	}
	return tree, parents, nil
}

// subtree follows a slash-separated path from a tree; zero when absent.
func (rd *reader) subtree(root plumbing.Hash, path []string) (plumbing.Hash, error) {
	h := root
	for _, name := range path {
		b, err := rd.tree(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		e, ok, err := find(b, name)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("tree %s: %w", h, err)
		}
		if !ok || !e.dir {
			return plumbing.ZeroHash, nil
		}
		copy(h[:], e.id)
	}
	return h, nil
}

// ptree is a raw tree with the offsets where its entries start, computed
// once and carried over to the next version of the same folder.
type ptree struct {
	data []byte
	offs []int32
}

func (t *ptree) offsets() ([]int32, error) {
	if t.offs != nil || len(t.data) == 0 {
		return t.offs, nil
	}
	offs := make([]int32, 0, len(t.data)/40)
	b := t.data
	for len(b) > 0 {
		offs = append(offs, int32(len(t.data)-len(b)))
		var err error
		if _, b, err = next(b); err != nil {
			return nil, err
		}
	}
	t.offs = offs
	return offs, nil
}

// bigTree is the size from which diffTrees skips the common head and tail
// of two versions of a folder by comparing bytes instead of entries.
const bigTree = 4096

// diffTrees is diffRaw for two versions of one folder. For large folders
// (the releases folder holds one entry per release) it compares bytes in
// bulk: the entries before the first differing byte and after the last are
// equal, so only the entries in between are parsed. It then records the new
// version's entry offsets, so the next commit starts from them.
func diffTrees(a, b *ptree, fn func(name []byte, ea, eb *rawEntry)) error {
	if a == nil || b == nil || len(a.data) < bigTree || len(b.data) < bigTree {
		var da, db []byte
		if a != nil {
			da = a.data
		}
		if b != nil {
			db = b.data
		}
		return diffRaw(da, db, fn)
	}
	offs, err := a.offsets()
	if err != nil {
		return err
	}
	p := commonPrefix(a.data, b.data)
	s := commonSuffix(a.data[p:], b.data[p:])
	k := sort.Search(len(offs), func(i int) bool { return int(offs[i]) > p }) - 1
	start := 0
	if k >= 0 {
		start = int(offs[k])
	} else {
		k = 0
	}
	ra, rb := a.data[start:], b.data[start:]
	pos := func(t []byte, rest []byte) int { return len(t) - len(rest) }
	var mid []int32
	var ea, eb rawEntry
	haveA, haveB := false, false
	tailA := len(a.data) // where a's identical tail starts, once found
	for {
		if !haveA && !haveB {
			pa, pb := pos(a.data, ra), pos(b.data, rb)
			if pa >= len(a.data)-s && len(a.data)-pa == len(b.data)-pb {
				tailA = pa
				break // the rest is byte-identical from aligned entry starts
			}
		}
		if !haveA && len(ra) > 0 {
			if ea, ra, err = next(ra); err != nil {
				return err
			}
			haveA = true
		}
		if !haveB && len(rb) > 0 {
			mid = append(mid, int32(pos(b.data, rb)))
			if eb, rb, err = next(rb); err != nil {
				return err
			}
			haveB = true
		}
		switch {
		case !haveA && !haveB:
			tailA = len(a.data)
			goto done
		default:
			haveA, haveB = step(&ea, &eb, haveA, haveB, fn)
		}
	}
done:
	// b's offsets: a's head, the entries parsed, a's tail shifted.
	shift := int32(len(b.data) - len(a.data))
	nb := make([]int32, 0, len(offs)+len(mid))
	nb = append(nb, offs[:k]...)
	nb = append(nb, mid...)
	t := sort.Search(len(offs), func(i int) bool { return int(offs[i]) >= tailA })
	for _, o := range offs[t:] {
		nb = append(nb, o+shift)
	}
	b.offs = nb
	return nil
}

// commonPrefix is the length of the longest common prefix, compared in blocks.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	const block = 256
	for i+block <= n && bytes.Equal(a[i:i+block], b[i:i+block]) {
		i += block
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// commonSuffix is the length of the longest common suffix, compared in blocks.
func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	const block = 256
	for i+block <= n && bytes.Equal(a[len(a)-i-block:len(a)-i], b[len(b)-i-block:len(b)-i]) {
		i += block
	}
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}
