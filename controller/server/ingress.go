// This file is the server's front door: the HTTP server's limits and the
// webhook endpoint, which authenticates a delivery before its body is
// trusted and hands the event to accept.

package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/relgate/relgate/controller/webhook"
)

// httpServer is the HTTP server with its limits against slow or large
// senders. Headers must come within 5 s and a whole request within 30 s; the
// webhook receiver also cuts a body that arrives under its rate floor, and
// admits bodies by bytes, so connections that trickle cannot hold up the
// deliveries that arrive at once.
func (s *Server) httpServer() *http.Server {
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
}

func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() {
		s.metrics.Observe(mAckSeconds, time.Since(start).Seconds())
	}()
	ev, err := s.receiver.Receive(w, r)
	name := r.Header.Get("X-GitHub-Event")
	if !knownEvent(name) {
		name = "other"
	}
	result := func(res string, code int, msg string) {
		s.metrics.Inc(mDeliveries, "event", name, "result", res)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprintln(w, msg)
	}
	delivery := r.Header.Get("X-GitHub-Delivery")
	switch {
	case errors.Is(err, webhook.ErrTooLarge):
		s.log.Warn("webhook refused", "delivery", delivery, "reason", "too-large")
		result("too-large", http.StatusRequestEntityTooLarge, "body too large")
		return
	case errors.Is(err, webhook.ErrNoSignature), errors.Is(err, webhook.ErrBadSignature):
		s.log.Warn("webhook refused", "delivery", delivery, "reason", err.Error(), "remote", r.RemoteAddr)
		result("unauthorized", http.StatusUnauthorized, "signature missing or invalid")
		return
	case errors.Is(err, webhook.ErrBusy):
		// The bytes in flight are at their budget: say when to come back
		// rather than make the sender wait without bound.
		s.log.Warn("webhook refused", "delivery", delivery, "reason", "busy", "err", err, "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", "5")
		result("busy", http.StatusServiceUnavailable, "busy: retry later / 繁忙：请稍后重试")
		return
	case errors.Is(err, webhook.ErrSlow):
		s.log.Warn("webhook refused", "delivery", delivery, "reason", "slow", "err", err, "remote", r.RemoteAddr)
		w.Header().Set("Connection", "close")
		result("slow", http.StatusRequestTimeout, "body arrived too slowly / 请求体传输过慢")
		return
	case errors.Is(err, webhook.ErrDuplicate):
		s.log.Info("duplicate delivery ignored", "delivery", delivery)
		result("duplicate", http.StatusOK, "duplicate delivery: already received")
		return
	case err != nil:
		s.log.Warn("webhook refused", "delivery", delivery, "reason", "malformed", "err", err)
		result("malformed", http.StatusBadRequest, "malformed event")
		return
	}
	if ev.Kind == webhook.KindPing {
		result("accepted", http.StatusOK, "pong")
		return
	}
	if !ev.Acts() {
		result("ignored", http.StatusOK, "event not acted on")
		return
	}
	res, code, msg := s.accept(ev, delivery)
	result(res, code, msg)
}

func knownEvent(name string) bool {
	switch name {
	case webhook.KindPing, webhook.KindPullRequest, webhook.KindPullRequestReview, webhook.KindPush, webhook.KindCheckSuite, webhook.KindCheckRun,
		webhook.KindDeploymentProtectionRule, webhook.KindDeploymentStatus:
		return true
	}
	return false
}
