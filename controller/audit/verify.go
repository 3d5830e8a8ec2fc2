package audit

import (
	"compress/zlib"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
)

// Violation is one rule a commit on the branch broke.
type Violation struct {
	Commit  string `json:"commit"`
	Subject string `json:"subject"`
	// Rule names what was broken: gate:<id> (a step asserted without its
	// gate, or a repository gate such as change-record), policy-change,
	// stale-approval, uncounted-approval (self-approval, not in role when
	// merged), unauthenticated-approval, validation, problem,
	// unverifiable (the commit could not be evaluated), root-commit (a
	// history that starts with governed files), foreign-root (a merge that
	// brings in another history with governed files), history-rewritten (the
	// tip an earlier run verified is gone from the branch),
	// retrospective-overdue and retrospective-late (an emergency release's
	// after-the-fact approval not given by its due date, R-5.1).
	Rule    string `json:"rule"`
	Release string `json:"release,omitempty"`
	Clause  string `json:"clause,omitempty"`
	Message string `json:"message"`
}

// Note is something the auditor should know about a commit that is not a
// violation: a lawful root, a trusted baseline.
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
	// Baseline is the commit the auditor trusts (--baseline).
	Baseline string `json:"baseline,omitempty"`
	// Previous is the tip an earlier run verified (kept outside the tree),
	// checked to be still on the branch.
	Previous string `json:"previous,omitempty"`
	// Commits is the first-parent chain walked; Checked the commits evaluated.
	Commits int `json:"commits"`
	Checked int `json:"checked"`
	// Resumed is the commit an earlier walk had verified up to, when this
	// one continued from it (VerifyOptions.Resume).
	Resumed    string      `json:"-"`
	Passed     bool        `json:"passed"`
	Notes      []Note      `json:"notes"`
	Violations []Violation `json:"violations"`
	progress   *Progress
}

// Progress is what a later walk of the same branch can resume from (nil
// when the chain is empty or starts with a merge).
func (r *VerifyReport) Progress() *Progress { return r.progress }

// Rule names of the history checks.
const (
	RuleRootCommit       = "root-commit"
	RuleForeignRoot      = "foreign-root"
	RuleHistoryRewritten = "history-rewritten"
	RuleUnverifiable     = "unverifiable"
)

// VerifyOptions adjust VerifyWith.
type VerifyOptions struct {
	// Since starts the walk after this commit (zero: at the root).
	Since plumbing.Hash
	// Baseline is a commit the auditor trusts, such as the import of an
	// older process: it and the first-parent history before it are not
	// evaluated, and it may carry governed files without a parent policy.
	Baseline plumbing.Hash
	// Previous is the tip an earlier run verified (zero: none); State is
	// where it was kept, for the message.
	Previous plumbing.Hash
	State    string
	// Resume is what an earlier walk of the same branch verified (nil:
	// none). It is used when it was made with the same Since, Baseline and
	// folder and its last commit is on the chain; the walk then evaluates
	// only the commits after it.
	Resume *Progress
	// Now is when emergency releases' retrospective approvals are judged
	// overdue (zero: the tip's commit time, so a report is reproducible).
	Now time.Time
	// Cache keeps decoded blobs (nil: one in memory for this walk). The
	// repository's decode cache (loader.OpenCache) spares a walk of a few
	// new commits the decoding of every release.yaml at the tip, which
	// the calendar's overlaps and the emergency releases ask for.
	Cache *loader.Cache
	// step, in tests: evaluate every commit through engine.EvaluateChange
	// alone, or check each carried booking list against a fresh read.
	step stepMode
}

// Verify is VerifyWith with only a starting point.
func Verify(r *gitrepo.Repo, ix *history.Index, tip, since plumbing.Hash) (*VerifyReport, error) {
	return VerifyWith(r, ix, tip, VerifyOptions{Since: since})
}

