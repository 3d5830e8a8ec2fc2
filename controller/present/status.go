// Package present renders evaluations for people and tools: status and gate
// results as text, JSON (a stable, documented shape) and Markdown.
package present

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
)

// StatusAPIVersion versions the JSON shape of StatusReport; change
// management polls it, so fields are only ever added.
const StatusAPIVersion = "relgate.dev/v1"

// StatusReport is the JSON form of `relgate status`.
type StatusReport struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Revision   string        `json:"revision"`
	Warnings   []string      `json:"warnings"`
	Releases   []gate.Status `json:"releases"`
}

// WriteStatusJSON writes a StatusReport.
func WriteStatusJSON(w io.Writer, revision string, warnings []string, st []gate.Status) error {
	if warnings == nil {
		warnings = []string{}
	}
	if st == nil {
		st = []gate.Status{}
	}
	st = append([]gate.Status(nil), st...)
	for i := range st {
		st[i].Gates = normalResults(st[i].Gates)
		if st[i].Gates == nil {
			st[i].Gates = []gate.Result{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(StatusReport{APIVersion: StatusAPIVersion, Kind: "StatusReport", Revision: revision, Warnings: warnings, Releases: st})
}

// WriteStatusText writes the status for people in English.
func WriteStatusText(w io.Writer, warnings []string, st []gate.Status) error {
	return WriteStatusTextIn(w, i18n.English, warnings, st)
}

// WriteStatusTextIn writes one block per release in l: state, gates passed,
// for the next gate what is missing and who may supply it, and every
// recorded approval that does not count, with why and what to do.
func WriteStatusTextIn(w io.Writer, l i18n.Lang, warnings []string, st []gate.Status) error {
	var b strings.Builder
	for _, wn := range warnings {
		b.WriteString(l.Sprintf("warning: %s\n", l.Known(wn)))
	}
	for i, s := range st {
		if i > 0 || len(warnings) > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s  %s\n", s.Release, s.Title)
		b.WriteString(l.Sprintf("  state:   %s", i18n.State(s.State)))
		if s.Outcome != "" {
			b.WriteString(l.Sprintf(" (deployment %s)", i18n.Outcome(s.Outcome)))
		}
		b.WriteString("\n")
		passed := l.Sprintf("none")
		if len(s.Passed) > 0 {
			passed = gateList(s.Passed).In(l)
		}
		b.WriteString(l.Sprintf("  passed:  %s\n", passed))
		if next, ok := s.Gate(s.Next); ok {
			b.WriteString(l.Sprintf("  next:    %s [%s]\n", i18n.Gate(next.Gate).Labelled(l), next.Clause))
			for _, m := range next.MissingIn(l) {
				fmt.Fprintf(&b, "    - %s\n", m)
			}
		}
		for _, g := range s.Gates {
			for _, ig := range g.Ignored {
				b.WriteString(l.Sprintf("  not counted: %s by %s (%s): %s: %s\n", i18n.Gate(g.Gate), ig.Person, i18n.Role(ig.Role), reason(l, ig.Reason), ig.MessageIn(l)))
			}
		}
		for _, r := range s.Retrospectives {
			b.WriteString(l.Sprintf("  retrospective: %s %s\n", i18n.Gate(r.Gate), retrospectiveState(l, r)))
		}
		for i, v := range s.Violations {
			if i < len(s.ViolationTexts) {
				v = s.ViolationTexts[i].In(l)
			}
			b.WriteString(l.Sprintf("  violation: %s\n", v))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// gateList is gate ids as words to read.
func gateList(ids []string) i18n.List {
	out := make(i18n.List, len(ids))
	for i, id := range ids {
		out[i] = i18n.Gate(id)
	}
	return out
}

// reason is why an approval does not count: the id in English (tools and
// people grep it), the word and the id in Chinese.
func reason(l i18n.Lang, id string) string {
	return i18n.Reason(id).Labelled(l)
}

// retrospectiveState says where a retrospective gate of an emergency
// release stands: passed, owed by its due date, or overdue.
func retrospectiveState(l i18n.Lang, r gate.Retrospective) string {
	switch {
	case r.Passed:
		return l.Sprintf("passed")
	case r.Due == "":
		return l.Sprintf("owed: due a set number of days after the deployment is recorded")
	case r.Overdue:
		return l.Sprintf("OVERDUE: was due %s", r.Due)
	default:
		return l.Sprintf("owed: due %s", r.Due)
	}
}
