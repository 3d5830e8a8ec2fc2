package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/notify"
)

// TestNoticeSentRightAfterTheFetch: the push that
// records REL-2026-0042's deployment and its confirmation reaches the
// server's mirror by the push webhook; the deployment-confirmed notice goes
// out to the loopback receiver at once, though the notice round (an hour
// here) never comes round and the clock never moves. It goes out once: a
// later fetch of the same tip decides nothing, and a later push that moves
// the tip finds it already sent.
func TestNoticeSentRightAfterTheFetch(t *testing.T) {
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(src, "relgate.yaml")
	data, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "notices:\n  channels:\n    - name: ops\n      kind: webhook\n      urlEnv: HOOK\n      events: [deployment-confirmed]\n"...)
	if err := os.WriteFile(pol, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, logs: &syncBuffer{}, work: gitrepotest.New(t)}
	if err := gen.Replay(src, e.work.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	// The commit that records the deployment; the remote's main starts
	// just before it.
	recorded := strings.Fields(e.work.GitCLI("log", "--format=%H", "--diff-filter=A", "main", "--", "releases/REL-2026-0042/deployment.yaml"))
	if len(recorded) != 1 {
		t.Fatalf("commits adding the deployment record: %v", recorded)
	}
	before := strings.TrimSpace(e.work.GitCLI("rev-parse", recorded[0]+"^"))
	e.remote = filepath.Join(t.TempDir(), "releases.git")
	if _, err := git.PlainInit(e.remote, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.work.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{e.remote}}); err != nil {
		t.Fatal(err)
	}
	e.push(before + ":refs/heads/main")

	var mu sync.Mutex
	var got []notify.WebhookPayload
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.WebhookPayload
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, p)
	}))
	defer hook.Close()
	received := func() []notify.WebhookPayload {
		mu.Lock()
		defer mu.Unlock()
		return append([]notify.WebhookPayload(nil), got...)
	}

	led, err := notify.NewFileLedger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 16, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)) // the day after the rollback
	cfg := Config{Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Secret: testSecret,
		Remote: e.remote, MirrorDir: filepath.Join(t.TempDir(), "mirror"), Branch: "main", Writer: &fakeWriter{}, DisableSchedule: true,
		ShutdownGrace: 5 * time.Second, Clock: func() time.Time { return now }, Metrics: NewMetrics(),
		Notices: &NoticeConfig{Ledger: led, Every: time.Hour, Getenv: func(k string) string {
			if k == "HOOK" {
				return hook.URL + "/ops"
			}
			return ""
		}}}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.url = srv, "http://"+ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(e.stop)

	// rounds are the decisions the notice job made, by the tip it decided at.
	rounds := func() []string {
		var out []string
		for _, l := range strings.Split(e.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "notices decided" {
				tip, _ := m["tip"].(string)
				out = append(out, tip)
			}
		}
		return out
	}
	e.eventually("the first round", func() bool { return len(rounds()) == 1 })
	if r := rounds(); r[0] != before {
		t.Fatalf("the first round decided at %s, want %s", r[0], before)
	}
	if n := len(received()); n != 0 {
		t.Fatalf("%d notices before the deployment is recorded", n)
	}

	e.push("refs/heads/main:refs/heads/main")
	if code := e.deliver("push", pushEvent(t, "refs/heads/main")); code != http.StatusAccepted {
		t.Fatalf("push webhook: %d", code)
	}
	e.eventually("the deployment-confirmed notice", func() bool { return len(received()) > 0 })
	e.settle()
	tip := strings.TrimSpace(e.work.GitCLI("rev-parse", "main"))
	if r := rounds(); len(r) != 2 || r[1] != tip {
		t.Errorf("rounds at %v; want the first, then one at the pushed tip %s", r, tip)
	}
	if g := received(); len(g) != 1 || g[0].Event != "deployment-confirmed" || !strings.Contains(g[0].Key, "REL-2026-0042") {
		t.Errorf("received %+v; want REL-2026-0042's deployment-confirmed once", g)
	}

	// A push webhook that brings nothing new: no decision.
	if code := e.deliver("push", pushEvent(t, "refs/heads/main")); code != http.StatusAccepted {
		t.Fatalf("push webhook: %d", code)
	}
	e.settle()
	// A push that moves the tip: decided again, found sent.
	e.work.Write("README.md", e.work.Read("README.md")+"\n")
	e.work.Commit("readme", who("zhangwei"))
	e.push("refs/heads/main:refs/heads/main")
	if code := e.deliver("push", pushEvent(t, "refs/heads/main")); code != http.StatusAccepted {
		t.Fatalf("push webhook: %d", code)
	}
	e.eventually("a round at the new tip", func() bool { return len(rounds()) == 3 })
	e.settle()
	if r := rounds(); len(r) != 3 || r[2] != strings.TrimSpace(e.work.GitCLI("rev-parse", "main")) {
		t.Errorf("rounds at %v; want one more, at the new tip only", r)
	}
	if g := received(); len(g) != 1 {
		t.Errorf("received %d notices, want the one", len(g))
	}
}
