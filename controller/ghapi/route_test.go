package ghapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
)

func TestRoute(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	sha256 := strings.Repeat("ab", 32)
	tests := []struct {
		name, path, want string
	}{
		// What relgate calls (ghapi.go), on github.com and behind a GHE root.
		{"get pull", "/repos/grid-it/releases/pulls/7", "/repos/{owner}/{repo}/pulls/{number}"},
		{"GHE root dropped", "/api/v3/repos/grid-it/releases/pulls/7", "/repos/{owner}/{repo}/pulls/{number}"},
		{"GHE root under a proxy prefix", "/github/api/v3/repos/grid-it/releases/pulls/7", "/repos/{owner}/{repo}/pulls/{number}"},
		{"GHE uploads root", "/api/uploads/repos/o/r/releases/3/assets", "/repos/{owner}/{repo}/releases/{release_id}/assets"},
		{"list pulls", "/api/v3/repos/grid-it/releases/pulls", "/repos/{owner}/{repo}/pulls"},
		{"list reviews", "/repos/grid-it/releases/pulls/7/reviews", "/repos/{owner}/{repo}/pulls/{number}/reviews"},
		{"one review", "/repos/o/r/pulls/7/reviews/8812", "/repos/{owner}/{repo}/pulls/{number}/reviews/{review_id}"},
		{"create check run", "/repos/o/r/check-runs", "/repos/{owner}/{repo}/check-runs"},
		{"update check run", "/repos/o/r/check-runs/4242424242", "/repos/{owner}/{repo}/check-runs/{check_run_id}"},
		{"commit status", "/repos/o/r/statuses/" + sha, "/repos/{owner}/{repo}/statuses/{sha}"},
		{"status on a ref with slashes", "/repos/o/r/statuses/release/2026-q4", "/repos/{owner}/{repo}/statuses/{sha}"},
		{"pulls with a commit", "/repos/o/r/commits/" + sha + "/pulls", "/repos/{owner}/{repo}/commits/{ref}/pulls"},
		{"check runs of a commit", "/repos/o/r/commits/" + sha + "/check-runs", "/repos/{owner}/{repo}/commits/{ref}/check-runs"},
		{"combined status of a branch", "/repos/o/r/commits/feature/x/status", "/repos/{owner}/{repo}/commits/{ref}/status"},
		{"review a deployment", "/api/v3/repos/o/r/actions/runs/1234567890/deployment_protection_rule", "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule"},
		{"app installation token", "/app/installations/12345/access_tokens", "/app/installations/{installation_id}/access_tokens"},
		// Owners, repositories, refs, paths and ids never reach the label.
		{"owner and repo named like words", "/repos/pulls/issues/pulls/1", "/repos/{owner}/{repo}/pulls/{number}"},
		{"owner only", "/repos/acme", "/repos/{owner}"},
		{"repository", "/repos/o/r", "/repos/{owner}/{repo}"},
		{"git ref with slashes", "/repos/o/r/git/refs/heads/feature/deep/x", "/repos/{owner}/{repo}/git/refs/{ref}"},
		{"git ref singular", "/repos/o/r/git/ref/heads/main", "/repos/{owner}/{repo}/git/ref/{ref}"},
		{"git commit", "/repos/o/r/git/commits/" + sha, "/repos/{owner}/{repo}/git/commits/{sha}"},
		{"git tree by sha-256", "/repos/o/r/git/trees/" + sha256, "/repos/{owner}/{repo}/git/trees/{sha}"},
		{"git tree by ref name", "/repos/o/r/git/trees/main", "/repos/{owner}/{repo}/git/trees/{sha}"},
		{"contents path", "/repos/o/r/contents/releases/REL-2026-0043/plan.yaml", "/repos/{owner}/{repo}/contents/{path}"},
		{"compare", "/repos/o/r/compare/main...feature/x", "/repos/{owner}/{repo}/compare/{basehead}"},
		{"branch protection", "/repos/o/r/branches/release/2026/protection", "/repos/{owner}/{repo}/branches/{branch}/protection"},
		{"issue comments", "/repos/o/r/issues/12/comments", "/repos/{owner}/{repo}/issues/{number}/comments"},
		{"issue comment by id", "/repos/o/r/issues/comments/998877", "/repos/{owner}/{repo}/issues/comments/{comment_id}"},
		{"label by name", "/repos/o/r/labels/needs-cab", "/repos/{owner}/{repo}/labels/{name}"},
		{"user", "/users/wangfang", "/users/{username}"},
		{"org repos", "/orgs/grid-it/repos", "/orgs/{org}/repos"},
		{"user repos has no owner", "/user/repos", "/user/repos"},
		{"number after an unknown word", "/repos/o/r/labels/123", "/repos/{owner}/{repo}/labels/{id}"},
		{"unknown words become params", "/totally/secret-name/x", "/{param}/{param}/{param}"},
		{"root", "/", "/"},
		{"empty", "", "/"},
		{"doubled slashes", "//repos//o//r//pulls//7", "/repos/{owner}/{repo}/pulls/{number}"},
		{"api/v3 inside a file path stays a path", "/repos/o/r/contents/api/v3/x", "/repos/{owner}/{repo}/contents/{path}"},
		{"bounded length", "/repos/o/r" + strings.Repeat("/issues", 40),
			"/repos/{owner}/{repo}" + strings.Repeat("/issues", 13) + "/{rest}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ghapi.Route(tc.path); got != tc.want {
				t.Errorf("Route(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

// TestAttemptsCarryTemplatedRoutes: the routes the transport reports for
// relgate's own calls to a GHE server hold no owner, repository, number or sha.
func TestAttemptsCarryTemplatedRoutes(t *testing.T) {
	srv := ghapitest.New()
	srv.Prefix = "/api/v3"
	t.Cleanup(srv.Close)
	srv.SetPull(repo, ghapitest.PR{Number: 7, Title: "plan", Author: "wangfang", HeadSHA: sha1, HeadRef: "plan", BaseRef: "main"})
	var mu sync.Mutex
	seen := map[string]bool{}
	c := newClient(t, srv, ghapi.RetryConfig{Observe: func(a ghapi.Attempt) {
		mu.Lock()
		seen[a.Method+" "+a.Route] = true
		mu.Unlock()
	}})
	ctx := context.Background()
	r := ghapi.Repo{Owner: "grid-it", Name: "releases"}
	if _, err := c.GetPull(ctx, r, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListReviews(ctx, r, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListOpenPulls(ctx, r, "main"); err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateCheckRun(ctx, r, ghapi.CheckRun{Name: "relgate/main", HeadSHA: sha1, Status: "in_progress", Title: "t", Summary: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateCheckRun(ctx, r, id, ghapi.CheckRun{Name: "relgate/main", Status: "completed", Conclusion: "success", Title: "t", Summary: "s"}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateStatus(ctx, r, sha1, ghapi.Status{State: "success", Context: "relgate/main"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"GET /repos/{owner}/{repo}/pulls/{number}":              true,
		"GET /repos/{owner}/{repo}/pulls/{number}/reviews":      true,
		"GET /repos/{owner}/{repo}/pulls":                       true,
		"POST /repos/{owner}/{repo}/check-runs":                 true,
		"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": true,
		"POST /repos/{owner}/{repo}/statuses/{sha}":             true,
	}
	if d := cmp.Diff(want, seen); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
}
