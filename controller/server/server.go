// Package server is `relgate serve`: it receives GitHub webhooks, keeps a
// local mirror of the release repository, evaluates each pull request through
// engine.EvaluateChange (policy from the base branch, GitHub reviews as
// forge-authenticated votes), posts the result as a check run or a commit
// status named for the base branch, hands the approvals that gated a merge to
// the write-back, answers GitHub deployment protection rule requests with the
// deployment decision (deploy.go), and runs the scheduled jobs. It is the
// wiring: the deciding happens in engine, evaluate, gate and deploy.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/net/netutil"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/webhook"
	"github.com/relgate/relgate/controller/writeback"
)

// GitHub is what the server asks of GitHub; *ghapi.Client implements it.
type GitHub interface {
	GetPull(ctx context.Context, r ghapi.Repo, n int) (ghapi.PullRequest, error)
	ListOpenPulls(ctx context.Context, r ghapi.Repo, base string) ([]ghapi.PullRequest, error)
	ListCheckRuns(ctx context.Context, r ghapi.Repo, sha, name string) ([]ghapi.CheckRunInfo, error)
	ListReviews(ctx context.Context, r ghapi.Repo, n int) ([]ghapi.Review, error)
	ListDismissals(ctx context.Context, r ghapi.Repo, n int) (map[int64]ghapi.Dismissal, error)
	CreateCheckRun(ctx context.Context, r ghapi.Repo, run ghapi.CheckRun) (int64, error)
	UpdateCheckRun(ctx context.Context, r ghapi.Repo, id int64, run ghapi.CheckRun) error
	CreateStatus(ctx context.Context, r ghapi.Repo, sha string, s ghapi.Status) error
	// ReviewDeploymentProtectionRule answers a deployment protection rule
	// request; DeploymentRunID takes the run id from its callback URL,
	// checked against the API root and repository.
	ReviewDeploymentProtectionRule(ctx context.Context, r ghapi.Repo, runID int64, environment, state, comment string) error
	DeploymentRunID(callback string, r ghapi.Repo) (int64, error)
	// reviewerAPI is the reviewer requests (reviewers.go): part of GitHub,
	// so the health wrapper sees their failures as it sees the others'.
	reviewerAPI
}

var _ GitHub = (*ghapi.Client)(nil)

// Config configures a Server.
type Config struct {
	Logger *slog.Logger
	// Secret is the webhook secret; the server refuses to start without one.
	Secret []byte
	// MaxBody caps a webhook body (default webhook.DefaultMaxBody).
	MaxBody int64
	// SpoolDir holds large webhook bodies while their signature is checked
	// (default the system's temporary folder); it should be on disk.
	SpoolDir string
	// Remote is the release repository's git URL or local path; MirrorDir
	// is where the mirror lives.
	Remote    string
	MirrorDir string
	GitAuth   func(ctx context.Context) (transport.AuthMethod, error)
	// GitTimeout bounds each fetch of the mirror (default 2 minutes).
	GitTimeout time.Duration
	// Branch is the protected branch (default main); Prefix the release
	// repository's folder inside the git repository.
	Branch string
	Prefix string
	// GitHub is nil when no credentials were given: the server then runs the
	// scheduled jobs and the status API only.
	GitHub GitHub
	// Repo is the GitHub repository served; events for others are ignored.
	Repo ghapi.Repo
	// CheckRuns posts check runs (a GitHub App); otherwise commit statuses.
	// Chosen here, once: an error never switches it.
	CheckRuns bool
	// PublicURL is where GitHub's users reach this server; statuses and
	// check runs link to the result page under it. Empty: no link.
	PublicURL string
	// ReadOnly evaluates and posts, and never writes to the branch.
	ReadOnly bool
	// Lang, when set (zh or en), is the language of the check run summaries
	// whatever the policy's language says; the server's own locale never is.
	Lang    string
	Writer  Writer
	Metrics *Metrics
	Clock   func() time.Time
	// Workers evaluate in parallel (default 2); QueueLimit bounds the
	// distinct work items waiting (default 10000).
	Workers    int
	QueueLimit int
	// RetryDelays are the waits before re-evaluating after a transient
	// failure (default 30s, 2m, 5m); after them the resync job takes over.
	RetryDelays []time.Duration
	// ShutdownGrace is how long work in flight may finish on shutdown (default 20s).
	ShutdownGrace time.Duration
	// DisableSchedule turns the cron jobs off (tests drive them directly).
	DisableSchedule bool
	// DeployTimeout bounds one deployment decision, fetch included
	// (default DefaultDeployTimeout); past it the deployment is rejected.
	DeployTimeout time.Duration
	// Dashboard, when set, serves the dashboard at / to signed-in users
	// (dashboard.go); nil: / and the pages are not served at all.
	Dashboard *DashboardConfig
	// Notices, when set, sends the policy's notices and reminders
	// (notices.go); nil: none are sent.
	Notices *NoticeConfig
	// CalendarFeed, when set, serves /calendar.ics (calendarfeed.go).
	CalendarFeed *CalendarFeedConfig
	// RequestReviewers asks the people who may supply a missing approval
	// as reviewers of the pull request (reviewers.go).
	RequestReviewers bool
}

