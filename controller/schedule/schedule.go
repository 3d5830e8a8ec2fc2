// Package schedule runs the server's periodic jobs with robfig/cron: the
// resync of open pull requests, reconcile, the quarterly report and go-live
// reminders. Specifications and the timezone come from the policy and are
// read with relgate's grammar (cronspec), whose schedules run every local
// time once across daylight-saving changes; a bad specification is an error
// naming it, never a panic. A job that panics is recovered and runs again at
// its next time; a job still running when its time comes again is skipped;
// jobs read the time from an injected clock so tests need not wait.
//
// Missed runs: with a state file (Config.StatePath) the scheduler remembers
// each job's last successful run, and at start runs once every job whose
// scheduled time passed since (the server was down, or the run failed). A
// job never run before runs at start only if it is marked AtStart (the
// quarterly report: its write is idempotent); the others start counting
// from then.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/relgate/relgate/controller/cronspec"
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

// SpecError is a job's specification that relgate's grammar refuses.
type SpecError struct {
	Job  string
	Spec string
	Err  error // a *cronspec.Error
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("relgate.yaml schedules.%s: %v", e.Job, e.Err)
}

func (e *SpecError) Unwrap() error { return e.Err }

// Specs returns each job's cron specification from the policy (defaults for
// those it leaves out) and its timezone, checking every specification with
// cronspec. A bad one is a *SpecError (several are joined); the map then
// holds only the jobs whose specifications are good.
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
	var errs []error
	for _, name := range sortedKeys(out) {
		if _, err := cronspec.Parse(out[name]); err != nil {
			errs = append(errs, &SpecError{Job: name, Spec: out[name], Err: err})
			delete(out, name)
		}
	}
	loc := p.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(policy.DefaultTimezone); err != nil {
			return nil, nil, fmt.Errorf("timezone %s: %w", policy.DefaultTimezone, err)
		}
	}
	return out, loc, errors.Join(errs...)
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
	// AtStart runs the job at start when there is no record of its last
	// run (a first start, or no state file), so work that may have been
	// missed (a quarter boundary) is done once; the job's own write must be
	// idempotent (a deterministic path). With a record, the record decides.
	AtStart bool
}

// Outcome is reported after each run.
type Outcome struct {
	Job      string
	Err      error
	Panicked bool
	Skipped  bool // still running from last time
	CatchUp  bool // run at start for a time missed
	Duration time.Duration
}

// Config configures a Scheduler.
type Config struct {
	Location *time.Location
	Clock    Clock
	Logger   *slog.Logger
	// Observe is told of every run, for metrics.
	Observe func(Outcome)
	// StatePath is the file that remembers each job's last successful run
	// across restarts; "" remembers nothing.
	StatePath string
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

	stateMu sync.Mutex
	state   map[string]time.Time
}

type entry struct {
	job      Job
	schedule cronspec.Schedule
	mu       sync.Mutex
	running  bool
}

// cron runs relgate's schedules through its Schedule interface.
var _ cron.Schedule = cronspec.Schedule{}

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
	s := &Scheduler{cfg: cfg, jobs: map[string]*entry{}, cron: cron.New(cron.WithLocation(cfg.Location))}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, j := range jobs {
		if j.Run == nil {
			return nil, fmt.Errorf("job %s has nothing to run", j.Name)
		}
		if _, dup := s.jobs[j.Name]; dup {
			return nil, fmt.Errorf("job %s is defined twice", j.Name)
		}
		spec, err := cronspec.Parse(j.Spec)
		if err != nil {
			return nil, &SpecError{Job: j.Name, Spec: j.Spec, Err: err}
		}
		e := &entry{job: j, schedule: spec.In(cfg.Location)}
		s.jobs[j.Name] = e
		s.cron.Schedule(e.schedule, cron.FuncJob(func() { s.run(e, false) }))
	}
	return s, nil
}

