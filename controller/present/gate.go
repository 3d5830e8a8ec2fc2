package present

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
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

func verdict(l i18n.Lang, ok bool) string {
	if ok {
		return l.Sprintf("PASS")
	}
	return l.Sprintf("BLOCKED")
}

// WriteGateText writes the evaluation for a terminal, in English.
func WriteGateText(w io.Writer, rep *evaluate.GateReport) error {
	return WriteGateTextIn(w, i18n.English, rep)
}

// WriteGateTextIn writes the evaluation for a terminal in l: per release
// what the change touches, the approvals it records and whether they count,
// and each required gate.
func WriteGateTextIn(w io.Writer, l i18n.Lang, rep *evaluate.GateReport) error {
	var b strings.Builder
	b.WriteString(l.Sprintf("relgate gate %s..%s: %s\n", rep.Base, rep.Head, verdict(l, rep.Passed)))
	for _, wn := range rep.Warnings {
		b.WriteString(l.Sprintf("warning: %s\n", l.Known(wn)))
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "%s\n", f)
	}
	for _, p := range problems(l, rep.Problems, rep.ProblemTexts) {
		b.WriteString(l.Sprintf("problem: %s\n", p))
	}
	if rep.Policy != nil {
		writeResultText(&b, l, "relgate.yaml", *rep.Policy)
	}
	for _, g := range rep.Repository {
		writeResultText(&b, l, "changes/", g)
	}
	for _, r := range rep.Releases {
		b.WriteString(l.Sprintf("\n%s (state %s): %s\n", r.Release, i18n.State(r.State), verdict(l, r.Passed)))
		if len(r.Changed) > 0 {
			b.WriteString(l.Sprintf("  changes: %s\n", changeList(l, r.Changed)))
		}
		if len(r.Approvals) > 0 {
			b.WriteString(l.Sprintf("  approvals it records:\n"))
			for _, a := range r.Approvals {
				fmt.Fprintf(&b, "    - %s\n", addedApproval(l, a))
			}
		}
		if len(r.Required) == 0 {
			fmt.Fprintf(&b, "  %s\n", noGate(l, r))
		}
		for _, p := range problems(l, r.Problems, r.ProblemTexts) {
			b.WriteString(l.Sprintf("  problem: %s\n", p))
		}
		for _, g := range r.Gates {
			writeResultText(&b, l, "", g)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// problems are the problems in l: from their texts when the evaluation
// kept them (not after a round trip through JSON), else as written.
func problems(l i18n.Lang, ps []string, texts []i18n.Message) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if len(texts) == len(ps) {
			p = texts[i].In(l)
		}
		out[i] = l.Known(p)
	}
	return out
}

// changeList is the files a change touches, each with how.
func changeList(l i18n.Lang, cs []evaluate.FileChange) string {
	out := make(i18n.List, len(cs))
	for i, c := range cs {
		switch c.Change {
		case "added":
			out[i] = l.Sprintf("%s (added)", c.Path)
		case "deleted":
			out[i] = l.Sprintf("%s (deleted)", c.Path)
		default:
			out[i] = l.Sprintf("%s (modified)", c.Path)
		}
	}
	return out.In(l)
}

// addedApproval says what an approval the change records does.
func addedApproval(l i18n.Lang, a evaluate.AddedApproval) string {
	g, role := i18n.Gate(a.Gate), i18n.Role(a.Role)
	switch a.Effect {
	case "counts":
		return l.Sprintf("%s by %s (%s): counts", g, a.Person, role)
	case "rejects":
		return l.Sprintf("%s by %s (%s): rejects; the gate is blocked until they withdraw it", g, a.Person, role)
	case "not-counted":
		msg := a.Message
		if a.Text != nil {
			msg = a.Text.In(l)
		}
		return l.Sprintf("%s by %s (%s): does not count: %s: %s", g, a.Person, role, reason(l, a.Reason), msg)
	case "invalid":
		return l.Sprintf("%s by %s: the file is invalid and does not count; run relgate validate", g, a.Person)
	}
	return l.Sprintf("%s by %s (%s): no gate of this release decides it", g, a.Person, role)
}

