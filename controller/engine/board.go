package engine

import (
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
)

// Board is every release of the release repository at one commit, each with
// the state and gates package evaluate decides for it under the policy in
// force there: what `status`, the server's status API and the dashboard
// show. It is gathered here once so they cannot disagree.
type Board struct {
	Commit plumbing.Hash
	// Time is the commit's committer time: "now" for whatever is derived
	// from the board alone (a static page of a commit never changes).
	Time     time.Time
	Policy   *policy.Policy
	Warnings []string
	Snapshot *loader.Snapshot
	// Provenance attributes the documents to the commits that made them.
	Provenance *provenance.Ledger
	// Statuses are in release id order.
	Statuses []gate.Status
}

// BoardOptions adjust LoadBoard.
type BoardOptions struct {
	Cache   *loader.Cache
	Workers int
	Lang    string
}

// LoadBoard reads every document of the release repository at prefix at
// commit tip and evaluates every release.
func LoadBoard(r *gitrepo.Repo, prefix string, tip plumbing.Hash, opts BoardOptions) (*Board, error) {
	c, err := r.Git.CommitObject(tip)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", tip, err)
	}
	tree, err := r.TreeAt(tip, prefix)
	if err != nil {
		return nil, err
	}
	snap, err := loader.LoadAll(tree, loader.Options{Cache: opts.Cache, Workers: opts.Workers, Lang: opts.Lang})
	if err != nil {
		return nil, err
	}
	if snap.Policy == nil {
		return nil, fmt.Errorf("%s at %s is missing or invalid; run relgate validate", document.PolicyPath, tree.Name())
	}
	led, err := provenance.Open(r, prefix, tip)
	if err != nil {
		return nil, err
	}
	pol, warnings, err := PolicyInForce(r, prefix, led.Index(), tip)
	if err != nil {
		return nil, err
	}
	if pol.TrustCommitAuthor {
		warnings = append([]string{"the policy trusts commit authorship (trustCommitAuthor): approvals are unauthenticated"}, warnings...)
	}
	b := &Board{Commit: tip, Time: c.Committer.When, Policy: pol, Warnings: warnings, Snapshot: snap, Provenance: led}
	for _, id := range snap.ReleaseIDs() {
		st, err := evaluate.Release(pol, snap, id, evaluate.Options{Provenance: led})
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", id, err)
		}
		b.Statuses = append(b.Statuses, st)
	}
	return b, nil
}

// Overdue says whether a release's go-live window began at now without a
// deployment record, and it is not closed: what the reminders job reports
// and the board lists first.
func Overdue(st gate.Status, r *loader.Release, now time.Time) bool {
	if r == nil || r.Release == nil || r.Files["deployment.yaml"] != nil || st.State == gate.StateClosed {
		return false
	}
	start, err := time.Parse(time.RFC3339, r.Release.Window.Start)
	return err == nil && now.After(start)
}
