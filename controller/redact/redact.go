// Package redact keeps credentials out of messages: a remote URL may carry a
// token as its user or in its query, and libraries repeat the URL in their
// errors.
package redact

import (
	"net/url"
	"strings"
)

// URL returns raw with any user information and secret-looking query values replaced.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "[redacted]@" + raw[i+1:]
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User("[redacted]")
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "key") {
			q.Set(k, "[redacted]")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Error wraps err so that its text never shows the credentials of raw,
// whichever form of raw the error repeats.
func Error(err error, raw string) error {
	if err == nil {
		return nil
	}
	return &redacted{err: err, raw: raw}
}

type redacted struct {
	err error
	raw string
}

func (r *redacted) Error() string {
	msg := strings.ReplaceAll(r.err.Error(), r.raw, URL(r.raw))
	if u, err := url.Parse(r.raw); err == nil && u.User != nil {
		// net/http and go-git print the URL with the password masked but the
		// user shown: a token given as the user would leak.
		if name := u.User.Username(); name != "" {
			msg = strings.ReplaceAll(msg, name, "[redacted]")
		}
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "[redacted]")
		}
	}
	return msg
}

func (r *redacted) Unwrap() error { return r.err }
