// Package gate decides. From a release's documents, the approvals recorded
// for it and the policy of the protected base branch, it derives the
// release's lifecycle state and, for each gate, whether it passes, who
// satisfied it and exactly what is missing. It does no I/O: the caller reads
// the documents, computes digests and says how each approval was
// authenticated; the same code serves `status`, `gate` and the server.
package gate

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// Vote is one recorded decision on a gate, with how it was authenticated.
type Vote struct {
	Person   string `json:"person"`
	Role     string `json:"role"`
	Decision string `json:"decision"`
	Digest   string `json:"digest"`
	At       string `json:"at,omitempty"`
	Comment  string `json:"comment,omitempty"`
	File     string `json:"file,omitempty"`
	// Release is what the approval says it is for; it must be the release evaluated.
	Release string `json:"release,omitempty"`
	// AuthVia says what authenticated it: "signature", "commit-author",
	// "forge", or "base" (it was on the protected branch already).
	AuthVia string `json:"authVia,omitempty"`
	// AuthProblem says why it is not authenticated; empty when it is.
	AuthProblem string `json:"authProblem,omitempty"`
	// Commit is the commit that gave the approval its content, when known.
	Commit string `json:"commit,omitempty"`
	// DateProblem says why the approval's date cannot be true (dated after
	// the commit that adds it); empty when it can.
	DateProblem string `json:"dateProblem,omitempty"`
	// ChangedSince names the covered documents changed after the approval
	// ("plan.yaml in 1a2b3c4d5e6f"), when history says.
	ChangedSince []string `json:"changedSince,omitempty"`
}

// Edit is one person's change to a release file, found in git history.
type Edit struct {
	Person string `json:"person"`
	Commit string `json:"commit"`
	// As is "authored" or "committed".
	As string `json:"as"`
}

// Lookup finds what a release cites. *loader.Snapshot implements it.
type Lookup interface {
	Change(id string) (*document.Change, bool, error)
	CMDBItem(id string) (*document.CMDBItem, bool, error)
}

// Input is everything one release's evaluation needs.
type Input struct {
	Policy  *policy.Policy
	Release *loader.Release
	// Digests maps a gate id to the current digest of the documents it covers.
	Digests map[string]string
	// Votes maps a gate id to its recorded decisions.
	Votes  map[string][]Vote
	Lookup Lookup
	// ReportPresent says the release report exists, written by the bot
	// (closure, R-5.1.11); ReportProblem says why one that exists does not count.
	ReportPresent bool
	ReportProblem string
	// Authors are forge logins that count as authors of everything in the
	// change under review (the pull request's author), for separation of duties.
	Authors []string
	// Edits are, per release file name, the people who authored or
	// committed a change to it since it was created.
	Edits map[string][]Edit
	// Unattributed are, per release file name, why it cannot be approved: its
	// last change was made by someone the policy does not know.
	Unattributed map[string]string
	// ClosureProblem says why closure.yaml is not authenticated as the
	// implementer it names; empty when it is.
	ClosureProblem string
	// ReceiptProblem says why a deployment record in the bot's name was not
	// written by the bot; empty when it was, or a person recorded it.
	ReceiptProblem string
	// ReceiptAllowed says why a forge deployment's receipt matches no
	// allowed decision of the deployment gate; empty when it does,
	// or when the record is no forge receipt.
	ReceiptAllowed string
	// Bookings are every release's windows, for overlaps on a system or an
	// item; nil checks none.
	Bookings Bookings
	// MergeAt is when the change under evaluation would merge; zero in a
	// status. A freeze in effect then needs the exception.
	MergeAt time.Time
}

// Requirement is one role's part of a gate.
type Requirement struct {
	Role     string   `json:"role"`
	Need     int      `json:"need"`
	Approved []string `json:"approvedBy"`
	// Eligible are the people who may still supply it.
	Eligible []string `json:"eligible"`
	Missing  int      `json:"missing"`
	// Department is set for a department head's requirement.
	Department string `json:"department,omitempty"`
	// Excluded are holders of the role who may not supply it, and why.
	Excluded []Exclusion `json:"excluded,omitempty"`
}

// Exclusion is a person who holds a role but may not approve, and why.
type Exclusion struct {
	Person string `json:"person"`
	Reason string `json:"reason"`
	// Text is Reason for translation; the JSON keeps the English.
	Text *i18n.Message `json:"-"`
}

// Check is one condition of a gate beyond approvals.
type Check struct {
	Name    string `json:"name"`
	Clause  string `json:"clause,omitempty"`
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
	File    string `json:"file,omitempty"`
	Field   string `json:"field,omitempty"`
	// Text is Message for translation (nil when it has none); the JSON
	// keeps the English.
	Text *i18n.Message `json:"-"`
}

// with sets the check's message.
func (c Check) with(m i18n.Message) Check {
	c.Message, c.Text = m.String(), &m
	return c
}

// pick is a when ok, else b.
func pick(ok bool, a, b i18n.Message) i18n.Message {
	if ok {
		return a
	}
	return b
}

// MessageIn is the check's message in l.
func (c Check) MessageIn(l i18n.Lang) string {
	if c.Text == nil {
		return c.Message
	}
	return c.Text.In(l)
}

// Ignored is a recorded approval that does not count, and why.
type Ignored struct {
	Person string `json:"person"`
	Role   string `json:"role"`
	File   string `json:"file,omitempty"`
	// Reason is one of stale, not-in-role, self-approval, unauthenticated, misdated, wrong-release, not-required.
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Text is Message for translation; the JSON keeps the English.
	Text *i18n.Message `json:"-"`
}

