package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"

	"github.com/relgate/relgate/controller/document"
)

// MaxRecipients bounds the addresses of one mail.
const MaxRecipients = 100

// email sends over SMTP, always after STARTTLS: a server that does not
// offer it is refused before anything (credentials or mail) is sent.
type email struct {
	name     string
	addr     string // host:port
	host     string
	from     *mail.Address
	username string
	password string
	opts     Options
	scrub    scrubber
}

func newEmail(ch document.NoticeChannel, secret string, opts Options, cfg func(string, string, ...any) error) (Channel, error) {
	if ch.SMTP == nil || ch.SMTP.Address == "" {
		return nil, cfg("relgate.yaml notices.channels smtp.address: an email channel needs its mail server (host:port, usually port 587)",
			"relgate.yaml notices.channels 的 smtp.address：email 渠道需要邮件服务器（host:port，通常为 587 端口）")
	}
	host, port, err := net.SplitHostPort(ch.SMTP.Address)
	if err != nil || host == "" || port == "" {
		return nil, cfg("relgate.yaml notices.channels smtp.address: %q is not host:port",
			"relgate.yaml notices.channels 的 smtp.address：%q 不是 host:port 形式", clip(ch.SMTP.Address, 100))
	}
	from, err := mail.ParseAddress(ch.SMTP.From)
	if err != nil || strings.ContainsAny(from.Address, "\r\n") {
		return nil, cfg("relgate.yaml notices.channels smtp.from: %q is not an email address",
			"relgate.yaml notices.channels 的 smtp.from：%q 不是邮件地址", clip(ch.SMTP.From, 100))
	}
	if ch.SMTP.Username != "" && secret == "" {
		return nil, cfg("relgate.yaml notices.channels secretEnv: smtp.username is set, so secretEnv must name the variable holding the password",
			"relgate.yaml notices.channels 的 secretEnv：已设置 smtp.username，secretEnv 须写明保存密码的环境变量名")
	}
	return &email{name: ch.Name, addr: ch.SMTP.Address, host: host, from: from,
		username: ch.SMTP.Username, password: secret, opts: opts, scrub: newScrubber("", nil, secret)}, nil
}

// Host is the mail server, safe to log.
func (e *email) Host() string { return e.addr }

func (e *email) fail(class Class, en, zh string) *Error {
	return &Error{Channel: e.name, Class: class, Reason: Text{En: e.scrub.clean(en), Zh: e.scrub.clean(zh)}}
}

// smtpFail classifies an SMTP error: a 4xx reply is temporary, 5xx
// permanent, anything else (the network) temporary.
func (e *email) smtpFail(step string, err error) *Error {
	class := Temporary
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		class = Permanent
	}
	msg := clip(err.Error(), 300)
	return e.fail(class, fmt.Sprintf("%s: %s: %s", e.addr, step, msg), fmt.Sprintf("%s：%s 失败：%s", e.addr, step, msg))
}

func (e *email) Send(ctx context.Context, m Message) error {
	var to []*mail.Address
	for _, r := range m.Recipients {
		if r.Email == "" {
			continue
		}
		a, err := mail.ParseAddress(r.Email)
		if err != nil || strings.ContainsAny(a.Address, "\r\n<>") {
			return e.fail(Permanent, fmt.Sprintf("recipient %s: %q is not an email address", r.Login, clip(r.Email, 100)),
				fmt.Sprintf("收件人 %s：%q 不是邮件地址", r.Login, clip(r.Email, 100)))
		}
		a.Name = r.Name
		to = append(to, a)
	}
	if len(to) == 0 {
		return e.fail(Permanent, "the notice has no recipient with an email address; add email to the people in relgate.yaml",
			"该通知没有带邮件地址的收件人；请在 relgate.yaml 中为相关人员填写 email")
	}
	if len(to) > MaxRecipients {
		return e.fail(Permanent, fmt.Sprintf("the notice has %d recipients, more than %d", len(to), MaxRecipients),
			fmt.Sprintf("该通知有 %d 个收件人，超过上限 %d", len(to), MaxRecipients))
	}
	msg := e.compose(m, to)

	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return e.smtpFail("connect", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // a cancelled run stops a slow server
	defer stop()
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return e.smtpFail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(e.opts.HeloName); err != nil {
		return e.smtpFail("EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return e.fail(Permanent, fmt.Sprintf("%s does not offer STARTTLS; relgate never sends mail or a password in the clear: use the server's submission port (587) with TLS", e.addr),
			fmt.Sprintf("%s 不支持 STARTTLS；relgate 从不以明文发送邮件或密码：请使用该服务器支持 TLS 的提交端口（587）", e.addr))
	}
	tc := &tls.Config{}
	if e.opts.TLSConfig != nil {
		tc = e.opts.TLSConfig.Clone()
	}
	tc.ServerName = e.host
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	if err := c.StartTLS(tc); err != nil {
		return e.smtpFail("STARTTLS", err)
	}
	if e.username != "" {
		// net/smtp's PLAIN refuses to send the password unless TLS is up.
		if err := c.Auth(smtp.PlainAuth("", e.username, e.password, e.host)); err != nil {
			return e.smtpFail("AUTH PLAIN", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return e.smtpFail("MAIL FROM", err)
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return e.smtpFail("RCPT TO "+a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return e.smtpFail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return e.smtpFail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return e.smtpFail("DATA", err)
	}
	_ = c.Quit() // the server has the mail once DATA is accepted
	return nil
}

// MessageID is the Message-ID of notice key on channel: derived from the
// key, so a mail sent twice (a crash between sending and recording it) is
// one message to the reader's client.
func MessageID(key, channel, fromAddr string) string {
	sum := sha256.Sum256([]byte(key + "/" + channel))
	domain := "relgate.invalid"
	if i := strings.LastIndexByte(fromAddr, '@'); i >= 0 && i+1 < len(fromAddr) {
		domain = fromAddr[i+1:]
	}
	return "<" + hex.EncodeToString(sum[:16]) + ".notice@" + domain + ">"
}

// compose writes the RFC 5322 message: UTF-8 subject as an RFC 2047
// encoded word, plain text body in base64 with CRLF line ends.
func (e *email) compose(m Message, to []*mail.Address) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	from := &mail.Address{Name: "relgate", Address: e.from.Address}
	if e.from.Name != "" {
		from.Name = e.from.Name
	}
	hdr("From", from.String())
	var tos []string
	for _, a := range to {
		tos = append(tos, a.String())
	}
	hdr("To", strings.Join(tos, ",\r\n "))
	hdr("Subject", mime.BEncoding.Encode("UTF-8", clip(oneLine(m.Subject), 250)))
	hdr("Date", e.opts.Now().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	hdr("Message-ID", MessageID(m.Key, m.Channel, e.from.Address))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=UTF-8")
	hdr("Content-Transfer-Encoding", "base64")
	if m.Event != "" && isToken(m.Event) {
		hdr("X-Relgate-Event", m.Event)
	}
	if m.Lang == "zh" || m.Lang == "en" {
		hdr("Content-Language", map[string]string{"zh": "zh-CN", "en": "en"}[m.Lang])
	}
	b.WriteString("\r\n")
	body := m.Text
	if m.Link != "" {
		body += "\n\n" + m.Link
	}
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

func isToken(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
