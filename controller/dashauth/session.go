package dashauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxCookie bounds a cookie value relgate reads or writes: a session holds
// a login and three times, far below it.
const MaxCookie = 1024

// Errors of Codec.Open; all of them mean "not signed in".
var (
	ErrMalformed = errors.New("malformed value")
	ErrSignature = errors.New("bad signature")
	ErrExpired   = errors.New("expired")
)

// Codec signs and opens cookie values: fields, an expiry and an HMAC-SHA256
// over both and the value's kind, so a value of one kind (the pre-sign-in
// state) is never accepted as another (a session).
type Codec struct {
	key []byte
}

// MinKey is the shortest key NewCodec accepts.
const MinKey = 32

// NewCodec makes a codec with key (at least MinKey bytes).
func NewCodec(key []byte) (*Codec, error) {
	if len(key) < MinKey {
		return nil, fmt.Errorf("session key of %d bytes: want at least %d", len(key), MinKey)
	}
	return &Codec{key: append([]byte(nil), key...)}, nil
}

// DeriveKey derives a session key from another secret (the webhook
// secret) with a label, so the same secret never signs two kinds of thing.
func DeriveKey(secret []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("relgate dashboard session key v1"))
	return mac.Sum(nil)
}

func (c *Codec) mac(kind, payload string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("relgate-dashboard\x00" + kind + "\x00" + payload))
	return m.Sum(nil)
}

var enc = base64.RawURLEncoding

// Seal signs fields (none may hold a newline) valid until exp.
func (c *Codec) Seal(kind string, exp time.Time, fields ...string) (string, error) {
	for _, f := range fields {
		if strings.ContainsAny(f, "\n") || !utf8.ValidString(f) {
			return "", fmt.Errorf("%w: field %q", ErrMalformed, f)
		}
	}
	payload := strconv.FormatInt(exp.Unix(), 10) + "\n" + strings.Join(fields, "\n")
	v := enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(c.mac(kind, payload))
	if len(v) > MaxCookie {
		return "", fmt.Errorf("%w: %d bytes, over %d", ErrMalformed, len(v), MaxCookie)
	}
	return v, nil
}

// Open checks a value of kind and returns its n fields: a value that is
// too long, not of the form, signed with another key or for another kind,
// of another number of fields, or past its expiry at now is refused.
func (c *Codec) Open(kind, v string, n int, now time.Time) ([]string, error) {
	if len(v) > MaxCookie {
		return nil, ErrMalformed
	}
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return nil, ErrMalformed
	}
	raw, err1 := enc.DecodeString(p)
	got, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return nil, ErrMalformed
	}
	// Constant time: the comparison must not tell a forger how much of a
	// signature was right.
	if !hmac.Equal(got, c.mac(kind, string(raw))) {
		return nil, ErrSignature
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != n+1 {
		return nil, ErrMalformed
	}
	exp, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return nil, ErrMalformed
	}
	if !now.Before(time.Unix(exp, 0)) {
		return nil, ErrExpired
	}
	return parts[1:], nil
}

// Session is a signed-in user.
type Session struct {
	Login string
	// Issued is when the user signed in; Checked when their read access
	// was last confirmed; Expires when the session ends.
	Issued, Checked, Expires time.Time
}

const kindSession = "session"

// SealSession encodes s as a cookie value.
func (c *Codec) SealSession(s Session) (string, error) {
	if err := checkLogin(s.Login); err != nil {
		return "", err
	}
	return c.Seal(kindSession, s.Expires, s.Login, unix(s.Issued), unix(s.Checked))
}

// OpenSession decodes a session cookie value, refusing a forged, tampered
// or expired one.
func (c *Codec) OpenSession(v string, now time.Time) (Session, error) {
	f, err := c.Open(kindSession, v, 3, now)
	if err != nil {
		return Session{}, err
	}
	issued, err1 := strconv.ParseInt(f[1], 10, 64)
	checked, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || checkLogin(f[0]) != nil {
		return Session{}, ErrMalformed
	}
	exp, _ := strconv.ParseInt(strings.SplitN(mustPayload(v), "\n", 2)[0], 10, 64)
	return Session{Login: f[0], Issued: time.Unix(issued, 0), Checked: time.Unix(checked, 0), Expires: time.Unix(exp, 0)}, nil
}

// mustPayload is the payload of a value Open accepted.
func mustPayload(v string) string {
	p, _, _ := strings.Cut(v, ".")
	raw, _ := enc.DecodeString(p)
	return string(raw)
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// MaxLogin bounds a login: GitHub's are at most 39 characters; a proxy's
// identity (often an e-mail address) gets more room.
const MaxLogin = 256

// checkLogin accepts a printable identity without spaces.
func checkLogin(s string) error {
	if s == "" || len(s) > MaxLogin || !utf8.ValidString(s) {
		return fmt.Errorf("%w: identity %q", ErrMalformed, s)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '"' || r == '\\' || r == ',' {
			// A comma is how HTTP joins repeated header lines: "a,b" is two.
			return fmt.Errorf("%w: identity %q has a space, comma, quote or control character", ErrMalformed, s)
		}
	}
	return nil
}
