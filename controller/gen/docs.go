package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
)

// digest is the artifact digest of an item at a version: stable, so that a
// version is always the same artifact.
func digest(item, version string) string {
	s := sha256.Sum256([]byte(item + "@" + version))
	return "sha256:" + hex.EncodeToString(s[:])
}

func header(k document.Kind) document.Header {
	return document.Header{APIVersion: document.APIVersion, Kind: k}
}

// docRand gives each document of a release its own random stream, so that a
// document does not depend on what was generated before it (a plan's draft
// and final versions differ only where meant to).
func (g *generator) docRand(rel *release, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.opts.Seed)^salt<<56, uint64(rel.n)))
}

func systemTitle(id string) string {
	for _, s := range systems {
		if s.id == id {
			return s.title
		}
	}
	return id
}

func (rel *release) title() string { return systemTitle(rel.systems[0]) + ": " + rel.feature }

func (rel *release) itemIDs() []string {
	var out []string
	for _, it := range rel.items {
		out = append(out, it.ID)
	}
	return out
}

func (rel *release) artifacts() []document.VersionRef {
	var out []document.VersionRef
	for _, it := range rel.items {
		out = append(out, document.VersionRef{Item: it.ID, Version: it.Version, Digest: it.Digest})
	}
	return out
}

func (g *generator) releaseDoc(rel *release) *document.Release {
	d := &document.Release{
		Header:  header(document.KindRelease),
		ID:      rel.id,
		Title:   rel.title(),
		Type:    rel.typ,
		Systems: rel.systems,
		Items:   rel.items,
		People: document.ReleasePeople{Owner: rel.owner, Manager: rel.manager, Testers: rel.testers,
			Implementers: rel.implementers, CustomerRepresentative: rel.customer},
		Departments: rel.depts,
		Window:      document.Period{Start: stamp(rel.goLive), End: stamp(rel.windowEnd)},
		CreatedAt:   stamp(rel.created),
	}
	if c := rel.change; c != nil {
		d.Changes = append(d.Changes, document.ChangeRef{ID: c.id})
	}
	if rel.external != "" {
		d.Changes = append(d.Changes, document.ChangeRef{ID: rel.external, External: true,
			URL: "https://servicedesk.example.com/changes/" + rel.external})
	}
	return d
}

// neighbours are the surrounding systems a rollback notifies.
func (g *generator) neighbours(rel *release) []string {
	r := g.docRand(rel, 5)
	var out []string
	for _, s := range pickN(r, systems, 2) {
		if !containsString(rel.systems, s.id) {
			out = append(out, s.id)
		}
	}
	if len(out) == 0 {
		out = []string{"messaging"}
	}
	return out
}

var postDeployment = []string{
	"Watch error rates and latency for 24 hours", "Confirm the nightly batch completes",
	"Check reconciliation totals the next morning", "Review logs for new warnings",
}

// planDoc is the plan; a draft (draft > 0) is an earlier version of it.
func (g *generator) planDoc(rel *release, draft int) *document.Plan {
	r := g.docRand(rel, 1)
	gl := rel.goLive
	// The artifacts to restore are the CMDB's; the plan names their versions.
	var restore []document.VersionRef
	for _, v := range rel.restore {
		restore = append(restore, document.VersionRef{Item: v.Item, Version: v.Version})
	}
	d := &document.Plan{
		Header:     header(document.KindPlan),
		Release:    rel.id,
		Author:     rel.planner,
		PreparedAt: stamp(rel.prepared),
		Purpose:    "Deliver " + rel.feature + " to production.",
		Impact:     fmt.Sprintf("%s is unavailable for up to %d minutes.", systemTitle(rel.systems[0]), 15*(1+r.IntN(6))),
		Backup: document.Backup{Data: "Database snapshot", Configuration: "Configuration export",
			Applications: "Previous packages kept in the registry"},
		Steps: []document.Step{
			{Name: "Back up and deploy", Owner: rel.implementers[0], People: rel.implementers,
				Start: stamp(gl), End: stamp(gl.Add(90 * time.Minute))},
			{Name: "Verify", Owner: rel.testers[0], People: append(append([]string{}, rel.testers...), rel.customer),
				Start: stamp(gl.Add(90 * time.Minute)), End: stamp(rel.windowEnd)},
		},
		Rollback: document.RollbackPlan{
			Systems: rel.systems, PointInTime: stamp(gl), DataObjects: []string{rel.systems[0] + " database"},
			Configuration: rel.itemIDs(), RestoreVersions: restore,
			Steps:  []string{"stop traffic", "redeploy", "restore snapshot", "verify"},
			Notify: g.neighbours(rel),
		},
		Risks:          pickN(r, risks, 1),
		PostDeployment: pickN(r, postDeployment, 1+r.IntN(2)),
	}
	if draft > 0 {
		d.Impact = fmt.Sprintf("Draft %d: impact under review with the departments.", draft)
		d.PostDeployment = d.PostDeployment[:1]
	}
	return d
}

