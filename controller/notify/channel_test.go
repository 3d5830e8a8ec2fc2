package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/relgate/relgate/controller/document"
)

func testMessage(channel string) Message {
	return Message{Key: "approval-missing/REL-2025-001/plan-review", Event: "approval-missing", Channel: channel,
		Lang: "zh", Subject: "发布 REL-2025-001 缺少审批", Text: "方案评审仍缺少发布负责人的审批。\n请尽快处理。",
		Link: "https://relgate.example.cn/releases/REL-2025-001", Release: "REL-2025-001",
		Recipients: []Recipient{{Login: "zhangwei", Name: "张伟", Email: "zhangwei@grid-it.example.cn", Mobile: "13800001111"}},
		At:         time.Date(2025, 3, 14, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))}
}

func TestNewChannelConfigErrors(t *testing.T) {
	const key = "k3y-SUPERSECRET-693a"
	tests := []struct {
		name    string
		ch      document.NoticeChannel
		env     map[string]string
		want    []string // in the English error
		wantZh  string
		notWant []string
	}{
		{"missing URL variable names channel and variable", document.NoticeChannel{Name: "ops-wecom", Kind: "wecom", URLEnv: "WECOM_URL"},
			nil, []string{"ops-wecom", "WECOM_URL", "urlEnv", "not set"}, "未设置", nil},
		{"no urlEnv at all", document.NoticeChannel{Name: "hook", Kind: "webhook"},
			nil, []string{"hook", "urlEnv"}, "urlEnv", nil},
		{"attack: robot URL over plain http to another host is refused without showing its key",
			document.NoticeChannel{Name: "ops-ding", Kind: "dingtalk", URLEnv: "DING_URL"},
			map[string]string{"DING_URL": "http://oapi.dingtalk.com/robot/send?access_token=" + key},
			[]string{"ops-ding", "DING_URL", "must be https", "127.0.0.1"}, "必须使用 https", []string{key}},
		{"scheme other than https", document.NoticeChannel{Name: "hook", Kind: "webhook", URLEnv: "H"},
			map[string]string{"H": "ftp://example.com/" + key}, []string{"must be https"}, "必须为 https", []string{key}},
		{"missing secret variable", document.NoticeChannel{Name: "ops-ding", Kind: "dingtalk", URLEnv: "DING_URL", SecretEnv: "DING_SECRET"},
			map[string]string{"DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=" + key},
			[]string{"ops-ding", "DING_SECRET", "secretEnv"}, "DING_SECRET", []string{key}},
		{"email without a server", document.NoticeChannel{Name: "mail", Kind: "email"}, nil, []string{"mail", "smtp.address"}, "邮件服务器", nil},
		{"email user without password variable", document.NoticeChannel{Name: "mail", Kind: "email",
			SMTP: &document.SMTPServer{Address: "smtp.example.cn:587", From: "relgate@example.cn", Username: "relgate"}},
			nil, []string{"secretEnv", "smtp.username"}, "secretEnv", nil},
		{"unknown kind", document.NoticeChannel{Name: "x", Kind: "pager"}, nil, []string{"pager"}, "不是", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewChannel(tt.ch, env(tt.env), Options{})
			if err == nil {
				t.Fatal("NewChannel: no error")
			}
			var e *Error
			if !errors.As(err, &e) || e.Class != Permanent {
				t.Fatalf("error %v is not a permanent *Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if zh := e.In("zh"); !strings.Contains(zh, tt.wantZh) {
				t.Errorf("Chinese error %q lacks %q", zh, tt.wantZh)
			}
			for _, nw := range tt.notWant {
				if strings.Contains(err.Error(), nw) || strings.Contains(e.In("zh"), nw) {
					t.Errorf("error %q shows the secret %q", err, nw)
				}
			}
		})
	}
}

