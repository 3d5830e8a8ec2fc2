package dashauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Provider is GitHub as the sign-in needs it; ghapi.OAuth implements it.
type Provider interface {
	// AuthorizeURL is the page that asks the user to sign in and comes
	// back to redirectURI with a code and state.
	AuthorizeURL(state, redirectURI string) string
	// SignIn exchanges the code for the user's token and returns their
	// login; the token is used for that and dropped.
	SignIn(ctx context.Context, code, redirectURI string) (login string, err error)
	// CanRead says whether login may read the release repository.
	CanRead(ctx context.Context, login string) (bool, error)
}

// GitHubConfig configures the GitHub sign-in.
type GitHubConfig struct {
	Provider Provider
	// PublicURL is where users reach relgate (https://relgate.example.com);
	// GitHub sends them back to PublicURL/oauth/callback.
	PublicURL string
	// Key signs the cookies (at least MinKey bytes).
	Key []byte
	// Lifetime is how long a session lasts (default 12 hours); Recheck how
	// old the last access check may be before the next request checks again
	// (default 1 hour).
	Lifetime, Recheck time.Duration
	// Timeout bounds each call to GitHub (default 10 seconds).
	Timeout time.Duration
	Clock   func() time.Time
	Logger  *slog.Logger
}

// Cookie names.
const (
	SessionCookie = "relgate_session"
	SignInCookie  = "relgate_signin"
	kindSignIn    = "signin"
	signInWindow  = 10 * time.Minute
)

// GitHub is the GitHub sign-in guard.
type GitHub struct {
	cfg      GitHubConfig
	codec    *Codec
	secure   bool
	callback string

	mu sync.Mutex
	// confirmed memoises recent access checks by login, so the page and
	// its assets loaded at once ask GitHub once.
	confirmed map[string]time.Time
	// verdicts remember a refusal (a minute) or a failed check (10 s), so
	// an old cookie replayed cannot make relgate ask GitHub on every
	// request (the App's rate limit is the gate's too).
	verdicts map[string]verdict
	// signedOut is when each login last signed out: sessions issued
	// before are refused (this replica's memory; a key change ends all).
	signedOut map[string]time.Time
	// inflight shares one access check among concurrent requests of a login.
	inflight map[string]*check
}

type verdict struct {
	until time.Time
	err   bool
}

type check struct {
	done chan struct{}
	ok   bool
	err  error
}

// githubLogin is the form GitHub gives logins; anything else from the
// sign-in is refused (it is put into an API path).
var githubLogin = regexp.MustCompile(`^[A-Za-z0-9_-]{1,39}$`)

var _ Guard = (*GitHub)(nil)

// NewGitHub checks the configuration. Cookies are Secure unless the public
// URL is http on a loopback address; http elsewhere is refused (a session
// cookie would cross the network in clear).
func NewGitHub(cfg GitHubConfig) (*GitHub, error) {
	if cfg.Provider == nil {
		return nil, errors.New("dashboard sign-in: no GitHub OAuth credentials")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("dashboard sign-in needs the public URL (--public-url https://HOST) GitHub sends users back to; got %q", cfg.PublicURL)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// The sign-in's own redirects (/signin, the page to return to)
		// are at the host's root.
		return nil, fmt.Errorf("dashboard sign-in: the public URL %q must be the server's root (https://HOST[:PORT]), with no path, query or fragment", cfg.PublicURL)
	}
	secure := u.Scheme == "https"
	if !secure {
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("dashboard sign-in over http://%s: session cookies would cross the network in clear; use https (http is only for a loopback address)", u.Host)
		}
	}
	codec, err := NewCodec(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("dashboard sign-in: %w", err)
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = 12 * time.Hour
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &GitHub{cfg: cfg, codec: codec, secure: secure, confirmed: map[string]time.Time{}, verdicts: map[string]verdict{},
		signedOut: map[string]time.Time{}, inflight: map[string]*check{},
		callback: strings.TrimSuffix(cfg.PublicURL, "/") + "/oauth/callback"}, nil
}

// Mode is "github".
func (g *GitHub) Mode() string { return "github" }

// Register adds GET /signin, GET /oauth/callback and POST /signout.
func (g *GitHub) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /signin", g.signIn)
	mux.HandleFunc("GET /oauth/callback", g.oauthCallback)
	mux.HandleFunc("POST /signout", g.signOut)
}

func (g *GitHub) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteLaxMode}
}

