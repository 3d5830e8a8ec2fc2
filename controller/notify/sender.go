package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// Status is what became of one message on its channel.
type Status string

// The statuses of a message in a Report.
const (
	// StatusSent: delivered now.
	StatusSent Status = "sent"
	// StatusAlreadySent: the ledger says it was sent before, or another
	// replica holds it now.
	StatusAlreadySent Status = "already-sent"
	// StatusFailed: not delivered; the claim was given back, so the next run
	// tries again.
	StatusFailed Status = "failed"
	// StatusSkipped: the message names a channel the policy does not configure.
	StatusSkipped Status = "skipped"
)

// Outcome is one message's fate on its channel.
type Outcome struct {
	Key     string `json:"key"`
	Channel string `json:"channel"`
	Status  Status `json:"status"`
	// Attempts counts the deliveries tried.
	Attempts int `json:"attempts,omitempty"`
	// Reason says why it failed or was skipped, redacted; for a sent message,
	// a warning (the ledger could not record it).
	Reason *Text `json:"reason,omitempty"`
}

// Report is the outcome of every message given to Send, in their order.
type Report struct {
	Outcomes []Outcome `json:"outcomes"`
}

// Count is how many outcomes have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether any message failed.
func (r Report) Failed() bool { return r.Count(StatusFailed) > 0 }

// Defaults of the Sender.
const (
	DefaultPerMinute = 20
	DefaultLease     = 10 * time.Minute
)

// DefaultBackoff are the waits before the retries of a failed delivery:
// a message is tried up to 1+len(Backoff) times, then given back.
var DefaultBackoff = []time.Duration{1 * time.Second, 4 * time.Second, 16 * time.Second}

// Sender delivers messages through channels, once each, at a bounded rate.
type Sender struct {
	// Channels by the policy's channel name.
	Channels map[string]Channel
	// Ledger records what was sent (required).
	Ledger Ledger
	// PerMinute bounds the messages sent to one channel in any minute
	// (policy notices.perMinute; default 20, the robots' own limit).
	PerMinute int
	// Backoff are the waits before each retry (default DefaultBackoff); each
	// wait is jittered to between half and one and a half of it.
	Backoff []time.Duration
	// Lease is how long a claim holds off other replicas (default 10 min);
	// it must outlast one message's retries.
	Lease time.Duration
	// Now and Sleep are the clock (default time.Now and a timer that stops
	// when ctx ends); tests pass a fake pair.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand gives the jitter in [0,1) (default math/rand/v2).
	Rand func() float64
	// Logger (default discards).
	Logger *slog.Logger
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send delivers msgs: each message goes to its channel once (per Key and
// Channel, across runs and replicas, as the ledger records). Channels are
// served concurrently, each channel's messages in order.
func (s *Sender) Send(ctx context.Context, msgs []Message) Report {
	s.defaults()
	out := make([]Outcome, len(msgs))
	byChannel := map[string][]int{}
	for i, m := range msgs {
		out[i] = Outcome{Key: m.Key, Channel: m.Channel}
		if _, ok := s.Channels[m.Channel]; !ok {
			out[i].Status = StatusSkipped
			out[i].Reason = &Text{En: "channel " + m.Channel + " is not configured in relgate.yaml notices.channels",
				Zh: "渠道 " + m.Channel + " 未在 relgate.yaml 的 notices.channels 中配置"}
			continue
		}
		byChannel[m.Channel] = append(byChannel[m.Channel], i)
	}
	names := make([]string, 0, len(byChannel))
	for n := range byChannel {
		names = append(names, n)
	}
	sort.Strings(names)
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lim := &window{per: s.PerMinute}
			for _, i := range byChannel[name] {
				out[i] = s.one(ctx, s.Channels[name], lim, msgs[i])
			}
		}()
	}
	wg.Wait()
	return Report{Outcomes: out}
}

