// Package quarter computes and renders the quarterly release management
// report: the number of releases of a quarter, the
// release success rate and its gap to the policy's target, counts and rates
// by release type, system and month, the failed releases with their problems
// and solutions, lead times and approval waiting times, failed releases
// without a retrospective and overdue improvement actions, and a chart of the
// last four quarters.
//
// Computing is a pure function of a loaded snapshot, the quarter and the
// time the report is "as of" (passed in, never read from the clock), so the
// same commit gives the same bytes. The API the write-back uses:
//
//	q, err := quarter.Parse("2026Q4")          // or quarter.Of(t, loc)
//	q.Previous(), q.Next(), q.Start(loc), q.End(loc)
//	data, err := quarter.Render(snap, q, "zh", "md", quarter.Options{})
//	p := quarter.Path(q, "zh", "md")           // reports/quarterly/2026Q4.zh.md
//
// Formats are "md", "json", "html" and "svg" (the chart alone); languages
// "zh" and "en". With zero Options the report is as of the quarter's end,
// which is what a completed quarter's report is; a report of a quarter still
// running is as of Options.Now and says it is provisional.
//
// A release belongs to the quarter in which its deployment finished
// (deployment.yaml finishedAt); a release without a deployment record belongs
// to the quarter its window starts in (release.yaml window.start). Quarters
// are taken in the policy's timezone (default Asia/Shanghai).
package quarter

import (
	"fmt"
	"path"
	"strconv"
	"time"

	"github.com/relgate/relgate/controller/document"
)

// Quarter is a calendar quarter: Q is 1 to 4.
type Quarter struct {
	Year int
	Q    int
}

// Parse reads a quarter written as 2026Q4.
func Parse(s string) (Quarter, error) {
	if !document.QuarterPattern.MatchString(s) {
		return Quarter{}, fmt.Errorf("quarter %q: want the form 2026Q4", s)
	}
	y, _ := strconv.Atoi(s[:4])
	return Quarter{Year: y, Q: int(s[5] - '0')}, nil
}

// Of returns the quarter a time falls in, in loc.
func Of(t time.Time, loc *time.Location) Quarter {
	t = t.In(loc)
	return Quarter{Year: t.Year(), Q: (int(t.Month())-1)/3 + 1}
}

// String writes the quarter as 2026Q4.
func (q Quarter) String() string { return fmt.Sprintf("%04dQ%d", q.Year, q.Q) }

// Previous is the quarter before q.
func (q Quarter) Previous() Quarter {
	if q.Q == 1 {
		return Quarter{Year: q.Year - 1, Q: 4}
	}
	return Quarter{Year: q.Year, Q: q.Q - 1}
}

// Next is the quarter after q.
func (q Quarter) Next() Quarter {
	if q.Q == 4 {
		return Quarter{Year: q.Year + 1, Q: 1}
	}
	return Quarter{Year: q.Year, Q: q.Q + 1}
}

// Start is the first instant of the quarter in loc.
func (q Quarter) Start(loc *time.Location) time.Time {
	return time.Date(q.Year, time.Month(3*(q.Q-1)+1), 1, 0, 0, 0, 0, loc)
}

// End is the first instant after the quarter in loc: the quarter is [Start, End).
func (q Quarter) End(loc *time.Location) time.Time { return q.Next().Start(loc) }

// Contains reports whether t falls in the quarter, in loc.
func (q Quarter) Contains(t time.Time, loc *time.Location) bool { return Of(t, loc) == q }

// Months returns the quarter's three months.
func (q Quarter) Months() [3]time.Month {
	m := time.Month(3*(q.Q-1) + 1)
	return [3]time.Month{m, m + 1, m + 2}
}

// Dir is where relgate writes quarterly reports in a release repository.
var Dir = path.Join(document.ReportsDir, "quarterly")

// Path is the fixed place of a quarter's report in one language and format:
// reports/quarterly/2026Q4.zh.md, 2026Q4.en.html, 2026Q4.zh.svg, 2026Q4.json.
// The JSON report holds data, not prose, so it has no language.
func Path(q Quarter, lang, format string) string {
	if format == "json" {
		return path.Join(Dir, q.String()+".json")
	}
	return path.Join(Dir, q.String()+"."+lang+"."+format)
}
