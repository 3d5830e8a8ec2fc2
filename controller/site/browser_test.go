package site_test

// Tests of the dashboard in a real browser (issue 14): headless Chromium,
// driven over the DevTools protocol by chromedp, loads every page of two
// sites served from loopback — the example repository replayed as a lawful
// history, and a generated repository of 1,000 releases — and checks what a
// reader meets: no console error or failed request, every link resolving,
// the structure assistive technology relies on, the filters with and
// without JavaScript, both languages, printing, and a screenshot of each
// page kind in each language.
//
// Without Chromium the test skips, unless RELGATE_REQUIRE_BROWSER=1 (CI),
// which makes a missing browser a failure: CI never passes by skipping.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/site"
)

const (
	// maxPageBytes is the bound on a page without images.
	maxPageBytes = 200 << 10
	// tabs load pages in parallel: on CI's 2 cores more tabs only queue.
	tabs = 4
	// pageDeadline bounds one page's load and inspection.
	pageDeadline = 20 * time.Second
)

// forgePath is where the test server plays the forge: the example site's
// commit and pull request links point there, so they resolve as well.
const forgePath = "/forge/acme/release-repo"

func TestBrowser(t *testing.T) {
	b := startBrowser(t)
	example := lazySite(t, "example", buildExample)
	n := 1000
	if v := os.Getenv("RELGATE_BROWSER_RELEASES"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			t.Fatalf("RELGATE_BROWSER_RELEASES=%q: want a number of releases", v)
		}
	}
	big := lazySite(t, fmt.Sprintf("generated-%d", n), buildGenerated(n))

	for _, s := range []*lazy{example, big} {
		t.Run("pages/"+s.name, func(t *testing.T) { testPages(t, b, s.get(t), s == example) })
	}
	t.Run("filters", func(t *testing.T) {
		testFilters(t, b, big.get(t), site.BoardPath("zh"), 1280)
		testFilters(t, b, big.get(t), "en/state/closed.html", 1280)
		testFilters(t, b, example.get(t), site.BoardPath("en"), 1280)
		// A phone: the narrow layout shows rows as blocks, and must still
		// hide the rows filtered out.
		testFilters(t, b, example.get(t), site.BoardPath("zh"), 390)
	})
	t.Run("sort", func(t *testing.T) { testSort(t, b, big.get(t), "en/state/closed.html") })
	t.Run("noscript", func(t *testing.T) {
		testNoScript(t, b, example.get(t), site.BoardPath("en"))
		testNoScript(t, b, big.get(t), site.BoardPath("zh"))
	})
	t.Run("languages", func(t *testing.T) { testLanguages(t, b, example.get(t)) })
	t.Run("screenshots", func(t *testing.T) { testScreenshots(t, b, example.get(t)) })
	t.Run("print", func(t *testing.T) { testPrint(t, b, example.get(t)) })
	t.Run("detects", func(t *testing.T) { testDetects(t, b) })
}

// browser is a running headless Chromium.
type browser struct {
	ctx context.Context // the browser's; a tab is chromedp.NewContext(ctx)
}

// startBrowser starts Chromium for the test and stops it at the end.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	exe := os.Getenv("RELGATE_CHROMIUM")
	if exe == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				exe = p
				break
			}
		}
	}
	if exe == "" {
		msg := "no Chromium on this machine (install Debian's chromium, or set RELGATE_CHROMIUM to its path): the browser tests did not run"
		if os.Getenv("RELGATE_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; RELGATE_REQUIRE_BROWSER=1 makes that a failure")
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// The machine's network is closed: without these Chromium keeps
		// trying to reach Google's services, and the refusals are noise.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 900),
	)
	// The browser lives as long as the test, and no longer than its
	// deadline (go test -timeout); every action has its own deadline too.
	ctx, cancel := context.WithCancel(t.Context())
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(t.Context(), d.Add(-5*time.Second))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return &browser{ctx: bctx}
}

// tab is one browser tab that records what goes wrong while it loads a
// page: exceptions, console errors, error log entries, failed requests and
// responses of 400 or more.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	urls     map[network.RequestID]string
}

func (b *browser) newTab(t *testing.T) *tab { return b.newTabSized(t, 1280, 900) }

// newTabSized opens a tab with a viewport of w×h CSS pixels.
func (b *browser) newTabSized(t *testing.T, w, h int64) *tab {
	t.Helper()
	tb := &tab{urls: map[network.RequestID]string{}}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(tb.event))
	t.Cleanup(cancel)
	tb.ctx = ctx
	// The first Do opens the tab; it gets no deadline of its own, since
	// the context of a first Do owns the tab.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tb
}

