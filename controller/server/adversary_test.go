package server

// Adversarial scenarios against relgate serve (issue 11): each test is an
// attack; it passes when the attack is stopped.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/webhook"
)

// TestAdversaryResultPageNeedsItsToken (attack: read another commit's or
// base's result, or guess the token). Only the exact link opens the page.
func TestAdversaryResultPageNeedsItsToken(t *testing.T) {
	e := newEnv(t, envOptions{publicURL: true})
	head := e.openPR(5, "wangfang", addGoLive)
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	e.settle()
	st, ok := e.gh.LatestStatus(head, "relgate/main")
	if !ok {
		t.Fatal("no status")
	}
	u, err := url.Parse(st.TargetURL)
	if err != nil {
		t.Fatal(err)
	}
	good := u.Query()
	if code, _ := e.get(u.RequestURI()); code != http.StatusOK {
		t.Fatalf("the link itself: %d", code)
	}
	tok := good.Get("t")
	other := strings.Repeat("a", 40)
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"no token", url.Values{"head": {head}, "base": {"main"}}},
		{"empty token", url.Values{"head": {head}, "base": {"main"}, "t": {""}}},
		{"token prefix", url.Values{"head": {head}, "base": {"main"}, "t": {tok[:16]}}},
		{"token with a suffix", url.Values{"head": {head}, "base": {"main"}, "t": {tok + "0"}}},
		{"upper-case token", url.Values{"head": {head}, "base": {"main"}, "t": {strings.ToUpper(tok)}}},
		{"the token on another head", url.Values{"head": {other}, "base": {"main"}, "t": {tok}}},
		{"the token on an upper-case head", url.Values{"head": {strings.ToUpper(head)}, "base": {"main"}, "t": {tok}}},
		{"the token on another base", url.Values{"head": {head}, "base": {"main\x00"}, "t": {tok}}},
		{"base with the separator moved", url.Values{"head": {head[:39]}, "base": {head[39:] + "\x00main"}, "t": {tok}}},
		{"a short head", url.Values{"head": {head[:12]}, "base": {"main"}, "t": {tok}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.get("/result?" + tc.q.Encode())
			if code != http.StatusNotFound || strings.Contains(body, "wangfang") {
				t.Errorf("%d, want 404 without the result: %.200s", code, body)
			}
		})
	}
	// A token for the head (second value) does not smuggle in a first one.
	q := u.Query()
	q["t"] = []string{strings.Repeat("0", 32), tok}
	if code, _ := e.get("/result?" + q.Encode()); code != http.StatusNotFound {
		t.Errorf("a wrong token first, the right one second: %d, want 404", code)
	}
	// Nothing else serves the result's reasons without a token.
	for _, p := range []string{"/metrics", "/readyz", "/healthz", "/api/releases"} {
		if _, body := e.get(p); strings.Contains(body, "department-head (dispatch-automation)") {
			t.Errorf("%s shows the result's reasons", p)
		}
	}
}

// TestAdversaryForgedAndReplayedDeliveries (attack: an anonymous sender).
// A delivery with a missing, malformed or wrong signature, or the signature
// of another body, is refused and queues no work; a duplicate id is not
// worked twice.
func TestAdversaryForgedAndReplayedDeliveries(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 5)
	body := prEvent(t, "opened", 5, head)
	other := prEvent(t, "opened", 6, head)
	good := sign(body)
	for _, tc := range []struct {
		name, sig string
		body      []byte
		want      int
	}{
		{"no signature", "", body, http.StatusUnauthorized},
		{"sha1 only", "sha1=" + strings.Repeat("0", 40), body, http.StatusUnauthorized},
		{"64 zeros", "sha256=" + strings.Repeat("0", 64), body, http.StatusUnauthorized},
		{"short", good[:len(good)-2], body, http.StatusUnauthorized},
		{"long", good + "00", body, http.StatusUnauthorized},
		{"not hex", good[:len(good)-1] + "g", body, http.StatusUnauthorized},
		{"another body's signature", sign(other), body, http.StatusUnauthorized},
		{"the body with a byte appended", good, append(append([]byte{}, body...), ' '), http.StatusUnauthorized},
		{"prefix without value", "sha256=", body, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := e.deliverWith("pull_request", "forged-"+tc.name, tc.body, tc.sig); code != tc.want {
				t.Errorf("%d, want %d", code, tc.want)
			}
		})
	}
	e.settle()
	if n := countRequests(e, http.MethodGet, "/pulls/5"); n != 0 {
		t.Errorf("forged deliveries led to %d GitHub reads", n)
	}
	if code := e.deliverWith("pull_request", "real-1", body, good); code != http.StatusAccepted {
		t.Fatalf("the real delivery: %d", code)
	}
	e.settle()
	n := countRequests(e, http.MethodGet, "/pulls/5")
	if code := e.deliverWith("pull_request", "real-1", body, good); code != http.StatusOK {
		t.Errorf("the duplicate: %d, want 200", code)
	}
	e.settle()
	if got := countRequests(e, http.MethodGet, "/pulls/5"); got != n {
		t.Errorf("a duplicate delivery was worked again (%d reads, want %d)", got, n)
	}
}

func sign(b []byte) string { return webhook.Sign(testSecret, b) }

// TestAdversaryPolicyPRWithHostileSchedule (attack: a policy change that
// carries a schedule robfig/cron once panicked on, or one that never runs).
// With the policy-change gate approved, a harmless schedule change passes
// and a hostile one is blocked with a finding on relgate.yaml; the server
// keeps serving.
func TestAdversaryPolicyPRWithHostileSchedule(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	for i, tc := range []struct {
		spec, want string
	}{
		{"*/30 * * * *", "success"},
		{"TZ=0", "failure"}, {"TZ=", "failure"}, {"CRON_TZ=UTC", "failure"}, {"0 0 31 2 *", "failure"},
		{"@every 0s", "failure"}, {"* * * * * *", "failure"}, {"TZ=UTC */15 * * * *", "failure"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			n := 40 + i
			e.work.Checkout("main", false)
			head := e.openPR(n, "wangfang", func(r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", `resync: "*/15 * * * *"`, `resync: "`+tc.spec+`"`)
			})
			e.gh.AddReview(slug, n, ghapitest.Review{Login: "liuzhiqiang", State: "APPROVED", CommitID: head})
			e.deliver("pull_request", prEvent(t, "opened", n, head))
			cr := e.checkRun(head)
			if cr.Conclusion != tc.want {
				t.Fatalf("%s: %s %q, want %s\n%s", tc.spec, cr.Conclusion, cr.Title, tc.want, cr.Summary)
			}
			if tc.want == "failure" && !strings.Contains(cr.Summary, "schedules.resync") {
				t.Errorf("the summary does not name schedules.resync:\n%s", cr.Summary)
			}
			if code, _ := e.get("/healthz"); code != http.StatusOK {
				t.Errorf("/healthz: %d", code)
			}
		})
	}
}
