package calendar_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/document"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	tt, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// span is an interval written as two RFC 3339 times.
type span [2]string

func spans(t *testing.T, ivs []calendar.Interval, loc *time.Location) []span {
	t.Helper()
	out := []span{}
	for _, iv := range ivs {
		out = append(out, span{iv.Start.In(loc).Format(time.RFC3339), iv.End.In(loc).Format(time.RFC3339)})
	}
	return out
}

func window(t *testing.T, rule string, dur time.Duration, from string, loc *time.Location) calendar.MaintenanceWindow {
	t.Helper()
	r, err := calendar.ParseRRule(rule)
	if err != nil {
		t.Fatal(err)
	}
	w := calendar.MaintenanceWindow{Name: "w", Rule: r, Duration: dur, Location: loc}
	if from != "" {
		f, err := time.ParseInLocation("2006-01-02", from, loc)
		if err != nil {
			t.Fatal(err)
		}
		w.From = f
	}
	return w
}

func TestOccurrences(t *testing.T) {
	ny, sh := zone(t, "America/New_York"), zone(t, "Asia/Shanghai")
	tests := []struct {
		name     string
		rule     string
		dur      time.Duration
		from     string // the window's first day
		loc      *time.Location
		lo, hi   string
		want     []span
		duration time.Duration // every occurrence's elapsed length, when not dur
	}{
		{name: "R-5.1.5 weekend nights in Asia/Shanghai (no DST)", rule: "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=22;BYMINUTE=0", dur: 6 * time.Hour, loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-01-11T00:00:00+08:00",
			want: []span{{"2027-01-02T22:00:00+08:00", "2027-01-03T04:00:00+08:00"}, {"2027-01-03T22:00:00+08:00", "2027-01-04T04:00:00+08:00"},
				{"2027-01-09T22:00:00+08:00", "2027-01-10T04:00:00+08:00"}, {"2027-01-10T22:00:00+08:00", "2027-01-11T04:00:00+08:00"}}},
		{name: "an occurrence open at the start of the range is included", rule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", dur: 6 * time.Hour, loc: sh,
			lo: "2027-01-03T01:00:00+08:00", hi: "2027-01-03T02:00:00+08:00",
			want: []span{{"2027-01-02T22:00:00+08:00", "2027-01-03T04:00:00+08:00"}}},
		{name: "half-open: an occurrence ending at the range start is not in it", rule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", dur: 6 * time.Hour, loc: sh,
			lo: "2027-01-03T04:00:00+08:00", hi: "2027-01-09T22:00:00+08:00", want: []span{}},
		{name: "DST: 02:30 skipped on 2027-03-14 in New York opens at 03:00 EDT, as cronspec runs it", rule: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", dur: time.Hour, loc: ny,
			lo: "2027-03-13T00:00:00-05:00", hi: "2027-03-16T00:00:00-04:00",
			want: []span{{"2027-03-13T02:30:00-05:00", "2027-03-13T03:30:00-05:00"}, {"2027-03-14T03:00:00-04:00", "2027-03-14T04:00:00-04:00"},
				{"2027-03-15T02:30:00-04:00", "2027-03-15T03:30:00-04:00"}}},
		{name: "DST: two start times in the gap open once, at 03:00", rule: "FREQ=DAILY;BYHOUR=2;BYMINUTE=0,30", dur: time.Hour, loc: ny,
			lo: "2027-03-14T00:00:00-05:00", hi: "2027-03-15T00:00:00-04:00",
			want: []span{{"2027-03-14T03:00:00-04:00", "2027-03-14T04:00:00-04:00"}}},
		{name: "DST: 01:30 repeated on 2027-11-07 in New York opens once, at the first 01:30 (EDT)", rule: "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", dur: time.Hour, loc: ny,
			lo: "2027-11-06T00:00:00-04:00", hi: "2027-11-09T00:00:00-05:00",
			want: []span{{"2027-11-06T01:30:00-04:00", "2027-11-06T02:30:00-04:00"}, {"2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-05:00"},
				{"2027-11-08T01:30:00-05:00", "2027-11-08T02:30:00-05:00"}}},
		{name: "DST: a 6h window across fall-back lasts 6 elapsed hours (22:00 EDT to 03:00 EST)", rule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", dur: 6 * time.Hour, loc: ny,
			lo: "2027-11-06T00:00:00-04:00", hi: "2027-11-08T00:00:00-05:00",
			want: []span{{"2027-11-06T22:00:00-04:00", "2027-11-07T03:00:00-05:00"}}},
		{name: "DST: a 6h window across spring-forward lasts 6 elapsed hours (22:00 EST to 05:00 EDT)", rule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", dur: 6 * time.Hour, loc: ny,
			lo: "2027-03-13T00:00:00-05:00", hi: "2027-03-15T00:00:00-04:00",
			want: []span{{"2027-03-13T22:00:00-05:00", "2027-03-14T05:00:00-04:00"}}},
		{name: "monthly on the first Saturday", rule: "FREQ=MONTHLY;BYDAY=1SA;BYHOUR=22", dur: 6 * time.Hour, loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-04-01T00:00:00+08:00",
			want: []span{{"2027-01-02T22:00:00+08:00", "2027-01-03T04:00:00+08:00"}, {"2027-02-06T22:00:00+08:00", "2027-02-07T04:00:00+08:00"},
				{"2027-03-06T22:00:00+08:00", "2027-03-07T04:00:00+08:00"}}},
		{name: "monthly on the last Sunday", rule: "FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=1", dur: 2 * time.Hour, loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-03-01T00:00:00+08:00",
			want: []span{{"2027-01-31T01:00:00+08:00", "2027-01-31T03:00:00+08:00"}, {"2027-02-28T01:00:00+08:00", "2027-02-28T03:00:00+08:00"}}},
		{name: "monthly on the last day (-1), February and a leap year", rule: "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=23", dur: time.Hour, loc: sh,
			lo: "2028-01-15T00:00:00+08:00", hi: "2028-04-01T00:00:00+08:00",
			want: []span{{"2028-01-31T23:00:00+08:00", "2028-02-01T00:00:00+08:00"}, {"2028-02-29T23:00:00+08:00", "2028-03-01T00:00:00+08:00"},
				{"2028-03-31T23:00:00+08:00", "2028-04-01T00:00:00+08:00"}}},
		{name: "monthly on day 31 skips the months without one", rule: "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=0", dur: time.Hour, loc: sh,
			lo: "2027-03-01T00:00:00+08:00", hi: "2027-06-01T00:00:00+08:00",
			want: []span{{"2027-03-31T00:00:00+08:00", "2027-03-31T01:00:00+08:00"}, {"2027-05-31T00:00:00+08:00", "2027-05-31T01:00:00+08:00"}}},
		{name: "monthly BYDAY with BYMONTHDAY: both must match (Friday the 13th)", rule: "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;BYHOUR=13", dur: time.Hour, loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2028-01-01T00:00:00+08:00",
			want: []span{{"2027-08-13T13:00:00+08:00", "2027-08-13T14:00:00+08:00"}}},
		{name: "INTERVAL=2 weekly counts weeks from the first day", rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;BYHOUR=22", dur: 2 * time.Hour, from: "2027-01-01", loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-02-01T00:00:00+08:00",
			want: []span{{"2027-01-02T22:00:00+08:00", "2027-01-03T00:00:00+08:00"}, {"2027-01-16T22:00:00+08:00", "2027-01-17T00:00:00+08:00"},
				{"2027-01-30T22:00:00+08:00", "2027-01-31T00:00:00+08:00"}}},
		{name: "INTERVAL=3 monthly: quarterly", rule: "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=0", dur: time.Hour, from: "2027-01-01", loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2028-01-01T00:00:00+08:00",
			want: []span{{"2027-01-01T00:00:00+08:00", "2027-01-01T01:00:00+08:00"}, {"2027-04-01T00:00:00+08:00", "2027-04-01T01:00:00+08:00"},
				{"2027-07-01T00:00:00+08:00", "2027-07-01T01:00:00+08:00"}, {"2027-10-01T00:00:00+08:00", "2027-10-01T01:00:00+08:00"}}},
		{name: "INTERVAL=2 daily from the first day", rule: "FREQ=DAILY;INTERVAL=2;BYHOUR=3", dur: time.Hour, from: "2027-01-02", loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-01-07T00:00:00+08:00",
			want: []span{{"2027-01-02T03:00:00+08:00", "2027-01-02T04:00:00+08:00"}, {"2027-01-04T03:00:00+08:00", "2027-01-04T04:00:00+08:00"},
				{"2027-01-06T03:00:00+08:00", "2027-01-06T04:00:00+08:00"}}},
		{name: "COUNT counts from the first day, also before the range", rule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22;COUNT=3", dur: time.Hour, from: "2027-01-01", loc: sh,
			lo: "2027-01-10T00:00:00+08:00", hi: "2027-03-01T00:00:00+08:00",
			want: []span{{"2027-01-16T22:00:00+08:00", "2027-01-16T23:00:00+08:00"}}},
		{name: "UNTIL as a date includes that day", rule: "FREQ=DAILY;BYHOUR=22;UNTIL=20270103", dur: time.Hour, loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-02-01T00:00:00+08:00",
			want: []span{{"2027-01-01T22:00:00+08:00", "2027-01-01T23:00:00+08:00"}, {"2027-01-02T22:00:00+08:00", "2027-01-02T23:00:00+08:00"},
				{"2027-01-03T22:00:00+08:00", "2027-01-03T23:00:00+08:00"}}},
		{name: "UNTIL in UTC compares instants", rule: "FREQ=DAILY;BYHOUR=22;UNTIL=20270102T140000Z", dur: time.Hour, loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-02-01T00:00:00+08:00",
			want: []span{{"2027-01-01T22:00:00+08:00", "2027-01-01T23:00:00+08:00"}, {"2027-01-02T22:00:00+08:00", "2027-01-02T23:00:00+08:00"}}},
		{name: "an empty range has none", rule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", dur: 6 * time.Hour, loc: sh,
			lo: "2027-01-03T01:00:00+08:00", hi: "2027-01-03T01:00:00+08:00", want: []span{}},
		{name: "an inverted range has none", rule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", dur: 6 * time.Hour, loc: sh,
			lo: "2027-01-03T02:00:00+08:00", hi: "2027-01-03T01:00:00+08:00", want: []span{}},
		{name: "a first day after the range: none", rule: "FREQ=DAILY;BYHOUR=22", dur: time.Hour, from: "2027-06-01", loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-02-01T00:00:00+08:00", want: []span{}},
		{name: "weekdays only, daily with BYDAY", rule: "FREQ=DAILY;BYDAY=MO,FR;BYHOUR=20", dur: time.Hour, loc: sh,
			lo: "2027-01-01T00:00:00+08:00", hi: "2027-01-08T00:00:00+08:00",
			want: []span{{"2027-01-01T20:00:00+08:00", "2027-01-01T21:00:00+08:00"}, {"2027-01-04T20:00:00+08:00", "2027-01-04T21:00:00+08:00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := window(t, tt.rule, tt.dur, tt.from, tt.loc)
			got := calendar.Occurrences(w, at(t, tt.lo), at(t, tt.hi))
			if d := cmp.Diff(tt.want, spans(t, got, tt.loc)); d != "" {
				t.Errorf("occurrences (-want +got):\n%s", d)
			}
			for _, o := range got {
				if o.End.Sub(o.Start) != tt.dur {
					t.Errorf("%v lasts %v, want %v elapsed", o, o.End.Sub(o.Start), tt.dur)
				}
			}
		})
	}
}

func TestOccurrencesBounded(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	w := window(t, "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23", time.Hour, "", sh)
	got := w.Occurrences(at(t, "2027-01-01T00:00:00Z"), at(t, "2037-01-01T00:00:00Z"))
	if len(got) != calendar.MaxOccurrences {
		t.Errorf("%d occurrences over ten years of hourly windows, want the cap %d", len(got), calendar.MaxOccurrences)
	}
	// A window that cannot be read, or a zero one, opens never.
	for _, w := range []calendar.MaintenanceWindow{{Name: "nil rule", Duration: time.Hour, Location: sh},
		{Name: "no zone", Rule: w.Rule, Duration: time.Hour}, {Name: "no duration", Rule: w.Rule, Location: sh},
		{Name: "interval without first day", Rule: mustRule(t, "FREQ=DAILY;INTERVAL=2;BYHOUR=1"), Duration: time.Hour, Location: sh},
		{Name: "count without first day", Rule: mustRule(t, "FREQ=DAILY;COUNT=2;BYHOUR=1"), Duration: time.Hour, Location: sh}} {
		if got := w.Occurrences(at(t, "2027-01-01T00:00:00Z"), at(t, "2028-01-01T00:00:00Z")); len(got) != 0 {
			t.Errorf("%s: %d occurrences, want none", w.Name, len(got))
		}
	}
}

func mustRule(t *testing.T, s string) *calendar.Rule {
	t.Helper()
	r, err := calendar.ParseRRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOverlaps(t *testing.T) {
	iv := func(a, b string) calendar.Interval { return calendar.Interval{Start: at(t, a), End: at(t, b)} }
	base := iv("2027-01-01T10:00:00Z", "2027-01-01T12:00:00Z")
	tests := []struct {
		name string
		b    calendar.Interval
		want bool
	}{
		{"inside", iv("2027-01-01T10:30:00Z", "2027-01-01T11:00:00Z"), true},
		{"across the start", iv("2027-01-01T09:00:00Z", "2027-01-01T10:01:00Z"), true},
		{"across the end", iv("2027-01-01T11:59:00Z", "2027-01-01T13:00:00Z"), true},
		{"around", iv("2027-01-01T09:00:00Z", "2027-01-01T13:00:00Z"), true},
		{"half-open: ends where it starts", iv("2027-01-01T09:00:00Z", "2027-01-01T10:00:00Z"), false},
		{"half-open: starts where it ends", iv("2027-01-01T12:00:00Z", "2027-01-01T13:00:00Z"), false},
		{"before", iv("2027-01-01T08:00:00Z", "2027-01-01T09:00:00Z"), false},
		{"empty inside", iv("2027-01-01T11:00:00Z", "2027-01-01T11:00:00Z"), false},
		{"inverted across", iv("2027-01-01T13:00:00Z", "2027-01-01T09:00:00Z"), false},
		{"same instant in another zone", iv("2027-01-01T18:00:00+08:00", "2027-01-01T19:00:00+08:00"), true},
	}
	for _, tt := range tests {
		if got := calendar.Overlaps(base, tt.b); got != tt.want {
			t.Errorf("%s: Overlaps = %v, want %v", tt.name, got, tt.want)
		}
		if got := calendar.Overlaps(tt.b, base); got != tt.want {
			t.Errorf("%s: Overlaps reversed = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCovers(t *testing.T) {
	sh, ny := zone(t, "Asia/Shanghai"), zone(t, "America/New_York")
	dispatch := window(t, "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", 6*time.Hour, "", sh)
	dispatch.Name, dispatch.Systems = "dispatch", []string{"D5000", "OMS"}
	marketing := window(t, "FREQ=WEEKLY;BYDAY=SA;BYHOUR=20", 10*time.Hour, "", sh)
	marketing.Name, marketing.Systems = "marketing", []string{"营销"}
	nightly := window(t, "FREQ=DAILY;BYHOUR=1", 2*time.Hour, "", sh)
	nightly.Name, nightly.Systems = "nightly", []string{"OMS"}
	nyWeekend := window(t, "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", 6*time.Hour, "", ny)
	nyWeekend.Systems = []string{"billing"}
	ws := []calendar.MaintenanceWindow{dispatch, marketing, nightly, nyWeekend}
	iv := func(a, b string) calendar.Interval { return calendar.Interval{Start: at(t, a), End: at(t, b)} }
	tests := []struct {
		name      string
		systems   []string
		iv        calendar.Interval
		uncovered []string
	}{
		{"R-5.1.5: the example's REL-2026-0041 window is inside the dispatch window", []string{"D5000", "OMS"},
			iv("2026-10-17T22:00:00+08:00", "2026-10-18T04:00:00+08:00"), nil},
		{"R-5.1.5: REL-2026-0042 inside the marketing window", []string{"营销"}, iv("2026-11-14T20:00:00+08:00", "2026-11-15T06:00:00+08:00"), nil},
		{"one minute past the window's end", []string{"D5000"}, iv("2026-10-17T22:00:00+08:00", "2026-10-18T04:01:00+08:00"), []string{"D5000"}},
		{"a weekday window", []string{"D5000", "OMS"}, iv("2026-10-14T22:00:00+08:00", "2026-10-14T23:00:00+08:00"), []string{"D5000", "OMS"}},
		{"any window of the system: OMS's nightly one covers it, D5000 has none then", []string{"D5000", "OMS"},
			iv("2026-10-14T01:00:00+08:00", "2026-10-14T02:00:00+08:00"), []string{"D5000"}},
		{"a system without windows is not restricted", []string{"CRM"}, iv("2026-10-14T12:00:00+08:00", "2026-10-14T13:00:00+08:00"), nil},
		{"across two occurrences is inside neither", []string{"OMS"}, iv("2026-10-14T02:00:00+08:00", "2026-10-15T02:00:00+08:00"), []string{"OMS"}},
		{"longer than any occurrence", []string{"营销"}, iv("2026-11-14T20:00:00+08:00", "2026-11-22T06:00:00+08:00"), []string{"营销"}},
		{"a release window that ends before it starts is inside nothing", []string{"D5000"},
			iv("2026-10-18T04:00:00+08:00", "2026-10-17T22:00:00+08:00"), []string{"D5000"}},
		{"DST: 6 elapsed hours from 22:00 EDT on 2027-11-06 cover until 03:00 EST", []string{"billing"},
			iv("2027-11-06T22:00:00-04:00", "2027-11-07T03:00:00-05:00"), nil},
		{"DST: but not until 04:00 wall time", []string{"billing"},
			iv("2027-11-06T22:00:00-04:00", "2027-11-07T04:00:00-05:00"), []string{"billing"}},
		{"DST: across spring-forward, until 05:00 EDT", []string{"billing"},
			iv("2027-03-13T22:00:00-05:00", "2027-03-14T05:00:00-04:00"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := calendar.Uncovered(ws, tt.systems, tt.iv)
			if d := cmp.Diff(tt.uncovered, got); d != "" {
				t.Errorf("uncovered (-want +got):\n%s", d)
			}
			for _, s := range tt.systems {
				want := true
				for _, u := range tt.uncovered {
					if u == s {
						want = false
					}
				}
				if calendar.Covers(ws, s, tt.iv) != want {
					t.Errorf("Covers(%s) != %v", s, want)
				}
			}
		})
	}
	global := window(t, "FREQ=DAILY;BYHOUR=0", time.Hour, "", sh)
	if calendar.Covers([]calendar.MaintenanceWindow{global}, "anything", iv("2026-10-14T12:00:00+08:00", "2026-10-14T12:30:00+08:00")) {
		t.Error("a window naming no systems restricts every system")
	}
	broken := calendar.MaintenanceWindow{Name: "broken", Systems: []string{"OMS"}, Duration: time.Hour, Location: sh}
	if calendar.Covers([]calendar.MaintenanceWindow{broken}, "OMS", iv("2026-10-14T12:00:00+08:00", "2026-10-14T12:30:00+08:00")) {
		t.Error("fail closed: a window that cannot be read covers nothing, and its system stays restricted")
	}
}

func TestFreezes(t *testing.T) {
	iv := func(a, b string) calendar.Interval { return calendar.Interval{Start: at(t, a), End: at(t, b)} }
	spring := calendar.Freeze{Name: "spring", Interval: iv("2027-02-01T00:00:00+08:00", "2027-02-15T00:00:00+08:00")}
	audit := calendar.Freeze{Name: "audit", Systems: []string{"营销"}, Interval: iv("2027-03-01T00:00:00+08:00", "2027-03-08T00:00:00+08:00")}
	broken := calendar.Freeze{Name: "broken", Systems: []string{"OMS"}, Interval: calendar.Always, Unreadable: true}
	fs := []calendar.Freeze{spring, audit, broken}
	names := func(fs []calendar.Freeze) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return out
	}
	tests := []struct {
		name    string
		systems []string
		iv      calendar.Interval
		want    []string
	}{
		{"R-5.1.6: a global freeze applies to every system", []string{"D5000"}, iv("2027-02-10T22:00:00+08:00", "2027-02-11T04:00:00+08:00"), []string{"spring"}},
		{"a release overlapping the freeze's start", []string{"D5000"}, iv("2027-01-31T22:00:00+08:00", "2027-02-01T04:00:00+08:00"), []string{"spring"}},
		{"half-open: a release ending when the freeze starts", []string{"D5000"}, iv("2027-01-31T22:00:00+08:00", "2027-02-01T00:00:00+08:00"), []string{}},
		{"half-open: a release starting when it ends", []string{"D5000"}, iv("2027-02-15T00:00:00+08:00", "2027-02-15T04:00:00+08:00"), []string{}},
		{"a per-system freeze applies to its system", []string{"D5000", "营销"}, iv("2027-03-06T22:00:00+08:00", "2027-03-07T04:00:00+08:00"), []string{"audit"}},
		{"and not to another", []string{"D5000"}, iv("2027-03-06T22:00:00+08:00", "2027-03-07T04:00:00+08:00"), []string{}},
		{"fail closed: an unreadable freeze freezes all time for its systems", []string{"OMS"}, iv("2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z"), []string{"broken"}},
		{"fail closed: a release naming no system is under every freeze", nil, iv("2027-03-06T22:00:00+08:00", "2027-03-07T04:00:00+08:00"), []string{"audit", "broken"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, names(calendar.Freezes(fs, tt.systems, tt.iv))); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	if d := cmp.Diff([]string{"spring"}, names(calendar.FreezesAt(fs, []string{"D5000"}, at(t, "2027-02-01T00:00:00+08:00")))); d != "" {
		t.Errorf("FreezesAt the first instant (-want +got):\n%s", d)
	}
	if got := calendar.FreezesAt(fs, []string{"D5000"}, at(t, "2027-02-15T00:00:00+08:00")); len(got) != 0 {
		t.Errorf("FreezesAt the end instant: %v, want none (half-open)", names(got))
	}
}

func TestFromPolicy(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	p := &document.Policy{
		MaintenanceWindows: []document.MaintenanceWindow{
			{Name: "ok", Systems: []string{"OMS"}, Weekly: &document.WeeklyRecurrence{Days: []string{"sat"}, Start: "22:00"}, Duration: "6h"},
			{Name: "ok", RRule: "FREQ=WEEKLY;BYDAY=SA;BYHOUR=22", Duration: "6h"},
			{Name: "bad-rule", RRule: "FREQ=MINUTELY", Duration: "6h"},
			{Name: "bad-day", Weekly: &document.WeeklyRecurrence{Days: []string{"sat", "caturday"}, Start: "22:00"}, Duration: "6h"},
			{Name: "zero", RRule: "FREQ=DAILY;BYHOUR=1", Duration: "0h"},
			{Name: "long", RRule: "FREQ=DAILY;BYHOUR=1", Duration: "8d"},
			{Name: "both", RRule: "FREQ=DAILY;BYHOUR=1", Weekly: &document.WeeklyRecurrence{Days: []string{"sat"}, Start: "22:00"}, Duration: "1h"},
			{Name: "neither", Duration: "1h"},
			{Name: "interval", RRule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;BYHOUR=1", Duration: "1h"},
			{Name: "never", RRule: "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=1", Duration: "1h"},
			{Name: "bad-from", RRule: "FREQ=DAILY;BYHOUR=1", Duration: "1h", From: "2027/01/01"},
			{Name: "ended", RRule: "FREQ=DAILY;BYHOUR=1;UNTIL=20261231", Duration: "1h", From: "2027-01-01"},
		},
		Freezes: []document.Freeze{
			{Name: "fine", Reason: "audit", Start: "2027-03-01T00:00:00+08:00", End: "2027-03-08T00:00:00+08:00", Systems: []string{"营销"}},
			{Name: "backwards", Start: "2027-03-08T00:00:00+08:00", End: "2027-03-01T00:00:00+08:00"},
			{Name: "empty", Start: "2027-03-08T00:00:00+08:00", End: "2027-03-08T00:00:00+08:00"},
			{Name: "fine", Start: "2027-13-01T00:00:00+08:00", End: "2027-03-08T00:00:00+08:00"},
		},
		BlackoutWindows: []document.Window{{Name: "春节", Start: "2027-02-01T00:00:00+08:00", End: "2027-02-14T23:59:59+08:00"},
			{Name: "unreadable", Start: "soon", End: "later"}},
	}
	c, errs := calendar.FromPolicy(p, sh)
	var fields []string
	for _, e := range errs {
		fields = append(fields, calendar.FieldPath(e.Field))
		if e.Msg == "" || e.Zh == "" {
			t.Errorf("%s: a message in English and Chinese: %q / %q", calendar.FieldPath(e.Field), e.Msg, e.Zh)
		}
	}
	want := []string{
		"maintenanceWindows[1].name",
		"maintenanceWindows[2].rrule",
		"maintenanceWindows[3].weekly.days[1]",
		"maintenanceWindows[4].duration",
		"maintenanceWindows[5].duration",
		"maintenanceWindows[6].rrule",
		"maintenanceWindows[7].weekly",
		"maintenanceWindows[8].from",
		"maintenanceWindows[9].rrule",
		"maintenanceWindows[10].from",
		"maintenanceWindows[11].rrule",
		"freezes[1].end",
		"freezes[2].end",
		"freezes[3].name",
		"freezes[3].start",
	}
	if d := cmp.Diff(want, fields); d != "" {
		t.Errorf("error fields (-want +got):\n%s\n%v", d, errs)
	}
	if len(c.Windows) != len(p.MaintenanceWindows) {
		t.Fatalf("%d windows, want every one kept (fail closed)", len(c.Windows))
	}
	for i, w := range c.Windows {
		if readable := w.Rule != nil && w.Duration > 0; readable != (i < 2) {
			t.Errorf("window %d %s: readable %v", i, w.Name, readable)
		}
	}
	var unreadable []string
	for _, f := range c.Freezes {
		if f.Unreadable {
			unreadable = append(unreadable, f.Name)
		}
	}
	if d := cmp.Diff([]string{"backwards", "empty", "fine", "unreadable"}, unreadable); d != "" {
		t.Errorf("unreadable freezes (-want +got):\n%s", d)
	}
	spring := c.Freezes[4]
	if !spring.Blackout || len(spring.Systems) != 0 || !spring.Start.Equal(at(t, "2027-02-01T00:00:00+08:00")) {
		t.Errorf("a blackout window is a global freeze: %+v", spring)
	}
	if d := cmp.Diff("2027-03-01T00:00:00+08:00", c.Freezes[0].Start.In(sh).Format(time.RFC3339)); d != "" {
		t.Error(d)
	}
}

func TestNextChange(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	p := &document.Policy{
		MaintenanceWindows: []document.MaintenanceWindow{{Name: "sat", Weekly: &document.WeeklyRecurrence{Days: []string{"sat"}, Start: "22:00"}, Duration: "6h"}},
		Freezes:            []document.Freeze{{Name: "f", Start: "2027-01-06T12:00:00+08:00", End: "2027-01-07T12:00:00+08:00"}},
	}
	c, errs := calendar.FromPolicy(p, sh)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct{ now, want string }{
		{"2027-01-01T00:00:00+08:00", "2027-01-02T22:00:00+08:00"}, // the window opens
		{"2027-01-02T22:00:00+08:00", "2027-01-03T04:00:00+08:00"}, // it closes
		{"2027-01-03T04:00:00+08:00", "2027-01-06T12:00:00+08:00"}, // the freeze starts
		{"2027-01-06T12:00:00+08:00", "2027-01-07T12:00:00+08:00"}, // it ends
		{"2027-01-07T12:00:00+08:00", "2027-01-09T22:00:00+08:00"},
	}
	for _, tt := range tests {
		got, ok := c.NextChange(at(t, tt.now))
		if !ok || got.In(sh).Format(time.RFC3339) != tt.want {
			t.Errorf("NextChange(%s) = %v %v, want %s", tt.now, got.In(sh).Format(time.RFC3339), ok, tt.want)
		}
	}
	if _, ok := (&calendar.Calendar{}).NextChange(at(t, tt0)); ok {
		t.Error("an empty calendar never changes")
	}
}

const tt0 = "2027-01-01T00:00:00Z"

func TestWallTime(t *testing.T) {
	ny, sh := zone(t, "America/New_York"), zone(t, "Asia/Shanghai")
	tests := []struct {
		name     string
		y        int
		mo       time.Month
		d, h, mi int
		loc      *time.Location
		want     string
	}{
		{"skipped: the end of the gap", 2027, 3, 14, 2, 30, ny, "2027-03-14T03:00:00-04:00"},
		{"skipped: 02:00 too", 2027, 3, 14, 2, 0, ny, "2027-03-14T03:00:00-04:00"},
		{"just before the gap", 2027, 3, 14, 1, 59, ny, "2027-03-14T01:59:00-05:00"},
		{"repeated: the first", 2027, 11, 7, 1, 30, ny, "2027-11-07T01:30:00-04:00"},
		{"after the repeat", 2027, 11, 7, 2, 0, ny, "2027-11-07T02:00:00-05:00"},
		{"no DST", 2027, 3, 14, 2, 30, sh, "2027-03-14T02:30:00+08:00"},
	}
	for _, tt := range tests {
		if got := calendar.WallTime(tt.y, tt.mo, tt.d, tt.h, tt.mi, tt.loc).Format(time.RFC3339); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
