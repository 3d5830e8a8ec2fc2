package evaluate

import (
	"time"

	"fmt"
	"slices"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/validate"
)

// PullRequest is what evaluating a change needs: the base snapshot, the
// snapshot of what merging the change would give (loaded for the touched
// releases), the paths the change itself changed (since it parted from
// base), and the provenance of both lines of history.
type PullRequest struct {
	Base, Head *loader.Snapshot
	Changed    []string
	// Provenance attributes content over both lines of history (base and
	// head); BaseProvenance over base's alone, for what base had achieved.
	Provenance, BaseProvenance Provenance
	// Authors are the pull request's authors (separation of duties).
	Authors []string
	// Extra are approvals from the forge (reviews), by release id ("" for the repository) and gate.
	Extra map[string]map[string][]gate.Vote
	// Problems found by the caller (a conflict with base, say).
	Problems []string
	// Policy is the policy in force at base (engine.PolicyInForce), with
	// what to warn of; nil means base's relgate.yaml as it stands.
	Policy         *policy.Policy
	PolicyWarnings []string
	// MergeAt is when the change would merge, for the freezes then in
	// effect; zero checks none.
	MergeAt time.Time
}

// ReleaseGates is one touched release's evaluation.
type ReleaseGates struct {
	Release string `json:"release"`
	State   string `json:"state"`
	// Required are the gates the head's documents assert, which must pass.
	Required []string      `json:"required"`
	Passed   bool          `json:"passed"`
	Gates    []gate.Result `json:"gates"`
	Problems []string      `json:"problems,omitempty"`
	// Withdrawn are required gates that fail only because the change records
	// rejections by their authors, which never blocks a change.
	Withdrawn []string `json:"withdrawn,omitempty"`
	// Changed are the release's files the change adds, modifies or
	// deletes, so people see what they are asked to merge.
	Changed []FileChange `json:"changed,omitempty"`
	// Approvals are the approval files the change adds or modifies, and
	// whether each counts.
	Approvals []AddedApproval `json:"approvals,omitempty"`
	// ProblemTexts are Problems for translation, one for one.
	ProblemTexts []i18n.Message `json:"-"`
}

func (rg *ReleaseGates) problem(m i18n.Message) {
	rg.Problems, rg.ProblemTexts = append(rg.Problems, m.String()), append(rg.ProblemTexts, m)
}

// AddedApproval is an approval a change records, and what it does.
type AddedApproval struct {
	File     string `json:"file"`
	Gate     string `json:"gate"`
	Person   string `json:"person"`
	Role     string `json:"role,omitempty"`
	Decision string `json:"decision,omitempty"`
	// Effect is counts, rejects, not-counted, or invalid (the file does
	// not decode); unevaluated when no gate of the release decided it.
	Effect string `json:"effect"`
	// Reason and Message say why it is not counted (gate.Ignored).
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Text is Message for translation.
	Text *i18n.Message `json:"-"`
}

// FileChange is one file a change touches.
type FileChange struct {
	Path string `json:"path"`
	// Change is added, modified or deleted (against base).
	Change string `json:"change"`
}

// GateReport is the result of a pull request's evaluation; its JSON shape is stable.
type GateReport struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Base       string            `json:"base"`
	Head       string            `json:"head"`
	Passed     bool              `json:"passed"`
	Warnings   []string          `json:"warnings"`
	Findings   []finding.Finding `json:"findings"`
	Policy     *gate.Result      `json:"policyChange,omitempty"`
	// Repository are the other repository gates the change needs (change-record).
	Repository []gate.Result  `json:"repositoryGates,omitempty"`
	Releases   []ReleaseGates `json:"releases"`
	Problems   []string       `json:"problems,omitempty"`
	// ProblemTexts are Problems for translation, one for one.
	ProblemTexts []i18n.Message `json:"-"`
	// Language is the base policy's language, for i18n.Select.
	Language string `json:"-"`
}

func (rep *GateReport) problem(m i18n.Message) {
	rep.Problems, rep.ProblemTexts = append(rep.Problems, m.String()), append(rep.ProblemTexts, m)
}

