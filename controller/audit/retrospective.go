package audit

import (
	"fmt"
	"slices"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
)

// Rules of the emergency procedure's after-the-fact approvals (typeRules,
// a retrospective gate not passed by its due date, or passed on the
// branch only after it.
const (
	RuleRetrospectiveOverdue = "retrospective-overdue"
	RuleRetrospectiveLate    = "retrospective-late"
)

// retrospectives checks the emergency releases at the tip: each gate one
// went live without must have passed by its due date (gate.Status.At
// decides overdue). One still owed at now is overdue; one that passed is
// late when the commit of the branch from which on it passed was made after
// the due date. Only releases whose type's rule is emergency are read.
func (a *auditor) retrospectives(chain []history.Commit, tip plumbing.Hash, now time.Time) ([]Violation, error) {
	pol, err := a.policy(tip)
	if err != nil || pol == nil {
		return nil, err // no policy at the tip: the walk has reported it
	}
	tree, err := a.ix.TreeAt(a.r, tip)
	if err != nil {
		return nil, err
	}
	var all *loader.Snapshot
	if a.carry.snap != nil && a.carry.at == tip {
		all = a.carry.snap // the walk's bookings are the tip's
	} else if all, err = loader.LoadReleases(tree, nil, loader.Options{Cache: a.cache}); err != nil {
		return nil, fmt.Errorf("read releases at %s: %w", tip, err)
	}
	books, err := all.Bookings()
	if err != nil {
		return nil, fmt.Errorf("read releases at %s: %w", tip, err)
	}
	var ids []string
	for _, b := range books {
		if b.Problem == "" && pol.TypeRule(b.Type).Kind == document.TypeEmergency {
			ids = append(ids, b.Release)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	snap, err := loader.LoadReleases(tree, ids, loader.Options{Cache: a.cache})
	if err != nil {
		return nil, fmt.Errorf("read releases at %s: %w", tip, err)
	}
	led, err := a.ledger(tip)
	if err != nil {
		return nil, err
	}
	tipSubject := ""
	if co, err := a.r.Git.CommitObject(tip); err == nil {
		tipSubject = subject(co.Message)
	}
	var out []Violation
	for _, id := range ids {
		st, err := evaluate.Release(pol, snap, id, evaluate.Options{Provenance: led})
		if err != nil {
			return nil, fmt.Errorf("evaluate %s at %s: %w", id, tip, err)
		}
		for _, r := range st.At(now).Retrospectives {
			switch {
			case r.Overdue:
				out = append(out, Violation{Commit: tip.String(), Subject: tipSubject, Rule: RuleRetrospectiveOverdue, Release: id, Clause: "R-5.1",
					Message: fmt.Sprintf("emergency release %s went live without gate %s, which was due by %s and has not passed as of %s", id, r.Gate, r.Due, now.In(pol.Location).Format(time.RFC3339))})
			case r.Passed && r.Due != "":
				v, err := a.lateRetrospective(chain, id, r.Gate, r.Due)
				if err != nil {
					return nil, err
				}
				if v != nil {
					out = append(out, *v)
				}
			}
		}
	}
	return out, nil
}

// lateRetrospective finds the commit of the first-parent chain from which on
// gate has passed for rel (each commit judged under its own policy) and
// reports it when it was committed after due.
func (a *auditor) lateRetrospective(chain []history.Commit, rel, gateID, due string) (*Violation, error) {
	dueAt, err := document.ParseTime(due)
	if err != nil {
		return nil, nil // an unreadable due date is overdue, never passed: not here
	}
	key := document.ReleaseDir(rel)
	var since plumbing.Hash
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		if !slices.Contains(c.Keys, key) {
			continue
		}
		pol, err := a.policy(c.Hash)
		if err != nil {
			return nil, err
		}
		if pol == nil {
			break
		}
		passed, err := a.passedAt(c.Hash, pol, rel)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(passed, gateID) {
			break
		}
		since = c.Hash
	}
	if since.IsZero() {
		return nil, nil // passed before the walk began (--since): judged then
	}
	// A commit's date is what its committer says: one dated before a
	// commit it follows on the branch was made after that one, so the
	// branch's time at a commit is the latest date up to it.
	var at time.Time
	var co *object.Commit
	for _, c := range chain {
		o, err := a.r.Git.CommitObject(c.Hash)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", c.Hash, err)
		}
		if o.Committer.When.After(at) {
			at = o.Committer.When
		}
		if c.Hash == since {
			co = o
			break
		}
	}
	if co == nil || !at.After(dueAt) {
		return nil, nil
	}
	return &Violation{Commit: since.String(), Subject: subject(co.Message), Rule: RuleRetrospectiveLate, Release: rel, Clause: "R-5.1",
		Message: fmt.Sprintf("emergency release %s went live without gate %s, due by %s; it passed only at commit %s, on the branch no earlier than %s", rel, gateID, due, short(since.String()), at.In(dueAt.Location()).Format(time.RFC3339))}, nil
}
