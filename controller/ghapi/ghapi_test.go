package ghapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

const repo = "grid-it/releases"

var sha1 = strings.Repeat("a", 40)

type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newClient(t *testing.T, srv *ghapitest.Server, rc ghapi.RetryConfig) *ghapi.Client {
	t.Helper()
	rc.Jitter = func() float64 { return 0 }
	c, err := ghapi.New(ghapi.Config{BaseURL: srv.APIURL(), Token: "ghp_secret", Retry: rc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setup(t *testing.T) (*ghapitest.Server, *sleeps, *ghapi.Client) {
	srv := ghapitest.New()
	srv.Prefix = "/api/v3" // GitHub Enterprise layout
	t.Cleanup(srv.Close)
	srv.SetPull(repo, ghapitest.PR{Number: 7, Title: "plan", Author: "wangfang", HeadSHA: sha1, HeadRef: "plan", BaseRef: "main"})
	sl := &sleeps{}
	return srv, sl, newClient(t, srv, ghapi.RetryConfig{Sleep: sl.sleep, MaxAttempts: 4, BaseDelay: 100 * time.Millisecond})
}

func TestReadsConvertToOwnTypes(t *testing.T) {
	srv, _, c := setup(t)
	for i := 0; i < 150; i++ { // two pages
		srv.AddReview(repo, 7, ghapitest.Review{Login: fmt.Sprintf("u%d", i), State: "COMMENTED", CommitID: sha1})
	}
	srv.AddReview(repo, 7, ghapitest.Review{Login: "dependabot[bot]", UserType: "Bot", State: "APPROVED", CommitID: sha1})
	ctx := context.Background()
	r := ghapi.Repo{Owner: "grid-it", Name: "releases"}
	pr, err := c.GetPull(ctx, r, 7)
	if err != nil {
		t.Fatal(err)
	}
	want := ghapi.PullRequest{Number: 7, State: "open", Title: "plan", Author: "wangfang", HeadSHA: sha1, HeadRef: "plan",
		BaseRef: "main", HTMLURL: "https://github.com/grid-it/releases/pull/7"}
	if d := cmp.Diff(want, pr); d != "" {
		t.Errorf("pull request (-want +got):\n%s", d)
	}
	rs, err := c.ListReviews(ctx, r, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 151 || !rs[150].IsBot || rs[150].State != "APPROVED" || rs[0].Login != "u0" {
		t.Errorf("reviews: %d, last %+v", len(rs), rs[len(rs)-1])
	}
	prs, err := c.ListOpenPulls(ctx, r, "main")
	if err != nil || len(prs) != 1 {
		t.Fatalf("open pulls: %v %v", prs, err)
	}
	if _, err := c.GetPull(ctx, r, 8); !errors.Is(err, ghapi.ErrNotFound) {
		t.Errorf("missing pull: %v, want ErrNotFound", err)
	}
	for _, req := range srv.Requests() {
		if got := req.Header.Get("Authorization"); got != "Bearer ghp_secret" {
			t.Errorf("%s %s: Authorization %q", req.Method, req.Path, got)
		}
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("shape violations: %v", v)
	}
}

func TestCheckRunAndStatusShapes(t *testing.T) {
	srv, _, c := setup(t)
	ctx := context.Background()
	r := ghapi.Repo{Owner: "grid-it", Name: "releases"}
	var anns []ghapi.Annotation
	for i := 0; i < 70; i++ {
		anns = append(anns, ghapi.Annotation{Path: "releases/REL-2026-0043/plan.yaml", StartLine: i + 1, Level: "failure", Message: "m"})
	}
	id, err := c.CreateCheckRun(ctx, r, ghapi.CheckRun{Name: "relgate/main", HeadSHA: sha1, Status: "in_progress", ExternalID: "pr-7",
		Title: "evaluating", Summary: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateCheckRun(ctx, r, id, ghapi.CheckRun{Name: "relgate/main", Status: "completed", Conclusion: "failure",
		Title: "blocked", Summary: strings.Repeat("x", 70000), Annotations: anns}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateStatus(ctx, r, sha1, ghapi.Status{State: "pending", Context: "relgate/main", Description: strings.Repeat("说", 200),
		TargetURL: "https://relgate.example.com/result?head=" + sha1}); err != nil {
		t.Fatal(err)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("shape violations: %v", v)
	}
	cr, _ := srv.LatestCheckRun(sha1, "relgate/main")
	if cr.Status != "completed" || cr.Conclusion != "failure" || cr.Title != "blocked" || cr.ExternalID != "pr-7" {
		t.Errorf("check run after update: %+v", cr)
	}
	runs, err := c.ListCheckRuns(ctx, r, sha1, "relgate/main")
	if err != nil || len(runs) != 1 || runs[0].ID != id || runs[0].ExternalID != "pr-7" || runs[0].Conclusion != "failure" {
		t.Errorf("ListCheckRuns = %+v, %v", runs, err)
	}
	// GitHub does not reopen a completed run: the fake refuses it as GitHub does.
	if err := c.UpdateCheckRun(ctx, r, id, ghapi.CheckRun{Name: "relgate/main", Status: "in_progress", Title: "again", Summary: "s"}); err == nil {
		t.Error("reopening a completed check run was accepted")
	}
}

func TestRetries(t *testing.T) {
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	tests := []struct {
		name      string
		faults    []ghapitest.Fault
		wantErr   bool
		wantWaits []time.Duration
		wantCalls int
	}{
		{name: "502 then success: backoff doubles",
			faults:    []ghapitest.Fault{{Path: "/pulls/7", Status: 502, Times: 2}},
			wantWaits: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, wantCalls: 3},
		{name: "429 honours Retry-After",
			faults:    []ghapitest.Fault{{Path: "/pulls/7", Status: 429, Header: map[string]string{"Retry-After": "7"}}},
			wantWaits: []time.Duration{7 * time.Second}, wantCalls: 2},
		{name: "403 secondary rate limit with Retry-After",
			faults:    []ghapitest.Fault{{Path: "/pulls/7", Status: 403, Header: map[string]string{"Retry-After": "3"}, Body: secondary}},
			wantWaits: []time.Duration{3 * time.Second}, wantCalls: 2},
		{name: "403 secondary rate limit named only in the message waits a minute",
			faults:    []ghapitest.Fault{{Path: "/pulls/7", Status: 403, Body: secondary}},
			wantWaits: []time.Duration{time.Minute}, wantCalls: 2},
		{name: "403 permission is not retried",
			faults:  []ghapitest.Fault{{Path: "/pulls/7", Status: 403, Body: `{"message":"Resource not accessible by integration"}`}},
			wantErr: true, wantCalls: 1},
		{name: "retries stay bounded: 4 attempts then the error",
			faults:  []ghapitest.Fault{{Path: "/pulls/7", Status: 503, Times: 100}},
			wantErr: true, wantWaits: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}, wantCalls: 4},
		{name: "a Retry-After longer than the bound is not waited",
			faults:  []ghapitest.Fault{{Path: "/pulls/7", Status: 429, Header: map[string]string{"Retry-After": "3600"}}},
			wantErr: true, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, sl, c := setup(t)
			for _, f := range tc.faults {
				srv.Inject(f)
			}
			_, err := c.GetPull(context.Background(), ghapi.Repo{Owner: "grid-it", Name: "releases"}, 7)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.wantWaits, sl.waits); d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
			if n := len(srv.Requests()); n != tc.wantCalls {
				t.Errorf("%d requests, want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestPostsAreReplayedWithTheirBody(t *testing.T) {
	srv, _, c := setup(t)
	srv.Inject(ghapitest.Fault{Path: "/statuses/", Status: 502})
	if err := c.CreateStatus(context.Background(), ghapi.Repo{Owner: "grid-it", Name: "releases"}, sha1, ghapi.Status{State: "failure", Context: "relgate/main"}); err != nil {
		t.Fatal(err)
	}
	if st, ok := srv.LatestStatus(sha1, "relgate/main"); !ok || st.State != "failure" {
		t.Errorf("status after a retried POST: %+v %v", st, ok)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestInFlightIsBounded(t *testing.T) {
	srv := ghapitest.New()
	t.Cleanup(srv.Close)
	srv.SetPull(repo, ghapitest.PR{Number: 7, Author: "wangfang", HeadSHA: sha1, BaseRef: "main"})
	srv.Inject(ghapitest.Fault{Path: "/pulls/7", Delay: 50 * time.Millisecond, Times: 20})
	var peak, now atomic.Int32
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer now.Add(-1)
		return http.DefaultTransport.RoundTrip(r)
	})
	c, err := ghapi.New(ghapi.Config{BaseURL: srv.APIURL(), Token: "t", Transport: base, Retry: ghapi.RetryConfig{MaxInFlight: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetPull(context.Background(), ghapi.Repo{Owner: "grid-it", Name: "releases"}, 7); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("peak in flight %d, want at most 3", p)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTokenRedactsItself(t *testing.T) {
	tok := ghapi.Token("ghp_supersecret")
	cfg := ghapi.Config{Token: tok, App: &ghapi.App{ID: 1, PrivateKey: "-----BEGIN RSA PRIVATE KEY-----"}}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "token", tok, "cfg", cfg)
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, tok), logs.String(), string(j)} {
		if strings.Contains(s, "supersecret") || strings.Contains(s, "PRIVATE KEY") {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if tok.Reveal() != "ghp_supersecret" {
		t.Error("Reveal does not return the token")
	}
	if got := ghapi.Redact("https://x-access-token:ghs_abc@github.com/o/r.git"); strings.Contains(got, "ghs_abc") {
		t.Errorf("Redact: %s", got)
	}
}

func TestGitHubAppInstallationToken(t *testing.T) {
	srv := ghapitest.New()
	srv.Prefix = "/api/v3"
	t.Cleanup(srv.Close)
	srv.AcceptTokens("ghs_installation42")
	srv.SetPull(repo, ghapitest.PR{Number: 7, Author: "wangfang", HeadSHA: sha1, BaseRef: "main"})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	c, err := ghapi.New(ghapi.Config{BaseURL: srv.APIURL(), App: &ghapi.App{ID: 12, InstallationID: 42, PrivateKey: ghapi.Token(pemKey)}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsApp() {
		t.Error("IsApp false for an App client")
	}
	if _, err := c.GetPull(context.Background(), ghapi.Repo{Owner: "grid-it", Name: "releases"}, 7); err != nil {
		t.Fatal(err)
	}
	tok, err := c.GitToken(context.Background())
	if err != nil || tok.Reveal() != "ghs_installation42" {
		t.Errorf("git token %v %v", tok.Reveal(), err)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	if _, err := ghapi.New(ghapi.Config{App: &ghapi.App{ID: 1, PrivateKey: "not a key"}}); err == nil || strings.Contains(err.Error(), "not a key") {
		t.Errorf("bad key: %v", err)
	}
}

func TestListDismissals(t *testing.T) {
	r := ghapi.Repo{Owner: "grid-it", Name: "releases"}
	shaB := strings.Repeat("b", 40)
	tests := []struct {
		name    string
		setup   func(t *testing.T, srv *ghapitest.Server)
		want    map[int64]ghapi.Dismissal
		wantErr string
	}{
		{name: "none: reviews alone give no dismissals",
			setup: func(t *testing.T, srv *ghapitest.Server) {
				srv.AddReview(repo, 7, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: sha1})
			},
			want: map[int64]ghapi.Dismissal{}},
		{name: "a change request dismissed by another, a stale approval dismissed by a push, across two pages",
			setup: func(t *testing.T, srv *ghapitest.Server) {
				for i := 0; i < 150; i++ {
					srv.AddReview(repo, 7, ghapitest.Review{Login: fmt.Sprintf("u%d", i), State: "COMMENTED", CommitID: sha1})
				}
				cr := srv.AddReview(repo, 7, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: sha1})
				ap := srv.AddReview(repo, 7, ghapitest.Review{Login: "zhangwei", State: "APPROVED", CommitID: sha1})
				must(t, srv.DismissReview(repo, 7, cr, "wangfang"))
				must(t, srv.DismissStaleReview(repo, 7, ap, "wangfang", shaB))
			},
			want: map[int64]ghapi.Dismissal{
				1151: {ReviewID: 1151, State: "CHANGES_REQUESTED", Actor: "wangfang", Message: "not what we agreed",
					At: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC).Add(1153 * time.Second)},
				1152: {ReviewID: 1152, State: "APPROVED", Actor: "wangfang", CommitID: shaB,
					At: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC).Add(1154 * time.Second)}}},
		{name: "attack: a dismissal without its actor fails closed",
			setup: func(t *testing.T, srv *ghapitest.Server) {
				srv.AddTimelineEvent(repo, 7, map[string]any{"event": "review_dismissed", "actor": nil,
					"dismissed_review": map[string]any{"state": "changes_requested", "review_id": 9}})
			},
			wantErr: "lacks the review id, its state or the actor"},
		{name: "attack: a dismissal without the review's state fails closed",
			setup: func(t *testing.T, srv *ghapitest.Server) {
				srv.AddTimelineEvent(repo, 7, map[string]any{"event": "review_dismissed", "actor": map[string]any{"login": "wangfang"},
					"dismissed_review": map[string]any{"review_id": 9}})
			},
			wantErr: "lacks the review id, its state or the actor"},
		{name: "other events, of any shape, are skipped",
			setup: func(t *testing.T, srv *ghapitest.Server) {
				srv.AddTimelineEvent(repo, 7, map[string]any{"event": "committed", "sha": sha1, "author": map[string]any{"name": "x"}})
				srv.AddTimelineEvent(repo, 7, map[string]any{"event": "labeled", "actor": map[string]any{"login": "x"}, "label": map[string]any{"name": "cab"}})
			},
			want: map[int64]ghapi.Dismissal{}},
		{name: "GitHub down: the error, never an empty answer",
			setup: func(t *testing.T, srv *ghapitest.Server) {
				srv.Inject(ghapitest.Fault{Path: "/timeline", Status: 503, Times: 10})
			},
			wantErr: "503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, c := setup(t)
			tc.setup(t, srv)
			got, err := c.ListDismissals(context.Background(), r, 7)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || got != nil {
					t.Fatalf("ListDismissals = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("dismissals (-want +got):\n%s", d)
			}
			if v := srv.Violations(); len(v) > 0 {
				t.Errorf("shape violations: %v", v)
			}
		})
	}
	t.Run("a missing pull request is ErrNotFound", func(t *testing.T) {
		_, _, c := setup(t)
		if _, err := c.ListDismissals(context.Background(), r, 8); !errors.Is(err, ghapi.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("the fake refuses to dismiss a comment, as GitHub does", func(t *testing.T) {
		srv, _, _ := setup(t)
		id := srv.AddReview(repo, 7, ghapitest.Review{Login: "hejun", State: "COMMENTED", CommitID: sha1})
		if err := srv.DismissReview(repo, 7, id, "wangfang"); err == nil {
			t.Error("dismissed a comment")
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