// maxConns bounds the connections the server holds open at once.
const maxConns = 1024

// Server is relgate serve.
type Server struct {
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics
	receiver *webhook.Receiver
	mirror   *Mirror
	queue    *queue
	ready    atomic.Bool
	stopping atomic.Bool
	health   *health
	// calMu guards calLast, the last time the change calendar was looked
	// at (calendarwatch.go).
	calMu   sync.Mutex
	calLast time.Time
	// noticePoke asks the notice job to look at the branch now (a fetch
	// brought a new tip); nil without notices (notices.go).
	noticePoke chan struct{}
	// pubMu serialises publishing, so two workers never race to create
	// the same check run; subjectLocks serialise the evaluations of one
	// head and base (see lockSubject).
	pubMu        sync.Mutex
	subjectLocks [64]sync.Mutex

	mu       sync.Mutex
	retries  map[workKey]int
	lastEval map[int]evalMemo
	// pendingMerges are merged pull requests whose approvals could not be
	// recorded within the retries; resync and every push try them again.
	pendingMerges map[int]bool
	status        *statusCache
	res           *results
	sched         *scheduler
	// deployEvents are the deployment events waiting for a worker, by
	// work item; deployAnswered the request keys answered (deploy.go).
	deployEvents   map[workKey]*webhook.Event
	deployAnswered map[string]bool
	// unlogged are allowed decisions whose write to the deployment log
	// failed, by deployment id: a receipt of that deployment writes the
	// decision first, or it would stand in history as never allowed.
	unlogged map[int64]writeback.DecisionRecord
	// deployHook, when set (tests), runs at the start of each decision.
	deployHook func(deploy.Request)
	// dash is the dashboard, nil when it is off.
	dash *dashboard
}

// New checks the configuration and opens the mirror.
func New(cfg Config) (*Server, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("no webhook secret: set RELGATE_WEBHOOK_SECRET or --webhook-secret-file (relgate never accepts unsigned webhooks)")
	}
	if cfg.Remote == "" || cfg.MirrorDir == "" {
		return nil, errors.New("the release repository (--repo) and a mirror folder are required")
	}
	if cfg.GitHub != nil && (cfg.Repo.Owner == "" || cfg.Repo.Name == "") {
		return nil, errors.New("GitHub credentials are set but not the repository to gate: name it OWNER/NAME (--github-repo)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Branch == "" {
		cfg.Branch = "main"
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = 10000
	}
	if cfg.RetryDelays == nil {
		cfg.RetryDelays = []time.Duration{30 * time.Second, 2 * time.Minute, 5 * time.Minute}
	}
	if cfg.ReadOnly {
		cfg.Writer = nil
	}
	h := newHealth()
	if cfg.GitHub != nil {
		cfg.GitHub = watchedGitHub{GitHub: cfg.GitHub, h: h}
	}
	if cfg.DeployTimeout <= 0 {
		cfg.DeployTimeout = DefaultDeployTimeout
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 20 * time.Second
	}
	limits := webhook.DefaultLimits()
	if cfg.SpoolDir != "" {
		limits.SpoolDir = cfg.SpoolDir
	}
	rc, err := webhook.NewReceiverLimits(cfg.Secret, cfg.MaxBody, 10000, limits)
	if err != nil {
		return nil, err
	}
	metrics := cfg.Metrics
	m, err := OpenMirrorWith(cfg.MirrorDir, cfg.Remote, MirrorOptions{Auth: cfg.GitAuth, Logger: cfg.Logger, Timeout: cfg.GitTimeout,
		OnRepair: func(string) { metrics.Inc(mMirrorRepairs, "reason", "evaluation-mirror") }})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics, receiver: rc, mirror: m,
		queue: newQueue(cfg.QueueLimit), retries: map[workKey]int{}, lastEval: map[int]evalMemo{}, pendingMerges: map[int]bool{}, status: &statusCache{}, res: newResults(), health: h,
		deployEvents: map[workKey]*webhook.Event{}, deployAnswered: map[string]bool{}, unlogged: map[int64]writeback.DecisionRecord{}}
	s.metrics.SetQueueDepth(s.queue.len)
	if cfg.Notices != nil {
		s.noticePoke = make(chan struct{}, 1)
	}
	if cfg.Dashboard != nil {
		if s.dash, err = newDashboard(*cfg.Dashboard, cfg.Metrics); err != nil {
			m.Close()
			return nil, err
		}
	}
	return s, nil
}

