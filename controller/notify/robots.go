package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// webhook posts the message as JSON to a URL the team runs.
type webhook struct{ *httpChannel }

// WebhookPayload is the JSON body of the generic webhook, field by field.
type WebhookPayload struct {
	Event      string      `json:"event"`
	Key        string      `json:"key"`
	Subject    string      `json:"subject"`
	Text       string      `json:"text"`
	Link       string      `json:"link,omitempty"`
	Release    string      `json:"release,omitempty"`
	Recipients []Recipient `json:"recipients"`
	At         time.Time   `json:"at"`
	Lang       string      `json:"lang"`
}

// SignatureHeader carries the webhook body's HMAC-SHA256 under the
// channel's secret, as "sha256=<hex>" (the form GitHub's webhooks use), so
// the receiver can tell relgate's messages from forgeries.
const SignatureHeader = "X-Relgate-Signature-256"

// Sign is the value of SignatureHeader for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (w *webhook) Send(ctx context.Context, m Message) error {
	rs := m.Recipients
	if rs == nil {
		rs = []Recipient{}
	}
	body, err := json.Marshal(WebhookPayload{Event: m.Event, Key: m.Key, Subject: m.Subject, Text: m.Text,
		Link: m.Link, Release: m.Release, Recipients: rs, At: m.At.UTC(), Lang: m.Lang})
	if err != nil {
		return w.fail(Permanent, "cannot encode the message as JSON", "无法将消息编码为 JSON")
	}
	h := http.Header{}
	h.Set("X-Relgate-Event", m.Event)
	h.Set("X-Relgate-Delivery", m.Key) // the receiver can drop a repeat by it
	if w.secret != "" {
		h.Set(SignatureHeader, Sign(w.secret, body))
	}
	_, err = w.post(ctx, w.url, body, h)
	return err
}

// Robot message size limits, in bytes of the content field.
const (
	// WeComMarkdownMax is WeCom's limit on a markdown message's content.
	WeComMarkdownMax = 4096
	// WeComTextMax is WeCom's limit on a text message's content.
	WeComTextMax = 2048
	// DingTalkMax bounds a DingTalk markdown text (relgate's bound: DingTalk
	// documents none smaller; notices are short).
	DingTalkMax = 4096
)

// Rate-limit error codes the robots answer with.
const (
	weComRateLimited    = 45009
	dingTalkRateLimited = 130101
)

// weCom posts to a WeCom (企业微信) group robot (document 91770): markdown,
// or text with mentioned_mobile_list when a recipient has a mobile number,
// since WeCom's markdown cannot mention by mobile.
type weCom struct{ *httpChannel }

type weComMarkdown struct {
	MsgType  string `json:"msgtype"`
	Markdown *struct {
		Content string `json:"content"`
	} `json:"markdown,omitempty"`
	Text *weComText `json:"text,omitempty"`
}

type weComText struct {
	Content             string   `json:"content"`
	MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
}

func (w *weCom) Send(ctx context.Context, m Message) error {
	mobiles := mobilesOf(m.Recipients)
	var body weComMarkdown
	if len(mobiles) > 0 {
		body.MsgType = "text"
		body.Text = &weComText{Content: truncate(plainText(m), WeComTextMax, m.Lang), MentionedMobileList: mobiles}
	} else {
		body.MsgType = "markdown"
		body.Markdown = &struct {
			Content string `json:"content"`
		}{Content: truncate(markdownText(m, "**"+mdEscape(m.Subject)+"**"), WeComMarkdownMax, m.Lang)}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return w.fail(Permanent, "cannot encode the message as JSON", "无法将消息编码为 JSON")
	}
	resp, err := w.post(ctx, w.url, data, nil)
	if err != nil {
		return err
	}
	return w.robotAnswer(resp, weComRateLimited)
}

// dingTalk posts to a DingTalk (钉钉) custom robot, signed when the channel
// has a secret (加签: timestamp and sign in the query).
type dingTalk struct{ *httpChannel }

