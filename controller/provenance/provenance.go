// Package provenance attributes what a release repository holds to the
// commits that made it, from git history alone: which commit gave a path the
// content it has now, whether a later decision on that path replaced that
// commit's, and every commit that changed a path. Reachability decides, never
// commit dates, which anyone can set. The package gathers; package evaluate
// decides what an attribution is worth (a signature by the right key, the
// right person).
package provenance

import (
	"fmt"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/source"
)

// Commit is a commit that changed a path.
type Commit struct {
	ID             string
	AuthorName     string
	AuthorEmail    string
	CommitterEmail string
	// When is the committer's date: what the commit claims, used only to
	// compare with the dates written in documents, never to order commits.
	When time.Time
	// Parents are the commit's parents' ids.
	Parents []string
	c       *object.Commit
}

// hash is the commit id as a hash.
func (c *Commit) hash() plumbing.Hash {
	if c.c != nil {
		return c.c.Hash
	}
	return plumbing.NewHash(c.ID)
}

// Short is the commit id as messages show it.
func (c *Commit) Short() string { return c.ID[:min(len(c.ID), 12)] }

// VerifiedBy reports whether the commit carries a valid signature by one of
// the keys (armored OpenPGP or SSH public keys).
func (c *Commit) VerifiedBy(keys []string) bool {
	return c != nil && c.c != nil && gitrepo.VerifyCommit(c.c, keys)
}

// Change is one commit that gave a path a content none of its parents had
// there: an edit, an addition, a deletion, or a merge that resolved the path
// to something new. A merge that takes one side's content changes nothing.
type Change struct {
	Commit  *Commit
	Blob    source.BlobID // zero when the commit deleted the path
	Deleted bool
	// Shallow: a parent of the commit is missing (a shallow clone), so what
	// it changed cannot be told.
	Shallow bool
}

// Origin says which commits gave a path its present content.
type Origin struct {
	Path string
	// Commits gave the path this content, and no later change on the path
	// replaced them. Usually one; the same content committed on two branches
	// that were both merged gives two.
	Commits []*Commit
	// Problem says why no commit vouches for the content; empty when one does.
	Problem string
}

// Ledger answers for the history reachable from a set of tips: one commit
// (a revision) or two (a pull request's base and head, whose merge is what
// the evaluation judges).
type Ledger struct {
	r       *gitrepo.Repo
	prefix  string
	ix      *history.Index
	reach   *history.Reach
	tips    []plumbing.Hash
	files   *history.Files
	commits map[plumbing.Hash]*object.Commit
	changes map[string][]Change
	memo    *Memo
}

// Memo keeps what ledgers of one history index find about single commits
// (the commit objects read, and whether each commit changed a path), for
// the many ledgers a history walk makes, one or two at each commit. What a
// commit changed on a path depends only on it and its parents, which every
// ledger that reaches it reaches too (a ledger's history is everything
// reachable from its tips), so the answers hold for all of them.
type Memo struct {
	mu      sync.Mutex
	ix      *history.Index
	commits map[plumbing.Hash]*object.Commit
	changes map[memoKey]memoChange
}

type memoKey struct {
	h plumbing.Hash
	p string
}