var testSummaries = map[string]string{
	"technical":             "Interfaces checked",
	"functional":            "Cases passed",
	"operational":           "Alerts verified",
	"performance":           "Within targets",
	"compatibility":         "No regressions",
	"installation-rollback": "Rehearsed",
}

func (g *generator) testReportDoc(rel *release) *document.TestReport {
	r := g.docRand(rel, 2)
	d := &document.TestReport{
		Header:      header(document.KindTestReport),
		Release:     rel.id,
		Author:      rel.testers[0],
		TestedFrom:  stamp(rel.testedFrom),
		TestedTo:    stamp(rel.testedTo),
		Environment: document.TestEnvironment{Name: "uat", Description: "Production-like"},
		Artifacts:   rel.artifacts(),
		Verdict:     "pass",
		Summary:     "All categories passed.",
	}
	for _, c := range document.TestCategories {
		d.Results = append(d.Results, document.TestResult{Category: c, Verdict: "pass", Summary: testSummaries[c], Cases: 3 + r.IntN(40)})
	}
	if rel.testFail {
		res := &d.Results[3]
		res.Verdict, res.Failed, res.Summary = "fail", 1+r.IntN(3), "Too slow"
		d.Verdict, d.Summary = "fail", "Performance below target; the release is on hold."
	}
	return d
}

func (g *generator) goLiveDoc(rel *release) *document.GoLive {
	r := g.docRand(rel, 3)
	gl := rel.goLive
	d := &document.GoLive{
		Header:     header(document.KindGoLive),
		Release:    rel.id,
		Author:     rel.manager,
		GoLiveTime: stamp(gl),
		Schedule: []document.Task{
			{Task: "Change freeze", Owner: rel.manager, Start: stamp(gl.Add(-2 * time.Hour)), End: stamp(gl)},
			{Task: "Deploy and verify", Owner: rel.implementers[0], Start: stamp(gl), End: stamp(rel.windowEnd)},
		},
		Resources:   strings.Join(rel.implementers, ", ") + " deploy; " + strings.Join(rel.testers, ", ") + " verify",
		Procurement: "None",
		Storage:     "No additional storage",
		RolloutMode: "all-at-once",
		CustomerCommunication: document.CustomerCommunication{
			BusinessImpact: systemTitle(rel.systems[0]) + " briefly unavailable", Channel: pick(r, []string{"email", "portal notice", "SMS"})},
		WorkArrangement: []document.Duty{{Person: rel.manager, Duty: "coordinate"}, {Person: rel.implementers[0], Duty: "deploy"},
			{Person: rel.testers[0], Duty: "verify"}},
		Workflow: []string{"freeze", "back up", "deploy", "verify", "hand over"},
		Rollback: []string{"Manager decides by window end", "Roll back per plan.yaml"},
	}
	if len(rel.items) > 1 && r.Float64() < 0.3 {
		ids := rel.itemIDs()
		d.RolloutMode = "phased"
		d.Phases = []document.Phase{{Name: "pilot", Items: ids[:1], At: stamp(gl)},
			{Name: "full", Items: ids[1:], At: stamp(gl.Add(time.Hour))}}
	}
	return d
}