// Evaluate decides whether the pull request may merge. The policy always
// comes from base: a change cannot grant itself approvals.
func (pr PullRequest) Evaluate() (*GateReport, error) {
	rep := &GateReport{APIVersion: document.APIVersion, Kind: "GateReport", Base: pr.Base.Tree.Name(), Head: pr.Head.Tree.Name(),
		Warnings: []string{}, Findings: []finding.Finding{}, Releases: []ReleaseGates{}}
	pol := pr.Policy
	if pol == nil {
		if pr.Base.Policy == nil {
			return nil, fmt.Errorf("the base revision has no valid %s; fix the protected branch first", document.PolicyPath)
		}
		var err error
		if pol, err = policy.New(pr.Base.Policy); err != nil {
			return nil, fmt.Errorf("base %s: %w", document.PolicyPath, err)
		}
	}
	rep.Language = pol.Language
	rep.Warnings = append(rep.Warnings, pr.PolicyWarnings...)
	if pol.TrustCommitAuthor {
		rep.Warnings = append(rep.Warnings, "the base policy trusts commit authorship (trustCommitAuthor): approvals are unauthenticated")
	}
	// Forge logins are case-insensitive; the gate compares policy logins.
	pr.Authors = policyLogins(pol, pr.Authors)
	fs, err := validate.Check(pr.Head)
	if err != nil {
		return nil, err
	}
	rep.Findings = append(rep.Findings, fs...)
	errorsFound := finding.Errors(fs) > 0
	for _, p := range pr.Problems {
		rep.problem(i18n.M("%s", p))
	}
	if errorsFound {
		rep.problem(i18n.M("%s validation error(s) in the changed documents", fmt.Sprint(finding.Errors(fs))))
	}
	prov := pr.Provenance
	if prov == nil {
		prov = NoHistory{}
	}
	opts := Options{Provenance: prov, Authors: pr.Authors}
	pathProblems, err := governedPaths(pol, prov, pr.Head, pr.Changed)
	if err != nil {
		return nil, err
	}
	for _, p := range pathProblems {
		rep.problem(i18n.M("%s", p))
	}
	// Approvals this change adds must be authenticated.
	for _, a := range allApprovals(pr.Head) {
		if !slices.Contains(pr.Changed, a.Doc.Path) || a.Approval == nil {
			continue
		}
		v, err := Vote(pol, prov, a)
		if err != nil {
			return nil, err
		}
		if v.AuthProblem != "" {
			rep.problem(i18n.M("%s: not authenticated: %s", a.Doc.Path, v.AuthProblem))
		}
	}
	for _, a := range pr.Base.PolicyApprovals {
		if a.Approval != nil && a.Decision == document.DecisionReject && pr.Head.Doc(a.Doc.Path) == nil {
			rep.problem(i18n.M("%s: the rejection by %s is deleted; only they withdraw it, by recording an approval", a.Doc.Path, a.FilePerson))
		}
	}
	for _, g := range pol.RepositoryGates() {
		var guarded []string
		for _, p := range pr.Changed {
			if g.Guards(p) {
				guarded = append(guarded, p)
			}
		}
		if len(guarded) == 0 {
			continue
		}
		if g.ID == policy.GateCMDBChange {
			// The bot's write-back of confirmed deployments keeps the CMDB
			// any other edit needs the configuration manager.
			byBot, err := allByBot(pol, prov, pr.Head, guarded)
			if err != nil {
				return nil, err
			}
			if byBot {
				continue
			}
		}
		res, err := RepositoryGate(pol, pr.Head, g, Options{Provenance: prov, Authors: pr.Authors, Extra: pr.Extra[""]})
		if err != nil {
			return nil, err
		}
		if g.ID == policy.GatePolicyChange {
			rep.Policy = &res
		} else {
			rep.Repository = append(rep.Repository, res)
		}
	}
	for _, id := range touchedReleases(pr.Changed) {
		rg, err := pr.release(pol, id, opts)
		if err != nil {
			return nil, err
		}
		rep.Releases = append(rep.Releases, rg)
	}
	rep.Passed = !errorsFound && len(rep.Problems) == 0 && (rep.Policy == nil || rep.Policy.Passed)
	for _, g := range rep.Repository {
		rep.Passed = rep.Passed && g.Passed
	}
	for _, r := range rep.Releases {
		rep.Passed = rep.Passed && r.Passed
	}
	return rep, nil
}

func allApprovals(s *loader.Snapshot) []*loader.Approval {
	out := slices.Clone(s.PolicyApprovals)
	for _, id := range s.ReleaseIDs() {
		out = append(out, s.Releases[id].Approvals...)
	}
	return out
}

// touchedReleases returns the release ids whose folders a change touches.
func touchedReleases(changed []string) []string {
	var out []string
	for _, p := range changed {
		parts := strings.Split(p, "/")
		if len(parts) >= 3 && parts[0] == document.ReleasesDir && !slices.Contains(out, parts[1]) {
			out = append(out, parts[1])
		}
	}
	slices.Sort(out)
	return out
}