// noGate says why a release's change needs no gate: the documents it
// touches belong to the step the release is in.
func noGate(l i18n.Lang, r evaluate.ReleaseGates) string {
	var docs i18n.List
	for _, c := range r.Changed {
		docs = append(docs, path.Base(c.Path))
	}
	if len(docs) == 0 {
		return l.Sprintf("no gate must pass for this change yet: it records no step past the one the release is in (%s)", i18n.State(r.State))
	}
	return l.Sprintf("no gate must pass for this change yet: %s belong to the step the release is in (%s); a gate must have passed only before a later step's documents are added (golive.yaml after plan-review, deployment.yaml after go-live-approval, closure.yaml after deployment-confirmation)",
		docs, i18n.State(r.State))
}

func writeResultText(b *strings.Builder, l i18n.Lang, what string, g gate.Result) {
	b.WriteString(l.Sprintf("  gate %s [%s]: %s\n", i18n.Gate(g.Gate).Labelled(l), g.Clause, verdict(l, g.Passed)))
	if what != "" {
		b.WriteString(l.Sprintf("    for %s\n", what))
	}
	for _, q := range g.Requirements {
		if len(q.Approved) > 0 {
			b.WriteString(l.Sprintf("    approved: %s by %s\n", roleOf(l, q), strings.Join(q.Approved, ", ")))
		}
	}
	for _, c := range g.Checks {
		if c.OK {
			b.WriteString(l.Sprintf("    ok: %s\n", c.MessageIn(l)))
		}
	}
	for _, m := range g.MissingIn(l) {
		b.WriteString(l.Sprintf("    missing: %s\n", m))
	}
	for _, ig := range g.Ignored {
		b.WriteString(l.Sprintf("    not counted: %s (%s): %s: %s\n", ig.Person, i18n.Role(ig.Role), reason(l, ig.Reason), ig.MessageIn(l)))
	}
}

// roleOf is a requirement's role, with the department of a department head.
func roleOf(l i18n.Lang, q gate.Requirement) string {
	role := i18n.Role(q.Role).In(l)
	if q.Department != "" {
		role += l.Sprintf(" (%s)", q.Department)
	}
	return role
}

// WriteGateMarkdown writes the evaluation as a pull request comment or check
// run summary, in English.
func WriteGateMarkdown(w io.Writer, rep *evaluate.GateReport) error {
	return WriteGateMarkdownIn(w, i18n.English, rep)
}

