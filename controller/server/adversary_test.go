package server

// Adversarial scenarios against relgate serve (issue 11): each test is an
// attack; it passes when the attack is stopped.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/remote"
	"github.com/relgate/relgate/controller/webhook"
)

// twinPRs opens pull request 2 (wangfang) approved by maxiaodong and
// zhangwei, and pull request 1 (lihua) with the same head and base and the
// same approvals: both pass alone.
func twinPRs(t *testing.T, e *env) string {
	t.Helper()
	head := approvedPR(t, e, 2)
	e.push("refs/heads/pr2:refs/pull/1/head")
	e.gh.SetPull(slug, ghapitest.PR{Number: 1, Title: "same change", Author: "lihua", HeadSHA: head, HeadRef: "lh", BaseRef: "main"})
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 1, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head})
	}
	return head
}

// TestAdversaryStaleGroupEvaluationOverwritesRejection (attack: a shared
// head and two workers). Pull requests 1 and 2 share a head and both pass.
// An evaluation started for #2 reads #1's reviews, then stalls on #2's
// reviews (GitHub is slow). Meanwhile #1 is rejected and the event for #1
// is evaluated on the other worker and posts failure. The stalled
// evaluation then finishes: it must not bring back the success it computed
// from #1's reviews before the rejection.
func TestAdversaryStaleGroupEvaluationOverwritesRejection(t *testing.T) {
	for _, checkRuns := range []bool{true, false} {
		t.Run(map[bool]string{true: "check runs", false: "statuses"}[checkRuns], func(t *testing.T) {
			e := newEnv(t, envOptions{checkRuns: checkRuns})
			head := twinPRs(t, e)
			e.deliver("pull_request", prEvent(t, "opened", 2, head))
			e.settle()
			if got := e.latest(head, checkRuns); got != "success" {
				t.Fatalf("before the attack: %q, want success", got)
			}
			before := countRequests(e, http.MethodGet, "/pulls/2/reviews")
			e.gh.Inject(ghapitest.Fault{Method: http.MethodGet, Path: "/pulls/2/reviews", Delay: 1500 * time.Millisecond})
			e.deliver("pull_request", prEvent(t, "synchronize", 2, head))
			// The evaluation for #2 has read #1's reviews and waits on #2's.
			e.eventually("the evaluation of #2 to stall on its reviews", func() bool {
				return countRequests(e, http.MethodGet, "/pulls/2/reviews") > before
			})
			e.gh.AddReview(slug, 1, ghapitest.Review{Login: "maxiaodong", State: "CHANGES_REQUESTED", CommitID: head})
			e.deliver("pull_request_review", reviewEvent(t, 1, "maxiaodong", "changes_requested", head))
			e.eventually("the rejection to show", func() bool { return e.latest(head, checkRuns) == "failure" })
			e.settle()
			if got := e.latest(head, checkRuns); got != "failure" {
				t.Errorf("after the stalled evaluation finished the head shows %q, want failure: a success computed before #1's rejection was posted after it", got)
			}
		})
	}
}

// TestAdversaryRetargetKeepsGreenOnOldBase (attack: move the pull request
// to another base, collect a rejection there, move it back and merge at
// once). After #5 passed on main it is retargeted to dev and rejected.
// relgate/main on its head must not stay success: no evaluation backs it
// any more, and retargeting back to main would show a green merge button
// until relgate evaluates the edited event.
func TestAdversaryRetargetKeepsGreenOnOldBase(t *testing.T) {
	for _, checkRuns := range []bool{true, false} {
		t.Run(map[bool]string{true: "check runs", false: "statuses"}[checkRuns], func(t *testing.T) {
			e := newEnv(t, envOptions{checkRuns: checkRuns})
			e.push("refs/heads/main:refs/heads/dev")
			head := approvedPR(t, e, 5)
			e.deliver("pull_request", prEvent(t, "opened", 5, head))
			e.settle()
			if got := e.latest(head, checkRuns); got != "success" {
				t.Fatalf("before the attack: %q, want success", got)
			}
			pr, _ := e.gh.Pull(slug, 5)
			pr.BaseRef = "dev"
			e.gh.SetPull(slug, pr)
			e.deliver("pull_request", payload(t, "pull_request.opened.json", func(m map[string]any) {
				m["action"], m["number"] = "edited", 5
				p := m["pull_request"].(map[string]any)
				p["number"] = 5
				p["head"].(map[string]any)["sha"] = head
				p["base"].(map[string]any)["ref"] = "dev"
				m["changes"] = map[string]any{"base": map[string]any{"ref": map[string]any{"from": "main"}, "sha": map[string]any{"from": head}}}
			}))
			e.gh.AddReview(slug, 5, ghapitest.Review{Login: "maxiaodong", State: "CHANGES_REQUESTED", CommitID: head})
			e.deliver("pull_request_review", payload(t, "pull_request_review.submitted.json", func(m map[string]any) {
				p := m["pull_request"].(map[string]any)
				p["number"] = 5
				p["head"].(map[string]any)["sha"] = head
				p["base"].(map[string]any)["ref"] = "dev"
				rv := m["review"].(map[string]any)
				rv["user"].(map[string]any)["login"] = "maxiaodong"
				rv["state"], rv["commit_id"] = "changes_requested", head
			}))
			e.settle()
			if got := e.latest(head, checkRuns); got == "success" {
				t.Errorf("relgate/main on the head still shows success after the pull request left main and was rejected")
			}
		})
	}
}

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

