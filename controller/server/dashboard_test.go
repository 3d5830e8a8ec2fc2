package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	dto "github.com/prometheus/client_model/go"

	"github.com/relgate/relgate/controller/dashauth"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// dashOptions configure a dashboard test server.
type dashOptions struct {
	// mode is github (the fake's OAuth) or header.
	mode      string
	proxies   []netip.Prefix
	checkRuns bool
	// src is the release repository replayed (default the examples).
	src string
}

var dashKey = []byte("dashboard-session-key-for-tests!")

// newDashEnv is newEnv with the dashboard on: the same remote, fake GitHub
// and loopback server, the guard of opts.mode, the poll short.
func newDashEnv(t *testing.T, o dashOptions) *env {
	e := &env{t: t, writer: &fakeWriter{}, logs: &syncBuffer{}, waits: &waitLog{}}
	e.work = gitrepotest.New(t)
	src := examples
	if o.src != "" {
		src = o.src
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if err := gen.Replay(src, e.work.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	e.remote = filepath.Join(t.TempDir(), "releases.git")
	if _, err := git.PlainInit(e.remote, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.work.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{e.remote}}); err != nil {
		t.Fatal(err)
	}
	if err := e.work.Git.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"+refs/heads/main:refs/heads/main"}}); err != nil {
		t.Fatal(err)
	}
	e.gh = ghapitest.New()
	t.Cleanup(e.gh.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.url = "http://" + ln.Addr().String()
	clock := func() time.Time { return now }
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := ghapi.New(ghapi.Config{BaseURL: e.gh.APIURL(), Token: "ghs_test_token",
		Retry: ghapi.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond, Sleep: e.waits.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	repo := ghapi.Repo{Owner: "grid-it", Name: "releases"}
	dc := &DashboardConfig{ForgeURL: "https://github.com/" + slug, Poll: 20 * time.Millisecond}
	switch o.mode {
	case "github":
		e.gh.SetOAuthApp("Iv1.relgate", "oauth-secret")
		oa, err := ghapi.NewOAuth(ghapi.OAuthConfig{WebURL: e.gh.WebURL(), ClientID: "Iv1.relgate", ClientSecret: "oauth-secret", API: c, Repo: repo})
		if err != nil {
			t.Fatal(err)
		}
		g, err := dashauth.NewGitHub(dashauth.GitHubConfig{Provider: oa, PublicURL: e.url, Key: dashKey, Clock: clock, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		dc.Guard = g
	case "header":
		g, err := dashauth.NewHeader(dashauth.HeaderConfig{Name: "X-Forwarded-User", Proxies: o.proxies, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		dc.Guard = g
	}
	cfg := Config{Logger: log, Secret: testSecret, Remote: e.remote, MirrorDir: filepath.Join(t.TempDir(), "mirror"), Branch: "main",
		Writer: e.writer, DisableSchedule: true, RetryDelays: []time.Duration{20 * time.Millisecond}, ShutdownGrace: 5 * time.Second,
		Clock: clock, Lang: "en", GitHub: c, Repo: repo, CheckRuns: o.checkRuns, PublicURL: e.url, Dashboard: dc, Metrics: NewMetrics()}
	srv, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	e.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(e.stop)
	deadline := time.Now().Add(60 * time.Second)
	for srv.dash.cur.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard was not built within 60s\n%s", e.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

// browser is a browser with cookies that does not follow redirects to
// other hosts silently: it follows all of them (the fake GitHub is on
// loopback too) and records where it went.
type browser struct {
	t    testing.TB
	c    *http.Client
	jar  *cookiejar.Jar
	hops []string
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, jar: jar}
	b.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		b.hops = append(b.hops, r.URL.String())
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browser) get(u string, hdr ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) session(e *env) *http.Cookie {
	u, _ := url.Parse(e.url)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == dashauth.SessionCookie {
			return c
		}
	}
	return nil
}

// raw sends one request without following redirects.
func raw(t testing.TB, method, u string, hdr map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	nc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := nc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var htmlAccept = map[string]string{"Accept": "text/html"}

func TestDashboardOffByDefault(t *testing.T) {
	e := newEnv(t, envOptions{publicURL: true})
	for _, p := range []string{"/", "/index.html", "/en/index.html", "/en/releases/REL-2026-0043.html", "/assets/site.css", "/signin", "/oauth/callback?code=x&state=y"} {
		if resp, _ := raw(t, "GET", e.url+p, htmlAccept); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without --dashboard: %s, want 404", p, resp.Status)
		}
	}
}

func TestDashboardBeforeFirstBuild(t *testing.T) {
	g, _ := dashauth.NewHeader(dashauth.HeaderConfig{Name: "X-Forwarded-User"})
	srv, err := New(Config{Secret: testSecret, Remote: t.TempDir(), MirrorDir: filepath.Join(t.TempDir(), "m"), Dashboard: &DashboardConfig{Guard: g}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.mirror.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	resp, _ := raw(t, "GET", "http://"+ln.Addr().String()+"/en/index.html", map[string]string{"X-Forwarded-User": "lina"})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("before the first build: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	// Not even that to an unauthenticated request.
	if resp, _ := raw(t, "GET", "http://"+ln.Addr().String()+"/en/index.html", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated before the first build: %s, want 401", resp.Status)
	}
}

func TestDashboardGitHubSignIn(t *testing.T) {
	e := newDashEnv(t, dashOptions{mode: "github"})
	e.gh.SetPermission(slug, "lina", "read")
	e.gh.SetPermission(slug, "mallory", "none")

	// Without a session: a browser is sent to sign in; a script, and
	// every asset, get 401.
	resp, _ := raw(t, "GET", e.url+"/en/index.html", htmlAccept)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
		t.Errorf("a browser without a session: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	for _, p := range []string{"/en/index.html", "/", "/assets/site.css", "/en/releases/REL-2026-0043.html"} {
		if resp, _ := raw(t, "GET", e.url+p, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session (not a browser): %s, want 401", p, resp.Status)
		}
	}

	// Signing in through the fake GitHub's OAuth gives a session and the board.
	e.gh.SignInAs("lina")
	b := newBrowser(t)
	resp, body := b.get(e.url + "/en/index.html")
	if resp.StatusCode != 200 || !strings.Contains(body, "REL-2026-0043") || resp.Request.URL.Path != "/en/index.html" {
		t.Fatalf("after sign-in: %s at %s (hops %v)\n%.300s", resp.Status, resp.Request.URL, b.hops, body)
	}
	s := b.session(e)
	if s == nil {
		t.Fatal("no session cookie after sign-in")
	}
	if resp, _ := raw(t, "GET", e.url+"/assets/site.css", nil, s); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("an asset with the session: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}

	// Someone without read access is refused and gets no session.
	e.gh.SignInAs("mallory")
	mb := newBrowser(t)
	if resp, body := mb.get(e.url + "/en/index.html"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "REL-2026") {
		t.Errorf("no read access: %s %.200q, want 403", resp.Status, body)
	}
	if mb.session(e) != nil {
		t.Error("a user without read access got a session")
	}

	// Forged, tampered and expired cookies are refused.
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	other, _ := dashauth.NewCodec([]byte(strings.Repeat("x", 32)))
	forged, _ := other.SealSession(dashauth.Session{Login: "lina", Issued: now, Checked: now, Expires: now.Add(time.Hour)})
	right, _ := dashauth.NewCodec(dashKey)
	expired, _ := right.SealSession(dashauth.Session{Login: "lina", Issued: now.Add(-13 * time.Hour), Checked: now.Add(-13 * time.Hour), Expires: now.Add(-time.Hour)})
	p, sig, _ := strings.Cut(s.Value, ".")
	tampered := p[:len(p)-2] + "AA" + "." + sig
	for name, v := range map[string]string{"forged (another key)": forged, "expired": expired, "tampered": tampered, "garbage": "x.y"} {
		resp, body := raw(t, "GET", e.url+"/en/index.html", nil, &http.Cookie{Name: dashauth.SessionCookie, Value: v})
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "REL-2026") {
			t.Errorf("%s cookie: %s, want 401", name, resp.Status)
		}
	}
	if v := e.gh.Violations(); len(v) > 0 {
		t.Errorf("fake GitHub: %v", v)
	}
}

func TestDashboardHeader(t *testing.T) {
	e := newDashEnv(t, dashOptions{mode: "header", proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	user := map[string]string{"X-Forwarded-User": "lina@grid-it.example.cn"}
	resp, body := raw(t, "GET", e.url+"/en/index.html", user)
	if resp.StatusCode != 200 || !strings.Contains(body, "REL-2026-0043") {
		t.Fatalf("with the header: %s", resp.Status)
	}
	// What every page is served with.
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-cache",
		"Content-Security-Policy": dashboardCSP,
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	etag := resp.Header.Get("ETag")
	head := e.srv.dash.cur.Load().commit.String()
	if !strings.HasPrefix(etag, `"`+head[:16]) {
		t.Errorf("ETag %q does not name the commit %s", etag, head)
	}
	if resp, _ := raw(t, "GET", e.url+"/en/index.html", map[string]string{"X-Forwarded-User": "lina", "If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match the ETag: %s, want 304", resp.Status)
	}
	// Gzipped to those who take it (Go's client asked above and
	// decompressed), plain to the others; each with its own ETag.
	for _, enc := range []string{"gzip", "identity", "gzip;q=0"} {
		resp, body := raw(t, "GET", e.url+"/en/index.html", map[string]string{"X-Forwarded-User": "lina", "Accept-Encoding": enc})
		gz := resp.Header.Get("Content-Encoding") == "gzip"
		if resp.StatusCode != 200 || gz != (enc == "gzip") || gz == strings.Contains(body, "REL-2026-0043") || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %s: %s, Content-Encoding %q, Vary %q", enc, resp.Status, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
		}
		if (resp.Header.Get("ETag") == etag) != gz {
			t.Errorf("Accept-Encoding %s: ETag %q beside the gzip one %q", enc, resp.Header.Get("ETag"), etag)
		}
	}
	if resp, _ := raw(t, "GET", e.url+"/", user); resp.StatusCode != 200 {
		t.Errorf("the root page: %s", resp.Status)
	}
	for _, p := range []string{"/en/nothing.html", "/relgate.yaml", "/.git/config", "/en/../relgate.yaml"} {
		// (the mux redirects an unclean path to its clean form, a 404)
		if resp, _ := raw(t, "GET", e.url+p, user); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
	// Without the header, nothing: pages, assets, the root.
	for _, p := range []string{"/en/index.html", "/assets/site.css", "/"} {
		if resp, _ := raw(t, "GET", e.url+p, htmlAccept); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the header: %s, want 401", p, resp.Status)
		}
	}
	// The sign-in routes belong to the GitHub mode only.
	if resp, _ := raw(t, "GET", e.url+"/signin", user); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/signin in header mode: %s, want 404", resp.Status)
	}

	// From an address that is not the proxy's, the header counts for nothing.
	e2 := newDashEnv(t, dashOptions{mode: "header", proxies: []netip.Prefix{netip.MustParsePrefix("10.20.30.40/32")}})
	if resp, body := raw(t, "GET", e2.url+"/en/index.html", user); resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "REL-2026") {
		t.Errorf("the header from a non-proxy address: %s, want 401", resp.Status)
	}
}

// A push to the mirror (a new commit on the remote and its push webhook)
// shows on the board without a restart.
func TestDashboardFollowsPush(t *testing.T) {
	e := newDashEnv(t, dashOptions{mode: "header"})
	user := map[string]string{"X-Forwarded-User": "lina"}
	first := e.srv.dash.cur.Load().commit
	if _, body := raw(t, "GET", e.url+"/en/index.html", user); strings.Contains(body, "REL-2026-0099") {
		t.Fatal("the board shows REL-2026-0099 before it exists")
	}
	for _, f := range []string{"release.yaml", "plan.yaml"} {
		e.work.Write("releases/REL-2026-0099/"+f, strings.ReplaceAll(e.work.Read(rel43+"/"+f), "REL-2026-0043", "REL-2026-0099"))
	}
	e.work.Commit("a new release", who("zhangwei"))
	e.push("refs/heads/main:refs/heads/main")
	if code := e.deliver("push", pushEvent(t, "refs/heads/main")); code != http.StatusAccepted {
		t.Fatalf("push delivery: %d", code)
	}
	e.eventually("the new release on the board", func() bool {
		_, body := raw(t, "GET", e.url+"/en/index.html", user)
		return strings.Contains(body, "REL-2026-0099")
	})
	if e.srv.dash.cur.Load().commit == first {
		t.Error("the site's commit did not move")
	}
	if resp, _ := raw(t, "GET", e.url+"/en/releases/REL-2026-0099.html", user); resp.StatusCode != 200 {
		t.Errorf("the new release's page: %s", resp.Status)
	}
	if n := testutilCounter(e.srv, "ok"); n < 2 {
		t.Errorf("relgate_dashboard_builds_total{result=ok} = %v, want at least 2", n)
	}
}

func testutilCounter(s *Server, result string) float64 {
	c, err := s.dash.builds.GetMetricWithLabelValues(result)
	if err != nil {
		return -1
	}
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// A check run (and a commit status) of a pull request that touches one
// release links to that release's page; more than one, the result page.
func TestDashboardCheckRunLinksRelease(t *testing.T) {
	for _, checkRuns := range []bool{true, false} {
		name := "status"
		if checkRuns {
			name = "check run"
		}
		t.Run(name, func(t *testing.T) {
			e := newDashEnv(t, dashOptions{mode: "header", checkRuns: checkRuns})
			head := e.openPR(7, "zhangwei", addGoLive)
			e.deliver("pull_request", prEvent(t, "opened", 7, head))
			want := e.url + "/en/releases/REL-2026-0043.html"
			var got string
			e.eventually("a result on the head", func() bool {
				if checkRuns {
					cr, ok := e.gh.LatestCheckRun(head, "relgate/main")
					got = cr.DetailsURL
					return ok && cr.Status == "completed"
				}
				st, ok := e.gh.LatestStatus(head, "relgate/main")
				got = st.TargetURL
				return ok && st.State != "pending"
			})
			if got != want {
				t.Errorf("details URL %q, want %q", got, want)
			}
			if resp, _ := raw(t, "GET", got, map[string]string{"X-Forwarded-User": "lina"}); resp.StatusCode != 200 {
				t.Errorf("GET %s: %s", got, resp.Status)
			}
			// Two releases in one pull request: the result page.
			head2 := e.pushPR(7, "zhangwei", func(r *gitrepotest.Repo) {
				r.Write("releases/REL-2026-0042/plan.yaml", r.Read("releases/REL-2026-0042/plan.yaml")+"# touched\n")
			})
			e.deliver("pull_request", prEvent(t, "synchronize", 7, head2))
			e.eventually("a result on the second head", func() bool {
				if checkRuns {
					cr, ok := e.gh.LatestCheckRun(head2, "relgate/main")
					got = cr.DetailsURL
					return ok && cr.Status == "completed"
				}
				st, ok := e.gh.LatestStatus(head2, "relgate/main")
				got = st.TargetURL
				return ok && st.State != "pending"
			})
			if !strings.HasPrefix(got, e.url+"/result?") {
				t.Errorf("two releases: details URL %q, want the result page", got)
			}
		})
	}
}

// A build that fails keeps the pages of the last good one, says so in the
// log and the metric, and leaves /readyz alone; the next good push shows.
func TestDashboardKeepsLastSiteOnFailedBuild(t *testing.T) {
	e := newDashEnv(t, dashOptions{mode: "header"})
	user := map[string]string{"X-Forwarded-User": "lina"}
	good := e.srv.dash.cur.Load()
	policy := e.work.Read("relgate.yaml")
	e.work.Write("relgate.yaml", "apiVersion: [not a policy\n")
	e.work.Commit("break the policy", who("zhangwei"))
	e.push("refs/heads/main:refs/heads/main")
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.eventually("a failed build", func() bool { return testutilCounter(e.srv, "error") >= 1 })
	if !strings.Contains(e.logs.String(), "dashboard not rebuilt") {
		t.Error("the failed build is not in the log")
	}
	resp, body := raw(t, "GET", e.url+"/en/index.html", user)
	if resp.StatusCode != 200 || !strings.Contains(body, "REL-2026-0043") || !strings.HasPrefix(resp.Header.Get("ETag"), strings.TrimSuffix(good.etag, `"`)) {
		t.Errorf("after a failed build: %s, ETag %q (want the last good site's %q)", resp.Status, resp.Header.Get("ETag"), good.etag)
	}
	if code, body := e.get("/readyz"); strings.Contains(body, "dashboard") {
		t.Errorf("/readyz mentions the dashboard: %d %q", code, body)
	}
	// The branch is put back (force-pushed) and moves on: an invalid
	// policy left in the history fails every later build (engine.Policies
	// walks back through it), which is not this test's subject.
	wt, err := e.work.Git.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Reset(&git.ResetOptions{Commit: good.commit, Mode: git.HardReset}); err != nil {
		t.Fatal(err)
	}
	if e.work.Read("relgate.yaml") != policy {
		t.Fatal("the reset did not bring the policy back")
	}
	for _, f := range []string{"release.yaml", "plan.yaml"} {
		e.work.Write("releases/REL-2026-0098/"+f, strings.ReplaceAll(e.work.Read(rel43+"/"+f), "REL-2026-0043", "REL-2026-0098"))
	}
	e.work.Commit("a new release on the good policy", who("zhangwei"))
	e.push("refs/heads/main:refs/heads/main")
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.eventually("the fixed commit on the board", func() bool {
		_, body := raw(t, "GET", e.url+"/en/index.html", user)
		return strings.Contains(body, "REL-2026-0098")
	})
}
