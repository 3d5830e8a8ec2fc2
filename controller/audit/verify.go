package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
)

// Violation is one rule a commit on the branch broke.
type Violation struct {
	Commit  string `json:"commit"`
	Subject string `json:"subject"`
	// Rule names what was broken: gate:<id> (a state reached without its
	// gate), policy-change, stale-approval, unauthenticated-approval,
	// validation, problem, unverifiable.
	Rule    string `json:"rule"`
	Release string `json:"release,omitempty"`
	Clause  string `json:"clause,omitempty"`
	Message string `json:"message"`
}

// Note is a commit verify did not evaluate, and why.
type Note struct {
	Commit  string `json:"commit"`
	Message string `json:"message"`
}

// VerifyReport is the result of `audit verify`; its JSON shape is stable.
type VerifyReport struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Tip        string `json:"tip"`
	Since      string `json:"since,omitempty"`
	// Commits is the first-parent chain walked; Checked the commits evaluated.
	Commits    int         `json:"commits"`
	Checked    int         `json:"checked"`
	Passed     bool        `json:"passed"`
	Notes      []Note      `json:"notes"`
	Violations []Violation `json:"violations"`
}

// Verify walks the first-parent history from tip back to since (exclusive;
// zero for the root) and evaluates every commit that changed a release's
// documents, relgate.yaml or a root approval, as a change from its first
// parent with the parent's policy (engine.EvaluateChange: approvals the
// commit introduces must be authenticated; those on the parent are trusted,
// having been verified at their own commit). A merge is evaluated as the
// whole change it lands.
func Verify(r *gitrepo.Repo, ix *history.Index, tip, since plumbing.Hash) (*VerifyReport, error) {
	chain, err := ix.FirstParents(tip, since)
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{APIVersion: document.APIVersion, Kind: "AuditVerifyReport", Tip: tip.String(),
		Commits: len(chain), Notes: []Note{}, Violations: []Violation{}}
	if !since.IsZero() {
		rep.Since = since.String()
		if len(chain) > 0 && (len(chain[0].Parents) == 0 || chain[0].Parents[0] != since) {
			return nil, fmt.Errorf("--since %s is not on the first-parent history of %s", since, tip)
		}
	}
	a := newAuditor(r, ix)
	for _, c := range chain {
		if !relevant(c.Keys) {
			continue
		}
		vs, note, err := a.verifyCommit(c)
		if err != nil {
			return nil, err
		}
		if note != "" {
			rep.Notes = append(rep.Notes, Note{Commit: c.Hash.String(), Message: note})
			continue
		}
		rep.Checked++
		rep.Violations = append(rep.Violations, vs...)
	}
	rep.Passed = len(rep.Violations) == 0
	return rep, nil
}

// relevant: the commit changed a release, the policy or a root approval.
func relevant(keys []string) bool {
	for _, k := range keys {
		if k == document.PolicyPath || strings.HasPrefix(k, document.ReleasesDir+"/") || strings.HasPrefix(k, document.ApprovalsDir+"/") {
			return true
		}
	}
	return false
}

