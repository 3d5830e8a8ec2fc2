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
	memo := map[plumbing.Hash]*policy.Policy{}
	var warnings []string
	pol, err := policyInForce(r, prefix, ix, h, memo, &warnings, 0)
	return pol, warnings, err
}

func policyInForce(r *gitrepo.Repo, prefix string, ix *history.Index, h plumbing.Hash, memo map[plumbing.Hash]*policy.Policy, warnings *[]string, depth int) (*policy.Policy, error) {
	if p, ok := memo[h]; ok {
		return p, nil
	}
	if depth > maxPolicyChanges {
		return nil, fmt.Errorf("more than %d changes of %s to follow back from %s", maxPolicyChanges, document.PolicyPath, h)
	}
	tree, err := r.TreeAt(h, prefix)
	if err != nil {
		return nil, err
	}
	snap, err := loader.LoadReleases(tree, nil)
	if err != nil {
		return nil, err
	}
	if snap.Policy == nil {
		return nil, fmt.Errorf("%s at %s is missing or invalid; run relgate validate", document.PolicyPath, tree.Name())
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", document.PolicyPath, tree.Name(), err)
	}
	led, err := provenance.New(r, ix, h)
	if err != nil {
		return nil, err
	}
	o, err := led.Origin(document.PolicyPath, snap.PolicyDoc.ID)
	if err != nil {
		return nil, err
	}
	if o.Problem != "" {
		return nil, fmt.Errorf("%s at %s cannot be attributed to the commit that made it: %s", document.PolicyPath, tree.Name(), o.Problem)
	}
	c := o.Commits[0]
	if len(c.Parents) == 0 {
		memo[h] = pol // the root commit brings the first policy in
		return pol, nil
	}
	parent := plumbing.NewHash(c.Parents[0])
	pt, err := r.TreeAt(parent, prefix)
	if errors.Is(err, fs.ErrNotExist) {
		memo[h] = pol
		return pol, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := pt.Stat(document.PolicyPath); errors.Is(err, fs.ErrNotExist) {
		memo[h] = pol // the commit that brings the policy in
		return pol, nil
	}
	before, err := policyInForce(r, prefix, ix, parent, memo, warnings, depth+1)
	if err != nil {
		return nil, err
	}
	root, err := tree.List(document.ApprovalsDir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range root {
		paths = append(paths, e.Path)
	}
	if err := snap.Include(paths); err != nil {
		return nil, err
	}
	g, _ := before.Gate(policy.GatePolicyChange)
	res, err := evaluate.RepositoryGate(before, snap, g, evaluate.Options{Provenance: led})
	if err != nil {
		return nil, err
	}
	if res.Passed {
		memo[h] = pol
		return pol, nil
	}
	*warnings = append(*warnings, fmt.Sprintf("%s as commit %s has it was changed in commit %s without gate policy-change (R-7); the policy in force is the one before that change, as at %s",
		document.PolicyPath, short(h.String()), c.Short(), short(parent.String())))
	memo[h] = before
	return before, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