// TouchedReleases is exported for callers that load the head snapshot.
func TouchedReleases(changed []string) []string { return touchedReleases(changed) }

func (pr PullRequest) release(pol *policy.Policy, id string, opts Options) (ReleaseGates, error) {
	rg := ReleaseGates{Release: id, Required: []string{}, Gates: []gate.Result{}}
	var was *gate.Status
	if pr.Base.Releases[id] != nil {
		st, err := Release(pol, pr.Base, id, Options{Provenance: pr.BaseProvenance})
		if err != nil {
			return rg, err
		}
		was = &st
	}
	// A change that gives the go-live approval (or gives it again: the
	// documents it covers or its approvals change) is judged against the
	// change calendar as it merges, a freeze then in effect included
	// a change that only records what happened to a
	// release approved before does not reopen its calendar.
	var mergeAt time.Time
	if !pr.MergeAt.IsZero() {
		givesGoLive, err := pr.givesGoLive(pol, id, was)
		if err != nil {
			return rg, err
		}
		if givesGoLive {
			mergeAt = pr.MergeAt
		}
	}
	st, err := Release(pol, pr.Head, id, Options{Provenance: opts.Provenance, Authors: pr.Authors, Extra: pr.Extra[id], MergeAt: mergeAt})
	if err != nil {
		return rg, err
	}
	rg.State = st.State
	rg.Changed = pr.fileChanges(document.ReleaseDir(id) + "/")
	// An approval the change adds must count: one that is stale, a
	// self-approval or out of role when it lands would stand in history as
	// if it meant something. Unauthenticated ones are refused above.
	for _, g := range st.Gates {
		for _, ig := range g.Ignored {
			if slices.Contains(pr.Changed, ig.File) && ig.Reason != "unauthenticated" && ig.Reason != "not-required" {
				msg := i18n.M("%s", ig.Message)
				if ig.Text != nil {
					msg = *ig.Text
				}
				rg.problem(i18n.M("%s: the approval of %s by %s that this change adds does not count (%s): %s", ig.File, i18n.Gate(g.Gate), ig.Person, i18n.Reason(ig.Reason), msg))
			}
		}
	}
	head := pr.Head.Releases[id]
	pr.recordsKept(id, head, &rg)
	if head == nil {
		rg.problem(i18n.M("the change deletes release %s; releases are never deleted (R-3.2)", id))
	}
	required := map[string]bool{}
	if head != nil {
		for _, t := range gate.Transitions(head) {
			required[t.Gate] = true
			for _, g := range pol.GatesBefore(t.Gate) {
				required[g.ID] = true
			}
		}
	}
	// An emergency release's retrospective gates are owed after its go-live
	// (typeRules, R-5.1): the go-live documents that assert them do not
	// require them now; closure does, and status and audit verify flag them
	// once overdue.
	for _, rt := range st.Retrospectives {
		if !rt.Passed {
			delete(required, rt.Gate)
		}
	}
	// A go-live approval the change records while a freeze of the release's
	// systems is in effect merges only with the exception it needs:
	// during a freeze the go-live gate must pass as the change merges.
	if g, ok := st.Gate(policy.GateGoLiveApproval); ok && slices.ContainsFunc(g.Checks, func(c gate.Check) bool { return c.Name == gate.FreezeAtMergeCheck }) {
		if pr.touchesGoLiveApprovals(id) {
			required[policy.GateGoLiveApproval] = true
		}
	}
	// A deployment record must be right when it is written: what was deployed
	// was tested, a failure records its rollback.
	if head != nil && head.Deployment != nil {
		// A receipt the bot wrote of a failed deployment cannot say how the
		// rollback went: people complete it in a later change, and until
		// they do the check fails in status and the gate does not pass.
		receipt, _, err := botReceipt(pol, opts.prov(), head)
		if err != nil {
			return rg, err
		}
		if g, ok := st.Gate(policy.GateDeploymentConfirmation); ok {
			for _, c := range g.Checks {
				blocks := slices.Contains(gate.RecordChecks, c.Name) || c.Name == gate.CheckReceiptAuthentic || c.Name == gate.CheckDeployedAsAllowed
				if receipt && (c.Name == gate.CheckRollbackCarriedOut || c.Name == gate.CheckRestoredAsPlanned) {
					blocks = false
				}
				if !c.OK && blocks {
					msg := i18n.M("%s", c.Message)
					if c.Text != nil {
						msg = *c.Text
					}
					rg.problem(i18n.M("%s: %s (%s)", c.File, msg, c.Clause))
				}
			}
		}
	}
	// What the release achieved on base stays achieved: a gate that passed
	// there must still pass after the change (a confirmed deployment record
	// cannot be rewritten without its confirmations).
	if was != nil {
		for _, g := range was.Passed {
			required[g] = true
		}
	}
	for _, g := range st.Gates {
		if required[g.Gate] {
			rg.Required = append(rg.Required, g.Gate)
			rg.Gates = append(rg.Gates, g)
		}
	}
	if base := pr.Base.Releases[id]; base != nil {
		// A rejection stands until its author replaces it (R-3.2: nothing is erased).
		for _, a := range base.Approvals {
			if a.Approval != nil && a.Decision == document.DecisionReject && (head == nil || !slices.ContainsFunc(head.Approvals, func(h *loader.Approval) bool { return h.Doc.Path == a.Doc.Path })) {
				rg.problem(i18n.M("%s: the rejection by %s is deleted; only they withdraw it, by recording an approval", a.Doc.Path, a.FilePerson))
			}
		}
		// A closed release changes only with the process approver.
		if base.Closure != nil && head != nil {
			g, _ := pol.Gate(policy.GateClosedReleaseChange)
			d, _, err := Digest(pr.Head.Tree, id, g)
			if err != nil {
				return rg, err
			}
			var votes []gate.Vote
			for _, a := range head.Approvals {
				if a.Approval != nil && a.FileGate == g.ID {
					v, err := Vote(pol, opts.Provenance, a)
					if err != nil {
						return rg, err
					}
					votes = append(votes, v)
				}
			}
			votes = append(votes, pr.Extra[id][g.ID]...)
			res := gate.EvaluateApprovals(gate.Input{Policy: pol, Release: head, Digests: map[string]string{g.ID: d},
				Votes: map[string][]gate.Vote{g.ID: votes}, Authors: pr.Authors}, g)
			rg.Required = append(rg.Required, g.ID)
			rg.Gates = append(rg.Gates, res)
		}
	}
	if head != nil {
		rg.Approvals = pr.addedApprovals(head, append(slices.Clone(st.Gates), rg.Gates...))
	}
	rg.Passed = len(rg.Problems) == 0
	for i, g := range rg.Gates {
		if !g.Passed && pr.withdrawal(id, g) {
			// A person may always withdraw their decision: a change that only
			// records rejections by their own authors merges, and the release
			// is back in the state its approvals give it.
			m := i18n.M("the change only records a rejection by its author, which is always allowed; the release waits for this gate again")
			rg.Gates[i].Checks = append(rg.Gates[i].Checks, gate.Check{Name: "withdrawn", Clause: "R-3.2", OK: true, Message: m.String(), Text: &m})
			rg.Withdrawn = append(rg.Withdrawn, g.Gate)
			continue
		}
		rg.Passed = rg.Passed && g.Passed
	}
	return rg, nil
}

