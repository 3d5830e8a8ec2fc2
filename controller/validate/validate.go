// Package validate checks a release repository: each document against its
// schema (done while loading) and the relations between documents that a
// schema cannot express: ids that match their folders, references to change
// requests, people, roles, gates and configuration items that exist, dates in
// order, and duplicates.
package validate

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"golang.org/x/crypto/ssh"

	"github.com/relgate/relgate/controller/cronspec"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// Check runs the cross-document checks on a loaded snapshot and returns every
// finding, the loader's included, sorted. When only some releases were
// loaded, only those are checked (with the policy and what they cite).
// Documents of a release that have problems are checked as far as they
// decode, so a file's schema and cross-document findings come in one run.
func Check(s *loader.Snapshot, opts ...Options) ([]finding.Finding, error) {
	c := &checker{s: s, now: time.Now(), lang: s.Lang()}
	for _, o := range opts {
		if !o.Now.IsZero() {
			c.now = o.Now
		}
	}
	c.out = append(c.out, s.Findings...)
	if s.Policy != nil {
		p, err := policy.New(s.Policy)
		if err != nil {
			line, col := s.Locate(document.PolicyPath, "timezone")
			c.add(document.PolicyPath, line, col, "timezone", "", "policy", "timezone is not a known IANA zone such as Asia/Shanghai")
		} else {
			c.p = p
			c.checkPolicy()
		}
	}
	if s.Full() {
		c.checkChanges()
		c.checkCMDB()
		c.checkReviews()
	}
	for _, a := range s.PolicyApprovals {
		c.checkPolicyApproval(a)
	}
	for _, id := range s.ReleaseIDs() {
		r := view(s.Releases[id])
		if err := c.checkRelease(r); err != nil {
			return nil, err
		}
		c.checkDates(r)
	}
	if s.Scoped() {
		// After the releases, which read the change requests and items they cite.
		c.checkChanges()
		c.checkCMDB()
		c.checkReviews()
	}
	finding.Sort(c.out)
	return c.out, nil
}

type checker struct {
	s    *loader.Snapshot
	p    *policy.Policy
	out  []finding.Finding
	now  time.Time
	lang string // of the messages: en or zh
}

// view is a release whose documents that have problems are filled in with
// what decodes of them (loader.Doc.Partial), for the cross-document checks
// only. The policy is never taken partially: a mistake in it would turn
// into a finding on every login of every release.
func view(r *loader.Release) *loader.Release {
	v := *r
	part := func(name string) any {
		if d := r.Files[name]; d != nil && d.Value == nil {
			return d.Partial
		}
		return nil
	}
	if v.Release == nil {
		v.Release, _ = part("release.yaml").(*document.Release)
	}
	if v.Plan == nil {
		v.Plan, _ = part("plan.yaml").(*document.Plan)
	}
	if v.TestReport == nil {
		v.TestReport, _ = part("test-report.yaml").(*document.TestReport)
	}
	if v.GoLive == nil {
		v.GoLive, _ = part("golive.yaml").(*document.GoLive)
	}
	if v.Communication == nil {
		v.Communication, _ = part("communication.yaml").(*document.Communication)
	}
	if v.Deployment == nil {
		v.Deployment, _ = part("deployment.yaml").(*document.Deployment)
	}
	if v.Closure == nil {
		v.Closure, _ = part("closure.yaml").(*document.Closure)
	}
	v.Approvals = make([]*loader.Approval, len(r.Approvals))
	for i, a := range r.Approvals {
		if a.Approval == nil {
			if p, ok := a.Doc.Partial.(*document.Approval); ok {
				cp := *a
				cp.Approval = p
				a = &cp
			}
		}
		v.Approvals[i] = a
	}
	return &v
}

func (c *checker) add(file string, line, col int, field, clause, rule, msg string) {
	c.out = append(c.out, finding.Finding{File: file, Line: line, Column: col, Field: field, Clause: clause,
		Rule: rule, Severity: finding.Error, Message: c.lit(msg)})
}