func TestNewChannelLawful(t *testing.T) {
	for _, ch := range []document.NoticeChannel{
		{Name: "hook", Kind: "webhook", URLEnv: "U"},
		{Name: "wecom", Kind: "wecom", URLEnv: "U"},
		{Name: "ding", Kind: "dingtalk", URLEnv: "U", SecretEnv: "S"},
		{Name: "mail", Kind: "email", SecretEnv: "S", SMTP: &document.SMTPServer{Address: "smtp.example.cn:587", From: "relgate@example.cn", Username: "u"}},
	} {
		for _, u := range []string{"https://hooks.example.cn/x?key=1", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9/x"} {
			if _, err := NewChannel(ch, env(map[string]string{"U": u, "S": "s3cret"}), Options{}); err != nil {
				t.Errorf("%s with %s: %v", ch.Name, u, err)
			}
		}
	}
}

func TestWebhookFormatAndSignature(t *testing.T) {
	r := newReceiver(t, nil, reply{204, ""})
	const secret = "whsec-7f3a"
	ch, err := NewChannel(document.NoticeChannel{Name: "hook", Kind: "webhook", URLEnv: "U", SecretEnv: "S"},
		env(map[string]string{"U": r.srv.URL + "/relgate", "S": secret}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("hook")
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := r.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	rq := got[0]
	if rq.Method != http.MethodPost || rq.Path != "/relgate" || rq.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s Content-Type %q", rq.Method, rq.Path, rq.Header.Get("Content-Type"))
	}
	var fields map[string]any
	if err := json.Unmarshal(rq.Body, &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event": "approval-missing", "key": m.Key, "subject": m.Subject, "text": m.Text, "link": m.Link,
		"release": "REL-2025-001", "at": "2025-03-14T01:00:00Z", "lang": "zh",
		"recipients": []any{map[string]any{"login": "zhangwei", "name": "张伟", "email": "zhangwei@grid-it.example.cn", "mobile": "13800001111"}}}
	if d := cmp.Diff(want, fields); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(rq.Body)
	if sig := rq.Header.Get(SignatureHeader); !hmac.Equal([]byte(sig), []byte("sha256="+hexOf(mac.Sum(nil)))) {
		t.Errorf("%s = %q does not verify", SignatureHeader, sig)
	}
	if rq.Header.Get("X-Relgate-Delivery") != m.Key {
		t.Errorf("X-Relgate-Delivery = %q", rq.Header.Get("X-Relgate-Delivery"))
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestWeComFormat(t *testing.T) {
	long := strings.Repeat("发布窗口即将开始。", 600) // about 16 KB
	tests := []struct {
		name       string
		msg        func(Message) Message
		wantType   string
		wantMobile []string
		max        int
		truncated  bool
	}{
		{"mention by mobile uses text with mentioned_mobile_list", func(m Message) Message { return m }, "text", []string{"13800001111"}, WeComTextMax, false},
		{"no mobile uses markdown", func(m Message) Message { m.Recipients[0].Mobile = ""; return m }, "markdown", nil, WeComMarkdownMax, false},
		{"long markdown is cut at 4096 bytes on a rune boundary and says so", func(m Message) Message {
			m.Recipients = nil
			m.Text = long
			return m
		}, "markdown", nil, WeComMarkdownMax, true},
		{"long text is cut at 2048 bytes", func(m Message) Message { m.Text = long; return m }, "text", []string{"13800001111"}, WeComTextMax, true},
		{"attack: a mobile that is not a number is not mentioned", func(m Message) Message {
			m.Recipients[0].Mobile = "@all"
			return m
		}, "markdown", nil, WeComMarkdownMax, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, nil)
			ch, err := NewChannel(document.NoticeChannel{Name: "wecom", Kind: "wecom", URLEnv: "U"},
				env(map[string]string{"U": r.srv.URL + "/cgi-bin/webhook/send?key=693a91f6"}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			m := tt.msg(testMessage("wecom"))
			if err := ch.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			rq := r.requests()[0]
			if rq.Path != "/cgi-bin/webhook/send" || rq.RawQuery != "key=693a91f6" {
				t.Errorf("posted to %s?%s", rq.Path, rq.RawQuery)
			}
			var body struct {
				MsgType  string `json:"msgtype"`
				Markdown *struct {
					Content string `json:"content"`
				} `json:"markdown"`
				Text *struct {
					Content             string   `json:"content"`
					MentionedMobileList []string `json:"mentioned_mobile_list"`
				} `json:"text"`
			}
			if err := json.Unmarshal(rq.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.MsgType != tt.wantType {
				t.Fatalf("msgtype %q, want %q", body.MsgType, tt.wantType)
			}
			var content string
			if tt.wantType == "text" {
				content = body.Text.Content
				if d := cmp.Diff(tt.wantMobile, body.Text.MentionedMobileList); d != "" {
					t.Errorf("mentioned_mobile_list (-want +got):\n%s", d)
				}
			} else {
				content = body.Markdown.Content
				if body.Text != nil {
					t.Error("markdown message carries a text field")
				}
			}
			if len(content) > tt.max || !utf8.ValidString(content) {
				t.Errorf("content is %d bytes (max %d), valid UTF-8 %v", len(content), tt.max, utf8.ValidString(content))
			}
			if got := strings.Contains(content, "已截断"); got != tt.truncated {
				t.Errorf("content says truncated: %v, want %v", got, tt.truncated)
			}
			if !strings.Contains(content, "REL-2025-001") {
				t.Errorf("content %q lacks the subject", clip(content, 200))
			}
		})
	}
}

func TestRobotAnswers(t *testing.T) {
	tests := []struct {
		kind  string
		reply reply
		want  Class // 0: delivered
	}{
		{"wecom", reply{200, `{"errcode":0,"errmsg":"ok"}`}, 0},
		{"wecom", reply{200, `{"errcode":45009,"errmsg":"api freq out of limit"}`}, RateLimited},
		{"wecom", reply{200, `{"errcode":93000,"errmsg":"invalid webhook url"}`}, Permanent},
		{"wecom", reply{200, `{"errmsg":"ok"}`}, Temporary},        // fail closed: no errcode is not success
		{"wecom", reply{200, `<html>gateway</html>`}, Temporary},   // not JSON
		{"wecom", reply{502, `bad gateway`}, Temporary},            // the receiver failed
		{"wecom", reply{429, `{}`}, RateLimited},                   // HTTP rate limit
		{"wecom", reply{404, `{}`}, Permanent},                     // wrong URL
		{"dingtalk", reply{200, `{"errcode":0,"errmsg":"ok"}`}, 0}, //
		{"dingtalk", reply{200, `{"errcode":130101,"errmsg":"send too fast"}`}, RateLimited},
		{"dingtalk", reply{200, `{"errcode":310000,"errmsg":"sign not match"}`}, Permanent},
		{"webhook", reply{200, `anything`}, 0},
		{"webhook", reply{301, ``}, Permanent},
		{"webhook", reply{500, ``}, Temporary},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+strconv.Itoa(tt.reply.status)+"/"+clip(tt.reply.body, 30), func(t *testing.T) {
			r := newReceiver(t, nil, tt.reply)
			ch, err := NewChannel(document.NoticeChannel{Name: "c", Kind: tt.kind, URLEnv: "U"},
				env(map[string]string{"U": r.srv.URL + "/send?access_token=abcd1234"}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = ch.Send(context.Background(), testMessage("c"))
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if got := ClassOf(err); got != tt.want {
				t.Fatalf("class %v, want %v (err %v)", got, tt.want, err)
			}
			if strings.Contains(err.Error(), "abcd1234") {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

func TestDingTalkFormatAndSignature(t *testing.T) {
	clock := newFakeClock()
	r := newReceiver(t, clock)
	const secret = "SEC0123456789abcdef+/="
	ch, err := NewChannel(document.NoticeChannel{Name: "ding", Kind: "dingtalk", URLEnv: "U", SecretEnv: "S"},
		env(map[string]string{"U": r.srv.URL + "/robot/send?access_token=tok-abcdef", "S": secret}), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("ding")
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	rq := r.requests()[0]
	q, err := parseQuery(rq.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	ms := strconv.FormatInt(clock.Now().UnixMilli(), 10)
	if q["access_token"] != "tok-abcdef" || q["timestamp"] != ms {
		t.Errorf("query %q: want access_token and timestamp %s", rq.RawQuery, ms)
	}
	// The receiver's check, as DingTalk documents it.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ms + "\n" + secret))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); q["sign"] != want {
		t.Errorf("sign %q, want %q", q["sign"], want)
	}
	if strings.Contains(rq.RawQuery, "+") || strings.Contains(rq.RawQuery, "/") {
		t.Errorf("sign not URL-encoded in %q", rq.RawQuery)
	}
	var body struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
		At struct {
			AtMobiles []string `json:"atMobiles"`
			IsAtAll   *bool    `json:"isAtAll"`
		} `json:"at"`
	}
	if err := json.Unmarshal(rq.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.MsgType != "markdown" || body.Markdown.Title != m.Subject {
		t.Errorf("msgtype %q title %q", body.MsgType, body.Markdown.Title)
	}
	for _, w := range []string{"方案评审仍缺少", "@13800001111", "(" + m.Link + ")"} {
		if !strings.Contains(body.Markdown.Text, w) {
			t.Errorf("text %q lacks %q", body.Markdown.Text, w)
		}
	}
	if d := cmp.Diff([]string{"13800001111"}, body.At.AtMobiles); d != "" || body.At.IsAtAll == nil || *body.At.IsAtAll {
		t.Errorf("at: atMobiles diff %s, isAtAll %v", d, body.At.IsAtAll)
	}
}

func parseQuery(raw string) (map[string]string, error) {
	v, err := url.ParseQuery(raw)
	out := map[string]string{}
	for k := range v {
		out[k] = v.Get(k)
	}
	return out, err
}

func TestHTTPNoRedirectNoHang(t *testing.T) {
	elsewhere := newReceiver(t, nil)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL+"/steal?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"errcode":0,"errmsg":"`))
		w.Write([]byte(strings.Repeat("x", 1<<20)))
		w.Write([]byte(`"}`))
	}))
	defer huge.Close()
	tests := []struct {
		name, url string
		want      Class
	}{
		{"attack: a redirect would carry the robot's key elsewhere; not followed", redirect.URL + "/send?key=k-123456", Permanent},
		{"a receiver that never answers hits the deadline", hang.URL + "/send?key=k-123456", Temporary},
		{"an answer over 64 KiB is not read whole", huge.URL + "/send?key=k-123456", Temporary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := NewChannel(document.NoticeChannel{Name: "wecom", Kind: "wecom", URLEnv: "U"},
				env(map[string]string{"U": tt.url}), Options{Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			err = ch.Send(context.Background(), testMessage("wecom"))
			if ClassOf(err) != tt.want || err == nil {
				t.Fatalf("err %v class %v, want %v", err, ClassOf(err), tt.want)
			}
			if strings.Contains(err.Error(), "k-123456") {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		lang string
	}{
		{strings.Repeat("审", 2000), 4096, "zh"},
		{strings.Repeat("a", 5000), 4096, "en"},
		{"short", 4096, "en"},
		{strings.Repeat("😀", 1100), 4096, "en"},
	} {
		got := truncate(tt.s, tt.n, tt.lang)
		if len(got) > tt.n || !utf8.ValidString(got) {
			t.Errorf("truncate(%d bytes) = %d bytes, valid %v", len(tt.s), len(got), utf8.ValidString(got))
		}
		if len(tt.s) <= tt.n && got != tt.s {
			t.Errorf("truncate changed a short text")
		}
	}
}
