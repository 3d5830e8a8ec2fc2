// Package schedule runs the server's periodic jobs with robfig/cron: the
// resync of open pull requests, reconcile, the quarterly report and go-live
// reminders. Specifications and the timezone come from the policy and are
// validated when loaded (a bad one is an error, never a panic); a job that
// panics is recovered and runs again at its next time; a job still running
// when its time comes again is skipped; jobs read the time from an injected
// clock so tests need not wait.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/relgate/relgate/controller/policy"
)

// Job names.
const (
	JobResync          = "resync"
	JobReconcile       = "reconcile"
	JobQuarterlyReport = "quarterlyReport"
	JobReminders       = "reminders"
)

// Defaults apply to jobs the policy gives no schedule.
var Defaults = map[string]string{
	JobResync:          "*/15 * * * *",
	JobReconcile:       "*/10 * * * *",
	JobQuarterlyReport: "0 8 1 1,4,7,10 *",
	JobReminders:       "0 9 * * 1-5",
}

// Clock tells the time.
type Clock func() time.Time

// Specs returns each job's cron specification from the policy (defaults for
// those it leaves out) and its timezone, checking every specification parses.
func Specs(p *policy.Policy) (map[string]string, *time.Location, error) {
	out := map[string]string{}
	for k, v := range Defaults {
		out[k] = v
	}
	s := p.Schedules
	for name, spec := range map[string]string{JobResync: s.Resync, JobReconcile: s.Reconcile,
		JobQuarterlyReport: s.QuarterlyReport, JobReminders: s.Reminders} {
		if spec != "" {
			out[name] = spec
		}
	}
	for _, name := range sortedKeys(out) {
		if _, err := cron.ParseStandard(out[name]); err != nil {
			return nil, nil, fmt.Errorf("relgate.yaml schedules.%s %q: not a cron schedule (minute hour day month weekday): %w", name, out[name], err)
		}
	}
	loc := p.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(policy.DefaultTimezone); err != nil {
			return nil, nil, fmt.Errorf("timezone %s: %w", policy.DefaultTimezone, err)
		}
	}
	return out, loc, nil
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Job is one periodic task. Run gets the clock's time in the scheduler's location.
type Job struct {
	Name string
	Spec string
	Run  func(ctx context.Context, now time.Time) error
	// AtStart runs the job once when the scheduler starts, so work missed
	// while the server was down (a quarter boundary) is done once; the job's
	// own write must be idempotent (a deterministic path).
	AtStart bool
}

// Outcome is reported after each run.
type Outcome struct {
	Job      string
	Err      error
	Panicked bool
	Skipped  bool // still running from last time
	Duration time.Duration
}

// Config configures a Scheduler.
type Config struct {
	Location *time.Location
	Clock    Clock
	Logger   *slog.Logger
	// Observe is told of every run, for metrics.
	Observe func(Outcome)
}

// Scheduler runs jobs.
type Scheduler struct {
	cfg     Config
	cron    *cron.Cron
	jobs    map[string]*entry
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

type entry struct {
	job      Job
	schedule cron.Schedule
	mu       sync.Mutex
	running  bool
}

// New parses every job's specification; an invalid one is an error naming the job.
func New(cfg Config, jobs []Job) (*Scheduler, error) {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{cfg: cfg, jobs: map[string]*entry{},
		cron: cron.New(cron.WithLocation(cfg.Location), cron.WithParser(cron.NewParser(cron.Minute|cron.Hour|cron.Dom|cron.Month|cron.Dow|cron.Descriptor)))}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, j := range jobs {
		if j.Run == nil {
			return nil, fmt.Errorf("job %s has nothing to run", j.Name)
		}
		if _, dup := s.jobs[j.Name]; dup {
			return nil, fmt.Errorf("job %s is defined twice", j.Name)
		}
		sch, err := cron.ParseStandard(j.Spec)
		if err != nil {
			return nil, fmt.Errorf("job %s schedule %q: %w", j.Name, j.Spec, err)
		}
		e := &entry{job: j, schedule: sch}
		s.jobs[j.Name] = e
		s.cron.Schedule(sch, cron.FuncJob(func() { s.run(e) }))
	}
	return s, nil
}

// Start starts the jobs and runs those marked AtStart.
func (s *Scheduler) Start() {
	if s.started {
		return
	}
	s.started = true
	for _, name := range s.Names() {
		if e := s.jobs[name]; e.job.AtStart {
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.run(e) }()
		}
	}
	s.cron.Start()
}

// Stop stops scheduling, cancels running jobs' context after grace, and
// waits for them to return.
func (s *Scheduler) Stop(grace time.Duration) {
	done := s.cron.Stop()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done.Done():
	case <-t.C:
	}
	s.cancel()
	<-done.Done()
	s.wg.Wait()
}

// Names lists the jobs, sorted.
func (s *Scheduler) Names() []string {
	var out []string
	for n := range s.jobs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Next returns when a job runs next after t.
func (s *Scheduler) Next(name string, t time.Time) (time.Time, bool) {
	e, ok := s.jobs[name]
	if !ok {
		return time.Time{}, false
	}
	return e.schedule.Next(t.In(s.cfg.Location)), true
}

// RunNow runs a job at once, in the caller's goroutine, and returns its outcome.
func (s *Scheduler) RunNow(name string) (Outcome, error) {
	e, ok := s.jobs[name]
	if !ok {
		return Outcome{}, fmt.Errorf("no job %s", name)
	}
	return s.run(e), nil
}

func (s *Scheduler) run(e *entry) (out Outcome) {
	out.Job = e.job.Name
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		out.Skipped = true
		s.cfg.Logger.Warn("job skipped: still running from its last time", "job", e.job.Name)
		s.observe(out)
		return out
	}
	e.running = true
	e.mu.Unlock()
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			out.Panicked = true
			out.Err = fmt.Errorf("job %s panicked: %v", e.job.Name, r)
			s.cfg.Logger.Error("job panicked; it runs again at its next time", "job", e.job.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		e.mu.Lock()
		e.running = false
		e.mu.Unlock()
		out.Duration = time.Since(start)
		s.observe(out)
	}()
	out.Err = e.job.Run(s.ctx, s.cfg.Clock().In(s.cfg.Location))
	if out.Err != nil {
		s.cfg.Logger.Error("job failed", "job", e.job.Name, "err", out.Err)
	} else {
		s.cfg.Logger.Info("job done", "job", e.job.Name, "duration", time.Since(start))
	}
	return out
}

func (s *Scheduler) observe(o Outcome) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(o)
	}
}

// Quarter names the quarter of t, e.g. 2026Q4.
func Quarter(t time.Time) string {
	return fmt.Sprintf("%dQ%d", t.Year(), (int(t.Month())-1)/3+1)
}

// PreviousQuarter names the quarter before the one t is in: the quarter a
// report written at t covers.
func PreviousQuarter(t time.Time) string {
	first := time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, t.Location())
	return Quarter(first.AddDate(0, 0, -1))
}
