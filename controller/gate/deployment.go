package gate

import (
	"slices"
	"strings"

	"github.com/relgate/relgate/controller/document"
)

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
	if d.Outcome == document.OutcomeSucceeded && r.TestReport == nil {
		out = append(out, Check{Name: "deployed-as-tested", Clause: "R-3.1", File: c.File, Field: "deployed",
			Message: "the release has no test report: nothing deployed was tested"})
	}
	if d.Outcome == document.OutcomeSucceeded && r.TestReport != nil {
		var differ []string
		for _, dep := range d.Deployed {
			if !slices.ContainsFunc(r.TestReport.Artifacts, func(a document.VersionRef) bool {
				return a.Item == dep.Item && a.Version == dep.Version && a.Digest == dep.Digest
			}) {
				differ = append(differ, dep.Item+" "+dep.Version)
			}
		}
		out = append(out, Check{Name: "deployed-as-tested", Clause: "R-3.1", OK: len(differ) == 0, File: c.File, Field: "deployed",
			Message: ifElse(len(differ) == 0, "the versions deployed are the versions tested",
				"deployed versions that were not tested (version or digest differ): "+strings.Join(differ, ", "))})
	}
	if d.Outcome == document.OutcomeFailed || d.Outcome == document.OutcomeRolledBack {
		rb := d.Rollback
		ok := rb != nil && rb.Executed && rb.SurroundingSystemsNotified
		out = append(out, Check{Name: "rollback-carried-out", Clause: "R-5.1.2", OK: ok, File: c.File, Field: "rollback",
			Message: ifElse(ok, "the rollback plan was carried out and the surrounding systems were told",
				"a failed deployment records that the rollback plan was carried out (rollback.executed) and the surrounding systems were told (rollback.surroundingSystemsNotified)")})
	}
	return out
}