// VerifyWith walks the first-parent history from tip back to opts.Since
// (exclusive; zero for the root) and evaluates every commit that changed
// anything in the release repository, as a change from its first parent
// with the parent's policy (engine.EvaluateChange: approvals the commit
// introduces must be authenticated; those on the parent are trusted, having
// been verified at their own commit). A merge is evaluated as the whole
// change it lands.
//
// A commit with no parent policy cannot be evaluated that way, so what it
// may carry is limited: a root commit, or the commit that brings relgate.yaml
// in, may hold the policy and plain files only; governed files in it are a
// root-commit violation unless it is the trusted baseline. Otherwise anyone
// could restart the history (a force push of a squashed root, or a new root
// the branch fast-forwards onto) with documents no gate ever saw. A merge
// that brings in governed files from a history with a root of its own is a
// foreign-root violation for the same reason.
//
// A commit that cannot be evaluated (a symlink, a folder relgate cannot
// read) is a violation of that commit and the walk goes on; only an I/O
// error (a missing object) ends it.
func VerifyWith(r *gitrepo.Repo, ix *history.Index, tip plumbing.Hash, opts VerifyOptions) (*VerifyReport, error) {
	since := opts.Since
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
	if opts.Cache != nil {
		a.cache = opts.Cache
		a.inForce = engine.NewPolicies(r, ix.Prefix(), ix, opts.Cache)
	}
	a.step = opts.step
	if a.step == stepEngine {
		a.memo = nil // every ledger from scratch, as before
	}
	if !opts.Previous.IsZero() {
		rep.Previous = opts.Previous.String()
		v, err := a.rewritten(ix, tip, opts.Previous, opts.State)
		if err != nil {
			return nil, err
		}
		rep.Violations = append(rep.Violations, v...)
	}
	start := 0
	if !opts.Baseline.IsZero() {
		rep.Baseline = opts.Baseline.String()
		i := slicesIndex(chain, opts.Baseline)
		switch {
		case i >= 0:
			start = i + 1
			msg := "trusted baseline (--baseline): the auditor trusts this commit as the import of an older process; it is not evaluated"
			if i > 0 {
				msg += fmt.Sprintf(", nor the %d commit(s) before it", i)
			}
			rep.Notes = append(rep.Notes, Note{Commit: opts.Baseline.String(), Message: msg})
		case onFirstParents(ix, tip, opts.Baseline):
			rep.Notes = append(rep.Notes, Note{Commit: opts.Baseline.String(), Message: "the baseline (--baseline) comes before --since: the walk starts after it anyway"})
		default:
			rep.Notes = append(rep.Notes, Note{Commit: opts.Baseline.String(), Message: "the baseline (--baseline) is not on the first-parent history of " + short(tip.String()) + ": it trusts nothing here"})
		}
	}
	lin := &lineage{ix: ix, r: r}
	recorded := map[plumbing.Hash]bool{}
	// What the walk adds after the notes and violations above: kept apart,
	// for the progress a later walk resumes from.
	done := &Progress{Prefix: ix.Prefix(), Since: rep.Since, Baseline: rep.Baseline, Notes: []Note{}, Violations: []Violation{}}
	begin := start
	if cp := opts.Resume; cp != nil && cp.Prefix == done.Prefix && cp.Since == done.Since && cp.Baseline == done.Baseline {
		if u := slicesIndex(chain, plumbing.NewHash(cp.Upto)); u >= 0 && u+1 >= start {
			// Nothing before a merge depends on what comes after it (the
			// bot's records of a merge's reviews follow the merge, and a
			// merge ends every earlier one's records), and the progress ends
			// before the last merge it saw: its commits were evaluated as a
			// full walk evaluates them.
			begin = u + 1
			done.Upto, done.Checked = cp.Upto, cp.Checked
			done.Notes = append(done.Notes, cp.Notes...)
			done.Violations = append(done.Violations, cp.Violations...)
			rep.Resumed = cp.Upto
		}
	}
	// The progress to keep ends before the last merge: the bot's records of
	// its reviews may still come.
	keep := len(chain)
	for i := len(chain) - 1; i >= begin; i-- {
		if len(chain[i].Parents) > 1 {
			keep = i
			break
		}
	}
	if begin > 0 && begin <= len(chain) {
		// Resumed: the branch's time starts at the last commit verified.
		co, err := r.Git.CommitObject(chain[begin-1].Hash)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", chain[begin-1].Hash, err)
		}
		a.clock = co.Committer.When
	}
	for i, c := range chain {
		if i == keep && i > 0 {
			rep.progress = done.snapshot(chain[i-1].Hash)
		}
		if i < begin {
			continue
		}
		co, err := r.Git.CommitObject(c.Hash)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", c.Hash, err)
		}
		if co.Committer.When.After(a.clock) {
			a.clock = co.Committer.When
		}
		if len(c.Keys) == 0 {
			// Nothing in the release repository changed (a commit outside its
			// folder, or a merge that took the first parent's tree).
			if len(c.Parents) > 0 {
				a.carry.follow(c.Parents[0], c.Hash)
			}
			if err := lin.add(c); err != nil {
				return nil, err
			}
			continue
		}
		if recorded[c.Hash] {
			if err := lin.add(c); err != nil {
				return nil, err
			}
			continue
		}
		// The bot records a merged pull request's reviews as approval files in
		// commits after the merge (its other write-back may come between):
		// they are part of the change the merge lands, and it is judged with
		// them.
		records, err := a.records(chain, i)
		if err != nil {
			return nil, err
		}
		a.head = c.Hash
		if len(records) > 0 {
			a.head = records[len(records)-1]
		}
		vs, notes, err := a.verifyCommit(c, lin, opts.Baseline)
		a.head = plumbing.ZeroHash
		if err != nil {
			return nil, err
		}
		if err := lin.add(c); err != nil {
			return nil, err
		}
		for _, h := range records {
			recorded[h] = true
			done.Checked++
			done.Notes = append(done.Notes, Note{Commit: h.String(), Message: "the bot's record of reviews of merge " + short(c.Hash.String()) + ": evaluated with the merge"})
		}
		done.Checked++
		for _, n := range notes {
			done.Notes = append(done.Notes, Note{Commit: c.Hash.String(), Message: n})
		}
		done.Violations = append(done.Violations, vs...)
	}
	if keep == len(chain) && len(chain) > 0 {
		rep.progress = done.snapshot(chain[len(chain)-1].Hash)
	}
	rep.Checked += done.Checked
	rep.Notes = append(rep.Notes, done.Notes...)
	rep.Violations = append(rep.Violations, done.Violations...)
	if len(chain) > 0 {
		// Not part of the progress: what is overdue depends on the time.
		now := opts.Now
		if now.IsZero() {
			co, err := r.Git.CommitObject(tip)
			if err != nil {
				return nil, fmt.Errorf("read commit %s: %w", tip, err)
			}
			now = co.Committer.When
		}
		rv, err := a.retrospectives(chain[start:], tip, now)
		if err != nil {
			if ioError(err) {
				return nil, err
			}
			rv = []Violation{{Commit: tip.String(), Rule: RuleUnverifiable, Message: fmt.Sprintf("the emergency releases' retrospective approvals at %s cannot be evaluated: %v", short(tip.String()), err)}}
		}
		rep.Violations = append(rep.Violations, rv...)
	}
	rep.Passed = len(rep.Violations) == 0
	return rep, nil
}

