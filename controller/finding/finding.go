// Package finding is the one shape of a problem relgate reports about a
// release repository, and its renderings: text for people, JSON for tools and
// GitHub Actions workflow commands for annotations on pull requests.
package finding

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Severity says whether a finding blocks.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem at a place in a file.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Field    string   `json:"field,omitempty"`  // field path, e.g. rollback.pointInTime
	Clause   string   `json:"clause,omitempty"` // procedure clause, e.g.
	Rule     string   `json:"rule"`             // stable rule name, e.g. schema, id-mismatch
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Sort orders findings by file, line, column, then message, so output is deterministic.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Message < b.Message
	})
}

// Errors counts the findings that block.
func Errors(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

// String renders one finding as file:line:col: severity: field: message [clause].
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", f.Line, max(f.Column, 1))
	}
	fmt.Fprintf(&b, ": %s: ", f.Severity)
	if f.Field != "" {
		b.WriteString(f.Field + ": ")
	}
	b.WriteString(f.Message)
	if f.Clause != "" {
		b.WriteString(" [" + f.Clause + "]")
	}
	return b.String()
}

// WriteText writes one finding per line and a summary.
func WriteText(w io.Writer, fs []Finding, what string) error {
	for _, f := range fs {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	errs := Errors(fs)
	var err error
	switch {
	case errs == 0 && len(fs) == 0:
		_, err = fmt.Fprintf(w, "%s: valid\n", what)
	case errs == 0:
		_, err = fmt.Fprintf(w, "%s: valid, %d warning(s)\n", what, len(fs))
	default:
		_, err = fmt.Fprintf(w, "%s: %d error(s), %d warning(s)\n", what, errs, len(fs)-errs)
	}
	return err
}

// Report is the JSON form of a validation (kind ValidationReport, described
// by schemas/output/validation-report.schema.json).
type Report struct {
	APIVersion   string `json:"apiVersion"`
	Kind         string `json:"kind"`
	Valid        bool   `json:"valid"`
	Revision     string `json:"revision"`
	ErrorCount   int    `json:"errorCount"`
	WarningCount int    `json:"warningCount"`
	// Warnings are the warning findings as text, the shape every other
	// output's warnings have; Findings has them all in full.
	Warnings []string  `json:"warnings"`
	Findings []Finding `json:"findings"`
}

// WriteJSON writes the findings as a Report.
func WriteJSON(w io.Writer, fs []Finding, revision string) error {
	errs := Errors(fs)
	if fs == nil {
		fs = []Finding{}
	}
	warnings := []string{}
	for _, f := range fs {
		if f.Severity == Warning {
			warnings = append(warnings, f.String())
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Report{APIVersion: "relgate.dev/v1", Kind: "ValidationReport", Valid: errs == 0, Revision: revision,
		ErrorCount: errs, WarningCount: len(fs) - errs, Warnings: warnings, Findings: fs})
}

// MaxAnnotations is how many annotations of one severity GitHub shows for a
// step; more are dropped silently, so relgate writes that many and says where
// the rest are (the job summary, WriteMarkdown).
const MaxAnnotations = 10

// WriteGitHub writes GitHub Actions workflow commands, which the runner turns
// into annotations on the pull request's files: the first MaxAnnotations
// errors and warnings (errors first, as Sort orders them), then a notice of
// how many more the job summary lists. dir is the release repository's path
// relative to the checkout, prefixed to every file.
func WriteGitHub(w io.Writer, fs []Finding, dir string) error {
	shown := map[Severity]int{}
	hidden := 0
	for _, f := range fs {
		if shown[f.Severity] >= MaxAnnotations {
			hidden++
			continue
		}
		shown[f.Severity]++
		file := f.File
		if dir != "" && dir != "." {
			file = strings.TrimSuffix(dir, "/") + "/" + file
		}
		props := "file=" + escapeProperty(file)
		if f.Line > 0 {
			props += fmt.Sprintf(",line=%d,col=%d", f.Line, max(f.Column, 1))
		}
		title := "relgate " + f.Rule
		if f.Clause != "" {
			title += " " + f.Clause
		}
		props += ",title=" + escapeProperty(title)
		msg := f.Message
		if f.Field != "" {
			msg = f.Field + ": " + msg
		}
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", f.Severity, props, escapeData(msg)); err != nil {
			return err
		}
	}
	if hidden > 0 {
		_, err := fmt.Fprintf(w, "::notice title=relgate::%s\n", escapeData(fmt.Sprintf(
			"%d more problem(s) than GitHub shows as annotations; the job summary lists all %d / 另有 %d 个问题未显示为注释，作业摘要中列出了全部 %d 个", hidden, len(fs), hidden, len(fs))))
		return err
	}
	return nil
}

// WriteMarkdown writes every finding as a table, for a job summary or a
// comment: where GitHub's annotations stop, this goes on.
func WriteMarkdown(w io.Writer, fs []Finding, what string) error {
	var b strings.Builder
	errs := Errors(fs)
	icon := "✅"
	if errs > 0 {
		icon = "⛔"
	}
	fmt.Fprintf(&b, "## relgate validate: %s %s — %d error(s), %d warning(s)\n\n", icon, mdCell(what), errs, len(fs)-errs)
	if len(fs) > 0 {
		b.WriteString("| file | line | severity | field | problem | clause |\n|---|---|---|---|---|---|\n")
		for _, f := range fs {
			line := ""
			if f.Line > 0 {
				line = fmt.Sprint(f.Line)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", mdCell(f.File), line, f.Severity, mdCell(f.Field), mdCell(f.Message), mdCell(f.Clause))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell keeps a value inside one Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "`", "'").Replace(s)
}

// Escaping as GitHub's runner (actions/toolkit command.ts) expects.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// FieldPath writes a field's path as findings name it: a.b[0].c.
func FieldPath(field []string) string {
	out := ""
	for _, f := range field {
		if _, err := strconv.Atoi(f); err == nil {
			out += "[" + f + "]"
			continue
		}
		if out != "" {
			out += "."
		}
		out += f
	}
	return out
}
