// Package remote decides which git remotes relgate may talk to. A remote URL
// reaches go-git's transports, and some of those start processes or take a
// string as a command (file:// runs git-upload-pack, "ext::" is read as SSH
// to a host named "ext", "-oProxyCommand=…" becomes an ssh option), so every
// remote is checked here before any process starts or any connection is made.
package remote

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/relgate/relgate/controller/redact"
)

// Kind is the sort of remote a string names.
type Kind int

// The kinds of remote relgate accepts.
const (
	HTTPS        Kind = iota + 1 // https://host/path
	SSH                          // ssh://[user@]host[:port]/path
	SCP                          // user@host:path (SSH)
	Path                         // /abs/path, ./rel or ../rel (a local repository)
	LoopbackHTTP                 // http:// to 127.0.0.0/8, ::1 or localhost
)

func (k Kind) String() string {
	switch k {
	case HTTPS:
		return "https"
	case SSH:
		return "ssh"
	case SCP:
		return "scp-style ssh"
	case Path:
		return "local path"
	case LoopbackHTTP:
		return "loopback http"
	}
	return "unknown"
}

// ErrRefused wraps every refusal, so callers can tell a bad remote from a
// remote that did not answer.
var ErrRefused = errors.New("remote refused")

// MaxLen bounds a remote's length: no real URL is longer.
const MaxLen = 2048