func (tb *tab) event(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		tb.problems = append(tb.problems, fmt.Sprintf("exception at %s:%d: %s", e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			tb.problems = append(tb.problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
		}
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			tb.problems = append(tb.problems, fmt.Sprintf("log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		tb.urls[e.RequestID] = e.Request.URL
	case *network.EventLoadingFailed:
		tb.problems = append(tb.problems, fmt.Sprintf("request for %s failed: %s %s", tb.urls[e.RequestID], e.ErrorText, e.BlockedReason))
	case *network.EventResponseReceived:
		if e.Response.Status >= 400 {
			tb.problems = append(tb.problems, fmt.Sprintf("%s answered %d", e.Response.URL, e.Response.Status))
		}
	}
}

// take returns the problems recorded since the last take.
func (tb *tab) take() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	clear(tb.urls)
	return p
}

// do runs steps with the page deadline.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(tb.ctx, pageDeadline)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// run runs one action with the page deadline and returns its value.
func run[T any](tb *tab, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, pageDeadline)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// servedSite is a site built from a real repository and served on
// loopback.
type servedSite struct {
	name  string
	site  *site.Site
	srv   *httptest.Server
	forge string // the forge URL the site links to; empty: none
	// documented are the web addresses the repository's documents give (a
	// change request's page in the service desk): a page may link them.
	documented map[string]bool
}

func (s *servedSite) url(p string) string { return s.srv.URL + "/" + p }

// pages are the site's HTML files.
func (s *servedSite) pages() []string {
	var out []string
	for _, p := range s.site.Paths() {
		if strings.HasSuffix(p, ".html") {
			out = append(out, p)
		}
	}
	return out
}

// builder builds a site from a repository it makes, linking forge when
// it wants forge links; it returns the repository's work tree too.
type builder func(t *testing.T, forge string) (s *site.Site, usedForge, src string)

// lazy is a site built and served when a subtest first needs it, so that
// -run picks what is built.
type lazy struct {
	name   string
	parent *testing.T // owns the server
	build  builder
	once   sync.Once
	s      *servedSite
}

func lazySite(t *testing.T, name string, build builder) *lazy {
	return &lazy{name: name, parent: t, build: build}
}

func (l *lazy) get(t *testing.T) *servedSite {
	t.Helper()
	l.once.Do(func() { l.s = serveSite(t, l.parent, l.name, l.build) })
	if l.s == nil {
		t.Fatalf("%s: the site could not be built (see the first subtest that needed it)", l.name)
	}
	return l.s
}

// serveSite starts the server first, so the site can link its forge
// address, then builds the site; the server lives as long as owner.
func serveSite(t, owner *testing.T, name string, build builder) *servedSite {
	t.Helper()
	s := &servedSite{name: name}
	// Requests wait until the site is built (none come earlier).
	var ready sync.WaitGroup
	ready.Add(1)
	defer ready.Done()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready.Wait()
		if strings.HasPrefix(r.URL.Path, forgePath+"/") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>forge</title></head><body><h1>forge</h1></body></html>`)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/")
		if p == "" || strings.HasSuffix(p, "/") {
			p += "index.html"
		}
		b, ok := s.site.File(p)
		if !ok {
			http.NotFound(w, r)
			return
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		// As GitHub Pages does: the shared assets are fetched once per tab,
		// not once per page.
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write(b)
	}))
	owner.Cleanup(s.srv.Close)
	start := time.Now()
	var src string
	s.site, s.forge, src = build(t, s.srv.URL+forgePath)
	s.documented = documentedURLs(t, src)
	t.Logf("%s: %d files (%d pages) built in %v, served at %s", name, len(s.site.Paths()), len(s.pages()), time.Since(start).Round(time.Millisecond), s.srv.URL)
	return s
}

// buildExample replays examples/release-repo as a lawful history and
// builds its site with forge links.
func buildExample(t *testing.T, forge string) (*site.Site, string, string) {
	t.Helper()
	g := gitrepotest.New(t)
	if err := gen.Replay(filepath.Join("..", "..", "examples", "release-repo"), g.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	return buildAt(t, g.Dir, forge), forge, g.Dir
}

// buildGenerated generates a repository of n releases and builds its site
// without a forge URL.
func buildGenerated(n int) builder {
	return func(t *testing.T, _ string) (*site.Site, string, string) {
		t.Helper()
		gitrepotest.Isolate(t)
		dir := t.TempDir()
		start := time.Now()
		if _, err := gen.Generate(dir, gen.Options{Releases: n, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		t.Logf("generated %d releases in %v", n, time.Since(start).Round(time.Millisecond))
		return buildAt(t, dir, ""), "", dir
	}
}

func buildAt(t *testing.T, dir, forge string) *site.Site {
	t.Helper()
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tip, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s, err := site.Build(r, "", tip, site.Options{ForgeURL: forge})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("site.Build: %v", time.Since(start).Round(time.Millisecond))
	return s
}

// facts are what a page's DOM shows, gathered by factsScript.
type facts struct {
	Lang  string   `json:"lang"`
	Title string   `json:"title"`
	H1    int      `json:"h1"`
	Links []string `json:"links"` // absolute, resolved against the page
	IDs   []string `json:"ids"`
	// Unnamed are controls without an accessible name; NoAlt images
	// without alt text; Broken images that did not decode.
	Unnamed []string `json:"unnamed"`
	NoAlt   []string `json:"noAlt"`
	Broken  []string `json:"broken"`
}

// factsScript gathers a page's facts in the browser. A control's name is
// the text of its labels, aria-label, aria-labelledby's text, its own text
// (buttons) or its title — what assistive technology announces.
const factsScript = `(() => {
  const links = [];
  for (const [sel, attr] of [["a[href]", "href"], ["link[href]", "href"], ["script[src]", "src"], ["img[src]", "src"]]) {
    document.querySelectorAll(sel).forEach(e => links.push(new URL(e.getAttribute(attr), document.baseURI).href));
  }
  const text = s => (s || "").trim();
  const describe = e => e.outerHTML.slice(0, 120);
  const named = c => {
    const own = l => Array.prototype.filter.call(l.childNodes, n => !(n.matches && n.matches("select, input, button, textarea"))).map(n => n.textContent).join("");
    if (c.labels && Array.prototype.some.call(c.labels, l => text(own(l)))) return true;
    if (text(c.getAttribute("aria-label")) || text(c.title)) return true;
    const by = c.getAttribute("aria-labelledby");
    if (by && by.split(/\s+/).some(id => document.getElementById(id) && text(document.getElementById(id).textContent))) return true;
    if (c.tagName === "BUTTON" && text(c.textContent)) return true;
    if (c.tagName === "INPUT" && ["submit", "reset", "button"].includes(c.type) && text(c.value)) return true;
    return false;
  };
  const controls = Array.prototype.filter.call(document.querySelectorAll("select, input, button, textarea"), c => c.type !== "hidden");
  const imgs = Array.prototype.slice.call(document.images);
  return {
    lang: document.documentElement.getAttribute("lang") || "",
    title: document.title,
    h1: document.querySelectorAll("h1").length,
    links: links,
    ids: Array.prototype.map.call(document.querySelectorAll("[id], a[name]"), e => e.id || e.name),
    unnamed: controls.filter(c => !named(c)).map(describe),
    noAlt: imgs.filter(i => !text(i.getAttribute("alt"))).map(describe),
    broken: imgs.filter(i => i.complete && i.naturalWidth === 0).map(describe),
  };
})()`

// loaded is one page as the browser loaded it.
type loaded struct {
	path     string
	facts    facts
	problems []string
	err      error
}

// testPages checks every page of s. Pages in the browser: all of them
// when all is set (the example), else a deterministic sample (every list
// page, every 50th release page, every 10th configuration item): the
// 1,000-release site has over 2,000 pages, more than 2 cores load in the
// test's budget. Every page, loaded or not, has its structure and links
// checked from its HTML; for the pages loaded, the HTML's links and ids
// must be the DOM's, so the HTML reading sees what the browser sees.
func testPages(t *testing.T, b *browser, s *servedSite, all bool) {
	pages := s.pages()
	load := pages
	if !all && os.Getenv("RELGATE_BROWSER_ALL") != "1" {
		load = sample(pages)
	}
	start := time.Now()
	results := loadAll(t, b, s, load)
	elapsed := time.Since(start)
	t.Logf("%s: %d of %d pages loaded in %d tabs in %v (%.0f ms a page)", s.name, len(load), len(pages), tabs, elapsed.Round(time.Millisecond),
		float64(elapsed.Milliseconds())/float64(len(load)))

	byPath := map[string]*loaded{}
	for _, r := range results {
		byPath[r.path] = r
		checkLoad(t, r)
	}
	start = time.Now()
	for _, p := range pages {
		b, _ := s.site.File(p)
		f, err := htmlFacts(b, s.url(p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if r, ok := byPath[p]; ok {
			if r.err == nil && p != "index.html" {
				compareFacts(t, p, f, r.facts)
				continue // the DOM's facts are checked
			}
		}
		byPath[p] = &loaded{path: p, facts: f}
	}
	largest, size := "", 0
	for _, p := range pages {
		checkPage(t, s, byPath[p])
		if b, _ := s.site.File(p); len(b) > size {
			largest, size = p, len(b)
		}
	}
	t.Logf("%s: the largest page is %s, %d KB", s.name, largest, size>>10)
	checkLinks(t, s, byPath)
	t.Logf("%s: structure and links of %d pages checked in %v", s.name, len(pages), time.Since(start).Round(time.Millisecond))
}

// sample is every page but releases and configuration items, and every
// 50th release page and every 10th item page.
func sample(pages []string) []string {
	var out []string
	n := map[string]int{}
	for _, p := range pages {
		dir := path.Dir(p)
		switch {
		case strings.HasSuffix(dir, "/releases"):
			if n[dir]++; n[dir]%50 != 1 {
				continue
			}
		case strings.HasSuffix(dir, "/cmdb") && path.Base(p) != "index.html" && !strings.HasPrefix(path.Base(p), "index-"):
			if n[dir]++; n[dir]%10 != 1 {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// compareFacts checks that the HTML read in Go has the DOM's links and ids.
func compareFacts(t *testing.T, p string, html, dom facts) {
	t.Helper()
	if d := setDiff(html.Links, dom.Links); d != "" {
		t.Errorf("%s: the links of the HTML and of the DOM differ: %s", p, d)
	}
	if d := setDiff(html.IDs, dom.IDs); d != "" {
		t.Errorf("%s: the ids of the HTML and of the DOM differ: %s", p, d)
	}
}

func setDiff(a, b []string) string {
	a, b = slices.Compact(slices.Sorted(slices.Values(a))), slices.Compact(slices.Sorted(slices.Values(b)))
	if slices.Equal(a, b) {
		return ""
	}
	var only []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			only = append(only, "HTML only: "+x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			only = append(only, "DOM only: "+x)
		}
	}
	return strings.Join(only, "; ")
}

// loadAll loads pages with tabs tabs, each page with its own deadline.
func loadAll(t *testing.T, b *browser, s *servedSite, pages []string) []*loaded {
	t.Helper()
	work := make(chan string)
	out := make(chan *loaded)
	var wg sync.WaitGroup
	for range min(tabs, len(pages)) {
		tb := b.newTab(t)
		wg.Go(func() {
			for p := range work {
				out <- tb.load(s, p)
			}
		})
	}
	go func() {
		for _, p := range pages {
			work <- p
		}
		close(work)
		wg.Wait()
		close(out)
	}()
	var results []*loaded
	for r := range out {
		results = append(results, r)
	}
	return results
}

// load loads one page and gathers its facts and problems.
func (tb *tab) load(s *servedSite, p string) *loaded {
	r := &loaded{path: p}
	tb.take()
	if p == "index.html" {
		// The root page only redirects (a meta refresh) to the default
		// language's board: its own DOM is gone by the time it could be
		// read, so its structure is read from its HTML, and the redirect
		// must land.
		want := s.url(site.BoardPath(s.site.Lang()))
		r.err = tb.do(chromedp.Navigate(s.url(p)), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			for {
				loc, err := chromedp.Location()(ctx, t)
				switch {
				case err != nil && !strings.Contains(err.Error(), "navigated or closed"):
					return err
				case err == nil && loc == want:
					return nil
				}
				// Asked while the redirect was under way (-32000, seen on a
				// loaded machine): ask again.
				select {
				case <-ctx.Done():
					return fmt.Errorf("the root page did not redirect to %s (at %s): %w", want, loc, ctx.Err())
				case <-time.After(20 * time.Millisecond):
				}
			}
		}), chromedp.WaitReady(chromedp.CSS("body")))
		if r.err == nil {
			b, _ := s.site.File(p)
			r.facts, r.err = htmlFacts(b, s.url(p))
		}
	} else {
		if r.err = tb.do(chromedp.Navigate(s.url(p))); r.err == nil {
			r.facts, r.err = run(tb, chromedp.Evaluate[facts](factsScript))
		}
	}
	r.problems = tb.take()
	return r
}

// checkLoad reports what went wrong while the browser loaded a page.
func checkLoad(t *testing.T, r *loaded) {
	t.Helper()
	for _, m := range loadProblems(r) {
		t.Errorf("%s: %s", r.path, m)
	}
}

func loadProblems(r *loaded) []string {
	out := slices.Clone(r.problems)
	if r.err != nil {
		out = append(out, r.err.Error())
	}
	return out
}

// checkPage checks one page's structure, accessibility and size.
func checkPage(t *testing.T, s *servedSite, r *loaded) {
	t.Helper()
	wantLang := s.site.Lang()
	if l, _, ok := strings.Cut(r.path, "/"); ok {
		wantLang = l
	}
	b, _ := s.site.File(r.path)
	for _, m := range pageProblems(r.facts, wantLang, len(b)) {
		t.Errorf("%s: %s", r.path, m)
	}
}

// pageProblems are what is wrong with a page of these facts and size.
func pageProblems(f facts, wantLang string, size int) []string {
	var out []string
	if f.Lang != wantLang {
		out = append(out, fmt.Sprintf("<html lang=%q>, want %q", f.Lang, wantLang))
	}
	if strings.TrimSpace(f.Title) == "" {
		out = append(out, "no <title>")
	}
	if f.H1 != 1 {
		out = append(out, fmt.Sprintf("%d h1 elements, want exactly one", f.H1))
	}
	for _, c := range f.Unnamed {
		out = append(out, "a control without an accessible name (a label, aria-label or text): "+c)
	}
	for _, c := range f.NoAlt {
		out = append(out, "an image without alt text: "+c)
	}
	for _, c := range f.Broken {
		out = append(out, "an image that does not load: "+c)
	}
	if size >= maxPageBytes {
		out = append(out, fmt.Sprintf("%d bytes, over the %d bytes a page may have", size, maxPageBytes))
	}
	return out
}

// brokenPage has one of each fault the checks look for.
const brokenPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title> </title></head>
<body><h1>one</h1><h1>two</h1>
<img src="missing.png">
<select name="a"><option>x</option></select>
<label> <select name="b"><option>y</option></select></label>
<button type="button"></button>
<script>console.error("logged"); throw new Error("thrown");</script>
</body></html>`

// testDetects loads brokenPage and checks that every fault is reported,
// in the browser and from the HTML: the checks can fail.
func testDetects(t *testing.T, b *browser) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/broken.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, brokenPage)
	}))
	defer srv.Close()
	tb := b.newTab(t)
	r := &loaded{path: "broken.html"}
	tb.take()
	if r.err = tb.do(chromedp.Navigate(srv.URL + "/broken.html")); r.err == nil {
		r.facts, r.err = run(tb, chromedp.Evaluate[facts](factsScript))
	}
	r.problems = tb.take()
	if r.err != nil {
		t.Fatal(r.err)
	}
	fromHTML, err := htmlFacts([]byte(brokenPage), srv.URL+"/broken.html")
	if err != nil {
		t.Fatal(err)
	}
	dom := strings.Join(append(loadProblems(r), pageProblems(r.facts, "zh", maxPageBytes)...), "\n")
	html := strings.Join(pageProblems(fromHTML, "zh", 0), "\n")
	for _, c := range []struct {
		in, want string
		n        int
	}{
		{dom, "exception at", 1},
		{dom, `console.error: "logged"`, 1},
		{dom, "missing.png answered 404", 1},
		{dom, `<html lang="en">, want "zh"`, 1},
		{dom, "no <title>", 1},
		{dom, "2 h1 elements", 1},
		{dom, "without an accessible name", 3},
		{dom, "without alt text", 1},
		{dom, "does not load", 1},
		{dom, "bytes, over the", 1},
		{html, `<html lang="en">, want "zh"`, 1},
		{html, "no <title>", 1},
		{html, "2 h1 elements", 1},
		{html, "without an accessible name", 3},
		{html, "without alt text", 1},
	} {
		if got := strings.Count(c.in, c.want); got != c.n {
			t.Errorf("the checks report %q %d times, want %d; they report:\n%s", c.want, got, c.n, c.in)
		}
	}
}