// signIn starts the web flow: a random state, bound to this browser by a
// signed cookie (a callback with another state is refused: CSRF), and the
// local page to return to.
func (g *GitHub) signIn(w http.ResponseWriter, r *http.Request) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		plain(w, http.StatusInternalServerError, "no randomness for the sign-in / 无法生成登录状态")
		return
	}
	state := hex.EncodeToString(b[:])
	next := LocalPath(r.URL.Query().Get("next"))
	v, err := g.codec.Seal(kindSignIn, g.cfg.Clock().Add(signInWindow), state, next)
	if err != nil {
		next = "/"
		v, _ = g.codec.Seal(kindSignIn, g.cfg.Clock().Add(signInWindow), state, next)
	}
	http.SetCookie(w, g.cookie(SignInCookie, v, int(signInWindow/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.cfg.Provider.AuthorizeURL(state, g.callback), http.StatusFound)
}

func (g *GitHub) oauthCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		g.cfg.Logger.Info("dashboard sign-in declined at GitHub", "error", trim(e))
		plain(w, http.StatusForbidden, "GitHub did not sign you in ("+trim(e)+"); open /signin to try again / GitHub 未完成登录，请重新打开 /signin")
		return
	}
	c, err := r.Cookie(SignInCookie)
	var f []string
	if err == nil {
		f, err = g.codec.Open(kindSignIn, c.Value, 2, g.cfg.Clock())
	}
	state := q.Get("state")
	if err != nil || len(state) != 48 || subtle.ConstantTimeCompare([]byte(state), []byte(f[0])) != 1 {
		g.cfg.Logger.Warn("dashboard sign-in refused: state does not match this browser's sign-in", "remote", r.RemoteAddr)
		plain(w, http.StatusBadRequest, "this sign-in was not started here or has expired (10 minutes); open /signin to start again / 此登录不是从这里开始的或已过期，请重新打开 /signin")
		return
	}
	http.SetCookie(w, g.cookie(SignInCookie, "", -1))
	code := q.Get("code")
	if code == "" || len(code) > 256 {
		plain(w, http.StatusBadRequest, "GitHub sent no sign-in code; open /signin to start again / GitHub 没有返回登录码，请重新打开 /signin")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Timeout)
	defer cancel()
	login, err := g.cfg.Provider.SignIn(ctx, code, g.callback)
	if err == nil {
		err = checkLogin(login)
	}
	if err == nil && !githubLogin.MatchString(login) {
		err = fmt.Errorf("GitHub named the user %q, which is not a GitHub login", trim(login))
	}
	if err != nil {
		g.cfg.Logger.Error("dashboard sign-in failed at GitHub", "err", err)
		plain(w, http.StatusBadGateway, "relgate could not complete the sign-in with GitHub; try again / relgate 无法与 GitHub 完成登录，请重试")
		return
	}
	ok, err := g.cfg.Provider.CanRead(ctx, login)
	if err != nil {
		g.cfg.Logger.Error("dashboard sign-in: read access not confirmed", "login", login, "err", err)
		plain(w, http.StatusServiceUnavailable, "relgate could not confirm your access to the repository with GitHub; try again / relgate 无法向 GitHub 确认你对仓库的访问权限，请重试")
		return
	}
	if !ok {
		g.cfg.Logger.Warn("dashboard sign-in refused: no read access to the repository", "login", login)
		plain(w, http.StatusForbidden, "you ("+login+") have no read access to the release repository; ask its administrators / 你（"+login+"）没有发布仓库的读取权限，请联系仓库管理员")
		return
	}
	now := g.cfg.Clock()
	v, err := g.codec.SealSession(Session{Login: login, Issued: now, Checked: now, Expires: now.Add(g.cfg.Lifetime)})
	if err != nil {
		plain(w, http.StatusBadRequest, "your login cannot be kept in a session / 无法为此登录名建立会话")
		return
	}
	g.note(login, now)
	http.SetCookie(w, g.cookie(SessionCookie, v, int(g.cfg.Lifetime/time.Second)))
	g.cfg.Logger.Info("dashboard sign-in", "login", login)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, f[1], http.StatusSeeOther)
}

// signOut ends the session: the cookie is dropped and, here, every
// session of the login issued until now refused. SameSite=Lax does not stop
// another site's form POST, so a cross-site request is refused.
func (g *GitHub) signOut(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" || (r.Header.Get("Origin") != "" && r.Header.Get("Origin") != g.origin()) {
		plain(w, http.StatusForbidden, "sign out from relgate's own pages / 请在 relgate 自己的页面上退出")
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		if s, err := g.codec.OpenSession(c.Value, g.cfg.Clock()); err == nil {
			g.mu.Lock()
			if len(g.signedOut) > 10000 {
				for l, t := range g.signedOut {
					if g.cfg.Clock().Sub(t) > g.cfg.Lifetime {
						delete(g.signedOut, l)
					}
				}
			}
			g.signedOut[s.Login] = g.cfg.Clock()
			delete(g.confirmed, s.Login)
			g.mu.Unlock()
		}
	}
	http.SetCookie(w, g.cookie(SessionCookie, "", -1))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Write([]byte(`<!doctype html><html lang="en"><meta charset="utf-8"><title>relgate: signed out</title><h1>Signed out / 已退出</h1><p><a href="/signin">Sign in again / 重新登录</a></p></html>` + "\n"))
}

