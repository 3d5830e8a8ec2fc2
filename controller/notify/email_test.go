package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
	"github.com/relgate/relgate/controller/document"
)

// smtpServer is a loopback mail server (github.com/emersion/go-smtp) that
// records every mail, the authentications and whether each came over TLS.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	// mails received; auths tried (user:password, TLS or not); commands seen in the clear.
	mails   []receivedMail
	auths   []string
	inClear []string
}

type receivedMail struct {
	From string
	To   []string
	Data []byte
	TLS  bool
}

func newSMTPServer(t *testing.T, tlsConfig *tls.Config, user, password string) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{s: s, c: c, user: user, password: password}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = tlsConfig
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	srv.AllowInsecureAuth = true // the fake accepts AUTH in the clear, so a client that sent it would be caught
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

type smtpSession struct {
	s              *smtpServer
	c              *smtp.Conn
	user, password string
	cur            receivedMail
}

func (ss *smtpSession) tls() bool { _, ok := ss.c.TLSConnectionState(); return ok }

func (ss *smtpSession) note(cmd string) {
	if !ss.tls() {
		ss.s.mu.Lock()
		ss.s.inClear = append(ss.s.inClear, cmd)
		ss.s.mu.Unlock()
	}
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	ss.note("AUTH")
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.s.mu.Lock()
		ss.s.auths = append(ss.s.auths, username+":"+password)
		ss.s.mu.Unlock()
		if username != ss.user || password != ss.password {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.note("MAIL")
	ss.cur = receivedMail{From: from, TLS: ss.tls()}
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.note("RCPT")
	ss.cur.To = append(ss.cur.To, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	ss.note("DATA")
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = data
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, ss.cur)
	ss.s.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset()        { ss.cur = receivedMail{} }
func (ss *smtpSession) Logout() error { return nil }

func (s *smtpServer) received() ([]receivedMail, []string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.mails...), append([]string(nil), s.auths...), append([]string(nil), s.inClear...)
}

func emailChannel(t *testing.T, addr string, clientTLS *tls.Config, clock *fakeClock, password string) Channel {
	t.Helper()
	ch, err := NewChannel(document.NoticeChannel{Name: "mail", Kind: "email", SecretEnv: "SMTP_PASSWORD",
		SMTP: &document.SMTPServer{Address: addr, From: "relgate-bot@grid-it.example.cn", Username: "relgate"}},
		env(map[string]string{"SMTP_PASSWORD": password}), Options{TLSConfig: clientTLS, Now: clock.Now, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestEmailOverSTARTTLS(t *testing.T) {
	serverTLS, clientTLS := testCA(t)
	const password = "pw-Zx81-secret"
	srv := newSMTPServer(t, serverTLS, "relgate", password)
	clock := newFakeClock()
	ch := emailChannel(t, srv.addr, clientTLS, clock, password)
	m := testMessage("mail")
	m.Recipients = append(m.Recipients, Recipient{Login: "wangfang", Name: "王芳", Email: "wangfang@grid-it.example.cn"},
		Recipient{Login: "nomail"})
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mails, auths, inClear := srv.received()
	if len(mails) != 1 {
		t.Fatalf("server got %d mails, want 1", len(mails))
	}
	if len(inClear) != 0 {
		t.Errorf("commands sent before TLS: %v", inClear)
	}
	if d := cmp.Diff([]string{"relgate:" + password}, auths); d != "" {
		t.Errorf("auths (-want +got):\n%s", d)
	}
	got := mails[0]
	if !got.TLS || got.From != "relgate-bot@grid-it.example.cn" {
		t.Errorf("mail from %q over TLS %v", got.From, got.TLS)
	}
	if d := cmp.Diff([]string{"zhangwei@grid-it.example.cn", "wangfang@grid-it.example.cn"}, got.To); d != "" {
		t.Errorf("RCPT (-want +got):\n%s", d)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, got.Data)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject %q decodes to %q (%v), want %q", msg.Header.Get("Subject"), subject, err, m.Subject)
	}
	if !strings.HasPrefix(msg.Header.Get("Subject"), "=?UTF-8?b?") {
		t.Errorf("Subject %q is not an RFC 2047 encoded word", msg.Header.Get("Subject"))
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != "张伟" || to[1].Address != "wangfang@grid-it.example.cn" {
		t.Errorf("To %v (%v)", to, err)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(clock.Now()) {
		t.Errorf("Date %v (%v), want %v", d, err, clock.Now())
	}
	if id := msg.Header.Get("Message-ID"); id != MessageID(m.Key, "mail", "relgate-bot@grid-it.example.cn") || !strings.HasSuffix(id, "@grid-it.example.cn>") {
		t.Errorf("Message-ID %q", id)
	}
	if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cte := msg.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
		t.Errorf("Content-Transfer-Encoding %q", cte)
	}
	raw, _ := io.ReadAll(msg.Body)
	body, err := decodeBase64Lines(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(m.Text+"\n\n"+m.Link+"\n", "\n", "\r\n"); body != want {
		t.Errorf("body %q, want %q", body, want)
	}
}

func TestEmailRefusals(t *testing.T) {
	serverTLS, clientTLS := testCA(t)
	const password = "pw-Zx81-secret"
	tests := []struct {
		name      string
		serverTLS *tls.Config
		clientTLS *tls.Config
		password  string
		msg       func(Message) Message
		want      Class
		wantText  string
	}{
		{"attack: a server without STARTTLS is refused; nothing, not even the password, is sent", nil, clientTLS, password,
			func(m Message) Message { return m }, Permanent, "STARTTLS"},
		{"attack: a server whose certificate the client does not trust gets nothing", serverTLS, &tls.Config{}, password,
			func(m Message) Message { return m }, Temporary, "STARTTLS"},
		{"wrong password is permanent and not shown", serverTLS, clientTLS, "wrong-password-77",
			func(m Message) Message { return m }, Permanent, "AUTH"},
		{"no recipient with an email address", serverTLS, clientTLS, password,
			func(m Message) Message { m.Recipients = []Recipient{{Login: "zhangwei"}}; return m }, Permanent, "no recipient"},
		{"attack: a recipient address with a header injected", serverTLS, clientTLS, password,
			func(m Message) Message {
				m.Recipients = []Recipient{{Login: "x", Email: "a@b.cn\r\nBcc: evil@example.com"}}
				return m
			}, Permanent, "not an email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSMTPServer(t, tt.serverTLS, "relgate", password)
			ch := emailChannel(t, srv.addr, tt.clientTLS, newFakeClock(), tt.password)
			err := ch.Send(context.Background(), tt.msg(testMessage("mail")))
			if err == nil {
				t.Fatal("Send: no error")
			}
			if ClassOf(err) != tt.want || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err %v (class %v), want class %v naming %q", err, ClassOf(err), tt.want, tt.wantText)
			}
			var e *Error
			if errors.As(err, &e) && (strings.Contains(e.In("zh"), tt.password) || strings.Contains(err.Error(), tt.password)) {
				t.Errorf("error shows the password: %v", err)
			}
			mails, auths, inClear := srv.received()
			if len(mails) != 0 {
				t.Errorf("server got %d mails", len(mails))
			}
			if len(inClear) != 0 {
				t.Errorf("sent in the clear: %v", inClear)
			}
			if tt.want != Permanent || tt.wantText != "AUTH" {
				if len(auths) != 0 {
					t.Errorf("password sent: %v", auths)
				}
			}
		})
	}
}

func decodeBase64Lines(raw []byte) (string, error) {
	out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	return string(out), err
}