// MessageIn is why it does not count, in l.
func (ig Ignored) MessageIn(l i18n.Lang) string {
	if ig.Text == nil {
		return ig.Message
	}
	return ig.Text.In(l)
}

// Rejection is a disapproval that blocks a gate until withdrawn.
type Rejection struct {
	Person  string `json:"person"`
	Role    string `json:"role"`
	Comment string `json:"comment,omitempty"`
	File    string `json:"file,omitempty"`
	// Note says why it still blocks when the release no longer names its author.
	Note string `json:"note,omitempty"`
	// NoteText is Note for translation.
	NoteText *i18n.Message `json:"-"`
}

// Result is one gate's evaluation.
type Result struct {
	Gate         string        `json:"gate"`
	Clause       string        `json:"clause,omitempty"`
	Passed       bool          `json:"passed"`
	Digest       string        `json:"digest,omitempty"`
	Requirements []Requirement `json:"requirements"`
	Checks       []Check       `json:"checks"`
	Rejections   []Rejection   `json:"rejections,omitempty"`
	Ignored      []Ignored     `json:"ignored,omitempty"`
	// Prerequisites are earlier gates that must still pass.
	Prerequisites []string `json:"prerequisites,omitempty"`
}

// Missing summarises what keeps the gate from passing, one line each.
func (r Result) Missing() []string { return r.MissingIn(i18n.English) }

// MissingIn is Missing in l.
func (r Result) MissingIn(l i18n.Lang) []string {
	var out []string
	for _, p := range r.Prerequisites {
		out = append(out, l.Sprintf("gate %s must pass first", i18n.Gate(p)))
	}
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.MessageIn(l))
		}
	}
	for _, q := range r.Requirements {
		if q.Missing > 0 {
			role := i18n.Role(q.Role).In(l)
			if q.Department != "" {
				role += l.Sprintf(" (%s)", q.Department)
			}
			var who string
			switch {
			case len(q.Eligible) > 0:
				who = l.Sprintf("; who may give it: %s", strings.Join(q.Eligible, ", "))
			case len(q.Excluded) == 0:
				who = l.Sprintf("; nobody holds this role for this release")
			default:
				who = l.Sprintf("; nobody who may give it is left")
			}
			for _, x := range q.Excluded {
				why := x.Reason
				if x.Text != nil {
					why = x.Text.In(l)
				}
				who += l.Sprintf("; %s holds %s but is excluded: %s", x.Person, i18n.Role(q.Role), why)
			}
			out = append(out, l.Sprintf("%s approval(s) of %s missing%s", fmt.Sprint(q.Missing), role, who))
		}
	}
	for _, j := range r.Rejections {
		msg := l.Sprintf("rejected by %s (%s)", j.Person, i18n.Role(j.Role))
		if j.Comment != "" {
			msg += l.Sprintf(": %s", j.Comment)
		}
		if j.NoteText != nil {
			msg += " (" + j.NoteText.In(l) + ")"
		} else if j.Note != "" {
			msg += " (" + j.Note + ")"
		}
		out = append(out, l.Sprintf("%s; it blocks until they withdraw it", msg))
	}
	return out
}

// Lifecycle states, in order. A release's state is the first gate it has not passed.
const (
	StatePlanReview     = "plan-review"      // plan being written or reviewed (R-5.1.1–5.1.3)
	StateTesting        = "testing"          // testing and customer acceptance
	StateGoLiveApproval = "go-live-approval" // go-live plan, communication, approval (R-5.1.5–5.1.7)
	StateReadyToDeploy  = "ready-to-deploy"  // approved, no deployment recorded yet
	StateDeployed       = "deployed"         // outcome recorded, awaiting confirmation
	StateConfirmed      = "confirmed"        // confirmed, awaiting CMDB, report and closure (R-5.1.9–5.1.11)
	StateClosed         = "closed"
)

// Status is a release's derived lifecycle state and all its gates.
type Status struct {
	Release string `json:"release"`
	Title   string `json:"title,omitempty"`
	Type    string `json:"type,omitempty"`
	State   string `json:"state"`
	// Outcome is the recorded deployment outcome, if any.
	Outcome string   `json:"outcome,omitempty"`
	Passed  []string `json:"passed"`
	// Next is the gate the release waits for; empty when closed.
	Next  string   `json:"next,omitempty"`
	Gates []Result `json:"gates"`
	// Violations are documents present ahead of the gate that allows them.
	Violations []string `json:"violations,omitempty"`
	// ViolationTexts are Violations for translation.
	ViolationTexts []i18n.Message `json:"-"`
	// Retrospectives are the gates an emergency release went live without,
	// each due by a date (R-5.1, policy typeRules).
	Retrospectives []Retrospective `json:"retrospectives,omitempty"`
}

// Retrospective is a gate an emergency release passes after it went live.
type Retrospective struct {
	Gate string `json:"gate"`
	// Due is when it must have passed (RFC 3339); empty while the release
	// has not been deployed (the clock starts at the deployment).
	Due    string `json:"due,omitempty"`
	Passed bool   `json:"passed"`
	// Overdue says it has not passed by its due date; set by Status.At,
	// since a status alone does not know what time it is.
	Overdue bool `json:"overdue,omitempty"`
}

