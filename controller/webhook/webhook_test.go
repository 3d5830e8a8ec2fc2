package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/webhook"
)

var secret = []byte("It's a Secret to Everybody")

func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tagged returns a JSON payload with a field that tells it from other
// deliveries of the same event: distinct events have distinct bodies, and
// the receiver takes a body it has seen under another id for a replay.
func tagged(body []byte, tag string) []byte {
	return bytes.Replace(body, []byte("{"), []byte(`{"relgate_test": "`+tag+`",`), 1)
}

// TestVerifyGitHubsExample checks against the example in GitHub's
// "Validating webhook deliveries" documentation.
func TestVerifyGitHubsExample(t *testing.T) {
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := webhook.Sign(secret, []byte("Hello, World!")); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if err := webhook.Verify(secret, []byte("Hello, World!"), want); err != nil {
		t.Error(err)
	}
}

func TestParseRealPayloads(t *testing.T) {
	tests := []struct {
		file, event string
		want        webhook.Event
		acts        bool
	}{
		{"pull_request.opened.json", "pull_request", webhook.Event{Kind: "pull_request", Action: "opened", Sender: "Codertocat",
			Repo:        webhook.Repository{Owner: "Codertocat", Name: "Hello-World", DefaultBranch: "master", CloneURL: "https://github.com/Codertocat/Hello-World.git"},
			PullRequest: &webhook.PullRequest{Number: 2, State: "open", HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", BaseRef: "master", Author: "Codertocat"}}, true},
		{"pull_request_review.submitted.json", "pull_request_review", webhook.Event{Kind: "pull_request_review", Action: "submitted", Sender: "Codertocat",
			Repo:        webhook.Repository{Owner: "Codertocat", Name: "Hello-World", DefaultBranch: "master", CloneURL: "https://github.com/Codertocat/Hello-World.git"},
			PullRequest: &webhook.PullRequest{Number: 2, State: "open", HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", BaseRef: "master", Author: "Codertocat"},
			Review: &webhook.Review{ID: 237895671, Login: "Codertocat", State: "COMMENTED", CommitID: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
				At: time.Date(2019, 5, 15, 15, 20, 38, 0, time.UTC)}}, true},
		{"push.json", "push", webhook.Event{Kind: "push", Sender: "Codertocat", Installation: 1,
			Repo: webhook.Repository{Owner: "Codertocat", Name: "Hello-World", DefaultBranch: "master", CloneURL: "https://github.com/Codertocat/Hello-World.git"},
			Push: &webhook.Push{Ref: "refs/heads/master", Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", After: "0000000000000000000000000000000000000000"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ev, err := webhook.Parse(tc.event, payload(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.Push != nil {
				tc.want.Push = ev.Push // before/after vary between examples; the ref is what matters
				if ev.Push.Ref != "refs/heads/master" {
					t.Errorf("push ref %s", ev.Push.Ref)
				}
			}
			if d := cmp.Diff(&tc.want, ev); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if ev.Acts() != tc.acts {
				t.Errorf("Acts = %v", ev.Acts())
			}
		})
	}
	for _, f := range []string{"pull_request.synchronize.json", "pull_request.reopened.json", "pull_request.closed.json", "pull_request_review.dismissed.json"} {
		name, _, _ := strings.Cut(f, ".")
		ev, err := webhook.Parse(name, payload(t, f))
		if err != nil || !ev.Acts() || ev.PullRequest == nil || ev.PullRequest.Number != 2 {
			t.Errorf("%s: %+v %v", f, ev, err)
		}
	}
	ev, err := webhook.Parse("check_suite", payload(t, "check_suite.rerequested.json"))
	if err != nil || !ev.Acts() || !cmp.Equal(ev.PullNumbers, []int{2}) || ev.HeadSHA == "" || ev.Installation == 0 {
		t.Errorf("check_suite: %+v %v", ev, err)
	}
	ev, err = webhook.Parse("check_run", payload(t, "check_run.rerequested.json"))
	if err != nil || !ev.Acts() || ev.HeadSHA == "" {
		t.Errorf("check_run: %+v %v", ev, err)
	}
	ev, err = webhook.Parse("ping", payload(t, "ping.json"))
	if err != nil || ev.Acts() {
		t.Errorf("ping: %+v %v", ev, err)
	}
	ev, err = webhook.Parse("issues", []byte("not even json"))
	if err != nil || ev.Acts() {
		t.Errorf("an event relgate ignores is not parsed: %+v %v", ev, err)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for _, tc := range []struct{ event, body string }{
		{"pull_request", `{"action":"opened"}`},
		{"pull_request", `{"action":"opened","repository":{"name":"r","owner":{"login":"o"}}}`},
		{"pull_request_review", `{"action":"submitted","repository":{"name":"r","owner":{"login":"o"}},"pull_request":{"number":1}}`},
		{"push", `{"repository":{"name":"r","owner":{"login":"o"}}}`},
		{"push", `[1,2`},
		{"pull_request", `{"number":"seven"}`},
	} {
		if _, err := webhook.Parse(tc.event, []byte(tc.body)); !errors.Is(err, webhook.ErrMalformed) {
			t.Errorf("%s %s: err %v, want ErrMalformed", tc.event, tc.body, err)
		}
	}
}

func sha1Sig(body []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

func TestReceive(t *testing.T) {
	body := payload(t, "pull_request.opened.json")
	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
		want    error
	}{
		{"valid signature", map[string]string{"X-Hub-Signature-256": webhook.Sign(secret, body)}, body, nil},
		{"attack: missing signature", nil, body, webhook.ErrNoSignature},
		{"attack: wrong secret", map[string]string{"X-Hub-Signature-256": webhook.Sign([]byte("guess"), body)}, body, webhook.ErrBadSignature},
		{"attack: body changed after signing", map[string]string{"X-Hub-Signature-256": webhook.Sign(secret, body)},
			[]byte(strings.Replace(string(body), `"number": 2`, `"number": 3`, 1)), webhook.ErrBadSignature},
		{"attack: SHA-1 signature only", map[string]string{"X-Hub-Signature": sha1Sig(body)}, body, webhook.ErrNoSignature},
		{"attack: truncated signature", map[string]string{"X-Hub-Signature-256": webhook.Sign(secret, body)[:40]}, body, webhook.ErrBadSignature},
		{"attack: not hex", map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("zz", 32)}, body, webhook.ErrBadSignature},
		{"attack: oversized body is refused before its signature is checked", map[string]string{"X-Hub-Signature-256": webhook.Sign(secret, make([]byte, 70000))},
			make([]byte, 70000), webhook.ErrTooLarge},
		{"attack: malformed JSON with a valid signature", map[string]string{"X-Hub-Signature-256": webhook.Sign(secret, []byte("{"))}, []byte("{"), webhook.ErrMalformed},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := webhook.NewReceiver(secret, 64<<10, 100)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(string(tc.body)))
			req.Header.Set("X-GitHub-Event", "pull_request")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("d-%d", i))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			ev, err := rc.Receive(httptest.NewRecorder(), req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.want == nil && (ev == nil || ev.PullRequest.Number != 2 || ev.Delivery != fmt.Sprintf("d-%d", i)) {
				t.Errorf("event %+v", ev)
			}
		})
	}
}

func TestDuplicateDeliveries(t *testing.T) {
	rc, _ := webhook.NewReceiver(secret, 0, 3)
	send := func(id string) error {
		body := tagged(payload(t, "ping.json"), id) // a redelivery keeps the body
		req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(string(body)))
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
		_, err := rc.Receive(httptest.NewRecorder(), req)
		return err
	}
	for _, step := range []struct {
		id   string
		want error
	}{{"a", nil}, {"a", webhook.ErrDuplicate}, {"b", nil}, {"c", nil}, {"a", webhook.ErrDuplicate}, {"d", nil}, {"a", nil}} {
		if err := send(step.id); !errors.Is(err, step.want) {
			t.Errorf("delivery %s: %v, want %v", step.id, err, step.want)
		}
	}
}

func TestEmptySecretRefused(t *testing.T) {
	if _, err := webhook.NewReceiver(nil, 0, 0); err == nil {
		t.Error("a receiver without a secret was made")
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"pull_request.opened.json", "pull_request_review.submitted.json", "push.json", "check_suite.rerequested.json",
		"deployment_protection_rule.requested.json", "deployment_status.created.json"} {
		f.Add(strings.SplitN(n, ".", 2)[0], payload(f, n))
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		ev, err := webhook.Parse(event, body)
		if err == nil && ev == nil {
			t.Fatal("nil event without error")
		}
	})
}
