package gitrepo

import (
	"container/heap"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrNoMergeBase is returned by MergeBase for commits that share no history
// that this repository holds (unrelated, or a shallow clone cut above it).
var ErrNoMergeBase = errors.New("no common ancestor")

// MergeBase returns the best common ancestor of a and b (the base of git's
// three-dot diff a...b). It walks back from both, newest commit first, and
// stops when every commit still queued is an ancestor of one already
// found, as git does: the cost is the commits since the two parted, not the
// length of the history. Of several candidates (criss-cross merges) it
// returns the newest. A commit the repository lacks (a shallow clone) ends
// its line: that can only find an older base, which makes the change look
// larger, never smaller.
func (r *Repo) MergeBase(a, b plumbing.Hash) (plumbing.Hash, error) {
	if a == b {
		return a, nil
	}
	const (
		fromA = 1 << iota
		fromB
		stale
	)
	flags := map[plumbing.Hash]int{}
	q := &commitQueue{}
	push := func(h plumbing.Hash, f int) error {
		c, err := r.Git.CommitObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read commit %s: %w", h, err)
		}
		flags[h] |= f
		heap.Push(q, c)
		return nil
	}
	if err := push(a, fromA); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := push(b, fromB); err != nil {
		return plumbing.ZeroHash, err
	}
	var best *object.Commit
	for q.live(flags, stale) {
		c := heap.Pop(q).(*object.Commit)
		f := flags[c.Hash] & (fromA | fromB | stale)
		if f == fromA|fromB {
			if best == nil || c.Committer.When.After(best.Committer.When) {
				best = c
			}
			f |= stale
			flags[c.Hash] |= stale
		}
		for _, p := range c.ParentHashes {
			if flags[p]&f == f {
				continue
			}
			if err := push(p, f); err != nil {
				return plumbing.ZeroHash, err
			}
		}
	}
	if best == nil {
		return plumbing.ZeroHash, fmt.Errorf("%s and %s: %w", a, b, ErrNoMergeBase)
	}
	return best.Hash, nil
}

// commitQueue pops the newest commit first.
type commitQueue []*object.Commit

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	return q[i].Committer.When.After(q[j].Committer.When)
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(*object.Commit)) }
func (q *commitQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// live reports whether a queued commit is not yet known to be below a
// common ancestor: only then can the walk still find a better one.
func (q commitQueue) live(flags map[plumbing.Hash]int, stale int) bool {
	for _, c := range q {
		if flags[c.Hash]&stale == 0 {
			return true
		}
	}
	return false
}
