package cronspec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/cronspec"
)

func TestParseAccepts(t *testing.T) {
	for _, spec := range []string{
		"*/15 * * * *", "*/5 * * * *", "0 8 1 1,4,7,10 *", "0 9 * * 1-5", "0 9 * * mon-fri", "0 9 * JAN-mar sun",
		"30 2 * * *", "0-30/10 8-18/2 * * *", "0 0 29 2 *", "0 0 31 2 1", "0 0 * * 7", "0 0 * * 5-7", "59 23 31 12 *",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@Daily", " 0 9 * * 1 ", "0\t9 * * 1",
	} {
		if _, err := cronspec.Parse(spec); err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, spec, field, want string
	}{
		{"issue 11: TZ=0 panicked robfig/cron", "TZ=0", "", "policy's timezone"},
		{"issue 11: empty TZ= panicked robfig/cron", "TZ=", "", "policy's timezone"},
		{"issue 11: CRON_TZ=UTC panicked robfig/cron", "CRON_TZ=UTC", "", "policy's timezone"},
		{"a timezone prefix before a valid spec", "CRON_TZ=Asia/Shanghai 0 8 * * *", "", "timezone"},
		{"issue 11: Feb 31 never runs", "0 0 31 2 *", cronspec.FieldDayOfMonth, "never runs"},
		{"issue 11: Feb 30 never runs", "0 0 30 2 *", cronspec.FieldDayOfMonth, "never runs"},
		{"Apr/Jun 31 never runs", "0 0 31 4,6,9,11 *", cronspec.FieldDayOfMonth, "never runs"},
		{"issue 11: @every 0s", "@every 0s", "", "more often than once a minute"},
		{"@every 1s", "@every 1s", "", "more often than once a minute"},
		{"@every 1h", "@every 1h", "", "@every is not allowed"},
		{"a seconds field", "*/10 * * * * *", "", "no seconds"},
		{"a year field", "0 0 0 1 1 * 2027", "", "no seconds (or year)"},
		{"four fields", "*/5 * * *", "", "has 4 fields"},
		{"empty", "", "", "is empty"},
		{"blank", "   ", "", "is empty"},
		{"words", "every monday", "", "has 2 fields"},
		{"unknown word", "@reboot", "", "is not one of"},
		{"word with extra", "@daily 1", "", "is not one of"},
		{"minute out of range", "61 * * * *", cronspec.FieldMinute, "0-59"},
		{"hour out of range", "0 24 * * *", cronspec.FieldHour, "0-23"},
		{"day 0", "0 0 0 * *", cronspec.FieldDayOfMonth, "1-31"},
		{"month 13", "0 0 1 13 *", cronspec.FieldMonth, "1-12"},
		{"weekday 8", "0 0 * * 8", cronspec.FieldDayOfWeek, "0-7"},
		{"bad name", "0 0 * * funday", cronspec.FieldDayOfWeek, "name such as mon"},
		{"negative", "-1 * * * *", cronspec.FieldMinute, "0-59"},
		{"sign", "+1 * * * *", cronspec.FieldMinute, "0-59"},
		{"huge number", "99999999999999999999 * * * *", cronspec.FieldMinute, "0-59"},
		{"backwards range", "0 18-8 * * *", cronspec.FieldHour, "backwards"},
		{"step 0", "*/0 * * * *", cronspec.FieldMinute, "step"},
		{"step larger than range is not every 90 minutes", "*/90 * * * *", cronspec.FieldMinute, "cannot run every 90 minutes"},
		{"step of one value", "*/60 * * * *", cronspec.FieldMinute, "larger than the range"},
		{"step without range", "5/15 * * * *", cronspec.FieldMinute, "write 5-59/15"},
		{"empty list item", "1,,2 * * * *", cronspec.FieldMinute, "empty item"},
		{"trailing comma", "0 8 1 1,4, *", cronspec.FieldMonth, "empty item"},
		{"Quartz ?", "0 0 ? * MON", cronspec.FieldDayOfMonth, "?, L, W"},
		{"Quartz L", "0 0 L * *", cronspec.FieldDayOfMonth, "L, W"},
		{"Quartz #", "0 0 * * 5#3", cronspec.FieldDayOfWeek, "#"},
		{"newline", "0 0 * * *\n0 1 * * *", "", "one line"},
		{"non-ASCII", "０ 0 * * *", "", "ASCII"},
		{"too long", strings.Repeat("1,", 200) + "1 * * * *", "", "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := cronspec.Parse(tc.spec)
			var e *cronspec.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, %v; want a *cronspec.Error", tc.spec, s, err)
			}
			if e.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", e.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if e.Zh == "" || !strings.Contains(err.Error(), " / ") {
				t.Errorf("error %q has no Chinese beside the English", err)
			}
		})
	}
}

