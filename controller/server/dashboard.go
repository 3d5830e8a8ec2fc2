// This file serves the dashboard (package site) live at / when it is
// turned on: built from the mirror's branch tip at start and again each
// time a fetch moves the tip, in the background, one build at a time, the
// latest tip winning; served from memory, the previous site kept until the
// new one is ready; only to the users the guard (package dashauth) lets in.
// A failed build keeps the last site: the gate does not depend on the
// pages, so it is logged and counted, not a readiness failure.

package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/relgate/relgate/controller/dashauth"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/site"
)

// DashboardConfig turns the dashboard on.
type DashboardConfig struct {
	// Guard decides who may see the pages (required: the pages are never
	// served to everyone).
	Guard dashauth.Guard
	// ForgeURL is the repository's web address (https://github.com/OWNER/NAME):
	// the pages link commits and pull requests there.
	ForgeURL string
	// Poll is how often the mirror's branch tip is compared with the site's
	// (default 2 seconds): whichever fetch moved it (a push event, an
	// evaluation, the resync), the board follows.
	Poll time.Duration
	// RetryFailed is how long after a failed build the same tip is built
	// again (default 1 minute).
	RetryFailed time.Duration
}

// dashboardCSP allows the pages their own styles and scripts and nothing else.
const dashboardCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

// builtSite is a site as served. Its pages are kept gzipped: the site of
// 10,000 releases is hundreds of megabytes of HTML, a tenth of that
// compressed, and every browser takes gzip.
type builtSite struct {
	commit plumbing.Hash
	files  map[string]storedFile
	etag   string
	at     time.Time
	// size and stored are the bytes of the pages and what is kept of them.
	size, stored int64
}

// storedFile is one file: gzipped when that saves, else as it is.
type storedFile struct {
	gz, plain []byte
}

// newBuiltSite compresses a built site's files; the site itself is then
// left to the collector.
func newBuiltSite(st *site.Site, at time.Time) (*builtSite, error) {
	b := &builtSite{commit: st.Commit(), at: at, files: map[string]storedFile{},
		etag: `"` + st.Commit().String()[:16] + "-" + strconv.FormatInt(at.Unix(), 36) + `"`}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	for _, p := range st.Paths() {
		data, _ := st.File(p)
		b.size += int64(len(data))
		if len(data) < 512 {
			b.files[p] = storedFile{plain: data}
			b.stored += int64(len(data))
			continue
		}
		buf.Reset()
		zw.Reset(&buf)
		if _, err := zw.Write(data); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		gz := bytes.Clone(buf.Bytes())
		b.files[p] = storedFile{gz: gz}
		b.stored += int64(len(gz))
	}
	return b, nil
}

// acceptsGzip says whether a request's Accept-Encoding takes gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if name = strings.TrimSpace(name); name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// dashboard holds the served site and the builder's state.
type dashboard struct {
	cfg   DashboardConfig
	cur   atomic.Pointer[builtSite]
	poke  chan struct{}
	cache *loader.Cache
	// sinceCache counts the builds since the cache was made: the cache is
	// started afresh now and then, so blobs of old commits do not pile up.
	sinceCache int
	builds     *prometheus.CounterVec
	duration   prometheus.Gauge
}

// cacheBuilds is how many builds share one decode cache.
const cacheBuilds = 50

func newDashboard(cfg DashboardConfig, m *Metrics) (*dashboard, error) {
	if cfg.Guard == nil {
		return nil, fmt.Errorf("the dashboard needs a sign-in: --dashboard github or --dashboard header")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.RetryFailed <= 0 {
		cfg.RetryFailed = time.Minute
	}
	d := &dashboard{cfg: cfg, poke: make(chan struct{}, 1), cache: loader.NewMemoryCache(),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "relgate_dashboard_builds_total",
			Help: "Dashboard builds by result (ok, error); after an error the previous site is served."}, []string{"result"}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "relgate_dashboard_build_seconds",
			Help: "Time the last successful dashboard build took."})}
	if err := m.Registry().Register(d.builds); err != nil {
		return nil, err
	}
	if err := m.Registry().Register(d.duration); err != nil {
		return nil, err
	}
	return d, nil
}

// pokeDashboard asks the builder to look at the branch tip now.
func (s *Server) pokeDashboard() {
	if s.dash == nil {
		return
	}
	select {
	case s.dash.poke <- struct{}{}:
	default:
	}
}

