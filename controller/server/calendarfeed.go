// This file serves the change calendar as an iCalendar feed (issue 15,
// GET /calendar.ics to a user the dashboard's guard signs in, and to
// a calendar app that cannot sign in through a per-user secret URL,
// /calendar.ics?u=LOGIN&t=TOKEN with TOKEN = HMAC-SHA256(key,
// "calendar\x00"+LOGIN), which a signed-in user finds at /calendar (their
// own only). A token counts only while its login is a person of the policy
// at the branch tip. The calendar is built on demand from the mirror's
// branch tip and kept per tip, day and language. Off unless configured: then
// both paths are 404.

package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/calview"
	"github.com/relgate/relgate/controller/dashauth"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// MinCalendarKey is the shortest key that may sign calendar URLs.
const MinCalendarKey = 32

// Bounds of the feed.
const (
	// DefaultCalendarDays is the range from today a feed covers.
	DefaultCalendarDays = 90
	// maxCalendarQuery bounds the query of a request to the feed.
	maxCalendarQuery = 1024
	// maxCalendarBuilds is how many built calendars are kept (a tip in
	// two languages, and the one before it).
	maxCalendarBuilds = 4
)

// CalendarFeedConfig turns /calendar.ics on.
type CalendarFeedConfig struct {
	// Key signs the per-user secret URLs; at least MinCalendarKey bytes.
	Key []byte
	// Days is the range from today (policy timezone) the feed covers
	// (default 90, at most 400).
	Days int
	// Recheck is how long a token user's read access, as the sign-in
	// re-checks it (GitHub), is remembered (default 1 hour).
	Recheck time.Duration
}

// readChecker is a guard that can say whether a login may still read the
// release repository without a session (GitHub sign-in).
type readChecker interface {
	CanRead(ctx context.Context, login string) (bool, error)
}

// calendarFeed is the feed's state, made by calendarRoutes.
type calendarFeed struct {
	s   *Server
	cfg CalendarFeedConfig
	// mu serialises builds: one at a time, the rest wait for its result.
	mu     sync.Mutex
	builds []*builtCalendar
	cache  *loader.Cache

	amu    sync.Mutex
	access map[string]accessVerdict
}

type builtCalendar struct {
	commit plumbing.Hash
	day    string
	lang   i18n.Lang
	ics    []byte
	etag   string
	pol    *policy.Policy
}

type accessVerdict struct {
	ok bool
	at time.Time
}

// calendarRoutes registers /calendar.ics and /calendar: the feed when it
// is configured, else a 404 for both (not the dashboard's sign-in).
func (s *Server) calendarRoutes(mux *http.ServeMux) {
	cfg := s.cfg.CalendarFeed
	if cfg == nil || len(cfg.Key) < MinCalendarKey {
		if cfg != nil {
			s.log.Error("calendar feed off: its key is shorter than 32 bytes")
		}
		off := func(w http.ResponseWriter, _ *http.Request) {
			feedError(w, http.StatusNotFound, "no such page", "没有这个页面")
		}
		mux.HandleFunc("GET /calendar.ics", off)
		mux.HandleFunc("GET /calendar", off)
		return
	}
	c := *cfg
	if c.Days <= 0 {
		c.Days = DefaultCalendarDays
	}
	if c.Days > int(calview.MaxRange/(24*time.Hour)) {
		c.Days = int(calview.MaxRange / (24 * time.Hour))
	}
	if c.Recheck <= 0 {
		c.Recheck = time.Hour
	}
	f := &calendarFeed{s: s, cfg: c, cache: loader.NewMemoryCache(), access: map[string]accessVerdict{}}
	var ics http.Handler = http.HandlerFunc(f.serveSignedIn)
	var page http.Handler = http.HandlerFunc(f.servePage)
	if s.dash != nil {
		ics, page = s.dash.cfg.Guard.Require(ics), s.dash.cfg.Guard.Require(page)
	} else {
		ics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			feedError(w, http.StatusNotFound, "no such page", "没有这个页面")
		})
		page = ics
	}
	mux.Handle("GET /calendar.ics", s.metrics.InstrumentHandler("/calendar.ics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > maxCalendarQuery {
			feedError(w, http.StatusBadRequest, "the query is too long", "查询参数过长")
			return
		}
		q := r.URL.Query()
		if q.Has("u") || q.Has("t") {
			f.serveToken(w, r, q.Get("u"), q.Get("t"))
			return
		}
		ics.ServeHTTP(w, r)
	})))
	mux.Handle("GET /calendar", s.metrics.InstrumentHandler("/calendar", page))
}

