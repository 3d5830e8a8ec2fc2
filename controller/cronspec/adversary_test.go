package cronspec_test

// Adversarial schedules (issue 11): specifications a policy author could
// write to crash relgate, make a job never run or run too often, and the
// daylight-saving days of zones with unusual transitions.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has

	"github.com/relgate/relgate/controller/cronspec"
)

// TestAdversarySpecsRefused: every one is refused with an *Error that names
// the field at fault where there is one; none panics.
func TestAdversarySpecsRefused(t *testing.T) {
	for _, tc := range []struct {
		spec, field string
	}{
		// robfig/cron's own prefixes, which once panicked in its parser.
		{"TZ=0", ""}, {"TZ=", ""}, {"CRON_TZ=UTC", ""}, {"tz=UTC 0 0 * * *", ""}, {"  CRON_TZ=Asia/Shanghai 0 0 * * *", ""},
		{"\tTZ=UTC 0 0 * * *", ""}, {"TZ=UTC", ""}, {"CRON_TZ=", ""}, {"TZ=../../etc/passwd 0 0 * * *", ""},
		// Never fires.
		{"0 0 31 2 *", cronspec.FieldDayOfMonth}, {"0 0 30,31 2 *", cronspec.FieldDayOfMonth},
		{"0 0 31 4,6,9,11 *", cronspec.FieldDayOfMonth}, {"0 0 31 feb *", cronspec.FieldDayOfMonth},
		{"0 0 30-31 2 *", cronspec.FieldDayOfMonth}, {"0 0 31 2 0-7", cronspec.FieldDayOfMonth},
		{"0 0 31 2 */1", cronspec.FieldDayOfMonth}, {"0 0 31 2 sun-sat", cronspec.FieldDayOfMonth},
		{"0 0 31 2,4 0-6", cronspec.FieldDayOfMonth},
		// More often than once a minute, or no fixed times.
		{"@every 0s", ""}, {"@every 1s", ""}, {"@every 1h", ""}, {"@every", ""}, {"@every -1m", ""},
		{"* * * * * *", ""}, {"0 * * * * * *", ""}, {"*/1 * * * * *", ""},
		// Not the grammar.
		{"@reboot", ""}, {"@daily 0", ""}, {"@ daily", ""}, {"@", ""}, {"@yearly@monthly", ""},
		{"", ""}, {"   ", ""}, {"* * * *", ""}, {"* * * * * * * *", ""},
		{"* * * * *\n* * * * *", ""}, {"* * * * *\x00", ""}, {"* * * * *\r", ""}, {"０ * * * *", ""}, {"١ * * * *", ""},
		{"*/0 * * * *", cronspec.FieldMinute}, {"*/60 * * * *", cronspec.FieldMinute}, {"0-59/0 * * * *", cronspec.FieldMinute},
		{"*/90 * * * *", cronspec.FieldMinute}, {"60 * * * *", cronspec.FieldMinute}, {"-1 * * * *", cronspec.FieldMinute},
		{"1- * * * *", cronspec.FieldMinute}, {"-5 * * * *", cronspec.FieldMinute}, {"5-1 * * * *", cronspec.FieldMinute},
		{"1,,2 * * * *", cronspec.FieldMinute}, {", * * * *", cronspec.FieldMinute}, {"1, * * * *", cronspec.FieldMinute},
		{"99999999999999999999 * * * *", cronspec.FieldMinute}, {"0x1 * * * *", cronspec.FieldMinute},
		{"1e1 * * * *", cronspec.FieldMinute}, {"+1 * * * *", cronspec.FieldMinute}, {"*/1/2 * * * *", cronspec.FieldMinute},
		{"1-2-3 * * * *", cronspec.FieldMinute}, {"5/15 * * * *", cronspec.FieldMinute}, {"*/-1 * * * *", cronspec.FieldMinute},
		{"** * * * *", cronspec.FieldMinute}, {"*-5 * * * *", cronspec.FieldMinute}, {"0 24 * * *", cronspec.FieldHour},
		{"0 */24 * * *", cronspec.FieldHour}, {"0 0 0 * *", cronspec.FieldDayOfMonth}, {"0 0 32 * *", cronspec.FieldDayOfMonth},
		{"0 0 * 0 *", cronspec.FieldMonth}, {"0 0 * 13 *", cronspec.FieldMonth}, {"0 0 * jan-feb-mar *", cronspec.FieldMonth},
		{"0 0 * january *", cronspec.FieldMonth}, {"0 0 * * 8", cronspec.FieldDayOfWeek}, {"0 0 * * 7-8", cronspec.FieldDayOfWeek},
		{"0 0 * * mon-sun", cronspec.FieldDayOfWeek}, {"0 0 * * */7", cronspec.FieldDayOfWeek},
		{"? * * * *", cronspec.FieldMinute}, {"0 0 L * *", cronspec.FieldDayOfMonth}, {"0 0 15W * *", cronspec.FieldDayOfMonth},
		{"0 0 LW * *", cronspec.FieldDayOfMonth}, {"0 0 * * 5#3", cronspec.FieldDayOfWeek}, {"0 0 * * 5L", cronspec.FieldDayOfWeek},
		{"0 0 ? * mon", cronspec.FieldDayOfMonth}, {"0 0 * * monday", cronspec.FieldDayOfWeek},
		// Over the length bound, also with a multi-byte character at the cut.
		{strings.Repeat("0,", 200) + "0 * * * *", ""}, {"0 0 * * *" + strings.Repeat(" ", 300), ""},
		{strings.Repeat("é", 150), ""}, {"a" + strings.Repeat("é", 150), ""},
	} {
		t.Run(fmt.Sprintf("%.40q", tc.spec), func(t *testing.T) {
			s, err := parseNoPanic(t, tc.spec)
			var e *cronspec.Error
			switch {
			case err == nil:
				t.Fatalf("accepted as %v", s)
			case !errors.As(err, &e):
				t.Fatalf("error %T %v, want *cronspec.Error", err, err)
			case e.Field != tc.field:
				t.Errorf("field %q, want %q: %v", e.Field, tc.field, err)
			case e.Msg == "" || e.Zh == "":
				t.Errorf("error without both languages: %+v", e)
			}
		})
	}
}

