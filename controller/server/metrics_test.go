package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/relgate/relgate/controller/ghapi"
)

// exercise touches every metric once with the labels the server gives it.
func exercise(t *testing.T, m *Metrics) {
	t.Helper()
	m.Inc(mDeliveries, "event", "pull_request", "result", "accepted")
	m.Observe(mAckSeconds, 0.004)
	m.Inc(mEvaluations, "result", "passed")
	m.Observe(mEvalSeconds, 0.8)
	m.ObserveAPI(ghapi.Attempt{Method: "GET", Route: ghapi.Route("/api/v3/repos/grid-it/releases/pulls/7"), Status: 502, Retry: true, Reason: "server-error"})
	m.ObserveAPI(ghapi.Attempt{Method: "GET", Route: ghapi.Route("/api/v3/repos/grid-it/releases/pulls/7"), Status: 200})
	m.ObserveAPI(ghapi.Attempt{Method: "POST", Route: ghapi.Route("/api/v3/repos/grid-it/releases/check-runs"), Status: 0})
	m.Inc(mAPIErrors, "op", "create-check-run")
	m.Inc(mPosts, "kind", "check-run", "state", "success")
	m.Inc(mFetches, "result", "ok")
	m.Inc(mMirrorRepairs, "reason", "missing-object")
	m.Inc(mWriteback, "op", "record-approvals", "result", "ok")
	m.Inc(mJobRuns, "job", "reconcile", "result", "ok")
	m.Inc(mQueueDrops)
	m.Set(mOverdue, 2)
	m.Inc(mDeployDecisions, "environment", "production", "result", "approved")
	m.Inc(mReceipts, "result", "recorded")
	m.SetQueueDepth(func() int { return 3 })
	srv := httptest.NewServer(m.InstrumentHandler("/webhook", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestMetricsLint: with every metric holding data, client_golang's lint (what
// promtool check metrics runs) finds nothing, and every declared family is there.
func TestMetricsLint(t *testing.T) {
	m := NewMetrics()
	exercise(t, m)
	m.Inc("relgate_no_such_metric") // the misuse counter is linted too
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, mf := range mfs {
		have[mf.GetName()] = len(mf.GetMetric())
	}
	want := []string{mQueueDepth, mMisuse, mBuildInfo, "go_build_info", "go_goroutines"}
	for _, d := range declared {
		want = append(want, d.name)
	}
	for _, n := range want {
		if have[n] == 0 {
			t.Errorf("%s: no series after exercising every metric", n)
		}
	}
}

// TestLintCatchesTheHandWrittenFormat: the lint this package relies on fails
// the exposition relgate used to write by hand (issue 11), so a clean lint
// above means something.
func TestLintCatchesTheHandWrittenFormat(t *testing.T) {
	old := `# HELP relgate_webhook_ack_seconds_count Webhook deliveries acknowledged.
# TYPE relgate_webhook_ack_seconds_count counter
relgate_webhook_ack_seconds_count 3
# HELP relgate_webhook_ack_seconds_sum Total seconds spent acknowledging webhook deliveries.
# TYPE relgate_webhook_ack_seconds_sum counter
relgate_webhook_ack_seconds_sum 0.012
`
	problems, err := promlint.New(strings.NewReader(old)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		t.Error("lint found nothing wrong with _sum and _count declared as counters")
	}
}

// TestMetricsHandlerScrape scrapes Handler over loopback HTTP.
func TestMetricsHandlerScrape(t *testing.T) {
	m := NewMetrics()
	exercise(t, m)
	_ = m.Handler() // a second handler on the same registry must not panic
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("scrape: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	text := string(body)
	want := []string{
		"\ngo_goroutines ",
		"\nrelgate_build_info{",
		"# TYPE relgate_webhook_ack_seconds histogram\n",
		"\nrelgate_webhook_ack_seconds_bucket{le=\"0.005\"} 1\n",
		"\nrelgate_webhook_ack_seconds_sum 0.004\n",
		"\nrelgate_webhook_ack_seconds_count 1\n",
		"\nrelgate_http_request_duration_seconds_count{code=\"202\",method=\"post\",route=\"/webhook\"} 1\n",
		"\nrelgate_github_api_requests_total{code=\"200\",method=\"GET\",route=\"/repos/{owner}/{repo}/pulls/{number}\"} 1\n",
		"\nrelgate_github_api_requests_total{code=\"transport-error\",method=\"POST\",route=\"/repos/{owner}/{repo}/check-runs\"} 1\n",
		"\nrelgate_github_api_retries_total{reason=\"server-error\"} 1\n",
		"\nrelgate_queue_depth 3\n",
		"\nrelgate_queue_dropped_total 1\n",
	}
	if runtime.GOOS == "linux" {
		want = append(want, "\nprocess_resident_memory_bytes ")
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("scrape lacks %q", w)
		}
	}
	if strings.Contains(text, "grid-it") {
		t.Error("a route label names the repository")
	}
	// The scrape parses as the text format and lints clean as scraped.
	p := expfmt.NewTextParser(model.LegacyValidation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(text)); err != nil {
		t.Errorf("scrape does not parse: %v", err)
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint of the scrape: %s: %s", p.Metric, p.Text)
	}
}

// TestWriteLintsClean: Write, which server.go's /metrics calls until it
// serves Handler, writes the same linted text format.
func TestWriteLintsClean(t *testing.T) {
	m := NewMetrics()
	exercise(t, m)
	var b strings.Builder
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.New(strings.NewReader(b.String())).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint of Write: %s: %s", p.Metric, p.Text)
	}
	if !strings.Contains(b.String(), "\nrelgate_webhook_ack_seconds_count 1\n") {
		t.Error("Write lacks the ack histogram")
	}
}

func TestBuildInfo(t *testing.T) {
	m := NewMetrics()
	mf := family(t, m, mBuildInfo)
	if len(mf.GetMetric()) != 1 || mf.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Fatalf("relgate_build_info: %v", mf)
	}
	got := map[string]string{}
	for _, l := range mf.GetMetric()[0].GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	if got["goversion"] != runtime.Version() || got["version"] == "" || got["revision"] == "" || len(got) != 3 {
		t.Errorf("relgate_build_info labels: %v", got)
	}
}

// TestMisuseIsCountedNotPanicking: a call the declarations do not allow is
// dropped and counted, whatever is wrong with it.
func TestMisuseIsCountedNotPanicking(t *testing.T) {
	tests := []struct {
		name        string
		call        func(m *Metrics)
		metric, why string
	}{
		{"undeclared metric", func(m *Metrics) { m.Inc("relgate_nope_total") }, "unknown", "undeclared"},
		{"label missing", func(m *Metrics) { m.Inc(mWriteback, "op", "reconcile") }, mWriteback, "labels"},
		{"label extra", func(m *Metrics) { m.Inc(mFetches, "result", "ok", "repo", "grid-it/releases") }, mFetches, "labels"},
		{"label misnamed", func(m *Metrics) { m.Inc(mFetches, "outcome", "ok") }, mFetches, "labels"},
		{"label twice", func(m *Metrics) { m.Inc(mWriteback, "op", "a", "op", "b") }, mWriteback, "labels"},
		{"odd pairs", func(m *Metrics) { m.Inc(mFetches, "result") }, mFetches, "labels"},
		{"labels on a metric without", func(m *Metrics) { m.Inc(mQueueDrops, "kind", "pull") }, mQueueDrops, "labels"},
		{"set on a counter", func(m *Metrics) { m.Set(mFetches, 3, "result", "ok") }, mFetches, "kind"},
		{"observe on a counter", func(m *Metrics) { m.Observe(mFetches, 3, "result", "ok") }, mFetches, "kind"},
		{"inc on a histogram", func(m *Metrics) { m.Inc(mAckSeconds) }, mAckSeconds, "kind"},
		{"counter decreased", func(m *Metrics) { m.Add(mQueueDrops, -1) }, mQueueDrops, "value"},
		{"counter NaN", func(m *Metrics) { m.Add(mQueueDrops, math.NaN()) }, mQueueDrops, "value"},
		{"negative duration", func(m *Metrics) { m.Observe(mAckSeconds, -0.1) }, mAckSeconds, "value"},
		{"infinite duration", func(m *Metrics) { m.Observe(mEvalSeconds, math.Inf(1)) }, mEvalSeconds, "value"},
		{"invalid UTF-8", func(m *Metrics) { m.Inc(mFetches, "result", "\xff") }, mFetches, "value"},
		{"overlong value", func(m *Metrics) { m.Inc(mFetches, "result", strings.Repeat("x", 129)) }, mFetches, "value"},
		{"series beyond the bound", func(m *Metrics) {
			for i := 0; i <= maxSeries; i++ {
				m.Inc(mAPIErrors, "op", "op-"+strconv.Itoa(i))
			}
		}, mAPIErrors, "series-limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics()
			tc.call(m)
			got := map[string]float64{}
			for _, s := range family(t, m, mMisuse).GetMetric() {
				got[labelsOf(s)] = s.GetCounter().GetValue()
			}
			want := map[string]float64{"metric=" + tc.metric + ",reason=" + tc.why: 1}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("misuse (-want +got):\n%s", d)
			}
			if tc.name == "series beyond the bound" {
				if n := len(family(t, m, mAPIErrors).GetMetric()); n != maxSeries {
					t.Errorf("%d series of %s, want the bound %d", n, mAPIErrors, maxSeries)
				}
				return
			}
			if n := len(family(t, m, tc.metric).GetMetric()); tc.metric != "unknown" && tc.metric != mQueueDrops && n != 0 {
				t.Errorf("%s has %d series after a dropped call", tc.metric, n)
			}
		})
	}
}