// checkLinks checks that every link of every page points to a file of the
// site (a fragment to an id on its page) or to the configured forge, and
// that every page can be reached by links from the root.
func checkLinks(t *testing.T, s *servedSite, byPath map[string]*loaded) {
	t.Helper()
	base := s.srv.URL + "/"
	linked := map[string]bool{}
	for _, from := range slices.Sorted(maps.Keys(byPath)) {
		seen := map[string]bool{}
		for _, link := range byPath[from].facts.Links {
			if seen[link] {
				continue
			}
			seen[link] = true
			if s.forge != "" && strings.HasPrefix(link, s.forge+"/") {
				continue
			}
			// A data: address (an inline icon) fetches nothing.
			if s.documented[link] || strings.HasPrefix(link, "data:") {
				continue
			}
			if !strings.HasPrefix(link, base) {
				t.Errorf("%s: a link outside the site and its forge: %s", from, link)
				continue
			}
			u, err := url.Parse(link)
			if err != nil {
				t.Errorf("%s: link %s: %v", from, link, err)
				continue
			}
			to := strings.TrimPrefix(u.Path, "/")
			if to == "" || strings.HasSuffix(to, "/") {
				to += "index.html"
			}
			if _, ok := s.site.File(to); !ok {
				t.Errorf("%s: a link to %s, which the site does not have", from, to)
				continue
			}
			linked[to] = true
			if u.Fragment == "" {
				continue
			}
			target, ok := byPath[to]
			if !ok || !slices.Contains(target.facts.IDs, u.Fragment) {
				t.Errorf("%s: a link to %s#%s, which has no element of that id", from, to, u.Fragment)
			}
		}
	}
	// Every page but the root is reached by a link from another.
	for p := range byPath {
		if p != "index.html" && !linked[p] {
			t.Errorf("%s: no page links to it", p)
		}
	}
}