// Progress is what a walk of a first-parent chain found up to a commit
// (Upto, included): the commits evaluated and their notes and violations,
// without those of the run itself (a rewritten branch, the baseline).
// A later walk of the same chain resumes after Upto.
type Progress struct {
	Upto       string      `json:"upto"`
	Prefix     string      `json:"prefix"`
	Since      string      `json:"since"`
	Baseline   string      `json:"baseline"`
	Checked    int         `json:"checked"`
	Notes      []Note      `json:"notes"`
	Violations []Violation `json:"violations"`
}

func (p *Progress) snapshot(upto plumbing.Hash) *Progress {
	c := *p
	c.Upto = upto.String()
	c.Notes = slices.Clone(p.Notes)
	c.Violations = slices.Clone(p.Violations)
	return &c
}

func slicesIndex(chain []history.Commit, h plumbing.Hash) int {
	for i, c := range chain {
		if c.Hash == h {
			return i
		}
	}
	return -1
}

// verifyCommit checks one commit of the first-parent chain. It returns the
// violations and notes of the commit; an error only for I/O.
func (a *auditor) verifyCommit(c history.Commit, lin *lineage, baseline plumbing.Hash) ([]Violation, []string, error) {
	co, err := a.r.Git.CommitObject(c.Hash)
	if err != nil {
		return nil, nil, fmt.Errorf("read commit %s: %w", c.Hash, err)
	}
	subj := subject(co.Message)
	v := func(rule, rel, clause, msg string) Violation {
		return Violation{Commit: c.Hash.String(), Subject: subj, Rule: rule, Release: rel, Clause: clause, Message: msg}
	}
	if len(co.ParentHashes) == 0 {
		return a.startOfHistory(c.Hash, v, "root commit "+short(c.Hash.String()))
	}
	if len(c.Parents) == 0 || c.Parents[0] != co.ParentHashes[0] {
		return []Violation{v(RuleUnverifiable, "", "", fmt.Sprintf("the history is cut at commit %s: its parent %s is not in the repository (a shallow clone?); fetch the whole history, or start after it with --since",
			short(c.Hash.String()), short(co.ParentHashes[0].String())))}, nil, nil
	}
	parent := c.Parents[0]
	parentTree, err := a.ix.TreeAt(a.r, parent)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if parentTree == nil {
		return a.startOfHistory(c.Hash, v, fmt.Sprintf("commit %s brings the release repository in (its parent %s has no folder %s)", short(c.Hash.String()), short(parent.String()), a.prefix))
	}
	if _, err := parentTree.Stat(document.PolicyPath); errors.Is(err, fs.ErrNotExist) {
		return a.startOfHistory(c.Hash, v, fmt.Sprintf("commit %s has a parent (%s) with no %s to evaluate it against", short(c.Hash.String()), short(parent.String()), document.PolicyPath))
	}
	var out []Violation
	var notes []string
	if len(co.ParentHashes) > 1 {
		fv, fn, err := a.foreignRoots(c, co, lin, baseline, v)
		if err != nil {
			return nil, nil, err
		}
		out, notes = append(out, fv...), append(notes, fn...)
	}
	ev, err := a.evaluate(c, parent, v)
	if err != nil {
		if ioError(err) {
			return nil, nil, fmt.Errorf("evaluate commit %s against its parent: %w", c.Hash, err)
		}
		// Something in the commit relgate cannot read (a symlink where a
		// document goes, a folder that is not a release id): the commit is not
		// lawful, and the commits after it are still checked.
		ev = []Violation{v(RuleUnverifiable, releaseOf(err.Error()), "", fmt.Sprintf("commit %s cannot be evaluated: %v", short(c.Hash.String()), err))}
	}
	return append(out, ev...), notes, nil
}

