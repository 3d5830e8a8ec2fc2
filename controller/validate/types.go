package validate

import (
	"slices"
	"sort"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/policy"
)

// checkTypeRules reports the problems of the policy's release type rules and
// exception role at their fields: a rule for a type the
// policy does not list, fields of another kind, gates and roles that do not
// exist, waivers of what must always be recorded, retrospective gates that
// come after the go-live.
func (c *checker) checkTypeRules() {
	const f = document.PolicyPath
	p := c.p
	if r := p.Policy.ExceptionRole; r != "" && !p.RoleDefined(r) {
		c.at(f, "R-5.1.6", "reference", c.t("role %s is not defined in roles", r), "exceptionRole")
	}
	names := make([]string, 0, len(p.TypeRules))
	for t := range p.TypeRules {
		names = append(names, t)
	}
	sort.Strings(names)
	releaseGate := func(id string) bool {
		g, ok := p.Gate(id)
		return ok && !g.Repository && id != policy.GateClosedReleaseChange
	}
	beforeGoLive := map[string]bool{policy.GatePlanReview: true, policy.GateTestAcceptance: true}
	for _, b := range []string{policy.GatePlanReview, policy.GateTestAcceptance, policy.GateGoLiveApproval} {
		for _, g := range p.GatesBefore(b) {
			beforeGoLive[g.ID] = true
		}
	}
	for _, t := range names {
		r := p.TypeRules[t]
		at := func(msg string, field ...string) {
			c.at(f, "R-5.1", "policy", msg, append([]string{"typeRules", t}, field...)...)
		}
		if !slices.Contains(p.ReleaseTypes(), t) {
			at(c.t("type %s is not one of the policy's release types %v", t, p.ReleaseTypes()))
		}
		if r.Kind != document.TypeStandard && (len(r.Waive) > 0 || len(r.Requires) > 0) {
			at(c.t("waive and requires are for standard types; a %s type follows its own rule", r.Kind), "kind")
		}
		if r.Kind != document.TypeEmergency && (r.Approver != "" || len(r.Retrospective) > 0 || r.RetrospectiveDays != 0) {
			at(c.t("approver, retrospective and retrospectiveDays are for emergency types; a %s type follows its own rule", r.Kind), "kind")
		}
		for i, g := range r.Waive {
			switch {
			case !releaseGate(g):
				at(c.t("gate %s is not a release gate of the policy", g), "waive", idx(i))
			case g == policy.GateDeploymentConfirmation || g == policy.GateClosure:
				at(c.t("gate %s records what happened and is never waived", g), "waive", idx(i))
			}
		}
		gates := make([]string, 0, len(r.Requires))
		for g := range r.Requires {
			gates = append(gates, g)
		}
		sort.Strings(gates)
		for _, g := range gates {
			if !releaseGate(g) {
				at(c.t("gate %s is not a release gate of the policy", g), "requires", g)
			}
			for j, q := range r.Requires[g] {
				if !p.RoleDefined(q.Role) {
					at(c.t("role %s is not defined in roles", q.Role), "requires", g, idx(j), "role")
				}
			}
		}
		if r.Approver != "" && !p.RoleDefined(r.Approver) {
			at(c.t("role %s is not defined in roles", r.Approver), "approver")
		}
		for i, g := range r.Retrospective {
			if !releaseGate(g) {
				at(c.t("gate %s is not a release gate of the policy", g), "retrospective", idx(i))
			} else if !beforeGoLive[g] {
				at(c.t("gate %s comes at or after the go-live; only gates before it can be given after the fact", g), "retrospective", idx(i))
			}
		}
	}
}
