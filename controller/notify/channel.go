package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/relgate/relgate/controller/document"
)

// Bounds on what a channel reads and waits for.
const (
	// DefaultTimeout bounds one HTTP request or one SMTP session.
	DefaultTimeout = 10 * time.Second
	// MaxResponse bounds the response body read from a receiver.
	MaxResponse = 64 << 10
	// MaxURL bounds a webhook or robot URL read from the environment.
	MaxURL = 2048
	// MaxSecret bounds a signing secret or password read from the environment.
	MaxSecret = 1024
)

// Options are what channels share and tests replace.
type Options struct {
	// Timeout bounds each HTTP request or SMTP session (default 10 s).
	Timeout time.Duration
	// HTTPClient posts webhooks and robot messages (default a client with
	// the TLS config below). Redirects are never followed, whatever its
	// CheckRedirect says: a robot URL carries its key, and a redirect would
	// carry the message elsewhere.
	HTTPClient *http.Client
	// TLSConfig is the base TLS configuration for HTTPS and STARTTLS (tests
	// trust their own CA here); nil is the system's roots.
	TLSConfig *tls.Config
	// Now is the clock for DingTalk's signature and the mail's Date (default time.Now).
	Now func() time.Time
	// HeloName is the name relgate gives itself to an SMTP server (default "localhost").
	HeloName string
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HeloName == "" {
		o.HeloName = "localhost"
	}
	base := o.HTTPClient
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if o.TLSConfig != nil {
			tr.TLSClientConfig = o.TLSConfig.Clone()
		}
		tr.Proxy = nil // a proxy would see the robot's key; relgate talks to the receiver itself
		base = &http.Client{Transport: tr}
	}
	c := *base
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = o.Timeout
	o.HTTPClient = &c
	return o
}

// NewChannel makes the channel ch of the policy (relgate.yaml,
// notices.channels). getenv reads the environment variables ch names for
// its URL and secret; a missing one is an error naming the channel and the
// variable, never a value.
func NewChannel(ch document.NoticeChannel, getenv func(string) string, opts Options) (Channel, error) {
	opts = opts.withDefaults()
	cfg := func(format string, zh string, args ...any) error {
		return &Error{Channel: ch.Name, Class: Permanent, Reason: Text{
			En: fmt.Sprintf(format, args...), Zh: fmt.Sprintf(zh, args...)}}
	}
	secret := ""
	if ch.SecretEnv != "" {
		secret = getenv(ch.SecretEnv)
		if secret == "" {
			return nil, cfg("relgate.yaml notices.channels secretEnv: environment variable %s is not set; set it to the channel's secret",
				"relgate.yaml notices.channels 的 secretEnv：环境变量 %s 未设置，请设置为该渠道的密钥", ch.SecretEnv)
		}
		if len(secret) > MaxSecret {
			return nil, cfg("relgate.yaml notices.channels secretEnv: environment variable %s holds more than %d bytes",
				"relgate.yaml notices.channels 的 secretEnv：环境变量 %s 超过 %d 字节", ch.SecretEnv, MaxSecret)
		}
	}
	switch ch.Kind {
	case document.ChannelWebhook, document.ChannelWeCom, document.ChannelDingTalk:
		if ch.URLEnv == "" {
			return nil, cfg("relgate.yaml notices.channels urlEnv: a %s channel needs urlEnv, the environment variable holding its URL",
				"relgate.yaml notices.channels 的 urlEnv：%s 渠道需要 urlEnv，即保存其地址的环境变量名", ch.Kind)
		}
		raw := getenv(ch.URLEnv)
		if raw == "" {
			return nil, cfg("relgate.yaml notices.channels urlEnv: environment variable %s is not set; set it to the channel's URL",
				"relgate.yaml notices.channels 的 urlEnv：环境变量 %s 未设置，请设置为该渠道的地址", ch.URLEnv)
		}
		u, uerr := checkURL(raw)
		if uerr != nil {
			return nil, &Error{Channel: ch.Name, Class: Permanent, Reason: Text{
				En: fmt.Sprintf("relgate.yaml notices.channels urlEnv: the URL in %s %s", ch.URLEnv, uerr.en),
				Zh: fmt.Sprintf("relgate.yaml notices.channels 的 urlEnv：环境变量 %s 中的地址%s", ch.URLEnv, uerr.zh)}}
		}
		h := &httpChannel{name: ch.Name, kind: ch.Kind, url: u, secret: secret, opts: opts,
			scrub: newScrubber(raw, u, secret)}
		switch ch.Kind {
		case document.ChannelWeCom:
			return &weCom{h}, nil
		case document.ChannelDingTalk:
			return &dingTalk{h}, nil
		}
		return &webhook{h}, nil
	case document.ChannelEmail:
		return newEmail(ch, secret, opts, cfg)
	}
	return nil, cfg("relgate.yaml notices.channels kind: %q is not webhook, wecom, dingtalk or email",
		"relgate.yaml notices.channels 的 kind：%q 不是 webhook、wecom、dingtalk 或 email", ch.Kind)
}

