package cronspec

import "time"

// Schedule is a Spec in a timezone. It satisfies robfig/cron's Schedule
// interface, so cron runs it; Next handles daylight saving as the package
// comment says.
type Schedule struct {
	spec *Spec
	loc  *time.Location
}

// In returns the specification's schedule in loc (UTC if nil).
func (s *Spec) In(loc *time.Location) Schedule {
	if loc == nil {
		loc = time.UTC
	}
	return Schedule{spec: s, loc: loc}
}

// searchDays bounds Next's search: a valid specification runs at least once
// in any 9 years (February 29 alone has an 8-year gap across 2100).
const searchDays = 9*366 + 1

// Next returns the first run strictly after t, in the schedule's location,
// or the zero time if there is none (never, for a Spec from Parse).
//
// It walks local wall-clock minutes that match, in order, and maps each to
// the instant it runs at (first occurrence; the end of a gap). That mapping
// never decreases, so the first wall time whose instant is after t is the
// answer. Wall times are computed in UTC, which has no gaps or repeats.
func (sc Schedule) Next(t time.Time) time.Time {
	s := sc.spec
	if s == nil {
		return time.Time{}
	}
	lt := t.In(sc.loc)
	// The wall time of t, truncated to its minute, as a civil time.
	w := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), 0, 0, time.UTC)
	first := true // on w's own day, start at w's hour and minute
	day := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	for i := 0; i < searchDays; i++ {
		if s.month&(1<<int(day.Month())) == 0 {
			day = time.Date(day.Year(), day.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			first = false
			continue
		}
		if s.dayMatches(day) {
			h0, m0 := 0, 0
			if first {
				h0, m0 = w.Hour(), w.Minute()
			}
			for h := h0; h < 24; h++ {
				if s.hour&(1<<h) == 0 {
					continue
				}
				mStart := 0
				if h == h0 {
					mStart = m0
				}
				for m := mStart; m < 60; m++ {
					if s.minute&(1<<m) == 0 {
						continue
					}
					if u := WallTime(day.Year(), day.Month(), day.Day(), h, m, sc.loc); u.After(t) {
						return u
					}
				}
			}
		}
		day = day.AddDate(0, 0, 1)
		first = false
	}
	return time.Time{}
}

func (s *Spec) dayMatches(day time.Time) bool {
	dom := s.dom&(1<<day.Day()) != 0
	dow := s.dow&(1<<int(day.Weekday())) != 0
	if s.domAll || s.dowAll {
		return dom && dow
	}
	return dom || dow
}

// WallTime is the instant a local wall time runs at in loc: the instant
// itself if it exists, its first occurrence if clocks went back over it
// (1:30 on 2027-11-07 in America/New_York is 1:30 EDT), or the transition
// that skipped it if clocks went forward over it (2:30 on 2027-03-14 is
// 3:00 EDT). Package calendar opens maintenance windows by the same rule.
func WallTime(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
	local := time.Date(y, mo, d, h, mi, 0, 0, time.UTC).Unix() // wall seconds as if UTC
	offset := func(u int64) int64 { _, o := time.Unix(u, 0).In(loc).Zone(); return int64(o) }
	// The offsets in force a day either side; a zone changes offset at most
	// once in that span (true of every zone in the tz database since 1970).
	before, after := offset(local-86400), offset(local+86400)
	best, found := int64(0), false
	for _, o := range []int64{before, after} {
		if u := local - o; offset(u) == o && (!found || u < best) {
			best, found = u, true
		}
	}
	if found {
		return time.Unix(best, 0).In(loc)
	}
	if before < after { // a gap: run when it ends
		start, _ := time.Unix(local-before, 0).In(loc).ZoneBounds()
		if !start.IsZero() {
			return start
		}
	}
	return time.Date(y, mo, d, h, mi, 0, 0, loc) // not reached for real zones
}