// TestAdversarySiblingMissingFromCommitPulls (attack: GitHub's lists of
// pull requests do not always hold every open pull request of a head —
// commits/{sha}/pulls returns none for a commit only in a fork, and the
// list of open pull requests lags).
// zhangwei's #1 is blocked (his own approval does not count); wangfang's
// #2 has the same head and passes with it. An event for #2 while GitHub
// lists no pull request for the commit must not post a success that #1
// borrows: relgate already knows #1 shares the head.
func TestAdversarySiblingMissingFromCommitPulls(t *testing.T) {
	for _, checkRuns := range []bool{true, false} {
		t.Run(map[bool]string{true: "check runs", false: "statuses"}[checkRuns], func(t *testing.T) {
			e := newEnv(t, envOptions{checkRuns: checkRuns})
			head := approvedPR(t, e, 2) // wangfang's
			e.push("refs/heads/pr2:refs/pull/1/head")
			e.gh.SetPull(slug, ghapitest.PR{Number: 1, Title: "same change", Author: "zhangwei", HeadSHA: head, HeadRef: "zw", BaseRef: "main"})
			for _, w := range []string{"maxiaodong", "zhangwei"} {
				e.gh.AddReview(slug, 1, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head})
			}
			e.deliver("pull_request", prEvent(t, "opened", 1, head))
			e.settle()
			if got := e.latest(head, checkRuns); got != "failure" {
				t.Fatalf("with both pull requests listed: %q, want failure", got)
			}
			// GitHub's list of open pull requests lags and leaves #1 out.
			e.gh.Inject(ghapitest.Fault{Method: http.MethodGet, Path: "/pulls", Query: "state=open", Status: 200, Body: "[]", Times: 100})
			e.deliver("pull_request", prEvent(t, "synchronize", 2, head))
			e.settle()
			if got := e.latest(head, checkRuns); got == "success" {
				t.Errorf("the head shows success while zhangwei's #1, still open on it, is blocked")
			}
		})
	}
}

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

// TestAdversaryRejectionOutlivesAnEdit (attack: edit the rejected documents
// so the change request's digest no longer matches). A rejection stands
// until its author changes it; editing the documents does not lift it.
func TestAdversaryRejectionOutlivesAnEdit(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	h1 := e.openPR(5, "wangfang", addGoLive)
	e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: h1})
	e.deliver("pull_request_review", reviewEvent(t, 5, "hejun", "changes_requested", h1))
	if cr := e.checkRun(h1); cr.Conclusion != "failure" {
		t.Fatalf("after the change request: %s", cr.Conclusion)
	}
	h2 := e.pushPR(5, "wangfang", func(r *gitrepotest.Repo) {
		r.Write(rel43+"/communication.yaml", r.Read(rel43+"/communication.yaml")+"# reworded after review\n")
	})
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 5, ghapitest.Review{Login: w, State: "APPROVED", CommitID: h2})
	}
	e.deliver("pull_request", prEvent(t, "synchronize", 5, h2))
	cr := e.checkRun(h2)
	if cr.Conclusion == "success" {
		t.Errorf("hejun's change request on %s was lifted by an edit: %q", h1[:12], cr.Title)
	}
	wantContains(t, "summary", cr.Summary, "rejected by hejun")
}

