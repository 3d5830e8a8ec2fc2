package gen

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/policy"
)

// Injection is one bypass of the procedure written into a generated
// history (Options.Inject): the first-parent commit of main that makes it,
// and the rule `relgate audit verify` reports for it (audit.Violation.Rule).
// Each touches a release that gets no later step, or a repository-wide file
// in a way no later lawful commit depends on, so verify reports exactly the
// injected commits and nothing else.
type Injection struct {
	Commit string `json:"commit"`
	// Class names the kind of bypass (InjectionClasses).
	Class string `json:"class"`
	// Release is the release it concerns; empty for a repository-wide file.
	Release string `json:"release,omitempty"`
	// Path is the file it adds or changes.
	Path string `json:"path"`
	// Rule is what verify reports at Commit.
	Rule    string `json:"rule"`
	Summary string `json:"summary"`
}

// InjectionClass is a kind of bypass and the rule verify reports for it.
type InjectionClass struct {
	Class, Rule, What string
}

// InjectionClasses are the bypasses Options.Inject draws from.
var InjectionClasses = []InjectionClass{
	{"forged-approval", "unauthenticated-approval", "an approval committed by someone other than its person"},
	{"golive-before-plan-review", "gate:" + policy.GatePlanReview, "golive.yaml pushed to main before the plan review passed"},
	{"deployment-before-go-live", "gate:" + policy.GateGoLiveApproval, "deployment.yaml pushed to main without the go-live approval"},
	{"change-without-change-manager", "gate:" + policy.GateChangeRecord, "a change request pushed to changes/ without the change manager's approval"},
	{"cmdb-edit-without-approval", "gate:" + policy.GateCMDBChange, "a CMDB item edited by someone other than the bot without the configuration manager's approval"},
	{"hand-written-report", "problem", "a release report in reports/ edited by hand"},
	{"closure-by-another", "gate:" + policy.GateClosure, "closure.yaml committed by someone other than the implementer it names"},
	{"stale-approval", "stale-approval", "an approval made stale by a plan edit after it in the same pull request"},
	{"self-approval", "uncounted-approval", "an approval by the person who edited the plan it approves"},
	{"untested-deployment", "problem", "a deployment record naming a build that was not tested"},
	{"policy-without-approver", "policy-change", "relgate.yaml changed without the process approver"},
}

// InjectionFile is what WriteInjections writes.
type InjectionFile struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Seed       int64       `json:"seed"`
	Head       string      `json:"head"`
	Injections []Injection `json:"injections"`
}

// WriteInjections writes the injections of a generated repository to path
// as JSON (an InjectionFile).
func WriteInjections(path string, seed int64, res *Result) error {
	f := InjectionFile{APIVersion: document.APIVersion, Kind: "GeneratedInjections", Seed: seed, Head: res.Head.String(),
		Injections: res.Injections}
	if f.Injections == nil {
		f.Injections = []Injection{}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the injections: %w", err)
	}
	return nil
}

// placeInjections puts Options.Inject injection units after as many
// distinct planned steps, drawn at random; which bypass each makes is
// decided when it is written, from what the history holds by then.
func (g *generator) placeInjections() {
	n := min(g.opts.Inject, len(g.units))
	if n == 0 {
		return
	}
	after := map[int]bool{}
	for _, i := range g.injectRng.Perm(len(g.units))[:n] {
		after[i] = true
	}
	for _, k := range g.injectRng.Perm(len(InjectionClasses)) {
		g.injectOrder = append(g.injectOrder, InjectionClasses[k].Class)
	}
	units := make([]unit, 0, len(g.units)+n)
	for i, u := range g.units {
		units = append(units, u)
		if after[i] {
			units = append(units, unit{kind: unitInject, at: u.at, seq: -1})
		}
	}
	g.units = units
}

