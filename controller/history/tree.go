package history

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/source"
)

// Tree is the release repository at an indexed commit, answering like
// gitrepo.Tree (which it wraps) but finding what lies at or below a key (a
// release folder, a governed file, relgate.yaml) through the index and the
// small trees below the key. gitrepo.Tree decodes each folder on the way,
// and the releases folder has an entry per release: evaluating one change
// would cost a decode of ten thousand entries at each of its commits.
// Everything else (the folders above the keys, invalid paths) is the
// wrapped tree's answer.
type Tree struct {
	*gitrepo.Tree
	mu    sync.Mutex // Files is for one goroutine; a tree may be read by several
	files *Files
	at    plumbing.Hash
}

var _ source.Tree = (*Tree)(nil)

// TreeAt returns the release repository at commit h: a Tree when ix
// indexes h, otherwise gitrepo's. The errors are gitrepo.Repo.TreeAt's.
func (ix *Index) TreeAt(r *gitrepo.Repo, h plumbing.Hash) (source.Tree, error) {
	gt, err := r.TreeAt(h, ix.prefix)
	if err != nil {
		return nil, err
	}
	if _, ok := ix.pos[h]; !ok {
		return gt, nil
	}
	return &Tree{Tree: gt, files: ix.Files(r), at: h}, nil
}

// keyed reports whether p lies at or below a key of the index, so Files
// answers for it; it is the key's own folder or file, or below it.
func keyed(p string) bool {
	if !fs.ValidPath(p) || p == "." || p == "" {
		return false
	}
	top, rest, nested := strings.Cut(p, "/")
	d := depth[top]
	for ; d > 0; d-- {
		if !nested {
			return false // a folder above the keys
		}
		_, rest, nested = strings.Cut(rest, "/")
	}
	return true
}

// Stat implements source.Tree.
func (t *Tree) Stat(p string) (source.Entry, error) {
	if !keyed(p) {
		return t.Tree.Stat(p)
	}
	t.mu.Lock()
	e, err := t.files.At(t.at, p)
	t.mu.Unlock()
	if err != nil {
		return source.Entry{}, err
	}
	out := source.Entry{Path: p, ID: source.BlobID(e.ID)}
	switch e.Kind {
	case File:
		return out, nil
	case Other:
		out.NotRegular = true
		return out, fmt.Errorf("%s: %w", p, source.ErrNotRegular)
	}
	return source.Entry{}, fs.ErrNotExist
}

// Read implements source.Tree.
func (t *Tree) Read(p string) ([]byte, error) {
	e, err := t.Stat(p)
	if err != nil {
		return nil, err
	}
	return t.ReadBlob(e.ID)
}

// List implements source.Tree: the regular files under dir, sorted, links
// and submodules marked NotRegular, folders whose names start with a dot
// left out (as gitrepo.Tree lists them).
func (t *Tree) List(dir string) ([]source.Entry, error) {
	d := strings.Trim(dir, "/")
	if !keyed(d) {
		return t.Tree.List(dir)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.files.At(t.at, d)
	if err != nil {
		return nil, err
	}
	if e.Kind != Dir {
		return nil, nil
	}
	var out []source.Entry
	if err := t.walk(e.ID, d, &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (t *Tree) walk(id plumbing.Hash, prefix string, out *[]source.Entry) error {
	b, err := t.files.rd.tree(id)
	if err != nil {
		return fmt.Errorf("read tree %s at %s: %w", prefix, t.Name(), err)
	}
	for len(b) > 0 {
		var re rawEntry
		if re, b, err = next(b); err != nil {
			return fmt.Errorf("read tree %s at %s: %w", prefix, t.Name(), err)
		}
		p := prefix + "/" + string(re.name)
		en := entryOf(&re)
		switch en.Kind {
		case Dir:
			if strings.HasPrefix(string(re.name), ".") {
				continue
			}
			if err := t.walk(en.ID, p, out); err != nil {
				return err
			}
		case File:
			*out = append(*out, source.Entry{Path: p, ID: source.BlobID(en.ID)})
		default:
			*out = append(*out, source.Entry{Path: p, ID: source.BlobID(en.ID), NotRegular: true})
		}
	}
	return nil
}