// addedApprovals says what each approval the change records does, from the
// evaluation of its gate.
func (pr PullRequest) addedApprovals(head *loader.Release, results []gate.Result) []AddedApproval {
	var out []AddedApproval
	for _, a := range head.Approvals {
		if !slices.Contains(pr.Changed, a.Doc.Path) {
			continue
		}
		ap := AddedApproval{File: a.Doc.Path, Gate: a.FileGate, Person: a.FilePerson, Effect: "unevaluated"}
		if a.Approval == nil {
			ap.Effect = "invalid"
			out = append(out, ap)
			continue
		}
		ap.Role, ap.Decision = a.Role, a.Decision
	find:
		for _, g := range results {
			if g.Gate != a.FileGate {
				continue
			}
			for _, ig := range g.Ignored {
				if ig.File == a.Doc.Path {
					ap.Effect, ap.Reason, ap.Message, ap.Text = "not-counted", ig.Reason, ig.Message, ig.Text
					break find
				}
			}
			for _, j := range g.Rejections {
				if j.File == a.Doc.Path {
					ap.Effect = "rejects"
					break find
				}
			}
			for _, q := range g.Requirements {
				if slices.Contains(q.Approved, a.FilePerson) {
					ap.Effect, ap.Role = "counts", q.Role
					break find
				}
			}
		}
		out = append(out, ap)
	}
	return out
}

