package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/schedule"
)

func pol(t *testing.T, s document.Schedules, tz string) *policy.Policy {
	t.Helper()
	p, err := policy.New(&document.Policy{Timezone: tz, Schedules: s})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpecsFromPolicy(t *testing.T) {
	specs, loc, err := schedule.Specs(pol(t, document.Schedules{Resync: "*/5 * * * *"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"resync": "*/5 * * * *", "reconcile": "*/10 * * * *", "quarterlyReport": "0 8 1 1,4,7,10 *", "reminders": "0 9 * * 1-5"}
	if d := cmp.Diff(want, specs); d != "" {
		t.Errorf("specs (-want +got):\n%s", d)
	}
	if loc.String() != "Asia/Shanghai" {
		t.Errorf("default timezone %s, want Asia/Shanghai", loc)
	}
	for _, bad := range []string{"*/5 * * *", "61 * * * *", "every monday", "@every 1h30m extra"} {
		_, _, err := schedule.Specs(pol(t, document.Schedules{QuarterlyReport: bad}, "UTC"))
		if err == nil || !strings.Contains(err.Error(), "schedules.quarterlyReport") {
			t.Errorf("spec %q: err %v, want one naming schedules.quarterlyReport", bad, err)
		}
	}
}

func TestNextInPolicyTimezone(t *testing.T) {
	_, loc, _ := schedule.Specs(pol(t, document.Schedules{}, "Asia/Shanghai"))
	s, err := schedule.New(schedule.Config{Location: loc}, []schedule.Job{{Name: "quarterlyReport", Spec: "0 8 1 1,4,7,10 *",
		Run: func(context.Context, time.Time) error { return nil }}})
	if err != nil {
		t.Fatal(err)
	}
	next, _ := s.Next("quarterlyReport", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !next.Equal(want) { // 08:00 in Shanghai
		t.Errorf("next quarterly report %s, want %s", next, want)
	}
}

func TestBadJobSpecIsAnError(t *testing.T) {
	_, err := schedule.New(schedule.Config{}, []schedule.Job{{Name: "resync", Spec: "* *", Run: func(context.Context, time.Time) error { return nil }}})
	if err == nil || !strings.Contains(err.Error(), "resync") {
		t.Errorf("err %v", err)
	}
}

func TestPanickingJobIsRecoveredAndRunsAgain(t *testing.T) {
	now := time.Date(2026, 10, 1, 0, 5, 0, 0, time.UTC)
	calls := 0
	var seen []time.Time
	var outcomes []schedule.Outcome
	s, err := schedule.New(schedule.Config{Clock: func() time.Time { return now }, Location: time.UTC,
		Observe: func(o schedule.Outcome) { outcomes = append(outcomes, o) }},
		[]schedule.Job{{Name: "reconcile", Spec: "* * * * *", Run: func(_ context.Context, t time.Time) error {
			calls++
			seen = append(seen, t)
			if calls == 1 {
				var m []int
				m[calls]++ // an index out of range: a real panic
			}
			if calls == 2 {
				return errors.New("push rejected")
			}
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.RunNow("reconcile"); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 || !outcomes[0].Panicked || outcomes[1].Err == nil || outcomes[2].Err != nil {
		t.Errorf("calls %d outcomes %+v", calls, outcomes)
	}
	if !seen[0].Equal(now) {
		t.Errorf("job saw %s, want the injected clock's %s", seen[0], now)
	}
}

func TestStillRunningIsSkippedAndStartRunsAtStart(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var mu sync.Mutex
	var outcomes []schedule.Outcome
	s, err := schedule.New(schedule.Config{Observe: func(o schedule.Outcome) { mu.Lock(); outcomes = append(outcomes, o); mu.Unlock() }},
		[]schedule.Job{{Name: "quarterlyReport", Spec: "0 8 1 1,4,7,10 *", AtStart: true, Run: func(ctx context.Context, _ time.Time) error {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	<-started
	o, _ := s.RunNow("quarterlyReport")
	if !o.Skipped {
		t.Errorf("a second run while the first is running: %+v, want skipped", o)
	}
	close(release)
	s.Stop(time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 2 || outcomes[1].Err != nil || outcomes[1].Skipped {
		t.Errorf("outcomes %+v", outcomes)
	}
}

func TestStopCancelsAfterGrace(t *testing.T) {
	s, _ := schedule.New(schedule.Config{}, []schedule.Job{{Name: "resync", Spec: "@hourly", AtStart: true,
		Run: func(ctx context.Context, _ time.Time) error { <-ctx.Done(); return ctx.Err() }}})
	s.Start()
	time.Sleep(10 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Stop(20 * time.Millisecond); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not abandon the running job")
	}
}

func TestQuarters(t *testing.T) {
	for _, tc := range []struct {
		t          time.Time
		q, previus string
	}{
		{time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), "2026Q4", "2026Q3"},
		{time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC), "2027Q1", "2026Q4"},
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), "2026Q2", "2026Q1"},
	} {
		if q, p := schedule.Quarter(tc.t), schedule.PreviousQuarter(tc.t); q != tc.q || p != tc.previus {
			t.Errorf("%s: %s %s, want %s %s", tc.t, q, p, tc.q, tc.previus)
		}
	}
}

// TestIssue11HostileSpecs: specs that panicked robfig/cron's parser or were
// accepted though wrong are errors naming the job; the good jobs remain.
func TestIssue11HostileSpecs(t *testing.T) {
	for _, bad := range []string{"TZ=0", "TZ=", "CRON_TZ=UTC", "0 0 31 2 *", "0 0 30 2 *", "@every 0s", "*/5 * * * * *"} {
		t.Run(bad, func(t *testing.T) {
			specs, _, err := schedule.Specs(pol(t, document.Schedules{Resync: bad}, "UTC"))
			var se *schedule.SpecError
			if !errors.As(err, &se) || se.Job != schedule.JobResync || !strings.Contains(err.Error(), "schedules.resync") {
				t.Fatalf("err %v, want a SpecError for resync", err)
			}
			if _, ok := specs[schedule.JobResync]; ok || len(specs) != 3 {
				t.Errorf("specs %v, want the three good jobs only", specs)
			}
			_, err = schedule.New(schedule.Config{}, []schedule.Job{{Name: "resync", Spec: bad, Run: func(context.Context, time.Time) error { return nil }}})
			if !errors.As(err, &se) {
				t.Errorf("New: err %v, want a SpecError", err)
			}
		})
	}
}

// TestSchedulerNextIsDSTCorrect: the scheduler runs cronspec's schedule in
// the policy's timezone (robfig/cron's own skipped 2:30 on 2027-03-14 and
// ran 1:30 twice on 2027-11-07 in New York).
func TestSchedulerNextIsDSTCorrect(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	noop := func(context.Context, time.Time) error { return nil }
	s, err := schedule.New(schedule.Config{Location: ny}, []schedule.Job{{Name: "a", Spec: "30 2 * * *", Run: noop}, {Name: "b", Spec: "30 1 * * *", Run: noop}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		job        string
		from, want time.Time
	}{
		{"a", time.Date(2027, 3, 13, 3, 0, 0, 0, ny), time.Date(2027, 3, 14, 7, 0, 0, 0, time.UTC)},  // 3:00 EDT
		{"b", time.Date(2027, 11, 7, 0, 0, 0, 0, ny), time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC)}, // 1:30 EDT
		{"b", time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC), time.Date(2027, 11, 8, 6, 30, 0, 0, time.UTC)},
	} {
		if got, _ := s.Next(tc.job, tc.from); !got.Equal(tc.want) {
			t.Errorf("%s after %s: %s, want %s", tc.job, tc.from, got.UTC(), tc.want)
		}
	}
}

func writeState(t *testing.T, path string, last map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"lastRun":{`)
	i := 0
	for k, v := range last {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%q", k, v)
		i++
	}
	b.WriteString("}}")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMissedRunsAreCaughtUpOnce: at start, a job whose time passed since its
// last recorded run runs once; the quarterly report also runs at a first
// start (no record), as before.
func TestMissedRunsAreCaughtUpOnce(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, sh)
	tests := []struct {
		name    string
		state   map[string]string // nil: no file
		corrupt bool
		want    []string
	}{
		{"first start: the quarterly report only (AtStart)", nil, false, []string{"quarterlyReport"}},
		{"a quarter boundary passed while down", map[string]string{"quarterlyReport": "2026-09-20T08:00:00+08:00", "reminders": "2026-11-25T09:00:00+08:00"},
			false, []string{"quarterlyReport"}},
		{"nothing missed", map[string]string{"quarterlyReport": "2026-10-01T08:00:00+08:00", "reminders": "2026-11-25T09:00:00+08:00"}, false, nil},
		{"a day's reminders missed", map[string]string{"quarterlyReport": "2026-10-01T08:00:00+08:00", "reminders": "2026-11-24T09:00:00+08:00"},
			false, []string{"reminders"}},
		{"many reminders missed: caught up once", map[string]string{"quarterlyReport": "2026-10-01T08:00:00+08:00", "reminders": "2026-10-01T09:00:00+08:00"},
			false, []string{"reminders"}},
		{"attack: a corrupt state file counts as no record", nil, true, []string{"quarterlyReport"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "schedule.json")
			switch {
			case tc.corrupt:
				os.WriteFile(path, []byte("{not json"), 0o600)
			case tc.state != nil:
				writeState(t, path, tc.state)
			}
			var mu sync.Mutex
			ran := map[string]int{}
			job := func(name string, atStart bool, spec string) schedule.Job {
				return schedule.Job{Name: name, Spec: spec, AtStart: atStart, Run: func(context.Context, time.Time) error {
					mu.Lock()
					ran[name]++
					mu.Unlock()
					return nil
				}}
			}
			jobs := []schedule.Job{job("quarterlyReport", true, "0 8 1 1,4,7,10 *"), job("reminders", false, "0 9 * * 1-5")}
			cfg := schedule.Config{Location: sh, Clock: func() time.Time { return now }, StatePath: path}
			s, err := schedule.New(cfg, jobs)
			if err != nil {
				t.Fatal(err)
			}
			s.Start()
			s.Stop(time.Second)
			want := map[string]int{}
			for _, n := range tc.want {
				want[n] = 1
			}
			if d := cmp.Diff(want, ran); d != "" {
				t.Errorf("runs at start (-want +got):\n%s", d)
			}
			// The runs are recorded: a second start at the same time owes nothing.
			s2, _ := schedule.New(cfg, jobs)
			if m := s2.Missed(); len(m) != 0 {
				t.Errorf("after catching up, a restart still owes %v", m)
			}
		})
	}
}

// TestFailedRunIsCaughtUpAtNextStart: only a successful run is recorded.
func TestFailedRunIsCaughtUpAtNextStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	now := time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC)
	fail := errors.New("push rejected")
	cfg := schedule.Config{Clock: func() time.Time { return now }, StatePath: path}
	jobs := []schedule.Job{{Name: "quarterlyReport", Spec: "0 8 1 1,4,7,10 *", Run: func(context.Context, time.Time) error { return fail }}}
	writeState(t, path, map[string]string{"quarterlyReport": "2026-10-01T08:00:00Z"})
	s, _ := schedule.New(cfg, jobs)
	if o, _ := s.RunNow("quarterlyReport"); o.Err == nil {
		t.Fatal("want the failure")
	}
	now = now.Add(time.Hour)
	s2, _ := schedule.New(cfg, jobs)
	if m := s2.Missed(); len(m) != 1 {
		t.Errorf("missed %v after a failed run, want [quarterlyReport]", m)
	}
	fail = nil
	s2.RunNow("quarterlyReport")
	s3, _ := schedule.New(cfg, jobs)
	if m := s3.Missed(); len(m) != 0 {
		t.Errorf("missed %v after a successful run", m)
	}
}

// TestFirstStartCountsFromThen: a job not marked AtStart and never run is
// not run at a first start, but a restart after its time passed runs it.
func TestFirstStartCountsFromThen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // a Monday, after 09:00
	cfg := schedule.Config{Clock: func() time.Time { return now }, StatePath: path}
	jobs := []schedule.Job{{Name: "reminders", Spec: "0 9 * * 1-5", Run: func(context.Context, time.Time) error { return nil }}}
	s, _ := schedule.New(cfg, jobs)
	if m := s.Missed(); len(m) != 0 {
		t.Errorf("first start owes %v", m)
	}
	now = now.Add(24 * time.Hour) // down over Tuesday 09:00
	s2, _ := schedule.New(cfg, jobs)
	if m := s2.Missed(); len(m) != 1 {
		t.Errorf("restart owes %v, want [reminders]", m)
	}
}
