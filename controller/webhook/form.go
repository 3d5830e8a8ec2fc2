package webhook

import (
	"bytes"
	"fmt"
	"mime"
)

// bodyFormat is how a delivery's body is encoded, from its Content-Type.
type bodyFormat int

const (
	formatJSON bodyFormat = iota
	formatForm
)

// formatOf reads the Content-Type GitHub sends: application/json, or
// application/x-www-form-urlencoded (a repository webhook's default). A
// missing Content-Type is taken as JSON; anything else is refused.
func formatOf(contentType string) (bodyFormat, error) {
	if contentType == "" {
		return formatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, fmt.Errorf("%w: Content-Type %q: %v", ErrMalformed, contentType, err)
	}
	switch mt {
	case "application/json":
		return formatJSON, nil
	case "application/x-www-form-urlencoded":
		return formatForm, nil
	}
	return 0, fmt.Errorf("%w: Content-Type %q is neither application/json nor application/x-www-form-urlencoded", ErrMalformed, mt)
}

// FormPayload returns the decoded payload field of a form-encoded delivery
// (payload=<url-encoded JSON>). The HMAC is over the form as sent, so this
// runs only on an authenticated body. Other fields are ignored; a second
// payload field is refused, since which one counts would be a guess. The
// result is never longer than body.
func FormPayload(body []byte) ([]byte, error) {
	var out []byte
	found := false
	for rest := body; len(rest) > 0; {
		field := rest
		if i := bytes.IndexByte(rest, '&'); i >= 0 {
			field, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		key, value := field, []byte(nil)
		if i := bytes.IndexByte(field, '='); i >= 0 {
			key, value = field[:i], field[i+1:]
		}
		// "payload" escapes to at most 21 bytes; a longer key is another field.
		if len(key) > 21 {
			continue
		}
		k, err := unescape(key)
		if err != nil {
			return nil, fmt.Errorf("%w: form field name %q: %v", ErrMalformed, key, err)
		}
		if string(k) != "payload" {
			continue
		}
		if found {
			return nil, fmt.Errorf("%w: form body with more than one payload field", ErrMalformed)
		}
		if out, err = unescape(value); err != nil {
			return nil, fmt.Errorf("%w: form payload field: %v", ErrMalformed, err)
		}
		found = true
	}
	if !found {
		return nil, fmt.Errorf("%w: form-encoded body without a payload field", ErrMalformed)
	}
	return out, nil
}

// unescape decodes a form value as url.QueryUnescape does (%XX, + for a
// space) without turning a body of megabytes into a string first.
func unescape(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				end := min(i+3, len(s))
				return nil, fmt.Errorf("invalid escape %q at byte %d", s[i:end], i)
			}
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
