package ghapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryConfig bounds retries and requests in flight. Zero fields take the defaults.
type RetryConfig struct {
	// MaxAttempts is the most tries of one request, the first included (default 4).
	MaxAttempts int
	// BaseDelay is the first backoff (default 1s); it doubles per retry up to MaxDelay (default 30s).
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After (or rate limit reset) relgate
	// waits; a longer one ends the retries and the call fails (default 2m).
	MaxRetryAfter time.Duration
	// SecondaryWait is the wait after a secondary rate limit that names no
	// Retry-After; GitHub asks for at least a minute (default 60s).
	SecondaryWait time.Duration
	// MaxInFlight bounds concurrent requests (default 8).
	MaxInFlight int
	// Sleep waits; tests replace it (default: a timer that stops with ctx).
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	// Observe is told of every attempt, retry and failure, for metrics.
	Observe func(Attempt) `json:"-"`
	// Jitter returns a number in [0,1) (default math/rand).
	Jitter func() float64 `json:"-"`
}

// Attempt describes one try of a request.
type Attempt struct {
	Method string
	// Route is the path with numbers and hashes replaced, for low-cardinality metrics.
	Route  string
	Status int // 0 on a transport error
	// Retry is true when another try follows, after Wait.
	Retry  bool
	Wait   time.Duration
	Reason string // server-error, rate-limit, secondary-rate-limit, transport
}

// Transport retries GitHub API requests and bounds how many are in flight.
type Transport struct {
	next http.RoundTripper
	cfg  RetryConfig
	sem  chan struct{}
}

// NewTransport wraps next.
func NewTransport(next http.RoundTripper, cfg RetryConfig) *Transport {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 4
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = time.Second
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 30 * time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 2 * time.Minute
	}
	if cfg.SecondaryWait <= 0 {
		cfg.SecondaryWait = time.Minute
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 8
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	return &Transport{next: next, cfg: cfg, sem: make(chan struct{}, cfg.MaxInFlight)}
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

// InFlight is the number of requests holding a slot now.
func (t *Transport) InFlight() int { return len(t.sem) }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		select {
		case t.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					<-t.sem
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if ctx.Err() != nil {
			<-t.sem
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}
		wait, reason, retry := t.decide(resp, err, attempt)
		last := !retry || attempt >= t.cfg.MaxAttempts || !replayable
		a := Attempt{Method: req.Method, Route: Route(req.URL.Path), Reason: reason, Retry: !last && retry, Wait: wait}
		if resp != nil {
			a.Status = resp.StatusCode
		}
		if t.cfg.Observe != nil {
			t.cfg.Observe(a)
		}
		if last {
			if err != nil {
				<-t.sem
				return nil, err
			}
			// The slot is held until the body is read: read it here, bounded,
			// because callers may replace the body before closing it.
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
			resp.Body.Close()
			<-t.sem
			if rerr != nil {
				return nil, fmt.Errorf("read response of %s %s: %w", req.Method, Route(req.URL.Path), rerr)
			}
			if len(body) > maxBody {
				return nil, fmt.Errorf("response of %s %s is over %d bytes", req.Method, Route(req.URL.Path), maxBody)
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			return resp, nil
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		<-t.sem
		if err := t.cfg.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// maxBody bounds a response relgate reads: pages of 100 pull requests are
// well under it.
const maxBody = 32 << 20

// decide says whether and how long to wait before another try.
func (t *Transport) decide(resp *http.Response, err error, attempt int) (time.Duration, string, bool) {
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, "transport", false
		}
		return t.backoff(attempt), "transport", true
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if d, ok := retryAfter(resp.Header); ok {
			return t.honour(d, "rate-limit")
		}
		if d, ok := resetIn(resp.Header); ok {
			return t.honour(d, "rate-limit")
		}
		return t.backoff(attempt), "rate-limit", true
	case resp.StatusCode == http.StatusForbidden:
		if d, ok := retryAfter(resp.Header); ok {
			return t.honour(d, "secondary-rate-limit")
		}
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			if d, ok := resetIn(resp.Header); ok {
				return t.honour(d, "rate-limit")
			}
		}
		// A secondary rate limit says so in its message only.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(strings.ToLower(string(body)), "secondary rate limit") {
			return t.honour(t.cfg.SecondaryWait, "secondary-rate-limit")
		}
		return 0, "", false
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		if d, ok := retryAfter(resp.Header); ok {
			return t.honour(d, "server-error")
		}
		return t.backoff(attempt), "server-error", true
	}
	return 0, "", false
}

// honour waits what GitHub asked, plus a little jitter so replicas spread
// out, unless it is longer than the configured bound.
func (t *Transport) honour(d time.Duration, reason string) (time.Duration, string, bool) {
	if d > t.cfg.MaxRetryAfter {
		return d, reason, false
	}
	return d + time.Duration(t.cfg.Jitter()*float64(d)/10), reason, true
}

// backoff is exponential with equal jitter: half fixed, half random.
func (t *Transport) backoff(attempt int) time.Duration {
	d := t.cfg.BaseDelay << (attempt - 1)
	if d > t.cfg.MaxDelay || d <= 0 {
		d = t.cfg.MaxDelay
	}
	return d/2 + time.Duration(t.cfg.Jitter()*float64(d/2))
}

func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

