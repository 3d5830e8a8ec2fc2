package calview

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/i18n"
)

// ProdID names relgate as the calendar's producer.
const ProdID = "-//relgate//change calendar//EN"

const (
	localLayout = "20060102T150405"
	utcLayout   = "20060102T150405Z"
)

// ICS writes the model as an iCalendar (RFC 5545) VCALENDAR: a VTIMEZONE
// for the policy's timezone with its transitions around the range, release
// windows and freezes as VEVENTs with TZID times, and each maintenance
// window as one recurring VEVENT (RRULE, DURATION) that ends with its last
// occurrence in range. Written with github.com/arran4/golang-ical.
func (m *Model) ICS(w io.Writer) error {
	l := i18n.Lang(m.Lang)
	loc := m.Location()
	tzid := loc.String()
	cal := ics.NewCalendarFor("relgate")
	cal.SetProductId(ProdID)
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(l.T("relgate change calendar", "relgate 变更日历"))
	cal.SetXWRTimezone(tzid)
	cal.AddVTimezone(vtimezone(tzid, loc, m.From.Add(-calendar.MaxDuration-24*time.Hour), m.To.Add(calendar.MaxDuration+24*time.Hour)))
	stamp := m.Generated.UTC()
	if stamp.IsZero() {
		stamp = m.From.UTC()
	}
	at := func(e *ics.VEvent, p ics.ComponentProperty, t time.Time) {
		v, utc := stampIn(t, loc)
		if utc {
			e.SetProperty(p, v)
			return
		}
		e.SetProperty(p, v, ics.WithTZID(tzid))
	}
	for _, r := range m.Releases {
		e := cal.AddEvent(r.ID + "@relgate")
		e.SetDtStampTime(stamp)
		at(e, ics.ComponentPropertyDtStart, r.Start)
		at(e, ics.ComponentPropertyDtEnd, r.End)
		e.SetSummary(fmt.Sprintf("[%s] %s %s", i18n.State(r.State).In(l), r.ID, r.Title))
		var d []string
		d = append(d, l.T("Type: ", "类型：")+i18n.Type(r.Type).In(l))
		d = append(d, l.T("Systems: ", "系统：")+listOr(r.Systems, l.T("none", "无")))
		d = append(d, l.T("Items: ", "配置项：")+listOr(r.Items, l.T("none", "无")))
		for _, c := range r.Conflicts {
			d = append(d, conflictLine(c, l))
		}
		if r.Link != "" {
			d = append(d, r.Link)
			e.SetURL(r.Link)
		}
		e.SetDescription(strings.Join(d, "\n"))
		e.AddProperty(ics.ComponentPropertyCategories, "release")
		if r.Type != "" {
			e.AddProperty(ics.ComponentPropertyCategories, r.Type)
		}
		e.AddProperty(ics.ComponentPropertyCategories, r.State)
		if len(r.Conflicts) > 0 {
			e.AddProperty(ics.ComponentPropertyCategories, "calendar-conflict")
		}
		e.SetTimeTransparency(ics.TransparencyOpaque)
	}
	for _, mw := range m.Windows {
		if !mw.Readable || !mw.hasFirst || mw.rrule == "" || mw.dur <= 0 {
			continue // never opens in range: nothing to subscribe to
		}
		last := mw.Occurrences[len(mw.Occurrences)-1]
		e := cal.AddEvent("maintenance-" + url.PathEscape(mw.Name) + "@relgate")
		e.SetDtStampTime(stamp)
		at(e, ics.ComponentPropertyDtStart, mw.first.Start)
		e.SetProperty(ics.ComponentPropertyDuration, isoDuration(mw.dur))
		e.AddRrule(mw.rrule + ";UNTIL=" + last.Start.UTC().Format(utcLayout))
		// An occurrence that a daylight-saving gap moved (02:30 opens at
		// 03:00, as package calendar says) is not where RFC 5545 expands
		// the rule (it drops instants in a gap): name it explicitly.
		for _, o := range mw.Occurrences {
			if !expandsTo(mw.rrule, o.Start.In(loc)) {
				v, utc := stampIn(o.Start, loc)
				if utc {
					e.AddProperty(ics.ComponentPropertyRdate, v)
				} else {
					e.AddProperty(ics.ComponentPropertyRdate, v, ics.WithTZID(tzid))
				}
				// Readers that do not drop the instant in the gap (ical.js
				// moves 02:30 back to 01:30 EST) are told to leave it out.
				for _, wall := range gapWalls(mw.rrule, o.Start.In(loc), loc) {
					e.AddProperty(ics.ComponentPropertyExdate, wall, ics.WithTZID(tzid))
				}
			}
		}
		describe := func(e *ics.VEvent) {
			e.SetSummary(l.T("Maintenance window ", "维护窗口 ") + mw.Name)
			e.SetDescription(strings.Join([]string{
				l.T("Systems: ", "系统：") + list(mw.Systems, l),
				l.T("Recurrence: ", "重复规则：") + mw.Recurrence,
			}, "\n"))
			e.AddProperty(ics.ComponentPropertyCategories, "maintenance-window")
			e.SetTimeTransparency(ics.TransparencyTransparent)
		}
		describe(e)
		// A window open across a transition lasts its exact duration
		// (RFC 5545: PT6H is elapsed time), but readers in the field
		// (gocal, ical.js) add it to the wall clock and end an hour off:
		// each such occurrence is also written out with its own DTEND.
		for _, o := range mw.Occurrences {
			if offsetOf(o.Start) == offsetOf(o.End) {
				continue
			}
			x := cal.AddEvent(e.Id())
			x.SetDtStampTime(stamp)
			at(x, ics.ComponentPropertyRecurrenceId, o.Start)
			at(x, ics.ComponentPropertyDtStart, o.Start)
			at(x, ics.ComponentPropertyDtEnd, o.End)
			describe(x)
		}
	}
	for _, f := range m.Freezes {
		kind := "freeze-"
		if f.Blackout {
			kind = "blackout-"
		}
		e := cal.AddEvent(kind + url.PathEscape(f.Name) + "@relgate")
		e.SetDtStampTime(stamp)
		at(e, ics.ComponentPropertyDtStart, f.Start)
		at(e, ics.ComponentPropertyDtEnd, f.End)
		sum := l.T("Freeze ", "冻结期 ") + f.Name
		if f.Unreadable {
			sum = l.T("[unreadable: freezes all time] ", "[无法读取：始终冻结] ") + sum
		}
		e.SetSummary(sum)
		e.SetDescription(strings.Join([]string{
			l.T("Reason: ", "原因：") + f.Reason,
			l.T("Systems: ", "系统：") + list(f.Systems, l),
		}, "\n"))
		e.AddProperty(ics.ComponentPropertyCategories, "freeze")
		e.SetTimeTransparency(ics.TransparencyOpaque)
	}
	return cal.SerializeTo(w, ics.WithNewLine("\r\n"))
}