// evaluate evaluates a commit as a change from its first parent.
func (a *auditor) evaluate(c history.Commit, parent plumbing.Hash, v func(rule, rel, clause, msg string) Violation) ([]Violation, error) {
	id := short(c.Hash.String())
	pol, err := a.policy(parent)
	if err != nil {
		return nil, err
	}
	if pol == nil {
		// The parent's policy is invalid: nothing this commit did can be checked.
		return []Violation{v(RuleUnverifiable, "", "", fmt.Sprintf("the parent %s has an invalid %s: the commit cannot be evaluated", short(parent.String()), document.PolicyPath))}, nil
	}
	head := c.Hash
	if !a.head.IsZero() {
		head = a.head
	}
	rep, err := a.evaluateStep(parent, head)
	if err != nil {
		return nil, err
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
		out = append(out, v("policy-change", "", rep.Policy.Clause, fmt.Sprintf("commit %s changes %s without gate policy-change having passed: %s",
			id, document.PolicyPath, strings.Join(rep.Policy.Missing(), "; "))))
	}
	for _, g := range rep.Repository {
		if !g.Passed {
			out = append(out, v("gate:"+g.Gate, "", g.Clause, fmt.Sprintf("commit %s changes %s without gate %s having passed: %s",
				id, guarded(pol, g.Gate, c.Keys), g.Gate, strings.Join(g.Missing(), "; "))))
		}
	}
	for _, rg := range rep.Releases {
		for _, p := range rg.Problems {
			rule, clause := "problem", ""
			switch {
			case strings.Contains(p, "does not count (stale)"):
				rule, clause = "stale-approval", "R-3.2"
			case strings.Contains(p, "that this change adds does not count ("):
				rule, clause = "uncounted-approval", "R-3.2"
			}
			out = append(out, v(rule, rg.Release, clause, p))
		}
		for _, g := range rg.Gates {
			if !g.Passed && !slices.Contains(rg.Withdrawn, g.Gate) {
				msg, err := a.asserted(c.Hash, parent, pol, rg.Release, g)
				if err != nil {
					return nil, err
				}
				out = append(out, v("gate:"+g.Gate, rg.Release, g.Clause, msg))
			}
		}
	}

	return out, nil
}

// guarded names what a commit changed that a repository gate guards.
func guarded(pol *policy.Policy, id string, keys []string) string {
	g, ok := pol.Gate(id)
	var hit []string
	for _, k := range keys {
		if ok && g.Guards(k) {
			hit = append(hit, k)
		}
	}
	if len(hit) == 0 {
		return "what gate " + id + " guards"
	}
	return listSome(hit)
}

// steps names the step of the procedure a gate's passing stands for.
var steps = map[string]string{
	policy.GatePlanReview:             "plan review",
	policy.GateTestAcceptance:         "test acceptance",
	policy.GateGoLiveApproval:         "go-live approval",
	policy.GateDeploymentConfirmation: "deployment confirmation",
	policy.GateClosure:                "closure",
}

