package engine

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/provenance"
)

// DeployDecision gathers what deciding a deployment needs at commit h of the
// protected branch (every release, for the conflict rule; the history that
// attributes their approvals; the policy in force at h) and asks package
// deploy. `relgate deploy-check` and the server's deployment protection
// rule both call it. cache may be nil.
func DeployDecision(r *gitrepo.Repo, prefix string, h plumbing.Hash, cache *loader.Cache, req deploy.Request) (deploy.Decision, error) {
	ix, _, err := history.Open(r, prefix, []plumbing.Hash{h}, history.Options{})
	if err != nil {
		return deploy.Decision{}, err
	}
	tree, err := ix.TreeAt(r, h)
	if err != nil {
		return deploy.Decision{}, err
	}
	snap, err := loader.LoadAll(tree, loader.Options{Cache: cache})
	if err != nil {
		return deploy.Decision{}, err
	}
	pol, _, err := PolicyInForce(r, prefix, ix, h)
	if err != nil {
		return deploy.Decision{}, err
	}
	if pol == nil {
		return deploy.Decision{}, fmt.Errorf("no valid %s governs %s; fix the protected branch first", document.PolicyPath, h)
	}
	led, err := provenance.New(r, ix, h)
	if err != nil {
		return deploy.Decision{}, err
	}
	return deploy.Decide(pol, snap, led, req)
}
