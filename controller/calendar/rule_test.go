package calendar_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/calendar"
)

func TestParseRRuleAccepts(t *testing.T) {
	for _, s := range []string{
		"FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=22;BYMINUTE=0",
		"RRULE:FREQ=WEEKLY;BYDAY=SA;BYHOUR=22",
		"rrule:freq=weekly;byday=sa;byhour=22",
		"FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
		"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=20",
		"FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=0",
		"FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=23",
		"FREQ=MONTHLY;BYDAY=1SA;BYHOUR=22",
		"FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=1",
		"FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;BYHOUR=13",
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;BYHOUR=22",
		"FREQ=WEEKLY;BYDAY=SA;BYHOUR=22;COUNT=10",
		"FREQ=WEEKLY;BYDAY=SA;BYHOUR=22;UNTIL=20271231",
		"FREQ=WEEKLY;BYDAY=SA;BYHOUR=22;UNTIL=20271231T235900",
		"FREQ=WEEKLY;BYDAY=SA;BYHOUR=22;UNTIL=20271231T155900Z",
		"FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=1;BYHOUR=8",
		"FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=SU;BYHOUR=3",
		"FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23",
		" FREQ=DAILY ; BYHOUR=2 ",
	} {
		if _, err := calendar.ParseRRule(s); err != nil {
			t.Errorf("ParseRRule(%q): %v", s, err)
		}
	}
}

func TestParseRRuleRejects(t *testing.T) {
	tests := []struct{ name, rule, want string }{
		{"bounded loops: minute-level recurrence refused at parse", "FREQ=MINUTELY;INTERVAL=1", "daily, weekly or monthly"},
		{"bounded loops: hourly refused", "FREQ=HOURLY;BYMINUTE=0", "FREQ=HOURLY is not allowed"},
		{"bounded loops: secondly refused", "FREQ=SECONDLY", "FREQ=SECONDLY is not allowed"},
		{"bounded loops: every minute of the day by BYMINUTE", "FREQ=DAILY;BYHOUR=1,2;BYMINUTE=0,1,2,3,4,5,6,7,8,9,10,11,12", "26 times a day"},
		{"yearly is not in the subset", "FREQ=YEARLY;BYHOUR=1", "not one of DAILY"},
		{"no FREQ", "BYDAY=SA;BYHOUR=22", "FREQ is missing"},
		{"no BYHOUR: no DTSTART to take it from", "FREQ=WEEKLY;BYDAY=SA", "BYHOUR is missing"},
		{"weekly without BYDAY", "FREQ=WEEKLY;BYHOUR=22", "needs BYDAY"},
		{"monthly without a day", "FREQ=MONTHLY;BYHOUR=22", "needs BYMONTHDAY"},
		{"RFC 5545: BYMONTHDAY not with WEEKLY", "FREQ=WEEKLY;BYDAY=SA;BYMONTHDAY=1;BYHOUR=2", "does not go with FREQ=WEEKLY"},
		{"ordinal day needs MONTHLY", "FREQ=WEEKLY;BYDAY=1SA;BYHOUR=2", "needs FREQ=MONTHLY"},
		{"RFC 5545: COUNT and UNTIL exclude each other", "FREQ=DAILY;BYHOUR=2;COUNT=3;UNTIL=20271231", "exclude each other"},
		{"interval 0", "FREQ=DAILY;INTERVAL=0;BYHOUR=2", "INTERVAL is a whole number"},
		{"interval too large", "FREQ=DAILY;INTERVAL=13;BYHOUR=2", "from 1 to 12"},
		{"count too large", "FREQ=DAILY;COUNT=1001;BYHOUR=2", "COUNT is a whole number"},
		{"count negative", "FREQ=DAILY;COUNT=-1;BYHOUR=2", "COUNT is a whole number"},
		{"hour 24", "FREQ=DAILY;BYHOUR=24", "BYHOUR \"24\""},
		{"minute 60", "FREQ=DAILY;BYHOUR=1;BYMINUTE=60", "BYMINUTE \"60\""},
		{"month day 0", "FREQ=MONTHLY;BYMONTHDAY=0;BYHOUR=1", "BYMONTHDAY \"0\""},
		{"month day 32", "FREQ=MONTHLY;BYMONTHDAY=32;BYHOUR=1", "BYMONTHDAY \"32\""},
		{"sixth Saturday", "FREQ=MONTHLY;BYDAY=6SA;BYHOUR=1", "BYDAY \"6SA\""},
		{"bad weekday", "FREQ=WEEKLY;BYDAY=SAT;BYHOUR=1", "BYDAY \"SAT\""},
		{"month 13", "FREQ=DAILY;BYMONTH=13;BYHOUR=1", "BYMONTH \"13\""},
		{"bad until", "FREQ=DAILY;BYHOUR=1;UNTIL=2027-12-31", "UNTIL=2027-12-31 is not a date"},
		{"until not a calendar date", "FREQ=DAILY;BYHOUR=1;UNTIL=20270231", "is not a date"},
		{"BYSETPOS not in the subset", "FREQ=MONTHLY;BYDAY=SA;BYSETPOS=1;BYHOUR=1", "BYSETPOS is not part"},
		{"DTSTART inside the rule", "FREQ=DAILY;BYHOUR=1;DTSTART=20270101", "DTSTART is not part"},
		{"unknown part", "FREQ=DAILY;BYHOUR=1;X-FOO=1", "X-FOO is not an RRULE part"},
		{"repeated part", "FREQ=DAILY;FREQ=WEEKLY;BYHOUR=1", "FREQ is given twice"},
		{"empty part", "FREQ=DAILY;;BYHOUR=1", "is not NAME=VALUE"},
		{"empty", "", "the rule is empty"},
		{"prefix only", "RRULE:", "the rule is empty"},
		{"newline", "FREQ=DAILY\nBYHOUR=1", "plain ASCII on one line"},
		{"too long", "FREQ=DAILY;BYHOUR=1;" + strings.Repeat("BYMINUTE=1;", 20), "longer than 200 bytes"},
		{"WKST other than MO or SU", "FREQ=WEEKLY;WKST=WE;BYDAY=SA;BYHOUR=1", "WKST is MO or SU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calendar.ParseRRule(tt.rule)
			var e *calendar.Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseRRule(%q) = %v, want a *calendar.Error", tt.rule, err)
			}
			if !strings.Contains(e.Msg, tt.want) {
				t.Errorf("ParseRRule(%q): %q does not say %q", tt.rule, e.Msg, tt.want)
			}
			if e.Zh == "" || e.Zh == e.Msg {
				t.Errorf("ParseRRule(%q): no Chinese message (%q)", tt.rule, e.Zh)
			}
		})
	}
}