// Missed lists, sorted, the jobs Start runs at once: those whose scheduled
// time passed since their last recorded run, and those marked AtStart that
// have no record. It reads the state file; an unreadable one is logged and
// counts as no record.
func (s *Scheduler) Missed() []string {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.missedLocked()
}

func (s *Scheduler) missedLocked() []string {
	if s.state == nil {
		st, err := loadState(s.cfg.StatePath)
		if err != nil {
			s.cfg.Logger.Warn("schedule state unreadable; every job counts as never run", "path", s.cfg.StatePath, "err", err)
		}
		s.state = st
	}
	now := s.cfg.Clock().In(s.cfg.Location)
	var out []string
	baseline := false
	for _, name := range s.Names() {
		e := s.jobs[name]
		last, ok := s.state[name]
		switch {
		case ok:
			if next := e.schedule.Next(last); !next.IsZero() && !next.After(now) {
				s.cfg.Logger.Info("catching up a run missed since the last one", "job", name, "last_run", last.Format(time.RFC3339), "missed", next.Format(time.RFC3339))
				out = append(out, name)
			}
		case e.job.AtStart:
			out = append(out, name)
		case s.cfg.StatePath != "":
			// Runs owed are counted from the first start.
			s.state[name] = now
			baseline = true
		}
	}
	if baseline {
		s.saveLocked()
	}
	return out
}

// Start starts the jobs and runs those Missed names once.
func (s *Scheduler) Start() {
	if s.started {
		return
	}
	s.started = true
	for _, name := range s.Missed() {
		e := s.jobs[name]
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.run(e, true) }()
	}
	s.cron.Start()
}

// Stop stops scheduling, cancels running jobs' context after grace, and
// waits for them to return.
func (s *Scheduler) Stop(grace time.Duration) {
	cronDone := s.cron.Stop()
	all := make(chan struct{})
	go func() { <-cronDone.Done(); s.wg.Wait(); close(all) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-all:
	case <-t.C:
	}
	s.cancel()
	<-all
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
	return e.schedule.Next(t), true
}

// RunNow runs a job at once, in the caller's goroutine, and returns its outcome.
func (s *Scheduler) RunNow(name string) (Outcome, error) {
	e, ok := s.jobs[name]
	if !ok {
		return Outcome{}, fmt.Errorf("no job %s", name)
	}
	return s.run(e, false), nil
}

func (s *Scheduler) run(e *entry, catchUp bool) (out Outcome) {
	out.Job, out.CatchUp = e.job.Name, catchUp
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
	now := s.cfg.Clock().In(s.cfg.Location)
	defer func() {
		if r := recover(); r != nil {
			out.Panicked = true
			out.Err = fmt.Errorf("job %s panicked: %v", e.job.Name, r)
			s.cfg.Logger.Error("job panicked; it runs again at its next time", "job", e.job.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		if out.Err == nil {
			s.record(e.job.Name, now)
		}
		e.mu.Lock()
		e.running = false
		e.mu.Unlock()
		out.Duration = time.Since(start)
		s.observe(out)
	}()
	out.Err = e.job.Run(s.ctx, now)
	if out.Err != nil {
		s.cfg.Logger.Error("job failed", "job", e.job.Name, "err", out.Err)
	} else {
		s.cfg.Logger.Info("job done", "job", e.job.Name, "duration", time.Since(start), "catch_up", catchUp)
	}
	return out
}

// record remembers a successful run: a later start catches up from it.
func (s *Scheduler) record(job string, at time.Time) {
	if s.cfg.StatePath == "" {
		return
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.state == nil {
		s.state, _ = loadState(s.cfg.StatePath)
	}
	if last, ok := s.state[job]; ok && !at.After(last) {
		return
	}
	s.state[job] = at
	s.saveLocked()
}

func (s *Scheduler) saveLocked() {
	if err := saveState(s.cfg.StatePath, s.state); err != nil {
		s.cfg.Logger.Warn("schedule state not saved; a restart may repeat or miss a catch-up", "path", s.cfg.StatePath, "err", err)
	}
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