// buildLoop builds the site whenever the branch tip differs from the
// served site's (or the day changed: what is overdue changes with it),
// until ctx ends. One build at a time: a push during a build is picked up
// by the next look, so the latest tip wins and none queue up.
func (s *Server) buildLoop(ctx context.Context) {
	d := s.dash
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	var failed plumbing.Hash
	var failedAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.poke:
		case <-tick.C:
		}
		if !s.ready.Load() || s.stopping.Load() {
			continue
		}
		var tip plumbing.Hash
		err := s.mirror.Do(func(r *gitrepo.Repo) error {
			ref, err := r.Git.Reference(BranchRef(s.cfg.Branch), true)
			if err == nil {
				tip = ref.Hash()
			}
			return err
		})
		if err != nil {
			continue // not fetched yet; start() pokes once it is
		}
		now := s.cfg.Clock()
		if cur := d.cur.Load(); cur != nil && cur.commit == tip && sameDay(cur.at, now) {
			continue
		}
		if tip == failed && time.Since(failedAt) < d.cfg.RetryFailed {
			continue
		}
		if err := s.buildSite(tip, now); err != nil {
			failed, failedAt = tip, time.Now()
			d.builds.WithLabelValues("error").Inc()
			s.log.Error("dashboard not rebuilt; the previous pages stay", "commit", tip.String(), "err", err)
			continue
		}
		failed = plumbing.ZeroHash
	}
}

func sameDay(a, b time.Time) bool {
	return a.UTC().Format(time.DateOnly) == b.UTC().Format(time.DateOnly)
}

// buildSite builds the site of tip and serves it. It reads the mirror
// through a repository of its own, opened for this build: a go-git
// repository is not safe for concurrent use, and holding the mirror's lock
// for a build of thousands of releases would stall every evaluation. The
// objects of tip are immutable and already fetched; a fetch meanwhile only
// adds objects and moves refs.
func (s *Server) buildSite(tip plumbing.Hash, now time.Time) (err error) {
	d := s.dash
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	t0 := time.Now()
	r, err := gitrepo.Open(s.cfg.MirrorDir)
	if err != nil {
		return err
	}
	defer r.Close()
	if d.sinceCache++; d.sinceCache > cacheBuilds {
		d.cache, d.sinceCache = loader.NewMemoryCache(), 1
	}
	st, err := site.Build(r, s.cfg.Prefix, tip, site.Options{Lang: s.cfg.Lang, Now: now, ForgeURL: d.cfg.ForgeURL, Cache: d.cache,
		Workers: max(1, runtime.GOMAXPROCS(0)/2)})
	if err != nil {
		return err
	}
	// The ETag names the commit and the build: the same commit built on
	// another day shows other overdue releases.
	b, err := newBuiltSite(st, now)
	if err != nil {
		return err
	}
	d.cur.Store(b)
	took := time.Since(t0)
	d.builds.WithLabelValues("ok").Inc()
	d.duration.Set(took.Seconds())
	s.log.Info("dashboard built", "commit", tip.String(), "files", len(b.files), "bytes", b.size, "kept_bytes", b.stored,
		"took", took.Round(time.Millisecond).String())
	return nil
}

// contentTypes are those of the site's files, fixed here: the system's
// MIME table (which mime.TypeByExtension also reads) differs by machine.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
}

// handleDashboard serves a page or asset of the current site; the guard
// has already let the request in.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	cur := s.dash.cur.Load()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if cur == nil {
		h.Set("Retry-After", "10")
		h.Set("Cache-Control", "no-store")
		http.Error(w, "the dashboard is being built; try again in a few seconds / 看板正在生成，请稍后重试", http.StatusServiceUnavailable)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	f, ok := cur.files[p]
	if !ok || path.Clean(p) != p {
		h.Set("Cache-Control", "no-cache")
		http.Error(w, "no such page / 没有这个页面", http.StatusNotFound)
		return
	}
	ct, ok := contentTypes[path.Ext(p)]
	if !ok {
		if ct = mime.TypeByExtension(path.Ext(p)); ct == "" {
			ct = "application/octet-stream"
		}
	}
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("Referrer-Policy", "same-origin")
	body, etag := f.plain, cur.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			// Each encoding its own ETag: they are different bytes.
			body, etag = f.gz, strings.TrimSuffix(cur.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		} else {
			zr, err := gzip.NewReader(bytes.NewReader(f.gz))
			if err == nil {
				body, err = io.ReadAll(io.LimitReader(zr, 64<<20))
			}
			if err != nil {
				http.Error(w, "page unreadable / 页面无法读取", http.StatusInternalServerError)
				return
			}
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// dashboardLink is the release page a check run or commit status links to
// when the dashboard is on and every result of rs is about the same one
// release; "" otherwise (the caller links the result page).
func (s *Server) dashboardLink(rs []prResult) string {
	if s.dash == nil || s.cfg.PublicURL == "" || len(rs) == 0 {
		return ""
	}
	id, lang := "", ""
	for _, r := range rs {
		if len(r.releases) != 1 || (id != "" && r.releases[0] != id) {
			return ""
		}
		id, lang = r.releases[0], r.lang
	}
	if lang == "" {
		lang = string(i18n.SelectEnv(s.cfg.Lang, "", func(string) string { return "" }))
	}
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + "/" + site.ReleasePath(lang, id)
}