// stampIn writes t as a local time of loc (for a TZID), or in UTC when the
// local text would name another instant: the second 01:30 of a night the
// clocks go back (RFC 5545 reads a repeated local time as the first).
func stampIn(t time.Time, loc *time.Location) (string, bool) {
	lt := t.In(loc)
	if lt.Second() != 0 || lt.Nanosecond() != 0 ||
		!calendar.WallTime(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), loc).Equal(t) {
		return t.UTC().Format(utcLayout), true
	}
	return lt.Format(localLayout), false
}

// expandsTo reports whether an RRULE's BYHOUR names t's hour: an
// occurrence at another hour was moved by a gap.
func expandsTo(rrule string, t time.Time) bool {
	for _, p := range strings.Split(rrule, ";") {
		name, v, _ := strings.Cut(p, "=")
		if name != "BYHOUR" {
			continue
		}
		for _, h := range strings.Split(v, ",") {
			if h == fmt.Sprint(t.Hour()) {
				return true
			}
		}
	}
	return false
}

// gapWalls are the rule's wall times on t's day that do not exist in loc
// (a spring-forward gap), as local text: what an occurrence moved to t
// was named by.
func gapWalls(rrule string, t time.Time, loc *time.Location) []string {
	var hours, minutes []int
	for _, p := range strings.Split(rrule, ";") {
		name, v, _ := strings.Cut(p, "=")
		for _, n := range strings.Split(v, ",") {
			var k int
			if _, err := fmt.Sscanf(n, "%d", &k); err != nil {
				continue
			}
			switch name {
			case "BYHOUR":
				hours = append(hours, k)
			case "BYMINUTE":
				minutes = append(minutes, k)
			}
		}
	}
	var out []string
	for _, h := range hours {
		for _, mi := range minutes {
			at := calendar.WallTime(t.Year(), t.Month(), t.Day(), h, mi, loc).In(loc)
			if at.Equal(t) && (at.Hour() != h || at.Minute() != mi) {
				out = append(out, time.Date(t.Year(), t.Month(), t.Day(), h, mi, 0, 0, time.UTC).Format(localLayout))
			}
		}
	}
	return out
}

