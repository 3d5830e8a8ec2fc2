package calendar_test

import (
	"errors"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/calendar"
)

// FuzzParseRRule: ParseRRule never panics and fails only with an *Error in
// both languages; an accepted rule's occurrences over any 60 days, in a
// zone with DST and one without, are in order of start, each exactly as
// long as the window (elapsed), overlap the range, and are capped.
func FuzzParseRRule(f *testing.F) {
	for _, s := range []string{"FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=22;BYMINUTE=0", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
		"FREQ=MONTHLY;BYDAY=1SA;BYHOUR=22", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=1;COUNT=5", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;BYHOUR=1;WKST=SU",
		"FREQ=DAILY;BYHOUR=1;UNTIL=20271107T060000Z", "FREQ=MINUTELY", "RRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=0"} {
		f.Add(s, int64(1_805_000_000), uint16(360))
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Fatal(err)
	}
	lo, hi := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	f.Fuzz(func(t *testing.T, rule string, start int64, minutes uint16) {
		r, err := calendar.ParseRRule(rule)
		if err != nil {
			var e *calendar.Error
			if !errors.As(err, &e) || e.Msg == "" || e.Zh == "" {
				t.Fatalf("ParseRRule(%q): %T %v, want a *calendar.Error in English and Chinese", rule, err, err)
			}
			return
		}
		if start < lo || start > hi {
			start = lo + (start%(hi-lo)+(hi-lo))%(hi-lo)
		}
		dur := time.Duration(int(minutes)%(7*24*60)+1) * time.Minute
		from := time.Unix(start, 0)
		to := from.Add(60 * 24 * time.Hour)
		for _, loc := range []*time.Location{ny, sh} {
			w := calendar.MaintenanceWindow{Name: "f", Rule: r, Duration: dur, Location: loc, From: from.Add(-40 * 24 * time.Hour)}
			occ := w.Occurrences(from, to)
			if len(occ) > calendar.MaxOccurrences {
				t.Fatalf("%q: %d occurrences, over the cap", rule, len(occ))
			}
			for i, o := range occ {
				if o.End.Sub(o.Start) != dur {
					t.Fatalf("%q in %s: %v lasts %v, want %v", rule, loc, o, o.End.Sub(o.Start), dur)
				}
				if !calendar.Overlaps(o, calendar.Interval{Start: from, End: to}) {
					t.Fatalf("%q in %s: %v is outside [%v, %v)", rule, loc, o, from, to)
				}
				if i > 0 && !occ[i-1].Start.Before(o.Start) {
					t.Fatalf("%q in %s: %v after %v", rule, loc, o, occ[i-1])
				}
			}
		}
	})
}