// fileChanges are the changed paths under dir, each added, modified or deleted.
func (pr PullRequest) fileChanges(dir string) []FileChange {
	var out []FileChange
	for _, p := range pr.Changed {
		if !strings.HasPrefix(p, dir) {
			continue
		}
		_, errBase := pr.Base.Tree.Stat(p)
		_, errHead := pr.Head.Tree.Stat(p)
		change := "modified"
		switch {
		case errBase != nil && errHead == nil:
			change = "added"
		case errHead != nil:
			change = "deleted"
		}
		out = append(out, FileChange{Path: p, Change: change})
	}
	slices.SortFunc(out, func(a, b FileChange) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// withdrawal reports whether a gate fails only because the change records
// rejections of it by their authors (authenticated, since unauthenticated
// approval files are refused) and touches no other document of the release.
func (pr PullRequest) withdrawal(id string, g gate.Result) bool {
	dir := document.ReleaseDir(id) + "/"
	added := 0
	for _, j := range g.Rejections {
		if slices.Contains(pr.Changed, j.File) {
			added++
		}
	}
	if added == 0 {
		return false
	}
	for _, p := range pr.Changed {
		if !strings.HasPrefix(p, dir) {
			continue
		}
		a := pr.Head.Doc(p)
		ap, ok := approvalOf(a)
		if !ok || ap.Decision != document.DecisionReject {
			return false // a document, or an approval, changed too
		}
	}
	return true
}

func approvalOf(d *loader.Doc) (*document.Approval, bool) {
	if d == nil {
		return nil, false
	}
	a, ok := d.Value.(*document.Approval)
	return a, ok
}

// policyLogins maps logins to the policy's spelling, ignoring case.
func policyLogins(pol *policy.Policy, logins []string) []string {
	out := make([]string, 0, len(logins))
	for _, l := range logins {
		if p, ok := pol.PersonFold(l); ok {
			l = p.Login
		}
		out = append(out, l)
	}
	return out
}

// givesGoLive reports whether the change decides the release's go-live
// approval: it had not passed on base, or the change alters the documents
// it covers or its approvals.
func (pr PullRequest) givesGoLive(pol *policy.Policy, id string, was *gate.Status) (bool, error) {
	if was == nil || !slices.Contains(was.Passed, policy.GateGoLiveApproval) {
		return true, nil
	}
	if pr.touchesGoLiveApprovals(id) {
		return true, nil
	}
	g, ok := pol.Gate(policy.GateGoLiveApproval)
	if !ok {
		return true, nil
	}
	before, _ := was.Gate(policy.GateGoLiveApproval)
	now, _, err := Digest(memo(pr.Head.Tree), id, g)
	if err != nil {
		return false, err
	}
	return now != before.Digest, nil
}

// touchesGoLiveApprovals reports whether the change adds, alters or deletes
// a go-live approval of the release.
func (pr PullRequest) touchesGoLiveApprovals(id string) bool {
	prefix := document.ReleaseDir(id) + "/" + document.ApprovalsDir + "/" + policy.GateGoLiveApproval + "."
	return slices.ContainsFunc(pr.Changed, func(p string) bool { return strings.HasPrefix(p, prefix) })
}

// recordsKept refuses a change that rewrites what happened: a
// deployment record or closure on base is never deleted, a deployment's
// recorded times are never moved (its retrospectives fall due from them),
// and a deployment cannot have finished after the change recording it
// merges (a date in the future would put every due date off).
func (pr PullRequest) recordsKept(id string, head *loader.Release, rg *ReleaseGates) {
	dir := document.ReleaseDir(id) + "/"
	if base := pr.Base.Releases[id]; base != nil && head != nil {
		for _, f := range []string{"deployment.yaml", "closure.yaml"} {
			if base.Files[f] != nil && head.Files[f] == nil {
				rg.problem(i18n.M("%s: the change deletes this record of what happened; it is never deleted (R-3.2)", dir+f))
			}
		}
		if bd, hd := base.Deployment, head.Deployment; bd != nil && hd != nil && (bd.StartedAt != hd.StartedAt || bd.FinishedAt != hd.FinishedAt) {
			rg.problem(i18n.M("%s: the change moves the recorded deployment times (%s – %s to %s – %s); what happened is never rewritten (R-3.2)", dir+"deployment.yaml", bd.StartedAt, bd.FinishedAt, hd.StartedAt, hd.FinishedAt))
		}
	}
	if head == nil || head.Deployment == nil || pr.MergeAt.IsZero() || !slices.Contains(pr.Changed, dir+"deployment.yaml") {
		return
	}
	// Five minutes for clocks that disagree.
	if t, err := document.ParseTime(head.Deployment.FinishedAt); err == nil && t.After(pr.MergeAt.Add(5*time.Minute)) {
		rg.problem(i18n.M("%s: finishedAt %s is after the change records it (%s); record a deployment once it has finished (R-3.1)", dir+"deployment.yaml", head.Deployment.FinishedAt, pr.MergeAt.Format(time.RFC3339)))
	}
}
