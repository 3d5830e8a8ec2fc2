package audit

import (
	"fmt"
	"reflect"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/source"
)

// carry is what the walk keeps from one evaluated commit for the next: the
// head snapshot of the last evaluation, whose bookings (every release's
// window, for the calendar's overlaps) are those of the release repository
// at commit at. A commit whose first parent is at (or has the same release
// repository as at) takes them and patches only the releases it touches,
// as engine.EvaluateChange patches base's for head: reading every
// release.yaml again at each commit made the walk grow with the number of
// releases times the number of commits.
type carry struct {
	at   plumbing.Hash
	snap *loader.Snapshot
	// links counts the snapshots behind snap whose bookings may not be
	// worked out yet (each holds its documents until they are).
	links int
}

// carryLinks is how many links a carry may have before its bookings are
// worked out and the chain behind it let go: a bound on what the walk
// holds, without reading every release.yaml for a walk of one commit that
// never needs them.
const carryLinks = 32

// follow records that commit h, which changed nothing in the release
// repository (no keys), holds what its first parent holds.
func (c *carry) follow(parent, h plumbing.Hash) {
	if c.snap != nil && c.at == parent {
		c.at = h
	}
}

// stepMode is how evaluateStep works, for tests that hold it to
// engine.EvaluateChange.
type stepMode uint8

const (
	stepCarry      stepMode = iota // carry the bookings (the default)
	stepEngine                     // engine.EvaluateChange at every commit
	stepCheckBooks                 // carry, and check each commit's against a fresh read
)

// evaluateStep is engine.EvaluateChange for a commit of the first-parent
// chain judged against its first parent (base), up to head (the commit, or
// the last of the bot's records of a merge's reviews), with the walk's
// caches: base is an ancestor of head, so the merge base is base and the
// merged tree is head's. Anything else (a history the index does not link)
// goes through engine.EvaluateChange unchanged. TestStepSameAsEngine holds
// the two to the same reports on generated histories.
func (a *auditor) evaluateStep(base, head plumbing.Hash) (*evaluate.GateReport, error) {
	opts := engine.ChangeOptions{Cache: a.cache, Index: a.ix, Policies: a.inForce, MergeAt: a.clock}
	ix, r := a.ix, a.r
	bases, err := ix.MergeBases(base, head)
	if err != nil {
		return nil, err
	}
	if a.step == stepEngine || len(bases) != 1 || bases[0] != base || opts.MergeAt.IsZero() {
		a.carry = carry{}
		return engine.EvaluateChange(r, a.prefix, base, head, opts)
	}
	changed, err := ix.ChangedPaths(r, base, head)
	if err != nil {
		return nil, err
	}
	baseTree, err := ix.TreeAt(r, base)
	if err != nil {
		return nil, err
	}
	headTree, err := ix.TreeAt(r, head)
	if err != nil {
		return nil, err
	}
	touched := evaluate.TouchedReleases(changed)
	baseSnap, err := loader.LoadReleases(baseTree, touched, loader.Options{Cache: opts.Cache})
	if err != nil {
		return nil, err
	}
	headSnap, err := loader.LoadReleases(headTree, touched, loader.Options{Cache: opts.Cache})
	if err != nil {
		return nil, err
	}
	links := 1
	if a.carry.snap != nil && a.carry.at == base {
		// The previous head is base's release repository: its bookings are
		// base's, and head's are them with the touched releases read again.
		baseSnap.BookingsFrom(a.carry.snap, nil)
		headSnap.BookingsFrom(a.carry.snap, touched)
		links = a.carry.links + 1
	} else {
		headSnap.BookingsFrom(baseSnap, touched)
	}
	for _, sn := range []*loader.Snapshot{baseSnap, headSnap} {
		root, err := sn.Tree.List(document.ApprovalsDir)
		if err != nil {
			return nil, err
		}
		paths := make([]string, len(root))
		for i, e := range root {
			paths[i] = e.Path
		}
		if err := sn.Include(paths); err != nil {
			return nil, err
		}
	}
	if err := headSnap.Include(changed); err != nil {
		return nil, err
	}
	ledger, err := provenance.NewWith(r, ix, a.memo, base, head)
	if err != nil {
		return nil, err
	}
	baseLedger, err := provenance.NewWith(r, ix, a.memo, base)
	if err != nil {
		return nil, err
	}
	var pol *policy.Policy
	var warnings []string
	if baseSnap.Policy != nil {
		if pol, warnings, err = opts.Policies.At(base); err != nil {
			return nil, err
		}
	}
	pr := evaluate.PullRequest{Base: baseSnap, Head: headSnap, Changed: changed, Provenance: ledger, BaseProvenance: baseLedger,
		Policy: pol, PolicyWarnings: warnings, MergeAt: opts.MergeAt}
	rep, err := pr.Evaluate()
	if err != nil {
		a.carry = carry{}
		return nil, err
	}
	a.carry = carry{at: head, snap: headSnap, links: links}
	if links < carryLinks && a.step != stepCheckBooks {
		return rep, nil
	}
	// Head's bookings are worked out now, from the carried ones, and the
	// link to them cut, so the walk holds one commit's bookings, not a chain
	// of every commit's snapshots. (Were the loader ever to forget them on
	// the cut, head would read its own again: the same answer, slower.)
	if _, err := headSnap.Bookings(); err != nil {
		a.carry = carry{}
		return rep, nil // the evaluation has reported what it needed of them
	}
	headSnap.BookingsFrom(nil, nil)
	a.carry.links = 0
	if a.step == stepCheckBooks {
		if err := checkBookings(headSnap, headTree, opts.Cache, head); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// checkBookings compares the bookings carried to head with those read afresh
// from its tree (tests).
func checkBookings(s *loader.Snapshot, t source.Tree, cache *loader.Cache, head plumbing.Hash) error {
	got, err := s.Bookings()
	if err != nil {
		return err
	}
	fresh, err := loader.LoadReleases(t, nil, loader.Options{Cache: cache})
	if err != nil {
		return err
	}
	want, err := fresh.Bookings()
	if err != nil {
		return err
	}
	if (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
		return fmt.Errorf("commit %s: the carried bookings differ from a fresh read (%d vs %d)", head, len(got), len(want))
	}
	return nil
}
