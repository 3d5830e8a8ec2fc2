package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/webhook"
)

func TestWebhookSignaturesAndLimits(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := e.openPR(3, "wangfang", addGoLive)
	body := prEvent(t, "opened", 3, head)
	mac := hmac.New(sha1.New, testSecret)
	mac.Write(body)
	sha1Only := "sha1=" + hex.EncodeToString(mac.Sum(nil))
	big := append(append([]byte{}, body[:len(body)-1]...), []byte(`,"pad":"`+strings.Repeat("x", 26<<20)+`"}`)...)
	tests := []struct {
		name string
		id   string
		body []byte
		sig  string
		want int
	}{
		{"attack: no signature", "s1", body, "", http.StatusUnauthorized},
		{"attack: wrong secret", "s2", body, webhook.Sign([]byte("not the secret"), body), http.StatusUnauthorized},
		{"attack: SHA-1 signature only", "s3", body, sha1Only, http.StatusUnauthorized},
		{"attack: signature of another body", "s4", body, webhook.Sign(testSecret, []byte("{}")), http.StatusUnauthorized},
		{"attack: body over 25 MB", "s5", big, webhook.Sign(testSecret, big), http.StatusRequestEntityTooLarge},
		{"attack: valid signature on malformed JSON", "s6", []byte(`{"number":`), webhook.Sign(testSecret, []byte(`{"number":`)), http.StatusBadRequest},
		{"valid", "s7", body, webhook.Sign(testSecret, body), http.StatusAccepted},
		{"duplicate delivery", "s7", body, webhook.Sign(testSecret, body), http.StatusOK},
	}
	for _, tc := range tests {
		if code := e.deliverWith("pull_request", tc.id, tc.body, tc.sig); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
	e.settle()
	// Exactly one evaluation: the rejected deliveries had no effect, the duplicate none either.
	if n := len(e.gh.CheckRuns()); n != 1 {
		t.Errorf("%d check runs, want 1", n)
	}
	m := e.srv.metrics
	for _, c := range []struct {
		result string
		want   float64
	}{{"unauthorized", 4}, {"too-large", 1}, {"malformed", 1}, {"accepted", 1}, {"duplicate", 1}} {
		if got := m.Get(mDeliveries, "event", "pull_request", "result", c.result); got != c.want {
			t.Errorf("deliveries %s = %v, want %v", c.result, got, c.want)
		}
	}
	// Unknown events and pings are acknowledged without work.
	if code := e.deliver("ping", payload(t, "ping.json", nil)); code != 200 {
		t.Errorf("ping: %d", code)
	}
	if code := e.deliver("issues", []byte(`{"action":"opened"}`)); code != 200 {
		t.Errorf("issues: %d", code)
	}
	// An event for another repository is not acted on.
	other := payload(t, "pull_request.opened.json", func(m map[string]any) {
		m["repository"].(map[string]any)["name"] = "elsewhere"
	})
	if code := e.deliver("pull_request", other); code != 200 {
		t.Errorf("other repository: %d", code)
	}
}

// TestReplayedAndShuffledDeliveries: deliveries replayed with new ids and
// delivered out of order lead to the result of the current state, never to
// an older one.
func TestReplayedAndShuffledDeliveries(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head1 := e.openPR(4, "wangfang", addGoLive)
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 4, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head1})
	}
	old := [][2]any{
		{"pull_request", prEvent(t, "opened", 4, head1)},
		{"pull_request_review", reviewEvent(t, 4, "maxiaodong", "approved", head1)},
		{"pull_request_review", reviewEvent(t, 4, "zhangwei", "approved", head1)},
	}
	for _, d := range old {
		e.deliver(d[0].(string), d[1].([]byte))
	}
	if cr := e.checkRun(head1); cr.Conclusion != "success" {
		t.Fatalf("head1: %s", cr.Conclusion)
	}
	// The plan changes: the old approvals go stale.
	head2 := e.pushPR(4, "wangfang", func(r *gitrepotest.Repo) {
		r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 改。")
	})
	events := append(old, [2]any{"pull_request", prEvent(t, "synchronize", 4, head2)})
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 3; round++ {
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		for _, d := range events {
			e.deliver(d[0].(string), d[1].([]byte)) // replayed: new delivery ids, same bodies
		}
	}
	e.settle()
	cr := e.checkRun(head2)
	if cr.Conclusion != "failure" || !strings.Contains(cr.Summary, "stale") {
		t.Errorf("head2 after replays: %s\n%s", cr.Conclusion, cr.Summary)
	}
	for _, c := range e.gh.CheckRuns() {
		if c.HeadSHA == head2 && c.Conclusion == "success" {
			t.Errorf("a replayed event resurrected success on the new head: %+v", c)
		}
	}
}

func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t, envOptions{noGitHub: true})
	get := func(p string) (int, string) {
		resp, err := http.Get(e.url + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz %d", code)
	}
	code, body := get("/api/releases")
	var rep ReleasesReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 {
		t.Fatalf("api/releases %d %v\n%s", code, err, body)
	}
	var ids []string
	for _, r := range rep.Releases {
		ids = append(ids, r.Release)
	}
	if strings.Join(ids, ",") != "REL-2026-0041,REL-2026-0042,REL-2026-0043" || rep.Kind != "ReleasesReport" || len(rep.Warnings) == 0 {
		t.Errorf("api/releases: %v %+v", ids, rep)
	}
	if code, _ := get("/api/releases?release=REL-2099-0001"); code != 404 {
		t.Errorf("unknown release: %d", code)
	}
	// Without GitHub credentials, pull request events are accepted and change nothing.
	e.deliver("pull_request", prEvent(t, "opened", 9, strings.Repeat("a", 40)))
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.settle()
	e.writer.mu.Lock()
	rec := e.writer.reconciles
	e.writer.mu.Unlock()
	if rec != 1 {
		t.Errorf("reconciles after a push: %d", rec)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{"# TYPE relgate_webhook_deliveries_total counter",
		`relgate_webhook_deliveries_total{event="push",result="accepted"} 1`,
		`relgate_writeback_total{op="reconcile",result="ok"} 1`, "relgate_queue_depth 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	if code, _ := get("/webhook"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /webhook: %d", code)
	}
}

func TestRefusesToStartWithoutSecret(t *testing.T) {
	_, err := New(Config{Remote: t.TempDir(), MirrorDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "RELGATE_WEBHOOK_SECRET") {
		t.Errorf("err %v", err)
	}
}

// TestNotReadyUntilFetchedAndStopsPromptly: with the remote unreachable the
// server answers /readyz 503, still verifies webhooks, and stops at once.
func TestNotReadyUntilFetchedAndStopsPromptly(t *testing.T) {
	srv, err := New(Config{Secret: testSecret, Remote: filepath.Join(t.TempDir(), "nowhere.git"), MirrorDir: filepath.Join(t.TempDir(), "m"),
		ShutdownGrace: 10 * time.Second})
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
	url := "http://" + ln.Addr().String()
	var code int
	for i := 0; i < 100; i++ {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable {
		t.Errorf("readyz %d before the mirror fetched, want 503", code)
	}
	resp, err := http.Post(url+"/webhook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: %d", resp.StatusCode)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopping took %s", d)
	}
}
