package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/reconcile"
	"github.com/relgate/relgate/controller/webhook"
)

const (
	examples = "../../examples/release-repo"
	rel43    = "releases/REL-2026-0043"
	slug     = "grid-it/releases"
)

var testSecret = []byte("webhook-secret-for-tests")

func who(login string) gitrepotest.Person {
	return gitrepotest.Person{Name: login, Email: login + "@grid-it.example.cn"}
}

// fakeWriter records what the server asks of the write-back.
type fakeWriter struct {
	mu         sync.Mutex
	approvals  []ApprovalRecord
	branches   []string
	reconciles int
	quarters   []string
	fail       error
}

func (w *fakeWriter) RecordApprovals(_ context.Context, branch string, a []ApprovalRecord) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.approvals = append(w.approvals, a...)
	w.branches = append(w.branches, branch)
	return nil
}

func (w *fakeWriter) Reconcile(context.Context, string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reconciles++
	return nil
}

func (w *fakeWriter) QuarterlyReport(_ context.Context, _ string, q string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.quarters = append(w.quarters, q)
	return nil
}

var _ Writer = (*fakeWriter)(nil)
var _ QuarterlyReporter = (*fakeWriter)(nil)

// env is a running server on loopback with a fake GitHub and a real bare
// git remote that plays GitHub's repository (refs/pull/N/head included).
type env struct {
	t      *testing.T
	work   *gitrepotest.Repo
	remote string
	gh     *ghapitest.Server
	srv    *Server
	url    string
	writer *fakeWriter
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	seq    atomic.Int64
	waits  *waitLog
	// clock is the server's clock (setNow moves it).
	clock atomic.Value
}

// setNow moves the server's clock.
func (e *env) setNow(t time.Time) { e.clock.Store(t) }

func (e *env) now() time.Time { return e.clock.Load().(time.Time) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type waitLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (w *waitLog) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	t := time.NewTimer(min(d, 5*time.Millisecond)) // honoured in kind, not in full: tests stay fast
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *waitLog) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration{}, w.waits...)
}

type envOptions struct {
	// realWriter uses relgate's write-back (reconcile.Writer) against the remote.
	realWriter bool
	schedule   bool
	checkRuns  bool
	timeout    time.Duration
	noGitHub   bool
	// publicURL links statuses and check runs to the server's result page.
	publicURL bool
	readOnly  bool
	// src is the release repository replayed as the remote's history
	// (default the examples); now the server's clock (default 2026-11-25T10:00Z).
	src           string
	now           time.Time
	deployTimeout time.Duration
	// wrapWriter, when set, wraps the write-back (to inject its failures).
	wrapWriter func(Writer) Writer
	// requestReviewers asks the people who may give a missing approval as reviewers.
	requestReviewers bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, writer: &fakeWriter{}, logs: &syncBuffer{}, waits: &waitLog{}}
	e.work = gitrepotest.New(t)
	src, now := examples, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if o.src != "" {
		src = o.src
	}
	if !o.now.IsZero() {
		now = o.now
	}
	e.setNow(now)
	if err := gen.Replay(src, e.work.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	e.remote = filepath.Join(t.TempDir(), "releases.git")
	if _, err := git.PlainInit(e.remote, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.work.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{e.remote}}); err != nil {
		t.Fatal(err)
	}
	e.push("refs/heads/main:refs/heads/main")
	e.gh = ghapitest.New()
	t.Cleanup(e.gh.Close)
	cfg := Config{Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Secret: testSecret,
		Remote: e.remote, MirrorDir: filepath.Join(t.TempDir(), "mirror"), Branch: "main", Writer: e.writer,
		DisableSchedule: !o.schedule, RetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, ShutdownGrace: 5 * time.Second,
		Clock: e.now, DeployTimeout: o.deployTimeout, Lang: "en", RequestReviewers: o.requestReviewers}
	cfg.Metrics = NewMetrics()
	if o.realWriter {
		dir := filepath.Join(t.TempDir(), "writer")
		if _, err := git.PlainInit(dir, true); err != nil {
			t.Fatal(err)
		}
		m, err := gitrepo.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		cfg.Writer = NewWriteBack(cfg.Logger, &reconcile.Writer{Mirror: m, Remote: e.remote,
			Options: reconcile.Options{Now: e.now}})
	}
	if o.wrapWriter != nil {
		cfg.Writer = o.wrapWriter(cfg.Writer)
	}
	if !o.noGitHub {
		c, err := ghapi.New(ghapi.Config{BaseURL: e.gh.APIURL(), Token: "ghs_test_token", Timeout: o.timeout,
			Retry: ghapi.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond, Sleep: e.waits.sleep, SecondaryWait: time.Minute,
				Observe: cfg.Metrics.ObserveAPI}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.GitHub, cfg.Repo, cfg.CheckRuns = c, ghapi.Repo{Owner: "grid-it", Name: "releases"}, o.checkRuns
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.url = "http://" + ln.Addr().String()
	if o.publicURL {
		cfg.PublicURL = e.url
	}
	cfg.ReadOnly = o.readOnly
	srv, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	e.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(e.stop)
	e.eventually("the server is ready", func() bool {
		resp, err := http.Get(e.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return e
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		e.t.Error("the server did not stop within 10s")
	}
	if e.t.Failed() {
		e.t.Logf("server logs:\n%s", e.logs.String())
	}
}

func (e *env) push(specs ...string) {
	e.t.Helper()
	var rs []config.RefSpec
	for _, s := range specs {
		rs = append(rs, config.RefSpec("+"+s))
	}
	err := e.work.Git.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: rs, Force: true})
	if err != nil && err != git.NoErrAlreadyUpToDate {
		e.t.Fatalf("push %v: %v", specs, err)
	}
}

func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s\nlogs:\n%s", what, e.logs.String())
}

