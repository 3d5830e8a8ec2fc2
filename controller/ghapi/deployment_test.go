package ghapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

func TestReviewDeploymentProtectionRule(t *testing.T) {
	srv, _, c := setup(t)
	r := ghapi.Repo{Owner: "grid-it", Name: "releases"}
	ctx := context.Background()
	if err := c.ReviewDeploymentProtectionRule(ctx, r, 42, "production", ghapi.DeploymentApproved, "ok"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("拒", 3000) // over the bound: cut on a character boundary, with a note
	if err := c.ReviewDeploymentProtectionRule(ctx, r, 43, "production", ghapi.DeploymentRejected, long); err != nil {
		t.Fatal(err)
	}
	// A second review of the same run and environment: GitHub's 422.
	err := c.ReviewDeploymentProtectionRule(ctx, r, 42, "production", ghapi.DeploymentRejected, "again")
	if !errors.Is(err, ghapi.ErrAlreadyReviewed) {
		t.Errorf("second review: %v, want ErrAlreadyReviewed", err)
	}
	// Refused before anything is sent.
	for _, bad := range []struct {
		run        int64
		env, state string
	}{{42, "production", "approve"}, {0, "production", "approved"}, {42, "", "approved"}} {
		if err := c.ReviewDeploymentProtectionRule(ctx, r, bad.run, bad.env, bad.state, ""); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	revs := srv.DeploymentReviews()
	if len(revs) != 2 {
		t.Fatalf("reviews %+v", revs)
	}
	if d := cmp.Diff(ghapitest.DeploymentReview{Repo: "grid-it/releases", RunID: 42, Environment: "production", State: "approved", Comment: "ok"}, revs[0]); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if n := utf8.RuneCountInString(revs[1].Comment); n > ghapi.MaxDeploymentComment || !utf8.ValidString(revs[1].Comment) || !strings.HasSuffix(revs[1].Comment, "full decision)") {
		t.Errorf("long comment: %d characters, ends %q", n, revs[1].Comment[len(revs[1].Comment)-40:])
	}
	if ghapi.MaxDeploymentComment != ghapitest.MaxDeploymentComment {
		t.Error("the fake and the client disagree on the comment bound")
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	for _, req := range srv.Requests() {
		if strings.Contains(req.Path, "deployment_protection_rule") && req.Path != "/api/v3/repos/grid-it/releases/actions/runs/42/deployment_protection_rule" &&
			req.Path != "/api/v3/repos/grid-it/releases/actions/runs/43/deployment_protection_rule" {
			t.Errorf("posted to %s", req.Path)
		}
	}
}

// TestTheFakeChecksTheReviewShape: what GitHub would refuse is a violation.
func TestTheFakeChecksTheReviewShape(t *testing.T) {
	srv := ghapitest.New()
	t.Cleanup(srv.Close)
	for _, body := range []string{`{"environment_name":"production","state":"approve"}`, `{"state":"approved"}`,
		`{"environment_name":7,"state":"approved"}`, `{"environment_name":"p","state":"approved","extra":1}`,
		`{"environment_name":"p","state":"approved","comment":` + `"` + strings.Repeat("x", 1025) + `"}`} {
		req, _ := newJSONRequest(srv.URL+"/repos/o/r/actions/runs/1/deployment_protection_rule", body)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 422 {
			t.Errorf("%s: %d, want 422", body, resp.StatusCode)
		}
	}
	if v := srv.Violations(); len(v) != 5 {
		t.Errorf("violations %d, want 5: %v", len(v), v)
	}
}

func TestCallbackRunID(t *testing.T) {
	r := ghapi.Repo{Owner: "grid-it", Name: "releases"}
	tests := []struct {
		name, root, callback string
		want                 int64
	}{
		{"github.com", "https://api.github.com/", "https://api.github.com/repos/grid-it/releases/actions/runs/1234567890/deployment_protection_rule", 1234567890},
		{"owner case differs", "https://api.github.com/", "https://api.github.com/repos/Grid-IT/releases/actions/runs/7/deployment_protection_rule", 7},
		{"GHE root", "https://ghe.example.cn/api/v3/", "https://ghe.example.cn/api/v3/repos/grid-it/releases/actions/runs/7/deployment_protection_rule", 7},
		{"attack: another host", "https://api.github.com/", "https://evil.example/repos/grid-it/releases/actions/runs/7/deployment_protection_rule", 0},
		{"attack: another scheme", "https://api.github.com/", "http://api.github.com/repos/grid-it/releases/actions/runs/7/deployment_protection_rule", 0},
		{"attack: another repository", "https://api.github.com/", "https://api.github.com/repos/grid-it/other/actions/runs/7/deployment_protection_rule", 0},
		{"attack: credentials", "https://api.github.com/", "https://x:y@api.github.com/repos/grid-it/releases/actions/runs/7/deployment_protection_rule", 0},
		{"attack: outside the GHE root", "https://ghe.example.cn/api/v3/", "https://ghe.example.cn/repos/grid-it/releases/actions/runs/7/deployment_protection_rule", 0},
		{"attack: dot segments", "https://api.github.com/", "https://api.github.com/repos/grid-it/releases/actions/runs/../../other/deployment_protection_rule", 0},
		{"attack: query", "https://api.github.com/", "https://api.github.com/repos/grid-it/releases/actions/runs/7/deployment_protection_rule?x=1", 0},
		{"not a run id", "https://api.github.com/", "https://api.github.com/repos/grid-it/releases/actions/runs/07/deployment_protection_rule", 0},
		{"negative", "https://api.github.com/", "https://api.github.com/repos/grid-it/releases/actions/runs/-7/deployment_protection_rule", 0},
		{"another endpoint", "https://api.github.com/", "https://api.github.com/repos/grid-it/releases/actions/runs/7/approve", 0},
		{"not a URL", "https://api.github.com/", "%zz", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ghapi.CallbackRunID(tc.root, tc.callback, r)
			if tc.want == 0 {
				if err == nil {
					t.Errorf("accepted as run %d", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func FuzzCallbackRunID(f *testing.F) {
	f.Add("https://api.github.com/repos/grid-it/releases/actions/runs/7/deployment_protection_rule")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ghapi.CallbackRunID("https://api.github.com/", s, ghapi.Repo{Owner: "grid-it", Name: "releases"})
		if err == nil && (id <= 0 || !strings.HasPrefix(strings.ToLower(s), "https://api.github.com/repos/grid-it/releases/actions/runs/")) {
			t.Fatalf("%q accepted as run %d", s, id)
		}
	})
}

func newJSONRequest(u, body string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Authorization", "Bearer t")
	return req, nil
}