type memoChange struct {
	change  Change
	changed bool
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo {
	return &Memo{commits: map[plumbing.Hash]*object.Commit{}, changes: map[memoKey]memoChange{}}
}

// memoMost bounds what a Memo keeps; past it, it starts again.
const memoMost = 1 << 20

// NewWith is New sharing m with other ledgers of the same index (nil: New).
// A Memo first used with another index is not used.
func NewWith(r *gitrepo.Repo, ix *history.Index, m *Memo, tips ...plumbing.Hash) (*Ledger, error) {
	l, err := New(r, ix, tips...)
	if err != nil || m == nil {
		return l, err
	}
	m.mu.Lock()
	if m.ix == nil {
		m.ix = ix
	}
	if m.ix == ix {
		l.memo = m
	}
	m.mu.Unlock()
	return l, nil
}

// New returns the ledger of the history reachable from tips. ix must index
// every commit reachable from them.
func New(r *gitrepo.Repo, ix *history.Index, tips ...plumbing.Hash) (*Ledger, error) {
	reach, err := ix.Reachable(tips...)
	if err != nil {
		return nil, err
	}
	return &Ledger{r: r, prefix: ix.Prefix(), ix: ix, reach: reach, tips: tips,
		files: ix.Files(r), commits: map[plumbing.Hash]*object.Commit{}, changes: map[string][]Change{}}, nil
}

// Open indexes the history of tips (through the index cache in the git
// directory) and returns its ledger.
func Open(r *gitrepo.Repo, prefix string, tips ...plumbing.Hash) (*Ledger, error) {
	ix, _, err := history.Open(r, prefix, tips, history.Options{})
	if err != nil {
		return nil, err
	}
	return New(r, ix, tips...)
}

// Index is the history index the ledger reads.
func (l *Ledger) Index() *history.Index { return l.ix }

// Reaches reports whether a commit is in the ledger's history.
func (l *Ledger) Reaches(h plumbing.Hash) bool { return l.reach.Contains(h) }

func (l *Ledger) commit(h plumbing.Hash) (*object.Commit, error) {
	if c, ok := l.commits[h]; ok {
		return c, nil
	}
	if m := l.memo; m != nil {
		m.mu.Lock()
		c, ok := m.commits[h]
		m.mu.Unlock()
		if ok {
			l.commits[h] = c
			return c, nil
		}
	}
	c, err := l.r.Git.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	l.commits[h] = c
	if m := l.memo; m != nil {
		m.mu.Lock()
		if len(m.commits) >= memoMost {
			m.commits = map[plumbing.Hash]*object.Commit{}
		}
		m.commits[h] = c
		m.mu.Unlock()
	}
	return c, nil
}

// blobAt returns the content id of p at commit h, and whether p exists
// there, as gitrepo.Tree.Stat would: a file, a link or a submodule exists
// (with its id), a folder does not. The history index says what p's key
// holds at h, so only the small trees below the key are read.
func (l *Ledger) blobAt(h plumbing.Hash, p string) (source.BlobID, bool, error) {
	e, err := l.files.At(h, p)
	if err != nil {
		return source.BlobID{}, false, err
	}
	switch e.Kind {
	case history.File, history.Other:
		return source.BlobID(e.ID), true, nil
	}
	return source.BlobID{}, false, nil
}

// Changes returns every commit of the history that changed p, parents
// before children.
func (l *Ledger) Changes(p string) ([]Change, error) {
	if cs, ok := l.changes[p]; ok {
		return cs, nil
	}
	var out []Change
	for _, h := range l.reach.Touching(history.KeyOf(p)) {
		ch, changed, err := l.changeAt(h, p)
		if err != nil {
			return nil, err
		}
		if changed {
			out = append(out, ch)
		}
	}
	l.changes[p] = out
	return out, nil
}

// changeAt says whether commit h of the ledger's history changed p, and how.
func (l *Ledger) changeAt(h plumbing.Hash, p string) (Change, bool, error) {
	key := memoKey{h, p}
	if m := l.memo; m != nil {
		m.mu.Lock()
		mc, ok := m.changes[key]
		m.mu.Unlock()
		if ok {
			return mc.change, mc.changed, nil
		}
	}
	blob, exists, err := l.blobAt(h, p)
	if err != nil {
		return Change{}, false, err
	}
	c, err := l.commit(h)
	if err != nil {
		return Change{}, false, err
	}
	changed := true
	if len(c.ParentHashes) == 0 {
		changed = exists
	}
	for _, ph := range c.ParentHashes {
		// A parent in the repository is in the history of every ledger
		// that reaches h; a missing one (Shallow below) in none.
		if !l.reach.Contains(ph) {
			continue
		}
		pb, pexists, err := l.blobAt(ph, p)
		if err != nil {
			return Change{}, false, err
		}
		if pexists == exists && pb == blob {
			changed = false
			break
		}
	}
	var ch Change
	if changed {
		ch = Change{Commit: wrap(c), Blob: blob, Deleted: !exists, Shallow: l.ix.Shallow(h)}
	}
	if m := l.memo; m != nil {
		m.mu.Lock()
		if len(m.changes) >= memoMost {
			m.changes = map[memoKey]memoChange{}
		}
		m.changes[key] = memoChange{ch, changed}
		m.mu.Unlock()
	}
	return ch, changed, nil
}

func wrap(c *object.Commit) *Commit {
	out := &Commit{ID: c.Hash.String(), AuthorName: c.Author.Name, AuthorEmail: c.Author.Email,
		CommitterEmail: c.Committer.Email, When: c.Committer.When, c: c}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, p.String())
	}
	return out
}