func step(g string) string {
	if s, ok := steps[g]; ok {
		return s
	}
	return "gate " + g
}

// asserted says why a release's gate had to pass at a commit, in terms of
// what the commit asserted: the document that claims the step (golive.yaml
// claims plan review, deployment.yaml go-live approval, …), a step that comes
// after the gate, or what the release had achieved on the parent. The gate's
// result at the commit says what was missing.
func (a *auditor) asserted(h, parent plumbing.Hash, pol *policy.Policy, rel string, g gate.Result) (string, error) {
	id := short(h.String())
	missing := strings.Join(g.Missing(), "; ")
	if g.Gate == policy.GateClosedReleaseChange {
		return fmt.Sprintf("commit %s changes %s, which was closed, without gate %s having passed: %s", id, rel, g.Gate, missing), nil
	}
	changes, err := history.DiffDir(a.r, a.prefix, parent, h, document.ReleaseDir(rel))
	if err != nil {
		return "", err
	}
	action := map[string]string{}
	for _, fc := range changes {
		switch {
		case fc.New.IsZero():
			action[fc.Path] = "deleted"
		case fc.Old.IsZero():
			action[fc.Path] = "added"
		default:
			action[fc.Path] = "modified"
		}
	}
	tree, err := a.ix.TreeAt(a.r, h)
	if err != nil {
		return "", err
	}
	snap, err := loader.LoadReleases(tree, []string{rel}, loader.Options{Cache: a.cache})
	if err != nil {
		return "", fmt.Errorf("read %s at %s: %w", document.ReleaseDir(rel), h, err)
	}
	var ts []gate.Transition
	if r := snap.Releases[rel]; r != nil {
		ts = gate.Transitions(r)
	}
	claim := func(t gate.Transition) (string, bool) {
		file := t.Evidence
		if act, ok := action[t.Evidence]; ok {
			return fmt.Sprintf("commit %s asserts %s (%s %s)", id, step(t.Gate), file, act), true
		}
		return fmt.Sprintf("commit %s changes %s while %s asserts %s", id, rel, file, step(t.Gate)), false
	}
	// The document that claims this very step, then a later step that needs it.
	for _, t := range ts {
		if t.Gate == g.Gate {
			s, changed := claim(t)
			if changed {
				return fmt.Sprintf("%s without gate %s having passed: %s", s, g.Gate, missing), nil
			}
			return fmt.Sprintf("%s, and after the change gate %s does not pass: %s", s, g.Gate, missing), nil
		}
	}
	for _, t := range ts {
		for _, before := range pol.GatesBefore(t.Gate) {
			if before.ID == g.Gate {
				s, _ := claim(t)
				return fmt.Sprintf("%s, which comes after gate %s, without gate %s having passed: %s", s, g.Gate, g.Gate, missing), nil
			}
		}
	}
	passed, err := a.passedAt(parent, pol, rel)
	if err != nil {
		return "", err
	}
	if slices.Contains(passed, g.Gate) {
		return fmt.Sprintf("commit %s changes %s, which had passed gate %s on its parent, and after the change %s no longer passes: %s", id, rel, g.Gate, g.Gate, missing), nil
	}
	return fmt.Sprintf("commit %s changes %s, whose documents need gate %s, without gate %s having passed: %s", id, rel, g.Gate, g.Gate, missing), nil
}

// passedAt lists the gates a release had passed at a commit, under pol.
func (a *auditor) passedAt(h plumbing.Hash, pol *policy.Policy, rel string) ([]string, error) {
	tree, err := a.ix.TreeAt(a.r, h)
	if err != nil {
		return nil, err
	}
	snap, err := loader.LoadReleases(tree, []string{rel}, loader.Options{Cache: a.cache})
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", document.ReleaseDir(rel), h, err)
	}
	if snap.Releases[rel] == nil {
		return nil, nil
	}
	led, err := a.ledger(h)
	if err != nil {
		return nil, err
	}
	st, err := evaluate.Release(pol, snap, rel, evaluate.Options{Provenance: led})
	if err != nil {
		return nil, fmt.Errorf("evaluate %s at %s: %w", rel, h, err)
	}
	return st.Passed, nil
}

// governedDirs are the folders of a release repository whose files a gate
// governs; relgate.yaml is governed too, by policy-change, but a history
// has to start with it.
var governedDirs = []string{document.ReleasesDir, document.ChangesDir, document.CMDBDir, document.ReportsDir, document.ReviewsDir, document.ApprovalsDir}

