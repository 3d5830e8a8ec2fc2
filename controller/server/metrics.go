package server

import (
	"io"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/relgate/relgate/controller/ghapi"
)

// Metrics are relgate serve's Prometheus metrics, on a registry of their own
// so that a test can make many servers. client_golang writes the exposition
// format, the histograms and the Go and process collectors; the server's call
// sites name a metric by its constant and its labels as name/value pairs,
// checked against the metric's declaration. A call that does not match is
// counted in relgate_metrics_misuse_total and otherwise dropped: a metric is
// never worth a panic.
type Metrics struct {
	reg    *prometheus.Registry
	byName map[string]*metric
	misuse *prometheus.CounterVec

	mu         sync.Mutex
	queueDepth func() int
	queueLast  float64 // Set(mQueueDepth) while no source is set
}

// Metric names.
const (
	mDeliveries      = "relgate_webhook_deliveries_total"
	mAckSeconds      = "relgate_webhook_ack_seconds"
	mRequestSeconds  = "relgate_http_request_duration_seconds"
	mEvaluations     = "relgate_evaluations_total"
	mEvalSeconds     = "relgate_evaluation_duration_seconds"
	mAPIRequests     = "relgate_github_api_requests_total"
	mAPIRetries      = "relgate_github_api_retries_total"
	mAPIErrors       = "relgate_github_api_errors_total"
	mPosts           = "relgate_results_posted_total"
	mFetches         = "relgate_git_fetches_total"
	mMirrorRepairs   = "relgate_mirror_repairs_total"
	mWriteback       = "relgate_writeback_total"
	mJobRuns         = "relgate_job_runs_total"
	mQueueDepth      = "relgate_queue_depth"
	mQueueDrops      = "relgate_queue_dropped_total"
	mOverdue         = "relgate_releases_overdue"
	mDeployDecisions = "relgate_deployment_decisions_total"
	mReceipts        = "relgate_deployment_receipts_total"
	mMisuse          = "relgate_metrics_misuse_total"
	mBuildInfo       = "relgate_build_info"
)

type kind int

const (
	counter kind = iota
	gauge
	histogram
)

// latencyBuckets span a webhook acknowledgement or an HTTP request: GitHub
// gives up on a delivery after 10 s.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// evalBuckets span one evaluation, which reads a pull request's history.
var evalBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// declared is every metric the call sites name, with its fixed labels.
var declared = []struct {
	name    string
	kind    kind
	labels  []string
	buckets []float64
	help    string
}{
	{mDeliveries, counter, []string{"event", "result"}, nil, "Webhook deliveries by event and result (accepted, duplicate, ignored, unauthorized, too-large, malformed, dropped)."},
	{mAckSeconds, histogram, nil, latencyBuckets, "Time to acknowledge a webhook delivery."},
	{mRequestSeconds, histogram, []string{"route", "method", "code"}, latencyBuckets, "HTTP requests served, by route, method and status code."},
	{mEvaluations, counter, []string{"result"}, nil, "Pull request evaluations by result (passed, blocked, error, pending)."},
	{mEvalSeconds, histogram, nil, evalBuckets, "Time to evaluate one pull request."},
	{mAPIRequests, counter, []string{"method", "route", "code"}, nil, "GitHub API attempts by method, templated route and status code (transport-error when none came)."},
	{mAPIRetries, counter, []string{"reason"}, nil, "GitHub API retries by reason (server-error, rate-limit, secondary-rate-limit, transport)."},
	{mAPIErrors, counter, []string{"op"}, nil, "GitHub API calls that failed after their retries, by operation."},
	{mPosts, counter, []string{"kind", "state"}, nil, "Results posted to GitHub by kind (check-run, status) and state."},
	{mFetches, counter, []string{"result"}, nil, "Fetches into the local mirror by result (ok, error)."},
	{mMirrorRepairs, counter, []string{"reason"}, nil, "Mirrors found broken, moved aside and cloned anew, by reason."},
	{mWriteback, counter, []string{"op", "result"}, nil, "Write-back commits by operation (record-approvals, reconcile, quarterly-report) and result (ok, refused, error)."},
	{mJobRuns, counter, []string{"job", "result"}, nil, "Scheduled job runs by job and result (ok, error, panic, skipped)."},
	{mQueueDrops, counter, nil, nil, "Work items dropped because the queue was full (the resync job recovers them)."},
	{mOverdue, gauge, nil, nil, "Releases whose go-live window began without a deployment record."},
	{mDeployDecisions, counter, []string{"environment", "result"}, nil, "Deployment protection rule answers by environment (ungated for one the policy does not name) and result (approved, rejected, error, unanswerable)."},
	{mReceipts, counter, []string{"result"}, nil, "Deployment statuses turned into receipts by result (recorded, refused, skipped, error, read-only)."},
}

