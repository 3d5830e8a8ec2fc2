package server

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/relgate/relgate/controller/ghapi"
)

// Metrics are a handful of Prometheus counters and gauges, written in the
// text exposition format by hand: relgate needs no histograms or client
// library machinery, and this keeps a dependency (and its transitive ones) out.
type Metrics struct {
	mu     sync.Mutex
	help   map[string]string
	kind   map[string]string
	values map[string]map[string]float64 // name → rendered labels → value
}

// Metric names.
const (
	mDeliveries  = "relgate_webhook_deliveries_total"
	mAckSeconds  = "relgate_webhook_ack_seconds"
	mEvaluations = "relgate_evaluations_total"
	mAPIRequests = "relgate_github_api_requests_total"
	mAPIRetries  = "relgate_github_api_retries_total"
	mAPIErrors   = "relgate_github_api_errors_total"
	mPosts       = "relgate_results_posted_total"
	mFetches     = "relgate_git_fetches_total"
	mWriteback   = "relgate_writeback_total"
	mJobRuns     = "relgate_job_runs_total"
	mQueueDepth  = "relgate_queue_depth"
	mQueueDrops  = "relgate_queue_dropped_total"
	mOverdue     = "relgate_releases_overdue"
)

// NewMetrics declares relgate's metrics.
func NewMetrics() *Metrics {
	m := &Metrics{help: map[string]string{}, kind: map[string]string{}, values: map[string]map[string]float64{}}
	for _, d := range []struct{ name, kind, help string }{
		{mDeliveries, "counter", "Webhook deliveries by event and result (accepted, duplicate, ignored, unauthorized, too-large, malformed)."},
		{mAckSeconds + "_sum", "counter", "Total seconds spent acknowledging webhook deliveries."},
		{mAckSeconds + "_count", "counter", "Webhook deliveries acknowledged."},
		{mEvaluations, "counter", "Pull request evaluations by result (passed, blocked, error, pending)."},
		{mAPIRequests, "counter", "GitHub API attempts by method, route and status code."},
		{mAPIRetries, "counter", "GitHub API retries by reason."},
		{mAPIErrors, "counter", "GitHub API calls that failed after their retries, by operation."},
		{mPosts, "counter", "Results posted to GitHub by kind (check-run, status) and state."},
		{mFetches, "counter", "Fetches into the local mirror by result."},
		{mWriteback, "counter", "Write-back calls (record-approvals, reconcile, quarterly-report) by result."},
		{mJobRuns, "counter", "Scheduled job runs by job and result (ok, error, panic, skipped)."},
		{mQueueDepth, "gauge", "Work items waiting."},
		{mQueueDrops, "counter", "Work items dropped because the queue was full (the resync job recovers them)."},
		{mOverdue, "gauge", "Releases whose go-live window began without a deployment record."},
	} {
		m.help[d.name], m.kind[d.name] = d.help, d.kind
	}
	return m
}

func labels(kv []string) string {
	if len(kv) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(kv[i+1])
		fmt.Fprintf(&b, "%s=\"%s\"", kv[i], v)
	}
	b.WriteByte('}')
	return b.String()
}

// Add adds v to a metric with label pairs.
func (m *Metrics) Add(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values[name] == nil {
		m.values[name] = map[string]float64{}
	}
	m.values[name][labels(kv)] += v
}

// Inc adds one.
func (m *Metrics) Inc(name string, kv ...string) { m.Add(name, 1, kv...) }

// Set sets a gauge.
func (m *Metrics) Set(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values[name] == nil {
		m.values[name] = map[string]float64{}
	}
	m.values[name][labels(kv)] = v
}

// Get returns a metric's value (tests).
func (m *Metrics) Get(name string, kv ...string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.values[name][labels(kv)]
}

// Write writes the text exposition format, sorted.
func (m *Metrics) Write(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for n := range m.help {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", n, m.help[n], n, m.kind[n])
		var ls []string
		for l := range m.values[n] {
			ls = append(ls, l)
		}
		sort.Strings(ls)
		for _, l := range ls {
			fmt.Fprintf(&b, "%s%s %g\n", n, l, m.values[n][l])
		}
	}
	_, err := io.WriteString(w, b.String())
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