func governedKey(k string) bool {
	top, _, _ := strings.Cut(k, "/")
	for _, d := range governedDirs {
		if top == d {
			return true
		}
	}
	return false
}

// startOfHistory checks a commit with no parent policy: a root commit, or
// the commit that brings the release repository or its policy in. It may
// carry relgate.yaml and plain files; governed files in it no gate has seen,
// so they are a violation (the auditor's trusted import is named with
// --baseline, and not evaluated at all).
func (a *auditor) startOfHistory(h plumbing.Hash, v func(rule, rel, clause, msg string) Violation, what string) ([]Violation, []string, error) {
	carried, hasPolicy, err := a.governedIn(h)
	if err != nil {
		return nil, nil, err
	}
	if len(carried) == 0 {
		if !hasPolicy {
			return nil, nil, nil // plain files before relgate came in
		}
		return nil, []string{"a lawful start of the history: " + document.PolicyPath + " and plain files only"}, nil
	}
	return []Violation{v(RuleRootCommit, releaseOf(strings.Join(carried, " ")), "R-3.2", fmt.Sprintf("%s: it carries governed files no gate has checked: %s; a history may start with %s and plain files only (name a trusted import with --baseline)",
		what, strings.Join(carried, ", "), document.PolicyPath))}, nil, nil
}

// governedIn summarises the governed files of the release repository at a
// commit: each governed folder with its number of entries (and the release
// ids), without reading the folders below; and whether relgate.yaml is there.
func (a *auditor) governedIn(h plumbing.Hash) ([]string, bool, error) {
	co, err := a.r.Git.CommitObject(h)
	if err != nil {
		return nil, false, fmt.Errorf("read commit %s: %w", h, err)
	}
	root, err := co.Tree()
	if err != nil {
		return nil, false, fmt.Errorf("read tree of %s: %w", h, err)
	}
	if p := strings.Trim(a.prefix, "/"); p != "" && p != "." {
		root, err = root.Tree(p)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("read folder %s at %s: %w", p, h, err)
		}
	}
	_, err = root.FindEntry(document.PolicyPath)
	hasPolicy := err == nil
	var out []string
	for _, d := range governedDirs {
		e, err := root.FindEntry(d)
		if err != nil {
			continue
		}
		if e.Mode == filemode.Dir {
			sub, err := a.r.Git.TreeObject(e.Hash)
			if err != nil {
				return nil, false, fmt.Errorf("read folder %s at %s: %w", d, h, err)
			}
			names := make([]string, 0, len(sub.Entries))
			for _, se := range sub.Entries {
				names = append(names, se.Name)
			}
			if len(names) == 0 {
				continue
			}
			if d == document.ReleasesDir {
				out = append(out, fmt.Sprintf("%s/ (%d: %s)", d, len(names), listSome(names)))
			} else {
				out = append(out, fmt.Sprintf("%s/ (%d)", d, len(names)))
			}
			continue
		}
		out = append(out, d) // a file, link or submodule where a folder goes
	}
	return out, hasPolicy, nil
}

// listSome lists a few names and counts the rest.
func listSome(names []string) string {
	const most = 5
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

// lineage tracks the commits reachable from the first-parent chain as the
// walk goes, so a merge that brings in a history of its own (a root the
// first parent's history does not have) is found. It is built at the first
// merge: a linear history never pays for it.
type lineage struct {
	ix    *history.Index
	r     *gitrepo.Repo
	seen  map[plumbing.Hash]bool
	built bool
}

// add records a chain commit, with what its other parents bring (a merge
// the walk did not evaluate still brings its side's history in).
func (l *lineage) add(c history.Commit) error {
	if !l.built {
		return nil
	}
	_, _, err := l.walk(c.Hash)
	return err
}

// walk marks everything reachable from h that is not marked yet and returns
// the roots among it, and the commits whose parents are missing (shallow).
func (l *lineage) walk(h plumbing.Hash) (roots, cut []plumbing.Hash, err error) {
	stack := []plumbing.Hash{h}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if l.seen[x] {
			continue
		}
		l.seen[x] = true
		c, ok := l.ix.Lookup(x)
		if !ok {
			cut = append(cut, x)
			continue
		}
		if len(c.Parents) == 0 {
			// The index leaves out parents that are not in the repository;
			// the commit object says whether there were any.
			co, err := l.r.Git.CommitObject(x)
			if err != nil {
				return nil, nil, fmt.Errorf("read commit %s: %w", x, err)
			}
			if co.NumParents() == 0 {
				roots = append(roots, x)
			} else {
				cut = append(cut, x)
			}
		}
		stack = append(stack, c.Parents...)
	}
	return roots, cut, nil
}