type dingTalkBody struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At struct {
		AtMobiles []string `json:"atMobiles"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
}

// DingTalkSign is DingTalk's signature of a request at timestamp ms:
// base64(HMAC-SHA256(secret, "<ms>\n<secret>")), before URL encoding.
func DingTalkSign(secret string, ms int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ms, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (d *dingTalk) Send(ctx context.Context, m Message) error {
	mobiles := mobilesOf(m.Recipients)
	var body dingTalkBody
	body.MsgType = "markdown"
	body.Markdown.Title = clip(oneLine(m.Subject), 128)
	mention := ""
	for _, mb := range mobiles {
		mention += " @" + mb // DingTalk shows a mention only when the text names it
	}
	if mention != "" {
		mention = "\n\n" + strings.TrimSpace(mention)
	}
	body.Markdown.Text = truncate(markdownText(m, "#### "+mdEscape(oneLine(m.Subject))), DingTalkMax-len(mention), m.Lang) + mention
	body.At.AtMobiles = mobiles
	if body.At.AtMobiles == nil {
		body.At.AtMobiles = []string{}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return d.fail(Permanent, "cannot encode the message as JSON", "无法将消息编码为 JSON")
	}
	u := *d.url
	if d.secret != "" {
		ms := d.opts.Now().UnixMilli()
		q := u.Query()
		q.Set("timestamp", strconv.FormatInt(ms, 10))
		q.Set("sign", DingTalkSign(d.secret, ms))
		u.RawQuery = q.Encode()
	}
	resp, err := d.post(ctx, &u, data, nil)
	if err != nil {
		return err
	}
	return d.robotAnswer(resp, dingTalkRateLimited)
}

// RobotAnswer is what WeCom's and DingTalk's robots answer.
type RobotAnswer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// ParseRobotAnswer reads a robot's answer; an answer without errcode is an
// error (fail closed: what we cannot read never counts as sent).
func ParseRobotAnswer(data []byte) (RobotAnswer, error) {
	var raw struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if len(data) > MaxResponse {
		return RobotAnswer{}, fmt.Errorf("answer is over %d bytes", MaxResponse)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return RobotAnswer{}, fmt.Errorf("answer is not JSON: %v", err)
	}
	if raw.ErrCode == nil {
		return RobotAnswer{}, fmt.Errorf("answer has no errcode")
	}
	return RobotAnswer{ErrCode: *raw.ErrCode, ErrMsg: clip(raw.ErrMsg, 200)}, nil
}

func (h *httpChannel) robotAnswer(data []byte, rateLimited int) error {
	a, err := ParseRobotAnswer(data)
	if err != nil {
		return h.fail(Temporary, fmt.Sprintf("%s: %v", h.url.Host, err), fmt.Sprintf("%s 的应答无法读取：%v", h.url.Host, err))
	}
	switch a.ErrCode {
	case 0:
		return nil
	case rateLimited:
		e := h.fail(RateLimited, fmt.Sprintf("%s: rate limited (errcode %d: %s)", h.url.Host, a.ErrCode, a.ErrMsg),
			fmt.Sprintf("%s：发送过于频繁（errcode %d：%s）", h.url.Host, a.ErrCode, a.ErrMsg))
		e.RetryAfter = time.Minute // both robots count 20 messages a minute
		return e
	}
	return h.fail(Permanent, fmt.Sprintf("%s refused the message: errcode %d: %s", h.url.Host, a.ErrCode, a.ErrMsg),
		fmt.Sprintf("%s 拒绝了该消息：errcode %d：%s", h.url.Host, a.ErrCode, a.ErrMsg))
}

func mobilesOf(rs []Recipient) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		mb := strings.TrimSpace(r.Mobile)
		if mb == "" || seen[mb] || !isMobile(mb) {
			continue
		}
		seen[mb] = true
		out = append(out, mb)
	}
	return out
}

// isMobile accepts digits with an optional leading + and dashes, nothing a
// mention could be smuggled through.
func isMobile(s string) bool {
	if len(s) > 20 {
		return false
	}
	for i, r := range s {
		if !(r >= '0' && r <= '9' || r == '-' || (r == '+' && i == 0)) {
			return false
		}
	}
	return true
}

// plainText is subject, body and link as plain text.
func plainText(m Message) string {
	s := oneLine(m.Subject) + "\n\n" + m.Text
	if m.Link != "" {
		s += "\n\n" + m.Link
	}
	return s
}

// markdownText is the heading, the body and the link as markdown.
func markdownText(m Message, heading string) string {
	s := heading + "\n\n" + m.Text
	if m.Link != "" {
		label := "Details"
		if m.Lang == "zh" {
			label = "详情"
		}
		s += "\n\n[" + label + "](" + strings.ReplaceAll(m.Link, ")", "%29") + ")"
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// mdEscape keeps a subject from opening markdown of its own.
func mdEscape(s string) string {
	r := strings.NewReplacer("*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "`", "\\`", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}
