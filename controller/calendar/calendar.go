// Package calendar is the arithmetic of the policy's change calendar:
// recurring maintenance windows per system, freezes global
// or per system, their occurrences in a range, and whether a
// release window lies inside a maintenance window or overlaps a freeze. It
// does no I/O and reads no clock: callers pass every time in.
//
// Intervals are half-open, [Start, End): a window that closes at 04:00 and
// a release that starts at 04:00 do not overlap.
//
// Wall clock and daylight saving: a rule names local wall-clock times in
// the policy's timezone, and they open as cronspec runs a schedule. A time
// skipped when clocks go forward opens at the end of the gap (02:30 on
// 2027-03-14 in America/New_York opens at 03:00 EDT); a time repeated when
// clocks go back opens once, at its first occurrence (01:30 on 2027-11-07
// opens at 01:30 EDT). The duration is elapsed time: a 6h window that
// opens at 22:00 EDT on 2027-11-06 closes 6 hours later, at 03:00 EST,
// not at 04:00 wall time. That is what the people doing the work have, and
// it keeps every occurrence exactly as long as the policy says.
package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
)

// MaxDuration is the longest maintenance window.
const MaxDuration = 7 * 24 * time.Hour

// Interval is the half-open span [Start, End).
type Interval struct {
	Start, End time.Time
}

// Overlaps reports whether a and b share an instant. An empty or inverted
// interval overlaps nothing.
func Overlaps(a, b Interval) bool {
	return a.Start.Before(a.End) && b.Start.Before(b.End) && a.Start.Before(b.End) && b.Start.Before(a.End)
}

// Contains reports whether j lies inside i. An empty or inverted j lies in
// nothing (fail closed: a release window that ends before it starts is
// never inside a maintenance window).
func (i Interval) Contains(j Interval) bool {
	return j.Start.Before(j.End) && !j.Start.Before(i.Start) && !j.End.After(i.End)
}

// Error says what is wrong with a window or a freeze, in English and
// Chinese, and where: Field is the path in relgate.yaml
// (maintenanceWindows, 0, rrule), empty when the error is about a text on
// its own (ParseRRule, ParseDuration).
type Error struct {
	Field []string
	Msg   string // English
	Zh    string // Chinese
}

func (e *Error) Error() string {
	if len(e.Field) == 0 {
		return e.Msg + " / " + e.Zh
	}
	return FieldPath(e.Field) + ": " + e.Msg + " / " + e.Zh
}

// Text is the message in a language ("zh" or anything else for English).
func (e *Error) Text(lang string) string {
	if lang == "zh" {
		return e.Zh
	}
	return e.Msg
}

// FieldPath writes a path as validation findings do: a.b[0].c.
func FieldPath(field []string) string { return finding.FieldPath(field) }

// MaintenanceWindow is a recurring period in which its systems may be
// changed.
type MaintenanceWindow struct {
	Name string
	// Systems the window is for; none means every system.
	Systems []string
	// Rule says when the window opens; nil when it cannot be read, and
	// then the window never opens (its systems stay restricted).
	Rule *Rule
	// From is the first day of the recurrence (only its date in Location
	// counts); zero for none. INTERVAL and COUNT count from it.
	From     time.Time
	Duration time.Duration
	Location *time.Location
}

// For reports whether the window applies to system.
func (w *MaintenanceWindow) For(system string) bool {
	return len(w.Systems) == 0 || slices.ContainsFunc(w.Systems, func(s string) bool { return SameSystem(s, system) })
}

// SameSystem reports whether two system names name one system: compared
// after Unicode compatibility folding (full-width letters and spaces),
// with case and runs of white space ignored, so a trailing space or a
// full-width letter does not take a release out of its windows or freezes.
func SameSystem(a, b string) bool {
	return systemKey(a) == systemKey(b)
}

func systemKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFKC.String(s)), " "))
}

