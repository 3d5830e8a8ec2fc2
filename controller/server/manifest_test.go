package server

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/webhook"
)

// apiPermissions says which GitHub App permission each request the server
// makes needs (docs.github.com/rest, "Permissions required for GitHub Apps").
var apiPermissions = []struct {
	method, pathPart, permission, level string
}{
	// Reviewer requests (issue 15): asked and withdrawn; the timeline says
	// which requests were relgate's.
	{http.MethodPost, "/requested_reviewers", "pull_requests", "write"},
	{http.MethodDelete, "/requested_reviewers", "pull_requests", "write"},
	{http.MethodGet, "/timeline", "pull_requests", "read"},
	{http.MethodGet, "/app", "", ""},
	{http.MethodGet, "/user", "", ""}, // who the token is (reviewer requests); no permission
	{http.MethodGet, "/pulls/", "pull_requests", "read"},
	{http.MethodGet, "/pulls", "pull_requests", "read"},
	{http.MethodGet, "/commits/", "contents", "read"}, // commits/{sha}/pulls and commits/{ref}/check-runs
	{http.MethodGet, "/check-runs", "checks", "read"},
	{http.MethodPost, "/check-runs", "checks", "write"},
	{http.MethodPatch, "/check-runs/", "checks", "write"},
	{http.MethodPost, "/statuses/", "statuses", "write"},
	// Review custom deployment protection rules for a workflow run: GitHub
	// asks the App for deployments write and actions read.
	{http.MethodPost, "/deployment_protection_rule", "deployments", "write"},
}

type manifest struct {
	HookAttributes     map[string]any    `json:"hook_attributes"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile("../../docs/github-app-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("docs/github-app-manifest.json: %v", err)
	}
	return m
}

func grants(have, want string) bool {
	return have == want || have == "write" && want == "read"
}

// TestManifestCoversWhatTheServerDoes drives the server through a pull
// request's life against the fake GitHub and checks that the App manifest
// the admin guide tells admins to use grants every request it made, and
// subscribes to every event it acts on (and to no other).
func TestManifestCoversWhatTheServerDoes(t *testing.T) {
	m := readManifest(t)
	e := newEnv(t, envOptions{checkRuns: true, requestReviewers: true})
	head := approvedPR(t, e, 5)
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	e.checkRun(head)
	e.settle()
	// A deployment asks to proceed (refused here: outside its window).
	e.review(dep{env: "production", release: "REL-2026-0042", id: 1, run: 1})
	for _, r := range e.gh.Requests() {
		i := slices.IndexFunc(apiPermissions, func(p struct{ method, pathPart, permission, level string }) bool {
			return p.method == r.Method && strings.Contains(r.Path, p.pathPart)
		})
		if i < 0 {
			t.Errorf("%s %s: no permission known for this request; add it to apiPermissions and the manifest", r.Method, r.Path)
			continue
		}
		p := apiPermissions[i]
		if !grants(m.DefaultPermissions[p.permission], p.level) {
			t.Errorf("%s %s needs %s: %s; the manifest grants %q", r.Method, r.Path, p.permission, p.level, m.DefaultPermissions[p.permission])
		}
	}
	// The deployment protection rule: GitHub's documented App permissions.
	if m.DefaultPermissions["deployments"] != "write" || !grants(m.DefaultPermissions["actions"], "read") {
		t.Errorf("a deployment protection rule needs deployments: write and actions: read; the manifest has %q and %q",
			m.DefaultPermissions["deployments"], m.DefaultPermissions["actions"])
	}
	// The write-back pushes to the branch: contents write.
	if m.DefaultPermissions["contents"] != "write" {
		t.Errorf("the write-back pushes commits: contents must be write, the manifest has %q", m.DefaultPermissions["contents"])
	}
	for _, kind := range []string{webhook.KindPullRequest, webhook.KindPullRequestReview, webhook.KindPush, webhook.KindCheckSuite, webhook.KindCheckRun,
		webhook.KindDeploymentProtectionRule, webhook.KindDeploymentStatus} {
		if !slices.Contains(m.DefaultEvents, kind) {
			t.Errorf("the server acts on %s; the manifest does not subscribe to it", kind)
		}
	}
	for _, ev := range m.DefaultEvents {
		if !knownEvent(ev) {
			t.Errorf("the manifest subscribes to %s, which the server ignores", ev)
		}
	}
	if ct, _ := m.HookAttributes["content_type"].(string); ct != "" && ct != "json" {
		t.Errorf("hook content type %q, want json", ct)
	}
}

// TestAdminGuideNamesTheManifest keeps the README's admin guide in step
// with the manifest: every permission and event it grants is listed there.
func TestAdminGuideNamesTheManifest(t *testing.T) {
	m := readManifest(t)
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "### Setting up `relgate serve` for a GitHub organization")
	if i < 0 {
		t.Fatal("the README has no admin guide section")
	}
	guide := readme[i:]
	if j := strings.Index(guide[4:], "\n## "); j >= 0 {
		guide = guide[:j+4]
	}
	for p, level := range m.DefaultPermissions {
		if !strings.Contains(guide, "`"+p+"`") || !strings.Contains(guide, level) {
			t.Errorf("the admin guide does not list permission %s: %s", p, level)
		}
	}
	for _, ev := range m.DefaultEvents {
		if !strings.Contains(guide, "`"+ev+"`") {
			t.Errorf("the admin guide does not list event %s", ev)
		}
	}
	for _, want := range []string{"relgate/main", "--read-only", "--public-url", "/readyz", "/metrics", "bypass"} {
		if !strings.Contains(guide, want) {
			t.Errorf("the admin guide does not mention %s", want)
		}
	}
}
