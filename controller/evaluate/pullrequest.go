package evaluate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/validate"
)

// Introduction is the commit of a pull request that gave an approval file
// its content. gitrepo.Introduction implements it.
type Introduction interface {
	// CommitID is empty when no commit of the change introduced the content.
	CommitID() string
	AuthorEmailAddress() string
	VerifiedBy(armoredKeys []string) bool
}

// History authenticates the approvals of a pull request: an approval already
// on the base branch with the same content stands; one the pull request adds
// or changes counts only if the commit that introduced it is signed by a key
// the base policy lists for its person, or, when the policy trusts commit
// authorship, authored with the person's email.
type History struct {
	Policy *policy.Policy
	// Introduced maps an approval's path to its introducing commit; a path
	// absent here is unchanged from base.
	Introduced map[string]Introduction
}

// Authenticate implements Authenticator.
func (h History) Authenticate(a *loader.Approval) (string, string) {
	intro, ok := h.Introduced[a.Doc.Path]
	if !ok {
		return "base", ""
	}
	if intro.CommitID() == "" {
		return "", "it differs from the base branch but no commit of this change introduced it (is the branch behind base, or does it restore an older version?); update the branch and record it again"
	}
	if a.Forge != nil && strings.EqualFold(intro.AuthorEmailAddress(), h.Policy.Bot.Email) {
		// Recorded by relgate from a forge review: the bot vouches for it.
		if h.ByBot(intro) {
			return "forge", ""
		}
		return "", fmt.Sprintf("recorded by the bot from review %d, but commit %s carries no valid signature by a key the policy lists for the bot", a.Forge.ReviewID, short(intro.CommitID()))
	}
	person, known := h.Policy.Person(a.FilePerson)
	if !known {
		return "", fmt.Sprintf("%s is not a person of the base policy", a.FilePerson)
	}
	if len(person.SigningKeys) > 0 && intro.VerifiedBy(person.SigningKeys) {
		return "signature", ""
	}
	if h.Policy.TrustCommitAuthor && strings.EqualFold(intro.AuthorEmailAddress(), person.Email) {
		return "commit-author", ""
	}
	if h.Policy.TrustCommitAuthor {
		return "", fmt.Sprintf("commit %s that added it was authored by %s, not by %s <%s>", short(intro.CommitID()), intro.AuthorEmailAddress(), person.Login, person.Email)
	}
	return "", fmt.Sprintf("commit %s that added it carries no valid signature by a key the policy lists for %s", short(intro.CommitID()), person.Login)
}

