package gen

import (
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// dirNode is one directory of the current tree. Entries stay sorted in git's
// order, so a commit re-encodes only the directories on the changed paths
// and replaces one entry in each; every other subtree keeps its id.
type dirNode struct {
	entries []dirEntry
	dirty   bool
	hash    plumbing.Hash

	// The last encoding and where it sits in the pack: the base of the
	// next version's delta.
	prev   []byte
	prevAt packed
	buf    []byte
}

type dirEntry struct {
	name string
	hash plumbing.Hash
	sub  *dirNode // nil for a file
}

// sortKey is the name git sorts a tree entry by: directories compare as if
// their name ended in a slash.
func (e *dirEntry) sortKey() string {
	if e.sub != nil {
		return e.name + "/"
	}
	return e.name
}

// find returns the index of name, or where it would be inserted.
func (d *dirNode) find(name string, dir bool) (int, bool) {
	key := name
	if dir {
		key += "/"
	}
	i := sort.Search(len(d.entries), func(i int) bool { return d.entries[i].sortKey() >= key })
	if i < len(d.entries) && d.entries[i].name == name {
		return i, true
	}
	// A file and a directory of the same name sort apart; look at both keys.
	for j := range d.entries {
		if d.entries[j].name == name {
			return j, true
		}
	}
	return i, false
}

// setFile points path at a blob, creating directories on the way.
func (d *dirNode) setFile(path string, blob plumbing.Hash) {
	d.dirty = true
	name, rest, isDir := strings.Cut(path, "/")
	i, ok := d.find(name, isDir)
	if !ok {
		e := dirEntry{name: name}
		if isDir {
			e.sub = &dirNode{}
		}
		d.entries = append(d.entries, dirEntry{})
		copy(d.entries[i+1:], d.entries[i:])
		d.entries[i] = e
	}
	if isDir {
		d.entries[i].sub.setFile(rest, blob)
		return
	}
	d.entries[i].hash = blob
}

// flush writes the dirty directories below and including d, deepest first,
// and returns d's tree id.
func (d *dirNode) flush(p *packWriter) (plumbing.Hash, error) {
	if !d.dirty {
		return d.hash, nil
	}
	for i := range d.entries {
		if sub := d.entries[i].sub; sub != nil && sub.dirty {
			h, err := sub.flush(p)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			d.entries[i].hash = h
		}
	}
	b := d.buf[:0]
	for i := range d.entries {
		e := &d.entries[i]
		if e.sub != nil {
			b = append(b, "40000 "...)
		} else {
			b = append(b, "100644 "...)
		}
		b = append(b, e.name...)
		b = append(b, 0)
		b = append(b, e.hash[:]...)
	}
	var (
		h   plumbing.Hash
		at  packed
		err error
	)
	if len(b) >= minDeltaSize && d.prev != nil {
		h, at, err = p.putDelta(plumbing.TreeObject, b, d.prev, d.prevAt)
	} else {
		h, at, err = p.put(plumbing.TreeObject, b)
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	d.hash, d.dirty = h, false
	if len(b) >= minDeltaSize {
		// Keep this encoding as the next delta base; reuse the old buffer.
		d.prev, d.buf, d.prevAt = b, d.prev, at
	} else {
		d.buf = b
	}
	return h, nil
}

// dir returns the directory at a slash-separated path below d, or nil.
func (d *dirNode) dir(p string) *dirNode {
	for _, name := range strings.Split(p, "/") {
		i, ok := d.find(name, true)
		if !ok || d.entries[i].sub == nil {
			return nil
		}
		d = d.entries[i].sub
	}
	return d
}