func TestWeeklyRule(t *testing.T) {
	tests := []struct {
		name  string
		days  []string
		start string
		field string // "" when accepted
	}{
		{"weekend nights", []string{"sat", "sun"}, "22:00", ""},
		{"names in any case", []string{"Sat", "SUN"}, "00:00", ""},
		{"no days", nil, "22:00", "days"},
		{"unknown day", []string{"sat", "saturday"}, "22:00", "days[1]"},
		{"day twice", []string{"sat", "sat"}, "22:00", "days[1]"},
		{"hour 24", []string{"sat"}, "24:00", "start"},
		{"no leading zero", []string{"sat"}, "2:00", "start"},
		{"seconds", []string{"sat"}, "22:00:00", "start"},
		{"twelve-hour", []string{"sat"}, "10pm", "start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calendar.WeeklyRule(tt.days, tt.start)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *calendar.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *calendar.Error at %s", err, tt.field)
			}
			if got := calendar.FieldPath(e.Field); got != tt.field {
				t.Errorf("field %s, want %s (%v)", got, tt.field, err)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration // 0: refused
	}{
		{"6h", 6 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"168h", calendar.MaxDuration},
		{"169h", 0}, // more than 7 days
		{"0h", 0},   // not more than zero
		{"0m", 0},
		{"-1h", 0},
		{"1.5h", 0},
		{"30s", 0},
		{"1d", 0},
		{"", 0},
		{"h", 0},
		{"99999999999h", 0},
	}
	for _, tt := range tests {
		got, err := calendar.ParseDuration(tt.in)
		if tt.want == 0 {
			var e *calendar.Error
			if !errors.As(err, &e) || got != 0 {
				t.Errorf("ParseDuration(%q) = %v, %v; want a *calendar.Error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
