package gate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/policy"
)

// Names of the deployment-confirmation checks that judge the record itself.
const (
	checkDeployedAsTested  = "deployed-as-tested"
	checkDeployedComplete  = "deployed-complete"
	checkRollback          = CheckRollbackCarriedOut
	checkRestoredAsPlanned = CheckRestoredAsPlanned
	// CheckReceiptAuthentic: a record in the bot's name is the bot's own
	// commit. It is made only of such records, so it is not in RecordChecks
	// (each of those is made of every failed deployment's record), but it
	// blocks the change that writes one all the same.
	CheckReceiptAuthentic = "receipt-authentic"
	// CheckDeployedAsAllowed: a forge deployment's receipt matches an
	// allowed decision of the deployment gate. Made of such receipts only;
	// it blocks the change that writes one too.
	CheckDeployedAsAllowed = "deployed-as-allowed"
)

// Names of the checks of a failed deployment's rollback.
const (
	CheckRollbackCarriedOut = "rollback-carried-out"
	CheckRestoredAsPlanned  = "restored-as-planned"
)

// RecordChecks are the names of the deployment-confirmation checks that must
// hold as soon as a deployment record is written, before anyone confirms it:
// what it says reached production was tested, a succeeded record lists
// everything the release installs, and a failure records its
// rollback. No confirmation can make a wrong record right, so the
// pull-request evaluation blocks a change whose record fails one of them.
var RecordChecks = []string{checkDeployedAsTested, checkDeployedComplete, checkRollback, checkRestoredAsPlanned}

// deploymentChecks: the deployment record says what happened, what
// reached production was tested, and a failure records its rollback
//
func (e *evaluator) deploymentChecks() []Check {
	r := e.in.Release
	c := e.doc("deployment.yaml")
	c.Clause = "R-5.1.8"
	out := []Check{c}
	d := r.Deployment
	if d == nil {
		return out
	}
	if bot, ok := e.botLogin(); ok && d.RecordedBy == bot {
		p := e.in.ReceiptProblem
		out = append(out, Check{Name: CheckReceiptAuthentic, Clause: "R-5.1.8", OK: p == "", File: c.File, Field: "recordedBy"}.with(
			pick(p == "", i18n.M("relgate wrote this record from the pipeline's report; people confirm it"), i18n.M("%s", p))))
	}
	if d.Receipt != nil && d.Receipt.Source == document.ReceiptGitHubDeployment {
		p := e.in.ReceiptAllowed
		out = append(out, Check{Name: CheckDeployedAsAllowed, Clause: "R-3.1", OK: p == "", File: c.File, Field: "receipt.deploymentId"}.with(
			pick(p == "", i18n.M("the deployment gate allowed this deployment, with these artifacts"), i18n.M("%s", p))))
	}
	out = append(out, e.deployedAsTested(d, c.File), e.deployedComplete(d, c.File))
	if d.Outcome == document.OutcomeFailed || d.Outcome == document.OutcomeRolledBack {
		rb := d.Rollback
		ok := rb != nil && rb.Executed && rb.SurroundingSystemsNotified
		out = append(out, Check{Name: checkRollback, Clause: "R-5.1.2", OK: ok, File: c.File, Field: "rollback"}.with(
			pick(ok, i18n.M("the rollback plan was carried out and the surrounding systems were told"),
				i18n.M("a failed deployment records that the rollback plan was carried out (rollback.executed) and the surrounding systems were told (rollback.surroundingSystemsNotified)"))))
		if d.Rollback != nil {
			out = append(out, e.restoredAsPlanned(d, c.File))
		}
	}
	return out
}

// botLogin is the login of the person the policy's bot identity is.
func (e *evaluator) botLogin() (string, bool) {
	pol := e.in.Policy
	if pol == nil || pol.Bot.Email == "" {
		return "", false
	}
	p, ok := pol.PersonByEmail(pol.Bot.Email)
	if !ok {
		return "", false
	}
	return p.Login, true
}

// restoredAsPlanned: a rollback restores the versions its plan names, and
// nothing else: the rollback plan is what was reviewed, and what it
// restores becomes the CMDB's record.
func (e *evaluator) restoredAsPlanned(d *document.Deployment, file string) Check {
	c := Check{Name: checkRestoredAsPlanned, Clause: "R-5.1.2, R-3.4", File: file, Field: "rollback.restored"}
	var planned []document.VersionRef
	if p := e.in.Release.Plan; p != nil {
		planned = p.Rollback.RestoreVersions
	}
	var off []string
	for _, v := range d.Rollback.Restored {
		if !slices.ContainsFunc(planned, func(p document.VersionRef) bool {
			return p.Item == v.Item && p.Version == v.Version && (p.Digest == "" || v.Digest == "" || p.Digest == v.Digest)
		}) {
			off = append(off, v.Item+" "+v.Version)
		}
	}
	c.OK = len(off) == 0
	return c.with(pick(c.OK, i18n.M("the rollback restored the versions its plan names"),
		i18n.M("the rollback restored versions its plan (plan.yaml rollback.restoreVersions) does not name: %s; restore what the reviewed rollback plan says, or record and report what was really restored", strings.Join(off, ", "))))
}

