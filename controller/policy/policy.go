// Package policy interprets relgate.yaml: who holds which role, and the
// effective gates, which are the procedure's defaults
// adjusted by what the policy states.
package policy

import (
	"fmt"
	"github.com/relgate/relgate/controller/calendar"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
)

// Built-in role names.
const (
	RoleReleaseOwner           = "release-owner"
	RoleReleaseManager         = "release-manager"
	RoleReleaseTester          = "release-tester"
	RoleImplementer            = "implementer"
	RoleCustomerRepresentative = "customer-representative"
	RoleConfigurationManager   = "configuration-manager"
	RoleChangeManager          = "change-manager"
	RoleProcessApprover        = "process-approver"
	// RoleDepartmentHead is held by each department's head, for the departments
	// a release involves; a requirement of it needs every such head.
	RoleDepartmentHead = "department-head"
)

// BuiltinRoles lists the roles the procedure names.
var BuiltinRoles = []string{RoleReleaseOwner, RoleReleaseManager, RoleReleaseTester, RoleImplementer,
	RoleCustomerRepresentative, RoleConfigurationManager, RoleChangeManager, RoleProcessApprover, RoleDepartmentHead}

// Built-in gate ids, in lifecycle order.
const (
	GatePlanReview             = "plan-review"
	GateTestAcceptance         = "test-acceptance"
	GateGoLiveApproval         = "go-live-approval"
	GateDeploymentConfirmation = "deployment-confirmation"
	GateClosure                = "closure"
	GatePolicyChange           = "policy-change"
	// GateClosedReleaseChange guards the documents of a closed release: they
	// change only with the process approver's approval.
	GateClosedReleaseChange = "closed-release-change"
	// GateChangeRecord guards the change requests kept in changes/: what a
	// release may implement is decided in change management,
	// so an edit of the register needs the change manager.
	GateChangeRecord = "change-record"
	// GateCMDBChange guards the configuration items kept in cmdb/: the
	// configuration manager keeps the CMDB; the bot's
	// write-back after a confirmed deployment needs no approval.
	GateCMDBChange = "cmdb-change"
	// GateReviewChange guards the quarterly reviews kept in reviews/: the
	// release owner evaluates the quarter.
	GateReviewChange = "review-change"
)

// IsRepositoryGate reports whether id names a built-in gate of the
// repository rather than of a release (its approvals live in approvals/).
func IsRepositoryGate(id string) bool {
	switch id {
	case GatePolicyChange, GateChangeRecord, GateCMDBChange, GateReviewChange:
		return true
	}
	return false
}

// Gate is an effective gate.
type Gate struct {
	ID       string
	Requires []document.Requirement
	// Covers are the release files an approval's digest binds to; for
	// policy-change it is relgate.yaml at the repository root; none means
	// every document of the release.
	Covers             []string
	SeparationOfDuties bool
	// Before is the built-in gate this gate must pass ahead of ("" for built-ins).
	Before  string
	Clause  string
	Builtin bool
	// Repository gates guard repository-wide files (relgate.yaml, changes/);
	// their approvals live in approvals/ at the root. A cover ending in "/"
	// is every file of that folder.
	Repository bool
}

// Guards reports whether a repository gate covers a changed path.
func (g Gate) Guards(p string) bool {
	for _, c := range g.Covers {
		if p == c || strings.HasSuffix(c, "/") && strings.HasPrefix(p, c) {
			return true
		}
	}
	return false
}

// RepositoryGates returns the gates that guard repository-wide files.
func (p *Policy) RepositoryGates() []Gate {
	var out []Gate
	for _, g := range p.gates {
		if g.Repository {
			out = append(out, g)
		}
	}
	return out
}

