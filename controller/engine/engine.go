// Package engine wires the deciding packages to git: it evaluates a change
// between two commits exactly as both the CLI's gate command and the server
// do, reading only what the change touches.
package engine

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// ChangeOptions adjust the evaluation of a change.
type ChangeOptions struct {
	// Authors are the change's authors (a pull request's author): separation of duties.
	Authors []string
	// Forge are approvals the forge authenticated (reviews), by release id
	// ("" for the repository's policy-change gate), then gate id.
	Forge map[string]map[string][]gate.Vote
}

// EvaluateChange evaluates the change from base to head of the release
// repository at prefix inside r, reading only what the change touches: the
// policy from base, the touched releases at base and head, and the commits
// between them that added approvals.
func EvaluateChange(r *gitrepo.Repo, prefix string, base, head plumbing.Hash, opts ChangeOptions) (*evaluate.GateReport, error) {
	changed, err := r.ChangedPaths(base, head, prefix)
	if err != nil {
		return nil, err
	}
	touched := evaluate.TouchedReleases(changed)
	baseTree, err := r.TreeAt(base, prefix)
	if err != nil {
		return nil, err
	}
	headTree, err := r.TreeAt(head, prefix)
	if err != nil {
		return nil, err
	}
	baseSnap, err := loader.LoadReleases(baseTree, touched)
	if err != nil {
		return nil, err
	}
	headSnap, err := loader.LoadReleases(headTree, touched)
	if err != nil {
		return nil, err
	}
	if err := headSnap.Include(changed); err != nil {
		return nil, err
	}
	var approvalPaths []string
	for _, p := range changed {
		if strings.Contains(p, "/approvals/") || strings.HasPrefix(p, "approvals/") {
			approvalPaths = append(approvalPaths, p)
		}
	}
	intros, err := r.Introductions(base, head, prefix, approvalPaths)
	if err != nil {
		return nil, err
	}
	pr := evaluate.PullRequest{Base: baseSnap, Head: headSnap, Changed: changed, Authors: opts.Authors, Extra: opts.Forge}
	if baseSnap.Policy != nil {
		pol, err := policy.New(baseSnap.Policy)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", document.PolicyPath, err)
		}
		h := evaluate.History{Policy: pol, Introduced: map[string]evaluate.Introduction{}}
		for p, i := range intros {
			h.Introduced[p] = i
		}
		pr.Auth = h
	}
	return pr.Evaluate()
}