func TestGetAddSet(t *testing.T) {
	m := NewMetrics()
	m.Inc(mWriteback, "op", "reconcile", "result", "error")
	m.Add(mWriteback, 2, "result", "error", "op", "reconcile") // label order is free
	m.Set(mOverdue, 4)
	m.Set(mOverdue, 1)
	m.Set(mQueueDepth, 5) // before the server names a source
	m.Observe(mAckSeconds, 0.01)
	tests := []struct {
		name   string
		metric string
		kv     []string
		want   float64
	}{
		{"counter", mWriteback, []string{"op", "reconcile", "result", "error"}, 3},
		{"counter, other series", mWriteback, []string{"op", "reconcile", "result", "ok"}, 0},
		{"gauge set twice", mOverdue, nil, 1},
		{"queue depth set", mQueueDepth, nil, 5},
		{"histogram count", mAckSeconds, nil, 1},
		{"counter without labels starts at 0", mQueueDrops, nil, 0},
		{"undeclared", "relgate_nope", nil, 0},
	}
	for _, tc := range tests {
		if got := m.Get(tc.metric, tc.kv...); got != tc.want {
			t.Errorf("%s: Get(%s, %v) = %g, want %g", tc.name, tc.metric, tc.kv, got, tc.want)
		}
	}
	// Get reads; it makes no series.
	if n := len(family(t, m, mWriteback).GetMetric()); n != 1 {
		t.Errorf("%s has %d series, want 1", mWriteback, n)
	}
	m.SetQueueDepth(func() int { return 9 })
	if got := m.Get(mQueueDepth); got != 9 {
		t.Errorf("queue depth from its source = %g, want 9", got)
	}
}

