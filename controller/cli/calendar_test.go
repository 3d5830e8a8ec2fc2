package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apognu/gocal"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// calendarPolicy replaces the example policy's windows and freeze: a
// weekly window for the marketing system and a freeze over the national
// holiday.
const calendarPolicy = `maintenanceWindows:
  - name: weekend-night
    systems: [营销系统]
    weekly: {days: [sat], start: "22:00"}
    duration: 6h
freezes:
  - name: national-day
    reason: 国庆保障期间禁止变更
    start: "2026-10-01T00:00:00+08:00"
    end: "2026-10-08T00:00:00+08:00"
`

// calendarRepo is the example release repository, its policy with the
// window and the freeze, committed in one commit.
func calendarRepo(t *testing.T) *gitrepotest.Repo {
	t.Helper()
	r := gitrepotest.New(t)
	r.CopyDir(examples)
	pol := r.Read("relgate.yaml")
	from, to := strings.Index(pol, "# 维护窗口"), strings.Index(pol, "# 窗口冲突")
	if from < 0 || to < from {
		t.Fatal("the example policy's windows and freezes are not where this test expects them")
	}
	r.Write("relgate.yaml", pol[:from]+calendarPolicy+pol[to:])
	r.Commit("the example with a change calendar", gitrepoPerson)
	return r
}

// TestCalendarCommand_R9 drives relgate calendar on a real repository in
// each format: the example's releases of October and November 2026 with
// their state, the weekly window and the freeze.
func TestCalendarCommand_R9(t *testing.T) {
	r := calendarRepo(t)
	base := []string{"calendar", "--repo", r.Dir, "--from", "2026-09-28", "--to", "2026-12-01", "--link-base", "https://relgate.example/"}
	for _, tc := range []struct {
		format, lang string
		want         []string
	}{
		{"text", "zh", []string{"变更日历 2026-09-28 – 2026-12-01 (Asia/Shanghai)", "REL-2026-0041", "weekend-night", "national-day", "国庆保障期间禁止变更"}},
		{"text", "en", []string{"Change calendar", "REL-2026-0042", "maintenance windows: 1", "freezes: 1"}},
		{"json", "en", []string{`"id": "REL-2026-0041"`, `"start": "2026-10-17T22:00:00+08:00"`, `"name": "weekend-night"`}},
		{"html", "zh", []string{`<html lang="zh">`, "REL-2026-0043", `href="https://relgate.example/zh/releases/REL-2026-0041.html"`}},
		{"ics", "en", []string{"BEGIN:VCALENDAR", "UID:REL-2026-0041@relgate", "DTSTART;TZID=Asia/Shanghai:20261017T220000",
			"RRULE:FREQ=WEEKLY;BYDAY=SA;BYHOUR=22;BYMINUTE=0;UNTIL=", "UID:freeze-national-day@relgate"}},
	} {
		t.Run(tc.format+"."+tc.lang, func(t *testing.T) {
			code, out, errs := run(t, append(base, "--format", tc.format, "--lang", tc.lang)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in\n%s", w, out)
				}
			}
			if tc.format == "json" {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Errorf("not JSON: %v", err)
				}
			}
			if tc.format == "ics" {
				from, to := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
				p := gocal.NewParser(strings.NewReader(out))
				p.Start, p.End = &from, &to
				if err := p.Parse(); err != nil {
					t.Fatalf("gocal: %v", err)
				}
				found := false
				for _, e := range p.Events {
					if e.Uid == "REL-2026-0041@relgate" {
						found = e.Start.Equal(time.Date(2026, 10, 17, 14, 0, 0, 0, time.UTC))
					}
				}
				if !found {
					t.Errorf("gocal does not find REL-2026-0041 at 2026-10-17 22:00 +08:00")
				}
			}
		})
	}
	// -o writes the file; the same commit gives the same bytes.
	out := filepath.Join(t.TempDir(), "cal.ics")
	for i := 0; i < 2; i++ {
		if code, stdout, errs := run(t, append(base, "--format", "ics", "-o", out)...); code != 0 || stdout != "" {
			t.Fatalf("-o: exit %d\n%s%s", code, stdout, errs)
		}
	}
	_, direct, _ := run(t, append(base, "--format", "ics")...)
	if data, err := os.ReadFile(out); err != nil || !bytes.Equal(data, []byte(direct)) {
		t.Errorf("-o wrote other bytes than standard output (%v)", err)
	}
}

// TestCalendarDefaultsAndBounds: --from defaults to today in the policy's
// timezone and --to to 90 days later; a range over 400 days, a --to before
// --from, a bad format and a link base with credentials are refused.
func TestCalendarDefaultsAndBounds(t *testing.T) {
	r := calendarRepo(t)
	// 2026-10-16T20:00Z is already 2026-10-17 in Shanghai.
	code, out, errs := run(t, "calendar", "--repo", r.Dir, "--now", "2026-10-16T20:00:00Z", "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.HasPrefix(out, "Change calendar 2026-10-17 – 2027-01-15 (Asia/Shanghai)") {
		t.Errorf("default range:\n%s", out)
	}
	for _, args := range [][]string{
		{"--from", "2026-01-01", "--to", "2027-03-01"},
		{"--from", "2026-03-01", "--to", "2026-02-01"},
		{"--from", "next week"},
		{"--format", "pdf"},
		{"--link-base", "https://user:secret@relgate.example/"},
		{"--link-base", "javascript:alert(1)"},
	} {
		code, out, errs := run(t, append([]string{"calendar", "--repo", r.Dir}, args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s%s", args, code, out, errs)
		}
		if strings.Contains(errs, "secret") {
			t.Errorf("%v: the credential is in the error: %s", args, errs)
		}
	}
}

// TestServeRefusesShortCalendarKey: serve does not start the feed with a
// key under 32 bytes, from the environment or a file, and never shows it.
func TestServeRefusesShortCalendarKey(t *testing.T) {
	r := calendarRepo(t)
	t.Setenv("RELGATE_WEBHOOK_SECRET", "webhook-secret-for-the-calendar-test")
	t.Setenv("GITHUB_TOKEN", "")
	keyFile := filepath.Join(t.TempDir(), "calendar.key")
	if err := os.WriteFile(keyFile, []byte("sesame-short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  string
		args []string
	}{
		{"environment", "sesame-short", []string{"--calendar-feed"}},
		{"file", "", []string{"--calendar-feed", "--calendar-key-file", keyFile}},
		{"file without the feed", "", []string{"--calendar-key-file", keyFile}},
		{"days", "0123456789abcdef0123456789abcdef", []string{"--calendar-feed", "--calendar-days", "500"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RELGATE_CALENDAR_KEY", tc.env)
			args := append([]string{"serve", "--repo", r.Dir, "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--read-only"}, tc.args...)
			code, out, errs := run(t, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", code, out, errs)
			}
			if !strings.Contains(errs, "--calendar-") || strings.Contains(errs, "sesame") {
				t.Errorf("the refusal: %s", errs)
			}
			if testing.Verbose() {
				t.Log(errs)
			}
		})
	}
}