// ByBot reports whether the policy's bot made the introducing commit: signed
// by a key the policy lists for the bot person, or, when the policy trusts
// commit authorship, authored with the bot's email.
func (h History) ByBot(intro Introduction) bool {
	if intro == nil || intro.CommitID() == "" || !strings.EqualFold(intro.AuthorEmailAddress(), h.Policy.Bot.Email) {
		return false
	}
	if bot, ok := h.Policy.PersonByEmail(h.Policy.Bot.Email); ok && len(bot.SigningKeys) > 0 {
		return intro.VerifiedBy(bot.SigningKeys)
	}
	return h.Policy.TrustCommitAuthor
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// PullRequest is what evaluating a change needs: the base and head
// snapshots (head loaded for the touched releases), the paths that changed,
// and how approvals are authenticated.
type PullRequest struct {
	Base, Head *loader.Snapshot
	Changed    []string
	Auth       Authenticator
	// Authors are the pull request's authors (separation of duties).
	Authors []string
	// Extra are approvals from the forge (reviews), by release id ("" for the repository) and gate.
	Extra map[string]map[string][]gate.Vote
	// DocAuthors are, per release and file name, the people whose commits in
	// the change edited it (separation of duties).
	DocAuthors map[string]map[string][]string
	// Problems found by the caller in the change's paths.
	Problems []string
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
}

// Evaluate decides whether the pull request may merge. The policy always
// comes from base: a change cannot grant itself approvals.
func (pr PullRequest) Evaluate() (*GateReport, error) {
	rep := &GateReport{APIVersion: document.APIVersion, Kind: "GateReport", Base: pr.Base.Tree.Name(), Head: pr.Head.Tree.Name(),
		Warnings: []string{}, Findings: []finding.Finding{}, Releases: []ReleaseGates{}}
	if pr.Base.Policy == nil {
		return nil, fmt.Errorf("the base revision has no valid %s; fix the protected branch first", document.PolicyPath)
	}
	pol, err := policy.New(pr.Base.Policy)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", document.PolicyPath, err)
	}
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
	rep.Problems = append(rep.Problems, pr.Problems...)
	if errorsFound {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d validation error(s) in the changed documents", finding.Errors(fs)))
	}
	auth := pr.Auth
	if auth == nil {
		auth = OnBranch{}
	}
	// Approvals this change adds must be authenticated now: once merged, the
	// branch vouches for them.
	for _, a := range allApprovals(pr.Head) {
		if !slices.Contains(pr.Changed, a.Doc.Path) {
			continue
		}
		if _, problem := auth.Authenticate(a); problem != "" {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: not authenticated: %s", a.Doc.Path, problem))
		}
	}
	for _, a := range pr.Base.PolicyApprovals {
		if a.Approval != nil && a.Decision == document.DecisionReject && pr.Head.Doc(a.Doc.Path) == nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: the rejection by %s is deleted; only they withdraw it, by recording an approval", a.Doc.Path, a.FilePerson))
		}
	}
	for _, g := range pol.RepositoryGates() {
		if !slices.ContainsFunc(pr.Changed, g.Guards) {
			continue
		}
		res, err := RepositoryGate(pol, pr.Head, g, Options{Auth: auth, Authors: pr.Authors, Extra: pr.Extra[""]})
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
		rg, err := pr.release(pol, id, auth)
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

func (pr PullRequest) release(pol *policy.Policy, id string, auth Authenticator) (ReleaseGates, error) {
	rg := ReleaseGates{Release: id, Required: []string{}, Gates: []gate.Result{}}
	st, err := Release(pol, pr.Head, id, Options{Auth: auth, Authors: pr.Authors, FileAuthors: pr.DocAuthors[id], Extra: pr.Extra[id]})
	if err != nil {
		return rg, err
	}
	rg.State = st.State
	head := pr.Head.Releases[id]
	if head == nil {
		rg.Problems = append(rg.Problems, "the change deletes release "+id+"; releases are never deleted (R-3.2)")
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
	// A deployment record must be right when it is written: what was deployed
	// was tested, a failure records its rollback.
	if head != nil && head.Deployment != nil {
		if g, ok := st.Gate(policy.GateDeploymentConfirmation); ok {
			for _, c := range g.Checks {
				if !c.OK && (c.Name == "deployed-as-tested" || c.Name == "rollback-carried-out") {
					rg.Problems = append(rg.Problems, fmt.Sprintf("%s: %s (%s)", c.File, c.Message, c.Clause))
				}
			}
		}
	}
	// What the release achieved on base stays achieved: a gate that passed
	// there must still pass after the change (a confirmed deployment record
	// cannot be rewritten without its confirmations).
	if pr.Base.Releases[id] != nil {
		was, err := Release(pol, pr.Base, id, Options{})
		if err != nil {
			return rg, err
		}
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
				rg.Problems = append(rg.Problems, fmt.Sprintf("%s: the rejection by %s is deleted; only they withdraw it, by recording an approval", a.Doc.Path, a.FilePerson))
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
					votes = append(votes, Vote(a, auth))
				}
			}
			votes = append(votes, pr.Extra[id][g.ID]...)
			res := gate.EvaluateApprovals(gate.Input{Policy: pol, Release: head, Digests: map[string]string{g.ID: d},
				Votes: map[string][]gate.Vote{g.ID: votes}, Authors: pr.Authors}, g)
			rg.Required = append(rg.Required, g.ID)
			rg.Gates = append(rg.Gates, res)
		}
	}
	rg.Passed = len(rg.Problems) == 0
	for _, g := range rg.Gates {
		rg.Passed = rg.Passed && g.Passed
	}
	return rg, nil
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
