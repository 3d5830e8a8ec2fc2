package ghapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

var grid = ghapi.Repo{Owner: "grid-it", Name: "releases"}

// TestRequestReviewers: the people asked end up requested on the pull
// request as GitHub shows it, by the token's user; a batch GitHub refuses
// (422) because one login is the author or not a collaborator is asked one
// by one, so the others are still requested and only the bad ones come back.
func TestRequestReviewers(t *testing.T) {
	tests := []struct {
		name          string
		collaborators []string
		before        []string // requested by a person first
		logins        []string
		wantErr       string
		wantRefused   []string
		want          []ghapitest.RequestedReviewer
		wantPosts     int
	}{
		{name: "a batch", logins: []string{"zhangwei", "maxiaodong"}, wantPosts: 1,
			want: []ghapitest.RequestedReviewer{{Login: "zhangwei", By: "relgate-ci"}, {Login: "maxiaodong", By: "relgate-ci"}}},
		{name: "the author in the batch is refused alone", logins: []string{"zhangwei", "wangfang", "maxiaodong"}, wantPosts: 4,
			wantRefused: []string{"wangfang"},
			want:        []ghapitest.RequestedReviewer{{Login: "zhangwei", By: "relgate-ci"}, {Login: "maxiaodong", By: "relgate-ci"}}},
		{name: "a non-collaborator is refused alone", collaborators: []string{"zhangwei", "lina"}, logins: []string{"outsider", "zhangwei"},
			wantPosts: 3, wantRefused: []string{"outsider"}, want: []ghapitest.RequestedReviewer{{Login: "zhangwei", By: "relgate-ci"}}},
		{name: "one login refused", logins: []string{"wangfang"}, wantPosts: 1, wantRefused: []string{"wangfang"}},
		{name: "already requested by a person stays theirs", before: []string{"zhangwei"}, logins: []string{"zhangwei", "lina"}, wantPosts: 1,
			want: []ghapitest.RequestedReviewer{{Login: "zhangwei", By: "liuzhiqiang"}, {Login: "lina", By: "relgate-ci"}}},
		{name: "duplicates sent once", logins: []string{"lina", "LINA"}, wantPosts: 1,
			want: []ghapitest.RequestedReviewer{{Login: "lina", By: "relgate-ci"}}},
		{name: "a path in a login is refused before any call", logins: []string{"../../x"}, wantErr: "not a GitHub login"},
		{name: "an empty login is refused", logins: []string{""}, wantErr: "not a GitHub login"},
		{name: "nobody", logins: nil, wantErr: "0 logins"},
		{name: "more than GitHub's 15", logins: strings.Split("a b c d e f g h i j k l m n o p", " "), wantErr: "16 logins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, c := setup(t)
			srv.SetUserToken("ghp_secret", "relgate-ci")
			if tt.collaborators != nil {
				srv.SetCollaborators(repo, tt.collaborators...)
			}
			if len(tt.before) > 0 {
				if err := srv.RequestReviewersAs(repo, 7, "liuzhiqiang", tt.before...); err != nil {
					t.Fatal(err)
				}
			}
			refused, err := c.RequestReviewers(context.Background(), grid, 7, tt.logins)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				if n := countPath(srv, http.MethodPost, "requested_reviewers"); n != 0 {
					t.Errorf("%d requests sent for a refused list", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range refused {
				got = append(got, r.Login)
				if r.Message == "" {
					t.Errorf("refusal of %s carries no message", r.Login)
				}
			}
			if d := cmp.Diff(tt.wantRefused, got); d != "" {
				t.Errorf("refused (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.want, srv.RequestedReviewers(repo, 7)); d != "" {
				t.Errorf("requested on GitHub (-want +got):\n%s", d)
			}
			if n := countPath(srv, http.MethodPost, "requested_reviewers"); n != tt.wantPosts {
				t.Errorf("%d POSTs, want %d", n, tt.wantPosts)
			}
			if v := srv.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

func countPath(srv *ghapitest.Server, method, part string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

// TestRemoveAndListRequestedReviewers: a removal takes away exactly the
// logins named, a person's other request stays, and the list and the
// timeline agree with what GitHub shows.
func TestRemoveAndListRequestedReviewers(t *testing.T) {
	srv, _, c := setup(t)
	srv.SetUserToken("ghp_secret", "relgate-ci")
	ctx := context.Background()
	if _, err := c.RequestReviewers(ctx, grid, 7, []string{"zhangwei", "maxiaodong", "lina"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.RequestReviewersAs(repo, 7, "wangfang", "hejun"); err != nil {
		t.Fatal(err)
	}
	// A person withdraws one of relgate's and asks for it again: the
	// request is then theirs.
	srv.RemoveRequestedReviewersAs(repo, 7, "wangfang", "lina")
	if err := srv.RequestReviewersAs(repo, 7, "wangfang", "lina"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveRequestedReviewers(ctx, grid, 7, []string{"maxiaodong"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.RequestedReviewers(ctx, grid, 7)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"hejun", "lina", "zhangwei"}, got); d != "" {
		t.Errorf("requested (-want +got):\n%s", d)
	}
	// A review answers zhangwei's request without a removal event.
	srv.AddReview(repo, 7, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: sha1})
	byWho, err := c.ReviewRequests(ctx, grid, 7)
	if err != nil {
		t.Fatal(err)
	}
	who := map[string]string{}
	for k, r := range byWho {
		who[k] = r.Requester
		if r.At.IsZero() {
			t.Errorf("request of %s has no time", k)
		}
	}
	want := map[string]string{"zhangwei": "relgate-ci", "lina": "wangfang", "hejun": "wangfang"}
	if d := cmp.Diff(want, who); d != "" {
		t.Errorf("requesters from the timeline (-want +got):\n%s", d)
	}
	if got, _ := c.RequestedReviewers(ctx, grid, 7); slicesContain(got, "zhangwei") {
		t.Errorf("zhangwei reviewed but is still listed as requested: %v", got)
	}
	for _, r := range srv.Requests() {
		if r.Method == http.MethodDelete && !bytes.Contains(r.Body, []byte(`"reviewers":["maxiaodong"]`)) {
			t.Errorf("DELETE body %s", r.Body)
		}
	}
	if err := c.RemoveRequestedReviewers(ctx, grid, 7, nil); err == nil {
		t.Error("a removal of nobody was sent (GitHub requires reviewers)")
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func slicesContain(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// TestReviewRequestFailures: a server error is an error after the retries
// (never a refusal that reads as "done"), a missing pull request is
// ErrNotFound.
func TestReviewRequestFailures(t *testing.T) {
	srv, _, c := setup(t)
	srv.SetUserToken("ghp_secret", "relgate-ci")
	ctx := context.Background()
	srv.Inject(ghapitest.Fault{Method: http.MethodPost, Path: "requested_reviewers", Status: 502, Times: 10})
	refused, err := c.RequestReviewers(ctx, grid, 7, []string{"zhangwei"})
	if err == nil || len(refused) > 0 {
		t.Errorf("502s: refused %v, err %v", refused, err)
	}
	if _, err := c.RequestedReviewers(ctx, grid, 99); !errors.Is(err, ghapi.ErrNotFound) {
		t.Errorf("missing pull request: %v", err)
	}
	if _, err := c.ReviewRequests(ctx, grid, 99); !errors.Is(err, ghapi.ErrNotFound) {
		t.Errorf("missing pull request's timeline: %v", err)
	}
	if got := srv.RequestedReviewers(repo, 7); len(got) != 0 {
		t.Errorf("requested despite the failures: %v", got)
	}
}

// TestSelf: a token's actions are its user's (GET /user); an App's are its
// bot's, SLUG[bot], read as the App (GET /app with the App's JWT), and the
// timeline names that bot as the requester of what the App asked.
func TestSelf(t *testing.T) {
	ctx := context.Background()
	srv, _, c := setup(t)
	srv.SetUserToken("ghp_secret", "relgate-ci")
	if got, err := c.Self(ctx); err != nil || got != "relgate-ci" {
		t.Errorf("token: %q %v", got, err)
	}
	unknown := ghapitest.New()
	t.Cleanup(unknown.Close)
	if got, err := newClient(t, unknown, ghapi.RetryConfig{MaxAttempts: 1}).Self(ctx); err == nil {
		t.Errorf("a token GitHub cannot name: %q, want an error", got)
	}

	app := ghapitest.New()
	app.Prefix = "/api/v3"
	t.Cleanup(app.Close)
	app.SetAppSlug("relgate-grid")
	app.SetPull(repo, ghapitest.PR{Number: 7, Author: "wangfang", HeadSHA: sha1, BaseRef: "main"})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	ac, err := ghapi.New(ghapi.Config{BaseURL: app.APIURL(), App: &ghapi.App{ID: 12, InstallationID: 42, PrivateKey: ghapi.Token(pemKey)}})
	if err != nil {
		t.Fatal(err)
	}
	self, err := ac.Self(ctx)
	if err != nil || self != "relgate-grid[bot]" {
		t.Fatalf("App: %q %v", self, err)
	}
	if _, err := ac.RequestReviewers(ctx, grid, 7, []string{"zhangwei"}); err != nil {
		t.Fatal(err)
	}
	rs, err := ac.ReviewRequests(ctx, grid, 7)
	if err != nil {
		t.Fatal(err)
	}
	if rs["zhangwei"].Requester != self {
		t.Errorf("timeline names %q as the requester, want %q", rs["zhangwei"].Requester, self)
	}
	if v := app.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestFakeChecksReviewRequestShapes: the fake refuses (422) and records the
// bodies GitHub's OpenAPI description does not allow, so the tests above
// and the server's would catch relgate sending one.
func TestFakeChecksReviewRequestShapes(t *testing.T) {
	tests := []struct {
		method, body, want string
	}{
		{http.MethodPost, `{"reviewers":"lina"}`, "reviewers must be an array of strings"},
		{http.MethodPost, `{"reviewers":[1]}`, "reviewers[0] must be a non-empty string"},
		{http.MethodPost, `{}`, "one of reviewers or team_reviewers is required"},
		{http.MethodPost, `{"reviewers":["lina"],"assignees":["lina"]}`, `unknown field "assignees"`},
		{http.MethodDelete, `{"team_reviewers":["ops"]}`, "reviewers is required"},
		{http.MethodDelete, `[]`, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.body, func(t *testing.T) {
			srv := ghapitest.New()
			t.Cleanup(srv.Close)
			srv.SetPull(repo, ghapitest.PR{Number: 7, Author: "wangfang", HeadSHA: sha1, BaseRef: "main"})
			req, _ := http.NewRequest(tt.method, srv.APIURL()+"repos/"+repo+"/pulls/7/requested_reviewers", strings.NewReader(tt.body))
			req.Header.Set("Authorization", "token ghp_x")
			req.Header.Set("Accept", "application/vnd.github.v3+json")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("status %d, want a refusal", resp.StatusCode)
			}
			if v := srv.Violations(); len(v) != 1 || !strings.Contains(v[0], tt.want) {
				t.Errorf("violations %q, want one with %q", v, tt.want)
			}
			if got := srv.RequestedReviewers(repo, 7); len(got) != 0 {
				t.Errorf("requested despite the refusal: %v", got)
			}
		})
	}
	for p, want := range map[string]string{
		"/repos/o/r/pulls/7/requested_reviewers": "/repos/{owner}/{repo}/pulls/{number}/requested_reviewers",
		"/api/v3/app":                            "/app",
	} {
		if got := ghapi.Route(p); got != want {
			t.Errorf("Route(%s) = %s, want %s", p, got, want)
		}
	}
}
