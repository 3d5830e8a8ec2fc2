package evaluate

import (
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
)

// memoTree answers Stat and List from what it already asked its tree, for
// one evaluation: every gate of a release digests mostly the same files, and
// in a work tree each Stat reads and hashes the file again. Within one
// evaluation a file therefore has one content, even if it changes on disk
// meanwhile.
type memoTree struct {
	source.Tree
	stats map[string]statResult
	lists map[string]listResult
}

type statResult struct {
	e   source.Entry
	err error
}

type listResult struct {
	es  []source.Entry
	err error
}

func memo(t source.Tree) *memoTree {
	if m, ok := t.(*memoTree); ok {
		return m
	}
	return &memoTree{Tree: t, stats: map[string]statResult{}, lists: map[string]listResult{}}
}

// seeded is memo(t) knowing already the content ids of the release's
// documents as the loader read them (loader.Doc.ID: the hash of the very
// bytes it decoded), so the gates' digests bind the content the evaluation
// judges, and a work tree's files are not read and hashed a second time (on
// 10,000 releases that was a fifth of relgate status). Only the ids are
// known (Size is 0): the entries answer the digests of the release folder,
// whose files nothing else in an evaluation stats. A path the loader kept no
// document for (absent, a link, too large) is asked of the tree.
func seeded(t source.Tree, r *loader.Release) *memoTree {
	m := memo(t)
	add := func(d *loader.Doc) {
		if d == nil || d.ID.IsZero() {
			return
		}
		if _, ok := m.stats[d.Path]; !ok {
			m.stats[d.Path] = statResult{e: source.Entry{Path: d.Path, ID: d.ID}}
		}
	}
	for _, d := range r.Files {
		add(d)
	}
	for _, a := range r.Approvals {
		add(a.Doc)
	}
	return m
}

// Stat implements source.Tree.
func (m *memoTree) Stat(p string) (source.Entry, error) {
	if r, ok := m.stats[p]; ok {
		return r.e, r.err
	}
	e, err := m.Tree.Stat(p)
	m.stats[p] = statResult{e, err}
	return e, err
}

// List implements source.Tree.
func (m *memoTree) List(dir string) ([]source.Entry, error) {
	if r, ok := m.lists[dir]; ok {
		return append([]source.Entry(nil), r.es...), r.err
	}
	es, err := m.Tree.List(dir)
	m.lists[dir] = listResult{append([]source.Entry(nil), es...), err}
	return es, err
}
