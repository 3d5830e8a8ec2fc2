// This file tracks what the server depends on — the GitHub API (and with
// it the App's installation token) and the mirror's fetches — so /readyz
// says not ready while any of them fails, and says which.

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/relgate/relgate/controller/ghapi"
)

// health holds the last outcome of each dependency.
type health struct {
	mu    sync.Mutex
	items map[string]healthItem
}

type healthItem struct {
	err string
	at  time.Time
}

func newHealth() *health { return &health{items: map[string]healthItem{}} }

// note records a dependency's latest outcome.
func (h *health) note(what string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	it := healthItem{at: time.Now()}
	if err != nil {
		it.err = err.Error()
	}
	h.items[what] = it
}

// failing lists the dependencies whose latest outcome is an error.
func (h *health) failing() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k, it := range h.items {
		if it.err != "" {
			out = append(out, fmt.Sprintf("%s: %s (since %s)", k, it.err, it.at.UTC().Format(time.RFC3339)))
		}
	}
	slices.Sort(out)
	return out
}

// watchedGitHub notes every API outcome in the health. A 404 is an answer
// about one object, not a failure of GitHub.
type watchedGitHub struct {
	GitHub
	h *health
}

// note records an operation's outcome: GitHub is healthy again for an
// operation when that operation succeeds.
func (w watchedGitHub) note(op string, err error) {
	if err == nil || !errors.Is(err, ghapi.ErrNotFound) {
		w.h.note("github "+op, err)
	}
}

func (w watchedGitHub) GetPull(ctx context.Context, r ghapi.Repo, n int) (ghapi.PullRequest, error) {
	pr, err := w.GitHub.GetPull(ctx, r, n)
	w.note("get-pull", err)
	return pr, err
}

func (w watchedGitHub) ListOpenPulls(ctx context.Context, r ghapi.Repo, base string) ([]ghapi.PullRequest, error) {
	prs, err := w.GitHub.ListOpenPulls(ctx, r, base)
	w.note("list-pulls", err)
	return prs, err
}

func (w watchedGitHub) ListReviews(ctx context.Context, r ghapi.Repo, n int) ([]ghapi.Review, error) {
	rs, err := w.GitHub.ListReviews(ctx, r, n)
	w.note("list-reviews", err)
	return rs, err
}

func (w watchedGitHub) ListDismissals(ctx context.Context, r ghapi.Repo, n int) (map[int64]ghapi.Dismissal, error) {
	ds, err := w.GitHub.ListDismissals(ctx, r, n)
	w.note("list-dismissals", err)
	return ds, err
}

func (w watchedGitHub) ListCheckRuns(ctx context.Context, r ghapi.Repo, sha, name string) ([]ghapi.CheckRunInfo, error) {
	rs, err := w.GitHub.ListCheckRuns(ctx, r, sha, name)
	w.note("list-check-runs", err)
	return rs, err
}

func (w watchedGitHub) CreateCheckRun(ctx context.Context, r ghapi.Repo, run ghapi.CheckRun) (int64, error) {
	id, err := w.GitHub.CreateCheckRun(ctx, r, run)
	w.note("create-check-run", err)
	return id, err
}

func (w watchedGitHub) UpdateCheckRun(ctx context.Context, r ghapi.Repo, id int64, run ghapi.CheckRun) error {
	err := w.GitHub.UpdateCheckRun(ctx, r, id, run)
	w.note("update-check-run", err)
	return err
}

func (w watchedGitHub) CreateStatus(ctx context.Context, r ghapi.Repo, sha string, st ghapi.Status) error {
	err := w.GitHub.CreateStatus(ctx, r, sha, st)
	w.note("create-status", err)
	return err
}

func (w watchedGitHub) ReviewDeploymentProtectionRule(ctx context.Context, r ghapi.Repo, runID int64, env, state, comment string) error {
	err := w.GitHub.ReviewDeploymentProtectionRule(ctx, r, runID, env, state, comment)
	noted := err
	if errors.Is(err, ghapi.ErrAlreadyReviewed) {
		noted = nil // an answer about one run, not a failure of GitHub
	}
	w.note("review-deployment", noted)
	return err
}

// The reviewer requests (reviewers.go). Their failures show in /readyz
// as every GitHub failure does (a token without pull_requests: write is a
// fault to fix); they never change a check (syncReviewers logs them and
// goes on). A refused login is an answer about one person, not a failure.

func (w watchedGitHub) Self(ctx context.Context) (string, error) {
	login, err := w.GitHub.Self(ctx)
	w.note("self", err)
	return login, err
}

func (w watchedGitHub) RequestedReviewers(ctx context.Context, r ghapi.Repo, n int) ([]string, error) {
	ls, err := w.GitHub.RequestedReviewers(ctx, r, n)
	w.note("list-requested-reviewers", err)
	return ls, err
}

func (w watchedGitHub) ReviewRequests(ctx context.Context, r ghapi.Repo, n int) (map[string]ghapi.ReviewRequest, error) {
	rq, err := w.GitHub.ReviewRequests(ctx, r, n)
	w.note("list-review-requests", err)
	return rq, err
}

func (w watchedGitHub) RequestReviewers(ctx context.Context, r ghapi.Repo, n int, logins []string) ([]ghapi.ReviewerRefusal, error) {
	refused, err := w.GitHub.RequestReviewers(ctx, r, n, logins)
	w.note("request-reviewers", err)
	return refused, err
}

func (w watchedGitHub) RemoveRequestedReviewers(ctx context.Context, r ghapi.Repo, n int, logins []string) error {
	err := w.GitHub.RemoveRequestedReviewers(ctx, r, n, logins)
	w.note("remove-requested-reviewers", err)
	return err
}

// reportMode says how results reach GitHub; chosen once, at start.
func (s *Server) reportMode() string {
	switch {
	case s.cfg.GitHub == nil:
		return "none (no GitHub credentials: pull requests are not gated)"
	case s.cfg.CheckRuns:
		return "check runs"
	}
	return "commit statuses (the credentials cannot create check runs)"
}

// handleReady is /readyz: ready once the mirror has the branch, and while
// neither the mirror's fetches nor GitHub fail.
func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	var why []string
	if !s.ready.Load() {
		why = append(why, "the mirror has not fetched "+s.cfg.Branch+" yet")
	}
	if s.stopping.Load() {
		why = append(why, "the server is stopping")
	}
	why = append(why, s.health.failing()...)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	mode := "results: " + s.reportMode()
	if s.cfg.ReadOnly {
		mode += "\nwrite-back: off (--read-only)"
	}
	if len(why) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready / 未就绪\n%s\n- %s\n", mode, strings.Join(why, "\n- "))
		return
	}
	fmt.Fprintf(w, "ready / 就绪\n%s\n", mode)
}

// noteFetch records a mirror fetch.
func (s *Server) noteFetch(err error) {
	s.health.note("mirror", err)
	if err != nil {
		s.metrics.Inc(mFetches, "result", "error")
		return
	}
	s.metrics.Inc(mFetches, "result", "ok")
	s.pokeDashboard() // a fetch may have moved the branch: the pages follow at once
	s.pokeNotices()   // and a deployment it brought is announced at once
}
