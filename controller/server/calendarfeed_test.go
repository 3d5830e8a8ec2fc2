package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"github.com/apognu/gocal"

	"github.com/relgate/relgate/controller/dashauth"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

var calendarKey = []byte("calendar-feed-key-for-tests-32by")

// newCalendarEnv is a server on loopback over the replayed examples with
// the calendar feed as feed says and, when dash, the dashboard behind the
// header sign-in of a proxy on 127.0.0.1.
func newCalendarEnv(t *testing.T, feed *CalendarFeedConfig, dash bool) *env {
	t.Helper()
	e := &env{t: t, writer: &fakeWriter{}, logs: &syncBuffer{}, waits: &waitLog{}}
	e.work = gitrepotest.New(t)
	if err := gen.Replay(examples, e.work.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	e.remote = filepath.Join(t.TempDir(), "releases.git")
	if _, err := git.PlainInit(e.remote, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.work.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{e.remote}}); err != nil {
		t.Fatal(err)
	}
	e.push("refs/heads/main:refs/heads/main")
	e.gh = ghapitest.New()
	t.Cleanup(e.gh.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.url = "http://" + ln.Addr().String()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{Logger: log, Secret: testSecret, Remote: e.remote, MirrorDir: filepath.Join(t.TempDir(), "mirror"), Branch: "main",
		Writer: e.writer, DisableSchedule: true, RetryDelays: []time.Duration{20 * time.Millisecond}, ShutdownGrace: 5 * time.Second,
		Clock: func() time.Time { return now }, Lang: "en", PublicURL: e.url, Metrics: NewMetrics(), CalendarFeed: feed}
	if dash {
		g, err := dashauth.NewHeader(dashauth.HeaderConfig{Name: "X-Forwarded-User", Proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Dashboard = &DashboardConfig{Guard: g, Poll: 20 * time.Millisecond}
	}
	srv, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	e.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(e.stop)
	e.eventually("the server is ready", func() bool {
		resp, err := http.Get(e.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return e
}

func feedURL(e *env, login, token string) string {
	return e.url + "/calendar.ics?" + url.Values{"u": {login}, "t": {token}}.Encode()
}

// TestCalendarFeed_R9 is the feed's sign-in table: a signed-in user gets
// it; no session is 401 (the header guard; GitHub's redirects a browser);
// a wrong token, another user's token, a token for a login that is no
// person are refused; a valid token works without a session; and it stops
// working once an approved policy change removes the person.
func TestCalendarFeed_R9(t *testing.T) {
	e := newCalendarEnv(t, &CalendarFeedConfig{Key: calendarKey}, true)
	user := map[string]string{"X-Forwarded-User": "lina"}
	resp, body := raw(t, "GET", e.url+"/calendar.ics", user)
	if resp.StatusCode != 200 {
		t.Fatalf("signed in: %s\n%s", resp.Status, body)
	}
	for k, want := range map[string]string{"Content-Type": "text/calendar; charset=utf-8", "Cache-Control": "no-cache, private"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// The example's release of 2026-11-28 is within today + 90 days; an
	// independent parser reads it at its instant.
	from, to := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	p := gocal.NewParser(strings.NewReader(body))
	p.Start, p.End = &from, &to
	if err := p.Parse(); err != nil {
		t.Fatalf("gocal: %v", err)
	}
	found := false
	for _, ev := range p.Events {
		if ev.Uid == "REL-2026-0043@relgate" && ev.Start.Equal(time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)) {
			found = strings.Contains(ev.Description, e.url+"/en/releases/REL-2026-0043.html")
		}
	}
	if !found {
		t.Errorf("the feed has no REL-2026-0043 at 2026-11-28 22:00 +08:00 linking its page:\n%s", body)
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := raw(t, "GET", e.url+"/calendar.ics", map[string]string{"X-Forwarded-User": "lina", "If-None-Match": etag}); etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %q: %s, want 304", etag, resp.Status)
	}

	// The subscription page shows the signed-in user's own URL, only theirs.
	resp, page := raw(t, "GET", e.url+"/calendar", user)
	own := feedURL(e, "lina", CalendarToken(calendarKey, "lina"))
	if resp.StatusCode != 200 || !strings.Contains(page, strings.ReplaceAll(own, "&", "&amp;")) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the subscription page: %s, no URL of lina's\n%s", resp.Status, page)
	}
	if strings.Contains(page, CalendarToken(calendarKey, "zhangwei")) {
		t.Error("the page shows another user's token")
	}
	if resp, _ := raw(t, "GET", e.url+"/calendar?lang=zh", user); resp.StatusCode != 200 {
		t.Errorf("the page in Chinese: %s", resp.Status)
	}

	for _, tc := range []struct {
		name string
		url  string
		hdr  map[string]string
		want int
	}{
		{"no session", e.url + "/calendar.ics", nil, http.StatusUnauthorized},
		{"no session, a browser", e.url + "/calendar.ics", htmlAccept, http.StatusUnauthorized},
		{"the page without a session", e.url + "/calendar", nil, http.StatusUnauthorized},
		{"a valid token, no session", own, nil, http.StatusOK},
		{"a wrong token", feedURL(e, "lina", strings.Repeat("0", 64)), nil, http.StatusNotFound},
		{"a short token", feedURL(e, "lina", "abc"), nil, http.StatusNotFound},
		{"another user's token", feedURL(e, "zhangwei", CalendarToken(calendarKey, "lina")), nil, http.StatusNotFound},
		{"a token under another key", feedURL(e, "lina", CalendarToken([]byte("another-key-another-key-another!!"), "lina")), nil, http.StatusNotFound},
		{"a login only", e.url + "/calendar.ics?u=lina", nil, http.StatusNotFound},
		{"no person of the policy", feedURL(e, "mallory", CalendarToken(calendarKey, "mallory")), nil, http.StatusForbidden},
		{"a huge query", e.url + "/calendar.ics?u=" + strings.Repeat("a", 2000), nil, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := raw(t, "GET", tc.url, tc.hdr)
			if resp.StatusCode != tc.want {
				t.Errorf("%s: %s, want %d\n%s", tc.url, resp.Status, tc.want, body)
			}
			if tc.want != 200 && strings.Contains(body, "BEGIN:VCALENDAR") {
				t.Error("a refusal carries the calendar")
			}
		})
	}

	// A new person (an approved policy change) gets a working token; the
	// change that removes her again stops it.
	person := "  - login: zhaomin\n    name: 赵敏\n    email: zhaomin@grid-it.example.cn\n"
	e.work.Edit("relgate.yaml", "  - login: relgate-bot\n", person+"  - login: relgate-bot\n")
	approvePolicy(t, e.work)
	e.work.Commit("policy: zhaomin joins", who("liuzhiqiang"))
	e.push("refs/heads/main:refs/heads/main")
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	hers := feedURL(e, "zhaomin", CalendarToken(calendarKey, "zhaomin"))
	e.eventually("the new person's token works", func() bool {
		resp, _ := raw(t, "GET", hers, nil)
		return resp.StatusCode == 200
	})
	e.work.Edit("relgate.yaml", person, "")
	approvePolicy(t, e.work)
	e.work.Commit("policy: zhaomin leaves", who("liuzhiqiang"))
	e.push("refs/heads/main:refs/heads/main")
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.eventually("the removed person's token refused", func() bool {
		resp, _ := raw(t, "GET", hers, nil)
		return resp.StatusCode == http.StatusForbidden
	})
	if resp, _ := raw(t, "GET", own, nil); resp.StatusCode != 200 {
		t.Errorf("lina's token after the change: %s", resp.Status)
	}
	if strings.Contains(e.logs.String(), CalendarToken(calendarKey, "lina")) {
		t.Error("a token is in the logs")
	}
}

// TestCalendarFeedOff: without the feed configured, /calendar.ics and
// /calendar are 404 with or without the dashboard, a token included; a key
// under 32 bytes leaves it off.
func TestCalendarFeedOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		feed *CalendarFeedConfig
		dash bool
	}{
		{"no feed, no dashboard", nil, false},
		{"no feed, dashboard", nil, true},
		{"short key", &CalendarFeedConfig{Key: []byte("short")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCalendarEnv(t, tc.feed, tc.dash)
			user := map[string]string{"X-Forwarded-User": "lina"}
			for _, u := range []string{e.url + "/calendar.ics", e.url + "/calendar", feedURL(e, "lina", CalendarToken([]byte("short"), "lina"))} {
				if resp, _ := raw(t, "GET", u, user); resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: %s, want 404", u, resp.Status)
				}
			}
		})
	}
	// The feed without the dashboard: tokens only (no one can sign in).
	e := newCalendarEnv(t, &CalendarFeedConfig{Key: calendarKey}, false)
	if resp, _ := raw(t, "GET", e.url+"/calendar.ics", map[string]string{"X-Forwarded-User": "lina"}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a header without the dashboard: %s, want 404", resp.Status)
	}
	if resp, _ := raw(t, "GET", feedURL(e, "lina", CalendarToken(calendarKey, "lina")), nil); resp.StatusCode != 200 {
		t.Errorf("a token without the dashboard: %s, want 200", resp.Status)
	}
}