// TestAckIsAHistogram: each delivery observes the ack histogram once.
func TestAckIsAHistogram(t *testing.T) {
	m := NewMetrics()
	for _, s := range []float64{0.002, 0.3} {
		m.Observe(mAckSeconds, s)
	}
	h := family(t, m, mAckSeconds).GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-0.302) > 1e-9 {
		t.Errorf("ack histogram: count %d sum %g, want 2 and 0.302", h.GetSampleCount(), h.GetSampleSum())
	}
	if got := misuse(t, m); got != 0 {
		t.Errorf("misuse %g", got)
	}
}

// TestEveryCallSiteIsDeclared reads the server's code: each Inc, Add, Set or
// Observe of a metric constant names a declared metric with its declared
// labels, as literals, so no call is dropped at run time.
func TestEveryCallSiteIsDeclared(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := literal(vs.Values[i]); ok && strings.HasPrefix(v, "relgate_") {
								consts[n.Name] = v
							}
						}
					}
				}
			}
		}
	}
	m := NewMetrics()
	sites := 0
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			first := map[string]int{"Inc": 1, "Add": 2, "Set": 2, "Observe": 2}[sel.Sel.Name]
			if first == 0 {
				return true
			}
			name, ok := metricName(call.Args[0], consts)
			if !ok {
				return true // not a metric call (wg.Add, header.Set)
			}
			pos := fset.Position(call.Pos())
			sites++
			if call.Ellipsis.IsValid() {
				return true // metrics.go passing its caller's labels through
			}
			var kv []string
			for i := first; i < len(call.Args); i++ {
				if (i-first)%2 == 1 {
					kv = append(kv, "value")
					continue
				}
				k, ok := literal(call.Args[i])
				if !ok {
					t.Errorf("%s: label name of %s is not a literal", pos, name)
					return true
				}
				kv = append(kv, k)
			}
			before := misuse(t, m)
			switch sel.Sel.Name {
			case "Inc":
				m.Inc(name, kv...)
			case "Add":
				m.Add(name, 1, kv...)
			case "Set":
				m.Set(name, 1, kv...)
			case "Observe":
				m.Observe(name, 1, kv...)
			}
			if misuse(t, m) != before {
				t.Errorf("%s: %s(%s, %q) is not what %s declares", pos, sel.Sel.Name, name, kv, name)
			}
			return true
		})
	}
	// The server has some thirty call sites; far fewer means the scan broke.
	if sites < 20 {
		t.Errorf("found %d metric call sites, want the server's (20 or more)", sites)
	}
}

func literal(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

// metricName resolves mX or mX+"_suffix".
func metricName(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.Ident:
		v, ok := consts[e.Name]
		return v, ok
	case *ast.BinaryExpr:
		l, ok1 := metricName(e.X, consts)
		r, ok2 := literal(e.Y)
		return l + r, ok1 && ok2 && e.Op == token.ADD
	}
	return "", false
}

func misuse(t *testing.T, m *Metrics) float64 {
	var n float64
	for _, s := range family(t, m, mMisuse).GetMetric() {
		n += s.GetCounter().GetValue()
	}
	return n
}

// family gathers one metric family; an empty one when it has no series.
func family(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return &dto.MetricFamily{}
}

func labelsOf(s *dto.Metric) string {
	var parts []string
	for _, l := range s.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func BenchmarkInc(b *testing.B) {
	m := NewMetrics()
	for b.Loop() {
		m.Inc(mWriteback, "op", "record-approvals", "result", "ok")
	}
}

func BenchmarkObserveAPI(b *testing.B) {
	m := NewMetrics()
	a := ghapi.Attempt{Method: "GET", Route: ghapi.Route("/repos/grid-it/releases/pulls/7"), Status: 200}
	for b.Loop() {
		m.ObserveAPI(a)
	}
}
