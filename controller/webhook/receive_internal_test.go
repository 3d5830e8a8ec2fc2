package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testKey = []byte("It's a Secret to Everybody")

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func formOf(json []byte) []byte { return []byte(url.Values{"payload": {string(json)}}.Encode()) }

// chunkReader serves its bytes n at a time, as a network would.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

type delivery struct {
	event, contentType, sig string
	body                    []byte
	chunk                   int
	unknownLength           bool
}

var deliverySeq int

func (r *Receiver) deliver(d delivery) (*Event, error) {
	deliverySeq++
	req := httptest.NewRequest(http.MethodPost, "/webhook", &chunkReader{b: d.body, n: max(d.chunk, 1<<20)})
	req.ContentLength = int64(len(d.body))
	if d.unknownLength {
		req.ContentLength = -1
	}
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("d-%d", deliverySeq))
	req.Header.Set("X-Hub-Signature-256", d.sig)
	if d.contentType != "" {
		req.Header.Set("Content-Type", d.contentType)
	}
	return r.Receive(httptest.NewRecorder(), req)
}

// checkReleased fails if a delivery left bytes reserved or a spool file behind.
func checkReleased(t *testing.T, r *Receiver) {
	t.Helper()
	if m, s := r.mem.available(), r.spool.available(); m != r.lim.MemoryBudget || s != r.lim.SpoolBudget {
		t.Errorf("budgets not given back: memory %d of %d free, spool %d of %d", m, r.lim.MemoryBudget, s, r.lim.SpoolBudget)
	}
	if es, _ := os.ReadDir(r.lim.SpoolDir); len(es) > 0 {
		t.Errorf("%d spool files left in %s", len(es), r.lim.SpoolDir)
	}
}

func smallLimits(t testing.TB) Limits {
	return Limits{PreAuthMemory: 1 << 10, MemoryBudget: 1, SpoolBudget: 1, SpoolDir: t.TempDir(),
		MinRate: 1, RateGrace: time.Minute, BodyTimeout: time.Minute, BusyWait: 50 * time.Millisecond}
}

// TestReceiveFormsAndSpool: every real payload, JSON and form-encoded
// (GitHub's default for a repository webhook), small enough for memory or
// spooled, read at once or a byte at a time, gives the same event; the HMAC
// is over the body as sent.
func TestReceiveFormsAndSpool(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		name := filepath.Base(f)
		event, _, _ := strings.Cut(name, ".")
		js := readPayload(t, name)
		want, err := Parse(event, js)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			how  string
			d    delivery
			lim  Limits
			held bool
		}{
			{"JSON in memory", delivery{contentType: "application/json", body: js}, Limits{SpoolDir: t.TempDir()}, false},
			{"JSON without Content-Type, unknown length, 1-byte reads", delivery{body: js, chunk: 1, unknownLength: true}, Limits{SpoolDir: t.TempDir()}, false},
			{"form in memory", delivery{contentType: "application/x-www-form-urlencoded", body: formOf(js)}, Limits{SpoolDir: t.TempDir()}, false},
			{"form spooled (over the pre-auth share)", delivery{contentType: "application/x-www-form-urlencoded; charset=utf-8", body: formOf(js), chunk: 700}, smallLimits(t), true},
			{"JSON spooled, unknown length", delivery{body: js, chunk: 333, unknownLength: true}, smallLimits(t), true},
		} {
			t.Run(name+"/"+tc.how, func(t *testing.T) {
				r, err := NewReceiverLimits(testKey, 0, 10, tc.lim)
				if err != nil {
					t.Fatal(err)
				}
				tc.d.event, tc.d.sig = event, Sign(testKey, tc.d.body)
				ev, err := r.deliver(tc.d)
				if err != nil {
					t.Fatal(err)
				}
				if sp := r.spooled.Load(); tc.held != (sp > 0) {
					t.Errorf("%d bodies spooled, want spooling %v", sp, tc.held)
				}
				ev.Delivery = ""
				if d := cmp.Diff(want, ev); d != "" {
					t.Errorf("(-JSON +this way):\n%s", d)
				}
				checkReleased(t, r)
				// The same body with the signature of its JSON (not of the form as sent) is refused.
				tc.d.sig = Sign(testKey, append(append([]byte{}, tc.d.body...), ' '))
				if _, err := r.deliver(tc.d); !errors.Is(err, ErrBadSignature) {
					t.Errorf("wrong signature: %v, want ErrBadSignature", err)
				}
				checkReleased(t, r)
			})
		}
	}
}

