package server

import (
	"context"
	"time"
)

// calendarRecheck bounds how long the server goes without asking the
// policy at the branch tip when its calendar next changes: a push may bring
// a new freeze.
const calendarRecheck = 10 * time.Minute

// watchCalendar evaluates every open pull request again when a maintenance
// window opens or closes or a freeze starts or ends: the
// merge gate judges a go-live approval against the calendar as it merges,
// so a check that was green before a freeze turns red when it begins, and
// green again when it ends. It returns at once; the loop ends with stop.
func (s *Server) watchCalendar(stop context.Context) {
	if s.cfg.GitHub == nil || s.cfg.Repo.Owner == "" {
		return
	}
	s.calMu.Lock()
	s.calLast = s.cfg.Clock()
	s.calMu.Unlock()
	go func() {
		for {
			wait := calendarRecheck
			if next, ok := s.nextCalendarChange(); ok {
				if d := next.Sub(s.cfg.Clock()) + time.Second; d < wait {
					wait = max(d, time.Second)
				}
			}
			t := time.NewTimer(wait)
			select {
			case <-stop.Done():
				t.Stop()
				return
			case <-t.C:
			}
			s.calendarTick(s.cfg.Clock())
		}
	}()
}

// nextCalendarChange is the first change of the calendar after the last
// tick, under the policy at the branch tip.
func (s *Server) nextCalendarChange() (time.Time, bool) {
	st, err := s.branch()
	if err != nil || st.policy == nil {
		return time.Time{}, false
	}
	s.calMu.Lock()
	last := s.calLast
	s.calMu.Unlock()
	return st.policy.Calendar().NextChange(last)
}

// calendarTick queues the re-evaluation of every open pull request when the
// calendar changed between the last tick and now; it reports whether it did.
func (s *Server) calendarTick(now time.Time) bool {
	next, ok := s.nextCalendarChange()
	s.calMu.Lock()
	s.calLast = now
	s.calMu.Unlock()
	if !ok || next.After(now) {
		return false
	}
	s.log.Info("the change calendar changed: evaluating the open pull requests again", "at", next)
	if !s.queue.push(workKey{kind: kindResync}) {
		s.metrics.Inc(mQueueDrops)
	}
	return true
}