// isoDuration is an exact RFC 5545 duration (PT6H30M): elapsed time, as
// the policy's durations are, not nominal days.
func isoDuration(d time.Duration) string {
	h, mi := int(d/time.Hour), int(d%time.Hour/time.Minute)
	s := "PT"
	if h > 0 {
		s += fmt.Sprintf("%dH", h)
	}
	if mi > 0 || h == 0 {
		s += fmt.Sprintf("%dM", mi)
	}
	return s
}

// vtimezone describes loc over [lo, hi): Go's time.Location exports no
// rules, so the observances are the zone's transitions found by walking it
// (time.Time.ZoneBounds, exact to the second), each a STANDARD or
// DAYLIGHT with its own DTSTART, plus the one in force at lo.
func vtimezone(tzid string, loc *time.Location, lo, hi time.Time) *ics.VTimezone {
	tz := ics.NewTimezone(tzid)
	add := func(at time.Time, before, after time.Time) {
		_, offFrom := before.Zone()
		name, offTo := after.Zone()
		var c *ics.ComponentBase
		if after.IsDST() {
			d := &ics.Daylight{}
			tz.Components = append(tz.Components, d)
			c = &d.ComponentBase
		} else {
			s := tz.AddStandard()
			c = &s.ComponentBase
		}
		// DTSTART is the local time before the transition (RFC 5545 3.6.5).
		c.SetProperty(ics.ComponentPropertyDtStart, at.In(time.FixedZone("", offFrom)).Format(localLayout))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), offset(offFrom))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), offset(offTo))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
	}
	t := lo.In(loc)
	start, end := t.ZoneBounds()
	if start.IsZero() {
		add(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(offsetOf(t))*time.Second), t, t)
	} else {
		add(start, start.Add(-time.Second), start)
	}
	for n := 0; !end.IsZero() && end.Before(hi) && n < 64; n++ {
		add(end, end.Add(-time.Second), end)
		_, end = end.In(loc).ZoneBounds()
	}
	return tz
}

func offsetOf(t time.Time) int { _, o := t.Zone(); return o }

// offset writes seconds east of UTC as RFC 5545 does: +0800, -0430.
func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	s := fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec%3600/60)
	if sec%60 != 0 {
		s += fmt.Sprintf("%02d", sec%60)
	}
	return s
}

// list is the systems of a window or freeze: none means all.
func list(s []string, l i18n.Lang) string { return listOr(s, l.T("all systems", "全部系统")) }

func listOr(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, ", ")
}

func conflictLine(c Conflict, l i18n.Lang) string {
	if c.OK {
		return l.T("Conflict (exception approved): ", "冲突（例外已批准）：") + c.Message
	}
	return l.T("Conflict: ", "冲突：") + c.Message
}
