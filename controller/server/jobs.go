package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/schedule"
)

// branchState is the protected branch's releases at one commit.
type branchState struct {
	commit   plumbing.Hash
	policy   *policy.Policy
	warnings []string
	releases []gate.Status
	board    *engine.Board
}

// statusCache keeps the branch state of the last commit asked for.
type statusCache struct {
	mu    sync.Mutex
	state *branchState
}

// branch loads the protected branch at the mirror's tip, reusing the last
// load when the tip has not moved.
func (s *Server) branch() (*branchState, error) {
	var st *branchState
	err := s.mirror.Do(func(r *gitrepo.Repo) error {
		ref, err := r.Git.Reference(BranchRef(s.cfg.Branch), true)
		if err != nil {
			return fmt.Errorf("branch %s is not fetched yet: %w", s.cfg.Branch, err)
		}
		s.status.mu.Lock()
		cached := s.status.state
		s.status.mu.Unlock()
		if cached != nil && cached.commit == ref.Hash() {
			st = cached
			return nil
		}
		// One gathering of every release's evaluation: the status API, the
		// reminders and the dashboard show engine.LoadBoard's.
		b, err := engine.LoadBoard(r, s.cfg.Prefix, ref.Hash(), engine.BoardOptions{})
		if err != nil {
			return err
		}
		st = &branchState{commit: ref.Hash(), policy: b.Policy, warnings: b.Warnings, releases: b.Statuses, board: b}
		if st.releases == nil {
			st.releases = []gate.Status{}
		}
		s.status.mu.Lock()
		s.status.state = st
		s.status.mu.Unlock()
		return nil
	})
	return st, err
}

// Overdue is a release whose go-live window began without a deployment record.
type Overdue struct {
	Release     string `json:"release"`
	WindowStart string `json:"windowStart"`
	State       string `json:"state"`
}

func (st *branchState) overdue(now time.Time) []Overdue {
	out := []Overdue{}
	for _, r := range st.releases {
		rel := st.board.Snapshot.Releases[r.Release]
		if !engine.Overdue(r, rel, now) {
			continue
		}
		out = append(out, Overdue{Release: r.Release, WindowStart: rel.Release.Window.Start, State: r.State})
	}
	return out
}

// ReleasesReport is the JSON of GET /api/releases; fields are only ever added.
type ReleasesReport struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Branch     string        `json:"branch"`
	Revision   string        `json:"revision"`
	Warnings   []string      `json:"warnings"`
	Releases   []gate.Status `json:"releases"`
	Overdue    []Overdue     `json:"overdue"`
}