func (s *Sender) defaults() {
	if s.PerMinute <= 0 {
		s.PerMinute = DefaultPerMinute
	}
	if s.Backoff == nil {
		s.Backoff = DefaultBackoff
	}
	if s.Lease <= 0 {
		s.Lease = DefaultLease
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Sleep == nil {
		s.Sleep = sleep
	}
	if s.Rand == nil {
		s.Rand = rand.Float64
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
}

// hoster is a channel that can say where it sends without its secrets.
type hoster interface{ Host() string }

func hostOf(c Channel) string {
	if h, ok := c.(hoster); ok {
		return h.Host()
	}
	return ""
}

// Log keys.
const (
	logKey     = "key"
	logChannel = "channel"
	logHost    = "host"
	logAttempt = "attempt"
	logClass   = "class"
	logErr     = "err"
)

func (s *Sender) one(ctx context.Context, ch Channel, lim *window, m Message) Outcome {
	o := Outcome{Key: m.Key, Channel: m.Channel}
	log := s.Logger.With(logKey, m.Key, logChannel, m.Channel, logHost, hostOf(ch))
	lkey := m.Key + "/" + m.Channel
	ok, err := s.Ledger.Claim(ctx, lkey, s.Lease)
	if err != nil {
		// Fail closed: a ledger we cannot read never lets a message go.
		log.Error("notice ledger claim failed", logErr, err)
		o.Status = StatusFailed
		o.Reason = &Text{En: "the notice ledger could not be read: " + clip(err.Error(), 300),
			Zh: "无法读取通知台账：" + clip(err.Error(), 300)}
		return o
	}
	if !ok {
		o.Status = StatusAlreadySent
		return o
	}
	var last error
	for attempt := 0; ; attempt++ {
		if err := lim.wait(ctx, s.Now, s.Sleep); err != nil {
			last = err
			break
		}
		o.Attempts++
		err := ch.Send(ctx, m)
		if err == nil {
			if err := s.Ledger.Sent(ctx, lkey); err != nil {
				log.Error("notice delivered but not recorded", logErr, err)
				o.Reason = &Text{En: "delivered, but the notice ledger could not record it, so it may be sent again: " + clip(err.Error(), 300),
					Zh: "已送达，但通知台账未能记录，可能会再次发送：" + clip(err.Error(), 300)}
			}
			log.Info("notice sent", logAttempt, o.Attempts)
			o.Status = StatusSent
			return o
		}
		last = err
		class := ClassOf(err)
		log.Warn("notice delivery failed", logAttempt, o.Attempts, logClass, class.String(), logErr, err)
		if class == Permanent || attempt >= len(s.Backoff) || ctx.Err() != nil {
			break
		}
		d := s.jitter(s.Backoff[attempt])
		var e *Error
		if class == RateLimited && errors.As(err, &e) && e.RetryAfter > d {
			d = e.RetryAfter
		}
		if err := s.Sleep(ctx, d); err != nil {
			last = err
			break
		}
	}
	// Give the claim back, so the next run tries again. Use a context that
	// outlives a cancelled run: a claim kept would hold the notice off for
	// the whole lease.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultTimeout)
	defer cancel()
	if err := s.Ledger.Abandon(actx, lkey); err != nil {
		log.Error("notice ledger abandon failed", logErr, err)
	}
	o.Status = StatusFailed
	o.Reason = reasonOf(last)
	return o
}

func reasonOf(err error) *Text {
	var e *Error
	if errors.As(err, &e) {
		r := e.Reason
		return &r
	}
	// Not a channel's error: the context ended (the run was stopped).
	return &Text{En: "stopped before delivery: " + clip(err.Error(), 200), Zh: "发送前已停止：" + clip(err.Error(), 200)}
}

func (s *Sender) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + s.Rand()))
}

// window allows at most per sends in any minute: it keeps the times of the
// last per sends, and the next may go a minute after the oldest. (A token
// bucket of per tokens refilled per a minute would let 2·per through in
// the first minute; the robots count a sliding minute.)
type window struct {
	per   int
	times []time.Time
}

func (w *window) wait(ctx context.Context, now func() time.Time, sleepFn func(context.Context, time.Duration) error) error {
	for len(w.times) >= w.per {
		next := w.times[0].Add(time.Minute)
		t := now()
		if !t.Before(next) {
			w.times = w.times[1:]
			continue
		}
		if err := sleepFn(ctx, next.Sub(t)); err != nil {
			return err
		}
	}
	w.times = append(w.times, now())
	return nil
}