// WriteGateMarkdownIn writes the evaluation as Markdown in l.
func WriteGateMarkdownIn(w io.Writer, l i18n.Lang, rep *evaluate.GateReport) error {
	var b strings.Builder
	icon := map[bool]string{true: "✅", false: "⛔"}
	fmt.Fprintf(&b, "## relgate: %s %s\n\n", icon[rep.Passed], verdict(l, rep.Passed))
	b.WriteString(l.Sprintf("Base `%s` → head `%s`. Policy from base.\n\n", rep.Base, rep.Head))
	for _, wn := range rep.Warnings {
		fmt.Fprintf(&b, "> ⚠️ %s\n\n", l.Known(wn))
	}
	if len(rep.Findings) > 0 {
		b.WriteString(l.Sprintf("### Validation\n\n"))
		for _, f := range rep.Findings {
			fmt.Fprintf(&b, "- `%s:%d` %s: %s %s\n", f.File, f.Line, f.Severity, mdField(f), f.Clause)
		}
		b.WriteString("\n")
	}
	for _, p := range problems(l, rep.Problems, rep.ProblemTexts) {
		fmt.Fprintf(&b, "- ⛔ %s\n", p)
	}
	if rep.Policy != nil {
		b.WriteString(l.Sprintf("### relgate.yaml (policy change, R-7)\n\n"))
		writeResultMarkdown(&b, l, *rep.Policy)
	}
	for _, g := range rep.Repository {
		b.WriteString(l.Sprintf("### changes/ (change requests, R-9)\n\n"))
		writeResultMarkdown(&b, l, g)
	}
	for _, r := range rep.Releases {
		b.WriteString(l.Sprintf("### %s %s — state `%s`\n\n", icon[r.Passed], r.Release, i18n.State(r.State)))
		for _, p := range problems(l, r.Problems, r.ProblemTexts) {
			fmt.Fprintf(&b, "- ⛔ %s\n", p)
		}
		if len(r.Problems) > 0 {
			b.WriteString("\n")
		}
		if len(r.Changed) > 0 {
			b.WriteString(l.Sprintf("Changes: %s\n\n", changeList(l, r.Changed)))
		}
		if len(r.Approvals) > 0 {
			b.WriteString(l.Sprintf("Approvals it records:\n\n"))
			for _, a := range r.Approvals {
				fmt.Fprintf(&b, "- %s\n", addedApproval(l, a))
			}
			b.WriteString("\n")
		}
		if len(r.Required) == 0 {
			fmt.Fprintf(&b, "%s\n\n", capitalize(noGate(l, r)))
		}
		for _, g := range r.Gates {
			writeResultMarkdown(&b, l, g)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// capitalize starts an English sentence with a capital.
func capitalize(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func mdField(f finding.Finding) string {
	if f.Field == "" {
		return f.Message
	}
	return "`" + f.Field + "`: " + f.Message
}

func writeResultMarkdown(b *strings.Builder, l i18n.Lang, g gate.Result) {
	icon := map[bool]string{true: "✅", false: "⛔"}
	fmt.Fprintf(b, "#### %s `%s` (%s)\n\n", icon[g.Passed], i18n.Gate(g.Gate).Labelled(l), g.Clause)
	b.WriteString(l.Sprintf("| requirement | approved by | missing | may supply |\n"))
	b.WriteString("|---|---|---|---|\n")
	for _, q := range g.Requirements {
		fmt.Fprintf(b, "| %s × %d | %s | %d | %s |\n", roleOf(l, q), q.Need, strings.Join(q.Approved, ", "), q.Missing, strings.Join(q.Eligible, ", "))
	}
	b.WriteString("\n")
	for _, p := range g.Prerequisites {
		b.WriteString(l.Sprintf("- ⛔ gate %s must pass first\n", i18n.Gate(p)))
	}
	for _, c := range g.Checks {
		fmt.Fprintf(b, "- %s %s\n", icon[c.OK], c.MessageIn(l))
	}
	for _, j := range g.Rejections {
		b.WriteString(l.Sprintf("- ⛔ rejected by %s (%s): %s\n", j.Person, i18n.Role(j.Role), j.Comment))
	}
	for _, ig := range g.Ignored {
		b.WriteString(l.Sprintf("- ⚠️ not counted: %s (%s) — **%s**: %s\n", ig.Person, i18n.Role(ig.Role), reason(l, ig.Reason), ig.MessageIn(l)))
	}
	b.WriteString("\n")
}

// WriteGateGitHub writes annotations for the findings and a notice per
// blocked gate, in English.
func WriteGateGitHub(w io.Writer, rep *evaluate.GateReport, dir string) error {
	return WriteGateGitHubIn(w, i18n.English, rep, dir)
}

// WriteGateGitHubIn writes annotations in l.
func WriteGateGitHubIn(w io.Writer, l i18n.Lang, rep *evaluate.GateReport, dir string) error {
	// One list, so GitHub's limit on annotations counts everything once.
	extra := append([]finding.Finding(nil), rep.Findings...)
	for _, p := range problems(l, rep.Problems, rep.ProblemTexts) {
		extra = append(extra, finding.Finding{File: "relgate.yaml", Rule: "gate", Severity: finding.Error, Message: p})
	}
	if rep.Policy != nil && !rep.Policy.Passed {
		extra = append(extra, finding.Finding{File: "relgate.yaml", Rule: "gate", Clause: rep.Policy.Clause, Severity: finding.Error,
			Message: i18n.Gate(rep.Policy.Gate).In(l) + ": " + strings.Join(rep.Policy.MissingIn(l), "; ")})
	}
	for _, g := range rep.Repository {
		if !g.Passed {
			extra = append(extra, finding.Finding{File: "changes", Rule: "gate " + g.Gate, Clause: g.Clause, Severity: finding.Error,
				Message: i18n.Gate(g.Gate).In(l) + ": " + strings.Join(g.MissingIn(l), "; ")})
		}
	}
	for _, r := range rep.Releases {
		for _, p := range problems(l, r.Problems, r.ProblemTexts) {
			extra = append(extra, finding.Finding{File: "releases/" + r.Release + "/release.yaml", Rule: "gate", Severity: finding.Error, Message: p})
		}
		for _, g := range r.Gates {
			if !g.Passed {
				extra = append(extra, finding.Finding{File: "releases/" + r.Release + "/release.yaml", Rule: "gate " + g.Gate, Clause: g.Clause,
					Severity: finding.Error, Message: i18n.Gate(g.Gate).In(l) + ": " + strings.Join(g.MissingIn(l), "; ")})
			}
		}
	}
	return finding.WriteGitHub(w, extra, dir)
}