// at reports a finding located at a field of file.
func (c *checker) at(file, clause, rule, msg string, field ...string) {
	line, col := c.s.Locate(file, field...)
	c.add(file, line, col, fieldPath(field), clause, rule, msg)
}

func (c *checker) warnAt(file, clause, rule, msg string, field ...string) {
	line, col := c.s.Locate(file, field...)
	c.out = append(c.out, finding.Finding{File: file, Line: line, Column: col, Field: fieldPath(field), Clause: clause,
		Rule: rule, Severity: finding.Warning, Message: c.lit(msg)})
}

func fieldPath(field []string) string { return finding.FieldPath(field) }

func idx(i int) string { return strconv.Itoa(i) }

func (c *checker) checkPolicy() {
	const f = document.PolicyPath
	p := c.p
	seen := map[string]bool{}
	for i, pp := range p.People {
		if seen[pp.Login] {
			c.at(f, "", "duplicate", c.t("person %s is listed twice", pp.Login), "people", idx(i), "login")
		}
		seen[pp.Login] = true
		for j, k := range pp.SigningKeys {
			if !keyParses(k) {
				c.at(f, "R-3.2", "policy", "not a public key relgate can read: an armored OpenPGP key or an SSH key line (ssh-ed25519 AAAA…)", "people", idx(i), "signingKeys", idx(j))
			}
		}
	}
	depts := map[string]bool{}
	for i, d := range p.Departments {
		if depts[d.ID] {
			c.at(f, "", "duplicate", c.t("department %s is listed twice", d.ID), "departments", idx(i), "id")
		}
		depts[d.ID] = true
		if _, ok := p.Person(d.Head); !ok {
			c.at(f, "R-5.1.3", "reference", c.t("head %s is not a person of the policy", d.Head), "departments", idx(i), "head")
		}
	}
	for _, role := range sortedKeys(p.Roles) {
		if role == policy.RoleDepartmentHead {
			c.at(f, "R-5.1.3", "policy", "department heads come from departments[].head; remove this role", "roles", role)
		}
		for i, l := range p.Roles[role] {
			if _, ok := p.Person(l); !ok {
				c.at(f, "R-4", "reference", c.t("%s is not a person of the policy", l), "roles", role, idx(i))
			}
		}
	}
	gates := map[string]bool{}
	for i, g := range p.Policy.Gates {
		if gates[g.ID] {
			c.at(f, "", "duplicate", c.t("gate %s is listed twice", g.ID), "gates", idx(i), "id")
		}
		gates[g.ID] = true
		builtin := slices.ContainsFunc(policy.Defaults(), func(d policy.Gate) bool { return d.ID == g.ID })
		if !builtin {
			if !slices.ContainsFunc(policy.Defaults(), func(d policy.Gate) bool {
				return d.ID == g.Before && !d.Repository && d.ID != policy.GateClosedReleaseChange
			}) {
				c.at(f, "", "policy", "a team's own gate names the built-in gate it must pass before (before: go-live-approval, ...)", "gates", idx(i), "before")
			}
			if len(g.Requires) == 0 {
				c.at(f, "", "policy", "a team's own gate requires at least one role", "gates", idx(i), "requires")
			}
		}
		for j, r := range g.Requires {
			if !p.RoleDefined(r.Role) {
				c.at(f, "", "reference", c.t("role %s is not defined in roles", r.Role), "gates", idx(i), "requires", idx(j), "role")
			}
		}
		for j, cv := range g.Covers {
			if _, ok := document.ReleaseFiles[cv]; !ok && !policy.IsRepositoryGate(g.ID) {
				c.at(f, "", "reference", c.t("%s is not a release document", cv), "gates", idx(i), "covers", idx(j))
			}
		}
	}
	for i, w := range p.BlackoutWindows {
		c.ordered(f, "", w.Start, w.End, "blackout window ends before it starts", "blackoutWindows", idx(i), "end")
	}
	c.checkWindows()
	c.checkTypeRules()
	c.checkNotices()
	for _, s := range []struct{ name, spec string }{{"resync", p.Schedules.Resync}, {"reconcile", p.Schedules.Reconcile},
		{"quarterlyReport", p.Schedules.QuarterlyReport}, {"reminders", p.Schedules.Reminders}} {
		if s.spec == "" {
			continue
		}
		// One grammar for validate, gate and serve (issue 11): robfig/cron's
		// own parser panicked on TZ= and accepted specs that never run.
		if _, err := cronspec.Parse(s.spec); err != nil {
			c.at(f, "", "policy", err.Error(), "schedules", s.name)
		}
	}
	if p.TrustCommitAuthor {
		c.warnAt(f, "R-3.2", "unauthenticated", "trustCommitAuthor is on: an approval counts when its commit's author is the approver, which anyone can forge; list signing keys and turn it off for production", "trustCommitAuthor")
	}
}

