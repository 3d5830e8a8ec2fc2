package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/relgate/relgate/controller/document"
)

func webhookChannel(t *testing.T, r *receiver, name string) Channel {
	t.Helper()
	ch, err := NewChannel(document.NoticeChannel{Name: name, Kind: "webhook", URLEnv: "U"},
		env(map[string]string{"U": r.srv.URL + "/hook?token=tok-" + name}), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func ledger(t *testing.T, dir string, clock *fakeClock) *FileLedger {
	t.Helper()
	l, err := NewFileLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		l.Now = clock.Now
	}
	return l
}

func messages(n int, channels ...string) []Message {
	var out []Message
	for i := range n {
		for _, c := range channels {
			m := testMessage(c)
			m.Key = fmt.Sprintf("window-starting/REL-2025-%03d", i)
			out = append(out, m)
		}
	}
	return out
}

func statuses(r Report) map[Status]int {
	out := map[Status]int{}
	for _, o := range r.Outcomes {
		out[o.Status]++
	}
	return out
}

// Each message reaches each channel once; a second run (and a restart on
// the same ledger directory) sends nothing again.
func TestSenderOncePerChannelAcrossRestart(t *testing.T) {
	clock := newFakeClock()
	a, b := newReceiver(t, clock), newReceiver(t, clock)
	dir := t.TempDir()
	newSender := func() *Sender {
		return &Sender{Channels: map[string]Channel{"a": webhookChannel(t, a, "a"), "b": webhookChannel(t, b, "b")},
			Ledger: ledger(t, dir, clock), Now: clock.Now, Sleep: clock.Sleep}
	}
	msgs := append(messages(5, "a", "b"), testMessage("not-configured"))
	rep := newSender().Send(context.Background(), msgs)
	if d := cmp.Diff(map[Status]int{StatusSent: 10, StatusSkipped: 1}, statuses(rep)); d != "" {
		t.Fatalf("first run (-want +got):\n%s", d)
	}
	if rep.Outcomes[10].Reason == nil || !strings.Contains(rep.Outcomes[10].Reason.Zh, "未在") {
		t.Errorf("skipped outcome %+v does not say why in Chinese", rep.Outcomes[10])
	}
	for _, s := range []*Sender{newSender(), newSender()} { // a second run, then a restart
		rep = s.Send(context.Background(), msgs)
		if d := cmp.Diff(map[Status]int{StatusAlreadySent: 10, StatusSkipped: 1}, statuses(rep)); d != "" {
			t.Fatalf("later run (-want +got):\n%s", d)
		}
	}
	for name, r := range map[string]*receiver{"a": a, "b": b} {
		for k, n := range r.webhookKeys(t) {
			if n != 1 {
				t.Errorf("channel %s got %s %d times", name, k, n)
			}
		}
		if len(r.webhookKeys(t)) != 5 {
			t.Errorf("channel %s got %d keys, want 5", name, len(r.webhookKeys(t)))
		}
	}
}

func TestSenderRetries(t *testing.T) {
	tests := []struct {
		name         string
		replies      []reply
		wantStatus   Status
		wantAttempts int
		wantSleeps   int
		nextRunSends bool // the claim was given back
	}{
		{"fails twice then succeeds: retried, delivered once", []reply{{500, ""}, {503, ""}, {200, ""}}, StatusSent, 3, 2, false},
		{"always fails: tried 4 times, then given back", []reply{{500, ""}}, StatusFailed, 4, 3, true},
		{"permanent (400): not retried, given back", []reply{{400, "bad"}}, StatusFailed, 1, 0, true},
		{"429: waits and retries", []reply{{429, ""}, {200, ""}}, StatusSent, 2, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			r := newReceiver(t, clock, tt.replies...)
			l := ledger(t, t.TempDir(), clock)
			s := &Sender{Channels: map[string]Channel{"a": webhookChannel(t, r, "a")}, Ledger: l, Now: clock.Now, Sleep: clock.Sleep}
			rep := s.Send(context.Background(), messages(1, "a"))
			o := rep.Outcomes[0]
			if o.Status != tt.wantStatus || o.Attempts != tt.wantAttempts {
				t.Fatalf("outcome %+v, want %s after %d attempts", o, tt.wantStatus, tt.wantAttempts)
			}
			if len(r.requests()) != tt.wantAttempts {
				t.Errorf("receiver got %d requests", len(r.requests()))
			}
			sleeps := clock.Sleeps()
			if len(sleeps) != tt.wantSleeps {
				t.Fatalf("slept %v, want %d waits", sleeps, tt.wantSleeps)
			}
			for i, d := range sleeps {
				base := DefaultBackoff[i]
				if d < base/2 || d > base*3/2 {
					t.Errorf("wait %d is %v, want within jitter of %v", i, d, base)
				}
			}
			if tt.wantStatus == StatusFailed && (o.Reason == nil || o.Reason.En == "" || o.Reason.Zh == "") {
				t.Errorf("failed outcome without a reason in both languages: %+v", o)
			}
			ok, err := l.Claim(context.Background(), o.Key+"/a", time.Minute)
			if err != nil || ok != tt.nextRunSends {
				t.Errorf("a later claim: %v, %v; want %v", ok, err, tt.nextRunSends)
			}
		})
	}
}