// Occurrences returns the occurrences of w that overlap [from, to), in
// order, at most MaxOccurrences.
func (w *MaintenanceWindow) Occurrences(from, to time.Time) []Interval {
	var out []Interval
	if !from.Before(to) {
		return nil
	}
	w.walk(from, func(iv Interval) bool {
		if !iv.Start.Before(to) || len(out) == MaxOccurrences {
			return false
		}
		out = append(out, iv)
		return true
	})
	return out
}

// Occurrences returns the occurrences of w that overlap [from, to).
func Occurrences(w MaintenanceWindow, from, to time.Time) []Interval {
	return w.Occurrences(from, to)
}

// Next returns the first occurrence of w that ends after t (it may have
// opened already), and false when there is none within about 30 years.
func (w *MaintenanceWindow) Next(t time.Time) (Interval, bool) {
	var out Interval
	found := false
	w.walk(t, func(iv Interval) bool { out, found = iv, true; return false })
	return out, found
}

// Contains reports whether iv lies inside one occurrence of w.
func (w *MaintenanceWindow) Contains(iv Interval) bool {
	if !iv.Start.Before(iv.End) || iv.End.Sub(iv.Start) > w.Duration {
		return false
	}
	for _, o := range w.Occurrences(iv.Start, iv.End) {
		if o.Contains(iv) {
			return true
		}
	}
	return false
}

// Restricted reports whether any window applies to system: only then must
// its releases fall inside one.
func Restricted(windows []MaintenanceWindow, system string) bool {
	for i := range windows {
		if windows[i].For(system) {
			return true
		}
	}
	return false
}

// Covers reports whether iv lies inside one occurrence of a maintenance
// window of system, or system has no maintenance window at all. A window
// whose recurrence begins (From) after iv starts does not restrict it: a
// policy that brings maintenance windows in does not reach back to the
// releases planned before them. A window that cannot be read restricts
// always (fail closed).
func Covers(windows []MaintenanceWindow, system string, iv Interval) bool {
	restricted := false
	for i := range windows {
		if !windows[i].For(system) {
			continue
		}
		if w := &windows[i]; w.Rule != nil && !w.From.IsZero() && iv.Start.Before(w.From) {
			continue
		}
		restricted = true
		if windows[i].Contains(iv) {
			return true
		}
	}
	return !restricted
}

// Uncovered returns the systems, in the order given, whose maintenance
// windows do not cover iv (see Covers): a release window must lie inside
// one occurrence of a window of each of its systems that has any.
func Uncovered(windows []MaintenanceWindow, systems []string, iv Interval) []string {
	var out []string
	for _, s := range systems {
		if !Covers(windows, s, iv) {
			out = append(out, s)
		}
	}
	return out
}

// Freeze is a period in which no release of its systems may go live or be
// deployed, unless the policy's exception is approved.
type Freeze struct {
	Name   string
	Reason string
	// Systems the freeze is for; none means every system.
	Systems []string
	Interval
	// Blackout marks a freeze that came from blackoutWindows.
	Blackout bool
	// Unreadable marks a freeze whose times cannot be read or are out of
	// order: it freezes all time (fail closed), and Validate reports it.
	Unreadable bool
}

// Always is all representable time, the span of an unreadable freeze.
var Always = Interval{Start: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}

// For reports whether the freeze applies to a release of systems: a global
// freeze always, another when it names one of them. A release that names
// no system is under every freeze (fail closed).
func (f *Freeze) For(systems []string) bool {
	if len(f.Systems) == 0 || len(systems) == 0 {
		return true
	}
	for _, s := range systems {
		if slices.ContainsFunc(f.Systems, func(x string) bool { return SameSystem(x, s) }) {
			return true
		}
	}
	return false
}

// Freezes returns the freezes, in the order given, that apply to systems
// and overlap iv.
func Freezes(freezes []Freeze, systems []string, iv Interval) []Freeze {
	var out []Freeze
	for _, f := range freezes {
		if f.For(systems) && Overlaps(f.Interval, iv) {
			out = append(out, f)
		}
	}
	return out
}

// FreezesAt returns the freezes that apply to systems at instant t (a
// deployment now).
func FreezesAt(freezes []Freeze, systems []string, t time.Time) []Freeze {
	return Freezes(freezes, systems, Interval{Start: t, End: t.Add(time.Nanosecond)})
}