func (c *checker) ordered(file, clause, a, b, msg string, field ...string) {
	ta, err1 := document.ParseTime(a)
	tb, err2 := document.ParseTime(b)
	if a != "" && b != "" && (err1 != nil || err2 != nil) {
		if d := c.s.Doc(file); d != nil && d.Value == nil {
			return // a document with problems: the schema has said what is wrong with the time
		}
		c.at(file, clause, "dates", "a time here cannot be read (a leap second?); write it as 2026-11-25T10:00:00+08:00", field...)
		return
	}
	if err1 == nil && err2 == nil && tb.Before(ta) {
		c.at(file, clause, "dates", msg, field...)
	}
}

func (c *checker) checkChanges() {
	for id, ch := range c.s.Changes() {
		if ch.ID != id {
			c.at(document.ChangePath(id), "R-3.3", "id-mismatch", c.t("id %s does not match the file name %s.yaml", ch.ID, id), "id")
		}
	}
}

func (c *checker) checkCMDB() {
	for id, it := range c.s.CMDBItems() {
		file := document.CMDBPath(id)
		if it.ID != id {
			c.at(file, "R-3.4", "id-mismatch", c.t("id %s does not match the file name %s.yaml", it.ID, id), "id")
		}
		if c.p != nil {
			if _, ok := c.p.Person(it.Owner); !ok {
				c.at(file, "R-3.4", "reference", c.t("owner %s is not a person of the policy", it.Owner), "owner")
			}
		}
		for i := 1; i < len(it.History); i++ {
			c.ordered(file, "R-3.4", it.History[i-1].At, it.History[i].At, "history entries are in time order, oldest first", "history", idx(i), "at")
		}
	}
}

func (c *checker) checkReviews() {
	for q, r := range c.s.Reviews() {
		file := path.Join(document.ReviewsDir, q+".yaml")
		if r.Quarter != q {
			c.at(file, "R-3.5", "id-mismatch", c.t("quarter %s does not match the file name %s.yaml", r.Quarter, q), "quarter")
		}
		for i, a := range r.Actions {
			c.person(file, "R-8", a.Owner, "actions", idx(i), "owner")
		}
	}
}

// person reports a login that the policy does not know.
func (c *checker) person(file, clause, login string, field ...string) {
	if c.p == nil || login == "" {
		return
	}
	if _, ok := c.p.Person(login); !ok {
		c.at(file, clause, "reference", c.t("%s is not a person of the policy", login), field...)
	}
}

// holds reports a login that does not hold the role the field gives it.
func (c *checker) holds(file, clause, login, role string, field ...string) {
	if c.p == nil || login == "" {
		return
	}
	if _, ok := c.p.Person(login); !ok {
		c.at(file, clause, "reference", c.t("%s is not a person of the policy", login), field...)
		return
	}
	if !c.p.HasRole(login, role) {
		c.at(file, clause, "role", c.t("%s does not hold the role %s in the policy", login, role), field...)
	}
}