func (s *Server) handleReleases(w http.ResponseWriter, r *http.Request) {
	st, err := s.branch()
	if err != nil {
		s.log.Error("status API", "err", err)
		http.Error(w, "release status unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	rep := ReleasesReport{APIVersion: document.APIVersion, Kind: "ReleasesReport", Branch: s.cfg.Branch, Revision: st.commit.String(),
		Warnings: append([]string{}, st.warnings...), Releases: st.releases, Overdue: st.overdue(s.cfg.Clock())}
	if id := r.URL.Query().Get("release"); id != "" {
		var one []gate.Status
		for _, x := range st.releases {
			if x.Release == id {
				one = append(one, x)
			}
		}
		if one == nil {
			http.Error(w, "no release "+id+" on "+s.cfg.Branch, http.StatusNotFound)
			return
		}
		rep.Releases = one
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

// scheduler is the running schedule and the specifications it was built from.
type scheduler struct {
	sched *schedule.Scheduler
	specs map[string]string
	loc   string
}

func (sc *scheduler) stop(grace time.Duration) { sc.sched.Stop(grace) }

// scheduleState names the file, in the mirror folder, where the scheduler
// remembers each job's last run, so that a restart catches up what it missed.
const scheduleState = "relgate-schedule.json"

// reloadSchedule (re)starts the jobs when the branch's policy sets other
// schedules or another timezone than those running. A policy with a
// schedule relgate's grammar refuses leaves the running ones in place; at
// start, when none run yet, the jobs with good schedules start and the
// error names the others.
func (s *Server) reloadSchedule(ctx context.Context) error {
	st, err := s.branch()
	if err != nil {
		return err
	}
	specs, loc, err := schedule.Specs(st.policy)
	if loc == nil {
		return err
	}
	s.mu.Lock()
	cur := s.sched
	s.mu.Unlock()
	if err != nil {
		if cur != nil {
			return err
		}
		s.log.Error("jobs with a schedule relgate cannot run are not started; fix relgate.yaml (relgate validate names the field)", "err", err)
	}
	if cur != nil && maps.Equal(cur.specs, specs) && cur.loc == loc.String() {
		return nil
	}
	sched, err := schedule.New(schedule.Config{Location: loc, Clock: s.cfg.Clock, Logger: s.log,
		StatePath: filepath.Join(s.cfg.MirrorDir, scheduleState), Observe: func(o schedule.Outcome) {
			res := "ok"
			switch {
			case o.Panicked:
				res = "panic"
			case o.Skipped:
				res = "skipped"
			case o.Err != nil:
				res = "error"
			}
			s.metrics.Inc(mJobRuns, "job", o.Job, "result", res)
		}}, s.jobsFor(specs))
	if err != nil {
		return err
	}
	if cur != nil {
		cur.stop(s.cfg.ShutdownGrace)
	}
	// Set and start under the lock: Serve, once stopping, reads s.sched under
	// it, so no schedule starts after shutdown stopped the last one.
	s.mu.Lock()
	if s.stopping.Load() {
		s.mu.Unlock()
		return nil
	}
	s.sched = &scheduler{sched: sched, specs: specs, loc: loc.String()}
	sched.Start()
	s.mu.Unlock()
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	s.log.Info("schedule started", "timezone", loc.String(), "jobs", names)
	return nil
}

// jobsFor are the Jobs that specs gives a specification.
func (s *Server) jobsFor(specs map[string]string) []schedule.Job {
	var out []schedule.Job
	for _, j := range s.Jobs(specs) {
		if j.Spec != "" {
			out = append(out, j)
		}
	}
	return out
}

// Jobs are the scheduled jobs with the given specifications.
func (s *Server) Jobs(specs map[string]string) []schedule.Job {
	return []schedule.Job{
		{Name: schedule.JobResync, Spec: specs[schedule.JobResync], Run: func(ctx context.Context, _ time.Time) error {
			if s.cfg.GitHub != nil && !s.queue.push(workKey{kind: kindResync}) {
				s.metrics.Inc(mQueueDrops)
			}
			return nil
		}},
		{Name: schedule.JobReconcile, Spec: specs[schedule.JobReconcile], Run: s.reconcileJob},
		{Name: schedule.JobQuarterlyReport, Spec: specs[schedule.JobQuarterlyReport], AtStart: true, Run: s.quarterlyJob},
		{Name: schedule.JobReminders, Spec: specs[schedule.JobReminders], Run: s.remindersJob},
	}
}

func (s *Server) reconcileJob(ctx context.Context, _ time.Time) error {
	if err := s.mirror.Fetch(ctx, []string{s.cfg.Branch}, nil); err != nil {
		s.metrics.Inc(mFetches, "result", "error")
		return err
	}
	s.metrics.Inc(mFetches, "result", "ok")
	if s.cfg.Writer == nil {
		return nil
	}
	if err := s.cfg.Writer.Reconcile(ctx, s.cfg.Branch); err != nil {
		s.metrics.Inc(mWriteback, "op", "reconcile", "result", "error")
		return fmt.Errorf("reconcile %s: %w", s.cfg.Branch, err)
	}
	s.metrics.Inc(mWriteback, "op", "reconcile", "result", "ok")
	return nil
}

// quarterlyJob writes the report of the quarter before now. It also runs at
// start when a quarter boundary passed since its last recorded run (or
// there is no record), so a boundary crossed while the server was down is
// caught up; the report's deterministic path makes a second run a no-op.
func (s *Server) quarterlyJob(ctx context.Context, now time.Time) error {
	qr, ok := s.cfg.Writer.(QuarterlyReporter)
	if !ok {
		s.log.Info("no quarterly report writer configured", "quarter", schedule.PreviousQuarter(now))
		return nil
	}
	q := schedule.PreviousQuarter(now)
	if err := qr.QuarterlyReport(ctx, s.cfg.Branch, q); err != nil {
		s.metrics.Inc(mWriteback, "op", "quarterly-report", "result", "error")
		return fmt.Errorf("quarterly report %s: %w", q, err)
	}
	s.metrics.Inc(mWriteback, "op", "quarterly-report", "result", "ok")
	return nil
}

// remindersJob logs each release whose go-live window began without a
// deployment record and exposes their number as a gauge.
func (s *Server) remindersJob(ctx context.Context, now time.Time) error {
	if err := s.mirror.Fetch(ctx, []string{s.cfg.Branch}, nil); err != nil {
		s.log.Warn("reminders: fetch failed; using the mirror as it is", "err", err)
	}
	st, err := s.branch()
	if err != nil {
		return err
	}
	od := st.overdue(now)
	s.metrics.Set(mOverdue, float64(len(od)))
	for _, o := range od {
		s.log.Warn("go-live window passed without a deployment record", "release", o.Release, "window_start", o.WindowStart, "state", o.State)
	}
	return nil
}