// Defaults are the procedure's gates.
func Defaults() []Gate {
	return []Gate{
		{ID: GatePlanReview, Builtin: true, SeparationOfDuties: true, Clause: "R-4.1, R-5.1.1, R-5.1.2, R-5.1.3",
			Requires: []document.Requirement{{Role: RoleDepartmentHead}, {Role: RoleReleaseOwner, Count: 1}},
			Covers:   []string{"release.yaml", "plan.yaml"}},
		{ID: GateTestAcceptance, Builtin: true, SeparationOfDuties: true, Clause: "R-5.1.4",
			Requires: []document.Requirement{{Role: RoleCustomerRepresentative, Count: 1}},
			Covers:   []string{"release.yaml", "plan.yaml", "test-report.yaml"}},
		{ID: GateGoLiveApproval, Builtin: true, SeparationOfDuties: true, Clause: "R-5.1.5, R-5.1.6, R-5.1.7",
			Requires: []document.Requirement{{Role: RoleReleaseOwner, Count: 1}},
			Covers:   []string{"release.yaml", "plan.yaml", "test-report.yaml", "golive.yaml", "communication.yaml"}},
		{ID: GateDeploymentConfirmation, Builtin: true, SeparationOfDuties: true, Clause: "R-3.1, R-5.1.8",
			Requires: []document.Requirement{{Role: RoleReleaseManager, Count: 1}, {Role: RoleCustomerRepresentative, Count: 1}},
			Covers:   []string{"release.yaml", "deployment.yaml"}},
		{ID: GateClosure, Builtin: true, SeparationOfDuties: true, Clause: "R-3.4, R-5.1.9, R-5.1.10, R-5.1.11",
			Covers: []string{"deployment.yaml", "closure.yaml"}},
		{ID: GatePolicyChange, Builtin: true, Repository: true, SeparationOfDuties: true, Clause: "R-7",
			Requires: []document.Requirement{{Role: RoleProcessApprover, Count: 1}},
			Covers:   []string{document.PolicyPath}},
		{ID: GateChangeRecord, Builtin: true, Repository: true, SeparationOfDuties: true, Clause: "R-3.3, R-9",
			Requires: []document.Requirement{{Role: RoleChangeManager, Count: 1}},
			Covers:   []string{document.ChangesDir + "/"}},
		{ID: GateCMDBChange, Builtin: true, Repository: true, SeparationOfDuties: true, Clause: "R-3.4, R-5.1.9",
			Requires: []document.Requirement{{Role: RoleConfigurationManager, Count: 1}},
			Covers:   []string{document.CMDBDir + "/"}},
		{ID: GateReviewChange, Builtin: true, Repository: true, SeparationOfDuties: true, Clause: "R-3.5, R-8",
			Requires: []document.Requirement{{Role: RoleReleaseOwner, Count: 1}},
			Covers:   []string{document.ReviewsDir + "/"}},
		{ID: GateClosedReleaseChange, Builtin: true, SeparationOfDuties: true, Clause: "R-5.1.10, R-7",
			Requires: []document.Requirement{{Role: RoleProcessApprover, Count: 1}}},
	}
}

// Policy is a decoded relgate.yaml with its lookups built.
type Policy struct {
	*document.Policy
	people   map[string]*document.Person
	byEmail  map[string]*document.Person
	roles    map[string]map[string]bool
	heads    map[string]string // department -> head
	gates    []Gate
	calendar *calendar.Calendar
	Location *time.Location
}

// DefaultTimezone is the procedure's home.
const DefaultTimezone = "Asia/Shanghai"

// DefaultReleaseTypes apply when the policy lists none.
var DefaultReleaseTypes = []string{"normal", "minor", "emergency"}

// New builds the lookups of a policy. It fails only on a timezone the system
// cannot load; every other inconsistency is a validation finding (Check).
func New(p *document.Policy) (*Policy, error) {
	out := &Policy{Policy: p, people: map[string]*document.Person{}, byEmail: map[string]*document.Person{},
		roles: map[string]map[string]bool{}, heads: map[string]string{}}
	for i := range p.People {
		pp := &p.People[i]
		out.people[pp.Login] = pp
		if pp.Email != "" {
			out.byEmail[pp.Email] = pp
		}
	}
	for role, logins := range p.Roles {
		m := map[string]bool{}
		for _, l := range logins {
			m[l] = true
		}
		out.roles[role] = m
	}
	for _, d := range p.Departments {
		out.heads[d.ID] = d.Head
	}
	out.gates = mergeGates(Defaults(), p.Gates)
	tz := p.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: %w", tz, err)
	}
	out.Location = loc
	// A window or freeze that cannot be read fails closed inside the
	// calendar; validate reports it.
	out.calendar, _ = calendar.FromPolicy(p, loc)
	return out, nil
}