// isBot reports whether login is the person the policy's bot identity is.
func (c *checker) isBot(login string) bool {
	if c.p == nil || c.p.Bot.Email == "" {
		return false
	}
	bot, ok := c.p.PersonByEmail(c.p.Bot.Email)
	return ok && bot.Login == login
}

func (c *checker) checkRelease(r *loader.Release) error {
	dir := document.ReleaseDir(r.ID)
	relFile := path.Join(dir, "release.yaml")
	if !document.ReleaseIDPattern.MatchString(r.ID) {
		c.add(dir, 0, 0, "", "", "layout", c.t("release folder %s is not a release id (REL-2026-0042)", r.ID))
	}
	if r.Files["release.yaml"] == nil {
		c.add(relFile, 0, 0, "", "R-3.3", "layout", c.t("the release folder has no release.yaml; run relgate new release %s", r.ID))
	}
	for name, d := range r.Files {
		file := path.Join(dir, name)
		v := d.Value
		if v == nil {
			v = d.Partial
		}
		if got := releaseField(v); got != "" && got != r.ID {
			c.at(file, "", "id-mismatch", c.t("release %s does not match the folder %s", got, r.ID), "release")
		}
	}
	if rel := r.Release; rel != nil {
		if rel.ID != r.ID {
			c.at(relFile, "", "id-mismatch", c.t("id %s does not match the folder %s", rel.ID, r.ID), "id")
		}
		if err := c.checkHeader(relFile, rel); err != nil {
			return err
		}
	}
	if pl := r.Plan; pl != nil {
		file := path.Join(dir, "plan.yaml")
		c.holds(file, "R-4.2", pl.Author, policy.RoleReleaseManager, "author")
		for i, st := range pl.Steps {
			c.person(file, "R-5.1.1", st.Owner, "steps", idx(i), "owner")
			for j, pp := range st.People {
				c.person(file, "R-5.1.1", pp, "steps", idx(i), "people", idx(j))
			}
			c.ordered(file, "R-5.1.1", st.Start, st.End, "step ends before it starts", "steps", idx(i), "end")
		}
		if err := c.items(file, r, pl.Rollback.RestoreVersions, "R-5.1.2", "rollback", "restoreVersions"); err != nil {
			return err
		}
	}
	if tr := r.TestReport; tr != nil {
		file := path.Join(dir, "test-report.yaml")
		c.holds(file, "R-4.3", tr.Author, policy.RoleReleaseTester, "author")
		c.ordered(file, "R-5.1.4", tr.TestedFrom, tr.TestedTo, "testing ends before it starts", "testedTo")
		seen := map[string]bool{}
		for i, res := range tr.Results {
			if seen[res.Category] {
				c.at(file, "R-5.1.4", "duplicate", c.t("category %s is reported twice", res.Category), "results", idx(i), "category")
			}
			seen[res.Category] = true
		}
		if err := c.items(file, r, tr.Artifacts, "R-5.1.4", "artifacts"); err != nil {
			return err
		}
	}
	if g := r.GoLive; g != nil {
		file := path.Join(dir, "golive.yaml")
		c.person(file, "R-5.1.5", g.Author, "author")
		for i, t := range g.Schedule {
			c.person(file, "R-5.1.5", t.Owner, "schedule", idx(i), "owner")
			c.ordered(file, "R-5.1.5", t.Start, t.End, "task ends before it starts", "schedule", idx(i), "end")
		}
		for i, d := range g.WorkArrangement {
			c.person(file, "R-5.1.5", d.Person, "workArrangement", idx(i), "person")
		}
	}
	if cm := r.Communication; cm != nil {
		file := path.Join(dir, "communication.yaml")
		c.person(file, "R-5.1.7", cm.Author, "author")
		for i, rs := range cm.Responsibilities {
			c.person(file, "R-5.1.7", rs.Person, "responsibilities", idx(i), "person")
		}
	}
	if d := r.Deployment; d != nil {
		file := path.Join(dir, "deployment.yaml")
		// The bot records the receipts the forge reports; whether
		// it really wrote this one is evaluate's receipt-authentic check.
		if !(d.Receipt != nil && c.isBot(d.RecordedBy)) {
			c.holds(file, "R-5.1.8", d.RecordedBy, policy.RoleImplementer, "recordedBy")
		}
		c.ordered(file, "R-5.1.8", d.StartedAt, d.FinishedAt, "deployment finishes before it starts", "finishedAt")
		if err := c.items(file, r, d.Deployed, "R-5.1.8", "deployed"); err != nil {
			return err
		}
		if d.Rollback != nil {
			if err := c.items(file, r, d.Rollback.Restored, "R-5.1.2", "rollback", "restored"); err != nil {
				return err
			}
		}
	}
	if cl := r.Closure; cl != nil {
		file := path.Join(dir, "closure.yaml")
		c.holds(file, "R-5.1.10", cl.ClosedBy, policy.RoleImplementer, "closedBy")
	}
	for _, a := range r.Approvals {
		c.checkApproval(r, a)
	}
	return nil
}

