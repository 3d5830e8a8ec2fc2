// Package dashauth decides who may see the dashboard `relgate serve`
// serves: people signed in with GitHub (a GitHub App's OAuth web flow) who
// have read access to the release repository, or the identity an
// authenticating proxy in front of relgate names in a header. It knows
// nothing of the pages; it wraps their handler and fails closed: a request
// it cannot attribute to such a person gets no page, and no asset either.
package dashauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Guard lets only signed-in users through.
type Guard interface {
	// Register adds the guard's own routes (/signin, /oauth/callback,
	// /signout) to mux.
	Register(mux *http.ServeMux)
	// Require serves next only to a signed-in user, whose login is then
	// in the request's context (Login).
	Require(next http.Handler) http.Handler
	// Mode names the guard for logs: "github" or "header".
	Mode() string
}

type loginKey struct{}

// Login is the signed-in user of a request Require let through.
func Login(ctx context.Context) (string, bool) {
	l, ok := ctx.Value(loginKey{}).(string)
	return l, ok
}

func withLogin(r *http.Request, login string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), loginKey{}, login))
}

// isBrowser says whether a request is a browser's page load, which is sent
// to sign in; anything else (a script, an asset fetched by a page that is
// no longer signed in) gets a plain 401.
func isBrowser(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// maxNext bounds the page a sign-in returns to.
const maxNext = 512

// LocalPath returns p when it is a path on this server ("/en/index.html",
// with a query at most), else "/": a sign-in never redirects elsewhere
// ("//evil.example", "/\evil", "https://…", control characters).
func LocalPath(p string) string {
	if p == "" || len(p) > maxNext || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return "/"
	}
	for _, c := range p {
		if c < 0x21 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return "/"
	}
	return p
}

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write([]byte(msg + "\n"))
}