// settle waits until the server has no work waiting or running.
func (e *env) settle() {
	e.t.Helper()
	e.eventually("the queue to drain", func() bool { return e.srv.queue.idle() })
}

// payload loads a real GitHub payload and points it at our repository and pull request.
func payload(t testing.TB, file string, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "webhook", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if r, ok := m["repository"].(map[string]any); ok {
		r["name"], r["full_name"] = "releases", slug
		r["owner"].(map[string]any)["login"] = "grid-it"
	}
	if edit != nil {
		edit(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func prEvent(t testing.TB, action string, n int, head string) []byte {
	return payload(t, "pull_request."+action+".json", func(m map[string]any) {
		m["number"] = n
		pr := m["pull_request"].(map[string]any)
		pr["number"] = n
		pr["head"].(map[string]any)["sha"] = head
		pr["base"].(map[string]any)["ref"] = "main"
		if action == "closed" {
			pr["merged"] = true
		}
	})
}

func reviewEvent(t testing.TB, n int, login, state, commit string) []byte {
	return payload(t, "pull_request_review.submitted.json", func(m map[string]any) {
		pr := m["pull_request"].(map[string]any)
		pr["number"] = n
		pr["head"].(map[string]any)["sha"] = commit
		pr["base"].(map[string]any)["ref"] = "main"
		rv := m["review"].(map[string]any)
		rv["user"].(map[string]any)["login"] = login
		rv["state"] = strings.ToLower(state)
		rv["commit_id"] = commit
	})
}

func pushEvent(t testing.TB, ref string) []byte {
	return payload(t, "push.json", func(m map[string]any) { m["ref"] = ref })
}

// deliver sends a signed delivery and returns the status code. Like
// GitHub's, every delivery's body is its own (the receiver refuses a body
// it has seen under another delivery id as a replay), so a field naming
// the delivery is added to the payload.
func (e *env) deliver(event string, body []byte) int {
	e.t.Helper()
	seq := e.seq.Add(1)
	if b := bytes.TrimSpace(body); len(b) > 2 && b[0] == '{' {
		body = append([]byte(fmt.Sprintf(`{"relgate_test_delivery":%d,`, seq)), b[1:]...)
	}
	return e.deliverWith(event, fmt.Sprintf("delivery-%d", seq), body, webhook.Sign(testSecret, body))
}

func (e *env) deliverWith(event, id string, body []byte, sig string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("deliver %s: %v", event, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// addGoLive writes a go-live plan and communication record for
// REL-2026-0043: they assert plan review passed.
func addGoLive(r *gitrepotest.Repo) {
	for _, f := range []string{"golive.yaml", "communication.yaml"} {
		r.Write(rel43+"/"+f, strings.ReplaceAll(r.Read("releases/REL-2026-0041/"+f), "REL-2026-0041", "REL-2026-0043"))
	}
}

// openPR commits a change on branch pr, pushes it as pull request n and
// registers it with the fake GitHub.
func (e *env) openPR(n int, author string, change func(r *gitrepotest.Repo)) string {
	e.t.Helper()
	e.work.Checkout(fmt.Sprintf("pr%d", n), true)
	change(e.work)
	head := e.work.Commit("change", who(author))
	e.push(fmt.Sprintf("refs/heads/pr%d:refs/pull/%d/head", n, n), fmt.Sprintf("refs/heads/pr%d:refs/heads/pr%d", n, n))
	e.gh.SetPull(slug, ghapitest.PR{Number: n, Title: "release plan", Author: author, HeadSHA: head, HeadRef: fmt.Sprintf("pr%d", n), BaseRef: "main"})
	return head
}

// pushPR adds a commit to pull request n.
func (e *env) pushPR(n int, author string, change func(r *gitrepotest.Repo)) string {
	e.t.Helper()
	change(e.work)
	head := e.work.Commit("more", who(author))
	e.push(fmt.Sprintf("refs/heads/pr%d:refs/pull/%d/head", n, n))
	pr, _ := e.gh.Pull(slug, n)
	pr.HeadSHA = head
	e.gh.SetPull(slug, pr)
	return head
}

func (e *env) checkRun(head string) ghapitest.CheckRun {
	e.t.Helper()
	var cr ghapitest.CheckRun
	e.eventually("a completed check run on "+head[:8], func() bool {
		var ok bool
		cr, ok = e.gh.LatestCheckRun(head, "relgate/main")
		return ok && cr.Status == "completed"
	})
	return cr
}

// get fetches a path of the server and returns the status code and body.
func (e *env) get(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.url + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