// TestAdversaryHostileRemotes (attack: a remote that runs a program or
// reaches a transport nobody checked). New refuses each before any process
// starts: the canary file is never made.
func TestAdversaryHostileRemotes(t *testing.T) {
	dir := t.TempDir()
	canary := filepath.Join(dir, "canary")
	for _, raw := range []string{
		"ext::sh -c touch% " + canary, "ext::sh -c 'touch " + canary + "'", "fd::3", "fd::0,1",
		"file://" + dir, "FILE://" + dir, "git://127.0.0.1/releases.git", "http://example.com/releases.git",
		"-oProxyCommand=touch " + canary, "ssh://-oProxyCommand=touch%20" + canary + "/x",
		"git@-oProxyCommand=touch:x", "--upload-pack=touch " + canary, "releases.git", "~/releases.git",
		" /tmp/x", "https://example.com/x\nhttps://evil", "https://example.com/\u202ex", "sftp://example.com/x",
		"ssh://git@example.com:22:path", "git@example.com:22:path",
	} {
		t.Run(fmt.Sprintf("%.40q", raw), func(t *testing.T) {
			_, err := New(Config{Secret: testSecret, Remote: raw, MirrorDir: filepath.Join(t.TempDir(), "mirror")})
			if !errors.Is(err, remote.ErrRefused) {
				t.Errorf("New: %v, want a refusal", err)
			}
			if _, err := os.Stat(canary); err == nil {
				t.Fatalf("the canary exists: a process ran")
			}
		})
	}
}

// TestAdversarySiblingReviewsUnreadable (attack: a partial outage on the
// other pull request of a shared head). #1's reviews cannot be read
// throughout; the event names only #2. #2 alone would pass, but the head
// must not show success while #1 is not evaluated.
func TestAdversarySiblingReviewsUnreadable(t *testing.T) {
	e := newEnv(t, envOptions{})
	head := twinPRs(t, e)
	e.gh.Inject(ghapitest.Fault{Method: http.MethodGet, Path: "/pulls/1/reviews", Status: 502, Times: 1000})
	e.deliver("pull_request", prEvent(t, "opened", 2, head))
	e.settle()
	time.Sleep(150 * time.Millisecond) // the retries, after 20 and 50 ms
	e.settle()
	for _, st := range e.gh.Statuses() {
		if st.SHA == head && st.State == "success" {
			t.Errorf("success posted while #1's reviews could not be read: %+v", st)
		}
	}
	if got := e.latest(head, false); got != "pending" {
		t.Errorf("the head shows %q, want pending", got)
	}
}

// TestAdversaryRejectionOnALaterPage (attack: bury a change request under
// a hundred comments, past the first page of reviews).
func TestAdversaryRejectionOnALaterPage(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 5)
	for i := 0; i < 130; i++ {
		e.gh.AddReview(slug, 5, ghapitest.Review{Login: "wangfang", State: "COMMENTED", CommitID: head})
	}
	e.gh.AddReview(slug, 5, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: head})
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	if cr := e.checkRun(head); cr.Conclusion != "failure" {
		t.Errorf("a change request on the second page of reviews: %s %q", cr.Conclusion, cr.Title)
	}
	if n := countRequests(e, http.MethodGet, "/pulls/5/reviews"); n < 2 {
		t.Errorf("%d review requests: the second page was not read", n)
	}
}

// TestAdversarySameHeadOtherBase (attack: pass the head on a branch the
// attacker controls and borrow it for main). #2 into dev passes; #1 into
// main by zhangwei does not: relgate/main stays failure and only
// relgate/dev shows the success.
func TestAdversarySameHeadOtherBase(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	e.push("refs/heads/main:refs/heads/dev")
	head := approvedPR(t, e, 2)
	pr2, _ := e.gh.Pull(slug, 2)
	pr2.BaseRef = "dev"
	e.gh.SetPull(slug, pr2)
	e.push("refs/heads/pr2:refs/pull/1/head")
	e.gh.SetPull(slug, ghapitest.PR{Number: 1, Title: "same change", Author: "zhangwei", HeadSHA: head, HeadRef: "zw", BaseRef: "main"})
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 1, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head})
	}
	e.deliver("pull_request", prEvent(t, "opened", 1, head))
	e.deliver("pull_request", payload(t, "pull_request.opened.json", func(m map[string]any) {
		m["number"] = 2
		p := m["pull_request"].(map[string]any)
		p["number"] = 2
		p["head"].(map[string]any)["sha"] = head
		p["base"].(map[string]any)["ref"] = "dev"
	}))
	e.settle()
	if got := e.latest(head, true); got != "failure" {
		t.Errorf("relgate/main shows %q, want failure", got)
	}
	if cr, ok := e.gh.LatestCheckRun(head, "relgate/dev"); !ok || cr.Conclusion != "success" {
		t.Errorf("relgate/dev: %+v", cr)
	}
}