// Handler routes the server's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", s.metrics.InstrumentHandler("/webhook", http.HandlerFunc(s.handleWebhook)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", s.metrics.InstrumentHandler("/readyz", http.HandlerFunc(s.handleReady)))
	mux.Handle("GET /result", s.metrics.InstrumentHandler("/result", http.HandlerFunc(s.handleResult)))
	mux.Handle("GET /metrics", s.metrics.Handler())
	var releases http.Handler = http.HandlerFunc(s.handleReleases)
	if s.dash != nil {
		// Everything else is the dashboard, and only behind the guard; the
		// status API is the board as JSON, so it is behind the guard too.
		g := s.dash.cfg.Guard
		g.Register(mux)
		mux.Handle("GET /", s.metrics.InstrumentHandler("/dashboard", g.Require(http.HandlerFunc(s.handleDashboard))))
		releases = g.Require(releases)
	}
	mux.Handle("GET /api/releases", s.metrics.InstrumentHandler("/api/releases", releases))
	s.calendarRoutes(mux)
	return mux
}

// Serve serves on ln until ctx ends (SIGTERM in the CLI), then shuts down:
// it stops accepting, lets in-flight requests and work finish within the
// grace period, and abandons the rest (the resync job redoes it).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.work(workCtx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.start(ctx, workCtx) }()
	dashDone := make(chan struct{})
	if s.dash != nil {
		go func() { defer close(dashDone); s.buildLoop(ctx) }()
	} else {
		close(dashDone)
	}
	hs := s.httpServer()
	// A bound on open connections: each costs a goroutine and buffers, and
	// the read deadlines cut the slow ones.
	ln = netutil.LimitListener(ln, maxConns)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	attrs := []any{"addr", ln.Addr().String(), "remote", ghapi.Redact(s.cfg.Remote), "branch", s.cfg.Branch, "results", s.reportMode(),
		"write_back", s.cfg.Writer != nil}
	if s.cfg.GitHub != nil {
		attrs = append(attrs, "github_repo", s.cfg.Repo.String())
	}
	if s.cfg.PublicURL != "" {
		attrs = append(attrs, "public_url", s.cfg.PublicURL)
	}
	if s.dash != nil {
		attrs = append(attrs, "dashboard", s.dash.cfg.Guard.Mode())
	}
	s.log.Info("serving", attrs...)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.stopping.Store(true)
	s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace)
	shCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shCtx); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	s.queue.close()
	s.mu.Lock()
	sched := s.sched
	s.mu.Unlock()
	if sched != nil {
		sched.stop(s.cfg.ShutdownGrace)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shCtx.Done():
		s.log.Warn("abandoning work in flight after the grace period")
		cancelWork()
		<-done
	}
	select {
	case <-dashDone: // a dashboard build in flight finishes within the grace period
	case <-shCtx.Done():
		s.log.Warn("abandoning a dashboard build after the grace period")
	}
	s.mirror.Close()
	s.log.Info("stopped")
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}

// start fetches the branch until it succeeds, then starts the schedule. It
// gives up when the server stops (stop), abandoning a fetch in flight after
// the grace period (ctx).
func (s *Server) start(stop, ctx context.Context) {
	delay := time.Second
	for {
		err := s.mirror.Fetch(ctx, []string{s.cfg.Branch}, nil)
		s.noteFetch(err)
		if err == nil {
			break
		}
		s.log.Error("initial fetch failed; retrying", "err", err, "retry_in", delay)
		select {
		case <-stop.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Minute)
	}
	s.ready.Store(true)
	s.pokeDashboard()
	if !s.cfg.DisableSchedule && !s.stopping.Load() {
		if err := s.reloadSchedule(ctx); err != nil {
			s.log.Error("scheduled jobs not started", "err", err)
		}
	}
	if s.cfg.GitHub != nil && s.cfg.Repo.Owner != "" {
		s.queue.push(workKey{kind: kindResync})
	}
	s.watchCalendar(stop)
	s.startNotices(stop, ctx)
}