// CalendarToken is the secret of login's calendar URL under key.
func CalendarToken(key []byte, login string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("calendar\x00" + login))
	return hex.EncodeToString(m.Sum(nil))
}

// tokenOK compares in constant time; a token that is not 64 hex digits,
// or a login that is no identity, never matches.
func (f *calendarFeed) tokenOK(login, token string) bool {
	if login == "" || len(login) > dashauth.MaxLogin || len(token) != 2*sha256.Size {
		return false
	}
	for _, r := range login {
		if r <= ' ' || r == 0x7f || r == '"' || r == '\\' || r == ',' {
			return false
		}
	}
	got, err := hex.DecodeString(token)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(CalendarToken(f.cfg.Key, login))
	return hmac.Equal(got, want)
}

// serveToken serves the feed to a secret URL: the token must be login's,
// login a person of the policy at the tip, and (GitHub sign-in) still
// able to read the repository.
func (f *calendarFeed) serveToken(w http.ResponseWriter, r *http.Request, login, token string) {
	if !f.tokenOK(login, token) {
		f.s.log.Warn("calendar feed: a secret URL that is no user's refused")
		feedError(w, http.StatusNotFound, "no such calendar", "没有这个日历")
		return
	}
	b, err := f.built(feedLang(r, f.s.cfg.Lang))
	if err != nil {
		f.s.log.Error("calendar feed not built", "err", err)
		feedUnavailable(w)
		return
	}
	if !isPerson(b.pol, login) {
		f.s.log.Warn("calendar feed: the login of a secret URL is no person of the policy", "login", login)
		feedError(w, http.StatusForbidden, "this calendar's user is no longer a person of the policy", "此日历的用户已不在策略的人员名单中")
		return
	}
	if f.s.dash != nil {
		if rc, ok := f.s.dash.cfg.Guard.(readChecker); ok {
			ok, err := f.canRead(r.Context(), rc, login)
			if err != nil {
				f.s.log.Error("calendar feed: read access not checked", "login", login, "err", err)
				feedUnavailable(w)
				return
			}
			if !ok {
				feedError(w, http.StatusForbidden, "this calendar's user can no longer read the release repository", "此日历的用户已无权读取发布仓库")
				return
			}
		}
	}
	f.write(w, r, b)
}

// serveSignedIn serves the feed to a user the guard let in.
func (f *calendarFeed) serveSignedIn(w http.ResponseWriter, r *http.Request) {
	b, err := f.built(feedLang(r, f.s.cfg.Lang))
	if err != nil {
		f.s.log.Error("calendar feed not built", "err", err)
		feedUnavailable(w)
		return
	}
	f.write(w, r, b)
}

func (f *calendarFeed) write(w http.ResponseWriter, r *http.Request, b *builtCalendar) {
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Cache-Control", "no-cache, private")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("ETag", b.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b.ics))
}

