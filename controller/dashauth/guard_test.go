package dashauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// provider is a hand-written GitHub: codes name logins, access by login.
type provider struct {
	mu     sync.Mutex
	access map[string]bool
	fail   error
	checks int
}

func (p *provider) AuthorizeURL(state, redirect string) string {
	return "https://github.example/login/oauth/authorize?" + url.Values{"state": {state}, "redirect_uri": {redirect}}.Encode()
}

func (p *provider) SignIn(_ context.Context, code, _ string) (string, error) {
	if code == "broken" {
		return "", errors.New("bad_verification_code")
	}
	return code, nil // the code is the login
}

func (p *provider) CanRead(_ context.Context, login string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.checks++
	return p.access[login], p.fail
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type guarded struct {
	t   *testing.T
	url string
	p   *provider
	clk *clock
}

func newGuarded(t *testing.T, g Guard) *guarded {
	mux := http.NewServeMux()
	g.Register(mux)
	mux.Handle("GET /", g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, _ := Login(r.Context())
		io.WriteString(w, "page for "+l)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &guarded{t: t, url: srv.URL}
}

func newGitHubGuard(t *testing.T) *guarded {
	p := &provider{access: map[string]bool{"lina": true, "chen": true}}
	clk := &clock{now: t0}
	g, err := NewGitHub(GitHubConfig{Provider: p, PublicURL: "http://127.0.0.1:1", Key: testKey, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := newGuarded(t, g)
	e.p, e.clk = p, clk
	return e
}

// do sends a request with cookies and returns the response (body read).
func (e *guarded) do(method, path string, hdr map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	nc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := nc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var browser = map[string]string{"Accept": "text/html,application/xhtml+xml"}

// signIn runs the web flow for login and returns the callback's response.
func (e *guarded) signIn(login, next string) *http.Response {
	e.t.Helper()
	resp, _ := e.do("GET", "/signin?next="+url.QueryEscape(next), browser)
	pre := cookie(resp, SignInCookie)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteLaxMode {
		e.t.Fatalf("/signin: %s, cookie %+v", resp.Status, pre)
	}
	resp, _ = e.do("GET", "/oauth/callback?"+url.Values{"code": {login}, "state": {loc.Query().Get("state")}}.Encode(), browser, pre)
	return resp
}

func TestGitHubSignIn(t *testing.T) {
	e := newGitHubGuard(t)
	// No session: a browser is sent to sign in, anything else gets 401.
	resp, _ := e.do("GET", "/en/releases/REL-1.html", browser)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fen%2Freleases%2FREL-1.html" {
		t.Errorf("browser without a session: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ := e.do("GET", "/assets/site.css", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("asset without a session: %s, want 401", resp.Status)
	}
	resp = e.signIn("lina", "/en/releases/REL-1.html")
	s := cookie(resp, SessionCookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/en/releases/REL-1.html" || s == nil {
		t.Fatalf("callback: %s to %q, session %v", resp.Status, resp.Header.Get("Location"), s)
	}
	if !s.HttpOnly || s.SameSite != http.SameSiteLaxMode || s.Path != "/" || s.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/ (not Secure on loopback http)", s)
	}
	if resp, body := e.do("GET", "/en/index.html", nil, s); resp.StatusCode != 200 || body != "page for lina" {
		t.Errorf("with the session: %s %q", resp.Status, body)
	}
	// Signing out clears it.
	resp, _ = e.do("POST", "/signout", nil, s)
	if c := cookie(resp, SessionCookie); resp.StatusCode != 200 || c == nil || c.MaxAge >= 0 {
		t.Errorf("signout: %s, cookie %+v", resp.Status, c)
	}
}

func TestGitHubSignInRefused(t *testing.T) {
	e := newGitHubGuard(t)
	resp := e.signIn("mallory", "/")
	if resp.StatusCode != http.StatusForbidden || cookie(resp, SessionCookie) != nil {
		t.Errorf("no read access: %s, session %v; want 403 and none", resp.Status, cookie(resp, SessionCookie))
	}
	// A callback whose state is not this browser's (CSRF: a link that
	// would sign the victim in as the attacker).
	resp, _ = e.do("GET", "/signin", browser)
	pre := cookie(resp, SignInCookie)
	for name, c := range map[string][]*http.Cookie{"another state": {pre}, "no pre-sign-in cookie": nil} {
		resp, _ := e.do("GET", "/oauth/callback?code=lina&state="+strings.Repeat("a", 48), browser, c...)
		if resp.StatusCode != http.StatusBadRequest || cookie(resp, SessionCookie) != nil {
			t.Errorf("%s: %s, want 400 and no session", name, resp.Status)
		}
	}
	// An open redirect through next.
	if resp := e.signIn("lina", "//evil.example/"); resp.Header.Get("Location") != "/" {
		t.Errorf("next=//evil.example/ redirected to %q", resp.Header.Get("Location"))
	}
	// GitHub's failures.
	if resp := e.signIn("broken", "/"); resp.StatusCode != http.StatusBadGateway || cookie(resp, SessionCookie) != nil {
		t.Errorf("code exchange failed: %s", resp.Status)
	}
	e.p.fail = errors.New("GitHub is down")
	if resp := e.signIn("lina", "/"); resp.StatusCode != http.StatusServiceUnavailable || cookie(resp, SessionCookie) != nil {
		t.Errorf("access check failed: %s, want 503 and no session", resp.Status)
	}
}

func TestGitHubRecheck(t *testing.T) {
	e := newGitHubGuard(t)
	s := cookie(e.signIn("lina", "/"), SessionCookie)
	e.clk.Add(30 * time.Minute)
	if resp, _ := e.do("GET", "/", nil, s); resp.StatusCode != 200 || e.p.checks != 1 {
		t.Fatalf("within the hour: %s, %d checks (want 200, only the sign-in's)", resp.Status, e.p.checks)
	}
	// After an hour the access is checked again and the cookie renewed.
	e.clk.Add(31 * time.Minute)
	resp, _ := e.do("GET", "/", nil, s)
	renewed := cookie(resp, SessionCookie)
	if resp.StatusCode != 200 || e.p.checks != 2 || renewed == nil {
		t.Fatalf("after an hour: %s, %d checks, renewed %v", resp.Status, e.p.checks, renewed)
	}
	// GitHub cannot be asked: nothing is served (fail closed).
	e.clk.Add(2 * time.Hour)
	e.p.fail = errors.New("timeout")
	if resp, _ := e.do("GET", "/", nil, renewed); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("check failed: %s, want 503", resp.Status)
	}
	// Access withdrawn: 403 and the session is ended.
	e.p.fail = nil
	e.p.access["lina"] = false
	e.clk.Add(2 * time.Minute) // past the one-minute memo
	resp, _ = e.do("GET", "/", nil, renewed)
	if c := cookie(resp, SessionCookie); resp.StatusCode != http.StatusForbidden || c == nil || c.MaxAge >= 0 {
		t.Errorf("access withdrawn: %s, cookie %+v", resp.Status, c)
	}
	// Expired after its lifetime.
	e.p.access["lina"] = true
	e.clk.Add(13 * time.Hour)
	if resp, _ := e.do("GET", "/", nil, renewed); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired session: %s, want 401", resp.Status)
	}
}

func TestNewGitHubRefusesClearCookies(t *testing.T) {
	for _, pub := range []string{"http://relgate.example.com", "", "ftp://x", "http://10.0.0.1:8080"} {
		if _, err := NewGitHub(GitHubConfig{Provider: &provider{}, PublicURL: pub, Key: testKey}); err == nil {
			t.Errorf("public URL %q accepted", pub)
		}
	}
	g, err := NewGitHub(GitHubConfig{Provider: &provider{}, PublicURL: "https://relgate.example.com", Key: testKey})
	if err != nil || !g.cookie(SessionCookie, "v", 1).Secure {
		t.Errorf("https public URL: %v, cookie not Secure", err)
	}
}

func TestHeader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		hdr     map[string]string
		want    int
	}{
		{"with the header", nil, map[string]string{"X-Forwarded-User": "lina@grid-it.example.cn"}, 200},
		{"without it", nil, nil, 401},
		{"empty", nil, map[string]string{"X-Forwarded-User": " "}, 401},
		{"with a space inside", nil, map[string]string{"X-Forwarded-User": "li na"}, 401},
		{"from the proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, map[string]string{"X-Forwarded-User": "lina"}, 200},
		{"from an address that is not the proxy's", []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}, map[string]string{"X-Forwarded-User": "lina"}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewHeader(HeaderConfig{Name: "x-forwarded-user", Proxies: tc.proxies})
			if err != nil {
				t.Fatal(err)
			}
			e := newGuarded(t, h)
			if resp, body := e.do("GET", "/en/index.html", tc.hdr); resp.StatusCode != tc.want {
				t.Errorf("%s %q, want %d", resp.Status, body, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "Cookie", "Authorization", "X User"} {
		if _, err := NewHeader(HeaderConfig{Name: bad}); err == nil {
			t.Errorf("NewHeader(%q) accepted", bad)
		}
	}
}