func parseNoPanic(t *testing.T, spec string) (s *cronspec.Spec, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Parse(%q) panicked: %v", spec, r)
		}
	}()
	return cronspec.Parse(spec)
}

// TestAdversaryRareSpecsStillRun: specifications that fire rarely are not
// mistaken for ones that never fire, and Next finds their next run even
// across the 2100 non-leap year.
func TestAdversaryRareSpecsStillRun(t *testing.T) {
	for _, tc := range []struct {
		spec string
		from time.Time
		want string
	}{
		{"0 0 29 2 *", time.Date(2097, 3, 1, 0, 0, 0, 0, time.UTC), "2104-02-29 00:00"},
		{"0 0 29 2 *", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC), "2032-02-29 00:00"},
		{"59 23 31 12 *", time.Date(2027, 12, 31, 23, 59, 0, 0, time.UTC), "2028-12-31 23:59"},
		{"0 0 31 2 mon", time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), "2027-02-08 00:00"}, // either field matches
		{"0 0 29 2 mon", time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), "2028-02-07 00:00"},
		{"0-59/59 23 31 dec *", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "2027-12-31 23:00"},
	} {
		t.Run(tc.spec+" from "+tc.from.Format("2006-01-02"), func(t *testing.T) {
			s, err := parseNoPanic(t, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.In(time.UTC).Next(tc.from).Format("2006-01-02 15:04"); got != tc.want {
				t.Errorf("Next = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestAdversaryTransitionDays checks Next against a brute-force oracle on
// the transition days of zones with unusual daylight saving: a 30-minute
// shift (Lord Howe), a 45-minute offset (Chatham), transitions at midnight
// (Santiago, Havana), and New York and London on the days issue 11 names.
// Every local time the specification names runs exactly once: at its first
// occurrence, or at the end of the gap that skipped it; nothing else runs.
func TestAdversaryTransitionDays(t *testing.T) {
	days := []struct {
		zone string
		day  string
	}{
		{"America/New_York", "2027-03-14"}, {"America/New_York", "2027-11-07"},
		{"Europe/London", "2027-03-28"}, {"Europe/London", "2027-10-31"},
		{"Australia/Lord_Howe", "2027-04-04"}, {"Australia/Lord_Howe", "2027-10-03"},
		{"Pacific/Chatham", "2027-04-04"}, {"Pacific/Chatham", "2027-09-26"},
		{"America/Santiago", "2027-04-03"}, {"America/Santiago", "2027-04-04"}, {"America/Santiago", "2027-09-05"},
		{"America/Havana", "2027-03-14"}, {"America/Havana", "2027-11-07"},
	}
	specs := []struct {
		spec  string
		match func(h, m int) bool
	}{
		{"*/15 * * * *", func(h, m int) bool { return m%15 == 0 }},
		{"*/7 * * * *", func(h, m int) bool { return m%7 == 0 }},
		{"30 2 * * *", func(h, m int) bool { return h == 2 && m == 30 }},
		{"30 1 * * *", func(h, m int) bool { return h == 1 && m == 30 }},
		{"0 0 * * *", func(h, m int) bool { return h == 0 && m == 0 }},
		{"45 2,3 * * *", func(h, m int) bool { return (h == 2 || h == 3) && m == 45 }},
		{"59 23 * * *", func(h, m int) bool { return h == 23 && m == 59 }},
	}
	for _, d := range days {
		loc, err := time.LoadLocation(d.zone)
		if err != nil {
			t.Fatal(err)
		}
		day, err := time.Parse("2006-01-02", d.day)
		if err != nil {
			t.Fatal(err)
		}
		o := newOracle(loc, day)
		if !o.transition {
			t.Fatalf("%s has no transition on %s: the table is wrong", d.zone, d.day)
		}
		for _, sp := range specs {
			t.Run(d.zone+" "+d.day+" "+sp.spec, func(t *testing.T) {
				want := map[int64]bool{}
				var last time.Time
				for h := 0; h < 24; h++ {
					for m := 0; m < 60; m++ {
						if sp.match(h, m) {
							u := o.runAt(h, m)
							want[u.Unix()] = true
							if u.After(last) {
								last = u
							}
						}
					}
				}
				s, err := parseNoPanic(t, sp.spec)
				if err != nil {
					t.Fatal(err)
				}
				sc := s.In(loc)
				got := map[int64]bool{}
				for at := sc.Next(o.start.Add(-time.Second)); !at.IsZero() && !at.After(last); at = sc.Next(at) {
					if got[at.Unix()] {
						t.Fatalf("%s runs twice", at)
					}
					got[at.Unix()] = true
					if !want[at.Unix()] {
						t.Errorf("runs at %s, which no local time of the specification maps to", at)
					}
				}
				for u := range want {
					if !got[u] {
						t.Errorf("does not run at %s", time.Unix(u, 0).In(loc))
					}
				}
			})
		}
	}
}

// oracle maps the local times of one day to instants by walking every
// minute of the three days around it.
type oracle struct {
	loc        *time.Location
	day        time.Time // the civil date, in UTC
	instants   []time.Time
	walls      []time.Time // wall time of each instant, as UTC
	start      time.Time   // the first instant whose wall date is day
	transition bool
}

func newOracle(loc *time.Location, day time.Time) *oracle {
	o := &oracle{loc: loc, day: day}
	_, off0 := day.Add(-24 * time.Hour).In(loc).Zone()
	for u := day.Add(-36 * time.Hour); u.Before(day.Add(60 * time.Hour)); u = u.Add(time.Minute) {
		l := u.In(loc)
		w := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
		o.instants, o.walls = append(o.instants, u), append(o.walls, w)
		if o.start.IsZero() && !w.Before(day) {
			o.start = u
		}
		if _, off := l.Zone(); off != off0 && !w.Before(day) && w.Before(day.Add(24*time.Hour)) {
			o.transition = true
		}
	}
	return o
}

// runAt is the instant local time h:m of the day runs at: its first
// occurrence, or, in a gap, the first instant after it.
func (o *oracle) runAt(h, m int) time.Time {
	w := o.day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	for i, x := range o.walls {
		if x.Equal(w) {
			return o.instants[i]
		}
	}
	for i, x := range o.walls {
		if x.After(w) {
			return o.instants[i]
		}
	}
	panic("outside the window")
}