// htmlFacts reads a page's facts from its HTML, by the rules factsScript
// applies in the browser.
func htmlFacts(b []byte, pageURL string) (facts, error) {
	var f facts
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		return f, err
	}
	baseURL, err := url.Parse(pageURL)
	if err != nil {
		return f, err
	}
	ids := map[string]*html.Node{}
	var labels []*html.Node
	var controls []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if id, ok := attr(n, "id"); ok {
				f.IDs = append(f.IDs, id)
				ids[id] = n
			} else if name, ok := attr(n, "name"); ok && n.Data == "a" {
				f.IDs = append(f.IDs, name)
			}
			key := map[string]string{"a": "href", "link": "href", "script": "src", "img": "src"}[n.Data]
			if v, ok := attr(n, key); ok && key != "" {
				u, err := baseURL.Parse(v)
				if err != nil {
					f.Links = append(f.Links, "unparsable: "+v)
				} else {
					f.Links = append(f.Links, u.String())
				}
			}
			switch n.Data {
			case "html":
				f.Lang, _ = attr(n, "lang")
			case "title":
				f.Title = text(n)
			case "h1":
				f.H1++
			case "img":
				if alt, _ := attr(n, "alt"); strings.TrimSpace(alt) == "" {
					f.NoAlt = append(f.NoAlt, render(n))
				}
			case "label":
				labels = append(labels, n)
			case "select", "input", "button", "textarea":
				if typ, _ := attr(n, "type"); n.Data != "input" || typ != "hidden" {
					controls = append(controls, n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, c := range controls {
		if !controlNamed(c, labels, ids) {
			f.Unnamed = append(f.Unnamed, render(c))
		}
	}
	return f, nil
}

// controlNamed says whether a control has an accessible name: a label
// around it or for its id with text of its own, aria-label,
// aria-labelledby, a title, or its own text (a button).
func controlNamed(c *html.Node, labels []*html.Node, ids map[string]*html.Node) bool {
	for p := c.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == "label" && labelText(p) != "" {
			return true
		}
	}
	if id, ok := attr(c, "id"); ok {
		for _, l := range labels {
			if f, _ := attr(l, "for"); f == id && labelText(l) != "" {
				return true
			}
		}
	}
	for _, k := range []string{"aria-label", "title"} {
		if v, _ := attr(c, k); strings.TrimSpace(v) != "" {
			return true
		}
	}
	if by, ok := attr(c, "aria-labelledby"); ok {
		for _, id := range strings.Fields(by) {
			if n := ids[id]; n != nil && text(n) != "" {
				return true
			}
		}
	}
	typ, _ := attr(c, "type")
	switch {
	case c.Data == "button":
		return text(c) != ""
	case c.Data == "input" && (typ == "submit" || typ == "reset" || typ == "button"):
		v, _ := attr(c, "value")
		return strings.TrimSpace(v) != ""
	}
	return false
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// text is the trimmed text of n's subtree.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// labelText is a label's text outside the controls it holds (a select's
// options name nothing).
func labelText(l *html.Node) string {
	var b strings.Builder
	for c := l.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && slices.Contains([]string{"select", "input", "button", "textarea"}, c.Data) {
			continue
		}
		b.WriteString(text(c))
	}
	return strings.TrimSpace(b.String())
}

func render(n *html.Node) string {
	var b bytes.Buffer
	html.Render(&b, n)
	return string(b.Bytes()[:min(b.Len(), 120)])
}

// boardState is what the rows of a list look like in the browser.
type boardState struct {
	Rows []struct {
		System string `json:"system"`
		People string `json:"people"`
		Hidden bool   `json:"hidden"`
		// Shown: displayed (not hidden, no display:none up the tree).
		Shown bool   `json:"shown"`
		Sort  string `json:"sort"`
	} `json:"rows"`
	Output      string   `json:"output"`
	FormHidden  bool     `json:"formHidden"`
	FormShown   bool     `json:"formShown"`
	SortButtons int      `json:"sortButtons"`
	Systems     []string `json:"systems"`
	People      []string `json:"people"`
	AriaSort    string   `json:"ariaSort"`
}

const boardScript = `(() => {
  const form = document.querySelector("form.filters");
  const opts = name => form ? Array.prototype.map.call(form.querySelectorAll("select[name=" + name + "] option"), o => o.value).filter(v => v) : [];
  const out = form && form.querySelector("output");
  const th = document.querySelector("table.rows thead th");
  return {
    rows: Array.prototype.map.call(document.querySelectorAll("table.rows tbody tr"), r => ({
      system: r.getAttribute("data-system") || "", people: r.getAttribute("data-people") || "",
      hidden: r.hidden, shown: r.getClientRects().length > 0,
      sort: r.cells[0] ? (r.cells[0].getAttribute("data-sort") || "") : "",
    })),
    output: out ? out.textContent : "",
    formHidden: form ? form.hidden : true,
    formShown: form ? form.getClientRects().length > 0 : false,
    sortButtons: document.querySelectorAll("table.rows thead th button").length,
    systems: opts("system"),
    people: opts("people"),
    ariaSort: th ? (th.getAttribute("aria-sort") || "") : "",
  };
})()`

func (tb *tab) board(t *testing.T) boardState {
	t.Helper()
	st, err := run(tb, chromedp.Evaluate[boardState](boardScript))
	if err != nil {
		t.Fatalf("read the rows: %v", err)
	}
	return st
}

// choose picks value in the filter select name, as a reader's choice
// does: the value changes and the form hears a change event.
func (tb *tab) choose(t *testing.T, name, value string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const s = document.querySelector("form.filters select[name=%s]"); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value; })()`, name, value)
	got, err := run(tb, chromedp.Evaluate[string](js))
	if err != nil || got != value {
		t.Fatalf("choose %s=%q: got %q, %v", name, value, got, err)
	}
}

// hasWord says whether the space-separated list holds w, as site.js
// reads a row's data attributes.
// hasWord says whether a row's data attribute, a JSON list of values as
// site.js reads it, holds w.
func hasWord(list, w string) bool {
	var vs []string
	if err := json.Unmarshal([]byte(list), &vs); err != nil {
		return false
	}
	return slices.Contains(vs, w)
}

// narrowing is the first value that keeps some rows of those shown and
// hides others; failing that, the first that keeps any.
func narrowing(values []string, rows []bool, field func(i int) string) string {
	first := ""
	for _, v := range values {
		kept, shown := 0, 0
		for i, ok := range rows {
			if !ok {
				continue
			}
			shown++
			if hasWord(field(i), v) {
				kept++
			}
		}
		if kept > 0 && kept < shown {
			return v
		}
		if kept > 0 && first == "" {
			first = v
		}
	}
	return first
}

// testFilters picks a system, then a person, on the list at p, and checks
// that exactly the rows that hold both stay visible and are counted; Clear
// shows every row again.
func testFilters(t *testing.T, b *browser, s *servedSite, p string, width int64) {
	t.Helper()
	tb := b.newTabSized(t, width, 900)
	p0 := p
	p = fmt.Sprintf("%s (%d px wide)", p, width)
	if err := tb.do(chromedp.Navigate(s.url(p0))); err != nil {
		t.Fatal(err)
	}
	st := tb.board(t)
	if st.FormHidden || !st.FormShown {
		t.Fatalf("%s: the filter form stays hidden with JavaScript on", p)
	}
	total := len(st.Rows)
	if total < 2 {
		t.Fatalf("%s: %d rows, too few to filter", p, total)
	}
	if st.Output != fmt.Sprint(total) {
		t.Errorf("%s: before filtering, shown: %s, want %d", p, st.Output, total)
	}
	// A value with a space in it (the example's system names have them)
	// must filter as one value: check one is offered.
	spaced := false
	for _, v := range st.Systems {
		spaced = spaced || strings.Contains(v, " ")
	}
	if p == "example" && !spaced {
		t.Errorf("%s: no system name with a space is offered; the example's have them", p)
	}
	all := make([]bool, total)
	for i := range all {
		all[i] = true
	}
	system := narrowing(st.Systems, all, func(i int) string { return st.Rows[i].System })
	if system == "" {
		t.Fatalf("%s: no system of the filter matches a row: %v", p, st.Systems)
	}
	tb.choose(t, "system", system)
	st = tb.board(t)
	checkFiltered(t, p, st, func(i int) bool { return hasWord(st.Rows[i].System, system) }, "system="+system)

	shown := make([]bool, total)
	for i, r := range st.Rows {
		shown[i] = !r.Hidden
	}
	person := narrowing(st.People, shown, func(i int) string { return st.Rows[i].People })
	if person == "" {
		t.Fatalf("%s: no person of the filter is named by a row of system %s", p, system)
	}
	tb.choose(t, "people", person)
	st = tb.board(t)
	checkFiltered(t, p, st, func(i int) bool {
		return hasWord(st.Rows[i].System, system) && hasWord(st.Rows[i].People, person)
	}, "system="+system+" person="+person)

	// Clear is a reset button, clicked as a reader clicks it; the form
	// re-applies after the reset event.
	if err := tb.do(chromedp.Click(chromedp.CSS(`form.filters button[type="reset"]`), chromedp.NodeVisible),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector("form.filters output").textContent === "%d"`, total),
			chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("%s: after Clear, the count does not return to %d: %v", p, total, err)
	}
	st = tb.board(t)
	checkFiltered(t, p, st, func(int) bool { return true }, "cleared")
	t.Logf("%s: %d rows; filtered by system %s, then person %s, cleared", p, total, system, person)
}