// canRead asks the guard, remembering a yes for cfg.Recheck and a no for a
// minute; an error is no answer (fail closed, not remembered).
func (f *calendarFeed) canRead(ctx context.Context, rc readChecker, login string) (bool, error) {
	now := time.Now()
	f.amu.Lock()
	v, ok := f.access[login]
	f.amu.Unlock()
	if ok && (v.ok && now.Sub(v.at) < f.cfg.Recheck || !v.ok && now.Sub(v.at) < time.Minute) {
		return v.ok, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	yes, err := rc.CanRead(cctx, login)
	if err != nil {
		return false, err
	}
	f.amu.Lock()
	if len(f.access) > 10000 {
		clear(f.access)
	}
	f.access[login] = accessVerdict{ok: yes, at: now}
	f.amu.Unlock()
	return yes, nil
}

func isPerson(p *policy.Policy, login string) bool {
	if p == nil {
		return false
	}
	if _, ok := p.Person(login); ok {
		return true
	}
	_, ok := p.PersonByEmail(login)
	return ok
}

// built is the calendar of the branch tip today in lang, built now if it
// is not kept already.
func (f *calendarFeed) built(lang i18n.Lang) (b *builtCalendar, err error) {
	s := f.s
	var tip plumbing.Hash
	if err := s.mirror.Do(func(r *gitrepo.Repo) error {
		ref, err := r.Git.Reference(BranchRef(s.cfg.Branch), true)
		if err == nil {
			tip = ref.Hash()
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("branch %s not fetched yet: %w", s.cfg.Branch, err)
	}
	now := s.cfg.Clock()
	f.mu.Lock()
	defer f.mu.Unlock()
	find := func(day string) *builtCalendar {
		for _, b := range f.builds {
			if b.commit == tip && b.lang == lang && b.day == day {
				return b
			}
		}
		return nil
	}
	// The day is the policy's; a kept build of this tip knows its policy.
	for _, c := range f.builds {
		if c.commit == tip && c.lang == lang {
			if b := find(now.In(c.pol.Location).Format(time.DateOnly)); b != nil {
				return b, nil
			}
		}
	}
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("panic building the calendar: %v", p)
		}
	}()
	r, err := gitrepo.Open(s.cfg.MirrorDir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	board, err := engine.LoadBoard(r, s.cfg.Prefix, tip, engine.BoardOptions{Cache: f.cache, Lang: string(lang)})
	if err != nil {
		return nil, err
	}
	loc := board.Policy.Location
	lt := now.In(loc)
	from := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	cal, _ := calendar.FromPolicy(board.Policy.Policy, loc)
	m := calview.Build(board, cal, from, from.AddDate(0, 0, f.cfg.Days), lang)
	if s.dash != nil {
		m.WithLinks(s.cfg.PublicURL)
	}
	var buf bytes.Buffer
	if err := m.ICS(&buf); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(buf.Bytes())
	b = &builtCalendar{commit: tip, day: from.Format(time.DateOnly), lang: lang, ics: buf.Bytes(), pol: board.Policy,
		etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	f.builds = append(f.builds, b)
	if len(f.builds) > maxCalendarBuilds {
		f.builds = f.builds[len(f.builds)-maxCalendarBuilds:]
	}
	return b, nil
}

// feedLang is ?lang=, else the server's language, else English.
func feedLang(r *http.Request, serverLang string) i18n.Lang {
	if l, err := i18n.Parse(r.URL.Query().Get("lang")); err == nil {
		return l
	}
	if l, err := i18n.Parse(serverLang); err == nil {
		return l
	}
	if strings.HasPrefix(r.Header.Get("Accept-Language"), "zh") {
		return i18n.Chinese
	}
	return i18n.English
}

// servePage shows the signed-in user their own subscription URL.
func (f *calendarFeed) servePage(w http.ResponseWriter, r *http.Request) {
	login, ok := dashauth.Login(r.Context())
	if !ok {
		feedError(w, http.StatusUnauthorized, "not signed in", "未登录")
		return
	}
	l := feedLang(r, f.s.cfg.Lang)
	path := "/calendar.ics?" + url.Values{"u": {login}, "t": {CalendarToken(f.cfg.Key, login)}}.Encode()
	sub := path
	if base := strings.TrimSuffix(f.s.cfg.PublicURL, "/"); base != "" {
		sub = base + path
	}
	webcal := ""
	if u, err := url.Parse(sub); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		u.Scheme = "webcal"
		webcal = u.String()
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	var buf bytes.Buffer
	err := calendarPage.Execute(&buf, map[string]any{
		"Lang": string(l), "Login": login, "URL": sub, "Webcal": template.URL(webcal),
		"Title": l.T("Subscribe to the change calendar", "订阅变更日历"),
		"Intro": l.T("Add this address to Outlook or Thunderbird as an internet calendar. It is yours alone: it shows the calendar without signing in, so do not share it.",
			"在 Outlook 或 Thunderbird 中将此地址添加为网络日历。此地址仅属于您本人：无需登录即可查看日历，请勿分享。"),
		"Open":   l.T("Open in the calendar app", "在日历应用中打开"),
		"Signed": l.T("Signed in as", "当前用户"),
		"Stops":  l.T("It stops working when you are no longer a person of the policy.", "当您不再是策略中的人员时，此地址即失效。"),
	})
	if err != nil {
		feedError(w, http.StatusInternalServerError, "page unreadable", "页面无法生成")
		return
	}
	w.Write(buf.Bytes())
}

var calendarPage = template.Must(template.New("calendar").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Signed}} {{.Login}}</p>
<p>{{.Intro}}</p>
<p><input readonly size="100" value="{{.URL}}"></p>
{{if .Webcal}}<p><a href="{{.Webcal}}">{{.Open}}</a></p>{{end}}
<p>{{.Stops}}</p>
</body></html>
`))

func feedError(w http.ResponseWriter, code int, en, zh string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, "%s / %s\n", en, zh)
}

func feedUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "30")
	feedError(w, http.StatusServiceUnavailable, "the calendar cannot be built now; try again shortly", "日历暂时无法生成，请稍后重试")
}