var (
	schemeRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
	// A transport helper ("ext::", "fd::", "foo::…"), as git reads it.
	helperRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9+.-]*::`)
	userRe   = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._+-]*$`)
	hostRe   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$`)
	// Git's scp syntax has no port; go-git reads "host:22:path" as one, git
	// as a path "22:path". Refuse what the two would read differently.
	scpPortRe = regexp.MustCompile(`^[0-9]{1,5}:`)
)

func refuse(raw, format string, args ...any) error {
	return fmt.Errorf("remote %q: %s: %w", shown(raw), fmt.Sprintf(format, args...), ErrRefused)
}

// Check returns nil when raw is a remote relgate may fetch from and push to:
// https://, ssh://, scp-style user@host:path, a local repository given as a
// path (absolute, ./ or ../), or http:// to a loopback host (tests and local
// development). Everything else is refused with an error that says why.
func Check(raw string) error {
	_, err := Classify(raw)
	return err
}

// Classify is Check that also says which kind of remote raw is.
func Classify(raw string) (Kind, error) {
	k, err := classify(raw)
	if err != nil {
		return 0, err
	}
	// go-git must read the remote as the kind we accepted, or it would
	// connect somewhere this check never looked at.
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return 0, refuse(raw, "go-git cannot read it: %v", err)
	}
	want := map[Kind]string{HTTPS: "https", SSH: "ssh", SCP: "ssh", Path: "file", LoopbackHTTP: "http"}[k]
	if ep.Protocol != want {
		return 0, refuse(raw, "go-git would read it as %s, not %s", ep.Protocol, k)
	}
	return k, nil
}

func classify(raw string) (Kind, error) {
	switch {
	case raw == "":
		return 0, fmt.Errorf("remote is empty: %w", ErrRefused)
	case len(raw) > MaxLen:
		return 0, fmt.Errorf("remote is %d bytes, at most %d are accepted: %w", len(raw), MaxLen, ErrRefused)
	case !utf8.ValidString(raw):
		return 0, refuse(raw, "not valid UTF-8")
	}
	for _, c := range raw {
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || unicode.Is(unicode.Bidi_Control, c) {
			return 0, refuse(raw, "contains the control character %U", c)
		}
	}
	if unicode.IsSpace(rune(raw[0])) || unicode.IsSpace(rune(raw[len(raw)-1])) {
		return 0, refuse(raw, "starts or ends with a space")
	}
	if raw[0] == '-' {
		return 0, refuse(raw, "starts with '-', which a git or ssh command would read as an option")
	}
	if m := schemeRe.FindStringSubmatch(raw); m != nil {
		return checkURL(raw, strings.ToLower(m[1]))
	}
	if helperRe.MatchString(raw) {
		return 0, refuse(raw, "a git transport helper (%s::) runs a program; use https://, ssh:// or user@host:path", raw[:strings.Index(raw, "::")])
	}
	if strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "./") || strings.HasPrefix(raw, "../") {
		return checkPath(raw)
	}
	if before, _, ok := strings.Cut(raw, ":"); ok && !strings.Contains(before, "/") {
		return checkSCP(raw)
	}
	return 0, refuse(raw, "not a remote URL: give https://HOST/PATH, ssh://HOST/PATH, USER@HOST:PATH, or a local repository as an absolute or ./ path")
}

func checkURL(raw, scheme string) (Kind, error) {
	var k Kind
	switch scheme {
	case "https":
		k = HTTPS
	case "ssh":
		k = SSH
	case "http":
		k = LoopbackHTTP
	case "file":
		return 0, refuse(raw, "file:// runs git-upload-pack on the URL's path; give the local repository as a plain absolute or ./ path")
	default:
		return 0, refuse(raw, "scheme %s:// is not allowed; use https://, ssh:// or USER@HOST:PATH", scheme)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return 0, refuse(raw, "%v", errors.Unwrap(err))
	}
	if u.Opaque != "" || u.Host == "" {
		return 0, refuse(raw, "no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return 0, refuse(raw, "a remote URL has no query or fragment")
	}
	host := u.Hostname()
	if err := checkHost(raw, host); err != nil {
		return 0, err
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return 0, refuse(raw, "port %q is not a number from 1 to 65535", p)
		}
	}
	if u.User != nil && u.User.Username() != "" && k == SSH && !userRe.MatchString(u.User.Username()) {
		return 0, refuse(raw, "ssh user %q is not a plain user name", u.User.Username())
	}
	if k == SSH && (u.Path == "" || u.Path == "/") {
		return 0, refuse(raw, "no repository path")
	}
	if k == LoopbackHTTP && !loopback(host) {
		return 0, refuse(raw, "http:// is allowed only to a loopback host (tests and local development); use https:// for %s", host)
	}
	return k, nil
}

func parsePort(p string) (int, error) {
	n := 0
	if len(p) > 5 {
		return 0, errors.New("too long")
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, errors.New("too large")
	}
	return n, nil
}

func checkHost(raw, host string) error {
	if host == "" {
		return refuse(raw, "no host")
	}
	if strings.HasPrefix(host, "-") {
		return refuse(raw, "host starts with '-', which ssh would read as an option")
	}
	if ip := net.ParseIP(host); ip != nil {
		return nil
	}
	if !hostRe.MatchString(host) || len(host) > 253 {
		return refuse(raw, "host %q is not a host name or IP address", host)
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkPath(raw string) (Kind, error) {
	// A colon makes git and go-git guess between a path and scp syntax;
	// nothing relgate needs lives at such a path.
	if strings.Contains(raw, ":") {
		return 0, refuse(raw, "a local path with ':' is ambiguous (git may read it as host:path); rename the folder")
	}
	return Path, nil
}

func checkSCP(raw string) (Kind, error) {
	userHost, path, _ := strings.Cut(raw, ":")
	user, host, ok := strings.Cut(userHost, "@")
	if !ok {
		return 0, refuse(raw, "scp-style remotes need a user (git@%s:%s); or give ssh://%s/%s, or a local path as ./%s", userHost, path, userHost, path, raw)
	}
	if !userRe.MatchString(user) {
		return 0, refuse(raw, "ssh user %q is not a plain user name", user)
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if err := checkHost(raw, host); err != nil {
		return 0, err
	}
	switch {
	case path == "" || path == "/":
		return 0, refuse(raw, "no repository path after ':'")
	case strings.HasPrefix(path, "-"):
		return 0, refuse(raw, "path starts with '-', which git-upload-pack would read as an option")
	case scpPortRe.MatchString(path):
		return 0, refuse(raw, "scp-style remotes have no port (git and go-git read %q differently); use ssh://%s@%s:PORT/PATH", raw, user, host)
	case strings.HasPrefix(path, "\\"):
		return 0, refuse(raw, "path starts with a backslash")
	case strings.HasPrefix(path, ":") || strings.Contains(path, "::"):
		// git never runs a helper here, but a tool that splits at "::"
		// would; nothing lawful needs it, so it is refused.
		return 0, refuse(raw, "path contains '::', the mark of a git transport helper")
	}
	return SCP, nil
}

// shown is raw as a message may show it: a URL's credentials stripped
// (an scp-style user is a login name, not a secret).
func shown(raw string) string {
	if schemeRe.MatchString(raw) {
		return redact.URL(raw)
	}
	return raw
}
