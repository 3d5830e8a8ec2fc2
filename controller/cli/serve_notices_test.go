package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/notify/notifytest"
	"github.com/relgate/relgate/controller/server"
)

// ledgerRemote is a bare release repository whose main holds one commit,
// served over smart HTTP for x-access-token and token only (as GitHub serves
// a private repository to a token).
func ledgerRemote(t *testing.T, token string) (bare string, srv *notifytest.HTTPRemote) {
	t.Helper()
	gitrepotest.Isolate(t)
	root := t.TempDir()
	bare = filepath.Join(root, "release.git")
	run := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(root, "init", "-q", "--bare", "-b", "main", bare)
	work := filepath.Join(root, "work")
	run(root, "init", "-q", "-b", "main", work)
	if err := os.WriteFile(filepath.Join(work, "relgate.yaml"), []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(work, "add", ".")
	run(work, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "policy")
	run(work, "push", "-q", bare, "main")
	return bare, notifytest.ServeHTTP(t, bare, "x-access-token", token)
}

// serveNoticeConfig builds serve's notice configuration from its flags and
// environment through the steps run takes: the GitHub client from the
// environment, the git credentials made from it, then notices.config.
func serveNoticeConfig(t *testing.T, args []string, envs map[string]string) (*server.NoticeConfig, string, error) {
	t.Helper()
	getenv := func(k string) string { return envs[k] }
	o, err := parseServe(args, &bytes.Buffer{}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := o.remote()
	if err != nil {
		t.Fatal(err)
	}
	client, token, err := o.github(getenv, server.NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Remote: remote, Branch: o.branch, GitTimeout: o.gitTimeout, GitAuth: gitAuth(remote, client, token)}
	var logs bytes.Buffer
	nc, err := o.notices.config(getenv, slog.New(slog.NewTextHandler(&logs, nil)), cfg, nil)
	if nc != nil {
		if c, ok := nc.Ledger.(interface{ Close() error }); ok {
			t.Cleanup(func() { c.Close() })
		}
	}
	return nc, logs.String(), err
}

// serve --notice-ledger git pushes its claims with the server's own git
// credentials (GITHUB_TOKEN as x-access-token), so replicas that share no
// disk send each notice once (R-5.1.2, R-5.1.8: the notification and the
// confirmation of a deployment go out once); without the credentials, or
// with wrong ones, nothing is claimed and nothing sent, and the token never
// shows in the error or the logs.
func TestServeNoticeLedgerGitUsesTheServersCredentials(t *testing.T) {
	const token = "ghp_ledger_s3cr3t"
	bare, srv := ledgerRemote(t, token)
	args := func(extra ...string) []string {
		return append([]string{"--repo", srv.URL, "--data-dir", t.TempDir(), "--notice-ledger", "git",
			"--git-timeout", "20s", "--github-url", "http://127.0.0.1:1/api/v3/"}, extra...)
	}
	ctx := context.Background()

	nc, logs, err := serveNoticeConfig(t, args(), map[string]string{"GITHUB_TOKEN": token})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if ok, err := nc.Ledger.Claim(ctx, "deployment-confirmed/REL-2026-0042", time.Hour); err != nil || !ok {
		t.Fatalf("claim with the server's token = %v, %v; want a claim", ok, err)
	}
	if strings.Contains(logs, "no credentials") {
		t.Errorf("a warning about missing credentials with GITHUB_TOKEN set:\n%s", logs)
	}
	// The claim is on the remote, by this replica (host/pid), never on main.
	show := exec.Command("git", "-C", bare, "log", "--format=%an <%ae>", "relgate/notices")
	out, err := show.CombinedOutput()
	if err != nil {
		t.Fatalf("the remote has no ledger branch: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), ledgerAuthor.Email) {
		t.Errorf("ledger commits by %q, want %s", out, ledgerAuthor.Email)
	}
	grep := exec.Command("git", "-C", bare, "grep", "-h", "owner:", "relgate/notices")
	out, _ = grep.CombinedOutput()
	host, _ := os.Hostname()
	if want := "owner: " + host + "/" + strconv.Itoa(os.Getpid()); !strings.Contains(string(out), want) {
		t.Errorf("the claim's owner: %q; want %q", out, want)
	}
	if out, _ := exec.Command("git", "-C", bare, "rev-list", "--count", "main").Output(); strings.TrimSpace(string(out)) != "1" {
		t.Errorf("main moved: %s commits", out)
	}
	// A second replica with the same credentials sees the claim.
	other, _, err := serveNoticeConfig(t, args(), map[string]string{"GITHUB_TOKEN": token})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := other.Ledger.Claim(ctx, "deployment-confirmed/REL-2026-0042", time.Hour); err != nil || ok {
		t.Errorf("a second replica claims the same key: %v, %v", ok, err)
	}

	for _, c := range []struct {
		name string
		env  map[string]string
	}{
		{"attack: no credentials", nil},
		{"attack: wrong token", map[string]string{"GITHUB_TOKEN": "ghp_wrong_s3cr3t"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused := srv.Refused.Load()
			nc, logs, err := serveNoticeConfig(t, args(), c.env)
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			ok, err := nc.Ledger.Claim(ctx, "deployment-confirmed/REL-2026-0043", time.Hour)
			if err == nil || ok {
				t.Fatalf("Claim = %v, %v; want no claim and an error", ok, err)
			}
			if !strings.Contains(err.Error(), "authentication required") {
				t.Errorf("the error does not say the remote wants credentials: %v", err)
			}
			if srv.Refused.Load() == refused {
				t.Errorf("the remote refused nothing")
			}
			for _, s := range []string{err.Error(), logs} {
				if strings.Contains(s, "s3cr3t") {
					t.Errorf("a token shows: %s", s)
				}
			}
			if c.env == nil && !strings.Contains(logs, "no credentials") {
				t.Errorf("no warning that the ledger has no credentials:\n%s", logs)
			}
		})
	}
	if out, _ := exec.Command("git", "-C", bare, "grep", "-c", "REL-2026-0043", "relgate/notices").CombinedOutput(); len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("a claim landed without the credentials: %s", out)
	}
}

// The ledger never is the branch serve gates, and its fetches and pushes
// stop at serve's --git-timeout.
func TestServeNoticeLedgerGitBranchAndDeadline(t *testing.T) {
	_, srv := ledgerRemote(t, "t")
	_, _, err := serveNoticeConfig(t, []string{"--repo", srv.URL, "--data-dir", t.TempDir(), "--notice-ledger", "git",
		"--branch", "relgate/notices"}, nil)
	if err == nil || !strings.Contains(err.Error(), "protected release branch") {
		t.Errorf("a ledger on the gated branch: %v", err)
	}

	stall := gitrepotest.NewStallingRemote(t, strings.Repeat("1", 40))
	t.Cleanup(stall.Close)
	nc, _, err := serveNoticeConfig(t, []string{"--repo", stall.URL + "/r.git", "--data-dir", t.TempDir(), "--notice-ledger", "git",
		"--git-timeout", "300ms"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ok, err := nc.Ledger.Claim(context.Background(), "k", time.Hour)
	if err == nil || ok {
		t.Fatalf("Claim against a stalling remote = %v, %v; want an error", ok, err)
	}
	// The ledger's own default is 30 s a call; serve's 300 ms must bound it.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the claim took %v: --git-timeout does not bound the ledger", d)
	}
}