// inject writes the next injection: of the classes that have something to
// act on, the one used least so far (ties in a shuffled order), on a
// release chosen at random among those it can act on.
func (g *generator) inject(u *unit) error {
	g.injected++
	used := map[string]int{}
	for _, in := range g.injections {
		used[in.Class]++
	}
	order := slices.Clone(g.injectOrder)
	sort.SliceStable(order, func(i, j int) bool { return used[order[i]] < used[order[j]] })
	for _, class := range order {
		var cands []*release
		for _, rel := range g.releases {
			if g.injectable(class, rel) {
				cands = append(cands, rel)
			}
		}
		if cands == nil && needsRelease(class) {
			continue
		}
		var rel *release
		if cands != nil {
			rel = cands[g.injectRng.IntN(len(cands))]
			rel.injected = true
		}
		in, err := g.injectClass(class, rel, u)
		if err != nil {
			return fmt.Errorf("inject %s: %w", class, err)
		}
		for _, c := range InjectionClasses {
			if c.Class == class {
				in.Class, in.Rule = class, c.Rule
			}
		}
		in.Commit = g.head.String()
		if rel != nil {
			in.Release = rel.id
		}
		g.injections = append(g.injections, in)
		return nil
	}
	return fmt.Errorf("internal error: no injection class applies")
}

func needsRelease(class string) bool {
	switch class {
	case "change-without-change-manager", "cmdb-edit-without-approval", "policy-without-approver":
		return false
	}
	return true
}

// injectable reports whether a class of bypass can act on rel now without
// changing what a later lawful commit depends on: rel has no step left,
// and no other injection used it.
func (g *generator) injectable(class string, rel *release) bool {
	if rel.injected {
		return false
	}
	if class == "hand-written-report" {
		return rel.reported
	}
	if rel.pending > 0 {
		return false
	}
	switch class {
	case "forged-approval", "golive-before-plan-review", "stale-approval", "self-approval":
		return rel.fate == fateOpened
	case "deployment-before-go-live":
		return rel.fate == fateTested
	case "untested-deployment":
		return rel.fate == fateApproved
	case "closure-by-another":
		return rel.fate == fateDeployed && rel.reported && g.cmdbBehind(rel) == ""
	}
	return false
}