// deploymentDoc is the deployment record. A rollback restores what the
// plan says: the versions the release replaced.
func (g *generator) deploymentDoc(rel *release) *document.Deployment {
	r := g.docRand(rel, 4)
	d := &document.Deployment{
		Header:     header(document.KindDeployment),
		Release:    rel.id,
		RecordedBy: rel.implementers[0],
		StartedAt:  stamp(rel.deployStart),
		FinishedAt: stamp(rel.deployEnd),
		Outcome:    rel.outcome,
		Deployed:   rel.artifacts(),
		Problems:   []document.Problem{},
	}
	if rel.outcome == document.OutcomeRolledBack {
		restored := slices.Clone(rel.restore)
		d.Problems = append(d.Problems, document.Problem{Description: "Verification failed: error rate above threshold",
			Solution: "Rolled back to the previous versions", At: stamp(rel.deployStart.Add(20 * time.Minute))})
		d.Rollback = &document.RollbackRecord{Executed: true, CompletedAt: stamp(rel.deployEnd), Restored: restored,
			SurroundingSystemsNotified: true, NotifiedSystems: g.neighbours(rel)}
	} else if r.Float64() < 0.1 {
		p := pick(r, problems)
		p.At = stamp(rel.deployStart.Add(10 * time.Minute))
		d.Problems = append(d.Problems, p)
	}
	return d
}

// communicationDoc is communication.yaml: the briefing of the people who
// deploy and verify, the customer's training, everyone's responsibility
// acknowledged, and for a phased rollout the customer told of each phase.
func (g *generator) communicationDoc(rel *release, gl *document.GoLive) *document.Communication {
	briefed := rel.goLiveAt.Add(-between(g.docRand(rel, 6), time.Hour, 3*time.Hour))
	if briefed.Before(rel.testAt) {
		briefed = rel.testAt
	}
	staff := append(append([]string{}, rel.implementers...), rel.testers...)
	d := &document.Communication{
		Header:  header(document.KindCommunication),
		Release: rel.id,
		Author:  rel.manager,
		Briefings: []document.Session{{Audience: "Deployment and verification team", Topic: "Steps, checkpoints and rollback of " + rel.id,
			At: stamp(briefed), By: rel.manager, Attendees: staff}},
		Training: []document.Session{{Audience: "Business users of " + systemTitle(rel.systems[0]), Topic: "What changes with " + rel.feature,
			At: stamp(briefed.Add(30 * time.Minute)), By: rel.testers[0], Attendees: []string{rel.customer}}},
		Responsibilities: []document.Responsibility{{Person: rel.manager, Responsibility: "coordinate the window and report progress", Acknowledged: true}},
	}
	for _, p := range rel.implementers {
		d.Responsibilities = append(d.Responsibilities, document.Responsibility{Person: p, Responsibility: "deploy and, if needed, roll back", Acknowledged: true})
	}
	for _, p := range rel.testers {
		d.Responsibilities = append(d.Responsibilities, document.Responsibility{Person: p, Responsibility: "verify after deployment", Acknowledged: true})
	}
	d.Responsibilities = append(d.Responsibilities, document.Responsibility{Person: rel.customer, Responsibility: "confirm the result for the business", Acknowledged: true})
	for _, ph := range gl.Phases {
		d.CustomerNotifications = append(d.CustomerNotifications, document.CustomerNotification{Phase: ph.Name, Recipient: rel.customer,
			NotifiedAt: stamp(briefed.Add(45 * time.Minute)), Items: ph.Items, GoLiveAt: ph.At})
	}
	return d
}

// closureDoc is closure.yaml, by the implementer who closes the release.
func (g *generator) closureDoc(rel *release, closedBy string, at time.Time) *document.Closure {
	return &document.Closure{
		Header:   header(document.KindClosure),
		Release:  rel.id,
		ClosedBy: closedBy,
		ClosedAt: stamp(at),
		Archived: []string{"release.yaml", "plan.yaml", "test-report.yaml", "golive.yaml", "communication.yaml", "deployment.yaml",
			gateReportPath(rel.id)},
	}
}

// approvalDoc is one person's decision on a gate, bound to digest.
func approvalDoc(release, gateID, person, role, decision, digest string, at time.Time, comment string) *document.Approval {
	return &document.Approval{
		Header:   header(document.KindApproval),
		Release:  release,
		Gate:     gateID,
		Person:   person,
		Role:     role,
		Decision: decision,
		Digest:   digest,
		At:       stamp(at),
		Comment:  comment,
	}
}

func (g *generator) changeDoc(c *change) *document.Change {
	d := &document.Change{
		Header:      header(document.KindChange),
		ID:          c.id,
		Title:       strings.ToUpper(c.title[:1]) + c.title[1:],
		Type:        c.typ,
		Status:      c.status,
		Requester:   c.requester,
		ApprovedBy:  c.approvedBy,
		Description: "Requested by the business: " + c.title + ".",
	}
	if !c.approvedAt.IsZero() {
		d.ApprovedAt = stamp(c.approvedAt)
	}
	return d
}