// pingOf is a ping payload of exactly n bytes.
func pingOf(n int) []byte {
	const head, tail = `{"zen":"`, `"}`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

func TestReceiveRefusals(t *testing.T) {
	js := readPayload(t, "ping.json")
	big := bytes.Repeat([]byte("x"), 4<<10)
	tests := []struct {
		name string
		lim  Limits
		d    delivery
		want error
		// tinySpool leaves the spool 1 byte (the configured budget is raised to the body cap).
		tinySpool bool
	}{
		{"attack: unsupported Content-Type", Limits{}, delivery{contentType: "text/xml", body: js}, ErrMalformed, false},
		{"attack: unparsable Content-Type", Limits{}, delivery{contentType: "application/json; =;", body: js}, ErrMalformed, false},
		{"form without a payload field", Limits{}, delivery{contentType: "application/x-www-form-urlencoded", body: []byte("other=1")}, ErrMalformed, false},
		{"attack: form with two payload fields", Limits{}, delivery{contentType: "application/x-www-form-urlencoded", body: []byte("payload=%7B%7D&payload=%7B%7D")}, ErrMalformed, false},
		{"attack: form with a broken escape", Limits{}, delivery{contentType: "application/x-www-form-urlencoded", body: []byte("payload=%7")}, ErrMalformed, false},
		{"attack: spool full (length known: refused before reading)", Limits{PreAuthMemory: 1 << 10}, delivery{body: big}, ErrBusy, true},
		{"attack: spool full (length unknown: refused as it arrives)", Limits{PreAuthMemory: 1 << 10}, delivery{body: big, unknownLength: true}, ErrBusy, true},
		{"body of exactly the cap", Limits{PreAuthMemory: 1 << 10}, delivery{body: pingOf(64 << 10)}, nil, false},
		{"attack: body one byte over the cap", Limits{}, delivery{body: pingOf(64<<10 + 1)}, ErrTooLarge, false},
		{"attack: body over the cap, length unknown", Limits{}, delivery{body: make([]byte, 70<<10), unknownLength: true}, ErrTooLarge, false},
		{"attack: bad signature on a spooled body", Limits{PreAuthMemory: 1 << 10}, delivery{body: big}, ErrBadSignature, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.lim.SpoolDir = t.TempDir()
			r, err := NewReceiverLimits(testKey, 64<<10, 10, tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			if tc.tinySpool {
				r.spool = newBudget(1)
				r.lim.SpoolBudget = 1
			}
			tc.d.event = "ping"
			if tc.d.sig = Sign(testKey, tc.d.body); tc.want == ErrBadSignature {
				tc.d.sig = "sha256=" + strings.Repeat("0", 64)
			}
			if _, err := r.deliver(tc.d); !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
			checkReleased(t, r)
		})
	}
}

// slowReader gives one byte per tick.
type slowReader struct {
	left int
	tick time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.tick)
	p[0] = ' '
	s.left--
	return 1, nil
}

// TestReceiveCutsSlowBody: a body under the rate floor after the grace is
// cut, even where the connection takes no deadline (checked after each read).
func TestReceiveCutsSlowBody(t *testing.T) {
	r, err := NewReceiverLimits(testKey, 0, 10, Limits{MinRate: 1 << 20, RateGrace: 20 * time.Millisecond, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhook", &slowReader{left: 1000, tick: time.Millisecond})
	req.ContentLength = 1000
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", "slow")
	req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	if _, err := r.Receive(httptest.NewRecorder(), req); !errors.Is(err, ErrSlow) {
		t.Errorf("err %v, want ErrSlow", err)
	}
	checkReleased(t, r)
}

func TestFormPayload(t *testing.T) {
	tests := []struct {
		name, body, want string
		err              bool
	}{
		{"GitHub's form", "payload=%7B%22zen%22%3A%22a+b%22%7D", `{"zen":"a b"}`, false},
		{"field order and other fields", "x=1&payload=%7B%7D&y", `{}`, false},
		{"escaped field name", "p%61yload=1", "1", false},
		{"empty payload", "payload=", "", false},
		{"no payload", "payloads=1&x=payload", "", true},
		{"attack: two payloads", "payload=1&payload=2", "", true},
		{"attack: two payloads, one escaped", "payload=1&%70ayload=2", "", true},
		{"broken escape", "payload=%zz", "", true},
		{"truncated escape", "payload=%4", "", true},
		{"empty body", "", "", true},
	}
	for _, tc := range tests {
		got, err := FormPayload([]byte(tc.body))
		if (err != nil) != tc.err || (err == nil && string(got) != tc.want) {
			t.Errorf("%s: %q, %v; want %q (error %v)", tc.name, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v is not ErrMalformed", tc.name, err)
		}
	}
}

// FuzzFormPayload checks FormPayload against net/url on every form both read.
func FuzzFormPayload(f *testing.F) {
	f.Add([]byte("payload=%7B%7D"))
	f.Add(formOf(readPayload(f, "push.json")))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := FormPayload(body)
		if err == nil && len(got) > len(body) {
			t.Fatalf("payload of %d bytes from a body of %d", len(got), len(body))
		}
		if bytes.Count(body, []byte("&")) > 1000 {
			return // net/url caps the number of fields
		}
		v, uerr := url.ParseQuery(string(body))
		if uerr != nil {
			return // net/url refuses some forms (a ';') that FormPayload reads
		}
		switch ps := v["payload"]; {
		case len(ps) == 1 && (err != nil || string(got) != ps[0]):
			t.Fatalf("FormPayload = %q, %v; net/url reads %q", got, err, ps[0])
		case len(ps) != 1 && err == nil:
			t.Fatalf("FormPayload = %q; net/url reads %d payload fields", got, len(ps))
		}
	})
}

// FuzzReceive drives the whole receive path: headers, JSON or form bodies,
// in memory or spooled, in chunks of any size, with a valid or a wrong
// signature. A wrong signature never yields an event, a right one never
// ErrBadSignature, and nothing stays reserved afterwards.
func FuzzReceive(f *testing.F) {
	for _, n := range []string{"pull_request.opened.json", "push.json", "ping.json", "check_run.rerequested.json"} {
		event, _, _ := strings.Cut(n, ".")
		js := readPayload(f, n)
		f.Add(event, "application/json", js, uint8(0), uint16(1000))
		f.Add(event, "application/x-www-form-urlencoded", formOf(js), uint8(0), uint16(7))
		f.Add(event, "", js, uint8(1), uint16(0))
	}
	lim := Limits{PreAuthMemory: 512, SpoolDir: f.TempDir()}
	r, err := NewReceiverLimits(testKey, 256<<10, 100, lim)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event, contentType string, body []byte, mode uint8, chunk uint16) {
		d := delivery{event: event, contentType: contentType, body: body, chunk: int(chunk) + 1, unknownLength: mode&4 != 0}
		valid := mode&3 == 0
		switch mode & 3 {
		case 0:
			d.sig = Sign(testKey, body)
		case 1:
			d.sig = Sign([]byte("guess"), body)
		case 2:
			d.sig = "sha256=" + strings.Repeat("0", 64)
		default:
			d.sig = string(body[:min(len(body), 71)])
		}
		ev, err := r.deliver(d)
		if !valid && err == nil && Verify(testKey, body, d.sig) != nil {
			t.Fatalf("event %+v from a wrong signature", ev)
		}
		if valid && errors.Is(err, ErrBadSignature) {
			t.Fatal("a valid signature was refused")
		}
		if err == nil && ev == nil {
			t.Fatal("no event and no error")
		}
		if m, s := r.mem.available(), r.spool.available(); m != r.lim.MemoryBudget || s != r.lim.SpoolBudget {
			t.Fatalf("budgets not given back: memory %d of %d, spool %d of %d", m, r.lim.MemoryBudget, s, r.lim.SpoolBudget)
		}
	})
}