func (c *checker) checkHeader(file string, rel *document.Release) error {
	if c.p != nil {
		if !slices.Contains(c.p.ReleaseTypes(), rel.Type) {
			c.at(file, "R-5.1.11", "reference", c.t("type %s is not one of the policy's release types %v", rel.Type, c.p.ReleaseTypes()), "type")
		}
		c.holds(file, "R-4.1", rel.People.Owner, policy.RoleReleaseOwner, "people", "owner")
		c.holds(file, "R-4.2", rel.People.Manager, policy.RoleReleaseManager, "people", "manager")
		for i, l := range rel.People.Testers {
			c.holds(file, "R-4.3", l, policy.RoleReleaseTester, "people", "testers", idx(i))
		}
		for i, l := range rel.People.Implementers {
			c.holds(file, "R-5.1.9", l, policy.RoleImplementer, "people", "implementers", idx(i))
		}
		c.holds(file, "R-5.1.8", rel.People.CustomerRepresentative, policy.RoleCustomerRepresentative, "people", "customerRepresentative")
		for i, d := range rel.Departments {
			if !c.p.HasDepartment(d) {
				c.at(file, "R-5.1.3", "reference", c.t("department %s is not defined in the policy", d), "departments", idx(i))
			}
		}
	}
	c.ordered(file, "", rel.Window.Start, rel.Window.End, "the window ends before it starts", "window", "end")
	c.ordered(file, "", rel.CreatedAt, rel.Window.Start, "the window starts before the release was created", "window", "start")
	seen := map[string]bool{}
	for i, ch := range rel.Changes {
		if seen[ch.ID] {
			c.at(file, "R-3.3", "duplicate", c.t("change %s is cited twice", ch.ID), "changes", idx(i), "id")
		}
		seen[ch.ID] = true
		if ch.External {
			continue
		}
		_, exists, err := c.s.Change(ch.ID)
		if err != nil {
			return err
		}
		if !exists {
			c.at(file, "R-3.3", "reference", c.t("change %s does not exist in changes/; add it, or mark it external: true with its url", ch.ID), "changes", idx(i), "id")
		}
	}
	items := map[string]bool{}
	for i, it := range rel.Items {
		if items[it.ID] {
			c.at(file, "R-3.4", "duplicate", c.t("configuration item %s is listed twice", it.ID), "items", idx(i), "id")
		}
		items[it.ID] = true
		_, exists, err := c.s.CMDBItem(it.ID)
		if err != nil {
			return err
		}
		if !exists && it.Action != "add" {
			c.at(file, "R-3.4", "reference", c.t("configuration item %s does not exist in cmdb/; use action: add for a new item", it.ID), "items", idx(i), "id")
		}
		if exists && it.Action == "add" {
			c.at(file, "R-3.4", "reference", c.t("configuration item %s already exists in cmdb/; use action: update", it.ID), "items", idx(i), "action")
		}
	}
	return nil
}