// foreignRoots checks a merge on the chain: a root that its other parents'
// history has and its first parent's does not is another history; if the
// merge brings governed files in, they never passed this repository's gates.
func (a *auditor) foreignRoots(c history.Commit, co *object.Commit, lin *lineage, baseline plumbing.Hash, v func(rule, rel, clause, msg string) Violation) ([]Violation, []string, error) {
	if !lin.built {
		lin.seen, lin.built = map[plumbing.Hash]bool{}, true
		if _, _, err := lin.walk(c.Parents[0]); err != nil {
			return nil, nil, err
		}
	}
	var roots, cut []plumbing.Hash
	for _, p := range co.ParentHashes[1:] {
		rs, cs, err := lin.walk(p)
		if err != nil {
			return nil, nil, err
		}
		roots, cut = append(roots, rs...), append(cut, cs...)
	}
	id := short(c.Hash.String())
	var out []Violation
	var notes []string
	if len(cut) > 0 {
		out = append(out, v(RuleUnverifiable, "", "", fmt.Sprintf("merge %s brings in history that is cut at %s (a shallow clone?): whether it has a root of its own cannot be told; fetch the whole history",
			id, strings.Join(shortHashes(cut), ", "))))
	}
	var foreign []string
	for _, r := range roots {
		if r == baseline {
			notes = append(notes, "the merge brings in the history of the trusted baseline (--baseline) "+short(r.String()))
			continue
		}
		foreign = append(foreign, short(r.String()))
	}
	if len(foreign) == 0 {
		return out, notes, nil
	}
	var gov []string
	for _, k := range c.Keys {
		if governedKey(k) {
			gov = append(gov, k)
		}
	}
	if len(gov) == 0 {
		notes = append(notes, fmt.Sprintf("the merge brings in another history (root commit %s) but no governed files", strings.Join(foreign, ", ")))
		return out, notes, nil
	}
	out = append(out, v(RuleForeignRoot, releaseOf(strings.Join(gov, " ")), "R-3.2", fmt.Sprintf("merge %s brings in another history (root commit %s, not in the history of its first parent %s) with governed files no gate of this repository has checked: %s",
		id, strings.Join(foreign, ", "), short(c.Parents[0].String()), listSome(gov))))
	return out, notes, nil
}

func shortHashes(hs []plumbing.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = short(h.String())
	}
	sort.Strings(out)
	return out
}

// rewritten checks that the tip an earlier run verified is still on the
// branch: an ancestor of the tip (or the tip), on its first-parent history.
// A branch that lost it was rewritten (a force push, a reset); one that
// reaches it only through a merged side was moved onto another line of
// history, whose first-parent chain no earlier run walked.
func (a *auditor) rewritten(ix *history.Index, tip, prev plumbing.Hash, state string) ([]Violation, error) {
	if onFirstParents(ix, tip, prev) {
		return nil, nil
	}
	subj := ""
	if co, err := a.r.Git.CommitObject(prev); err == nil {
		subj = subject(co.Message)
	}
	where := ""
	if state != "" {
		where = " (recorded in " + state + ")"
	}
	ack := "; once it is accounted for, delete the record to verify the branch as it is now"
	msg := fmt.Sprintf("the branch no longer contains commit %s, which an earlier run verified as its tip%s: its history was rewritten (a force push or a reset), and what that run verified is gone%s",
		short(prev.String()), where, ack)
	if isAncestor(ix, prev, tip) {
		msg = fmt.Sprintf("commit %s, which an earlier run verified as the tip%s, is no longer on the first-parent history of the branch, only on a merged side: the branch was moved onto another line of history%s",
			short(prev.String()), where, ack)
	}
	return []Violation{{Commit: prev.String(), Subject: subj, Rule: RuleHistoryRewritten, Clause: "R-3.2", Message: msg}}, nil
}

// onFirstParents reports whether h is tip or on its first-parent history.
func onFirstParents(ix *history.Index, tip, h plumbing.Hash) bool {
	for x := tip; ; {
		if x == h {
			return true
		}
		c, ok := ix.Lookup(x)
		if !ok || len(c.Parents) == 0 {
			return false
		}
		x = c.Parents[0]
	}
}

