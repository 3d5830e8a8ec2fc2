package present

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gate"
)

// WriteGateJSON writes a GateReport.
func WriteGateJSON(w io.Writer, rep *evaluate.GateReport) error {
	out := *rep
	if out.Policy != nil {
		p := normalResult(*out.Policy)
		out.Policy = &p
	}
	out.Repository = normalResults(out.Repository)
	out.Releases = append([]evaluate.ReleaseGates(nil), out.Releases...)
	for i := range out.Releases {
		out.Releases[i].Gates = normalResults(out.Releases[i].Gates)
	}
	rep = &out
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// normalResult writes empty lists as [] rather than null: the documented
// shape (schemas/output) has arrays, and tools index them.
func normalResult(g gate.Result) gate.Result {
	if g.Requirements == nil {
		g.Requirements = []gate.Requirement{}
	}
	if g.Checks == nil {
		g.Checks = []gate.Check{}
	}
	for i, q := range g.Requirements {
		if q.Approved == nil {
			g.Requirements[i].Approved = []string{}
		}
		if q.Eligible == nil {
			g.Requirements[i].Eligible = []string{}
		}
	}
	return g
}

func normalResults(gs []gate.Result) []gate.Result {
	if gs == nil {
		return nil
	}
	out := make([]gate.Result, len(gs))
	for i, g := range gs {
		out[i] = normalResult(g)
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "BLOCKED"
}

// WriteGateText writes the evaluation for a terminal.
func WriteGateText(w io.Writer, rep *evaluate.GateReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "relgate gate %s..%s: %s\n", rep.Base, rep.Head, verdict(rep.Passed))
	for _, wn := range rep.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "%s\n", f)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	if rep.Policy != nil {
		writeResultText(&b, "relgate.yaml", *rep.Policy)
	}
	for _, g := range rep.Repository {
		writeResultText(&b, "changes/", g)
	}
	for _, r := range rep.Releases {
		fmt.Fprintf(&b, "\n%s (state %s): %s\n", r.Release, r.State, verdict(r.Passed))
		if len(r.Required) == 0 {
			b.WriteString("  no lifecycle step asserted; no gate required\n")
		}
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  problem: %s\n", p)
		}
		for _, g := range r.Gates {
			writeResultText(&b, "", g)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeResultText(b *strings.Builder, what string, g gate.Result) {
	fmt.Fprintf(b, "  gate %s [%s]: %s\n", g.Gate, g.Clause, verdict(g.Passed))
	if what != "" {
		fmt.Fprintf(b, "    for %s\n", what)
	}
	for _, q := range g.Requirements {
		role := q.Role
		if q.Department != "" {
			role += " (" + q.Department + ")"
		}
		if len(q.Approved) > 0 {
			fmt.Fprintf(b, "    approved: %s by %s\n", role, strings.Join(q.Approved, ", "))
		}
	}
	for _, c := range g.Checks {
		if c.OK {
			fmt.Fprintf(b, "    ok: %s\n", c.Message)
		}
	}
	for _, m := range g.Missing() {
		fmt.Fprintf(b, "    missing: %s\n", m)
	}
	for _, ig := range g.Ignored {
		fmt.Fprintf(b, "    not counted: %s (%s): %s: %s\n", ig.Person, ig.Role, ig.Reason, ig.Message)
	}
}

// WriteGateMarkdown writes the evaluation as a pull request comment or check run summary.
func WriteGateMarkdown(w io.Writer, rep *evaluate.GateReport) error {
	var b strings.Builder
	icon := map[bool]string{true: "✅", false: "⛔"}
	fmt.Fprintf(&b, "## relgate: %s %s\n\n", icon[rep.Passed], verdict(rep.Passed))
	fmt.Fprintf(&b, "Base `%s` → head `%s`. Policy from base.\n\n", rep.Base, rep.Head)
	for _, wn := range rep.Warnings {
		fmt.Fprintf(&b, "> ⚠️ %s\n\n", wn)
	}
	if len(rep.Findings) > 0 {
		b.WriteString("### Validation\n\n")
		for _, f := range rep.Findings {
			fmt.Fprintf(&b, "- `%s:%d` %s: %s %s\n", f.File, f.Line, f.Severity, mdField(f), f.Clause)
		}
		b.WriteString("\n")
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "- ⛔ %s\n", p)
	}
	if rep.Policy != nil {
		b.WriteString("### relgate.yaml (policy change, R-7)\n\n")
		writeResultMarkdown(&b, *rep.Policy)
	}
	for _, g := range rep.Repository {
		b.WriteString("### changes/ (change requests, R-9)\n\n")
		writeResultMarkdown(&b, g)
	}
	for _, r := range rep.Releases {
		fmt.Fprintf(&b, "### %s %s — state `%s`\n\n", icon[r.Passed], r.Release, r.State)
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "- ⛔ %s\n", p)
		}
		if len(r.Required) == 0 {
			b.WriteString("No lifecycle step asserted; no gate required.\n\n")
		}
		for _, g := range r.Gates {
			writeResultMarkdown(&b, g)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdField(f finding.Finding) string {
	if f.Field == "" {
		return f.Message
	}
	return "`" + f.Field + "`: " + f.Message
}

func writeResultMarkdown(b *strings.Builder, g gate.Result) {
	icon := map[bool]string{true: "✅", false: "⛔"}
	fmt.Fprintf(b, "#### %s `%s` (%s)\n\n", icon[g.Passed], g.Gate, g.Clause)
	b.WriteString("| requirement | approved by | missing | may supply |\n|---|---|---|---|\n")
	for _, q := range g.Requirements {
		role := q.Role
		if q.Department != "" {
			role += " (" + q.Department + ")"
		}
		fmt.Fprintf(b, "| %s × %d | %s | %d | %s |\n", role, q.Need, strings.Join(q.Approved, ", "), q.Missing, strings.Join(q.Eligible, ", "))
	}
	b.WriteString("\n")
	for _, c := range g.Checks {
		fmt.Fprintf(b, "- %s %s\n", icon[c.OK], c.Message)
	}
	for _, j := range g.Rejections {
		fmt.Fprintf(b, "- ⛔ rejected by %s (%s): %s\n", j.Person, j.Role, j.Comment)
	}
	for _, ig := range g.Ignored {
		fmt.Fprintf(b, "- ⚠️ not counted: %s (%s) — **%s**: %s\n", ig.Person, ig.Role, ig.Reason, ig.Message)
	}
	b.WriteString("\n")
}

// WriteGateGitHub writes annotations for the findings and a notice per blocked gate.
func WriteGateGitHub(w io.Writer, rep *evaluate.GateReport, dir string) error {
	// One list, so GitHub's limit on annotations counts everything once.
	extra := append([]finding.Finding(nil), rep.Findings...)
	for _, p := range rep.Problems {
		extra = append(extra, finding.Finding{File: "relgate.yaml", Rule: "gate", Severity: finding.Error, Message: p})
	}
	if rep.Policy != nil && !rep.Policy.Passed {
		extra = append(extra, finding.Finding{File: "relgate.yaml", Rule: "gate", Clause: rep.Policy.Clause, Severity: finding.Error,
			Message: "policy-change: " + strings.Join(rep.Policy.Missing(), "; ")})
	}
	for _, g := range rep.Repository {
		if !g.Passed {
			extra = append(extra, finding.Finding{File: "changes", Rule: "gate " + g.Gate, Clause: g.Clause, Severity: finding.Error,
				Message: g.Gate + ": " + strings.Join(g.Missing(), "; ")})
		}
	}
	for _, r := range rep.Releases {
		for _, p := range r.Problems {
			extra = append(extra, finding.Finding{File: "releases/" + r.Release + "/release.yaml", Rule: "gate", Severity: finding.Error, Message: p})
		}
		for _, g := range r.Gates {
			if !g.Passed {
				extra = append(extra, finding.Finding{File: "releases/" + r.Release + "/release.yaml", Rule: "gate " + g.Gate, Clause: g.Clause,
					Severity: finding.Error, Message: g.Gate + ": " + strings.Join(g.Missing(), "; ")})
			}
		}
	}
	return finding.WriteGitHub(w, extra, dir)
}
