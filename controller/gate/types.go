package gate

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/policy"
)

// standard reports whether the release may use its standard type's rule:
// it cites an approved change request of type standard kept in this
// repository (an external change's type cannot be read here, so it does
// not count: fail closed). R-9.
func (e *evaluator) standard() bool {
	if e.rule.Kind != document.TypeStandard {
		return false
	}
	if e.standardOf == nil {
		id := ""
		if rel := e.in.Release.Release; rel != nil && e.in.Lookup != nil {
			for _, c := range rel.Changes {
				if c.External {
					continue
				}
				ch, _, err := e.in.Lookup.Change(c.ID)
				if err != nil {
					e.fail(err)
					break
				}
				if ch != nil && ch.Type == document.TypeStandard && (ch.Status == "approved" || ch.Status == "implemented" || ch.Status == "closed") {
					id = c.ID
					break
				}
			}
		}
		e.standardOf = &id
	}
	return *e.standardOf != ""
}

// waived is the check of a gate a standard release does not need.
func (e *evaluator) waived(g policy.Gate) Check {
	return Check{Name: "waived", Clause: "R-5.1, R-9", OK: true, File: document.ReleaseDir(e.in.Release.ID) + "/release.yaml", Field: "type"}.with(
		i18n.M("waived: a %s release citing standard change %s does not need this gate (policy typeRules)", e.in.Release.Release.Type, *e.standardOf))
}

// standardCheck fails a standard release's plan review while it cites no
// approved standard change: the pre-approval is the change's.
func (e *evaluator) standardCheck() Check {
	return Check{Name: "standard-change", Clause: "R-9", OK: false, File: document.ReleaseDir(e.in.Release.ID) + "/release.yaml", Field: "changes"}.with(
		i18n.M("a %s release must cite an approved change request of type standard; cite one in changes, or choose another release type", e.in.Release.Release.Type))
}

// emergencyGoLive decides an emergency release's go-live approval on its
// type's rule: one approval of the rule's approver, bound to the gate's
// digest, the go-live documents complete, the calendar's exception when
// the window conflicts, and every gate passed that is not owed
// retrospectively. A rejection the normal evaluation saw still blocks, and
// so does one of a gate owed retrospectively.
func (e *evaluator) emergencyGoLive(g policy.Gate, normal Result, passed map[string]bool, earlier []Result) (Result, bool) {
	if len(normal.Rejections) > 0 || e.in.Release.Release == nil {
		return normal, false
	}
	// A standing rejection of a gate owed afterwards blocks too: the
	// emergency path defers a review, it does not overrule one.
	for _, r := range earlier {
		if slices.Contains(e.rule.Retrospective, r.Gate) && len(r.Rejections) > 0 {
			return normal, false
		}
	}
	alt := Result{Gate: g.ID, Clause: g.Clause, Digest: e.in.Digests[g.ID], Requirements: []Requirement{}, Checks: e.goLiveChecks()}
	reqs := []document.Requirement{{Role: e.rule.Approver, Count: 1}}
	reqs = e.withConflicts(e.conflicts(), reqs, &alt)
	e.emergency = true
	e.approvals(g, reqs, &alt)
	e.emergency = false
	e.excepted(&alt)
	var pre []string
	for _, id := range append(e.prereqs(g.ID), gateIDs(e.in.Policy.GatesBefore(g.ID))...) {
		if !slices.Contains(e.rule.Retrospective, id) {
			pre = append(pre, id)
		}
	}
	alt.Prerequisites = e.unmet(passed, pre)
	alt.Passed = len(alt.Prerequisites) == 0 && len(alt.Rejections) == 0
	for _, c := range alt.Checks {
		alt.Passed = alt.Passed && c.OK
	}
	for _, q := range alt.Requirements {
		alt.Passed = alt.Passed && q.Missing == 0
	}
	if !alt.Passed {
		return normal, false
	}
	var owed i18n.List
	for _, id := range e.rule.Retrospective {
		owed = append(owed, i18n.Gate(id))
	}
	alt.Checks = append(alt.Checks, Check{Name: "emergency", Clause: "R-5.1", OK: true, File: document.ReleaseDir(e.in.Release.ID) + "/release.yaml", Field: "type"}.with(
		i18n.M("an emergency release goes live on the approval of %s; %s are due within %s days after the deployment", i18n.Role(e.rule.Approver), owed, fmt.Sprint(e.rule.RetrospectiveDays))))
	alt.Ignored = mergeIgnored(alt, normal)
	return alt, true
}

// mergeIgnored is what the emergency path and the normal evaluation of a
// go-live both left uncounted: an approval one of them counted is not "not
// required" by the other, and each entry is listed once.
func mergeIgnored(alt, normal Result) []Ignored {
	counted := map[string]bool{}
	for _, r := range [][]Requirement{alt.Requirements, normal.Requirements} {
		for _, q := range r {
			for _, p := range q.Approved {
				counted[p] = true
			}
		}
	}
	var out []Ignored
	seen := map[[3]string]bool{}
	for _, ig := range append(slices.Clone(alt.Ignored), normal.Ignored...) {
		k := [3]string{ig.Person, ig.File, ig.Reason}
		if seen[k] || ig.Reason == "not-required" && counted[ig.Person] {
			continue
		}
		seen[k] = true
		out = append(out, ig)
	}
	return out
}

func gateIDs(gs []policy.Gate) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

// retrospectiveOnly reports whether, on an emergency release's go-live,
// an approval given to other documents still counts: every document that
// changed since is one only the retrospective gates review (the plan and
// test report written after the fact, say), and history says which
// changed. A change to release.yaml, the go-live plan or the
// communication always needs a new approval.
func (e *evaluator) retrospectiveOnly(v Vote) bool {
	if !e.emergency || len(v.ChangedSince) == 0 {
		return false
	}
	later := map[string]bool{}
	for _, id := range e.rule.Retrospective {
		if g, ok := e.in.Policy.Gate(id); ok {
			for _, f := range e.covered(g) {
				later[f] = true
			}
		}
	}
	for _, f := range []string{"release.yaml", "golive.yaml", "communication.yaml"} {
		delete(later, f)
	}
	for _, c := range v.ChangedSince {
		file, _, _ := strings.Cut(c, " in ")
		if !later[file] {
			return false
		}
	}
	return true
}

// retrospectives are the gates an emergency release owes, each due
// RetrospectiveDays after its deployment finished (no deployment yet: not
// due yet; a time that cannot be read: due at once).
func (e *evaluator) retrospectives(deferred, passed map[string]bool) []Retrospective {
	if len(deferred) == 0 {
		return nil
	}
	due := ""
	if d := e.in.Release.Deployment; d != nil {
		if t, err := document.ParseTime(d.FinishedAt); err == nil {
			due = t.Add(time.Duration(e.rule.RetrospectiveDays) * 24 * time.Hour).In(e.in.Policy.Location).Format(time.RFC3339)
		} else {
			due = "(the deployment's finishedAt cannot be read)"
		}
	}
	var out []Retrospective
	for id := range deferred {
		out = append(out, Retrospective{Gate: id, Due: due, Passed: passed[id]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Gate < out[j].Gate })
	return out
}