// overdueAt is the one rule of when a retrospective is overdue: not passed,
// the release deployed, and the due date reached. An unreadable due date is
// overdue (fail closed).
func (r Retrospective) overdueAt(now time.Time) bool {
	if r.Passed || r.Due == "" {
		return false
	}
	due, err := document.ParseTime(r.Due)
	return err != nil || !now.Before(due)
}

// OverdueRetrospectives are the retrospective gates not passed by now.
func (s Status) OverdueRetrospectives(now time.Time) []Retrospective {
	var out []Retrospective
	for _, r := range s.At(now).Retrospectives {
		if r.Overdue {
			out = append(out, r)
		}
	}
	return out
}

// At is the status as of now: each retrospective says whether it is
// overdue. Everything else is as evaluated.
func (s Status) At(now time.Time) Status {
	if len(s.Retrospectives) == 0 {
		return s
	}
	rs := make([]Retrospective, len(s.Retrospectives))
	for i, r := range s.Retrospectives {
		r.Overdue = r.overdueAt(now)
		rs[i] = r
	}
	s.Retrospectives = rs
	return s
}

// Gate returns the result of one gate.
func (s Status) Gate(id string) (Result, bool) {
	for _, g := range s.Gates {
		if g.Gate == id {
			return g, true
		}
	}
	return Result{}, false
}

// lifecycle is the built-in release gates in order, with the state a release
// is in while waiting for each.
var lifecycle = []struct{ gate, waiting string }{
	{policy.GatePlanReview, StatePlanReview},
	{policy.GateTestAcceptance, StateTesting},
	{policy.GateGoLiveApproval, StateGoLiveApproval},
	{policy.GateDeploymentConfirmation, StateDeployed},
	{policy.GateClosure, StateConfirmed},
}

// Evaluate derives a release's state from its documents and approvals.
func Evaluate(in Input) (Status, error) {
	r := in.Release
	st := Status{Release: r.ID, Passed: []string{}}
	if r.Release != nil {
		st.Title, st.Type = r.Release.Title, r.Release.Type
	}
	if r.Deployment != nil {
		st.Outcome = r.Deployment.Outcome
	}
	e := evaluator{in: in, rule: document.TypeRule{Kind: document.TypeNormal}}
	if r.Release != nil {
		e.rule = in.Policy.TypeRule(r.Release.Type)
	}
	passed := map[string]bool{}
	// deferred are the gates an emergency release went live without: owed
	// after the deployment, and before closure (typeRules).
	deferred := map[string]bool{}
	for _, step := range lifecycle {
		// A team's own gates come before the built-in gate they name.
		for _, g := range in.Policy.GatesBefore(step.gate) {
			res := e.gate(g)
			res.Prerequisites = e.unmet(passed, e.prereqs(step.gate))
			res.Passed = res.Passed && len(res.Prerequisites) == 0
			passed[g.ID] = res.Passed
			st.Gates = append(st.Gates, res)
		}
		g, _ := in.Policy.Gate(step.gate)
		res := e.gate(g)
		pre := e.prereqs(step.gate)
		for _, c := range in.Policy.GatesBefore(step.gate) {
			pre = append(pre, c.ID)
		}
		if step.gate == policy.GateClosure {
			pre = append(pre, e.rule.Retrospective...)
		}
		res.Prerequisites = e.unmet(passed, pre)
		res.Passed = res.Passed && len(res.Prerequisites) == 0
		if step.gate == policy.GateGoLiveApproval && !res.Passed && e.rule.Kind == document.TypeEmergency {
			if alt, ok := e.emergencyGoLive(g, res, passed, st.Gates); ok {
				res = alt
				for _, id := range e.rule.Retrospective {
					deferred[id] = true
				}
			}
		}
		if e.err != nil {
			return Status{}, e.err
		}
		passed[g.ID] = res.Passed
		st.Gates = append(st.Gates, res)
	}
	chainOK := true
	for _, step := range lifecycle {
		res, _ := st.Gate(step.gate)
		switch {
		case !chainOK:
		case res.Passed:
			st.Passed = append(st.Passed, step.gate)
		case deferred[step.gate]:
			// owed retrospectively: the release goes on meanwhile
		default:
			chainOK = false
			st.Next = step.gate
			st.State = step.waiting
		}
	}
	if chainOK {
		st.State = StateClosed
	} else if st.State == StateDeployed && r.Deployment == nil {
		st.State = StateReadyToDeploy
	}
	for _, t := range Transitions(r) {
		if !passed[t.Gate] && !deferred[t.Gate] {
			m := i18n.M("%s is present but gate %s has not passed (%s)", t.Evidence, i18n.Gate(t.Gate), t.Clause)
			st.Violations = append(st.Violations, m.String())
			st.ViolationTexts = append(st.ViolationTexts, m)
		}
	}
	st.Retrospectives = e.retrospectives(deferred, passed)
	return st, nil
}

// prereqs are the built-in gates that must still pass for gate to pass.
func (e *evaluator) prereqs(gate string) []string {
	switch gate {
	case policy.GateTestAcceptance:
		return []string{policy.GatePlanReview}
	case policy.GateGoLiveApproval:
		return []string{policy.GatePlanReview, policy.GateTestAcceptance} // "still valid"
	case policy.GateDeploymentConfirmation:
		return []string{policy.GateGoLiveApproval}
	case policy.GateClosure:
		return []string{policy.GateDeploymentConfirmation}
	}
	return nil
}

func (e *evaluator) unmet(passed map[string]bool, gates []string) []string {
	var out []string
	for _, g := range gates {
		if !passed[g] {
			out = append(out, g)
		}
	}
	return out
}

