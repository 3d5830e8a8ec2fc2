package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/dashauth"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/site"
)

// BenchmarkDashboardBoard serves the board of the generated repository
// (10,000 releases: gen.BenchRepo) through the real handler over loopback,
// signed in with a GitHub session, after one build. It reports the
// latency's p50 and p99 (the aim: p99 under 50 ms) and the page's size.
//
//	RELGATE_BENCH_REPO=/tmp/gen10k go test ./controller/server/ -run '^$' -bench DashboardBoard -benchtime 200x
func BenchmarkDashboardBoard(b *testing.B) {
	dir := gen.BenchRepo(b)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	g, err := dashauth.NewGitHub(dashauth.GitHubConfig{Provider: benchProvider{}, PublicURL: "http://127.0.0.1", Key: dashKey,
		Clock: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Secret: testSecret, Remote: dir, MirrorDir: filepath.Join(b.TempDir(), "mirror"), Dashboard: &DashboardConfig{Guard: g}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.mirror.Close()
	st := benchSite(b, dir, now)
	t0 := time.Now()
	built, err := newBuiltSite(st, now)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("compressed in %s: %d MiB of pages kept in %d MiB", time.Since(t0).Round(time.Millisecond), built.size>>20, built.stored>>20)
	s.dash.cur.Store(built)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := s.httpServer()
	go hs.Serve(ln)
	defer hs.Close()
	codec, _ := dashauth.NewCodec(dashKey)
	v, _ := codec.SealSession(dashauth.Session{Login: "lina", Issued: now, Checked: now, Expires: now.Add(time.Hour)})
	cookie := &http.Cookie{Name: dashauth.SessionCookie, Value: v}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	u := "http://" + ln.Addr().String() + "/" + site.BoardPath("en")
	get := func() int64 {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.AddCookie(cookie)
		req.Header.Set("Accept-Encoding", "gzip") // as every browser does
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %s", u, resp.Status)
		}
		return n
	}
	size := get() // warm the connection
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		get()
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(size)/1024, "board-gz-KiB")
}

// benchBuilt keeps the site across the benchmark's runs (b.N = 1, then
// the count asked for): one build of 10,000 releases is enough.
var benchBuilt = map[string]*site.Site{}

func benchSite(b *testing.B, dir string, now time.Time) *site.Site {
	if st, ok := benchBuilt[dir]; ok {
		return st
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	tip, err := r.Resolve("HEAD")
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	st, err := site.Build(r, "", tip, site.Options{Lang: "en", Now: now})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("site of %s built in %s: %d files", tip.String()[:12], time.Since(t0).Round(time.Millisecond), len(st.Paths()))
	benchBuilt[dir] = st
	return st
}

// benchProvider is never asked: the session is fresh.
type benchProvider struct{}

func (benchProvider) AuthorizeURL(string, string) string                     { return "" }
func (benchProvider) SignIn(context.Context, string, string) (string, error) { return "", nil }
func (benchProvider) CanRead(context.Context, string) (bool, error)          { return true, nil }