// Require serves next to a user with a valid session whose read access was
// confirmed within Recheck (checked again, and the cookie renewed, when
// not); a failed check serves nothing.
func (g *GitHub) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := g.cfg.Clock()
		c, err := r.Cookie(SessionCookie)
		var s Session
		if err == nil {
			s, err = g.codec.OpenSession(c.Value, now)
		}
		if err == nil && g.wasSignedOut(s) {
			err = errors.New("signed out since")
		}
		if err != nil {
			if c != nil {
				g.cfg.Logger.Info("dashboard session refused", "why", err.Error(), "remote", r.RemoteAddr)
				http.SetCookie(w, g.cookie(SessionCookie, "", -1))
			}
			g.unauthorised(w, r)
			return
		}
		if now.Sub(s.Checked) >= g.cfg.Recheck && !g.recent(s.Login, now) {
			ok, err := g.canRead(r.Context(), s.Login, now)
			switch {
			case err != nil:
				g.cfg.Logger.Error("dashboard: read access not confirmed again; page refused", "login", s.Login, "err", err)
				plain(w, http.StatusServiceUnavailable, "relgate could not confirm your access to the repository with GitHub; try again shortly / relgate 无法向 GitHub 确认你的访问权限，请稍后重试")
				return
			case !ok:
				g.forget(s.Login)
				g.cfg.Logger.Warn("dashboard: read access withdrawn; session ended", "login", s.Login)
				http.SetCookie(w, g.cookie(SessionCookie, "", -1))
				plain(w, http.StatusForbidden, "you ("+s.Login+") no longer have read access to the release repository / 你（"+s.Login+"）已没有发布仓库的读取权限")
				return
			}
			g.note(s.Login, now)
		}
		if now.Sub(s.Checked) >= g.cfg.Recheck {
			s.Checked = now
			if v, err := g.codec.SealSession(s); err == nil {
				http.SetCookie(w, g.cookie(SessionCookie, v, int(s.Expires.Sub(now)/time.Second)))
			}
		}
		next.ServeHTTP(w, withLogin(r, s.Login))
	})
}

func (g *GitHub) unauthorised(w http.ResponseWriter, r *http.Request) {
	if isBrowser(r) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/signin?"+url.Values{"next": {LocalPath(r.URL.RequestURI())}}.Encode(), http.StatusSeeOther)
		return
	}
	plain(w, http.StatusUnauthorized, "sign in first: open /signin / 请先登录：打开 /signin")
}

// recent says whether login's access was confirmed within the last minute
// by another request.
func (g *GitHub) recent(login string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.confirmed[login]
	return ok && now.Sub(t) < time.Minute && !now.Before(t)
}

func (g *GitHub) note(login string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.confirmed) > 10000 {
		clear(g.confirmed)
	}
	g.confirmed[login] = now
}

func (g *GitHub) forget(login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.confirmed, login)
}

// trim bounds a value GitHub's redirect carried before it is shown or logged.
func trim(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return html.EscapeString(s)
}

// origin is the public URL's scheme and host, as a browser's Origin says it.
func (g *GitHub) origin() string {
	u, _ := url.Parse(g.cfg.PublicURL)
	return u.Scheme + "://" + u.Host
}

func (g *GitHub) wasSignedOut(s Session) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.signedOut[s.Login]
	return ok && !s.Issued.After(t)
}

// canRead asks GitHub whether login may read the repository, once for all
// concurrent requests of the login, and remembers a refusal for a minute
// and a failure for 10 seconds.
func (g *GitHub) canRead(ctx context.Context, login string, now time.Time) (bool, error) {
	g.mu.Lock()
	if v, ok := g.verdicts[login]; ok && now.Before(v.until) {
		g.mu.Unlock()
		if v.err {
			return false, errors.New("GitHub could not be asked a moment ago")
		}
		return false, nil
	}
	if c, ok := g.inflight[login]; ok {
		g.mu.Unlock()
		select {
		case <-c.done:
			return c.ok, c.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	c := &check{done: make(chan struct{})}
	g.inflight[login] = c
	g.mu.Unlock()

	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.Timeout)
	c.ok, c.err = g.cfg.Provider.CanRead(cctx, login)
	cancel()

	g.mu.Lock()
	delete(g.inflight, login)
	if len(g.verdicts) > 10000 {
		clear(g.verdicts)
	}
	switch {
	case c.err != nil:
		g.verdicts[login] = verdict{until: now.Add(10 * time.Second), err: true}
	case !c.ok:
		g.verdicts[login] = verdict{until: now.Add(time.Minute)}
	default:
		delete(g.verdicts, login)
	}
	g.mu.Unlock()
	close(c.done)
	return c.ok, c.err
}
