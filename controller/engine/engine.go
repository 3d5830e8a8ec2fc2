// Package engine gathers what evaluating a change between two commits needs
// from git (the merge base, the merged tree, the touched releases, the
// history that attributes them) and hands it to package evaluate, which
// decides. The CLI's gate command, audit verify and the server all call it.
package engine

import (
	"fmt"

	"time"

	"slices"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/source"
)

// ChangeOptions adjust the evaluation of a change.
type ChangeOptions struct {
	// Authors are the change's authors (a pull request's author): separation of duties.
	Authors []string
	// Forge are approvals the forge authenticated (reviews), by release id
	// ("" for the repository's policy-change gate), then gate id.
	Forge map[string]map[string][]gate.Vote
	// Cache, when set, keeps decoded blobs across evaluations (a history walk
	// decodes the same policy and documents at every commit).
	Cache *loader.Cache
	// Lang is the language of the validation findings (zh or en); empty:
	// the policy's.
	Lang string
	// Index, when set, is the history index of the repository, holding base
	// and head (a history walk opens it once); otherwise it is opened.
	Index *history.Index
	// Policies, when set, remembers the policies in force across
	// evaluations (a history walk asks at every commit); it must be of the
	// same repository, prefix and index.
	Policies *Policies
	// MergeAt is when the change would merge (the server's clock, the CLI's
	// --now); a freeze in effect then blocks a go-live approval without its
	// exception. Zero: the time of head's commit.
	MergeAt time.Time
}

// EvaluateChange evaluates the change from base to head of the release
// repository at prefix inside r as GitHub would merge it: the change is what
// head changed since it parted from base (the merge base, git's three-dot
// diff), judged in the tree that merging it into base gives, with the policy
// of base. It reads only what the change touches: the policy, the touched
// releases, and their history.
func EvaluateChange(r *gitrepo.Repo, prefix string, base, head plumbing.Hash, opts ChangeOptions) (*evaluate.GateReport, error) {
	if opts.Cache == nil {
		// Base and head share every blob the change does not touch.
		opts.Cache = loader.NewMemoryCache()
	}
	ix := opts.Index
	if ix == nil {
		var err error
		if ix, _, err = history.Open(r, prefix, []plumbing.Hash{base, head}, history.Options{}); err != nil {
			return nil, err
		}
	}
	var problems []string
	mb := base
	bases, err := ix.MergeBases(base, head)
	if err != nil {
		return nil, err
	}
	if len(bases) == 0 {
		problems = append(problems, "the change shares no history with the base branch; it is judged against the base as a whole")
	} else {
		mb = bases[0]
	}
	changed, err := ix.ChangedPaths(r, mb, head)
	if err != nil {
		return nil, err
	}
	// Trees that find a release's documents through the index: gitrepo's
	// would decode the releases folder, an entry per release, at each.
	baseTree, err := ix.TreeAt(r, base)
	if err != nil {
		return nil, err
	}
	headTree, err := ix.TreeAt(r, head)
	if err != nil {
		return nil, err
	}
	var merged source.Tree = headTree
	if mb != base {
		// base moved on since the branch parted: judge the merge, so base's
		// own later commits are neither charged to the change nor lost.
		onBase, err := ix.ChangedPaths(r, mb, base)
		if err != nil {
			return nil, err
		}
		for _, p := range onBase {
			if !slices.Contains(changed, p) {
				continue
			}
			be, berr := baseTree.Stat(p)
			he, herr := headTree.Stat(p)
			if (berr == nil) != (herr == nil) || be.ID != he.ID {
				problems = append(problems, p+": changed both on the base branch and in this change; merge the base branch into the change (or rebase it) and resolve it")
			}
		}
		paths := map[string]bool{}
		for _, p := range changed {
			paths[p] = true
		}
		merged = source.Overlay{Base: baseTree, Over: headTree, Paths: paths, Label: headTree.Name()}
	}
	touched := evaluate.TouchedReleases(changed)
	baseSnap, err := loader.LoadReleases(baseTree, touched, loader.Options{Cache: opts.Cache, Lang: opts.Lang})
	if err != nil {
		return nil, err
	}
	headSnap, err := loader.LoadReleases(merged, touched, loader.Options{Cache: opts.Cache, Lang: opts.Lang})
	if err != nil {
		return nil, err
	}
	// Other releases' windows, for overlaps: only the touched
	// releases differ between base and head, so base's are read once, and
	// only when an evaluation asks.
	headSnap.BookingsFrom(baseSnap, touched)
	// Repository gates weigh every approval of theirs, not only the changed
	// ones (a rejection on base stands), and the root approvals/ is small.
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
	ledger, err := provenance.New(r, ix, base, head)
	if err != nil {
		return nil, err
	}
	baseLedger, err := provenance.New(r, ix, base)
	if err != nil {
		return nil, err
	}
	var pol *policy.Policy
	var warnings []string
	if baseSnap.Policy != nil {
		ps := opts.Policies
		if ps == nil {
			ps = NewPolicies(r, prefix, ix, opts.Cache)
		}
		if pol, warnings, err = ps.At(base); err != nil {
			return nil, err
		}
	}
	pr := evaluate.PullRequest{Base: baseSnap, Head: headSnap, Changed: changed, Provenance: ledger, BaseProvenance: baseLedger,
		Policy: pol, PolicyWarnings: warnings,
		Authors: opts.Authors, Extra: opts.Forge, Problems: problems, MergeAt: opts.MergeAt}
	if pr.MergeAt.IsZero() {
		hc, err := r.Git.CommitObject(head)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", head, err)
		}
		pr.MergeAt = hc.Committer.When
	}
	return pr.Evaluate()
}