// TestAdversaryCheckRunVanishes (attack: GitHub answers 404 when relgate
// completes its in-progress run). The result is not lost: a new run shows it.
func TestAdversaryCheckRunVanishes(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 5)
	// The first evaluation cannot read the reviews (pending, in progress);
	// the retry passes, and completing the run gets a 404 once.
	e.gh.Inject(ghapitest.Fault{Method: http.MethodGet, Path: "/pulls/5/reviews", Status: 502, Times: 3})
	e.gh.Inject(ghapitest.Fault{Method: http.MethodPatch, Path: "/check-runs/", Status: 404, Body: `{"message":"Not Found"}`})
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	e.eventually("success on a check run", func() bool { return e.latest(head, true) == "success" })
	e.settle()
	if n := countRequests(e, http.MethodPatch, "/check-runs/"); n == 0 {
		t.Errorf("the in-progress run was never completed: the 404 was not exercised")
	}
	if v := e.gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestAdversaryHugeChangeIsBounded (attack: a pull request that adds many
// files just under the 1 MiB per-file limit). Nothing bounds what one
// evaluation reads in total, and it runs under the mirror lock, so every
// other evaluation waits for it. An evaluation must refuse a change past a
// total bound instead of decoding it all: here 24 MiB of YAML must not grow
// the heap by more than 64 MiB.
func TestAdversaryHugeChangeIsBounded(t *testing.T) {
	const files = 24
	e := newEnv(t, envOptions{checkRuns: true})
	head := e.openPR(5, "wangfang", func(r *gitrepotest.Repo) {
		src := r.Read(rel43 + "/release.yaml")
		for i := 0; i < files; i++ {
			id := fmt.Sprintf("REL-2099-%04d", i)
			var b strings.Builder
			b.WriteString(strings.ReplaceAll(src, "REL-2026-0043", id))
			b.WriteString("notes:\n")
			for b.Len() < 1_000_000 {
				fmt.Fprintf(&b, "  - n%07d\n", b.Len())
			}
			r.Write("releases/"+id+"/release.yaml", b.String())
		}
	})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	cr := e.checkRun(head)
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("%d MiB of YAML: %s %q; heap grew by %d MiB", files, cr.Conclusion, cr.Title, grew>>20)
	if grew > 64<<20 {
		t.Errorf("one evaluation of %d MiB of YAML grew the heap by %d MiB: no bound on what an evaluation reads", files, grew>>20)
	}
	if cr.Conclusion != "failure" || !strings.Contains(cr.Summary, "MiB") {
		t.Errorf("an oversized change: %s %q, want failure naming the bound\n%s", cr.Conclusion, cr.Title, cr.Summary)
	}
}

// TestAdversaryForcePushBetweenGetAndFetch (attack: force-push between
// GitHub's answer and relgate's fetch). GitHub still names H1; the remote
// already has H2 and no ref to H1. relgate evaluates only the head GitHub
// named: H1 cannot be read, so it is pending, and nothing is posted on H2,
// whose pull request GitHub has not shown yet.
func TestAdversaryForcePushBetweenGetAndFetch(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	h1 := approvedPR(t, e, 5)
	e.work.GitCLI("reset", "-q", "--hard", "main")
	addGoLive(e.work)
	h2 := e.work.Commit("change, force-pushed", who("wangfang"))
	e.push("refs/heads/pr5:refs/pull/5/head", "refs/heads/pr5:refs/heads/pr5")
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 5, ghapitest.Review{Login: w, State: "APPROVED", CommitID: h2})
	}
	e.deliver("pull_request", prEvent(t, "synchronize", 5, h1))
	e.settle()
	time.Sleep(150 * time.Millisecond) // the retries, after 20 and 50 ms
	e.settle()
	if got := e.latest(h1, true); got != "pending" {
		t.Errorf("H1, named by GitHub but gone from the remote: %q, want pending", got)
	}
	if got := e.latest(h2, true); got != "" {
		t.Errorf("H2 has a result (%q) though GitHub never named it", got)
	}
}

// TestAdversaryOutageOnOneOfTwins (attack: a rejection on one pull request
// of a shared head while GitHub cannot return that pull request). The head
// goes pending at once for both, not success borrowed from the other one.
func TestAdversaryOutageOnOneOfTwins(t *testing.T) {
	e := newEnv(t, envOptions{})
	head := twinPRs(t, e)
	e.deliver("pull_request", prEvent(t, "opened", 2, head))
	e.settle()
	if got := e.latest(head, false); got != "success" {
		t.Fatalf("before the outage: %q", got)
	}
	e.gh.Inject(ghapitest.Fault{Method: http.MethodGet, Path: "/pulls/1", Status: 502, Times: 1000})
	e.gh.AddReview(slug, 1, ghapitest.Review{Login: "hejun", State: "CHANGES_REQUESTED", CommitID: head})
	e.deliver("pull_request_review", reviewEvent(t, 1, "hejun", "changes_requested", head))
	e.eventually("the head to turn pending", func() bool { return e.latest(head, false) == "pending" })
	e.settle()
	time.Sleep(150 * time.Millisecond) // the retries, after 20 and 50 ms
	e.settle()
	if got := e.latest(head, false); got == "success" {
		t.Errorf("after the retries the head shows success while #1 cannot be read and is rejected")
	}
}