// Calendar is the policy's maintenance windows and freezes.
type Calendar struct {
	Windows []MaintenanceWindow
	// Freezes holds the policy's freezes, then its blackoutWindows as
	// global freezes (Blackout set).
	Freezes []Freeze
}

// NextChange returns the first instant after t at which a maintenance
// window opens or closes or a freeze starts or ends, so a server knows
// when to evaluate open pull requests again; false if none comes within
// about 30 years.
func (c *Calendar) NextChange(t time.Time) (time.Time, bool) {
	var best time.Time
	consider := func(u time.Time) {
		if u.After(t) && (best.IsZero() || u.Before(best)) {
			best = u
		}
	}
	for i := range c.Windows {
		w := &c.Windows[i]
		// Occurrences may overlap (a duration longer than the period): look
		// at all that are open at t or open soon after, then the next one.
		for _, o := range w.Occurrences(t, t.Add(w.Duration+24*time.Hour)) {
			consider(o.Start)
			consider(o.End)
		}
		if o, ok := w.Next(t.Add(w.Duration + 24*time.Hour)); ok {
			consider(o.Start)
		}
	}
	for _, f := range c.Freezes {
		if !f.Unreadable {
			consider(f.Start)
			consider(f.End)
		}
	}
	return best, !best.IsZero()
}

