// Package engine wires the deciding packages to git: it evaluates a change
// between two commits exactly as both the CLI's gate command and the server
// do, reading only what the change touches.
package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
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
	baseSnap, err := loader.LoadReleases(baseTree, touched, loader.Options{Cache: opts.Cache})
	if err != nil {
		return nil, err
	}
	headSnap, err := loader.LoadReleases(headTree, touched, loader.Options{Cache: opts.Cache})
	if err != nil {
		return nil, err
	}
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
	var approvalPaths, reportPaths []string
	for _, p := range changed {
		switch {
		case strings.Contains(p, "/approvals/") || strings.HasPrefix(p, "approvals/"):
			approvalPaths = append(approvalPaths, p)
		case strings.HasPrefix(p, document.ReportsDir+"/"):
			reportPaths = append(reportPaths, p)
		}
	}
	intros, err := r.Introductions(base, head, prefix, append(approvalPaths, reportPaths...))
	if err != nil {
		return nil, err
	}
	pr := evaluate.PullRequest{Base: baseSnap, Head: headSnap, Changed: changed, Authors: opts.Authors, Extra: opts.Forge}
	pr.Problems, err = pathProblems(headTree, changed)
	if err != nil {
		return nil, err
	}
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
		pr.Problems = append(pr.Problems, reportProblems(h, headTree, reportPaths)...)
		if pr.DocAuthors, err = docAuthors(r, prefix, base, head, pol); err != nil {
			return nil, err
		}
	}
	return pr.Evaluate()
}

// pathProblems refuses what relgate would not read or follow: links and
// submodules, and files in its folders that are not where documents go.
func pathProblems(head *gitrepo.Tree, changed []string) ([]string, error) {
	var out []string
	for _, p := range changed {
		_, err := head.Stat(p)
		switch {
		case errors.Is(err, source.ErrNotRegular):
			out = append(out, p+": symlinks and submodules are not allowed in a release repository")
			continue
		case errors.Is(err, fs.ErrNotExist):
			continue // deleted; the release checks say whether it may be
		case err != nil:
			return nil, err
		}
		top, _, _ := strings.Cut(p, "/")
		switch top {
		case document.ChangesDir, document.CMDBDir, document.ReleasesDir, document.ReviewsDir, document.ApprovalsDir:
			if _, ok := document.Locate(p); !ok {
				out = append(out, p+": relgate does not read a file here; see the repository layout (documents end in .yaml)")
			}
		}
	}
	return out, nil
}

// reportProblems: reports/ is written by relgate (reconcile); a change may
// touch it only through commits the bot made, so a release cannot close on a
// report someone wrote by hand.
func reportProblems(h evaluate.History, head *gitrepo.Tree, paths []string) []string {
	var out []string
	for _, p := range paths {
		intro, ok := h.Introduced[p]
		if _, err := head.Stat(p); err != nil || !ok {
			out = append(out, p+": reports/ is written by relgate reconcile; a change may not delete or edit it")
			continue
		}
		if !h.ByBot(intro) {
			out = append(out, p+": reports/ is written by relgate reconcile; this file comes from a commit the bot did not make")
		}
	}
	return out
}

// docAuthors names, per release, the people who authored commits of the
// change that touched the release's documents: nobody approves what they
// edited, whatever a document's author field says (separation of duties).
func docAuthors(r *gitrepo.Repo, prefix string, base, head plumbing.Hash, pol *policy.Policy) (map[string]map[string][]string, error) {
	commits, err := r.RangeCommits(base, head)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string][]string{}
	for _, c := range commits {
		person, ok := pol.PersonByEmail(c.Author.Email)
		if !ok || len(c.ParentHashes) == 0 {
			continue
		}
		paths, err := r.ChangedPaths(c.ParentHashes[0], c.Hash, prefix)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			parts := strings.Split(p, "/")
			if len(parts) != 3 || parts[0] != document.ReleasesDir {
				continue
			}
			if out[parts[1]] == nil {
				out[parts[1]] = map[string][]string{}
			}
			if !slices.Contains(out[parts[1]][parts[2]], person.Login) {
				out[parts[1]][parts[2]] = append(out[parts[1]][parts[2]], person.Login)
			}
		}
	}
	return out, nil
}
