package evaluate

import (
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
