package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/webhook"
)

const serveExamples = "../../examples/release-repo"

func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RELGATE_WEBHOOK_SECRET", "")
	t.Setenv("GITHUB_TOKEN", "")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no repository", []string{}, nil, "serve needs --repo"},
		{"attack: no webhook secret", []string{"--repo", dir, "--data-dir", dir, "--addr", "127.0.0.1:0"}, nil, "no webhook secret"},
		{"empty secret file", []string{"--repo", dir, "--webhook-secret-file", filepath.Join(dir, "empty"), "--data-dir", dir}, nil, "no webhook secret"},
		{"bad report kind", []string{"--repo", dir, "--report", "comments"}, nil, `--report "comments"`},
		{"half a GitHub App", []string{"--repo", dir, "--github-app-id", "12"}, map[string]string{"RELGATE_WEBHOOK_SECRET": "s"}, "needs all of"},
		{"token without a repository to gate", []string{"--repo", dir, "--data-dir", dir}, map[string]string{"RELGATE_WEBHOOK_SECRET": "s", "GITHUB_TOKEN": "ghp_x"}, "--github-repo"},
		{"arguments", []string{"--repo", dir, "extra"}, nil, "takes no arguments"},
		{"attack: ext:: remote", []string{"--repo", "ext::sh -c touch% " + filepath.Join(dir, "pwned"), "--data-dir", dir}, map[string]string{"RELGATE_WEBHOOK_SECRET": "s"}, "--repo"},
		{"attack: file:// remote", []string{"--repo", "file://" + dir, "--data-dir", dir}, map[string]string{"RELGATE_WEBHOOK_SECRET": "s"}, "--repo"},
		{"plain http to another host", []string{"--repo", "http://git.example.com/r.git", "--data-dir", dir}, map[string]string{"RELGATE_WEBHOOK_SECRET": "s"}, "--repo"},
		{"bad public URL", []string{"--repo", dir, "--public-url", "relgate.example.com"}, nil, "--public-url"},
	}
	os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			code := exitCode(runServe(tc.args, io.Discard, &stderr), &stderr)
			if code != ExitProblem || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
				t.Errorf("a remote ran a command")
			}
			if strings.Contains(stderr.String(), "ghp_x") {
				t.Errorf("the token leaked: %s", stderr.String())
			}
		})
	}
}

// lockedBuffer collects the server's logs from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeGatesAndStopsOnSIGTERM runs `relgate serve` as an operator would,
// with a token, against a fake GitHub and a local repository, then stops it
// with SIGTERM.
func TestServeGatesAndStopsOnSIGTERM(t *testing.T) {
	repo := gitrepotest.New(t)
	if err := gen.Replay(serveExamples, repo.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	// A local repository has no refs/pull/N/head: the pull request's head is a branch ref here.
	repo.Checkout("pr", true)
	repo.Write("releases/REL-2026-0043/plan.yaml", repo.Read("releases/REL-2026-0043/plan.yaml")+"# 补充\n")
	head := repo.Commit("edit plan", gitrepotest.Person{Name: "wangfang", Email: "wangfang@grid-it.example.cn"})
	repo.GitCLI("update-ref", "refs/pull/1/head", head)
	repo.Checkout("main", false)

	gh := ghapitest.New()
	gh.Prefix = "/api/v3"
	t.Cleanup(gh.Close)
	gh.AcceptTokens("ghp_operator")
	gh.SetPull("grid-it/releases", ghapitest.PR{Number: 1, Author: "wangfang", HeadSHA: head, HeadRef: "pr", BaseRef: "main"})

	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("s3cret\n"), 0o600)
	t.Setenv("RELGATE_WEBHOOK_SECRET", "")
	t.Setenv("GITHUB_TOKEN", "ghp_operator")
	logs := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- exitCode(runServe([]string{"--addr", "127.0.0.1:0", "--repo", repo.Dir, "--data-dir", t.TempDir(),
			"--webhook-secret-file", secretFile, "--github-url", gh.APIURL(), "--github-repo", "grid-it/releases", "--shutdown-grace", "5"}, io.Discard, logs), logs)
	}()
	var addr string
	deadline := time.Now().Add(15 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "serving" {
				addr, _ = m["addr"].(string)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("the server did not start:\n%s", logs.String())
	}
	body := []byte(`{"action":"opened","number":1,"pull_request":{"number":1,"head":{"sha":"` + head + `"},"base":{"ref":"main"}},"repository":{"name":"releases","full_name":"grid-it/releases","owner":{"login":"grid-it"}}}`)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", "1")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte("s3cret"), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	deadline = time.Now().Add(15 * time.Second)
	var st ghapitest.Status
	for time.Now().Before(deadline) {
		var ok bool
		if st, ok = gh.LatestStatus(head, "relgate/main"); ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A plan edit alone asserts nothing: the change passes; a token posts commit statuses.
	if st.State != "success" {
		t.Errorf("status %+v\n%s", st, logs.String())
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d after SIGTERM\n%s", code, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	out := logs.String()
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if strings.Contains(out, "ghp_operator") || strings.Contains(out, "s3cret") {
		t.Errorf("a secret is in the logs:\n%s", out)
	}
	if v := gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}
