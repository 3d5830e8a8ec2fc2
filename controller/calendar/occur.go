package calendar

import (
	"time"

	"github.com/relgate/relgate/controller/cronspec"
)

// Bounds of a walk over a window's days.
const (
	// MaxOccurrences caps what Occurrences returns.
	MaxOccurrences = 5000
	// maxWalkDays caps the days one walk visits (about 30 years): enough
	// to find a first occurrence of any accepted rule, which repeats at the
	// latest every 28 years (a weekday on February 29).
	maxWalkDays = 30*366 + 1
)

// day is a civil date, held as midnight UTC (UTC has no gaps or repeats).
type day = time.Time

func civil(t time.Time, loc *time.Location) day {
	lt := t.In(loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC)
}

func daysBetween(a, b day) int { return int(b.Sub(a).Hours()) / 24 }

// weekStart is the first day of d's week when weeks start on wkst.
func weekStart(d day, wkst time.Weekday) day {
	back := (int(d.Weekday()) - int(wkst) + 7) % 7
	return d.AddDate(0, 0, -back)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// matches reports whether the rule opens the window on day d; anchor is
// the first day of the recurrence (zero: none, when Interval is 1).
func (r *Rule) matches(d, anchor day) bool {
	if r.months != 0 && r.months&(1<<int(d.Month())) == 0 {
		return false
	}
	if r.Interval > 1 {
		if anchor.IsZero() {
			return false // fail closed: nothing to count from (FromPolicy refuses it)
		}
		var n int
		switch r.Freq {
		case Daily:
			n = daysBetween(anchor, d)
		case Weekly:
			n = daysBetween(weekStart(anchor, r.wkst), weekStart(d, r.wkst)) / 7
		case Monthly:
			n = (d.Year()-anchor.Year())*12 + int(d.Month()) - int(anchor.Month())
		}
		if n < 0 || n%r.Interval != 0 {
			return false
		}
	}
	dim := daysIn(d.Year(), d.Month())
	if len(r.monthDay) > 0 {
		ok := false
		for _, k := range r.monthDay {
			if k == d.Day() || k < 0 && dim+k+1 == d.Day() {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.days) > 0 {
		ok := false
		for _, bd := range r.days {
			if bd.day != d.Weekday() {
				continue
			}
			switch {
			case bd.nth == 0,
				bd.nth > 0 && (d.Day()-1)/7+1 == bd.nth,
				bd.nth < 0 && (dim-d.Day())/7+1 == -bd.nth:
				ok = true
			}
			if ok {
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// walk calls fn with each occurrence of w, in order of start, that ends
// after lo, from the first that does until fn returns false, the rule
// ends, or maxWalkDays days have been visited.
func (w *MaintenanceWindow) walk(lo time.Time, fn func(Interval) bool) {
	r, loc := w.Rule, w.Location
	if r == nil || loc == nil || w.Duration <= 0 || w.Duration > MaxDuration {
		return // a window that cannot be read opens never (fail closed)
	}
	var anchor day
	if !w.From.IsZero() {
		anchor = civil(w.From, loc)
	}
	// Start a day early for an occurrence still open at lo (the duration,
	// and a shift across a daylight-saving gap).
	d := civil(lo.Add(-w.Duration), loc).AddDate(0, 0, -1)
	if r.Count > 0 && anchor.IsZero() {
		return // COUNT counts from the first day (FromPolicy refuses it)
	}
	if !anchor.IsZero() && (r.Count > 0 || d.Before(anchor)) {
		d = anchor // COUNT counts every occurrence from the first
	}
	n := 0
	var last time.Time
	for i := 0; i < maxWalkDays; i, d = i+1, d.AddDate(0, 0, 1) {
		if !r.until.IsZero() && d.After(r.until) {
			return
		}
		if !r.matches(d, anchor) {
			continue
		}
		for h := 0; h < 24; h++ {
			if r.hours&(1<<h) == 0 {
				continue
			}
			for m := 0; m < 60; m++ {
				if r.minutes&(1<<m) == 0 {
					continue
				}
				wall := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, time.UTC)
				if !r.until.IsZero() && wall.After(r.until) {
					return
				}
				start := WallTime(d.Year(), d.Month(), d.Day(), h, m, loc)
				if !r.untilUTC.IsZero() && start.After(r.untilUTC) {
					return
				}
				if start.Equal(last) {
					continue // two wall times in one daylight-saving gap open once
				}
				last = start
				n++
				if r.Count > 0 && n > r.Count {
					return
				}
				iv := Interval{Start: start, End: start.Add(w.Duration)}
				if iv.End.After(lo) && !fn(iv) {
					return
				}
			}
		}
	}
}

// WallTime is the instant a local wall time falls on in loc, as cronspec
// runs a schedule (one rule for both): the instant itself if it exists; its
// first occurrence if clocks went back over it; the end of the gap if
// clocks went forward over it.
func WallTime(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
	return cronspec.WallTime(y, mo, d, h, mi, loc)
}
