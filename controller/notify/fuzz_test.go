package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseRobotAnswer(f *testing.F) {
	for _, s := range []string{`{"errcode":0,"errmsg":"ok"}`, `{"errcode":45009,"errmsg":"api freq out of limit"}`, `{"errmsg":"ok"}`, `{"errcode":"0"}`, `<html>`, ``, `{"errcode":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseRobotAnswer(data)
		if err == nil && len(a.ErrMsg) > 200 {
			t.Errorf("errmsg not bounded: %d bytes", len(a.ErrMsg))
		}
		if err == nil && !strings.Contains(string(data), "errcode") {
			t.Errorf("answer %q without errcode accepted", data)
		}
	})
}

func FuzzParseLedgerRecord(f *testing.F) {
	for _, s := range []string{`{"key":"k","state":"claimed","gen":1,"owner":"h/1/ab","claimedAt":"2025-03-14T09:30:00Z","lease":"10m0s"}`,
		`{"key":"k","state":"sent","gen":3,"lease":"0s","sentAt":"2025-03-14T09:30:00Z"}`, `{"state":"sent","gen":0}`, `{`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, lease, err := ParseLedgerRecord(data)
		if err != nil {
			return
		}
		if r.Gen < 1 || lease < 0 || (r.State != stateClaimed && r.State != stateSent && r.State != stateAbandoned) {
			t.Errorf("accepted %+v lease %v", r, lease)
		}
	})
}

func FuzzTruncate(f *testing.F) {
	f.Add("发布窗口即将开始", 10, "zh")
	f.Add(strings.Repeat("a", 100), 30, "en")
	f.Fuzz(func(t *testing.T, s string, n int, lang string) {
		if n < 40 || n > 10000 {
			return
		}
		got := truncate(s, n, lang)
		if len(got) > n {
			t.Errorf("truncate to %d gave %d bytes", n, len(got))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("truncate broke UTF-8: %q", got)
		}
	})
}
