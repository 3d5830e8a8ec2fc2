package engine

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
)

// maxPolicyChanges bounds how many changes of relgate.yaml PolicyInForce
// follows back.
const maxPolicyChanges = 100

// PolicyInForce returns the policy that governs the release repository at
// commit h: relgate.yaml as h has it when the commit that gave it that
// content passed gate policy-change under the policy in force before it (or
// brought the policy in: the first policy is the root of trust), otherwise
// the policy in force before that change. A policy pushed past its gate
// therefore vouches for nothing. The warnings say when the file at h is not
// the policy in force.
func PolicyInForce(r *gitrepo.Repo, prefix string, ix *history.Index, h plumbing.Hash) (*policy.Policy, []string, error) {
	return NewPolicies(r, prefix, ix, nil).At(h)
}

// Policies answers PolicyInForce for many commits of one repository, as a
// history walk asks: the answer at a commit depends on nothing but the
// commit (its history and its objects, which its id names), so each is
// computed once, and the documents are decoded through a decode cache.
type Policies struct {
	r      *gitrepo.Repo
	prefix string
	ix     *history.Index
	cache  *loader.Cache
	memo   map[plumbing.Hash]inForce
}

type inForce struct {
	pol      *policy.Policy
	warnings []string
	// steps counts the changes of the policy followed back from the commit.
	steps int
}

// NewPolicies returns an empty memo of the policies in force in the release
// repository at prefix inside r, whose history ix indexes. cache may be nil.
func NewPolicies(r *gitrepo.Repo, prefix string, ix *history.Index, cache *loader.Cache) *Policies {
	return &Policies{r: r, prefix: prefix, ix: ix, cache: cache, memo: map[plumbing.Hash]inForce{}}
}

// At is PolicyInForce at h.
func (ps *Policies) At(h plumbing.Hash) (*policy.Policy, []string, error) {
	res, err := ps.at(h, 0)
	if err != nil {
		return nil, nil, err
	}
	return res.pol, append([]string(nil), res.warnings...), nil
}

func (ps *Policies) at(h plumbing.Hash, depth int) (inForce, error) {
	if res, ok := ps.memo[h]; ok && depth+res.steps <= maxPolicyChanges {
		// (Past the bound, it is computed again, so the walk fails where
		// it would have without the memo.)
		return res, nil
	}
	res, err := ps.compute(h, depth)
	if err != nil {
		return inForce{}, err
	}
	ps.memo[h] = res
	return res, nil
}

func (ps *Policies) compute(h plumbing.Hash, depth int) (inForce, error) {
	r, ix := ps.r, ps.ix
	if depth > maxPolicyChanges {
		return inForce{}, fmt.Errorf("more than %d changes of %s to follow back from %s", maxPolicyChanges, document.PolicyPath, h)
	}
	tree, err := ix.TreeAt(r, h)
	if err != nil {
		return inForce{}, err
	}
	snap, err := loader.LoadReleases(tree, nil, loader.Options{Cache: ps.cache})
	if err != nil {
		return inForce{}, err
	}
	var pol *policy.Policy
	if snap.Policy != nil {
		if pol, err = policy.New(snap.Policy); err != nil && depth == 0 {
			return inForce{}, fmt.Errorf("%s at %s: %w", document.PolicyPath, tree.Name(), err)
		}
	}
	if pol == nil && (depth == 0 || snap.PolicyDoc == nil) {
		return inForce{}, fmt.Errorf("%s at %s is missing or invalid; run relgate validate", document.PolicyPath, tree.Name())
	}
	led, err := provenance.New(r, ix, h)
	if err != nil {
		return inForce{}, err
	}
	if pol == nil {
		// Walking back from a later policy, through a commit whose
		// relgate.yaml is invalid: an invalid file governs nothing, so
		// the policy in force is the one before the commit that made it
		// invalid (a later change still needs that policy's approval).
		o, err := led.Origin(document.PolicyPath, snap.PolicyDoc.ID)
		if err != nil {
			return inForce{}, err
		}
		if o.Problem != "" || len(o.Commits[0].Parents) == 0 {
			return inForce{}, fmt.Errorf("%s at %s is invalid and no valid policy came before it; run relgate validate", document.PolicyPath, tree.Name())
		}
		parent := plumbing.NewHash(o.Commits[0].Parents[0])
		if _, err := ix.TreeAt(r, parent); err != nil {
			return inForce{}, fmt.Errorf("%s at %s is invalid and no valid policy came before it: %w", document.PolicyPath, tree.Name(), err)
		}
		before, err := ps.at(parent, depth+1)
		if err != nil {
			return inForce{}, err
		}
		w := fmt.Sprintf("%s as commit %s has it is invalid (since commit %s); the policy in force there is the one before, as at %s",
			document.PolicyPath, short(h.String()), o.Commits[0].Short(), short(parent.String()))
		return inForce{pol: before.pol, warnings: append(append([]string(nil), before.warnings...), w), steps: before.steps + 1}, nil
	}
	o, err := led.Origin(document.PolicyPath, snap.PolicyDoc.ID)
	if err != nil {
		return inForce{}, err
	}
	if o.Problem != "" {
		return inForce{}, fmt.Errorf("%s at %s cannot be attributed to the commit that made it: %s", document.PolicyPath, tree.Name(), o.Problem)
	}
	c := o.Commits[0]
	if len(c.Parents) == 0 {
		return inForce{pol: pol}, nil // the root commit brings the first policy in
	}
	parent := plumbing.NewHash(c.Parents[0])
	pt, err := ix.TreeAt(r, parent)
	if errors.Is(err, fs.ErrNotExist) {
		return inForce{pol: pol}, nil
	}
	if err != nil {
		return inForce{}, err
	}
	if _, err := pt.Stat(document.PolicyPath); errors.Is(err, fs.ErrNotExist) {
		return inForce{pol: pol}, nil // the commit that brings the policy in
	}
	before, err := ps.at(parent, depth+1)
	if err != nil {
		return inForce{}, err
	}
	root, err := tree.List(document.ApprovalsDir)
	if err != nil {
		return inForce{}, err
	}
	var paths []string
	for _, e := range root {
		paths = append(paths, e.Path)
	}
	if err := snap.Include(paths); err != nil {
		return inForce{}, err
	}
	g, _ := before.pol.Gate(policy.GatePolicyChange)
	res, err := evaluate.RepositoryGate(before.pol, snap, g, evaluate.Options{Provenance: led})
	if err != nil {
		return inForce{}, err
	}
	if res.Passed {
		return inForce{pol: pol, warnings: before.warnings, steps: before.steps + 1}, nil
	}
	w := fmt.Sprintf("%s as commit %s has it was changed in commit %s without gate policy-change (R-7); the policy in force is the one before that change, as at %s",
		document.PolicyPath, short(h.String()), c.Short(), short(parent.String()))
	return inForce{pol: before.pol, warnings: append(append([]string(nil), before.warnings...), w), steps: before.steps + 1}, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
