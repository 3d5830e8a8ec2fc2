package document

import (
	"testing"
	"time"
)

// FuzzParseTime: every date in every document goes through ParseTime; an
// accepted time formats back to one that parses to the same instant.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-12-12T22:00:00+08:00", "2026-12-12t22:00:00z", "2026-12-12T22:00:00", "2026-02-30T00:00:00Z", "", "9999-12-31T23:59:60Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s)
		if err != nil {
			return
		}
		again, err := ParseTime(tm.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(tm) {
			t.Fatalf("ParseTime(%q) = %v; its RFC 3339 form parses to %v, %v", s, tm, again, err)
		}
	})
}
