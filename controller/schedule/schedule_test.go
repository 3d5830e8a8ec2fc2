package schedule_test

import (
	"context"
	"errors"
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
				var m map[string]int
				m["boom"]++ // a nil map write: a real panic
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
	s, _ := schedule.New(schedule.Config{}, []schedule.Job{{Name: "resync", Spec: "@every 1h", AtStart: true,
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
