package cronspec_test

import (
	"errors"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/cronspec"
)

// FuzzParse: Parse never panics and fails only with an *Error; an accepted
// specification runs within about four years of any start, at strictly
// increasing instants on whole minutes, in a zone with DST and one without.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"*/15 * * * *", "0 8 1 1,4,7,10 *", "0 9 * * mon-fri", "30 2 * * *", "0 0 29 2 *",
		"@weekly", "TZ=0", "CRON_TZ=UTC", "@every 0s", "0 0 31 2 *", "*/90 * * * *", "5/15 * * * *"} {
		f.Add(s, int64(1_805_000_000))
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
	f.Fuzz(func(t *testing.T, spec string, start int64) {
		s, err := cronspec.Parse(spec)
		if err != nil {
			var e *cronspec.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): %T %v, want *cronspec.Error", spec, err, err)
			}
			return
		}
		if start < lo || start > hi {
			start = lo + (start%(hi-lo)+(hi-lo))%(hi-lo)
		}
		from := time.Unix(start, 0)
		for _, loc := range []*time.Location{ny, sh, time.UTC} {
			sc := s.In(loc)
			t0 := from
			for i := 0; i < 3; i++ {
				next := sc.Next(t0)
				if !next.After(t0) {
					t.Fatalf("%q in %s: Next(%s) = %s, not after", spec, loc, t0, next)
				}
				if next.Sub(t0) > 4*366*24*time.Hour+24*time.Hour {
					t.Fatalf("%q in %s: Next(%s) = %s, more than 4 years on", spec, loc, t0, next)
				}
				if next.Second() != 0 || next.Nanosecond() != 0 {
					t.Fatalf("%q in %s: Next(%s) = %s, not on a minute", spec, loc, t0, next)
				}
				t0 = next
			}
		}
	})
}