// Transition is a lifecycle step that a release's documents assert, and the
// gate that must have passed for it.
type Transition struct {
	Gate     string
	Evidence string // the file that asserts it
	Clause   string
}

// Transitions lists what the documents of a release assert: go-live planning
// began (plan review passed), go-live approval was asked (testing accepted),
// a deployment was recorded (go-live approved), the release was closed
// (deployment confirmed, closure complete).
func Transitions(r *loader.Release) []Transition {
	dir := document.ReleaseDir(r.ID) + "/"
	var out []Transition
	if r.Files["golive.yaml"] != nil {
		out = append(out, Transition{policy.GatePlanReview, dir + "golive.yaml", "R-5.1.3"})
	}
	for _, a := range r.Approvals {
		if a.FileGate == policy.GateGoLiveApproval {
			out = append(out, Transition{policy.GateTestAcceptance, a.Doc.Path, "R-5.1.4"})
			break
		}
	}
	if r.Files["deployment.yaml"] != nil {
		out = append(out, Transition{policy.GateGoLiveApproval, dir + "deployment.yaml", "R-3.1, R-5.1.6"})
	}
	if r.Files["closure.yaml"] != nil {
		out = append(out, Transition{policy.GateDeploymentConfirmation, dir + "closure.yaml", "R-5.1.8"},
			Transition{policy.GateClosure, dir + "closure.yaml", "R-3.4, R-5.1.10"})
	}
	return out
}

type evaluator struct {
	in  Input
	err error
	// rule is what the release's type changes in the procedure.
	rule document.TypeRule
	// standardOf caches standard(): the standard change the release cites.
	standardOf *string
	// emergency is set while an emergency release's go-live is decided on
	// its type's rule.
	emergency bool
}

func (e *evaluator) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *evaluator) gate(g policy.Gate) Result {
	res := Result{Gate: g.ID, Clause: g.Clause, Digest: e.in.Digests[g.ID], Requirements: []Requirement{}, Checks: []Check{}}
	switch g.ID {
	case policy.GatePlanReview:
		res.Checks = e.planChecks()
	case policy.GateTestAcceptance:
		res.Checks = e.testChecks()
	case policy.GateGoLiveApproval:
		res.Checks = e.goLiveChecks()
	case policy.GateDeploymentConfirmation:
		res.Checks = e.deploymentChecks()
	case policy.GateClosure:
		res.Checks = e.closureChecks()
	}
	reqs := slices.Clone(g.Requires)
	if alt, ok := e.rule.Requires[g.ID]; ok && e.standard() {
		reqs = slices.Clone(alt) // a standard release's own approvals (typeRules)
	}
	if slices.Contains(e.rule.Waive, g.ID) && e.standard() {
		reqs = nil
		res.Checks = []Check{e.waived(g)}
	}
	if g.ID == policy.GatePlanReview && e.rule.Kind == document.TypeStandard && !e.standard() {
		res.Checks = append(res.Checks, e.standardCheck())
	}
	if g.ID == policy.GateGoLiveApproval {
		reqs = e.withConflicts(e.conflicts(), reqs, &res)
	}
	e.approvals(g, reqs, &res)
	if g.ID == policy.GateGoLiveApproval {
		e.excepted(&res)
	}
	res.Passed = true
	for _, c := range res.Checks {
		res.Passed = res.Passed && c.OK
	}
	for _, q := range res.Requirements {
		res.Passed = res.Passed && q.Missing == 0
	}
	res.Passed = res.Passed && len(res.Rejections) == 0
	return res
}

// authors are the people who wrote the documents a gate covers, each with
// why: nobody approves what they wrote (separation of duties, R-4).
func (e *evaluator) authors(g policy.Gate) map[string]i18n.Message {
	r := e.in.Release
	out := map[string]i18n.Message{}
	add := func(who string, why i18n.Message) {
		if _, seen := out[who]; !seen && who != "" {
			out[who] = why
		}
	}
	for _, a := range e.in.Authors {
		add(a, i18n.M("they opened the change under review"))
	}
	for _, f := range e.covered(g) {
		for _, ed := range e.in.Edits[f] {
			if ed.As == "committed" {
				add(ed.Person, i18n.M("committed %s in %s", f, short(ed.Commit)))
			} else {
				add(ed.Person, i18n.M("authored %s in %s", f, short(ed.Commit)))
			}
		}
	}
	for _, f := range g.Covers {
		var who string
		switch {
		case f == "plan.yaml" && r.Plan != nil:
			who = r.Plan.Author
		case f == "test-report.yaml" && r.TestReport != nil:
			who = r.TestReport.Author
		case f == "golive.yaml" && r.GoLive != nil:
			who = r.GoLive.Author
		case f == "communication.yaml" && r.Communication != nil:
			who = r.Communication.Author
		case f == "deployment.yaml" && r.Deployment != nil:
			who = r.Deployment.RecordedBy
		case f == "closure.yaml" && r.Closure != nil:
			who = r.Closure.ClosedBy
		}
		add(who, i18n.M("%s names them as its author", f))
	}
	return out
}

