package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/relgate/relgate/controller/writeback"
)

// Formats the audit commands write.
var Formats = []string{"text", "json", "md"}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func shortID(s string) string { return short(s) }

func who(p Person) string {
	s := fmt.Sprintf("%s <%s>", p.Name, p.Email)
	if p.Login != "" {
		s += " (" + p.Login + ")"
	}
	return s
}

func sig(ev Event) string {
	if ev.SignedBy != "" {
		return ev.Signature + " by " + ev.SignedBy
	}
	return ev.Signature
}

func changeLine(c Change) string {
	s := fmt.Sprintf("%s %s", c.Action, c.Path)
	if c.Kind != "" {
		s += " (" + string(c.Kind) + ")"
	}
	if c.Gate != "" {
		s += fmt.Sprintf(" approval of %s by %s", c.Gate, c.Person)
	}
	if len(c.Fields) > 0 && c.Action == "modified" {
		s += ": " + strings.Join(c.Fields, ", ")
	}
	return s
}

func approvalLine(a ApprovalState) string {
	s := fmt.Sprintf("%s by %s: %s", a.Gate, a.Person, a.Status)
	if a.Before != "" {
		s += " (was " + a.Before + ")"
	}
	if a.Message != "" {
		s += ": " + a.Message
	}
	return s
}

func decisionLine(d writeback.LoggedDecision) string {
	verdict := "allowed"
	if !d.Allowed {
		verdict = "refused"
	}
	s := fmt.Sprintf("deployment to %s %s at %s (requested by %s via %s", d.Environment, verdict, d.At, orDash(d.Requester), d.Source)
	if d.Run != "" {
		s += ", run " + d.Run
	}
	s += ")"
	for _, r := range d.Refused {
		s += "; " + r.ID + ": " + r.Message
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteTimeline renders a timeline as text, json or md.
func WriteTimeline(w io.Writer, tl *Timeline, format string) error {
	if format == "json" {
		return writeJSON(w, tl)
	}
	var b strings.Builder
	md := format == "md"
	if md {
		fmt.Fprintf(&b, "# Audit trail of %s\n\nFrom git history up to commit `%s`; %d commit(s).\n\n", tl.Release, tl.Tip, len(tl.Events))
	} else {
		fmt.Fprintf(&b, "audit trail of %s up to %s: %d commit(s)\n", tl.Release, shortID(tl.Tip), len(tl.Events))
	}
	for _, ev := range tl.Events {
		if md {
			fmt.Fprintf(&b, "## `%s` %s\n\n", shortID(ev.Commit), mdText(ev.Subject))
			fmt.Fprintf(&b, "- author: %s, %s\n- committer: %s, %s\n- signature: %s\n", mdText(who(ev.Author)), ev.Author.Time,
				mdText(who(ev.Committer)), ev.Committer.Time, sig(ev))
			if len(ev.Parents) > 1 {
				fmt.Fprintf(&b, "- merge of %d parents\n", len(ev.Parents))
			}
			if ev.State != "" {
				fmt.Fprintf(&b, "- state after: %s\n", ev.State)
			}
			for _, c := range ev.Changes {
				fmt.Fprintf(&b, "- %s\n", mdText(changeLine(c)))
			}
			for _, a := range ev.Approvals {
				fmt.Fprintf(&b, "- approval %s\n", mdText(approvalLine(a)))
			}
			for _, d := range ev.Deployments {
				fmt.Fprintf(&b, "- %s\n", mdText(decisionLine(d)))
			}
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, "\n%s %s  %s\n", shortID(ev.Commit), ev.Author.Time, ev.Subject)
		fmt.Fprintf(&b, "  author:    %s\n", who(ev.Author))
		if ev.Committer.Email != ev.Author.Email || ev.Committer.Name != ev.Author.Name || ev.Committer.Time != ev.Author.Time {
			fmt.Fprintf(&b, "  committer: %s %s\n", who(ev.Committer), ev.Committer.Time)
		}
		fmt.Fprintf(&b, "  signature: %s\n", sig(ev))
		if len(ev.Parents) > 1 {
			fmt.Fprintf(&b, "  merge of:  %s\n", strings.Join(shortAll(ev.Parents), ", "))
		}
		if ev.State != "" {
			fmt.Fprintf(&b, "  state:     %s\n", ev.State)
		}
		for _, c := range ev.Changes {
			fmt.Fprintf(&b, "  %s\n", changeLine(c))
		}
		for _, a := range ev.Approvals {
			fmt.Fprintf(&b, "  approval %s\n", approvalLine(a))
		}
		for _, d := range ev.Deployments {
			fmt.Fprintf(&b, "  %s\n", decisionLine(d))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shortAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, s := range ids {
		out[i] = shortID(s)
	}
	return out
}

func mdText(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteVerify renders a verify report as text, json or md.
func WriteVerify(w io.Writer, rep *VerifyReport, format string) error {
	if format == "json" {
		return writeJSON(w, rep)
	}
	var b strings.Builder
	verdict := "PASS"
	if !rep.Passed {
		verdict = "VIOLATIONS"
	}
	if format == "md" {
		fmt.Fprintf(&b, "# relgate audit verify: %s\n\n%d commit(s) on the first-parent history up to `%s`, %d evaluated.\n\n",
			verdict, rep.Commits, rep.Tip, rep.Checked)
		if len(rep.Violations) > 0 {
			b.WriteString("| commit | rule | release | clause | violation |\n|---|---|---|---|---|\n")
			for _, v := range rep.Violations {
				fmt.Fprintf(&b, "| `%s` %s | %s | %s | %s | %s |\n", shortID(v.Commit), mdText(v.Subject), v.Rule, v.Release, v.Clause, mdText(v.Message))
			}
			b.WriteString("\n")
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "- note: `%s`: %s\n", shortID(n.Commit), mdText(n.Message))
		}
	} else {
		fmt.Fprintf(&b, "relgate audit verify up to %s: %s (%d commits, %d evaluated, %d violation(s))\n",
			shortID(rep.Tip), verdict, rep.Commits, rep.Checked, len(rep.Violations))
		for _, v := range rep.Violations {
			clause := ""
			if v.Clause != "" {
				clause = " [" + v.Clause + "]"
			}
			fmt.Fprintf(&b, "violation: commit %s (%s): %s%s: %s\n", shortID(v.Commit), v.Subject, v.Rule, clause, v.Message)
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "note: commit %s: %s\n", shortID(n.Commit), n.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