func checkFiltered(t *testing.T, p string, st boardState, want func(i int) bool, what string) {
	t.Helper()
	visible := 0
	for i, r := range st.Rows {
		if r.Hidden != !want(i) || r.Shown != want(i) {
			t.Errorf("%s, %s: row %d (system %q, people %q): hidden=%v displayed=%v, want visible=%v", p, what, i, r.System, r.People, r.Hidden, r.Shown, want(i))
		}
		if !r.Hidden {
			visible++
		}
	}
	if st.Output != fmt.Sprint(visible) {
		t.Errorf("%s, %s: the form says %s shown, %d rows are visible", p, what, st.Output, visible)
	}
	if visible == 0 {
		t.Errorf("%s, %s: no row left", p, what)
	}
}

// testSort clicks the first column's header button twice: the rows are in
// ascending, then descending order of release.
func testSort(t *testing.T, b *browser, s *servedSite, p string) {
	tb := b.newTab(t)
	if err := tb.do(chromedp.Navigate(s.url(p))); err != nil {
		t.Fatal(err)
	}
	before := tb.board(t)
	for _, want := range []string{"ascending", "descending"} {
		if err := tb.do(chromedp.Click(chromedp.CSS(`table.rows thead th button`), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		st := tb.board(t)
		var ids []string
		for _, r := range st.Rows {
			ids = append(ids, r.Sort)
		}
		if len(ids) != len(before.Rows) || len(ids) < 2 {
			t.Fatalf("%s: %d rows after sorting, %d before", p, len(ids), len(before.Rows))
		}
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		if want == "descending" {
			slices.Reverse(sorted)
		}
		if !slices.Equal(ids, sorted) {
			t.Errorf("%s: after sorting %s, the releases are %v…, want %v…", p, want, ids[:min(5, len(ids))], sorted[:min(5, len(sorted))])
		}
		if st.AriaSort != want {
			t.Errorf("%s: the header says aria-sort=%q, want %q", p, st.AriaSort, want)
		}
	}
}

// testNoScript loads p with JavaScript off: every row of the page is
// shown, and the filter form, which only JavaScript can work, stays
// hidden.
func testNoScript(t *testing.T, b *browser, s *servedSite, p string) {
	tb := b.newTab(t)
	if _, err := chromedp.Call(tb.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := tb.do(chromedp.Navigate(s.url(p))); err != nil {
		t.Fatal(err)
	}
	st := tb.board(t)
	b2, _ := s.site.File(p)
	want := strings.Count(string(b2), "<tr data-system=")
	if len(st.Rows) != want || want == 0 {
		t.Errorf("%s without JavaScript: %d rows, the HTML has %d", p, len(st.Rows), want)
	}
	for i, r := range st.Rows {
		if r.Hidden || !r.Shown {
			t.Errorf("%s without JavaScript: row %d is not shown", p, i)
		}
	}
	if !st.FormHidden || st.FormShown {
		t.Errorf("%s without JavaScript: the filter form shows, and its controls do nothing", p)
	}
	if st.SortButtons != 0 {
		t.Errorf("%s without JavaScript: %d sort buttons, which do nothing", p, st.SortButtons)
	}
	for _, pr := range tb.take() {
		t.Errorf("%s without JavaScript: %s", p, pr)
	}
}

// pageKinds are one page of each kind the site has, relative to a
// language's folder, by kind.
func pageKinds(t *testing.T, s *servedSite) [][2]string {
	t.Helper()
	first := func(dir string) string {
		for _, p := range s.site.Paths() {
			rest, ok := strings.CutPrefix(p, "en/"+dir+"/")
			if ok && strings.HasSuffix(rest, ".html") && !strings.Contains(rest, "/") && rest != "index.html" {
				return dir + "/" + rest
			}
		}
		t.Fatalf("%s: no page under en/%s/", s.name, dir)
		return ""
	}
	return [][2]string{
		{"board", "index.html"},
		{"state", first("state")},
		{"release", first("releases")},
		{"cmdb", "cmdb/index.html"},
		{"cmdb-item", first("cmdb/items")},
		{"changes", "changes.html"},
		{"quarters", "quarters/index.html"},
		{"quarter", first("quarters")},
		{"policy", "policy.html"},
	}
}

// testLanguages clicks the language link on each page kind in each
// language: it opens the same page in the other language.
func testLanguages(t *testing.T, b *browser, s *servedSite) {
	tb := b.newTab(t)
	for _, kind := range pageKinds(t, s) {
		for _, l := range []string{"zh", "en"} {
			other := map[string]string{"zh": "en", "en": "zh"}[l]
			if err := tb.do(chromedp.Navigate(s.url(l + "/" + kind[1]))); err != nil {
				t.Fatal(err)
			}
			_, err := run(tb, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("header a.lang"), chromedp.NodeVisible)))
			if err != nil {
				t.Errorf("%s/%s: click the language link: %v", l, kind[1], err)
				continue
			}
			loc, err := run(tb, chromedp.Location())
			if err != nil {
				t.Fatal(err)
			}
			lang, err := run(tb, chromedp.Evaluate[string](`document.documentElement.lang`))
			if err != nil {
				t.Fatal(err)
			}
			if want := s.url(other + "/" + kind[1]); loc != want || lang != other {
				t.Errorf("%s/%s (%s): the language link opens %s (lang %q), want %s", l, kind[1], kind[0], loc, lang, want)
			}
		}
	}
	for _, pr := range tb.take() {
		t.Error(pr)
	}
}

// screenshotDir is where the screenshots go: $RELGATE_SCREENSHOTS, or a
// folder under the system's temporary directory that outlives the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RELGATE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "relgate-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testScreenshots writes a full-page screenshot of each page kind in each
// language, LANG-KIND.png, 1280 pixels wide, and its first screen,
// LANG-KIND-top.png (1280×900).
func testScreenshots(t *testing.T, b *browser, s *servedSite) {
	dir := screenshotDir(t)
	tb := b.newTab(t)
	for _, kind := range pageKinds(t, s) {
		for _, l := range []string{"zh", "en"} {
			p := l + "/" + kind[1]
			if err := tb.do(chromedp.Navigate(s.url(p))); err != nil {
				t.Fatal(err)
			}
			// Web fonts are not used, but the system's CJK font is read on
			// first use: wait until the fonts are ready.
			if _, err := run(tb, chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
				t.Fatal(err)
			}
			png, err := run(tb, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("%s: screenshot: %v", p, err)
			}
			cfg, err := pngConfig(png)
			if err != nil || cfg.Width != 1280 || cfg.Height < 200 {
				t.Errorf("%s: a screenshot of %dx%d (%v), want 1280 wide", p, cfg.Width, cfg.Height, err)
			}
			if err := os.WriteFile(filepath.Join(dir, l+"-"+kind[0]+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
			// The first screen too, as a reader opening the page sees it
			// (and the size a README shows).
			top, err := run(tb, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("%s: screenshot: %v", p, err)
			}
			if err := os.WriteFile(filepath.Join(dir, l+"-"+kind[0]+"-top.png"), top, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A phone (390 CSS pixels wide): the board and a release page.
	phone := b.newTabSized(t, 390, 844)
	for _, kind := range pageKinds(t, s)[:3:3] {
		if kind[0] == "state" {
			continue
		}
		p := "zh/" + kind[1]
		if err := phone.do(chromedp.Navigate(s.url(p))); err != nil {
			t.Fatal(err)
		}
		// Nothing may reach past the phone's width (a page that scrolls
		// sideways), except inside the tables' own scrolling box.
		wide, err := run(phone, chromedp.Evaluate[[]string](`Array.prototype.filter.call(document.querySelectorAll("body *"),
			e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 && !e.closest(".wide")).map(e => e.outerHTML.slice(0, 100))`))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range wide[:min(3, len(wide))] {
			t.Errorf("%s at 390 px: wider than the phone (%d elements), e.g. %s", p, len(wide), e)
		}
		shot, err := run(phone, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", p, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "zh-"+kind[0]+"-phone.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots of every page kind in zh and en: %s", dir)
}

func pngConfig(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }

// testPrint prints a release page to PDF: the release's record on paper.
func testPrint(t *testing.T, b *browser, s *servedSite) {
	tb := b.newTab(t)
	var rel string
	for _, k := range pageKinds(t, s) {
		if k[0] == "release" {
			rel = k[1]
		}
	}
	for _, l := range []string{"en", "zh"} {
		p := l + "/" + rel
		if err := tb.do(chromedp.Navigate(s.url(p))); err != nil {
			t.Fatal(err)
		}
		pdf, err := run(tb, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
		if err != nil {
			t.Fatalf("%s: print to PDF: %v", p, err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 2000 {
			t.Errorf("%s: printed %d bytes, not a PDF of the page", p, len(pdf))
		}
		name := filepath.Join(screenshotDir(t), l+"-release.pdf")
		if err := os.WriteFile(name, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s printed: %s, %d bytes", p, name, len(pdf))
		// How the print styles lay the page out, for a person to look at
		// (the machine has no PDF viewer): the first screen in print media.
		if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		shot, err := run(tb, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir(t), l+"-release-print.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
			t.Fatal(err)
		}
	}
}

// urlPattern finds web addresses in a repository's YAML and Markdown.
var urlPattern = regexp.MustCompile(`https?://[^\s"'<>)\]]+`)

// documentedURLs are the web addresses in the files of the work tree src.
func documentedURLs(t *testing.T, src string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, u := range urlPattern.FindAllString(string(b), -1) {
			out[u] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