// Calendar is the policy's change calendar: maintenance windows and freezes
// (blackoutWindows among them), in its timezone.
func (p *Policy) Calendar() *calendar.Calendar {
	if p.calendar == nil {
		return &calendar.Calendar{}
	}
	return p.calendar
}

// ExceptionRole approves a release window in conflict with the change
// calendar.
func (p *Policy) ExceptionRole() string {
	if p.Policy.ExceptionRole != "" {
		return p.Policy.ExceptionRole
	}
	return RoleProcessApprover
}

// Defaults of the release type rules (typeRules).
const (
	DefaultRetrospectiveDays = 5
	DefaultEmergencyApprover = RoleProcessApprover
)

// DefaultRetrospective are the gates an emergency release may pass after it
// went live, unless its rule lists others.
var DefaultRetrospective = []string{GatePlanReview, GateTestAcceptance}

// TypeRule returns what release type t changes in the procedure, with the
// defaults filled in: a type the policy gives no rule is normal, except a
// type called emergency, which is emergency with the defaults.
func (p *Policy) TypeRule(t string) document.TypeRule {
	r, ok := p.TypeRules[t]
	if !ok {
		if t == document.TypeEmergency {
			r = document.TypeRule{Kind: document.TypeEmergency}
		} else {
			return document.TypeRule{Kind: document.TypeNormal}
		}
	}
	if r.Kind == document.TypeEmergency {
		if r.Approver == "" {
			r.Approver = DefaultEmergencyApprover
		}
		if len(r.Retrospective) == 0 {
			r.Retrospective = DefaultRetrospective
		}
		if r.RetrospectiveDays == 0 {
			r.RetrospectiveDays = DefaultRetrospectiveDays
		}
	}
	return r
}

