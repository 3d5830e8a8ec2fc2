package server

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/notice"
	"github.com/relgate/relgate/controller/notify"
)

// NoticeConfig configures the notices the server sends (see startNotices).
type NoticeConfig struct {
	// Ledger remembers what was sent, across restarts (a FileLedger) and
	// replicas (a GitLedger); required.
	Ledger notify.Ledger
	// Getenv reads the channels' URLs and secrets (os.Getenv when nil).
	Getenv func(string) string
	// PublicURL is the dashboard's address, for links ("" for none).
	PublicURL string
	// Every is how often what is due is decided again (default a minute).
	Every time.Duration
	// RoundTimeout bounds one round: the decision and every send with its
	// retries (default 5 minutes).
	RoundTimeout time.Duration
	// Channel adjusts the channels (timeouts, a test's TLS); zero is right.
	Channel notify.Options
}

// mNotices counts notices by event, channel and result (sent,
// already-sent, failed, skipped). It is registered here, on the metrics'
// registry, beside the declared ones.
const mNotices = "relgate_notices_total"

func noticeCounter(m *Metrics) *prometheus.CounterVec {
	if m == nil {
		return nil
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: mNotices,
		Help: "Notices by event, channel and result (sent, already-sent, failed, skipped)."}, []string{"event", "channel", "result"})
	if err := m.Registry().Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return old
			}
		}
		return nil
	}
	return c
}

// noticeJob is the state of the notice goroutine: its own board, so the
// provenance ledger it reads is never shared with a request.
type noticeJob struct {
	cfg   NoticeConfig
	count *prometheus.CounterVec
	tip   plumbing.Hash
	board *engine.Board
}

// startNotices starts sending the policy's notices and reminders; it
// returns at once. Every cfg.Every it loads the board at the branch's tip
// (again only when the tip moved), decides what is due at the server's
// clock and sends it; the ledger keeps a notice from going out twice. A
// fetch that moves the tip (pokeNotices) starts a round at once, so a
// deployment's confirmation or rollback is announced when
// it reaches the branch, not up to a round later; a fetch that leaves the
// tip where it was decides nothing. Rounds run one at a time. It stops with
// stop; a round in flight is abandoned with ctx.
func (s *Server) startNotices(stop, ctx context.Context) {
	nc := s.cfg.Notices
	if nc == nil {
		return
	}
	if nc.Ledger == nil {
		s.log.Error("notices: no ledger configured; no notice is sent")
		return
	}
	j := &noticeJob{cfg: *nc, count: noticeCounter(s.metrics)}
	if j.cfg.Every <= 0 {
		j.cfg.Every = time.Minute
	}
	if j.cfg.RoundTimeout <= 0 {
		j.cfg.RoundTimeout = 5 * time.Minute
	}
	go func() {
		t := time.NewTicker(j.cfg.Every)
		defer t.Stop()
		always := true // the first round, and every timed one: what is due changes with the clock
		for {
			if stop.Err() != nil {
				return
			}
			s.noticeRound(ctx, j, always)
			select {
			case <-stop.Done():
				return
			case <-t.C:
				always = true
			case <-s.noticePoke:
				always = false
			}
		}
	}()
}

// pokeNotices asks the notice job to look at the branch's tip now; it never
// waits (a poke already pending covers this one).
func (s *Server) pokeNotices() {
	select {
	case s.noticePoke <- struct{}{}:
	default:
	}
}

// noticeRound is one decision and its sends; unless always, only when the
// branch's tip moved since the last decision. Errors are logged: the next
// round tries again, and the ledger sends only what is still unsent.
func (s *Server) noticeRound(ctx context.Context, j *noticeJob, always bool) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("notices: round panicked", "panic", p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, j.cfg.RoundTimeout)
	defer cancel()
	now := s.cfg.Clock()
	var msgs []notify.Message
	skip := false
	err := s.mirror.Do(func(r *gitrepo.Repo) error {
		ref, err := r.Git.Reference(BranchRef(s.cfg.Branch), true)
		if err != nil {
			return err
		}
		if !always && j.board != nil && j.tip == ref.Hash() {
			skip = true
			return nil
		}
		if j.board == nil || j.tip != ref.Hash() {
			b, err := engine.LoadBoard(r, s.cfg.Prefix, ref.Hash(), engine.BoardOptions{})
			if err != nil {
				return err
			}
			j.board, j.tip = b, ref.Hash()
		}
		// Requested reads git objects: inside Do, which owns the repository.
		msgs = notice.Due(notice.Input{Board: j.board, Requested: notice.Requested(j.board), Now: now, BaseURL: j.cfg.PublicURL})
		return nil
	})
	if err != nil {
		s.log.Warn("notices: cannot read the branch; nothing decided", "err", err)
		return
	}
	if skip {
		return
	}
	s.log.Debug("notices decided", "tip", j.tip.String(), "due", len(msgs))
	if len(msgs) == 0 {
		return
	}
	getenv := j.cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	channels, err := notify.NewChannels(j.board.Policy.Notices, getenv, j.cfg.Channel)
	if err != nil {
		s.log.Error("notices: some channels cannot be used; their notices wait", "err", err)
	}
	per := 0
	if j.board.Policy.Notices != nil {
		per = j.board.Policy.Notices.PerMinute
	}
	snd := &notify.Sender{Channels: channels, Ledger: j.cfg.Ledger, PerMinute: per, Logger: s.log}
	rep := snd.Send(ctx, msgs)
	for i, o := range rep.Outcomes {
		if j.count != nil && i < len(msgs) {
			j.count.WithLabelValues(msgs[i].Event, o.Channel, string(o.Status)).Inc()
		}
		switch o.Status {
		case notify.StatusSent:
			s.log.Info("notice sent", "key", o.Key, "channel", o.Channel, "attempts", o.Attempts)
		case notify.StatusFailed, notify.StatusSkipped:
			reason := ""
			if o.Reason != nil {
				reason = o.Reason.En
			}
			s.log.Warn("notice not sent", "key", o.Key, "channel", o.Channel, "status", string(o.Status), "reason", reason)
		}
	}
}
