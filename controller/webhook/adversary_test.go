package webhook_test

// Adversarial deliveries (issue 11): each test is an attack on the
// receiver; it passes when the attack is stopped.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/webhook"
)

// advServer serves a receiver and reports what Receive returned.
type advServer struct {
	*httptest.Server
	mu   sync.Mutex
	errs []error
	byID map[string]result
}

type result struct {
	ev  *webhook.Event
	err error
}

func newAdvServer(t *testing.T, rc *webhook.Receiver) *advServer {
	t.Helper()
	s := &advServer{byID: map[string]result{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := rc.Receive(w, r)
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.byID[r.Header.Get("X-GitHub-Delivery")] = result{ev, err}
		s.mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

type advDelivery struct {
	event, id, contentType, sig string
	body                        []byte
}

// send delivers d and returns what Receive returned for it.
func (s *advServer) send(t *testing.T, d advDelivery) (*webhook.Event, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(d.body))
	if d.contentType != "" {
		req.Header.Set("Content-Type", d.contentType)
	}
	if d.event == "" {
		d.event = webhook.KindPullRequest
	}
	if d.id == "" {
		d.id = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	}
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", d.id)
	if d.sig == "" {
		d.sig = webhook.Sign(secret, d.body)
	}
	req.Header.Set("X-Hub-Signature-256", d.sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byID[d.id]
	return r.ev, r.err
}

func formBody(fields ...string) []byte { return []byte(strings.Join(fields, "&")) }

// TestAdversaryFormSmuggling (attack: make the form decoder and the HMAC
// disagree on which payload counts, or a body read as another format).
// Every body below is signed as sent, so only the decoding can go wrong.
func TestAdversaryFormSmuggling(t *testing.T) {
	pr := payload(t, "pull_request.opened.json")
	other := bytes.ReplaceAll(pr, []byte(`"number": 2`), []byte(`"number": 99`))
	if bytes.Equal(pr, other) {
		t.Fatal("the payload's pull request number is not 2")
	}
	esc := func(b []byte) string { return url.QueryEscape(string(b)) }
	const form = "application/x-www-form-urlencoded"
	s := newAdvServer(t, mustReceiver(t))
	for i, tc := range []struct {
		name, contentType string
		body              []byte
		wantErr           error // nil: accepted, with pr's number (2)
	}{
		{"two payload fields", form, formBody("payload="+esc(pr), "payload="+esc(other)), webhook.ErrMalformed},
		{"a second payload field, escaped", form, formBody("payload="+esc(pr), "p%61yload="+esc(other)), webhook.ErrMalformed},
		{"a second payload field without a value", form, formBody("payload="+esc(pr), "payload"), webhook.ErrMalformed},
		{"a second payload field with a plus-escaped key", form, formBody("payload="+esc(pr), "payload%2B=x", "%70ayload="+esc(other)), webhook.ErrMalformed},
		{"a bad escape in the payload", form, formBody("payload=%7B%zz"), webhook.ErrMalformed},
		{"no payload field", form, formBody("payloads=" + esc(pr)), webhook.ErrMalformed},
		{"a JSON body declared as a form", form, pr, webhook.ErrMalformed},
		{"a form body declared as JSON", "application/json", formBody("payload=" + esc(pr)), webhook.ErrMalformed},
		{"a JSON body with trailing JSON", "application/json", append(append([]byte{}, pr...), other...), webhook.ErrMalformed},
		{"another media type", "text/plain", pr, webhook.ErrMalformed},
		{"two media types", "application/json, application/x-www-form-urlencoded", pr, webhook.ErrMalformed},
		{"one payload among other fields", form + "; charset=utf-8", formBody("a=1", "payload="+esc(pr), "z="+esc(other)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := s.send(t, advDelivery{id: fmt.Sprintf("smuggle-%d", i), contentType: tc.contentType, body: tc.body})
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("err %v, want %v (event %+v)", err, tc.wantErr, ev)
			case tc.wantErr == nil && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr == nil && (ev == nil || ev.PullRequest == nil || ev.PullRequest.Number != 2):
				t.Errorf("event %+v, want pull request 2", ev)
			}
		})
	}
}

func mustReceiver(t *testing.T) *webhook.Receiver {
	t.Helper()
	rc, err := webhook.NewReceiverLimits(secret, 1<<20, 100, webhook.Limits{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestAdversaryOversizedDeliveryID (attack: replay one captured delivery
// under ever new, huge X-GitHub-Delivery ids). The id is not signed, and
// the receiver remembers the last 10000 ids; GitHub's ids are GUIDs, so an
// id of kilobytes is not GitHub's and must not be remembered (10000 ids of
// 60 KiB would be 600 MiB).
func TestAdversaryOversizedDeliveryID(t *testing.T) {
	s := newAdvServer(t, mustReceiver(t))
	body := payload(t, "ping.json")
	id := strings.Repeat("a", 8<<10)
	if _, err := s.send(t, advDelivery{event: webhook.KindPing, id: id, contentType: "application/json", body: body}); !errors.Is(err, webhook.ErrMalformed) {
		t.Errorf("a replayed delivery with an 8 KiB id: err %v, want %v", err, webhook.ErrMalformed)
	}
}

// TestAdversaryDedupeAfterForget (attack: a duplicate of a delivery that
// was refused once and then redelivered). After Forget and a redelivery,
// the id is among the last ones seen and its duplicate must be dropped.
func TestAdversaryDedupeAfterForget(t *testing.T) {
	d := webhook.NewDedupe(2)
	steps := []struct {
		id     string
		forget bool
		first  bool
	}{
		{id: "a", first: true},
		{id: "a", forget: true},
		{id: "a", first: true}, // GitHub's redelivery
		{id: "b", first: true},
		{id: "a", first: false}, // a duplicate of the redelivery: a and b are the last two
	}
	for i, st := range steps {
		if st.forget {
			d.Forget(st.id)
			continue
		}
		if got := d.First(st.id); got != st.first {
			t.Errorf("step %d: First(%q) = %v, want %v", i, st.id, got, st.first)
		}
	}
}

// TestAdversaryHeadersOnlyHoldersDoNotStarveDeliveries (attack: many
// connections that declare a body the size of the pre-authentication
// share, send their headers and then nothing, over and over, so that the
// memory budget is always reserved). A signed delivery that arrives meanwhile
// waits for memory ahead of them and is received.
func TestAdversaryHeadersOnlyHoldersDoNotStarveDeliveries(t *testing.T) {
	const share = 16 << 10
	rc, err := webhook.NewReceiverLimits(secret, share, 100, webhook.Limits{PreAuthMemory: share, MemoryBudget: 4 * share,
		SpoolBudget: 4 * share, SpoolDir: t.TempDir(), MinRate: 1 << 10, RateGrace: 200 * time.Millisecond,
		BodyTimeout: 5 * time.Second, BusyWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := newAdvServer(t, rc)
	addr := strings.TrimPrefix(s.URL, "http://")
	stop := make(chan struct{})
	var holders sync.WaitGroup
	var opened atomic.Int64
	hold := func() {
		defer holders.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				continue
			}
			opened.Add(1)
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: hold\r\nX-Hub-Signature-256: sha256=%s\r\n\r\n",
				share, strings.Repeat("0", 64))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			io.Copy(io.Discard, c) // until the receiver cuts the body and the connection closes
			c.Close()
		}
	}
	// Twice as many holders as the budget has shares.
	for i := 0; i < 8; i++ {
		holders.Add(1)
		go hold()
	}
	defer func() { close(stop); holders.Wait() }()
	for opened.Load() < 16 {
		time.Sleep(10 * time.Millisecond)
	}
	ping := payload(t, "ping.json")
	if len(ping) >= share {
		t.Fatalf("ping is %d bytes, want under %d", len(ping), share)
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("real-%d", i)
		if _, err := s.send(t, advDelivery{event: webhook.KindPing, id: id, contentType: "application/json", body: tagged(ping, id)}); err != nil {
			t.Errorf("delivery %d while the budget was held by unsigned bodies: %v", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := 0
	for _, err := range s.errs {
		if errors.Is(err, webhook.ErrSlow) {
			cut++
		}
	}
	if cut == 0 {
		t.Errorf("no holder was cut: the attack did not run (errors %v)", s.errs)
	}
}

// TestAdversaryReplayUnderNewID (attack: replay a captured delivery — its
// body and signature — under a fresh X-GitHub-Delivery id, which is not
// signed). GitHub's own redeliveries keep the id; two real deliveries never
// have the same body, so a second body with the same signature among the
// remembered ones is a replay.
func TestAdversaryReplayUnderNewID(t *testing.T) {
	s := newAdvServer(t, mustReceiver(t))
	body := payload(t, "pull_request_review.submitted.json")
	if _, err := s.send(t, advDelivery{event: webhook.KindPullRequestReview, id: "c0ffee00-0000-4000-8000-000000000001", contentType: "application/json", body: body}); err != nil {
		t.Fatalf("the delivery: %v", err)
	}
	if _, err := s.send(t, advDelivery{event: webhook.KindPullRequestReview, id: "c0ffee00-0000-4000-8000-000000000002", contentType: "application/json", body: body}); !errors.Is(err, webhook.ErrDuplicate) {
		t.Errorf("the replay under a new id: err %v, want %v", err, webhook.ErrDuplicate)
	}
}