// isAncestor reports whether a is b or an ancestor of b, by parent links.
func isAncestor(ix *history.Index, a, b plumbing.Hash) bool {
	if _, ok := ix.Lookup(a); !ok {
		return false
	}
	seen := map[plumbing.Hash]bool{b: true}
	stack := []plumbing.Hash{b}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == a {
			return true
		}
		c, ok := ix.Lookup(x)
		if !ok {
			continue
		}
		for _, p := range c.Parents {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
	}
	return false
}

// ioError tells an error reading the repository (a missing or corrupt
// object, the disk) from one about what a commit holds.
func ioError(err error) bool {
	var pe *fs.PathError
	var pack *packfile.Error
	return errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &pe) ||
		errors.Is(err, zlib.ErrChecksum) || errors.Is(err, zlib.ErrHeader) || errors.As(err, &pack)
}

// StatePath is the file that keeps the tip verified of ref for the release
// repository at prefix, under the git directory: outside the tree, so no
// commit can change it, and per branch and folder.
func StatePath(gitDir, prefix, ref string) string {
	sum := sha256.Sum256([]byte(strings.Trim(prefix, "/") + "\x00" + ref))
	return filepath.Join(gitDir, "relgate", fmt.Sprintf("verified-%x", sum[:6]))
}

// ReadState returns the commit a state file records; zero when there is no file.
func ReadState(p string) (plumbing.Hash, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read the verified tip: %w", err)
	}
	s := strings.TrimSpace(string(data))
	if len(s) != 40 || !plumbing.IsHash(s) {
		return plumbing.ZeroHash, fmt.Errorf("%s does not hold a commit id; delete it (the next run records the tip again)", p)
	}
	return plumbing.NewHash(s), nil
}

// WriteState records the verified tip, atomically: a reader sees the old
// record or the new one, never half of one.
func WriteState(p string, tip plumbing.Hash) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("record the verified tip: %w", err)
	}
	if err := writeAtomic(p, []byte(tip.String()+"\n")); err != nil {
		return fmt.Errorf("record the verified tip in %s: %w", p, err)
	}
	return nil
}

// writeAtomic replaces p with data: a temporary file beside it, renamed,
// so a reader sees the old content or the new, never a part.
func writeAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// releaseOf finds the release a path or message names.
func releaseOf(s string) string {
	i := strings.Index(s, document.ReleasesDir+"/")
	if i < 0 {
		return ""
	}
	rest := s[i+len(document.ReleasesDir)+1:]
	id, _, _ := strings.Cut(rest, "/")
	id, _, _ = strings.Cut(id, " ")
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

// records finds the bot's records of the reviews of the merge chain[i]:
// among the bot's commits that follow the merge on the first-parent chain
// (its write-back), those that change approval files only, each naming as
// its forge head commit a commit the merge brought in. The scan stops at the
// first commit the bot did not make.
func (a *auditor) records(chain []history.Commit, i int) ([]plumbing.Hash, error) {
	c := chain[i]
	if len(c.Parents) < 2 {
		return nil, nil
	}
	pol, err := a.policy(c.Parents[0])
	if err != nil || pol == nil {
		return nil, err
	}
	heads := map[string]bool{}
	for _, p := range c.Parents[1:] {
		heads[p.String()] = true
	}
	var out []plumbing.Hash
	for j := i + 1; j < len(chain); j++ {
		rc := chain[j]
		co, err := a.r.Git.CommitObject(rc.Hash)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", rc.Hash, err)
		}
		if len(co.ParentHashes) != 1 || !evaluate.ByBot(pol, provenance.FromCommit(co)) {
			break
		}
		ok, err := a.recordOf(rc.Hash, co.ParentHashes[0], heads)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, rc.Hash)
		}
	}
	return out, nil
}

// recordOf reports whether commit h changes approval files only, each
// recorded from a review of one of heads.
func (a *auditor) recordOf(h, parent plumbing.Hash, heads map[string]bool) (bool, error) {
	paths, err := a.ix.ChangedPaths(a.r, parent, h)
	if err != nil || len(paths) == 0 {
		return false, err
	}
	tree, err := a.ix.TreeAt(a.r, h)
	if err != nil {
		return false, err
	}
	snap, err := loader.LoadReleases(tree, evaluate.TouchedReleases(paths))
	if err != nil {
		return false, err
	}
	if err := snap.Include(paths); err != nil {
		return false, err
	}
	for _, p := range paths {
		d := snap.Doc(p)
		if d == nil {
			return false, nil
		}
		ap, ok := d.Value.(*document.Approval)
		if !ok || ap.Forge == nil || !heads[ap.Forge.HeadCommit] {
			return false, nil
		}
	}
	return true, nil
}