// FuzzCheckHeaders: any delivery id and event name is refused or is
// GitHub's shape, and never panics.
func FuzzCheckHeaders(f *testing.F) {
	f.Add("72d3162e-cc78-11e3-81ab-4c9367dc0958", "pull_request")
	f.Add(strings.Repeat("a", 65), "ping")
	f.Add("x", "Ping\x00")
	f.Fuzz(func(t *testing.T, id, event string) {
		h := http.Header{}
		h.Set("X-GitHub-Delivery", id)
		h.Set("X-GitHub-Event", event)
		if err := checkHeaders(h); err == nil && (id == "" || len(id) > maxDeliveryID || event == "" || len(event) > maxEventName ||
			strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r > 0x7e }) ||
			strings.ContainsFunc(event, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' })) {
			t.Fatalf("accepted id %q, event %q", id, event)
		} else if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("err %v, want ErrMalformed", err)
		}
	})
}

// FuzzDedupe checks the ring against a model: a key is remembered iff it
// was recorded by one of the last n recordings and not forgotten since.
// Each op byte: low 2 bits pick First/Forget, the rest pick id and sig.
func FuzzDedupe(f *testing.F) {
	f.Add(uint8(2), []byte{0x00, 0x01, 0x00, 0x11, 0x21, 0x04})
	f.Fuzz(func(t *testing.T, n uint8, ops []byte) {
		size := int(n%5) + 1
		d := NewDedupe(size)
		type rec struct {
			id, sig   string
			forgotten bool
		}
		var log []rec // every recording, oldest first
		remembered := func(match func(rec) bool) bool {
			for _, r := range log[max(0, len(log)-size):] {
				if !r.forgotten && match(r) {
					return true
				}
			}
			return false
		}
		for i, op := range ops {
			id, sig := string(rune('a'+op>>2&7)), string(rune('p'+op>>5))
			if op&3 == 3 {
				d.Forget(id)
				for j := max(0, len(log)-size); j < len(log); j++ {
					if log[j].id == id {
						log[j].forgotten = true
					}
				}
				continue
			}
			want := !remembered(func(r rec) bool { return r.id == id || r.sig == sig })
			if got := d.FirstDelivery(id, sig); got != want {
				t.Fatalf("op %d: FirstDelivery(%q, %q) = %v, want %v (ring of %d, log %+v)", i, id, sig, got, want, size, log)
			}
			if want {
				log = append(log, rec{id: id, sig: sig})
			}
			if len(d.ids) > size || len(d.sigs) > size {
				t.Fatalf("op %d: %d ids and %d signatures held by a ring of %d", i, len(d.ids), len(d.sigs), size)
			}
		}
	})
}