// Bounds on what a call site can make: labels come from code, but a value
// taken from an event must not grow the series without end.
const (
	maxSeries     = 1000
	maxLabelValue = 128
)

type metric struct {
	name   string
	kind   kind
	labels []string
	vec    prometheus.Collector
	get    func(vals []string) (prometheus.Metric, error)

	mu     sync.Mutex
	series map[string]bool // joined label values made so far
}

// NewMetrics declares relgate's metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), byName: map[string]*metric{}}
	m.misuse = prometheus.NewCounterVec(prometheus.CounterOpts{Name: mMisuse,
		Help: "Metric calls dropped because the server named an undeclared metric, wrong labels, a wrong kind or a bad value; a bug to fix."},
		[]string{"metric", "reason"})
	m.reg.MustRegister(m.misuse)
	for _, d := range declared {
		mt := &metric{name: d.name, kind: d.kind, labels: d.labels, series: map[string]bool{}}
		switch d.kind {
		case counter:
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: d.name, Help: d.help}, d.labels)
			mt.vec, mt.get = v, func(vals []string) (prometheus.Metric, error) { return v.GetMetricWithLabelValues(vals...) }
		case gauge:
			v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: d.name, Help: d.help}, d.labels)
			mt.vec, mt.get = v, func(vals []string) (prometheus.Metric, error) { return v.GetMetricWithLabelValues(vals...) }
		case histogram:
			v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: d.name, Help: d.help, Buckets: d.buckets}, d.labels)
			mt.vec, mt.get = v, func(vals []string) (prometheus.Metric, error) {
				o, err := v.GetMetricWithLabelValues(vals...)
				if err != nil {
					return nil, err
				}
				return o.(prometheus.Metric), nil
			}
		}
		m.reg.MustRegister(mt.vec)
		m.byName[d.name] = mt
		if len(d.labels) == 0 && d.kind != histogram {
			m.series(mt, nil) // a metric without labels reads 0 from the start
		}
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: mQueueDepth, Help: "Work items waiting."}, m.queueValue),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		buildInfo(),
	)
	return m
}

// buildInfo is relgate_build_info: 1, with the module version, the commit and
// the Go release the binary was built from.
func buildInfo() prometheus.Collector {
	version, revision, goversion := "unknown", "unknown", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: mBuildInfo,
		Help:        "The version, commit and Go release relgate was built from; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goversion}})
	g.Set(1)
	return g
}

// Registry is the registry the metrics are on, for a caller that adds its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics (for /metrics). A scrape is bounded in time
// and in number at once.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.reg,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
}

// InstrumentHandler observes h's requests in relgate_http_request_duration_seconds
// under route (a fixed name such as "/webhook", never a raw path).
func (m *Metrics) InstrumentHandler(route string, h http.Handler) http.Handler {
	v := m.byName[mRequestSeconds].vec.(*prometheus.HistogramVec)
	if route == "" || len(route) > maxLabelValue || !utf8.ValidString(route) {
		m.misuse.WithLabelValues(mRequestSeconds, "value").Inc()
		route = "other"
	}
	return promhttp.InstrumentHandlerDuration(v.MustCurryWith(prometheus.Labels{"route": route}), h)
}

// SetQueueDepth sets where relgate_queue_depth is read from at each scrape.
func (m *Metrics) SetQueueDepth(depth func() int) {
	m.mu.Lock()
	m.queueDepth = depth
	m.mu.Unlock()
}

func (m *Metrics) queueValue() float64 {
	m.mu.Lock()
	f, last := m.queueDepth, m.queueLast
	m.mu.Unlock()
	if f == nil {
		return last
	}
	return float64(f())
}

// Add adds v to a counter or gauge with label pairs.
func (m *Metrics) Add(name string, v float64, kv ...string) {
	// A counter panics on a decrease.
	bad := func(k kind) bool { return k == counter && (v < 0 || math.IsNaN(v) || math.IsInf(v, 0)) }
	mt, s := m.lookup(name, kv, bad, counter, gauge)
	if s == nil {
		return
	}
	if mt.kind == gauge {
		s.(prometheus.Gauge).Add(v)
		return
	}
	s.(prometheus.Counter).Add(v)
}

// Inc adds one.
func (m *Metrics) Inc(name string, kv ...string) { m.Add(name, 1, kv...) }

// Set sets a gauge.
func (m *Metrics) Set(name string, v float64, kv ...string) {
	if name == mQueueDepth && len(kv) == 0 {
		m.mu.Lock()
		m.queueLast = v
		m.mu.Unlock()
		return
	}
	if _, s := m.lookup(name, kv, nil, gauge); s != nil {
		s.(prometheus.Gauge).Set(v)
	}
}

