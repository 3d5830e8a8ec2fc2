// Package ghapi is relgate's adapter to the GitHub REST API, built on
// go-github: it reads pull requests and their reviews and posts check runs and
// commit statuses. go-github's pointer-heavy types are converted to this
// package's plain types here and never travel further. Requests are retried
// with backoff and jitter on 5xx, 429 and secondary rate limits (honouring
// Retry-After), the number in flight is bounded, and tokens redact themselves.
package ghapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/relgate/relgate/controller/redact"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// Token is a secret credential. Printing, logging or encoding it shows
// "[redacted]"; Reveal returns it for the one place that sends it.
type Token string

// String implements fmt.Stringer.
func (Token) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer (%#v).
func (Token) GoString() string { return `ghapi.Token("[redacted]")` }

// LogValue implements slog.LogValuer.
func (Token) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON keeps the token out of any JSON the caller writes.
func (Token) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// MarshalText keeps the token out of text encodings.
func (Token) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret.
func (t Token) Reveal() string { return string(t) }

// App is a GitHub App's installation credential.
type App struct {
	ID             int64
	InstallationID int64
	// PrivateKey is the App's PEM private key.
	PrivateKey Token
}

// Config configures a Client.
type Config struct {
	// BaseURL is the API root: "" for github.com, or a GitHub Enterprise
	// Server's https://HOST/api/v3/.
	BaseURL string
	// Token is a personal access token; App is used instead when set.
	Token Token
	App   *App
	Retry RetryConfig
	// Transport is the underlying transport (default http.DefaultTransport).
	Transport http.RoundTripper `json:"-"`
	// Timeout bounds one API call including its retries (default 2 minutes).
	Timeout time.Duration
}

// Repo names a repository.
type Repo struct {
	Owner, Name string
}

func (r Repo) String() string { return r.Owner + "/" + r.Name }

// ParseRepo parses "owner/name".
func ParseRepo(s string) (Repo, error) {
	o, n, ok := strings.Cut(strings.TrimSuffix(strings.Trim(s, "/"), ".git"), "/")
	if !ok || o == "" || n == "" || strings.Contains(n, "/") {
		return Repo{}, fmt.Errorf("repository %q: want OWNER/NAME", s)
	}
	return Repo{Owner: o, Name: n}, nil
}

// PullRequest is what relgate needs of a pull request.
type PullRequest struct {
	Number         int
	State          string // open, closed
	Draft          bool
	Merged         bool
	MergeCommitSHA string
	Title          string
	Author         string
	AuthorIsBot    bool
	HeadSHA        string
	HeadRef        string
	BaseRef        string
	BaseSHA        string
	HTMLURL        string
}

// Review is one pull request review.
type Review struct {
	ID    int64
	Login string
	IsBot bool
	// State is APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING.
	State       string
	CommitID    string
	SubmittedAt time.Time
	// OriginalState and DismissedBy are set on a DISMISSED review from its
	// dismissal (ListDismissals): the state it had and who dismissed it. The
	// reviews API loses both.
	OriginalState string
	DismissedBy   string
}

// Dismissal is a review's dismissal as the pull request's timeline records it.
type Dismissal struct {
	ReviewID int64
	// State is the review's state before it was dismissed, upper-case like
	// Review.State: APPROVED, CHANGES_REQUESTED or COMMENTED.
	State string
	// Actor is the login that dismissed it (for a stale approval dismissed
	// by a push, the pusher).
	Actor string
	// CommitID is the commit whose push dismissed it ("" for a manual dismissal).
	CommitID string
	Message  string
	At       time.Time
}

// Annotation is a check run annotation on a file's lines.
type Annotation struct {
	Path      string
	StartLine int
	EndLine   int
	// Level is notice, warning or failure.
	Level   string
	Title   string
	Message string
}

// CheckRun is a check run to create or update.
type CheckRun struct {
	Name    string
	HeadSHA string
	// Status is queued, in_progress or completed.
	Status string
	// Conclusion is set when completed: success, failure, action_required, ...
	Conclusion  string
	Title       string
	Summary     string
	Text        string
	DetailsURL  string
	ExternalID  string
	Annotations []Annotation
	CompletedAt time.Time
}

// Status is a commit status.
type Status struct {
	// State is error, failure, pending or success.
	State       string
	Context     string
	Description string
	TargetURL   string
}

// Limits GitHub sets on check runs and statuses.
const (
	MaxAnnotations       = 50    // per request
	MaxSummary           = 65535 // characters
	MaxStatusDescription = 140
)

// Client calls GitHub.
type Client struct {
	gh      *github.Client
	timeout time.Duration
	retry   *Transport
	app     *ghinstallation.Transport
	appID   int64
	// apps calls as the App itself (a JWT), for GET /app (Self).
	apps *github.Client

	selfMu sync.Mutex
	self   string
}

// New makes a client. It fails on a malformed base URL or App key.
func New(cfg Config) (*Client, error) {
	base := cfg.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	apiURL := cfg.BaseURL
	if apiURL == "" {
		apiURL = "https://api.github.com/"
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q: want https://HOST/api/v3/ (or empty for github.com)", Redact(apiURL))
	}
	if u.User != nil {
		return nil, fmt.Errorf("GitHub API URL %s: credentials in the URL are not allowed; use the token settings", Redact(apiURL))
	}
	c := &Client{timeout: cfg.Timeout}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Minute
	}
	inner := base
	if cfg.App != nil {
		itr, err := ghinstallation.New(base, cfg.App.ID, cfg.App.InstallationID, []byte(cfg.App.PrivateKey.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("GitHub App %d installation %d: private key: %w", cfg.App.ID, cfg.App.InstallationID, err)
		}
		itr.BaseURL = strings.TrimSuffix(apiURL, "/")
		// An empty object, not JSON null: GitHub's OpenAPI description of
		// "create an installation access token" wants an object body.
		itr.InstallationTokenOptions = &github.InstallationTokenOptions{}
		c.app, c.appID = itr, cfg.App.ID
		inner = itr
		atr, err := ghinstallation.NewAppsTransport(base, cfg.App.ID, []byte(cfg.App.PrivateKey.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("GitHub App %d: private key: %w", cfg.App.ID, err)
		}
		c.apps = github.NewClient(&http.Client{Transport: NewTransport(atr, cfg.Retry)})
	}
	c.retry = NewTransport(inner, cfg.Retry)
	gh := github.NewClient(&http.Client{Transport: c.retry})
	if cfg.App == nil && cfg.Token != "" {
		gh = gh.WithAuthToken(cfg.Token.Reveal())
	}
	gh.UserAgent = "relgate"
	// Not WithEnterpriseURLs: it appends api/v3/ to any URL; the caller
	// names the API root exactly.
	gh.BaseURL, gh.UploadURL = u, u
	c.gh = gh
	if c.apps != nil {
		c.apps.UserAgent = "relgate"
		c.apps.BaseURL, c.apps.UploadURL = u, u
	}
	return c, nil
}

// IsApp reports whether the client authenticates as a GitHub App (which may
// create check runs; a personal access token may not).
func (c *Client) IsApp() bool { return c.app != nil }

// GitToken returns a token for git over HTTPS: the installation token of an
// App, or "" when the client uses a personal access token (the caller has it).
func (c *Client) GitToken(ctx context.Context) (Token, error) {
	if c.app == nil {
		return "", nil
	}
	t, err := c.app.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("GitHub App installation token: %w", err)
	}
	return Token(t), nil
}

func (c *Client) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// maxPages bounds pagination: 30 pages of 100.
const maxPages = 30

// GetPull reads a pull request.
func (c *Client) GetPull(ctx context.Context, r Repo, n int) (PullRequest, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	pr, _, err := c.gh.PullRequests.Get(ctx, r.Owner, r.Name, n)
	if err != nil {
		return PullRequest{}, fmt.Errorf("get pull request %s#%d: %w", r, n, classify(err))
	}
	return convertPull(pr), nil
}

// ListOpenPulls lists the open pull requests into base ("" for any base).
func (c *Client) ListOpenPulls(ctx context.Context, r Repo, base string) ([]PullRequest, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	opt := &github.PullRequestListOptions{State: "open", Base: base, ListOptions: github.ListOptions{PerPage: 100}}
	var out []PullRequest
	for page := 0; page < maxPages; page++ {
		prs, resp, err := c.gh.PullRequests.List(ctx, r.Owner, r.Name, opt)
		if err != nil {
			return nil, fmt.Errorf("list open pull requests of %s: %w", r, classify(err))
		}
		for _, pr := range prs {
			out = append(out, convertPull(pr))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
	return out, fmt.Errorf("list open pull requests of %s: more than %d pages", r, maxPages)
}

// ListReviews lists a pull request's reviews, oldest first.
func (c *Client) ListReviews(ctx context.Context, r Repo, n int) ([]Review, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	opt := &github.ListOptions{PerPage: 100}
	var out []Review
	for page := 0; page < maxPages; page++ {
		rs, resp, err := c.gh.PullRequests.ListReviews(ctx, r.Owner, r.Name, n, opt)
		if err != nil {
			return nil, fmt.Errorf("list reviews of %s#%d: %w", r, n, classify(err))
		}
		for _, rv := range rs {
			out = append(out, Review{ID: rv.GetID(), Login: rv.GetUser().GetLogin(), IsBot: rv.GetUser().GetType() == "Bot",
				State: strings.ToUpper(rv.GetState()), CommitID: rv.GetCommitID(), SubmittedAt: rv.GetSubmittedAt().Time})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
	return out, fmt.Errorf("list reviews of %s#%d: more than %d pages", r, n, maxPages)
}

// timelineEvent is the part of an issue timeline event relgate reads.
// go-github v60's Timeline type lacks dismissed_review, so the timeline is
// decoded into this instead (still through go-github's client).
type timelineEvent struct {
	Event           string            `json:"event"`
	Actor           *github.User      `json:"actor"`
	CreatedAt       *github.Timestamp `json:"created_at"`
	DismissedReview *struct {
		State             string `json:"state"`
		ReviewID          int64  `json:"review_id"`
		DismissalMessage  string `json:"dismissal_message"`
		DismissalCommitID string `json:"dismissal_commit_id"`
	} `json:"dismissed_review"`
}

// ListDismissals reads a pull request's review dismissals from its issue
// timeline, by review id: the reviews API shows a dismissed review only as
// DISMISSED, without the state it had or who dismissed it. A review
// dismissed more than once keeps its latest dismissal.
func (c *Client) ListDismissals(ctx context.Context, r Repo, n int) (map[int64]Dismissal, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out := map[int64]Dismissal{}
	next := 1
	for i := 0; i < maxPages; i++ {
		u := fmt.Sprintf("repos/%s/%s/issues/%d/timeline?per_page=100&page=%d", r.Owner, r.Name, n, next)
		req, err := c.gh.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("list the timeline of %s#%d: %w", r, n, err)
		}
		var events []timelineEvent
		resp, err := c.gh.Do(ctx, req, &events)
		if err != nil {
			return nil, fmt.Errorf("list the timeline of %s#%d: %w", r, n, classify(err))
		}
		for _, e := range events {
			if e.Event != "review_dismissed" {
				continue
			}
			dr := e.DismissedReview
			if dr == nil || dr.ReviewID == 0 || dr.State == "" || e.Actor.GetLogin() == "" {
				// Fail closed: a dismissal relgate cannot attribute must not
				// read as a withdrawn rejection.
				return nil, fmt.Errorf("list the timeline of %s#%d: a review_dismissed event lacks the review id, its state or the actor", r, n)
			}
			d := Dismissal{ReviewID: dr.ReviewID, State: strings.ToUpper(dr.State), Actor: e.Actor.GetLogin(),
				CommitID: dr.DismissalCommitID, Message: dr.DismissalMessage}
			if e.CreatedAt != nil {
				d.At = e.CreatedAt.Time.UTC()
			}
			out[dr.ReviewID] = d
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		next = resp.NextPage
	}
	return nil, fmt.Errorf("list the timeline of %s#%d: more than %d pages", r, n, maxPages)
}

// CreateCheckRun creates a check run and returns its id.
func (c *Client) CreateCheckRun(ctx context.Context, r Repo, run CheckRun) (int64, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	opt := github.CreateCheckRunOptions{Name: run.Name, HeadSHA: run.HeadSHA, Status: optional(run.Status),
		Conclusion: optional(run.Conclusion), DetailsURL: optional(run.DetailsURL), ExternalID: optional(run.ExternalID),
		Output: output(run)}
	if run.Conclusion != "" {
		opt.CompletedAt = completedAt(run)
	}
	cr, _, err := c.gh.Checks.CreateCheckRun(ctx, r.Owner, r.Name, opt)
	if err != nil {
		return 0, fmt.Errorf("create check run %q on %s@%s: %w", run.Name, r, short(run.HeadSHA), classify(err))
	}
	return cr.GetID(), nil
}

// UpdateCheckRun updates a check run.
func (c *Client) UpdateCheckRun(ctx context.Context, r Repo, id int64, run CheckRun) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	opt := github.UpdateCheckRunOptions{Name: run.Name, Status: optional(run.Status), Conclusion: optional(run.Conclusion),
		DetailsURL: optional(run.DetailsURL), ExternalID: optional(run.ExternalID), Output: output(run)}
	if run.Conclusion != "" {
		opt.CompletedAt = completedAt(run)
	}
	if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, r.Owner, r.Name, id, opt); err != nil {
		return fmt.Errorf("update check run %d of %s: %w", id, r, classify(err))
	}
	return nil
}

// CheckRunInfo is a check run as GitHub holds it.
type CheckRunInfo struct {
	ID         int64
	Name       string
	HeadSHA    string
	ExternalID string
	Status     string
	Conclusion string
	Title      string
}

// ListCheckRuns lists the check runs named name on commit sha (all of
// them, not only the latest), newest first.
func (c *Client) ListCheckRuns(ctx context.Context, r Repo, sha, name string) ([]CheckRunInfo, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	opt := &github.ListCheckRunsOptions{CheckName: github.String(name), Filter: github.String("all"), ListOptions: github.ListOptions{PerPage: 100}}
	if c.app != nil {
		// Only this App's runs: a workflow could make one with the same
		// name and external id to stall relgate's own.
		opt.AppID = github.Int64(c.appID)
	}
	var out []CheckRunInfo
	for page := 0; page < maxPages; page++ {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, r.Owner, r.Name, sha, opt)
		if err != nil {
			return nil, fmt.Errorf("list check runs %q of %s@%s: %w", name, r, short(sha), classify(err))
		}
		for _, cr := range res.CheckRuns {
			out = append(out, CheckRunInfo{ID: cr.GetID(), Name: cr.GetName(), HeadSHA: cr.GetHeadSHA(), ExternalID: cr.GetExternalID(),
				Status: cr.GetStatus(), Conclusion: cr.GetConclusion(), Title: cr.GetOutput().GetTitle()})
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// CreateStatus sets a commit status.
func (c *Client) CreateStatus(ctx context.Context, r Repo, sha string, s Status) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	desc := s.Description
	if len([]rune(desc)) > MaxStatusDescription {
		desc = string([]rune(desc)[:MaxStatusDescription-1]) + "…"
	}
	st := &github.RepoStatus{State: github.String(s.State), Context: optional(s.Context), Description: optional(desc),
		TargetURL: optional(s.TargetURL)}
	if _, _, err := c.gh.Repositories.CreateStatus(ctx, r.Owner, r.Name, sha, st); err != nil {
		return fmt.Errorf("create status %q on %s@%s: %w", s.Context, r, short(sha), classify(err))
	}
	return nil
}

func convertPull(pr *github.PullRequest) PullRequest {
	return PullRequest{Number: pr.GetNumber(), State: pr.GetState(), Draft: pr.GetDraft(), Merged: pr.GetMerged(),
		MergeCommitSHA: pr.GetMergeCommitSHA(), Title: pr.GetTitle(), Author: pr.GetUser().GetLogin(),
		AuthorIsBot: pr.GetUser().GetType() == "Bot", HeadSHA: pr.GetHead().GetSHA(), HeadRef: pr.GetHead().GetRef(),
		BaseRef: pr.GetBase().GetRef(), BaseSHA: pr.GetBase().GetSHA(), HTMLURL: pr.GetHTMLURL()}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func completedAt(run CheckRun) *github.Timestamp {
	t := run.CompletedAt
	if t.IsZero() {
		t = time.Now()
	}
	return &github.Timestamp{Time: t.UTC().Truncate(time.Second)}
}

func output(run CheckRun) *github.CheckRunOutput {
	if run.Title == "" && run.Summary == "" {
		return nil
	}
	summary := run.Summary
	if len(summary) > MaxSummary {
		summary = truncateUTF8(summary, MaxSummary-100) + "\n\n… (truncated)"
	}
	out := &github.CheckRunOutput{Title: github.String(run.Title), Summary: github.String(summary), Text: optional(run.Text)}
	for i, a := range run.Annotations {
		if i == MaxAnnotations {
			break
		}
		end := max(a.EndLine, a.StartLine)
		out.Annotations = append(out.Annotations, &github.CheckRunAnnotation{Path: github.String(a.Path),
			StartLine: github.Int(max(a.StartLine, 1)), EndLine: github.Int(max(end, 1)),
			AnnotationLevel: github.String(a.Level), Message: github.String(a.Message), Title: optional(a.Title)})
	}
	return out
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Error classes callers branch on.
var (
	// ErrNotFound: the pull request, repository or commit does not exist (or
	// the credential cannot see it).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the credential lacks a permission (a personal access
	// token cannot create check runs).
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited: GitHub's rate limit held after the retries.
	ErrRateLimited = errors.New("rate limited")
)

// classify wraps go-github's errors with this package's sentinels, keeping
// the message (which never holds the token: it is in a header, not the URL).
func classify(err error) error {
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &rl), errors.As(err, &abuse):
		return fmt.Errorf("%w: %v", ErrRateLimited, err)
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %v", ErrRateLimited, err)
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	return err
}

// Redact strips credentials from a URL for logs and errors.
func Redact(raw string) string { return redact.URL(raw) }

// Deployment protection rule reviews (docs.github.com/rest/actions/workflow-runs,
// "Review custom deployment protection rules for a workflow run").
const (
	DeploymentApproved = "approved"
	DeploymentRejected = "rejected"
	// MaxDeploymentComment bounds a review's comment, in characters.
	// GitHub documents no limit; this one is conservative, and the full
	// decision is in the server's log and the release's deployment log.
	MaxDeploymentComment = 1024
)

// ErrAlreadyReviewed: GitHub refused the review as unprocessable (422),
// which it answers when this App already reviewed the run's environment.
// Another try would get the same answer.
var ErrAlreadyReviewed = errors.New("deployment already reviewed (422)")

// ReviewDeploymentProtectionRule approves or rejects the deployment of
// workflow run runID to environment, as the custom deployment protection
// rule this App is. go-github v60 has no method for it.
func (c *Client) ReviewDeploymentProtectionRule(ctx context.Context, r Repo, runID int64, environment, state, comment string) error {
	if state != DeploymentApproved && state != DeploymentRejected {
		return fmt.Errorf("review the deployment of run %d of %s: state %q is not approved or rejected", runID, r, state)
	}
	if runID <= 0 || environment == "" {
		return fmt.Errorf("review the deployment of run %d of %s to %q: a run id and an environment are required", runID, r, environment)
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	body := struct {
		EnvironmentName string `json:"environment_name"`
		State           string `json:"state"`
		Comment         string `json:"comment"`
	}{environment, state, DeploymentComment(comment)}
	u := fmt.Sprintf("repos/%s/%s/actions/runs/%d/deployment_protection_rule", url.PathEscape(r.Owner), url.PathEscape(r.Name), runID)
	req, err := c.gh.NewRequest(http.MethodPost, u, body)
	if err != nil {
		return fmt.Errorf("review the deployment of run %d of %s: %w", runID, r, err)
	}
	if _, err := c.gh.Do(ctx, req, nil); err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
			return fmt.Errorf("review the deployment of run %d of %s to %s: %w: %v", runID, r, environment, ErrAlreadyReviewed, err)
		}
		return fmt.Errorf("review the deployment of run %d of %s to %s: %w", runID, r, environment, classify(err))
	}
	return nil
}

// DeploymentComment bounds a review comment to MaxDeploymentComment
// characters, cut on a character boundary with a note saying so.
func DeploymentComment(s string) string {
	if utf8.RuneCountInString(s) <= MaxDeploymentComment {
		return s
	}
	const note = "\n… (truncated; relgate's log holds the full decision)"
	keep := MaxDeploymentComment - utf8.RuneCountInString(note)
	i := 0
	for n := 0; n < keep; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + note
}

// DeploymentRunID takes the workflow run id from a deployment_protection_rule
// event's deployment_callback_url. The URL is the sender's text: it must be
// this client's API root followed by repos/OWNER/NAME/actions/runs/ID/
// deployment_protection_rule for repository r, or it is refused. The review
// is posted to the client's own API root, never to the URL as given.
func (c *Client) DeploymentRunID(callback string, r Repo) (int64, error) {
	return CallbackRunID(c.gh.BaseURL.String(), callback, r)
}

// CallbackRunID is DeploymentRunID against the API root apiRoot.
func CallbackRunID(apiRoot, callback string, r Repo) (int64, error) {
	root, err := url.Parse(apiRoot)
	if err != nil {
		return 0, fmt.Errorf("API root: %w", err)
	}
	u, err := url.Parse(callback)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return 0, fmt.Errorf("deployment_callback_url %q is not a plain URL", Redact(truncateUTF8(callback, 200)))
	}
	if !strings.EqualFold(u.Scheme, root.Scheme) || !strings.EqualFold(u.Host, root.Host) {
		return 0, fmt.Errorf("deployment_callback_url %s is not on the GitHub API relgate uses (%s)", Redact(truncateUTF8(callback, 200)), root.Host)
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), strings.TrimSuffix(root.EscapedPath(), "/")+"/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 7 || parts[0] != "repos" || parts[3] != "actions" || parts[4] != "runs" || parts[6] != "deployment_protection_rule" {
		return 0, fmt.Errorf("deployment_callback_url %s is not …/repos/OWNER/NAME/actions/runs/ID/deployment_protection_rule", Redact(truncateUTF8(callback, 200)))
	}
	if !strings.EqualFold(parts[1], r.Owner) || !strings.EqualFold(parts[2], r.Name) {
		return 0, fmt.Errorf("deployment_callback_url names repository %s/%s, not %s", truncateUTF8(parts[1], 100), truncateUTF8(parts[2], 100), r)
	}
	id, err := strconv.ParseInt(parts[5], 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != parts[5] {
		return 0, fmt.Errorf("deployment_callback_url: run id %q is not a number", truncateUTF8(parts[5], 40))
	}
	return id, nil
}

// WebURL is the web address of the GitHub whose API root is apiURL:
// https://github.com for api.github.com, https://HOST for a GitHub
// Enterprise Server's https://HOST/api/v3/.
func WebURL(apiURL string) string {
	if apiURL == "" {
		return "https://github.com"
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return ""
	}
	if u.Host == "api.github.com" {
		return "https://github.com"
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3")
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimSuffix(u.String(), "/")
}

// OAuthConfig configures a GitHub App's user sign-in (the web application
// flow, docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app).
type OAuthConfig struct {
	// WebURL is GitHub's web address (default WebURL of the API client's root).
	WebURL       string
	ClientID     string
	ClientSecret Token
	// API is the App's client: the read-access check asks with its
	// installation token, so the user's token is not kept.
	API  *Client
	Repo Repo
	// Transport is the underlying transport (default http.DefaultTransport).
	Transport http.RoundTripper `json:"-"`
	// Timeout bounds each call (default 10 seconds).
	Timeout time.Duration
}

// OAuth signs users in with GitHub and checks their access to a repository.
type OAuth struct {
	cfg  OAuthConfig
	web  string
	http *http.Client
}

// NewOAuth checks the configuration.
func NewOAuth(cfg OAuthConfig) (*OAuth, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("GitHub sign-in needs the App's OAuth client id and client secret")
	}
	if cfg.API == nil || cfg.Repo.Owner == "" || cfg.Repo.Name == "" {
		return nil, errors.New("GitHub sign-in needs the App's API client and the repository whose readers may sign in")
	}
	web := cfg.WebURL
	if web == "" {
		web = WebURL(cfg.API.gh.BaseURL.String())
	}
	u, err := url.Parse(web)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("GitHub web URL %q: want https://HOST", Redact(web))
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &OAuth{cfg: cfg, web: strings.TrimSuffix(web, "/"), http: &http.Client{Transport: cfg.Transport, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// AuthorizeURL is GitHub's sign-in page for state, returning to redirectURI.
func (o *OAuth) AuthorizeURL(state, redirectURI string) string {
	q := url.Values{"client_id": {o.cfg.ClientID}, "redirect_uri": {redirectURI}, "state": {state}, "allow_signup": {"false"}}
	return o.web + "/login/oauth/authorize?" + q.Encode()
}

// maxOAuthBody bounds an answer of the token endpoint.
const maxOAuthBody = 64 << 10

// SignIn exchanges a code for the user's token and returns the user's
// login; the token is dropped.
func (o *OAuth) SignIn(ctx context.Context, code, redirectURI string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	form := url.Values{"client_id": {o.cfg.ClientID}, "client_secret": {o.cfg.ClientSecret.Reveal()}, "code": {code}, "redirect_uri": {redirectURI}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.web+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "relgate")
	resp, err := o.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("exchange the sign-in code: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOAuthBody))
	if err != nil {
		return "", fmt.Errorf("exchange the sign-in code: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("exchange the sign-in code: GitHub answered %s", resp.Status)
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return "", fmt.Errorf("exchange the sign-in code: the answer is not JSON: %w", err)
	}
	if tok.Error != "" {
		return "", fmt.Errorf("exchange the sign-in code: %s: %s", tok.Error, truncateUTF8(tok.Description, 200))
	}
	if tok.AccessToken == "" {
		return "", errors.New("exchange the sign-in code: GitHub returned no access token")
	}
	gh := github.NewClient(&http.Client{Transport: o.cfg.Transport}).WithAuthToken(tok.AccessToken)
	gh.UserAgent = "relgate"
	gh.BaseURL = o.cfg.API.gh.BaseURL
	u, _, err := gh.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("read the signed-in user: %w", classify(err))
	}
	if u.GetLogin() == "" {
		return "", errors.New("read the signed-in user: GitHub returned no login")
	}
	return u.GetLogin(), nil
}

// CanRead says whether login may read the repository, asking with the
// App's token (docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user):
// admin, write or read may; none may not, nor a login GitHub does not
// know (404). Any other failure is an error, never a yes.
func (o *OAuth) CanRead(ctx context.Context, login string) (bool, error) {
	// go-github puts the login into the path as it is: a "/" or ".." in it
	// would ask about someone else.
	if login == "" || len(login) > 39 || strings.Trim(login, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return false, fmt.Errorf("read access of %q: not a GitHub login", login)
	}
	ctx, cancel := o.cfg.API.ctx(ctx)
	defer cancel()
	p, _, err := o.cfg.API.gh.Repositories.GetPermissionLevel(ctx, o.cfg.Repo.Owner, o.cfg.Repo.Name, login)
	if err != nil {
		err = classify(err)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("read access of %s to %s: %w", login, o.cfg.Repo, err)
	}
	switch p.GetPermission() {
	case "admin", "maintain", "write", "triage", "read":
		return true, nil
	}
	return false, nil
}

// Review requests (docs.github.com/rest/pulls/review-requests): relgate asks
// the people who may supply a missing approval, and withdraws what it asked
// once they are no longer needed. Who asked is read from the pull request's
// timeline, so every replica and every restart agree on which requests are
// relgate's.

// MaxRequestedReviewers is GitHub's limit on the reviewers requested on one
// pull request at a time.
const MaxRequestedReviewers = 15

// ReviewerRefusal is a login GitHub would not request (422): the pull
// request's author, someone who is not a collaborator, or a login that does
// not exist.
type ReviewerRefusal struct {
	Login   string
	Message string
}

// ReviewRequest is a pending review request as the timeline records it.
type ReviewRequest struct {
	Reviewer string
	// Requester is the login that made the request ("" when the timeline
	// does not say: such a request is nobody's to withdraw).
	Requester string
	At        time.Time
}

// validLogin reports whether s is a GitHub login: letters, digits and
// single hyphens, at most 39 characters (an App's bot adds "[bot]").
func validLogin(s string) bool {
	s = strings.TrimSuffix(s, "[bot]")
	if s == "" || len(s) > 39 || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") || strings.Contains(s, "--") {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
}

// reviewerLogins checks a list of logins for a review request call.
func reviewerLogins(op string, r Repo, n int, logins []string) ([]string, error) {
	if len(logins) == 0 || len(logins) > MaxRequestedReviewers {
		return nil, fmt.Errorf("%s on %s#%d: %d logins, want 1..%d", op, r, n, len(logins), MaxRequestedReviewers)
	}
	var out []string
	for _, l := range logins {
		if !validLogin(l) {
			return nil, fmt.Errorf("%s on %s#%d: %q is not a GitHub login", op, r, n, truncateUTF8(l, 60))
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, l) }) {
			out = append(out, l)
		}
	}
	return out, nil
}

func unprocessable(err error) (string, bool) {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
		return truncateUTF8(er.Message, 300), true
	}
	return "", false
}

// RequestReviewers asks logins to review pull request n. GitHub refuses a
// whole batch (422) when one login is the author or not a collaborator;
// the logins are then requested one at a time, so one bad login does not
// stop the rest, and the refused ones are returned. Any other failure is an
// error. The caller never passes the author (GitHub would refuse it).
func (c *Client) RequestReviewers(ctx context.Context, r Repo, n int, logins []string) ([]ReviewerRefusal, error) {
	logins, err := reviewerLogins("request reviewers", r, n, logins)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, _, err = c.gh.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, n, github.ReviewersRequest{Reviewers: logins})
	if err == nil {
		return nil, nil
	}
	msg, refused := unprocessable(err)
	switch {
	case !refused:
		return nil, fmt.Errorf("request reviewers %s on %s#%d: %w", strings.Join(logins, ","), r, n, classify(err))
	case len(logins) == 1:
		return []ReviewerRefusal{{Login: logins[0], Message: msg}}, nil
	}
	var out []ReviewerRefusal
	for _, l := range logins {
		_, _, err := c.gh.PullRequests.RequestReviewers(ctx, r.Owner, r.Name, n, github.ReviewersRequest{Reviewers: []string{l}})
		if msg, ok := unprocessable(err); ok {
			out = append(out, ReviewerRefusal{Login: l, Message: msg})
			continue
		}
		if err != nil {
			return out, fmt.Errorf("request reviewer %s on %s#%d: %w", l, r, n, classify(err))
		}
	}
	return out, nil
}

// RemoveRequestedReviewers withdraws the review requests of logins on pull
// request n.
func (c *Client) RemoveRequestedReviewers(ctx context.Context, r Repo, n int, logins []string) error {
	logins, err := reviewerLogins("remove requested reviewers", r, n, logins)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	if _, err := c.gh.PullRequests.RemoveReviewers(ctx, r.Owner, r.Name, n, github.ReviewersRequest{Reviewers: logins}); err != nil {
		return fmt.Errorf("remove requested reviewers %s from %s#%d: %w", strings.Join(logins, ","), r, n, classify(err))
	}
	return nil
}

// RequestedReviewers lists the logins whose review is requested on pull
// request n now (teams are not relgate's and are left out), sorted.
func (c *Client) RequestedReviewers(ctx context.Context, r Repo, n int) ([]string, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	rv, _, err := c.gh.PullRequests.ListReviewers(ctx, r.Owner, r.Name, n, nil)
	if err != nil {
		return nil, fmt.Errorf("list the requested reviewers of %s#%d: %w", r, n, classify(err))
	}
	out := []string{}
	for _, u := range rv.Users {
		if l := u.GetLogin(); l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out, nil
}

// reviewRequestEvent is the part of a review_requested or
// review_request_removed timeline event relgate reads.
type reviewRequestEvent struct {
	Event             string            `json:"event"`
	Actor             *github.User      `json:"actor"`
	ReviewRequester   *github.User      `json:"review_requester"`
	RequestedReviewer *github.User      `json:"requested_reviewer"`
	CreatedAt         *github.Timestamp `json:"created_at"`
}

// ReviewRequests reads from pull request n's timeline who made each
// pending review request of a person, by lower-case login: the latest
// review_requested event of a login not followed by a
// review_request_removed. A review clears a request without an event, so
// the caller intersects this with RequestedReviewers. Team requests are
// left out.
func (c *Client) ReviewRequests(ctx context.Context, r Repo, n int) (map[string]ReviewRequest, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out := map[string]ReviewRequest{}
	next := 1
	for i := 0; i < maxPages; i++ {
		u := fmt.Sprintf("repos/%s/%s/issues/%d/timeline?per_page=100&page=%d", r.Owner, r.Name, n, next)
		req, err := c.gh.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("list the timeline of %s#%d: %w", r, n, err)
		}
		var events []reviewRequestEvent
		resp, err := c.gh.Do(ctx, req, &events)
		if err != nil {
			return nil, fmt.Errorf("list the timeline of %s#%d: %w", r, n, classify(err))
		}
		for _, e := range events {
			login := strings.ToLower(e.RequestedReviewer.GetLogin())
			if login == "" || (e.Event != "review_requested" && e.Event != "review_request_removed") {
				continue
			}
			if e.Event == "review_request_removed" {
				delete(out, login)
				continue
			}
			by := e.Actor.GetLogin()
			if by == "" {
				by = e.ReviewRequester.GetLogin()
			}
			rq := ReviewRequest{Reviewer: e.RequestedReviewer.GetLogin(), Requester: by}
			if e.CreatedAt != nil {
				rq.At = e.CreatedAt.Time.UTC()
			}
			out[login] = rq
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		next = resp.NextPage
	}
	return nil, fmt.Errorf("list the timeline of %s#%d: more than %d pages", r, n, maxPages)
}

// Self is the login this client's actions appear under on GitHub: an App's
// bot, SLUG[bot] (GET /app, as the App), or a token's user (GET /user).
// The first answer is kept.
func (c *Client) Self(ctx context.Context) (string, error) {
	c.selfMu.Lock()
	defer c.selfMu.Unlock()
	if c.self != "" {
		return c.self, nil
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	var login string
	if c.apps != nil {
		app, _, err := c.apps.Apps.Get(ctx, "")
		if err != nil {
			return "", fmt.Errorf("read the GitHub App %d: %w", c.appID, classify(err))
		}
		if app.GetSlug() == "" {
			return "", fmt.Errorf("read the GitHub App %d: GitHub returned no slug", c.appID)
		}
		login = app.GetSlug() + "[bot]"
	} else {
		u, _, err := c.gh.Users.Get(ctx, "")
		if err != nil {
			return "", fmt.Errorf("read the user of the GitHub token: %w", classify(err))
		}
		login = u.GetLogin()
	}
	if !validLogin(login) {
		return "", fmt.Errorf("GitHub named this client %q, not a GitHub login", truncateUTF8(login, 60))
	}
	c.self = login
	return login, nil
}
