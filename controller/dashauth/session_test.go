package dashauth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	testKey = []byte("0123456789abcdef0123456789abcdef")
	t0      = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
)

func codec(t testing.TB, key []byte) *Codec {
	t.Helper()
	c, err := NewCodec(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSessionRoundTrip(t *testing.T) {
	c := codec(t, testKey)
	s := Session{Login: "lina", Issued: t0, Checked: t0.Add(time.Minute), Expires: t0.Add(12 * time.Hour)}
	v, err := c.SealSession(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.OpenSession(v, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestSessionRefused(t *testing.T) {
	c := codec(t, testKey)
	good, _ := c.SealSession(Session{Login: "lina", Issued: t0, Checked: t0, Expires: t0.Add(time.Hour)})
	other, _ := codec(t, []byte(strings.Repeat("k", 32))).SealSession(Session{Login: "lina", Issued: t0, Checked: t0, Expires: t0.Add(time.Hour)})
	signin, _ := c.Seal(kindSignIn, t0.Add(time.Hour), "lina", "1", "2") // the pre-sign-in kind, same field count
	payload, sig, _ := strings.Cut(good, ".")
	raw, _ := enc.DecodeString(payload)
	forged := enc.EncodeToString([]byte(strings.Replace(string(raw), "lina", "boss", 1))) + "." + sig
	swap := byte('A')
	if sig[5] == 'A' {
		swap = 'B'
	}
	flipped := payload + "." + sig[:5] + string(swap) + sig[6:]
	for _, tc := range []struct {
		name, v string
		now     time.Time
		want    error
	}{
		{"another user's login pasted into the payload (forged)", forged, t0, ErrSignature},
		{"signature with one character changed (tampered)", flipped, t0, ErrSignature},
		{"signed with another key", other, t0, ErrSignature},
		{"a pre-sign-in value offered as a session", signin, t0, ErrSignature},
		{"past its expiry", good, t0.Add(time.Hour), ErrExpired},
		{"empty", "", t0, ErrMalformed},
		{"no signature", payload, t0, ErrMalformed},
		{"not base64", "!!!." + sig, t0, ErrMalformed},
		{"over the size bound", strings.Repeat("A", MaxCookie+1), t0, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.OpenSession(tc.v, tc.now); !errors.Is(err, tc.want) {
				t.Errorf("OpenSession = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSealRefusesBadLogins(t *testing.T) {
	c := codec(t, testKey)
	for _, login := range []string{"", "a b", "a\nb", "x\"y", strings.Repeat("a", MaxLogin+1), "\xff"} {
		if _, err := c.SealSession(Session{Login: login, Expires: t0}); err == nil {
			t.Errorf("SealSession(%q) succeeded", login)
		}
	}
	if _, err := NewCodec([]byte("short")); err == nil {
		t.Error("NewCodec accepted a 5-byte key")
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/en/releases/REL-1.html":      "/en/releases/REL-1.html",
		"/en/index.html?system=a":      "/en/index.html?system=a",
		"":                             "/",
		"//evil.example/x":             "/",
		"/\\evil.example":              "/",
		"https://evil.example/":        "/",
		"evil.example":                 "/",
		"/a\r\nSet-Cookie: x=1":        "/",
		"/a b":                         "/",
		"/x#frag":                      "/",
		"/" + strings.Repeat("a", 600): "/",
	} {
		if got := LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzOpenSession: no input panics, and what is accepted seals back to a
// value that opens to the same session.
func FuzzOpenSession(f *testing.F) {
	c := codec(f, testKey)
	good, _ := c.SealSession(Session{Login: "lina", Issued: t0, Checked: t0, Expires: t0.Add(time.Hour)})
	for _, s := range []string{good, "", ".", "a.b", good + "x", strings.Repeat(".", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := c.OpenSession(v, t0)
		if err != nil {
			return
		}
		again, err := c.SealSession(s)
		if err != nil {
			t.Fatalf("an accepted session does not seal again: %v", err)
		}
		s2, err := c.OpenSession(again, t0)
		if err != nil || s2.Login != s.Login || !s2.Expires.Equal(s.Expires) || !s2.Checked.Equal(s.Checked) {
			t.Fatalf("re-sealed %+v opens as %+v, %v", s, s2, err)
		}
	})
}