// Observe records a duration in a histogram.
func (m *Metrics) Observe(name string, seconds float64, kv ...string) {
	bad := func(kind) bool { return seconds < 0 || math.IsNaN(seconds) || math.IsInf(seconds, 0) }
	if _, s := m.lookup(name, kv, bad, histogram); s != nil {
		s.(prometheus.Observer).Observe(seconds)
	}
}

// Get returns a counter's or gauge's value, or a histogram's count; 0 for a
// series not made yet (tests).
func (m *Metrics) Get(name string, kv ...string) float64 {
	if name == mQueueDepth {
		return m.queueValue()
	}
	mt := m.byName[name]
	if mt == nil {
		return 0
	}
	vals, ok := mt.values(kv)
	if !ok {
		return 0
	}
	mt.mu.Lock()
	made := mt.series[strings.Join(vals, "\xff")]
	mt.mu.Unlock()
	if !made {
		return 0
	}
	s, err := mt.get(vals)
	if err != nil {
		return 0
	}
	var d dto.Metric
	if err := s.Write(&d); err != nil {
		return 0
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	case d.Histogram != nil:
		return float64(d.Histogram.GetSampleCount())
	}
	return 0
}

// lookup finds the series a call names, or counts the misuse and returns
// nil; badValue, if set, says whether the call's number is wrong for the kind.
func (m *Metrics) lookup(name string, kv []string, badValue func(kind) bool, kinds ...kind) (*metric, prometheus.Metric) {
	mt := m.byName[name]
	if mt == nil {
		m.misuse.WithLabelValues("unknown", "undeclared").Inc()
		return nil, nil
	}
	ok := false
	for _, k := range kinds {
		ok = ok || mt.kind == k
	}
	if !ok {
		m.misuse.WithLabelValues(name, "kind").Inc()
		return nil, nil
	}
	vals, ok := mt.values(kv)
	if !ok {
		m.misuse.WithLabelValues(name, "labels").Inc()
		return nil, nil
	}
	bad := badValue != nil && badValue(mt.kind)
	for _, v := range vals {
		bad = bad || len(v) > maxLabelValue || !utf8.ValidString(v)
	}
	if bad {
		m.misuse.WithLabelValues(name, "value").Inc()
		return nil, nil
	}
	return mt, m.series(mt, vals)
}

// series returns the series with the given label values, making it if the
// metric has room.
func (m *Metrics) series(mt *metric, vals []string) prometheus.Metric {
	key := strings.Join(vals, "\xff")
	mt.mu.Lock()
	if !mt.series[key] {
		if len(mt.series) >= maxSeries {
			mt.mu.Unlock()
			m.misuse.WithLabelValues(mt.name, "series-limit").Inc()
			return nil
		}
		mt.series[key] = true
	}
	mt.mu.Unlock()
	s, err := mt.get(vals)
	if err != nil {
		m.misuse.WithLabelValues(mt.name, "labels").Inc()
		return nil
	}
	return s
}

// values orders label pairs as the metric declares them; false unless kv
// names each declared label once and nothing else.
func (mt *metric) values(kv []string) ([]string, bool) {
	if len(kv) != 2*len(mt.labels) {
		return nil, false
	}
	vals := make([]string, len(mt.labels))
	set := make([]bool, len(mt.labels))
	for i := 0; i < len(kv); i += 2 {
		j := indexOf(mt.labels, kv[i])
		if j < 0 || set[j] {
			return nil, false
		}
		vals[j], set[j] = kv[i+1], true
	}
	return vals, true
}

func indexOf(xs []string, x string) int {
	for i, s := range xs {
		if s == x {
			return i
		}
	}
	return -1
}

// Write writes the metrics in the text exposition format.
func (m *Metrics) Write(w io.Writer) error {
	mfs, err := m.reg.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if e := enc.Encode(mf); e != nil {
			return e
		}
	}
	return err
}

// ObserveAPI counts one GitHub API attempt; pass it as ghapi.RetryConfig.Observe.
func (m *Metrics) ObserveAPI(a ghapi.Attempt) {
	code := strconv.Itoa(a.Status)
	if a.Status == 0 {
		code = "transport-error"
	}
	m.Inc(mAPIRequests, "method", a.Method, "route", a.Route, "code", code)
	if a.Retry {
		m.Inc(mAPIRetries, "reason", a.Reason)
	}
}

// IncMirrorRepair counts a damaged mirror rebuilt; which is a fixed name
// ("evaluation-mirror", "writer-mirror"), never the damage itself.
func (m *Metrics) IncMirrorRepair(which string) { m.Inc(mMirrorRepairs, "reason", which) }
