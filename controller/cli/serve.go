package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/relgate/relgate/controller/dashauth"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/reconcile"
	"github.com/relgate/relgate/controller/remote"
	"github.com/relgate/relgate/controller/server"
)

// serveOptions are relgate serve's flags; environment variables fill in the secrets.
type serveOptions struct {
	addr              string
	repo              string
	branch            string
	prefix            string
	dataDir           string
	lang, signKey     string
	secretFile        string
	githubURL         string
	githubRepo        string
	appID             string
	appKeyFile        string
	installationID    string
	report            string
	logFormat         string
	logLevel          string
	maxBody           int64
	shutdownGraceSecs int
	publicURL         string
	readOnly          bool
	gitTimeout        time.Duration
	// The dashboard (off unless --dashboard names how users sign in).
	dashboard       string
	oauthClientID   string
	oauthSecretFile string
	identityHeader  string
	identityProxies listFlag
	// Notices, the calendar feed and reviewer requests.
	notices          noticeFlags
	calendarFeed     calendarFeedFlags
	requestReviewers bool
}

// env reads the process environment; tests pass their own.
type env func(string) string

func runServe(args []string, stdout, stderr io.Writer) error {
	o, err := parseServe(args, stderr, os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return o.run(ctx, stderr, os.Getenv, nil)
}

func parseServe(args []string, stderr io.Writer, getenv env) (*serveOptions, error) {
	var o serveOptions
	fs := flag.NewFlagSet("relgate serve", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT`")
	fs.StringVar(&o.repo, "repo", "", "the release repository: a git `URL` or a local PATH (required)")
	fs.StringVar(&o.branch, "branch", "main", "the protected `BRANCH` approvals are written to")
	fs.StringVar(&o.prefix, "prefix", "", "the release repository's `FOLDER` inside the git repository")
	fs.StringVar(&o.dataDir, "data-dir", "", "`DIR` for the local mirror (default: the user cache folder)")
	fs.StringVar(&o.lang, "lang", "", "language of the reports relgate writes and of the check run summaries: zh or en (default: the policy's; the server's locale is never used)")
	fs.StringVar(&o.signKey, "sign-key", "", "sign relgate's commits with the armored OpenPGP private key in `FILE`")
	fs.StringVar(&o.secretFile, "webhook-secret-file", "", "read the webhook secret from `FILE` (else RELGATE_WEBHOOK_SECRET)")
	fs.StringVar(&o.githubURL, "github-url", "", "GitHub Enterprise API `URL`, e.g. https://ghe.example.com/api/v3/ (default github.com)")
	fs.StringVar(&o.githubRepo, "github-repo", "", "the GitHub repository to gate, `OWNER/NAME` (default: from --repo)")
	fs.StringVar(&o.appID, "github-app-id", "", "GitHub App `ID` (else GITHUB_APP_ID); with a key and an installation id, used instead of GITHUB_TOKEN")
	fs.StringVar(&o.appKeyFile, "github-app-key-file", "", "GitHub App private key `FILE` (else GITHUB_APP_PRIVATE_KEY_FILE)")
	fs.StringVar(&o.installationID, "github-installation-id", "", "GitHub App installation `ID` (else GITHUB_INSTALLATION_ID)")
	fs.StringVar(&o.report, "report", "auto", "post `KIND`: checks, statuses, or auto (check runs for an App, statuses for a token)")
	fs.StringVar(&o.logFormat, "log-format", "json", "log `FORMAT`: json or text")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn, error")
	fs.Int64Var(&o.maxBody, "max-body", 25<<20, "largest webhook body in `BYTES`")
	fs.IntVar(&o.shutdownGraceSecs, "shutdown-grace", 20, "`SECONDS` work in flight may take to finish on SIGTERM")
	fs.StringVar(&o.publicURL, "public-url", "", "`URL` where GitHub's users reach this server, e.g. https://relgate.example.com; statuses and check runs link to its result pages")
	fs.DurationVar(&o.gitTimeout, "git-timeout", 2*time.Minute, "`DURATION` a fetch or push may take before it is stopped")
	fs.BoolVar(&o.readOnly, "read-only", false, "evaluate and post results, never write to the branch (no approval records, CMDB updates or reports)")
	fs.StringVar(&o.dashboard, "dashboard", "", "serve the dashboard at / to signed-in users: `MODE` github (GitHub sign-in, people with read access to the repository) or header (--identity-header from an authenticating proxy); default off")
	fs.StringVar(&o.oauthClientID, "oauth-client-id", "", "the GitHub App's OAuth client `ID` for --dashboard github (its secret: RELGATE_OAUTH_CLIENT_SECRET or --oauth-client-secret-file)")
	fs.StringVar(&o.oauthSecretFile, "oauth-client-secret-file", "", "read the GitHub App's OAuth client secret from `FILE`")
	fs.StringVar(&o.identityHeader, "identity-header", "", "for --dashboard header: the `HEADER` the authenticating proxy sets to the user (it must remove it from what clients send)")
	fs.Var(&o.identityProxies, "identity-header-proxy", "accept --identity-header only from `CIDR` (the proxy's address; repeatable)")
	fs.BoolVar(&o.requestReviewers, "request-reviewers", true, "ask the people who may supply a missing approval as reviewers of the pull request, and withdraw the requests once the gate passes")
	o.notices.register(fs)
	o.calendarFeed.register(fs)
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("serve takes no arguments (got %v); name the repository with --repo", pos)
	}
	if o.repo == "" {
		return nil, usagef("serve needs --repo URL|PATH (the release repository)")
	}
	if o.publicURL != "" {
		u, err := url.Parse(o.publicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, usagef("--public-url %q: want https://HOST[/PATH]", o.publicURL)
		}
	}
	switch {
	case o.dashboard != "" && o.dashboard != "github" && o.dashboard != "header":
		return nil, usagef("--dashboard %q: want github (GitHub sign-in) or header (an authenticating proxy's --identity-header)", o.dashboard)
	case o.dashboard == "github" && o.publicURL == "":
		return nil, usagef("--dashboard github needs --public-url: GitHub sends users back to PUBLIC_URL/oauth/callback")
	case o.dashboard == "github" && o.oauthClientID == "":
		return nil, usagef("--dashboard github needs the GitHub App's --oauth-client-id")
	case o.dashboard == "header" && o.identityHeader == "":
		return nil, usagef("--dashboard header needs --identity-header NAME, the header your authenticating proxy sets")
	case o.dashboard != "header" && (o.identityHeader != "" || len(o.identityProxies) > 0):
		return nil, usagef("--identity-header and --identity-header-proxy are for --dashboard header")
	case o.dashboard != "github" && (o.oauthClientID != "" || o.oauthSecretFile != ""):
		return nil, usagef("--oauth-client-id and --oauth-client-secret-file are for --dashboard github")
	}
	if err := oneOf("report", o.report, "auto", "checks", "statuses"); err != nil {
		return nil, err
	}
	if err := oneOf("log-format", o.logFormat, "json", "text"); err != nil {
		return nil, err
	}
	if err := oneOf("log-level", o.logLevel, "debug", "info", "warn", "error"); err != nil {
		return nil, err
	}
	for flagName, envName := range map[*string]string{&o.appID: "GITHUB_APP_ID", &o.appKeyFile: "GITHUB_APP_PRIVATE_KEY_FILE", &o.installationID: "GITHUB_INSTALLATION_ID"} {
		if *flagName == "" {
			*flagName = getenv(envName)
		}
	}
	return &o, nil
}

// secret reads the webhook secret; without one the server does not start.
func (o *serveOptions) secret(getenv env) ([]byte, error) {
	s := getenv("RELGATE_WEBHOOK_SECRET")
	if o.secretFile != "" {
		b, err := os.ReadFile(o.secretFile)
		if err != nil {
			return nil, fmt.Errorf("webhook secret file: %w", err)
		}
		s = strings.TrimRight(string(b), "\r\n")
	}
	if s == "" {
		return nil, usagef("no webhook secret: set RELGATE_WEBHOOK_SECRET or --webhook-secret-file; relgate never accepts unsigned webhooks")
	}
	return []byte(s), nil
}

func (o *serveOptions) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(o.logLevel))
	ho := &slog.HandlerOptions{Level: lvl}
	if o.logFormat == "text" {
		return slog.New(slog.NewTextHandler(w, ho))
	}
	return slog.New(slog.NewJSONHandler(w, ho))
}

// remote resolves --repo to a URL or an absolute path.
func (o *serveOptions) remote() (string, error) {
	if strings.Contains(o.repo, "://") || strings.Contains(o.repo, "@") || strings.Contains(o.repo, "::") {
		if err := remote.Check(o.repo); err != nil {
			return "", usagef("--repo: %v", err)
		}
		return o.repo, nil
	}
	abs, err := filepath.Abs(o.repo)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("release repository %s: %w", o.repo, err)
	}
	return abs, nil
}

// repoFromURL derives OWNER/NAME from https://HOST/OWNER/NAME(.git).
func repoFromURL(remote string) (ghapi.Repo, bool) {
	u, err := url.Parse(remote)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return ghapi.Repo{}, false
	}
	r, err := ghapi.ParseRepo(strings.TrimPrefix(u.Path, "/"))
	return r, err == nil
}

// run builds the server and serves until ctx ends. ready, if set, receives
// the listening address.
func (o *serveOptions) run(ctx context.Context, stderr io.Writer, getenv env, ready func(addr string)) error {
	secret, err := o.secret(getenv)
	if err != nil {
		return err
	}
	log := o.logger(stderr)
	remote, err := o.remote()
	if err != nil {
		return err
	}
	cfg := server.Config{Logger: log, Secret: secret, MaxBody: o.maxBody, Remote: remote, Branch: o.branch, Prefix: o.prefix,
		ShutdownGrace: time.Duration(o.shutdownGraceSecs) * time.Second, PublicURL: o.publicURL, ReadOnly: o.readOnly, GitTimeout: o.gitTimeout, Lang: o.lang}
	cfg.MirrorDir = o.dataDir
	if cfg.MirrorDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no --data-dir and no user cache folder: %w", err)
		}
		sum := sha256.Sum256([]byte(remote))
		cfg.MirrorDir = filepath.Join(cache, "relgate", "mirror-"+hex.EncodeToString(sum[:8]))
	} else {
		cfg.MirrorDir = filepath.Join(o.dataDir, "mirror")
	}
	cfg.SpoolDir = filepath.Join(filepath.Dir(cfg.MirrorDir), "spool")
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return fmt.Errorf("webhook spool folder: %w", err)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Large valid deliveries leave garbage the collector frees late; a
		// soft limit makes it collect before the process grows past it.
		// The dashboard holds its pages and builds new ones (a build of
		// 10,000 releases peaks near 1.1 GiB): under 512 MiB the collector
		// would run without pause during every build.
		limit := int64(512 << 20)
		if o.dashboard != "" {
			limit = 1536 << 20
		}
		debug.SetMemoryLimit(limit)
	}
	cfg.Metrics = server.NewMetrics()
	client, token, err := o.github(getenv, cfg.Metrics)
	if err != nil {
		return err
	}
	if client != nil {
		cfg.GitHub = client
		switch {
		case o.githubRepo != "":
			if cfg.Repo, err = ghapi.ParseRepo(o.githubRepo); err != nil {
				return usagef("--github-repo: %v", err)
			}
		default:
			r, ok := repoFromURL(remote)
			if !ok {
				return usagef("name the GitHub repository to gate with --github-repo OWNER/NAME (--repo is not an https URL of it)")
			}
			cfg.Repo = r
		}
		cfg.CheckRuns = o.report == "checks" || (o.report == "auto" && client.IsApp())
		cfg.GitAuth = gitAuth(remote, client, token)
	} else {
		log.Warn("no GitHub credentials (GITHUB_TOKEN or a GitHub App): pull requests are not gated; scheduled jobs and /api/releases run")
	}
	var signKey *openpgp.Entity
	if o.signKey != "" {
		if signKey, err = readSigningKey(o.signKey); err != nil {
			return err
		}
	}
	if !o.readOnly {
		mirror, err := openMirror(remote, cfg.MirrorDir+"-writer")
		if err != nil {
			return err
		}
		defer mirror.Close()
		wopts := reconcile.Options{Lang: o.lang, NetTimeout: o.gitTimeout, SignKey: signKey}
		metrics := cfg.Metrics
		wopts.OnRepair = func(string) { metrics.IncMirrorRepair("writer-mirror") }
		cfg.Writer = server.NewWriteBack(log, &reconcile.Writer{Mirror: mirror, Prefix: o.prefix, Remote: remote, Auth: cfg.GitAuth, Options: wopts})
	}
	forgeRepo := cfg.Repo
	if forgeRepo.Owner == "" {
		forgeRepo, _ = repoFromURL(remote) // the pages' links, without GitHub credentials
	}
	cfg.RequestReviewers = o.requestReviewers
	if cfg.Notices, err = o.notices.config(getenv, log, cfg, signKey); err != nil {
		return err
	}
	if cfg.CalendarFeed, err = o.calendarFeed.config(getenv, log); err != nil {
		return err
	}
	if cfg.Dashboard, err = o.dashboardConfig(getenv, log, secret, client, forgeRepo); err != nil {
		return err
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	return srv.Serve(ctx, ln)
}

// gitAuth is the credentials of the server's fetches and pushes over HTTPS:
// the App's installation token (fetched again when it expires) or
// GITHUB_TOKEN, as x-access-token. It is nil for a remote that is not a URL
// over HTTP(S) or without a client.
func gitAuth(remote string, client *ghapi.Client, token ghapi.Token) func(context.Context) (transport.AuthMethod, error) {
	if client == nil || !(strings.HasPrefix(remote, "https://") || strings.HasPrefix(remote, "http://")) {
		return nil
	}
	return func(ctx context.Context) (transport.AuthMethod, error) {
		if client.IsApp() {
			t, err := client.GitToken(ctx)
			if err != nil {
				return nil, err
			}
			return &githttp.BasicAuth{Username: "x-access-token", Password: t.Reveal()}, nil
		}
		return &githttp.BasicAuth{Username: "x-access-token", Password: token.Reveal()}, nil
	}
}

// github builds the API client from an App (id, key file, installation id) or
// GITHUB_TOKEN; neither gives nil.
func (o *serveOptions) github(getenv env, m *server.Metrics) (*ghapi.Client, ghapi.Token, error) {
	cfg := ghapi.Config{BaseURL: o.githubURL, Retry: ghapi.RetryConfig{Observe: m.ObserveAPI}}
	appSet := o.appID != "" || o.appKeyFile != "" || o.installationID != ""
	switch {
	case appSet:
		if o.appID == "" || o.appKeyFile == "" || o.installationID == "" {
			return nil, "", usagef("a GitHub App needs all of --github-app-id, --github-app-key-file and --github-installation-id")
		}
		id, err1 := strconv.ParseInt(o.appID, 10, 64)
		inst, err2 := strconv.ParseInt(o.installationID, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, "", usagef("GitHub App and installation ids are numbers: %v", err)
		}
		key, err := os.ReadFile(o.appKeyFile)
		if err != nil {
			return nil, "", fmt.Errorf("GitHub App private key: %w", err)
		}
		cfg.App = &ghapi.App{ID: id, InstallationID: inst, PrivateKey: ghapi.Token(key)}
	case getenv("GITHUB_TOKEN") != "":
		cfg.Token = ghapi.Token(getenv("GITHUB_TOKEN"))
	default:
		return nil, "", nil
	}
	c, err := ghapi.New(cfg)
	if err != nil {
		return nil, "", err
	}
	return c, cfg.Token, nil
}

// dashboardConfig builds the dashboard's sign-in from the flags; nil when
// --dashboard is not given (the pages are then not served at all).
func (o *serveOptions) dashboardConfig(getenv env, log *slog.Logger, webhookSecret []byte, client *ghapi.Client, repo ghapi.Repo) (*server.DashboardConfig, error) {
	if o.dashboard == "" {
		return nil, nil
	}
	cfg := &server.DashboardConfig{}
	if repo.Owner != "" {
		cfg.ForgeURL = ghapi.WebURL(o.githubURL) + "/" + repo.String()
	}
	if o.dashboard == "header" {
		var proxies []netip.Prefix
		for _, c := range o.identityProxies {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return nil, usagef("--identity-header-proxy %q: want a CIDR such as 10.0.0.5/32", c)
			}
			proxies = append(proxies, p)
		}
		g, err := dashauth.NewHeader(dashauth.HeaderConfig{Name: o.identityHeader, Proxies: proxies, Logger: log})
		if err != nil {
			return nil, usagef("--identity-header: %v", err)
		}
		if len(proxies) == 0 {
			log.Warn("dashboard: the identity header is accepted from any address; the proxy in front must remove it from what clients send (or set --identity-header-proxy)", "header", o.identityHeader)
		}
		cfg.Guard = g
		return cfg, nil
	}
	if client == nil {
		return nil, usagef("--dashboard github needs the GitHub App's credentials: read access to the repository is checked with them")
	}
	secret := getenv("RELGATE_OAUTH_CLIENT_SECRET")
	if o.oauthSecretFile != "" {
		b, err := os.ReadFile(o.oauthSecretFile)
		if err != nil {
			return nil, fmt.Errorf("OAuth client secret file: %w", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	}
	if secret == "" {
		return nil, usagef("--dashboard github needs the App's OAuth client secret: RELGATE_OAUTH_CLIENT_SECRET or --oauth-client-secret-file")
	}
	oauth, err := ghapi.NewOAuth(ghapi.OAuthConfig{ClientID: o.oauthClientID, ClientSecret: ghapi.Token(secret), API: client, Repo: repo})
	if err != nil {
		return nil, err
	}
	// Its own key when given; else one derived from the webhook secret
	// (rotating that secret then signs everyone out).
	key := []byte(getenv("RELGATE_SESSION_KEY"))
	if len(key) == 0 {
		key = dashauth.DeriveKey(webhookSecret)
	} else if len(key) < dashauth.MinKey {
		return nil, usagef("RELGATE_SESSION_KEY has %d bytes; want at least %d (e.g. openssl rand -hex 32)", len(key), dashauth.MinKey)
	}
	g, err := dashauth.NewGitHub(dashauth.GitHubConfig{Provider: oauth, PublicURL: o.publicURL, Key: key, Logger: log})
	if err != nil {
		return nil, usagef("%v", err)
	}
	cfg.Guard = g
	return cfg, nil
}
