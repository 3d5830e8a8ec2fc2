// Package calview is the change calendar as people read it (R-9, R-5.1.5,
// every release window, maintenance window and freeze in a range,
// with state, systems and the calendar conflicts the go-live-approval gate
// found, and its renderings as a text agenda, JSON, one HTML page and
// iCalendar (RFC 5545) for Outlook and Thunderbird subscriptions. It reads
// no clock and does no I/O: the board, the calendar and the range are
// passed in, and the same input renders byte-identical output.
package calview

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/site"
)

// Bounds of a calendar, so a page or a feed stays small.
const (
	// MaxRange is the longest range a calendar covers (R-9: a release
	// plan's timetable; a feed is refreshed, it need not hold years).
	MaxRange = 400 * 24 * time.Hour
	// MaxReleases bounds the release windows listed.
	MaxReleases = 2000
	// MaxOccurrences bounds the occurrences listed per maintenance window.
	MaxOccurrences = 800
	// MaxText bounds a title, reason or conflict message, in bytes.
	MaxText = 1000
)

// ConflictCheck is the name of a go-live-approval check that reports one
// conflict of a release's window with the change calendar.
const ConflictCheck = "calendar-conflict"

// Model is the calendar of [From, To) in the policy's timezone.
type Model struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Timezone string    `json:"timezone"`
	Lang     string    `json:"lang"`
	// Commit is the revision read; Generated its committer time (the
	// calendar's DTSTAMP, so a commit's feed never changes).
	Commit    string    `json:"commit,omitempty"`
	Generated time.Time `json:"generated"`
	Releases  []Release `json:"releases"`
	Windows   []Window  `json:"maintenanceWindows"`
	Freezes   []Freeze  `json:"freezes"`
	// Unscheduled are releases whose window cannot be read: they are on
	// no day of the calendar, and say so rather than vanish.
	Unscheduled []Unscheduled `json:"unscheduled,omitempty"`
	// Truncated says a bound cut the lists short.
	Truncated bool `json:"truncated,omitempty"`

	loc *time.Location
}

// Release is one release window.
type Release struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Type    string   `json:"type"`
	State   string   `json:"state"`
	Systems []string `json:"systems"`
	Items   []string `json:"items"`
	// Start and End are the release.yaml window.
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Conflicts []Conflict `json:"conflicts"`
	// Link is the release's dashboard page, when a base URL is given.
	Link string `json:"link,omitempty"`
}

// Conflict is one calendar-conflict check of the release's go-live
// approval, as the gate decided it (not recomputed here).
type Conflict struct {
	Message string `json:"message"`
	// OK is the check's verdict: true when the conflict does not block
	// (its exception is approved).
	OK bool `json:"ok"`
}

// Unscheduled is a release without a readable window.
type Unscheduled struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	State string `json:"state"`
}

// Window is one maintenance window and its occurrences in the range.
type Window struct {
	Name    string   `json:"name"`
	Systems []string `json:"systems"`
	// Recurrence is the rule as the policy writes it.
	Recurrence string `json:"recurrence"`
	// Duration is elapsed time, in minutes.
	DurationMinutes int `json:"durationMinutes"`
	// Readable is false when the rule cannot be read: then the window
	// never opens (its systems stay restricted, fail closed).
	Readable    bool   `json:"readable"`
	Occurrences []Span `json:"occurrences"`

	// rrule is the RFC 5545 RRULE without its end (ICS adds UNTIL);
	// first the first occurrence that ends after From.
	rrule    string
	first    Span
	hasFirst bool
	dur      time.Duration
}

