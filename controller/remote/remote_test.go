package remote_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/remote"
)

func TestCheckAccepts(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want remote.Kind
	}{
		{"https://github.com/grid-it/releases.git", remote.HTTPS},
		{"https://x-access-token:ghs_secret@github.com/grid-it/releases", remote.HTTPS},
		{"https://git.example.cn:8443/a/b", remote.HTTPS},
		{"https://[2001:db8::1]/a.git", remote.HTTPS},
		{"ssh://git@github.com/grid-it/releases.git", remote.SSH},
		{"ssh://git@[::1]:2222/srv/releases.git", remote.SSH},
		{"git@github.com:grid-it/releases.git", remote.SCP},
		{"deploy@10.0.0.7:/srv/git/releases.git", remote.SCP},
		{"/srv/git/releases.git", remote.Path},
		{"./releases.git", remote.Path},
		{"../releases", remote.Path},
		{"http://127.0.0.1:8080/releases.git", remote.LoopbackHTTP},
		{"http://localhost/releases.git", remote.LoopbackHTTP},
		{"http://[::1]:9/r.git", remote.LoopbackHTTP},
	} {
		got, err := remote.Classify(tc.url)
		if err != nil || got != tc.want {
			t.Errorf("Classify(%q) = %v, %v; want %v", tc.url, got, err, tc.want)
		}
	}
}

// TestCheckRefuses: each case names the attack or mistake it stands for.
func TestCheckRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
	}{
		{"empty", "", "empty"},
		{"file URL runs git-upload-pack", "file:///srv/git/releases.git", "file:// runs git-upload-pack"},
		{"FILE URL in capitals", "FILE:///etc", "file:// runs"},
		{"ext helper runs a command", "ext::sh -c touch% /tmp/pwned", "transport helper (ext::)"},
		{"fd helper", "fd::3", "transport helper (fd::)"},
		{"other helper", "persistent-https::github.com/a/b", "transport helper"},
		{"helper behind a scheme-like prefix", "git-remote-x::foo", "transport helper"},
		{"option as the remote", "--upload-pack=touch /tmp/pwned", "starts with '-'"},
		{"option-like short", "-oProxyCommand=sh", "starts with '-'"},
		{"ssh host as an option (CVE-2017-1000117)", "ssh://-oProxyCommand=sh/x", "host starts with"},
		{"scp host as an option", "git@-oProxyCommand=sh:x", "host"},
		{"scp user as an option", "-oProxyCommand=sh@host:x", "starts with '-'"},
		{"scp path as an option", "git@host:--upload-pack=sh", "path starts with '-'"},
		{"scp without a user", "github.com:grid-it/releases", "need a user"},
		{"scp with a port go-git reads differently", "git@host:22:repo", "no port"},
		{"scp without a path", "git@host:", "no repository path"},
		{"scp path with a helper mark (fuzz)", "00@0000::", "'::'"},
		{"scp path with a helper mark inside", "git@host:a::b", "'::'"},
		{"plain http to the internet", "http://github.com/grid-it/releases", "only to a loopback host"},
		{"http to a name that looks loopback", "http://127.0.0.1.evil.example/r", "only to a loopback host"},
		{"http to a private address", "http://10.0.0.1/r", "only to a loopback host"},
		{"git protocol, unauthenticated", "git://github.com/a/b", "scheme git:// is not allowed"},
		{"git+ssh", "git+ssh://host/a", "scheme git+ssh:// is not allowed"},
		{"ftp", "ftp://host/a", "not allowed"},
		{"newline smuggles a second line", "https://github.com/a\n/b", "control character"},
		{"NUL", "https://github.com/a\x00b", "control character"},
		{"carriage return", "/srv/git\r", "control character"},
		{"DEL", "/srv/\x7fgit", "control character"},
		{"bidi override hides the host", "https://github.com/\u202egnp.exe", "control character"},
		{"invalid UTF-8", "/srv/\xff", "UTF-8"},
		{"leading space", " https://github.com/a", "space"},
		{"bare remote name is not a URL", "origin", "not a remote URL"},
		{"home-relative path", "~/releases.git", "not a remote URL"},
		{"relative path without ./", "releases/sub", "not a remote URL"},
		{"path with a colon", "/srv/a:b", "ambiguous"},
		{"https without host", "https:///a/b", "no host"},
		{"https with bad port", "https://github.com:99999/a", "port"},
		{"https with a query", "https://github.com/a?upload-pack=x", "no query"},
		{"ssh without path", "ssh://host", "no repository path"},
		{"ssh user as an option", "ssh://-l@host/x", "not a plain user name"},
		{"host with underscore and shell", "https://a;b/c", "host"},
		{"overlong", "https://github.com/" + strings.Repeat("a", 3000), "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := remote.Check(tc.url)
			if err == nil {
				t.Fatalf("Check(%q) accepted", tc.url)
			}
			if !errors.Is(err, remote.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check(%q) = %v; want %q", tc.url, err, tc.want)
			}
		})
	}
}

// TestCheckRedacts: a refused URL's token never reaches the message.
func TestCheckRedacts(t *testing.T) {
	err := remote.Check("http://x-access-token:ghs_SECRET@github.com/a/b")
	if err == nil || strings.Contains(err.Error(), "ghs_SECRET") {
		t.Errorf("error = %v", err)
	}
}

// FuzzCheck: Check never panics, and what it accepts has no control
// characters, no option-like start and no helper or file transport.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"https://github.com/a/b", "git@h:p", "/srv/r", "./r", "ext::sh", "file:///x", "-o", "http://127.0.0.1/r", "ssh://[::1]:22/r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := remote.Classify(s)
		if err != nil {
			if !errors.Is(err, remote.ErrRefused) {
				t.Fatalf("Classify(%q): error not ErrRefused: %v", s, err)
			}
			return
		}
		low := strings.ToLower(s)
		switch {
		case strings.HasPrefix(s, "-"), strings.Contains(s, "::") && !strings.Contains(s, "["),
			strings.HasPrefix(low, "file:"), strings.ContainsAny(s, "\x00\n\r\t"):
			t.Fatalf("Classify(%q) accepted as %v", s, k)
		}
	})
}