// FromPolicy reads the maintenance windows, freezes and blackout windows of
// a policy in its timezone loc. It returns every problem found, and a
// calendar that fails closed on each: a window that cannot be read never
// opens (its systems keep their restriction), a freeze that cannot be read
// freezes all time. Problems of blackoutWindows are not returned (the
// validator reports them already); such a blackout window freezes all time.
func FromPolicy(p *document.Policy, loc *time.Location) (*Calendar, []*Error) {
	c := &Calendar{}
	var errs []*Error
	at := func(e *Error, field ...string) {
		errs = append(errs, &Error{Field: append(field, e.Field...), Msg: e.Msg, Zh: e.Zh})
	}
	if p == nil || loc == nil {
		return c, []*Error{{Msg: "no policy or timezone", Zh: "没有策略或时区"}}
	}
	names := map[string]bool{}
	for i, dw := range p.MaintenanceWindows {
		base := []string{"maintenanceWindows", strconv.Itoa(i)}
		f := func(s ...string) []string { return append(slices.Clone(base), s...) }
		w := MaintenanceWindow{Name: dw.Name, Systems: dw.Systems, Location: loc}
		if names[dw.Name] {
			at(&Error{Msg: fmt.Sprintf("maintenance window %s is listed twice; give each a name of its own", dw.Name),
				Zh: fmt.Sprintf("维护窗口 %s 重复列出；请为每个窗口单独命名", dw.Name)}, f("name")...)
		}
		names[dw.Name] = true
		var rule *Rule
		switch {
		case dw.Weekly != nil && dw.RRule != "":
			at(&Error{Msg: "write weekly or rrule, not both", Zh: "weekly 与 rrule 只能写一个"}, f("rrule")...)
		case dw.Weekly != nil:
			r, err := WeeklyRule(dw.Weekly.Days, dw.Weekly.Start)
			if err != nil {
				at(asError(err), f("weekly")...)
			}
			rule = r
		case dw.RRule != "":
			r, err := ParseRRule(dw.RRule)
			if err != nil {
				at(asError(err), f("rrule")...)
			}
			rule = r
		default:
			at(&Error{Msg: "say when the window opens: weekly: {days: [sat], start: \"22:00\"} or rrule: FREQ=WEEKLY;BYDAY=SA;BYHOUR=22",
				Zh: "请写明窗口何时开启：weekly: {days: [sat], start: \"22:00\"} 或 rrule: FREQ=WEEKLY;BYDAY=SA;BYHOUR=22"}, f("weekly")...)
		}
		d, err := ParseDuration(dw.Duration)
		if err != nil {
			at(asError(err), f("duration")...)
		}
		w.Duration = d
		if dw.From != "" {
			t, err := time.ParseInLocation("2006-01-02", dw.From, loc)
			if err != nil {
				at(&Error{Msg: fmt.Sprintf("%q is not a date: write it as 2027-01-02", dw.From),
					Zh: fmt.Sprintf("%q 不是日期：请写成 2027-01-02", dw.From)}, f("from")...)
				rule = nil
			}
			w.From = t
		}
		if rule != nil && w.From.IsZero() && (rule.Interval > 1 || rule.Count > 0) {
			at(&Error{Msg: "INTERVAL and COUNT count from a first day: add from: with the date the recurrence begins",
				Zh: "INTERVAL 与 COUNT 须从某一天起算：请添加 from: 写明重复开始的日期"}, f("from")...)
			rule = nil
		}
		if rule != nil && d > 0 {
			w.Rule = rule
			ref := w.From
			if ref.IsZero() {
				ref = time.Date(2001, 1, 1, 0, 0, 0, 0, loc)
			}
			if _, ok := w.Next(ref); !ok {
				at(&Error{Msg: "the window never opens: no day from its first day on matches its rule before it ends (February has at most 29 days; April, June, September and November 30)",
					Zh: "此窗口永远不会开启：自开始日期起至规则结束，没有日期符合其规则（二月最多 29 天；四、六、九、十一月为 30 天）"}, f(ruleField(dw))...)
				w.Rule = nil
			}
		}
		c.Windows = append(c.Windows, w)
	}
	fnames := map[string]bool{}
	for i, df := range p.Freezes {
		base := []string{"freezes", strconv.Itoa(i)}
		fr := Freeze{Name: df.Name, Reason: df.Reason, Systems: df.Systems}
		if fnames[df.Name] {
			at(&Error{Msg: fmt.Sprintf("freeze %s is listed twice; give each a name of its own", df.Name),
				Zh: fmt.Sprintf("冻结期 %s 重复列出；请为每个冻结期单独命名", df.Name)}, append(base, "name")...)
		}
		fnames[df.Name] = true
		s, err1 := document.ParseTime(df.Start)
		e, err2 := document.ParseTime(df.End)
		switch {
		case err1 != nil:
			at(timeError(df.Start), append(base, "start")...)
			fr.Unreadable = true
		case err2 != nil:
			at(timeError(df.End), append(base, "end")...)
			fr.Unreadable = true
		case !e.After(s):
			at(&Error{Msg: "the freeze ends before it starts, or when it starts; end is the first moment after it",
				Zh: "冻结期的结束时间不晚于开始时间；end 为冻结期之后的第一个时刻"}, append(base, "end")...)
			fr.Unreadable = true
		}
		fr.Interval = Interval{Start: s, End: e}
		if fr.Unreadable {
			fr.Interval = Always
		}
		c.Freezes = append(c.Freezes, fr)
	}
	for _, bw := range p.BlackoutWindows {
		fr := Freeze{Name: bw.Name, Blackout: true}
		s, err1 := document.ParseTime(bw.Start)
		e, err2 := document.ParseTime(bw.End)
		// Half-open like every interval here, as the gate and the deploy
		// check have always read a blackout window.
		fr.Interval = Interval{Start: s, End: e}
		if err1 != nil || err2 != nil || e.Before(s) {
			fr.Unreadable, fr.Interval = true, Always
		}
		c.Freezes = append(c.Freezes, fr)
	}
	return c, errs
}

func ruleField(dw document.MaintenanceWindow) string {
	if dw.Weekly != nil {
		return "weekly"
	}
	return "rrule"
}

func timeError(v string) *Error {
	return &Error{Msg: fmt.Sprintf("%q is not a date and time: write it as 2027-01-25T00:00:00+08:00 (RFC 3339, with the offset)", v),
		Zh: fmt.Sprintf("%q 不是有效的日期时间：请写成 2027-01-25T00:00:00+08:00（RFC 3339，须带时区偏移）", v)}
}

func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Msg: err.Error(), Zh: err.Error()}
}