// ApprovalRoles are the roles an approval of gate g may be given in: the
// roles it requires, for the go-live approval the exception role (calendar
// conflicts, R-5.1.6) and every emergency type's approver, and the roles
// a standard type's rule requires instead (typeRules, R-5.1). Whether one
// counts for a release is the gate's to decide.
func (p *Policy) ApprovalRoles(g Gate) []string {
	var out []string
	add := func(role string) {
		if role != "" && !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	for _, q := range g.Requires {
		add(q.Role)
	}
	types := slices.Clone(p.ReleaseTypes())
	for t := range p.TypeRules {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	if g.ID == GateGoLiveApproval {
		add(p.ExceptionRole())
	}
	for _, t := range types {
		r := p.TypeRule(t)
		if r.Kind == document.TypeEmergency && g.ID == GateGoLiveApproval {
			add(r.Approver)
		}
		for _, q := range r.Requires[g.ID] {
			add(q.Role)
		}
	}
	return out
}

func mergeGates(defaults []Gate, specs []document.GateSpec) []Gate {
	gates := slices.Clone(defaults)
	for _, s := range specs {
		i := slices.IndexFunc(gates, func(g Gate) bool { return g.ID == s.ID })
		if i < 0 {
			g := Gate{ID: s.ID, Requires: s.Requires, Covers: s.Covers, SeparationOfDuties: true, Before: s.Before}
			if s.SeparationOfDuties != nil {
				g.SeparationOfDuties = *s.SeparationOfDuties
			}
			gates = append(gates, g)
			continue
		}
		g := &gates[i]
		if s.Requires != nil {
			g.Requires = s.Requires
		}
		if s.Covers != nil {
			g.Covers = s.Covers
		}
		if s.SeparationOfDuties != nil {
			g.SeparationOfDuties = *s.SeparationOfDuties
		}
	}
	for i := range gates {
		for j := range gates[i].Requires {
			if gates[i].Requires[j].Count == 0 {
				gates[i].Requires[j].Count = 1
			}
		}
	}
	return gates
}

// Gates returns the effective gates: built-ins in lifecycle order, then the team's own.
func (p *Policy) Gates() []Gate { return p.gates }

// Gate returns the effective gate with id.
func (p *Policy) Gate(id string) (Gate, bool) {
	for _, g := range p.gates {
		if g.ID == id {
			return g, true
		}
	}
	return Gate{}, false
}

// GatesBefore returns the team's gates that must pass ahead of a built-in gate.
func (p *Policy) GatesBefore(builtin string) []Gate {
	var out []Gate
	for _, g := range p.gates {
		if g.Before == builtin {
			out = append(out, g)
		}
	}
	return out
}

// Person returns the person with a login.
func (p *Policy) Person(login string) (*document.Person, bool) {
	pp, ok := p.people[login]
	return pp, ok
}

// PersonFold returns the person whose login equals login ignoring case, as
// forge logins do.
func (p *Policy) PersonFold(login string) (*document.Person, bool) {
	if pp, ok := p.people[login]; ok {
		return pp, true
	}
	for l, pp := range p.people {
		if strings.EqualFold(l, login) {
			return pp, true
		}
	}
	return nil, false
}

// PersonByEmail returns the person with an email address.
func (p *Policy) PersonByEmail(email string) (*document.Person, bool) {
	pp, ok := p.byEmail[email]
	return pp, ok
}

// PersonByEmailFold returns the person with an email address, ignoring
// case, as mail systems and forges do.
func (p *Policy) PersonByEmailFold(email string) (*document.Person, bool) {
	if pp, ok := p.byEmail[email]; ok {
		return pp, true
	}
	for e, pp := range p.byEmail {
		if strings.EqualFold(e, email) {
			return pp, true
		}
	}
	return nil, false
}

// HasRole reports whether login holds role. Department heads hold
// "department-head" for their department only; see HeadOf.
func (p *Policy) HasRole(login, role string) bool {
	if role == RoleDepartmentHead {
		for _, h := range p.heads {
			if h == login {
				return true
			}
		}
		return false
	}
	return p.roles[role][login]
}

// Members returns the logins holding role, sorted.
func (p *Policy) Members(role string) []string {
	var out []string
	if role == RoleDepartmentHead {
		for _, h := range p.heads {
			out = append(out, h)
		}
	} else {
		for l := range p.roles[role] {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// HeadOf returns the head of a department.
func (p *Policy) HeadOf(dept string) (string, bool) {
	h, ok := p.heads[dept]
	return h, ok
}

// HasDepartment reports whether the policy defines a department.
func (p *Policy) HasDepartment(id string) bool {
	_, ok := p.heads[id]
	return ok
}

// RoleDefined reports whether a role name is known: built-in or listed in the policy.
func (p *Policy) RoleDefined(role string) bool {
	if slices.Contains(BuiltinRoles, role) {
		return true
	}
	_, ok := p.Roles[role]
	return ok
}

// ReleaseTypes returns the release types the policy allows.
func (p *Policy) ReleaseTypes() []string {
	if len(p.Policy.ReleaseTypes) > 0 {
		return p.Policy.ReleaseTypes
	}
	return DefaultReleaseTypes
}

// DefaultEnvironments are the environments the deployment gate covers when
// the policy names none.
var DefaultEnvironments = []string{"production"}

// Environments are the deployment environments relgate gates.
func (p *Policy) Environments() []string {
	if p.Deployments == nil || len(p.Deployments.Environments) == 0 {
		return DefaultEnvironments
	}
	return p.Deployments.Environments
}

// GatesEnvironment reports whether relgate gates deployments to env; names
// compare exactly, so "Production" is not "production" (fail closed).
func (p *Policy) GatesEnvironment(env string) bool {
	return slices.Contains(p.Environments(), env)
}

// RequireArtifacts reports whether a deployment must name its artifacts.
func (p *Policy) RequireArtifacts() bool {
	return p.Deployments != nil && p.Deployments.RequireArtifacts
}

// MaxChanges is the most change requests one release may implement; 0 means no limit.
func (p *Policy) MaxChanges() int { return p.MaxChangesPerRelease }