// NewChannels makes every channel of the policy's notices, by name.
func NewChannels(n *document.Notices, getenv func(string) string, opts Options) (map[string]Channel, error) {
	out := map[string]Channel{}
	if n == nil {
		return out, nil
	}
	var errs []error
	for _, ch := range n.Channels {
		c, err := NewChannel(ch, getenv, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[ch.Name] = c
	}
	return out, errors.Join(errs...)
}

// urlErr is a reason in both languages, said after "the URL in X".
type urlErr struct{ en, zh string }

func (e *urlErr) Error() string { return e.en }

// checkURL accepts https, and http only to the loopback (a test's fake
// receiver): a robot URL carries its key, which must not cross a network
// in the clear.
func checkURL(raw string) (*url.URL, *urlErr) {
	if len(raw) > MaxURL {
		return nil, &urlErr{fmt.Sprintf("is longer than %d bytes", MaxURL), fmt.Sprintf("超过 %d 字节", MaxURL)}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, &urlErr{"is not an absolute URL (want https://host/path)", "不是完整的地址（应为 https://主机/路径）"}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, &urlErr{"must be https: plain http is allowed only to 127.0.0.1 or localhost (for tests), since the URL's key and the message would cross the network in the clear",
				"必须使用 https：明文 http 仅允许发往 127.0.0.1 或 localhost（用于测试），否则地址中的密钥和消息将以明文经过网络"}
		}
	default:
		return nil, &urlErr{fmt.Sprintf("has scheme %q; it must be https", clip(u.Scheme, 20)),
			fmt.Sprintf("的协议为 %q，必须为 https", clip(u.Scheme, 20))}
	}
	if u.Fragment != "" {
		return nil, &urlErr{"has a fragment (#…); remove it", "含有片段（#…），请删除"}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scrubber removes a channel's secrets from any text: the whole URL, its
// user information and query values (a robot's key or token), and the secret.
type scrubber []string

func newScrubber(raw string, u *url.URL, secret string) scrubber {
	s := scrubber{raw}
	if u != nil {
		s = append(s, u.String(), u.RawQuery, u.EscapedPath())
		if u.User != nil {
			s = append(s, u.User.String(), u.User.Username())
			if pw, ok := u.User.Password(); ok {
				s = append(s, pw)
			}
		}
		for _, vs := range u.Query() {
			for _, v := range vs {
				s = append(s, v, url.QueryEscape(v))
			}
		}
	}
	if secret != "" {
		s = append(s, secret, url.QueryEscape(secret))
	}
	var out scrubber
	for _, x := range s {
		if len(x) >= 4 && x != "/" { // short strings would redact ordinary words
			out = append(out, x)
		}
	}
	return out
}

func (s scrubber) clean(text string) string {
	for _, x := range s {
		text = strings.ReplaceAll(text, x, "[redacted]")
	}
	return text
}

// httpChannel is what the webhook and the two robots share: one POST of
// JSON with a deadline, a bounded read of the answer, no redirects.
type httpChannel struct {
	name, kind string
	url        *url.URL
	secret     string
	opts       Options
	scrub      scrubber
}

// Host is where the channel sends, safe to log (a robot's key is in its query).
func (h *httpChannel) Host() string { return h.url.Host }

func (h *httpChannel) fail(class Class, en, zh string) *Error {
	return &Error{Channel: h.name, Class: class, Reason: Text{En: h.scrub.clean(en), Zh: h.scrub.clean(zh)}}
}

// post sends body to u and returns the answer's body when the status is 2xx.
func (h *httpChannel) post(ctx context.Context, u *url.URL, body []byte, header http.Header) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, h.fail(Permanent, "cannot make the request", "无法构造请求")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "relgate-notify")
	resp, err := h.opts.HTTPClient.Do(req)
	if err != nil {
		// *url.Error repeats the URL with its key: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil {
			return nil, h.fail(Temporary, fmt.Sprintf("POST to %s got no answer within %s", h.url.Host, h.opts.Timeout),
				fmt.Sprintf("向 %s 的 POST 在 %s 内无应答", h.url.Host, h.opts.Timeout))
		}
		return nil, h.fail(Temporary, fmt.Sprintf("POST to %s: %v", h.url.Host, err),
			fmt.Sprintf("向 %s 的 POST 失败：%v", h.url.Host, err))
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if rerr != nil {
		return nil, h.fail(Temporary, fmt.Sprintf("reading the answer of %s: %v", h.url.Host, rerr),
			fmt.Sprintf("读取 %s 的应答失败：%v", h.url.Host, rerr))
	}
	if len(data) > MaxResponse {
		data = data[:MaxResponse]
		if resp.StatusCode/100 == 2 && h.kind != document.ChannelWebhook {
			return nil, h.fail(Temporary, fmt.Sprintf("the answer of %s is over %d bytes", h.url.Host, MaxResponse),
				fmt.Sprintf("%s 的应答超过 %d 字节", h.url.Host, MaxResponse))
		}
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	snippet := clip(strings.TrimSpace(string(data)), 200)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e := h.fail(RateLimited, fmt.Sprintf("%s answered %s", h.url.Host, status),
			fmt.Sprintf("%s 应答 %s（发送过于频繁）", h.url.Host, status))
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), h.opts.Now())
		return nil, e
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return nil, h.fail(Temporary, fmt.Sprintf("%s answered %s: %s", h.url.Host, status, snippet),
			fmt.Sprintf("%s 应答 %s：%s", h.url.Host, status, snippet))
	case resp.StatusCode/100 == 3:
		return nil, h.fail(Permanent, fmt.Sprintf("%s answered %s (a redirect, which relgate does not follow: put the final URL in the variable)", h.url.Host, status),
			fmt.Sprintf("%s 应答 %s（重定向，relgate 不跟随：请在环境变量中填写最终地址）", h.url.Host, status))
	}
	return nil, h.fail(Permanent, fmt.Sprintf("%s refused the message: %s: %s", h.url.Host, status, snippet),
		fmt.Sprintf("%s 拒绝了该消息：%s：%s", h.url.Host, status, snippet))
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); 0 when absent or odd.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, 10*time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 10*time.Minute)
	}
	return 0
}

// clip cuts s to at most n bytes on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// truncate cuts s to at most n bytes on a UTF-8 boundary and, when it cut,
// ends it with a note saying so in lang.
func truncate(s string, n int, lang string) string {
	if len(s) <= n {
		return s
	}
	note := "\n… (truncated)"
	if lang == "zh" {
		note = "\n……（内容过长，已截断）"
	}
	return clip(s, n-len(note)) + note
}
