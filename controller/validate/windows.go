package validate

import (
	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/document"
)

// checkWindows reports the problems of the policy's maintenance windows and
// freezes at their fields; package calendar reads
// them, in both languages, exactly as the gate will. Problems of
// blackoutWindows are checkPolicy's. The policy lists no systems, so a
// system name is not checked; overlapping windows are allowed.
func (c *checker) checkWindows() {
	_, errs := calendar.FromPolicy(c.p.Policy, c.p.Location)
	for _, e := range errs {
		clause := "R-5.1.5"
		if len(e.Field) > 0 && e.Field[0] == "freezes" {
			clause = "R-5.1.6"
		}
		line, col := c.s.Locate(document.PolicyPath, e.Field...)
		msg := e.Zh // as lit: every language but English reads Chinese
		if c.lang == "en" {
			msg = e.Msg
		}
		c.add(document.PolicyPath, line, col, fieldPath(e.Field), clause, "policy", msg)
	}
}
