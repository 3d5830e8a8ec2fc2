package server

import (
	"context"
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
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/notify"
)

// TestNoticesSentOnceAcrossRestart: with a webhook channel on
// loopback, the server sends the approval-missing reminder of
// REL-2026-0043 once; a new server on the same ledger does not send it
// again.
func TestNoticesSentOnceAcrossRestart(t *testing.T) {
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(src, "relgate.yaml")
	data, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "notices:\n  channels:\n    - name: ops\n      kind: webhook\n      urlEnv: HOOK\n      events: [approval-missing]\n"...)
	if err := os.WriteFile(pol, data, 0o644); err != nil {
		t.Fatal(err)
	}
	work := gitrepotest.New(t)
	if err := gen.Replay(src, work.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	remote := filepath.Join(t.TempDir(), "releases.git")
	if _, err := git.PlainInit(remote, true); err != nil {
		t.Fatal(err)
	}
	if _, err := work.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}}); err != nil {
		t.Fatal(err)
	}
	work.GitCLI("push", "origin", "main:main")

	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.URL.Path)
	}))
	defer hook.Close()
	received := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	ledgerDir := t.TempDir()
	now := time.Date(2026, 11, 20, 10, 31, 0, 0, time.UTC) // 25 hours after the plan's last change

	serve := func(name string) (*Metrics, func()) {
		led, err := notify.NewFileLedger(ledgerDir)
		if err != nil {
			t.Fatal(err)
		}
		m := NewMetrics()
		cfg := Config{Logger: slog.New(slog.NewTextHandler(ioDiscard{}, nil)), Secret: testSecret, Remote: remote,
			MirrorDir: filepath.Join(t.TempDir(), name), Branch: "main", Writer: &fakeWriter{}, DisableSchedule: true,
			ShutdownGrace: 5 * time.Second, Clock: func() time.Time { return now }, Metrics: m,
			Notices: &NoticeConfig{Ledger: led, Every: 10 * time.Millisecond,
				Getenv: func(k string) string {
					if k == "HOOK" {
						return hook.URL + "/" + name
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
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, ln) }()
		return m, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
	}
	count := func(m *Metrics, result string) float64 {
		c := noticeCounter(m)
		if c == nil {
			return 0
		}
		return testutil.ToFloat64(c.WithLabelValues("approval-missing", "ops", result))
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}

	m1, stop1 := serve("first")
	waitFor("the reminder", func() bool { return count(m1, "sent") == 1 && count(m1, "already-sent") >= 1 })
	stop1()
	if n := received(); n != 1 {
		t.Fatalf("the receiver got %d notices, want 1", n)
	}
	m2, stop2 := serve("second")
	waitFor("a round of the new server", func() bool { return count(m2, "already-sent") >= 1 })
	stop2()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.HasSuffix(got[0], "/first") || count(m2, "sent") != 0 {
		t.Errorf("after a restart: received %v, the new server sent %v", got, count(m2, "sent"))
	}
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }
