package server

import (
	"net/http"
	"strings"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/webhook"
)

// accept turns an authenticated event into queued work and says how to
// answer the delivery: the result label, the HTTP status and its text.
func (s *Server) accept(ev *webhook.Event, delivery string) (string, int, string) {
	repo := ghapi.Repo{Owner: ev.Repo.Owner, Name: ev.Repo.Name}
	if s.cfg.Repo.Owner != "" && !strings.EqualFold(repo.String(), s.cfg.Repo.String()) {
		s.log.Warn("event for another repository ignored", "delivery", delivery, "repository", repo.String())
		return "ignored", http.StatusOK, "not the repository this server gates"
	}
	if pr := ev.PullRequest; pr != nil {
		s.setHint(pr.Number, subject{head: pr.HeadSHA, base: pr.BaseRef})
	}
	if s.cfg.GitHub == nil && ev.ProtectionRule != nil {
		s.log.Warn("deployment protection rule request ignored: no GitHub credentials to answer it", "delivery", delivery)
		return "ignored", http.StatusOK, "no GitHub credentials to answer deployments"
	}
	if k, handled, ok := s.acceptDeployment(ev); handled {
		if !ok || !s.queue.push(k) {
			s.receiver.Forget(ev.Delivery)
			s.metrics.Inc(mQueueDrops)
			s.log.Error("deployment events at their bound; delivery refused", "delivery", ev.Delivery, "event", ev.Kind)
			return "dropped", http.StatusServiceUnavailable, "busy: redeliver later"
		}
		s.log.Info("event accepted", "delivery", ev.Delivery, "event", ev.Kind, "action", ev.Action, "work", 1)
		return "accepted", http.StatusAccepted, "accepted"
	}
	keys := s.workFor(ev)
	for _, k := range keys {
		if !s.queue.push(k) {
			// Not acknowledged, and not remembered: GitHub's redelivery of
			// this id must be accepted, or the event would be lost.
			s.receiver.Forget(ev.Delivery)
			s.metrics.Inc(mQueueDrops)
			s.log.Error("work queue full; delivery refused", "delivery", ev.Delivery, "event", ev.Kind)
			return "dropped", http.StatusServiceUnavailable, "busy: redeliver later"
		}
	}
	s.log.Info("event accepted", "delivery", ev.Delivery, "event", ev.Kind, "action", ev.Action, "work", len(keys))
	return "accepted", http.StatusAccepted, "accepted"
}

// workFor maps an event to work. Handlers re-read the pull request from the
// API: the event only says which one, so a replayed or reordered event
// cannot bring back a stale result.
func (s *Server) workFor(ev *webhook.Event) []workKey {
	switch ev.Kind {
	case webhook.KindPullRequest:
		if ev.Action == "closed" {
			if ev.PullRequest.Merged {
				return []workKey{{kind: kindMerged, n: ev.PullRequest.Number}}
			}
			if s.cfg.RequestReviewers {
				// Closed unmerged: only relgate's reviewer requests are withdrawn.
				return []workKey{{kind: kindPull, n: ev.PullRequest.Number}}
			}
			return nil
		}
		return []workKey{{kind: kindPull, n: ev.PullRequest.Number}}
	case webhook.KindPullRequestReview:
		return []workKey{{kind: kindPull, n: ev.PullRequest.Number}}
	case webhook.KindPush:
		if ev.Push.Ref == "refs/heads/"+s.cfg.Branch {
			return []workKey{{kind: kindPush}}
		}
	case webhook.KindCheckSuite, webhook.KindCheckRun:
		if len(ev.PullNumbers) == 0 {
			if ev.Action != "rerequested" {
				return nil // a suite GitHub opened for a push outside any pull request
			}
			return []workKey{{kind: kindResync}} // someone asked: re-run everything open
		}
		var out []workKey
		for _, n := range ev.PullNumbers {
			out = append(out, workKey{kind: kindPull, n: n})
		}
		return out
	}
	return nil
}