func (a *auditor) verifyCommit(c history.Commit) ([]Violation, string, error) {
	co, err := a.r.Git.CommitObject(c.Hash)
	if err != nil {
		return nil, "", fmt.Errorf("read commit %s: %w", c.Hash, err)
	}
	subj := subject(co.Message)
	if len(c.Parents) == 0 {
		return nil, "root commit: no parent policy to evaluate it against", nil
	}
	parent := c.Parents[0]
	parentTree, err := a.r.TreeAt(parent, a.prefix)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	if parentTree == nil {
		return nil, "the parent has no release repository here: this commit brings it in", nil
	}
	if _, err := parentTree.Stat(document.PolicyPath); errors.Is(err, fs.ErrNotExist) {
		return nil, "the parent has no " + document.PolicyPath + ": this commit brings the policy in", nil
	}
	v := func(rule, rel, clause, msg string) Violation {
		return Violation{Commit: c.Hash.String(), Subject: subj, Rule: rule, Release: rel, Clause: clause, Message: msg}
	}
	pol, err := a.policy(parent)
	if err != nil {
		return nil, "", err
	}
	if pol == nil {
		// The parent's policy is invalid: nothing this commit did can be checked.
		return []Violation{v("unverifiable", "", "", fmt.Sprintf("the parent %s has an invalid %s: the commit cannot be evaluated", short(parent.String()), document.PolicyPath))}, "", nil
	}
	if a.cache == nil {
		a.cache = loader.NewMemoryCache()
	}
	rep, err := engine.EvaluateChange(a.r, a.prefix, parent, c.Hash, engine.ChangeOptions{Cache: a.cache, Index: a.ix})
	if err != nil {
		return nil, "", fmt.Errorf("evaluate commit %s against its parent: %w", c.Hash, err)
	}
	var out []Violation
	for _, f := range rep.Findings {
		if f.Severity == finding.Error {
			out = append(out, v("validation", releaseOf(f.File), f.Clause, f.String()))
		}
	}
	for _, p := range rep.Problems {
		rule := "problem"
		if strings.Contains(p, "not authenticated") {
			rule = "unauthenticated-approval"
		}
		if strings.Contains(p, "validation error(s)") {
			continue // listed one by one above
		}
		out = append(out, v(rule, releaseOf(p), "", p))
	}
	if rep.Policy != nil && !rep.Policy.Passed {
		out = append(out, v("policy-change", "", rep.Policy.Clause, "relgate.yaml changed without gate policy-change: "+strings.Join(rep.Policy.Missing(), "; ")))
	}
	for _, rg := range rep.Releases {
		for _, p := range rg.Problems {
			out = append(out, v("problem", rg.Release, "", p))
		}
		for _, g := range rg.Gates {
			if !g.Passed {
				out = append(out, v("gate:"+g.Gate, rg.Release, g.Clause,
					fmt.Sprintf("%s reached state %s without gate %s: %s", rg.Release, rg.State, g.Gate, strings.Join(g.Missing(), "; "))))
			}
		}
	}
	stale, err := a.staleApprovals(c.Hash, parent, rep)
	if err != nil {
		return nil, "", err
	}
	for _, s := range stale {
		out = append(out, v("stale-approval", s.rel, "R-3.2", s.msg))
	}
	return out, "", nil
}

type staleApproval struct{ rel, msg string }

// staleApprovals finds approval files the commit added or changed that were
// stale when merged: bound to a digest the covered documents no longer had.
func (a *auditor) staleApprovals(h, parent plumbing.Hash, rep *evaluate.GateReport) ([]staleApproval, error) {
	pol, err := a.policy(parent)
	if err != nil || pol == nil {
		return nil, err
	}
	var out []staleApproval
	for _, rg := range rep.Releases {
		changes, err := history.DiffDir(a.r, a.prefix, parent, h, document.ReleaseDir(rg.Release)+"/"+document.ApprovalsDir)
		if err != nil {
			return nil, err
		}
		changed := map[string]bool{}
		for _, fc := range changes {
			if !fc.New.IsZero() {
				changed[fc.Path] = true
			}
		}
		if len(changed) == 0 {
			continue
		}
		tree, err := a.r.TreeAt(h, a.prefix)
		if err != nil {
			return nil, err
		}
		snap, err := loader.LoadReleases(tree, []string{rg.Release})
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", document.ReleaseDir(rg.Release), h, err)
		}
		led, err := a.ledger(h)
		if err != nil {
			return nil, err
		}
		st, err := evaluate.Release(pol, snap, rg.Release, evaluate.Options{Provenance: led})
		if err != nil {
			return nil, fmt.Errorf("evaluate %s at %s: %w", rg.Release, h, err)
		}
		for _, g := range st.Gates {
			for _, ig := range g.Ignored {
				if ig.Reason == "stale" && changed[ig.File] {
					out = append(out, staleApproval{rg.Release, fmt.Sprintf("%s: the approval of %s by %s was stale when merged: %s", ig.File, g.Gate, ig.Person, ig.Message)})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].msg < out[j].msg })
	return out, nil
}

// releaseOf finds the release a path or message names.
func releaseOf(s string) string {
	i := strings.Index(s, document.ReleasesDir+"/")
	if i < 0 {
		return ""
	}
	rest := s[i+len(document.ReleasesDir)+1:]
	id, _, _ := strings.Cut(rest, "/")
	if document.ReleaseIDPattern.MatchString(id) {
		return id
	}
	return ""
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