// Span is a half-open interval [Start, End).
type Span struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Freeze is one freeze (or blackout window) overlapping the range.
type Freeze struct {
	Name    string    `json:"name"`
	Reason  string    `json:"reason,omitempty"`
	Systems []string  `json:"systems"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// Blackout marks a freeze from the older blackoutWindows.
	Blackout bool `json:"blackout,omitempty"`
	// Unreadable marks a freeze whose times cannot be read: it freezes
	// all time (fail closed); here it spans the whole range.
	Unreadable bool `json:"unreadable,omitempty"`
}

// Location is the policy's timezone the model is written in.
func (m *Model) Location() *time.Location {
	if m.loc == nil {
		return time.UTC
	}
	return m.loc
}

// Build is the calendar of [from, to) of a board and its policy's calendar
// (calendar.FromPolicy of board.Policy). A range longer than MaxRange is cut
// to MaxRange. lang is that of the conflict messages and the renderings.
func Build(board *engine.Board, cal *calendar.Calendar, from, to time.Time, lang i18n.Lang) Model {
	loc := time.UTC
	if board != nil && board.Policy != nil && board.Policy.Location != nil {
		loc = board.Policy.Location
	}
	if to.Sub(from) > MaxRange {
		to = from.Add(MaxRange)
	}
	if lang != i18n.Chinese {
		lang = i18n.English
	}
	m := Model{From: from.In(loc), To: to.In(loc), Timezone: loc.String(), Lang: string(lang), loc: loc,
		Releases: []Release{}, Windows: []Window{}, Freezes: []Freeze{}}
	rangeIv := calendar.Interval{Start: from, End: to}
	if board != nil {
		m.Commit = board.Commit.String()
		m.Generated = board.Time.UTC()
		m.Releases, m.Unscheduled, m.Truncated = releases(board, rangeIv, loc, lang)
	}
	if cal == nil {
		return m
	}
	var docs []docWindow
	if board != nil && board.Policy != nil {
		docs = docWindows(board.Policy)
	}
	for i := range cal.Windows {
		w := &cal.Windows[i]
		mw := Window{Name: clip(w.Name), Systems: nonNil(w.Systems), DurationMinutes: int(w.Duration / time.Minute),
			Readable: w.Rule != nil, Occurrences: []Span{}, dur: w.Duration}
		if i < len(docs) && docs[i].name == w.Name {
			mw.Recurrence, mw.rrule = docs[i].text, docs[i].rrule
		}
		if w.Rule != nil {
			if mw.Recurrence == "" {
				mw.Recurrence = w.Rule.String()
			}
			for _, o := range w.Occurrences(from, to) {
				if len(mw.Occurrences) == MaxOccurrences {
					m.Truncated = true
					break
				}
				mw.Occurrences = append(mw.Occurrences, span(o, loc))
			}
			if len(mw.Occurrences) > 0 {
				mw.first, mw.hasFirst = mw.Occurrences[0], true
			}
		} else {
			mw.rrule = ""
		}
		m.Windows = append(m.Windows, mw)
	}
	for _, f := range cal.Freezes {
		if !f.Unreadable && !calendar.Overlaps(f.Interval, rangeIv) {
			continue
		}
		fz := Freeze{Name: clip(f.Name), Reason: clip(f.Reason), Systems: nonNil(f.Systems), Blackout: f.Blackout, Unreadable: f.Unreadable,
			Start: f.Start.In(loc), End: f.End.In(loc)}
		if f.Unreadable {
			fz.Start, fz.End = m.From, m.To
		}
		m.Freezes = append(m.Freezes, fz)
	}
	slices.SortStableFunc(m.Freezes, func(a, b Freeze) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return m
}

// WithLinks sets each release's link to its dashboard page under base (the
// dashboard's or the static site's root, https://relgate.example/); an
// empty or unusable base links nothing.
func (m *Model) WithLinks(base string) {
	u, err := url.Parse(base)
	if base == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return
	}
	root := strings.TrimSuffix(u.String(), "/") + "/"
	for i := range m.Releases {
		m.Releases[i].Link = root + site.ReleasePath(m.Lang, m.Releases[i].ID)
	}
}

func releases(b *engine.Board, rangeIv calendar.Interval, loc *time.Location, lang i18n.Lang) ([]Release, []Unscheduled, bool) {
	out := []Release{}
	var unsched []Unscheduled
	truncated := false
	for _, st := range b.Statuses {
		var r *Release
		if b.Snapshot != nil {
			if lr := b.Snapshot.Releases[st.Release]; lr != nil && lr.Release != nil {
				r = fromDoc(st, lr.Release.Systems, lr.Release.Items, lr.Release.Window.Start, lr.Release.Window.End, loc)
			}
		}
		if r == nil {
			unsched = append(unsched, Unscheduled{ID: st.Release, Title: clip(st.Title), State: st.State})
			continue
		}
		if !r.Start.Before(r.End) {
			unsched = append(unsched, Unscheduled{ID: st.Release, Title: r.Title, State: st.State})
			continue
		}
		if !calendar.Overlaps(calendar.Interval{Start: r.Start, End: r.End}, rangeIv) {
			continue
		}
		if len(out) == MaxReleases {
			truncated = true
			break
		}
		r.Conflicts = conflicts(st, lang)
		out = append(out, *r)
	}
	slices.SortStableFunc(out, func(a, c Release) int {
		if d := a.Start.Compare(c.Start); d != 0 {
			return d
		}
		return strings.Compare(a.ID, c.ID)
	})
	return out, unsched, truncated
}

func fromDoc(st gate.Status, systems []string, items []document.Item, start, end string, loc *time.Location) *Release {
	s, err1 := document.ParseTime(start)
	e, err2 := document.ParseTime(end)
	r := &Release{ID: st.Release, Title: clip(st.Title), Type: st.Type, State: st.State, Systems: nonNil(systems), Items: []string{},
		Conflicts: []Conflict{}}
	for _, it := range items {
		r.Items = append(r.Items, it.ID)
	}
	if err1 != nil || err2 != nil {
		return r // Start == End: unscheduled
	}
	r.Start, r.End = s.In(loc), e.In(loc)
	return r
}

// conflicts are the go-live-approval gate's calendar-conflict checks.
func conflicts(st gate.Status, lang i18n.Lang) []Conflict {
	out := []Conflict{}
	for _, g := range st.Gates {
		if g.Gate != policy.GateGoLiveApproval {
			continue
		}
		for _, c := range g.Checks {
			if c.Name == ConflictCheck {
				out = append(out, Conflict{Message: clip(c.MessageIn(lang)), OK: c.OK})
			}
		}
	}
	return out
}

// docWindow is what the policy text says of a window: its recurrence as
// written and as an RRULE.
type docWindow struct {
	name, text, rrule string
}

func docWindows(p *policy.Policy) []docWindow {
	if p == nil || p.Policy == nil {
		return nil
	}
	var out []docWindow
	for _, dw := range p.MaintenanceWindows {
		d := docWindow{name: dw.Name}
		switch {
		case dw.Weekly != nil && dw.RRule == "":
			d.text = "weekly " + strings.Join(dw.Weekly.Days, ",") + " " + dw.Weekly.Start
			d.rrule = weeklyRRule(dw.Weekly.Days, dw.Weekly.Start)
		case dw.RRule != "" && dw.Weekly == nil:
			d.text = dw.RRule
			d.rrule = normalRRule(dw.RRule)
		}
		d.text = clip(d.text)
		if dw.Duration != "" {
			d.text += " (" + clip(dw.Duration) + ")"
		}
		out = append(out, d)
	}
	return out
}

var icsDays = map[string]string{"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}

// weeklyRRule is the weekly form as an RRULE; "" if it cannot be read (the
// calendar then has no rule either).
func weeklyRRule(days []string, start string) string {
	var bd []string
	for _, d := range days {
		c, ok := icsDays[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return ""
		}
		bd = append(bd, c)
	}
	h, m, ok := strings.Cut(start, ":")
	if !ok || len(h) != 2 || len(m) != 2 || strings.Trim(h+m, "0123456789") != "" {
		return ""
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	return "FREQ=WEEKLY;BYDAY=" + strings.Join(bd, ",") + ";BYHOUR=" + strconv.Itoa(hh) + ";BYMINUTE=" + strconv.Itoa(mm)
}

// normalRRule is the policy's RRULE as RFC 5545 writes it: upper case,
// without "RRULE:", with BYMINUTE (relgate's default 0 made explicit: RFC
// 5545 would take DTSTART's minute, the same here, but said once), and
// without COUNT and UNTIL, which ICS replaces by the UTC instant of the
// last occurrence in range (RFC 5545: UNTIL is UTC when DTSTART has a TZID).
func normalRRule(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "RRULE:")
	var parts []string
	minute := false
	for _, p := range strings.Split(s, ";") {
		name, _, _ := strings.Cut(p, "=")
		name = strings.TrimSpace(name)
		switch name {
		case "COUNT", "UNTIL":
			continue
		case "BYMINUTE":
			minute = true
		}
		parts = append(parts, strings.ReplaceAll(p, " ", ""))
	}
	if !minute {
		parts = append(parts, "BYMINUTE=0")
	}
	return strings.Join(parts, ";")
}

func span(iv calendar.Interval, loc *time.Location) Span {
	return Span{Start: iv.Start.In(loc), End: iv.End.In(loc)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = clip(v)
	}
	return out
}

// clip bounds a text and drops control characters (a title is one line).
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxText {
		return s
	}
	cut := MaxText
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