// Two Senders (two replicas) sharing the ledger directory send each
// message once.
func TestSenderTwoReplicasSendOnce(t *testing.T) {
	r := newReceiver(t, nil)
	dir := t.TempDir()
	msgs := messages(40, "a")
	var wg sync.WaitGroup
	reps := make([]Report, 2)
	for i := range reps {
		s := &Sender{Channels: map[string]Channel{"a": webhookChannel(t, r, "a")}, Ledger: ledger(t, dir, nil), PerMinute: 600}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i] = s.Send(context.Background(), msgs)
		}()
	}
	wg.Wait()
	if sent := reps[0].Count(StatusSent) + reps[1].Count(StatusSent); sent != 40 {
		t.Errorf("sent %d in all, want 40 (%v, %v)", sent, statuses(reps[0]), statuses(reps[1]))
	}
	keys := r.webhookKeys(t)
	if len(keys) != 40 {
		t.Errorf("receiver got %d keys, want 40", len(keys))
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}

// At most PerMinute messages go to one channel in any minute, counted on
// a fake clock; the first PerMinute go at once.
func TestSenderRateLimit(t *testing.T) {
	clock := newFakeClock()
	r := newReceiver(t, clock)
	other := newReceiver(t, clock)
	s := &Sender{Channels: map[string]Channel{"a": webhookChannel(t, r, "a"), "b": webhookChannel(t, other, "b")},
		Ledger: ledger(t, t.TempDir(), clock), PerMinute: 20, Now: clock.Now, Sleep: clock.Sleep}
	start := clock.Now()
	rep := s.Send(context.Background(), messages(50, "a"))
	if rep.Count(StatusSent) != 50 {
		t.Fatalf("sent %d of 50", rep.Count(StatusSent))
	}
	got := r.requests()
	for i := range got {
		if i < 20 && !got[i].At.Equal(start) {
			t.Errorf("message %d waited (at %v): the first 20 go at once", i, got[i].At.Sub(start))
		}
		if i >= 20 && got[i].At.Sub(got[i-20].At) < time.Minute {
			t.Errorf("messages %d and %d are %v apart: 21 in a minute", i-20, i, got[i].At.Sub(got[i-20].At))
		}
	}
	// A robot's own rate limit (WeCom 45009) waits a minute and retries.
	clock2 := newFakeClock()
	wr := newReceiver(t, clock2, reply{200, `{"errcode":45009,"errmsg":"api freq out of limit"}`}, reply{200, `{"errcode":0,"errmsg":"ok"}`})
	wc, err := NewChannel(document.NoticeChannel{Name: "w", Kind: "wecom", URLEnv: "U"}, env(map[string]string{"U": wr.srv.URL + "/send?key=k"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s2 := &Sender{Channels: map[string]Channel{"w": wc}, Ledger: ledger(t, t.TempDir(), clock2), Now: clock2.Now, Sleep: clock2.Sleep}
	if o := s2.Send(context.Background(), messages(1, "w")).Outcomes[0]; o.Status != StatusSent || o.Attempts != 2 {
		t.Errorf("after 45009: %+v", o)
	}
	if sl := clock2.Sleeps(); len(sl) != 1 || sl[0] < time.Minute {
		t.Errorf("waits %v, want one of at least a minute", sl)
	}
}

// Secrets (robot keys in URLs, signing secrets, passwords) never appear in
// a report or a log, even when the receiver echoes them back.
func TestSenderSecretsNeverShown(t *testing.T) {
	const (
		wecomKey   = "wk-5b0e4c2a-SECRET"
		dingToken  = "dt-91aa7c-SECRET"
		dingSecret = "SECd9f0a1b2c3-SECRET"
	)
	clock := newFakeClock()
	echo := httptest.NewServer(echoHandler{})
	defer echo.Close()
	closed := newReceiver(t, clock)
	closedURL := closed.srv.URL
	closed.srv.Close()
	mk := func(kind, rawURL, secret string) Channel {
		ch, err := NewChannel(document.NoticeChannel{Name: kind, Kind: kind, URLEnv: "U", SecretEnv: map[bool]string{true: "S"}[secret != ""]},
			env(map[string]string{"U": rawURL, "S": secret}), Options{Now: clock.Now, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	var logs bytes.Buffer
	s := &Sender{Channels: map[string]Channel{
		"wecom":    mk("wecom", echo.URL+"/cgi-bin/webhook/send?key="+wecomKey, ""),
		"dingtalk": mk("dingtalk", closedURL+"/robot/send?access_token="+dingToken, dingSecret),
	}, Ledger: ledger(t, t.TempDir(), clock), Now: clock.Now, Sleep: clock.Sleep,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	rep := s.Send(context.Background(), messages(1, "wecom", "dingtalk"))
	if rep.Count(StatusFailed) != 2 {
		t.Fatalf("report %+v: want both failed", rep)
	}
	out, _ := json.Marshal(rep)
	for _, secret := range []string{wecomKey, dingToken, dingSecret} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("report shows %s: %s", secret, out)
		}
		if bytes.Contains(logs.Bytes(), []byte(secret)) {
			t.Errorf("log shows %s: %s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"host":"127.0.0.1:`) {
		t.Errorf("log does not name the host: %s", logs.String())
	}
}

// echoHandler answers 400 with the request URL and body, as a careless
// proxy does: the Sender must not repeat the key it carries.
type echoHandler struct{}

func (echoHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(400)
	fmt.Fprintf(w, "bad request to %s (%s)", r.URL.String(), r.URL.RawQuery)
}
