package dashauth

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// HeaderConfig configures the identity-header guard.
type HeaderConfig struct {
	// Name is the header the authenticating proxy sets (X-Forwarded-User).
	// The proxy must remove it from what clients send, or anyone could
	// name anyone.
	Name string
	// Proxies, when set, are the only addresses the header is accepted
	// from; a request from elsewhere is refused.
	Proxies []netip.Prefix
	Logger  *slog.Logger
}

// Header is the identity-header guard.
type Header struct {
	cfg HeaderConfig
}

var _ Guard = (*Header)(nil)

// NewHeader checks the configuration: a header name that cannot carry an
// identity (Cookie, Authorization, Host, …) is refused.
func NewHeader(cfg HeaderConfig) (*Header, error) {
	name := http.CanonicalHeaderKey(strings.TrimSpace(cfg.Name))
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) {
		return nil, fmt.Errorf("identity header %q: want a header name such as X-Forwarded-User", cfg.Name)
	}
	switch {
	case strings.HasPrefix(name, "Sec-") || strings.HasPrefix(name, "Accept-") || strings.HasPrefix(name, "If-") || strings.HasPrefix(name, "Proxy-"):
		return nil, fmt.Errorf("identity header %q: a header browsers or proxies send for themselves cannot name the user", name)
	}
	switch name {
	case "Cookie", "Cookie2", "Authorization", "Host", "Content-Type", "Content-Length", "Accept", "User-Agent", "Referer", "Origin", "Connection",
		"X-Forwarded-For", "X-Real-Ip", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "Via",
		"Cache-Control", "Pragma", "Range", "Te", "Upgrade", "Dnt", "Priority":
		return nil, fmt.Errorf("identity header %q: a header browsers or proxies send for themselves cannot name the user", name)
	}
	cfg.Name = name
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Header{cfg: cfg}, nil
}

// Mode is "header".
func (h *Header) Mode() string { return "header" }

// Register adds nothing: the proxy signs users in and out.
func (h *Header) Register(*http.ServeMux) {}

// Require serves next to a request that carries exactly one valid
// identity in the header, from a proxy address when those are configured;
// anything else is 401.
func (h *Header) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(h.cfg.Proxies) > 0 && !h.fromProxy(r.RemoteAddr) {
			h.cfg.Logger.Warn("dashboard request not from the authenticating proxy refused", "remote", r.RemoteAddr)
			plain(w, http.StatusUnauthorized, "open the dashboard through the company's sign-in proxy / 请通过公司的登录代理访问")
			return
		}
		vs := r.Header.Values(h.cfg.Name)
		if len(vs) != 1 || checkLogin(strings.TrimSpace(vs[0])) != nil {
			plain(w, http.StatusUnauthorized, "not signed in: the sign-in proxy named no user / 未登录：登录代理没有提供用户")
			return
		}
		next.ServeHTTP(w, withLogin(r, strings.TrimSpace(vs[0])))
	})
}

func (h *Header) fromProxy(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range h.cfg.Proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