func load(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// runs lists the first n runs after from.
func runs(t *testing.T, spec string, loc *time.Location, from time.Time, n int) []string {
	t.Helper()
	s, err := cronspec.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.In(loc)
	var out []string
	for i := 0; i < n; i++ {
		next := sc.Next(from)
		if !next.After(from) {
			t.Fatalf("%s: Next(%s) = %s, not after", spec, from, next)
		}
		out = append(out, next.Format("2006-01-02 15:04 MST"))
		from = next
	}
	return out
}

func TestNextAcrossDaylightSaving(t *testing.T) {
	ny := load(t, "America/New_York")
	sh := load(t, "Asia/Shanghai")
	tests := []struct {
		name string
		spec string
		loc  *time.Location
		from time.Time
		want []string
	}{
		{"issue 11: 2:30 skipped by spring-forward runs once at the transition", "30 2 * * *", ny, time.Date(2027, 3, 13, 0, 0, 0, 0, ny),
			[]string{"2027-03-13 02:30 EST", "2027-03-14 03:00 EDT", "2027-03-15 02:30 EDT"}},
		{"2:00, 2:15, 2:30, 2:45 in the gap run once, at 3:00", "*/15 * * * *", ny, time.Date(2027, 3, 14, 1, 30, 0, 0, ny),
			[]string{"2027-03-14 01:45 EST", "2027-03-14 03:00 EDT", "2027-03-14 03:15 EDT"}},
		{"hourly on spring-forward day", "0 * * * *", ny, time.Date(2027, 3, 14, 0, 30, 0, 0, ny),
			[]string{"2027-03-14 01:00 EST", "2027-03-14 03:00 EDT", "2027-03-14 04:00 EDT"}},
		{"3:00 itself is not run twice", "0 2,3 * * *", ny, time.Date(2027, 3, 14, 0, 0, 0, 0, ny),
			[]string{"2027-03-14 03:00 EDT", "2027-03-15 02:00 EDT", "2027-03-15 03:00 EDT"}},
		{"issue 11: 1:30 repeated by fall-back runs once, the first time", "30 1 * * *", ny, time.Date(2027, 11, 6, 0, 0, 0, 0, ny),
			[]string{"2027-11-06 01:30 EDT", "2027-11-07 01:30 EDT", "2027-11-08 01:30 EST"}},
		{"every 15 minutes through fall-back: the repeated hour once", "*/15 * * * *", ny, time.Date(2027, 11, 7, 1, 30, 0, 0, ny),
			[]string{"2027-11-07 01:45 EDT", "2027-11-07 02:00 EST", "2027-11-07 02:15 EST"}},
		{"from inside the repeated hour's second pass", "30 1 * * *", ny, time.Date(2027, 11, 7, 6, 10, 0, 0, time.UTC), // 1:10 EST
			[]string{"2027-11-08 01:30 EST"}},
		{"from inside the second pass, every minute", "* * * * *", ny, time.Date(2027, 11, 7, 6, 58, 30, 0, time.UTC), // 1:58:30 EST
			[]string{"2027-11-07 02:00 EST", "2027-11-07 02:01 EST"}},
		{"a given instant in UTC is read in the schedule's zone", "0 9 * * 1-5", ny, time.Date(2027, 3, 12, 15, 0, 0, 0, time.UTC),
			[]string{"2027-03-15 09:00 EDT", "2027-03-16 09:00 EDT"}},
		{"no DST: Shanghai on the New York spring day", "30 2 * * *", sh, time.Date(2027, 3, 13, 12, 0, 0, 0, sh),
			[]string{"2027-03-14 02:30 CST", "2027-03-15 02:30 CST"}},
		{"no DST: Shanghai on the New York fall day", "30 1 * * *", sh, time.Date(2027, 11, 6, 12, 0, 0, 0, sh),
			[]string{"2027-11-07 01:30 CST", "2027-11-08 01:30 CST"}},
		{"quarterly report in Shanghai", "0 8 1 1,4,7,10 *", sh, time.Date(2026, 11, 25, 10, 0, 0, 0, sh),
			[]string{"2027-01-01 08:00 CST", "2027-04-01 08:00 CST", "2027-07-01 08:00 CST"}},
		{"February 29 waits for a leap year", "0 0 29 2 *", time.UTC, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2028-02-29 00:00 UTC", "2032-02-29 00:00 UTC"}},
		{"both day fields restricted: either", "0 0 13 * 5", time.UTC, time.Date(2027, 8, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2027-08-06 00:00 UTC", "2027-08-13 00:00 UTC", "2027-08-20 00:00 UTC"}},
		{"7 is Sunday", "0 0 * * 7", time.UTC, time.Date(2027, 8, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2027-08-08 00:00 UTC"}},
		{"@weekly", "@weekly", time.UTC, time.Date(2027, 8, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2027-08-08 00:00 UTC", "2027-08-15 00:00 UTC"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runs(t, tc.spec, tc.loc, tc.from, len(tc.want))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("runs of %q after %s:\n got %q\nwant %q", tc.spec, tc.from, got, tc.want)
			}
		})
	}
}

// TestEveryLocalTimeOnceAcrossTheYear: over a whole year in New York, an
// every-minute schedule runs at strictly increasing instants, each at most
// an hour after the last (the gap), and names each local wall time once.
func TestEveryLocalTimeOnceAcrossTheYear(t *testing.T) {
	ny := load(t, "America/New_York")
	s, _ := cronspec.Parse("*/30 * * * *")
	sc := s.In(ny)
	seen := map[string]bool{}
	from := time.Date(2027, 1, 1, 0, 0, 0, 0, ny)
	for from.Year() == 2027 {
		next := sc.Next(from)
		if !next.After(from) || next.Sub(from) > time.Hour+30*time.Minute {
			t.Fatalf("Next(%s) = %s", from, next)
		}
		wall := next.Format("2006-01-02 15:04")
		if seen[wall] {
			t.Fatalf("local time %s ran twice", wall)
		}
		seen[wall] = true
		from = next
	}
	// 365 days × 48, less the two half-hours of the spring gap (which ran
	// once as 3:00), the two of the repeated hour being not repeated.
	if want := 365*48 - 2; len(seen) != want {
		t.Errorf("%d runs in 2027, want %d", len(seen), want)
	}
}

func BenchmarkNext(b *testing.B) {
	ny, _ := time.LoadLocation("America/New_York")
	s, _ := cronspec.Parse("0 8 1 1,4,7,10 *")
	sc := s.In(ny)
	from := time.Date(2027, 1, 2, 0, 0, 0, 0, ny)
	for b.Loop() {
		sc.Next(from)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		cronspec.Parse("0-30/10 8-18/2 * jan-mar mon-fri")
	}
}