// Origin finds the commits that gave p the content blob. The content counts
// as theirs only when no later change on p replaced it: a file restored to
// an older content (by a revert, or by a merge that takes a stale side) is
// vouched for by nobody, since a decision stands until its author changes it.
func (l *Ledger) Origin(p string, blob source.BlobID) (Origin, error) {
	o := Origin{Path: p}
	changes, err := l.Changes(p)
	if err != nil {
		return o, err
	}
	var intro []Change
	for _, c := range changes {
		if !c.Deleted && c.Blob == blob {
			intro = append(intro, c)
		}
	}
	if len(intro) == 0 {
		o.Problem = "no commit gave it this content: it is not committed"
		for _, c := range changes {
			if c.Shallow {
				o.Problem = "the history is shallow at commit " + c.Commit.Short() + ": fetch the whole history (fetch-depth: 0)"
			}
		}
		return o, nil
	}
	latest := func(set []Change) (out []Change) {
		for _, c := range set {
			replaced := false
			for _, d := range changes {
				if d.Commit.ID != c.Commit.ID && l.ix.IsAncestor(c.Commit.hash(), d.Commit.hash()) {
					replaced = true
					break
				}
			}
			if !replaced {
				out = append(out, c)
			}
		}
		return out
	}
	current := latest(intro)
	if len(current) == 0 {
		last := intro[len(intro)-1]
		by := "a later commit"
		for _, d := range changes {
			if d.Commit.ID != last.Commit.ID && l.ix.IsAncestor(last.Commit.hash(), d.Commit.hash()) {
				by = "commit " + d.Commit.Short()
				break
			}
		}
		o.Problem = fmt.Sprintf("it restores the content commit %s gave it, which %s replaced; a decision stands until its author changes it", last.Commit.Short(), by)
		return o, nil
	}
	for _, c := range latest(changes) {
		if c.Deleted || c.Blob != blob {
			o.Problem = fmt.Sprintf("commit %s changed it on another line of history, and the merge kept the content of commit %s; record it again", c.Commit.Short(), current[0].Commit.Short())
			return o, nil
		}
	}
	for _, c := range current {
		if c.Shallow {
			o.Problem = "the history is shallow at commit " + c.Commit.Short() + ": fetch the whole history (fetch-depth: 0)"
			return o, nil
		}
		o.Commits = append(o.Commits, c.Commit)
	}
	return o, nil
}

// FromCommit describes a commit read elsewhere.
func FromCommit(c *object.Commit) *Commit { return wrap(c) }

// Since returns the changes to p that the commit did not already contain:
// made after it, or on another line of history.
func (l *Ledger) Since(p, commit string) ([]Change, error) {
	changes, err := l.Changes(p)
	if err != nil {
		return nil, err
	}
	at := plumbing.NewHash(commit)
	var out []Change
	for _, c := range changes {
		if !l.ix.IsAncestor(c.Commit.hash(), at) {
			out = append(out, c)
		}
	}
	return out, nil
}