// items reports version references to configuration items the release does not touch.
func (c *checker) items(file string, r *loader.Release, refs []document.VersionRef, clause string, field ...string) error {
	if r.Release == nil {
		return nil
	}
	for i, ref := range refs {
		touched := slices.ContainsFunc(r.Release.Items, func(it document.Item) bool { return it.ID == ref.Item })
		if !touched {
			_, exists, err := c.s.CMDBItem(ref.Item)
			if err != nil {
				return err
			}
			if !exists {
				c.at(file, clause, "reference", c.t("configuration item %s is neither in release.yaml items nor in cmdb/", ref.Item), append(field, idx(i), "item")...)
			}
		}
	}
	return nil
}

func (c *checker) checkApproval(r *loader.Release, a *loader.Approval) {
	file := a.Doc.Path
	if a.Approval == nil {
		return
	}
	if a.Gate != a.FileGate || a.Person != a.FilePerson {
		c.at(file, "R-3.2", "id-mismatch", c.t("the file name says gate %s by %s, the content gate %s by %s; name it %s.%s.yaml",
			a.FileGate, a.FilePerson, a.Gate, a.Person, a.Gate, a.Person), "gate")
	}
	if a.Release != r.ID {
		c.at(file, "R-3.2", "id-mismatch", c.t("release %s does not match the folder %s", a.Release, r.ID), "release")
	}
	if c.p == nil {
		return
	}
	g, ok := c.p.Gate(a.Gate)
	if !ok || g.Repository {
		c.at(file, "", "reference", c.t("gate %s is not a release gate of the policy", a.Gate), "gate")
		return
	}
	c.person(file, "R-3.2", a.Person, "person")
	if !slices.Contains(c.p.ApprovalRoles(g), a.Role) {
		c.at(file, "", "reference", c.t("gate %s does not require the role %s", a.Gate, a.Role), "role")
	}
}

func (c *checker) checkPolicyApproval(a *loader.Approval) {
	file := a.Doc.Path
	if a.Approval == nil {
		return
	}
	if a.Gate != a.FileGate || a.Person != a.FilePerson {
		c.at(file, "R-7", "id-mismatch", c.t("the file name says gate %s by %s, the content gate %s by %s", a.FileGate, a.FilePerson, a.Gate, a.Person), "gate")
	}
	if c.p != nil {
		if g, ok := c.p.Gate(a.Gate); !ok || !g.Repository {
			c.at(file, "R-7", "reference", "approvals at the repository root are for the repository gates (policy-change, change-record, cmdb-change, review-change); release approvals go in releases/<id>/approvals/", "gate")
		}
	}
	if a.Release != "" {
		c.at(file, "R-7", "id-mismatch", "an approval of a repository gate names no release", "release")
	}
	c.person(file, "R-7", a.Person, "person")
}

func releaseField(v any) string {
	switch d := v.(type) {
	case *document.Plan:
		return d.Release
	case *document.TestReport:
		return d.Release
	case *document.GoLive:
		return d.Release
	case *document.Communication:
		return d.Release
	case *document.Deployment:
		return d.Release
	case *document.Closure:
		return d.Release
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// keyParses reports whether a signing key is an OpenPGP or an SSH public key.
func keyParses(k string) bool {
	if strings.Contains(k, "BEGIN PGP PUBLIC KEY BLOCK") {
		_, err := openpgp.ReadArmoredKeyRing(strings.NewReader(k))
		return err == nil
	}
	_, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k))
	return err == nil
}
