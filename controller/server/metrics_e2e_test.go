package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// TestMetricsEndpointLintsAfterTraffic scrapes /metrics of a real server
// after it handled deliveries and evaluated a pull request, and lints it
// as `promtool check metrics` does.
func TestMetricsEndpointLintsAfterTraffic(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 5)
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	e.deliverWith("ping", "bad-1", []byte(`{}`), "sha256="+strings.Repeat("0", 64))
	e.checkRun(head)
	e.settle()
	code, body := e.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	wantContains(t, "/metrics", body,
		"relgate_webhook_ack_seconds_bucket", "relgate_webhook_ack_seconds_count", `relgate_webhook_deliveries_total{event="ping",result="unauthorized"} 1`,
		`relgate_evaluations_total{result="passed"}`, "relgate_http_request_duration_seconds_bucket", `route="/repos/{owner}/{repo}/pulls/{number}"`,
		"relgate_queue_depth", "go_goroutines", "process_resident_memory_bytes", "relgate_build_info")
	if strings.Contains(body, "grid-it") {
		t.Errorf("a metric label names the repository:\n%s", body)
	}
}