func resetIn(h http.Header) (time.Duration, bool) {
	v := h.Get("X-RateLimit-Reset")
	if v == "" {
		return 0, false
	}
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	return max(time.Until(time.Unix(s, 0)), 0), true
}

// Route templates an API path for metrics and messages, so that a label
// names the endpoint and never an owner, repository, number, commit, ref or
// file: "/api/v3/repos/acme/app/pulls/7" is "/repos/{owner}/{repo}/pulls/{number}".
// A GitHub Enterprise root (anything up to /api/v3 or /api/uploads) is
// dropped, so github.com and GHE share routes. A segment that is neither a
// word of GitHub's REST paths nor a known parameter becomes {param}, so the
// result takes few values whatever the input.
func Route(p string) string {
	var in []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			in = append(in, s)
		}
	}
	// The root comes before the first word of the API proper.
	for i := 0; i+1 < len(in) && !routeWords[in[i]]; i++ {
		if in[i] == "api" && (in[i+1] == "v3" || in[i+1] == "uploads") {
			in = in[i+2:]
			break
		}
	}
	var out []string
	for i := 0; i < len(in); i++ {
		if len(out) >= maxRouteSegments {
			out = append(out, "{rest}")
			break
		}
		s, prev := in[i], ""
		if len(out) > 0 {
			prev = out[len(out)-1]
		}
		switch {
		case prev == "repos":
			// Owner and repository are positional: a repository may be
			// called "pulls".
			out = append(out, "{owner}")
			if i+1 < len(in) {
				out = append(out, "{repo}")
				i++
			}
		case routeRest[prev] != "":
			// A ref, branch or file path may hold slashes: it runs to the
			// end, less a known last word (commits/{ref}/status).
			name := routeRest[prev]
			if prev == "commits" && len(out) > 1 && out[len(out)-2] == "git" {
				name = "{sha}" // git/commits/{sha}, not commits/{ref}
			}
			out = append(out, name)
			if last := in[len(in)-1]; len(in)-1 > i && routeSuffix[prev+"/"+last] {
				out = append(out, last)
			}
			i = len(in)
		case routeWords[s]:
			out = append(out, s)
		case isDigits(s):
			if n := routeNumber[prev]; n != "" {
				out = append(out, n)
			} else {
				out = append(out, "{id}")
			}
		case (len(s) == 40 || len(s) == 64) && isHex(s):
			out = append(out, "{sha}")
		case routeParam[prev] != "":
			out = append(out, routeParam[prev])
		default:
			out = append(out, "{param}")
		}
	}
	return "/" + strings.Join(out, "/")
}

// maxRouteSegments bounds a route; GitHub's longest REST paths have about 12.
const maxRouteSegments = 16

func isDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }

func isHex(s string) bool { return strings.Trim(s, "0123456789abcdefABCDEF") == "" }

// routeNumber names the number after a word.
var routeNumber = map[string]string{
	"pulls": "{number}", "issues": "{number}", "check-runs": "{check_run_id}",
	"check-suites": "{check_suite_id}", "reviews": "{review_id}", "comments": "{comment_id}",
	"installations": "{installation_id}", "hooks": "{hook_id}", "releases": "{release_id}",
	"repositories": "{repository_id}", "runs": "{run_id}", "jobs": "{job_id}",
	"deployments": "{deployment_id}", "milestones": "{milestone_id}", "teams": "{team_id}",
}

// routeParam names the other segment after a word.
var routeParam = map[string]string{
	"users": "{username}", "orgs": "{org}", "collaborators": "{username}", "members": "{username}",
	"memberships": "{username}", "assignees": "{assignee}", "labels": "{name}", "tags": "{tag}",
	"trees": "{sha}", "blobs": "{sha}", "environments": "{environment}", "workflows": "{workflow_id}",
	"teams": "{team_slug}",
}

// routeRest names a parameter that runs to the end of the path.
var routeRest = map[string]string{
	"refs": "{ref}", "ref": "{ref}", "matching-refs": "{ref}", "commits": "{ref}",
	"statuses": "{sha}", "branches": "{branch}", "contents": "{path}", "compare": "{basehead}",
	"readme": "{dir}", "tarball": "{ref}", "zipball": "{ref}",
}

// routeSuffix is a word that may end a path after a parameter that runs to the end.
var routeSuffix = map[string]bool{
	"commits/status": true, "commits/statuses": true, "commits/check-runs": true,
	"commits/check-suites": true, "commits/pulls": true, "commits/comments": true,
	"commits/branches-where-head": true, "branches/protection": true, "branches/rename": true,
}

// routeWords are the fixed words of GitHub's REST paths.
var routeWords = wordSet(`repos pulls issues reviews comments requested_reviewers files
	commits merge merges check-runs check-suites annotations rerequest statuses status git refs
	ref matching-refs trees blobs tags branches protection rename contents compare collaborators
	permission hooks releases latest labels installation installations access_tokens app apps
	user users orgs teams members memberships search rate_limit repositories events timeline
	reactions lock readme dispatches deployments environments actions runs workflows jobs logs
	pages assignees milestones keys topics languages contributors forks stargazers subscribers
	notifications graphql meta dismissals codeowners errors rulesets rules required_status_checks
	required_pull_request_reviews enforce_admins restrictions required_signatures contexts
	update-branch tarball zipball preferences properties values commit-activity code-scanning
	secret-scanning dependabot alerts permissions assets deployment_protection_rule`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
