package webhook_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relgate/relgate/controller/webhook"
)

// countingReader serves n bytes of JSON-ish filler and counts what was read.
type countingReader struct {
	left, read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.left)
	for i := range p[:n] {
		p[i] = ' '
	}
	c.left -= n
	c.read += n
	return n, nil
}

// TestUnsignedBodyIsNotBuffered: Receive reads the whole body (up to the
// 25 MB cap) into memory before it looks at the signature header, so a
// request without any X-Hub-Signature-256 (or with one that is not even
// sha256=<64 hex>) costs the server up to 25 MB (more, with ReadAll's
// doubling) per connection, and nothing bounds how many such requests are
// in flight: unauthenticated memory use that grows with the attacker's
// connections. Safe: a request whose header cannot verify is refused before
// its body is read.
func TestUnsignedBodyIsNotBuffered(t *testing.T) {
	rc, err := webhook.NewReceiver(secret, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []string{"", "sha1=0123", "sha256=not-hex"} {
		body := &countingReader{left: 20 << 20}
		req := httptest.NewRequest(http.MethodPost, "/webhook", body)
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "d-"+sig)
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		_, err := rc.Receive(httptest.NewRecorder(), req)
		if !errors.Is(err, webhook.ErrNoSignature) && !errors.Is(err, webhook.ErrBadSignature) {
			t.Errorf("signature %q: %v, want a signature error", sig, err)
		}
		if body.read > 1<<20 {
			t.Errorf("signature %q: read %d MB of an unauthenticatable body before refusing it", sig, body.read>>20)
		}
	}
}