// deployedAsTested: every version the record says reached production is one
// the test report says was tested, item, version and digest, whatever the
// outcome: an untested version in production is a violation even when it was
// rolled back afterwards.
func (e *evaluator) deployedAsTested(d *document.Deployment, file string) Check {
	c := Check{Name: checkDeployedAsTested, Clause: "R-3.1", File: file, Field: "deployed"}
	tr := e.in.Release.TestReport
	if tr == nil {
		if len(d.Deployed) == 0 && d.Outcome != document.OutcomeSucceeded {
			c.OK = true
			return c.with(i18n.M("nothing was deployed"))
		}
		if e.rule.Kind == document.TypeEmergency && slices.Contains(e.rule.Retrospective, policy.GateTestAcceptance) {
			// The policy lets an emergency release be tested after the fact
			// (typeRules); the test report then comes with the retrospective
			// test acceptance, and this check holds it to what was deployed.
			c.OK = true
			return c.with(i18n.M("an emergency release is tested after the fact: its test report is due with the retrospective test acceptance, and must name what was deployed"))
		}
		return c.with(i18n.M("the release has no test report: nothing deployed was tested"))
	}
	var untested []string
	for _, dep := range d.Deployed {
		if slices.ContainsFunc(tr.Artifacts, func(a document.VersionRef) bool {
			return a.Item == dep.Item && a.Version == dep.Version && a.Digest == dep.Digest
		}) {
			continue
		}
		untested = append(untested, describeUntested(dep, tr.Artifacts))
	}
	if len(untested) == 0 {
		c.OK = true
		return c.with(i18n.M("the versions deployed are the versions tested"))
	}
	return c.with(i18n.M("deployed versions that were not tested (test-report.yaml artifacts): %s; record exactly the item, version and digest that reached production: if an untested one did, that is an R-3.1 violation whatever the outcome and must be reported, not confirmed", strings.Join(untested, "; ")))
}

// describeUntested says how a deployed version differs from what was tested.
func describeUntested(dep document.VersionRef, tested []document.VersionRef) string {
	s := dep.Item + " " + dep.Version
	var versions []string
	for _, a := range tested {
		if a.Item != dep.Item {
			continue
		}
		if a.Version == dep.Version {
			return fmt.Sprintf("%s with digest %s, but the tested digest is %s", s, orNone(dep.Digest), orNone(a.Digest))
		}
		versions = append(versions, a.Version)
	}
	if len(versions) == 0 {
		return s + " (the item was not tested)"
	}
	return s + " (tested: " + strings.Join(versions, ", ") + ")"
}

func orNone(digest string) string {
	if digest == "" {
		return "(none)"
	}
	return digest
}

// deployedComplete: the record lists only what the release installs, at the
// versions release.yaml names, and a succeeded deployment lists all of it;
// a failed or rolled-back one may list part, its outcome says it was not
// complete. It fails closed when release.yaml cannot be read.
func (e *evaluator) deployedComplete(d *document.Deployment, file string) Check {
	c := Check{Name: checkDeployedComplete, Clause: "R-5.1.8, R-3.1", File: file, Field: "deployed"}
	rel := e.in.Release.Release
	if rel == nil {
		return c.with(i18n.M("release.yaml is missing or invalid, so the deployment record cannot be checked against the release's items; run relgate validate"))
	}
	var install []document.Item
	for _, it := range rel.Items {
		if it.Action != "retire" {
			install = append(install, it)
		}
	}
	matches := func(it document.Item, dep document.VersionRef) bool {
		return it.ID == dep.Item && it.Version == dep.Version && (it.Digest == "" || it.Digest == dep.Digest)
	}
	var extra []string
	for _, dep := range d.Deployed {
		if !slices.ContainsFunc(install, func(it document.Item) bool { return matches(it, dep) }) {
			extra = append(extra, dep.Item+" "+dep.Version)
		}
	}
	if len(extra) > 0 {
		return c.with(i18n.M("deployed lists what release.yaml does not install at that version and digest: %s; a release deploys only its items at their target versions (R-3.1): correct the record, or record and report what really reached production", strings.Join(extra, ", ")))
	}
	if d.Outcome != document.OutcomeSucceeded {
		c.OK = true
		return c.with(i18n.M("deployed lists only items of the release at their target versions; outcome %s says it may be partial", i18n.Outcome(d.Outcome)))
	}
	var missing []string
	for _, it := range install {
		if !slices.ContainsFunc(d.Deployed, func(dep document.VersionRef) bool { return matches(it, dep) }) {
			missing = append(missing, it.ID+" "+it.Version)
		}
	}
	switch {
	case len(missing) == 0:
		c.OK = true
		return c.with(i18n.M("deployed lists every item the release installs"))
	case len(d.Deployed) == 0:
		return c.with(i18n.M("outcome succeeded but deployed is empty: list every item the release installs with its version and digest (%s), or record outcome failed or rolled-back with the rollback if the deployment did not complete", strings.Join(missing, ", ")))
	}
	return c.with(i18n.M("outcome succeeded but deployed does not list %s: list every item the release installs with its version and digest, or record outcome failed or rolled-back with the rollback if the deployment was partial", strings.Join(missing, ", ")))
}
