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

// readCounter counts the body bytes Receive read.
type readCounter struct {
	r io.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += k
	return k, err
}

// TestAdversaryHostileDeliveryHeaders (attack: X-GitHub-Delivery and
// X-GitHub-Event are not signed, and the id is remembered; a replayed,
// correctly signed body carries hostile values in them). Each is refused
// with ErrMalformed before a byte of the body is read; GitHub's shapes are
// accepted.
func TestAdversaryHostileDeliveryHeaders(t *testing.T) {
	const guid = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	for _, tc := range []struct {
		name   string
		ids    []string // X-GitHub-Delivery values (none: header absent)
		events []string
		ok     bool
	}{
		{"GitHub's GUID", []string{guid}, []string{"ping"}, true},
		{"64 hex digits", []string{strings.Repeat("f", 64)}, []string{"ping"}, true},
		{"an event relgate does not act on, 64 letters", []string{guid}, []string{strings.Repeat("z", 64)}, true},
		{"an event with underscores", []string{guid}, []string{"pull_request_review_thread"}, true},
		{"attack: an 8 KiB id", []string{strings.Repeat("a", 8<<10)}, []string{"ping"}, false},
		{"attack: a 65-character id", []string{strings.Repeat("a", 65)}, []string{"ping"}, false},
		{"attack: an empty id", []string{""}, []string{"ping"}, false},
		{"attack: no id", nil, []string{"ping"}, false},
		{"attack: two ids", []string{guid, "72d3162e-cc78-11e3-81ab-4c9367dc0959"}, []string{"ping"}, false},
		{"attack: a NUL in the id", []string{guid[:8] + "\x00"}, []string{"ping"}, false},
		{"attack: a tab in the id", []string{guid[:8] + "\t"}, []string{"ping"}, false},
		{"attack: an escape sequence in the id", []string{"\x1b[2J" + guid[:8]}, []string{"ping"}, false},
		{"attack: non-ASCII bytes in the id", []string{"\xff\xfe" + guid[:8]}, []string{"ping"}, false},
		{"attack: a 65-letter event", []string{guid}, []string{strings.Repeat("z", 65)}, false},
		{"attack: an 8 KiB event", []string{guid}, []string{strings.Repeat("p", 8<<10)}, false},
		{"attack: an empty event", []string{guid}, []string{""}, false},
		{"attack: no event", []string{guid}, nil, false},
		{"attack: two events", []string{guid}, []string{"ping", "push"}, false},
		{"attack: an upper-case event", []string{guid}, []string{"Ping"}, false},
		{"attack: a dashed event", []string{guid}, []string{"pull-request"}, false},
		{"attack: a NUL after the event", []string{guid}, []string{"ping\x00"}, false},
		{"attack: a space in the event", []string{guid}, []string{"ping push"}, false},
		{"attack: a non-ASCII letter in the event", []string{guid}, []string{"pıng"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := mustReceiver(t)
			body := payload(t, "ping.json")
			rd := &readCounter{r: bytes.NewReader(body)}
			req := httptest.NewRequest(http.MethodPost, "/webhook", rd)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
			for _, v := range tc.ids {
				req.Header.Add("X-GitHub-Delivery", v)
			}
			for _, v := range tc.events {
				req.Header.Add("X-GitHub-Event", v)
			}
			ev, err := rc.Receive(httptest.NewRecorder(), req)
			if tc.ok {
				if err != nil || ev == nil || ev.Delivery != tc.ids[0] || ev.Kind != tc.events[0] {
					t.Errorf("refused: %v (event %+v)", err, ev)
				}
				return
			}
			if !errors.Is(err, webhook.ErrMalformed) {
				t.Errorf("err %v, want %v", err, webhook.ErrMalformed)
			}
			if rd.n > 0 {
				t.Errorf("read %d bytes of the body before refusing its headers", rd.n)
			}
			if err != nil && len(err.Error()) > 200 {
				t.Errorf("the error echoes the sender's header: %d bytes", len(err.Error()))
			}
		})
	}
}

// TestAdversaryDedupeRing (attack: replays under new ids, redeliveries
// after Forget, and evictions that take a re-added key with them). Each
// step is a delivery (id, signature) or a Forget, against a ring of 2.
func TestAdversaryDedupeRing(t *testing.T) {
	d := webhook.NewDedupe(2)
	for i, st := range []struct {
		why     string
		id, sig string
		forget  bool
		first   bool
	}{
		{why: "a delivery", id: "a", sig: "s1", first: true},
		{why: "GitHub's redelivery: same id, same body", id: "a", sig: "s1", first: false},
		{why: "a replay of a's body under a new id", id: "x", sig: "s1", first: false},
		{why: "a's id with another body", id: "a", sig: "s9", first: false},
		{why: "the replay recorded nothing: x is still new", id: "x", sig: "s2", first: true},
		{why: "c evicts a and its signature", id: "c", sig: "s3", first: true},
		{why: "a's signature is no longer remembered", id: "y", sig: "s1", first: true},
		{why: "v evicts c", id: "v", sig: "s4", first: true},
		{why: "the server could not take v", id: "v", forget: true},
		{why: "v's redelivery is accepted, into the other slot", id: "v", sig: "s4", first: true},
		{why: "u takes v's old slot, not v", id: "u", sig: "s5", first: true},
		{why: "a duplicate of v's redelivery", id: "v", sig: "s4", first: false},
		{why: "a replay of v's body", id: "w", sig: "s4", first: false},
		{why: "forgetting an unknown id changes nothing", id: "nope", forget: true},
		{why: "u is still remembered", id: "u", sig: "s6", first: false},
	} {
		if st.forget {
			d.Forget(st.id)
			continue
		}
		if got := d.FirstDelivery(st.id, st.sig); got != st.first {
			t.Errorf("step %d (%s): FirstDelivery(%q, %q) = %v, want %v", i, st.why, st.id, st.sig, got, st.first)
		}
	}
}

// TestAdversaryReplayUnderNewIDAsForm (attack: the replay of issue 11
// through the form-encoded path, and under another event name). The
// signature covers the body as sent, so both are caught.
func TestAdversaryReplayUnderNewIDAsForm(t *testing.T) {
	s := newAdvServer(t, mustReceiver(t))
	body := formBody("payload=" + url.QueryEscape(string(payload(t, "pull_request.opened.json"))))
	const form = "application/x-www-form-urlencoded"
	if _, err := s.send(t, advDelivery{id: "c0ffee00-0000-4000-8000-000000000011", contentType: form, body: body}); err != nil {
		t.Fatalf("the delivery: %v", err)
	}
	for i, event := range []string{webhook.KindPullRequest, webhook.KindPing} {
		id := fmt.Sprintf("c0ffee00-0000-4000-8000-00000000002%d", i)
		if _, err := s.send(t, advDelivery{event: event, id: id, contentType: form, body: body}); !errors.Is(err, webhook.ErrDuplicate) {
			t.Errorf("the replay as %s under a new id: err %v, want %v", event, err, webhook.ErrDuplicate)
		}
	}
}