// injectClass writes one bypass of class on rel (nil for repository-wide
// classes) and says what it did.
func (g *generator) injectClass(class string, rel *release, u *unit) (Injection, error) {
	var dir string
	if rel != nil {
		dir = document.ReleaseDir(rel.id) + "/"
	}
	at := u.at
	switch class {
	case "forged-approval":
		// The release manager commits the owner's approval.
		p := document.ApprovalPath(rel.id, policy.GatePlanReview, rel.owner)
		t := g.after(at)
		a := approvalDoc(rel.id, policy.GatePlanReview, rel.owner, policy.RoleReleaseOwner, document.DecisionApprove,
			g.releaseDigest(rel.id, policy.GatePlanReview), t, "")
		err := g.direct(t, rel.manager, fmt.Sprintf("%s: plan-review approved by %s (release-owner)\n", rel.id, rel.owner), fileWrite{path: p, doc: a})
		return Injection{Path: p, Summary: fmt.Sprintf("%s's approval of plan-review committed by %s", rel.owner, rel.manager)}, err

	case "golive-before-plan-review":
		p := dir + "golive.yaml"
		err := g.direct(at, rel.manager, rel.id+": the go-live plan\n", fileWrite{path: p, doc: g.goLiveDoc(rel)})
		return Injection{Path: p, Summary: "golive.yaml committed straight on main while the plan waits for review"}, err

	case "deployment-before-go-live":
		p := dir + "deployment.yaml"
		err := g.direct(at, rel.implementers[0], rel.id+": the deployment record\n", fileWrite{path: p, doc: g.deploymentDoc(rel)})
		return Injection{Path: p, Summary: "deployment.yaml committed straight on main without go-live planning or approval"}, err

	case "untested-deployment":
		p := dir + "deployment.yaml"
		d := g.deploymentDoc(rel)
		v := &d.Deployed[0]
		v.Digest = digest(v.Item, v.Version+"+hotfix")
		err := g.direct(at, rel.implementers[0], rel.id+": the deployment record ("+d.Outcome+")\n", fileWrite{path: p, doc: d})
		return Injection{Path: p, Summary: fmt.Sprintf("deployment.yaml records %s %s with a digest the test report does not have", v.Item, v.Version)}, err

	case "closure-by-another":
		p := dir + "closure.yaml"
		pr := g.pull(rel.id+"/closure", rel.id+": closure", at, rel.rand(g, unitClose))
		t := pr.time()
		if err := pr.commit(rel.manager, rel.id+": close the release\n", fileWrite{path: p, doc: g.closureDoc(rel, rel.closer, t)}); err != nil {
			return Injection{}, err
		}
		err := pr.merge()
		return Injection{Path: p, Summary: fmt.Sprintf("closure.yaml names %s but was committed by %s", rel.closer, rel.manager)}, err

	case "stale-approval", "self-approval":
		editor := rel.planner
		if class == "self-approval" {
			editor = rel.owner
		}
		pr := g.pull(rel.id+"/plan-review", rel.id+": plan review", at, rel.rand(g, unitReview))
		edit := func() error {
			return pr.commit(editor, rel.id+": revise the plan\n", fileWrite{path: dir + "plan.yaml", doc: g.planDoc(rel, rel.revisions+2)})
		}
		approve := func() error {
			return pr.approve(rel, policy.GatePlanReview, rel.owner, policy.RoleReleaseOwner, "")
		}
		steps := []func() error{approve, edit}
		summary := fmt.Sprintf("%s approved plan-review, then %s edited plan.yaml in the same pull request", rel.owner, editor)
		if class == "self-approval" {
			steps = []func() error{edit, approve}
			summary = fmt.Sprintf("%s edited plan.yaml, then approved plan-review as release owner", rel.owner)
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return Injection{}, err
			}
		}
		err := pr.merge()
		return Injection{Path: document.ApprovalPath(rel.id, policy.GatePlanReview, rel.owner), Summary: summary}, err

	case "hand-written-report":
		p := gateReportPath(rel.id)
		data := append(append([]byte{}, g.blobs[p]...), "\nNote: the deployment went smoothly; thanks to everyone involved.\n"...)
		err := g.direct(at, rel.manager, rel.id+": add a note to the release report\n", fileWrite{path: p, data: data})
		return Injection{Path: p, Summary: rel.manager + " edited the release report by hand"}, err

	case "change-without-change-manager":
		t := g.after(at)
		c := &change{id: fmt.Sprintf("CHG-%d-%06d", t.Year(), 900000+g.injected), typ: "normal", status: "submitted",
			title: pick(g.injectRng, features), requester: pick(g.injectRng, holders("customer-representative")), created: t}
		g.changes = append(g.changes, c)
		p := document.ChangePath(c.id)
		err := g.direct(t, c.requester, c.id+": change request "+c.title+"\n", fileWrite{path: p, doc: g.changeDoc(c)})
		return Injection{Path: p, Summary: c.requester + " pushed a change request straight to main"}, err

	case "cmdb-edit-without-approval":
		st := g.items[g.injectRng.IntN(len(g.items))]
		from := st.doc.Owner
		for _, m := range holders("configuration-manager") {
			if m != from {
				st.doc.Owner = m
			}
		}
		p := document.CMDBPath(st.doc.ID)
		err := g.direct(at, from, st.doc.ID+": hand the item over to "+st.doc.Owner+"\n", fileWrite{path: p, doc: &st.doc})
		return Injection{Path: p, Summary: fmt.Sprintf("%s changed the owner of %s to %s without the configuration manager's approval", from, st.doc.ID, st.doc.Owner)}, err

	case "policy-without-approver":
		by := pick(g.injectRng, holders("release-manager"))
		g.policy.KPI.SuccessRateTarget--
		err := g.direct(at, by, "Lower the success rate target\n", fileWrite{path: document.PolicyPath, doc: g.policy})
		return Injection{Path: document.PolicyPath, Summary: fmt.Sprintf("%s set kpi.successRateTarget to %g without the process approver", by, g.policy.KPI.SuccessRateTarget)}, err
	}
	return Injection{}, fmt.Errorf("unknown class %q", class)
}

// InjectionClassNames lists the classes, for help texts.
func InjectionClassNames() string {
	var out []string
	for _, c := range InjectionClasses {
		out = append(out, c.Class)
	}
	return strings.Join(out, ", ")
}