// covered are the release files a gate's digest binds to (none listed: all).
func (e *evaluator) covered(g policy.Gate) []string {
	if len(g.Covers) > 0 {
		return g.Covers
	}
	var out []string
	for f := range document.ReleaseFiles {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// eligible returns who may supply a role for this release: members of the role
// in the policy, narrowed to the people the release names for it.
func (e *evaluator) eligible(role, dept string) []string {
	p := e.in.Policy
	if role == policy.RoleDepartmentHead {
		if h, ok := p.HeadOf(dept); ok {
			return []string{h}
		}
		return nil
	}
	members := p.Members(role)
	rel := e.in.Release.Release
	if rel == nil {
		return members
	}
	var named []string
	switch role {
	case policy.RoleReleaseOwner:
		named = []string{rel.People.Owner}
	case policy.RoleReleaseManager:
		named = []string{rel.People.Manager}
	case policy.RoleReleaseTester:
		named = rel.People.Testers
	case policy.RoleImplementer:
		named = rel.People.Implementers
	case policy.RoleCustomerRepresentative:
		named = []string{rel.People.CustomerRepresentative}
	default:
		return members
	}
	var out []string
	for _, m := range members {
		if slices.Contains(named, m) {
			out = append(out, m)
		}
	}
	return out
}

func (e *evaluator) approvals(g policy.Gate, reqs []document.Requirement, res *Result) {
	// Expand department heads: one requirement per department the release involves.
	var expanded []Requirement
	for _, q := range reqs {
		if q.Role == policy.RoleDepartmentHead {
			if rel := e.in.Release.Release; rel != nil {
				for _, d := range rel.Departments {
					expanded = append(expanded, Requirement{Role: q.Role, Need: 1, Department: d, Eligible: e.eligible(q.Role, d)})
				}
			}
			continue
		}
		need := q.Count
		if need == 0 {
			need = 1
		}
		expanded = append(expanded, Requirement{Role: q.Role, Need: need, Eligible: e.eligible(q.Role, "")})
	}
	authors := e.authors(g)
	excluded := func(p string) (i18n.Message, bool) {
		why, ok := authors[p]
		return why, ok && g.SeparationOfDuties
	}
	digest := e.in.Digests[g.ID]
	used := map[string]bool{} // one person, one requirement
	votes := slices.Clone(e.in.Votes[g.ID])
	sort.SliceStable(votes, func(i, j int) bool { return votes[i].Person < votes[j].Person })
	for _, v := range votes {
		ig := func(reason string, m i18n.Message) {
			res.Ignored = append(res.Ignored, Ignored{Person: v.Person, Role: v.Role, File: v.File, Reason: reason, Message: m.String(), Text: &m})
		}
		if v.Release != "" && v.Release != e.in.Release.ID {
			ig("wrong-release", i18n.M("the approval is for %s, not %s: record it under the release it approves", v.Release, e.in.Release.ID))
			continue
		}
		if v.AuthProblem != "" {
			if signable(v.AuthProblem) {
				ig("unauthenticated", i18n.M("%s; it counts once a commit authenticates %s: signed with a key the policy lists for them (relgate approve --commit signs it), or authored by them if the policy trusts commit authorship", v.AuthProblem, v.Person))
			} else {
				ig("unauthenticated", i18n.M("%s", v.AuthProblem))
			}
			continue
		}
		if v.DateProblem != "" && v.Decision != document.DecisionReject {
			// A false date never turns a rejection into nothing.
			ig("misdated", i18n.M("%s; record the approval again with its true time", v.DateProblem))
			continue
		}
		if d := e.in.Release.Deployment; g.ID == policy.GateDeploymentConfirmation && d != nil && v.Decision != document.DecisionReject && earlier(v.At, d.FinishedAt) {
			ig("misdated", i18n.M("it confirms, at %s, a deployment that finished at %s: a deployment is confirmed after it finished (R-5.1.8)", v.At, d.FinishedAt))
			continue
		}
		idx := -1
		for i, q := range expanded {
			if q.Role == v.Role && slices.Contains(q.Eligible, v.Person) && (idx < 0 || len(expanded[i].Approved) < expanded[i].Need && len(expanded[idx].Approved) >= expanded[idx].Need) {
				idx = i
			}
		}
		required := slices.ContainsFunc(reqs, func(q document.Requirement) bool { return q.Role == v.Role })
		if v.Decision == document.DecisionReject && (idx >= 0 || required && e.holds(v.Person, v.Role)) {
			// A rejection stands until its author withdraws it: editing the
			// documents does not shed it, nor does changing the release's
			// departments or people, nor separation of duties.
			j := Rejection{Person: v.Person, Role: v.Role, Comment: v.Comment, File: v.File}
			if idx < 0 {
				m := i18n.M("%s no longer holds %s for this release as release.yaml now reads; changing the release does not lift a rejection", v.Person, i18n.Role(v.Role))
				j.Note, j.NoteText = m.String(), &m
			}
			res.Rejections = append(res.Rejections, j)
			continue
		}
		if idx < 0 {
			switch {
			case !slices.ContainsFunc(expanded, func(q Requirement) bool { return q.Role == v.Role }):
				ig("not-required", i18n.M("gate %s does not require the role %s; approve with a role it requires (relgate approve --role)", i18n.Gate(g.ID), i18n.Role(v.Role)))
			case !e.holds(v.Person, v.Role):
				ig("not-in-role", i18n.M("%s does not hold %s in the base policy; the policy's roles say who may approve (a policy change adds them)", v.Person, i18n.Role(v.Role)))
			default:
				ig("not-in-role", i18n.M("%s holds %s, but release.yaml does not name them for it; name them in release.yaml people, or have the person it names approve", v.Person, i18n.Role(v.Role)))
			}
			continue
		}
		if why, ok := excluded(v.Person); ok {
			ig("self-approval", i18n.M("%s may not approve what they wrote (separation of duties): %s; another holder of %s must approve", v.Person, why, i18n.Role(v.Role)))
			continue
		}
		if v.Digest != digest && !e.retrospectiveOnly(v) {
			if len(v.ChangedSince) > 0 {
				ig("stale", i18n.M("approved %s, but the covered documents now digest to %s: changed after the approval: %s; %s must review the change and approve again", short(v.Digest), short(digest), changedIn(v.ChangedSince), v.Person))
			} else {
				ig("stale", i18n.M("approved %s, but the covered documents now digest to %s: they changed after the approval; %s must review the change and approve again", short(v.Digest), short(digest), v.Person))
			}
			continue
		}
		if used[v.Person] {
			ig("not-required", i18n.M("%s already counts for this gate; a person counts once per gate", v.Person))
			continue
		}
		used[v.Person] = true
		expanded[idx].Approved = append(expanded[idx].Approved, v.Person)
	}
	for i := range expanded {
		q := &expanded[i]
		q.Missing = max(q.Need-len(q.Approved), 0)
		var still []string
		for _, p := range q.Eligible {
			if slices.Contains(q.Approved, p) || used[p] {
				continue
			}
			if why, ok := excluded(p); ok {
				q.Excluded = append(q.Excluded, Exclusion{Person: p, Reason: why.String(), Text: &why})
				continue
			}
			still = append(still, p)
		}
		q.Eligible = still
		if q.Approved == nil {
			q.Approved = []string{}
		}
		if q.Eligible == nil {
			q.Eligible = []string{}
		}
	}
	res.Requirements = expanded
	if g.SeparationOfDuties {
		for _, f := range e.covered(g) {
			if msg, ok := e.in.Unattributed[f]; ok {
				res.Checks = append(res.Checks, Check{Name: "attributable", Clause: "R-4", File: document.ReleaseDir(e.in.Release.ID) + "/" + f}.with(i18n.M("%s", msg)))
			}
		}
	}
}

// signable reports whether an authentication problem is one a signed commit
// by the approver solves (not, say, a file named for someone else).
func signable(problem string) bool {
	for _, s := range []string{"signature", "signing key", "authored by", "no commit vouches"} {
		if strings.Contains(problem, s) {
			return true
		}
	}
	return false
}

// changedIn names the documents changed after an approval, each with its
// commit ("plan.yaml in commit 1a2b3c4d5e6f").
func changedIn(changed []string) i18n.List {
	out := make(i18n.List, len(changed))
	for i, c := range changed {
		if file, commit, ok := strings.Cut(c, " in "); ok {
			out[i] = i18n.M("%s in commit %s", file, commit)
		} else {
			out[i] = c
		}
	}
	return out
}

// holds reports whether a person holds a role in the policy, whatever the
// release names: a department head holds department-head for their
// department.
func (e *evaluator) holds(person, role string) bool {
	return e.in.Policy.HasRole(person, role)
}

// earlier reports whether time a is before time b; unreadable times are not
// compared (validate reports them).
func earlier(a, b string) bool {
	ta, err1 := document.ParseTime(a)
	tb, err2 := document.ParseTime(b)
	return err1 == nil && err2 == nil && ta.Before(tb)
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func (e *evaluator) doc(name string) Check {
	r := e.in.Release
	d := r.Files[name]
	file := document.ReleaseDir(r.ID) + "/" + name
	switch {
	case d == nil:
		return Check{Name: "document", OK: false, File: file}.with(i18n.M("%s is missing", name))
	case d.Value == nil:
		return Check{Name: "document", OK: false, File: file}.with(i18n.M("%s is incomplete or invalid; run relgate validate", name))
	}
	return Check{Name: "document", OK: true, File: file}.with(i18n.M("%s is complete", name))
}

func (e *evaluator) planChecks() []Check {
	hdr := e.doc("release.yaml")
	hdr.Clause = "R-3.3"
	plan := e.doc("plan.yaml")
	plan.Clause = "R-5.1.1, R-5.1.2"
	out := []Check{hdr, plan}
	if rel := e.in.Release.Release; rel != nil {
		out = append(out, e.changeChecks(rel)...)
	}
	return out
}

// changeChecks: a release implements at least one approved change request,
// and no more than the policy allows.
func (e *evaluator) changeChecks(rel *document.Release) []Check {
	file := document.ReleaseDir(rel.ID) + "/release.yaml"
	var out []Check
	approved := 0
	for _, c := range rel.Changes {
		if c.External {
			approved++ // approved in the external change system; its URL is the record
			continue
		}
		ch, exists, err := e.in.Lookup.Change(c.ID)
		if err != nil {
			e.fail(err)
			return nil
		}
		switch {
		case !exists:
			out = append(out, Check{Name: "change-approved", Clause: "R-9", File: file, Field: "changes"}.with(
				i18n.M("change %s does not exist in changes/", c.ID)))
		case ch == nil:
			out = append(out, Check{Name: "change-approved", Clause: "R-9", File: file, Field: "changes"}.with(
				i18n.M("change %s is invalid; run relgate validate", c.ID)))
		case ch.Status != "approved" && ch.Status != "implemented" && ch.Status != "closed":
			out = append(out, Check{Name: "change-approved", Clause: "R-9", File: file, Field: "changes"}.with(
				i18n.M("change %s is %s, not approved", c.ID, ch.Status)))
		default:
			approved++
		}
	}
	if approved == 0 && len(out) == 0 {
		out = append(out, Check{Name: "change-approved", Clause: "R-9", File: file, Field: "changes"}.with(
			i18n.M("the release implements no approved change request")))
	}
	if max := e.in.Policy.MaxChanges(); max > 0 && len(rel.Changes) > max {
		out = append(out, Check{Name: "change-limit", Clause: "R-9", File: file, Field: "changes"}.with(
			i18n.M("the release bundles %s change requests; the policy allows %s", fmt.Sprint(len(rel.Changes)), fmt.Sprint(max))))
	}
	if len(out) == 0 {
		out = append(out, Check{Name: "change-approved", Clause: "R-9", OK: true, File: file}.with(i18n.M("implements approved change requests")))
	}
	return out
}

func (e *evaluator) testChecks() []Check {
	r := e.in.Release
	c := e.doc("test-report.yaml")
	c.Clause = "R-5.1.4"
	out := []Check{c}
	tr := r.TestReport
	if tr == nil {
		return out
	}
	file := c.File
	check := func(name, clause string, ok bool, okMsg, badMsg i18n.Message, field string) {
		out = append(out, Check{Name: name, Clause: clause, OK: ok, File: file, Field: field}.with(pick(ok, okMsg, badMsg)))
	}
	isTester := e.in.Policy.HasRole(tr.Author, policy.RoleReleaseTester)
	if r.Release != nil && len(r.Release.People.Testers) > 0 {
		isTester = isTester && slices.Contains(r.Release.People.Testers, tr.Author)
	}
	check("tester", "R-4.3", isTester, i18n.M("written by release tester %s", tr.Author),
		i18n.M("the test report's author %s is not a release tester of this release", tr.Author), "author")
	if r.Plan != nil {
		check("tester-independent", "R-5.1.4", tr.Author != r.Plan.Author, i18n.M("the tester is not the plan's author"),
			i18n.M("%s wrote both the plan and its test report; another tester must test it", tr.Author), "author")
	}
	var missing, failed []any
	for _, cat := range document.TestCategories {
		i := slices.IndexFunc(tr.Results, func(x document.TestResult) bool { return x.Category == cat })
		if i < 0 {
			missing = append(missing, i18n.Test(cat))
		} else if tr.Results[i].Verdict != "pass" {
			failed = append(failed, i18n.Test(cat))
		}
	}
	check("categories", "R-5.1.4", len(missing) == 0, i18n.M("every test category of R-5.1.4 is covered"),
		i18n.M("test categories not covered: %s", i18n.List(missing)), "results")
	check("results", "R-5.1.4", len(failed) == 0 && tr.Verdict == "pass", i18n.M("results match expectations: verdict pass"),
		i18n.M("verdict %s; failed categories: %s", tr.Verdict, i18n.List(failed)), "verdict")
	if r.Release != nil {
		var untested []string
		for _, it := range r.Release.Items {
			if it.Action == "retire" {
				continue
			}
			if !slices.ContainsFunc(tr.Artifacts, func(a document.VersionRef) bool {
				return a.Item == it.ID && a.Version == it.Version && (it.Digest == "" || a.Digest == it.Digest)
			}) {
				untested = append(untested, it.ID+" "+it.Version)
			}
		}
		check("artifacts", "R-3.1", len(untested) == 0, i18n.M("every item's target version was tested"),
			i18n.M("target versions not in the tested artifacts: %s", strings.Join(untested, ", ")), "artifacts")
	}
	return out
}

func (e *evaluator) goLiveChecks() []Check {
	r := e.in.Release
	g := e.doc("golive.yaml")
	g.Clause = "R-5.1.5"
	cm := e.doc("communication.yaml")
	cm.Clause = "R-5.1.7"
	out := []Check{g, cm}
	if c := r.Communication; c != nil {
		var unack []string
		for _, rs := range c.Responsibilities {
			if !rs.Acknowledged {
				unack = append(unack, rs.Person)
			}
		}
		ok := len(unack) == 0 && len(c.Responsibilities) > 0
		msg := i18n.M("everyone acknowledged their responsibilities")
		if !ok {
			msg = i18n.M("responsibilities not acknowledged by: %s", strings.Join(unack, ", "))
			if len(c.Responsibilities) == 0 {
				msg = i18n.M("no responsibilities were communicated")
			}
		}
		out = append(out, Check{Name: "responsibilities", Clause: "R-5.1.7", OK: ok, File: cm.File, Field: "responsibilities"}.with(msg))
		if r.GoLive != nil && r.GoLive.RolloutMode == "phased" {
			var untold []string
			for _, ph := range r.GoLive.Phases {
				if !slices.ContainsFunc(c.CustomerNotifications, func(n document.CustomerNotification) bool { return n.Phase == ph.Name }) {
					untold = append(untold, ph.Name)
				}
			}
			out = append(out, Check{Name: "phased-notifications", Clause: "R-5.1.7", OK: len(untold) == 0, File: cm.File, Field: "customerNotifications"}.with(
				pick(len(untold) == 0, i18n.M("the customer was told of every phase"), i18n.M("phases without a customer notification: %s", strings.Join(untold, ", ")))))
		}
	}
	return out
}

func (e *evaluator) closureChecks() []Check {
	r := e.in.Release
	c := e.doc("closure.yaml")
	c.Clause = "R-5.1.10"
	out := []Check{c}
	if cl := r.Closure; cl != nil && r.Release != nil {
		ok := slices.Contains(r.Release.People.Implementers, cl.ClosedBy)
		out = append(out, Check{Name: "closed-by-implementer", Clause: "R-5.1.10", OK: ok, File: c.File, Field: "closedBy"}.with(
			pick(ok, i18n.M("closed by implementer %s", cl.ClosedBy), i18n.M("%s is not an implementer of this release", cl.ClosedBy))))
		auth := e.in.ClosureProblem == ""
		out = append(out, Check{Name: "closure-authenticated", Clause: "R-5.1.10", OK: auth, File: c.File, Field: "closedBy"}.with(
			pick(auth, i18n.M("closure.yaml was committed by %s", cl.ClosedBy),
				i18n.M("closure.yaml names %s, but the commit that wrote it is not theirs: %s", cl.ClosedBy, e.in.ClosureProblem))))
	}
	if d := r.Deployment; d != nil {
		out = append(out, e.cmdbCheck(d))
	}
	out = append(out, Check{Name: "release-report", Clause: "R-5.1.11", OK: e.in.ReportPresent, File: ReportPath(r.ID)}.with(
		pick(e.in.ReportPresent, i18n.M("the release report is present"), pick(e.in.ReportProblem != "", i18n.M("%s", e.in.ReportProblem), i18n.M("the release report %s is missing; relgate reconcile writes it", ReportPath(r.ID))))))
	return out
}

// ReportPath is where the release report of a release lives.
func ReportPath(id string) string { return document.ReportsDir + "/releases/" + id + ".md" }

// cmdbCheck: the CMDB shows the deployed versions, or the restored ones after a rollback.
func (e *evaluator) cmdbCheck(d *document.Deployment) Check {
	want := d.Deployed
	restored := false
	if d.Outcome != document.OutcomeSucceeded && d.Rollback != nil {
		want, restored = d.Rollback.Restored, true
	}
	var wrong []string
	for _, v := range want {
		it, _, err := e.in.Lookup.CMDBItem(v.Item)
		if err != nil {
			e.fail(err)
			return Check{}
		}
		if it == nil || it.Version != v.Version || (v.Digest != "" && it.Digest != v.Digest) || !namesRelease(it, e.in.Release.ID) {
			wrong = append(wrong, v.Item)
		}
	}
	if rel := e.in.Release.Release; rel != nil && d.Outcome == document.OutcomeSucceeded {
		for _, item := range rel.Items {
			if item.Action != "retire" {
				continue
			}
			it, _, err := e.in.Lookup.CMDBItem(item.ID)
			if err != nil {
				e.fail(err)
				return Check{}
			}
			if it == nil || it.Status != "retired" {
				wrong = append(wrong, item.ID+" (not retired)")
			}
		}
	}
	ok := len(wrong) == 0
	c := Check{Name: "cmdb-updated", Clause: "R-3.4, R-5.1.9", OK: ok, File: document.CMDBDir}
	if restored {
		return c.with(pick(ok, i18n.M("the CMDB shows the restored versions"),
			i18n.M("CMDB items not showing the restored versions with a history entry naming the release: %s; relgate reconcile writes them", strings.Join(wrong, ", "))))
	}
	return c.with(pick(ok, i18n.M("the CMDB shows the deployed versions"),
		i18n.M("CMDB items not showing the deployed versions with a history entry naming the release: %s; relgate reconcile writes them", strings.Join(wrong, ", "))))
}

// namesRelease: the item's history records what the release did to it.
func namesRelease(it *document.CMDBItem, release string) bool {
	for _, h := range it.History {
		if h.Release == release {
			return true
		}
	}
	return false
}

// EvaluateApprovals decides a gate by its approvals alone, for gates outside
// the lifecycle (closed-release-change).
func EvaluateApprovals(in Input, g policy.Gate) Result {
	e := evaluator{in: in}
	res := Result{Gate: g.ID, Clause: g.Clause, Digest: in.Digests[g.ID], Checks: []Check{}}
	e.approvals(g, g.Requires, &res)
	res.Passed = len(res.Rejections) == 0
	for _, q := range res.Requirements {
		res.Passed = res.Passed && q.Missing == 0
	}
	return res
}

// EvaluateRepositoryGate decides a gate that belongs to the repository rather
// than to a release (policy-change, R-7): approvals only, bound to digest.
func EvaluateRepositoryGate(p *policy.Policy, g policy.Gate, digest string, votes []Vote, authors []string) Result {
	return EvaluateApprovals(Input{Policy: p, Release: &loader.Release{}, Digests: map[string]string{g.ID: digest},
		Votes: map[string][]Vote{g.ID: votes}, Authors: authors}, g)
}

// Standing says what an approval file counted for in this evaluation: its
// status (counted, rejection, one of Ignored's reasons, invalid or
// not-evaluated) and a sentence saying why. `audit` and the dashboard show it.
func (s Status) Standing(ap *loader.Approval) (status, message string) {
	if ap.Approval == nil {
		return "invalid", "the approval file is invalid; run relgate validate"
	}
	res, ok := s.Gate(ap.FileGate)
	if !ok {
		return "not-evaluated", "gate " + ap.FileGate + " is not a lifecycle gate of the policy"
	}
	for _, j := range res.Rejections {
		if j.File == ap.Doc.Path {
			return "rejection", "blocks gate " + res.Gate
		}
	}
	for _, ig := range res.Ignored {
		if ig.File == ap.Doc.Path {
			return ig.Reason, ig.Message
		}
	}
	for _, q := range res.Requirements {
		if slices.Contains(q.Approved, ap.FilePerson) {
			return "counted", "counts for " + res.Gate + " as " + q.Role
		}
	}
	return "not-evaluated", ""
}
