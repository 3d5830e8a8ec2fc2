// Package present renders evaluations for people and tools: status and gate
// results as text, JSON (a stable, documented shape) and Markdown.
package present

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/relgate/relgate/controller/gate"
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

// WriteStatusText writes one block per release: state, gates passed, and for
// the next gate what is missing and who may supply it.
func WriteStatusText(w io.Writer, warnings []string, st []gate.Status) error {
	var b strings.Builder
	for _, wn := range warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	for i, s := range st {
		if i > 0 || len(warnings) > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s  %s\n", s.Release, s.Title)
		fmt.Fprintf(&b, "  state:   %s", s.State)
		if s.Outcome != "" {
			fmt.Fprintf(&b, " (deployment %s)", s.Outcome)
		}
		b.WriteString("\n")
		passed := "none"
		if len(s.Passed) > 0 {
			passed = strings.Join(s.Passed, ", ")
		}
		fmt.Fprintf(&b, "  passed:  %s\n", passed)
		if next, ok := s.Gate(s.Next); ok {
			fmt.Fprintf(&b, "  next:    %s [%s]\n", next.Gate, next.Clause)
			for _, m := range next.Missing() {
				fmt.Fprintf(&b, "    - %s\n", m)
			}
		}
		for _, g := range s.Gates {
			for _, ig := range g.Ignored {
				fmt.Fprintf(&b, "  not counted: %s by %s (%s): %s: %s\n", g.Gate, ig.Person, ig.Role, ig.Reason, ig.Message)
			}
		}
		for _, v := range s.Violations {
			fmt.Fprintf(&b, "  violation: %s\n", v)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
