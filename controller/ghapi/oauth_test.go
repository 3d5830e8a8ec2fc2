package ghapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

func newOAuth(t *testing.T, srv *ghapitest.Server, c *ghapi.Client, secret string) *ghapi.OAuth {
	t.Helper()
	o, err := ghapi.NewOAuth(ghapi.OAuthConfig{WebURL: srv.WebURL(), ClientID: "Iv1.relgate", ClientSecret: ghapi.Token(secret),
		API: c, Repo: ghapi.Repo{Owner: "grid-it", Name: "releases"}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// authorize plays the browser at GitHub's sign-in page and returns the code.
func authorize(t *testing.T, o *ghapi.OAuth, redirect string) string {
	t.Helper()
	nc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := nc.Get(o.AuthorizeURL("state-1", redirect))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || u.Query().Get("state") != "state-1" || !strings.HasPrefix(u.String(), redirect) {
		t.Fatalf("authorize: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	return u.Query().Get("code")
}

func TestOAuthSignIn(t *testing.T) {
	srv, _, c := setup(t)
	srv.SetOAuthApp("Iv1.relgate", "oauth-secret")
	srv.SignInAs("lina")
	ctx := context.Background()
	const back = "https://relgate.example.com/oauth/callback"

	o := newOAuth(t, srv, c, "oauth-secret")
	login, err := o.SignIn(ctx, authorize(t, o, back), back)
	if err != nil || login != "lina" {
		t.Fatalf("SignIn = %q, %v; want lina", login, err)
	}
	// A code is good once.
	code := authorize(t, o, back)
	if _, err := o.SignIn(ctx, code, back); err != nil {
		t.Fatal(err)
	}
	if _, err := o.SignIn(ctx, code, back); err == nil || !strings.Contains(err.Error(), "bad_verification_code") {
		t.Errorf("a code used twice: err = %v, want bad_verification_code", err)
	}
	// Another redirect than the one the code was issued for.
	if _, err := o.SignIn(ctx, authorize(t, o, back), "https://evil.example/cb"); err == nil {
		t.Error("a code exchanged for another redirect_uri signed in")
	}
	// A wrong client secret.
	bad := newOAuth(t, srv, c, "wrong")
	if _, err := bad.SignIn(ctx, authorize(t, bad, back), back); err == nil || !strings.Contains(err.Error(), "incorrect_client_credentials") {
		t.Errorf("wrong secret: err = %v", err)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("request shapes: %v", v)
	}
}

func TestOAuthCanRead(t *testing.T) {
	srv, _, c := setup(t)
	srv.SetOAuthApp("Iv1.relgate", "s")
	o := newOAuth(t, srv, c, "s")
	for _, p := range []struct{ login, perm string }{{"admin1", "admin"}, {"dev", "write"}, {"reader", "read"}, {"outsider", "none"}} {
		srv.SetPermission(repo, p.login, p.perm)
	}
	srv.SetPermission("grid-it/other", "elsewhere", "admin")
	for _, tc := range []struct {
		login string
		want  bool
	}{
		{"admin1", true}, {"dev", true}, {"reader", true},
		{"outsider", false},  // permission none
		{"elsewhere", false}, // access to another repository only
		{"ghost", false},     // GitHub knows no such user: 404
	} {
		got, err := o.CanRead(context.Background(), tc.login)
		if err != nil || got != tc.want {
			t.Errorf("CanRead(%s) = %v, %v; want %v", tc.login, got, err, tc.want)
		}
	}
	// A failure is an error, never a yes (fail closed).
	srv.Inject(ghapitest.Fault{Path: "/permission", Status: 403, Body: `{"message":"Resource not accessible by integration"}`, Times: 1})
	if ok, err := o.CanRead(context.Background(), "reader"); err == nil || ok {
		t.Errorf("CanRead on a 403 = %v, %v; want an error", ok, err)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("request shapes: %v", v)
	}
}

func TestWebURL(t *testing.T) {
	for api, want := range map[string]string{
		"":                                "https://github.com",
		"https://api.github.com/":         "https://github.com",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com",
		"https://ghe.example.com/api/v3":  "https://ghe.example.com",
		"http://127.0.0.1:8080/":          "http://127.0.0.1:8080",
	} {
		if got := ghapi.WebURL(api); got != want {
			t.Errorf("WebURL(%q) = %q, want %q", api, got, want)
		}
	}
}
