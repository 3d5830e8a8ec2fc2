package server

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/webhook"
)

// TestMergedApprovalsSurviveALongWriteBackOutage: when recording the
// approvals of a merged pull request keeps failing, the server gives up
// after its retries and logs "the resync job will try again". But resync
// re-evaluates only open pull requests: nothing ever records the merged
// one's approvals, though the write-back works again. (Safe: a later resync
// or push records them, or the failure is kept as pending work.)
func TestMergedApprovalsSurviveALongWriteBackOutage(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := approvedPR(t, e, 8)
	e.deliver("pull_request", prEvent(t, "opened", 8, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("%s", cr.Conclusion)
	}
	e.writer.mu.Lock()
	e.writer.fail = errors.New("push rejected: stale info")
	e.writer.mu.Unlock()
	e.work.Checkout("main", false)
	e.work.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "--no-ff", "-m", "Merge #8", "pr8")
	merge := strings.TrimSpace(e.work.GitCLI("rev-parse", "HEAD"))
	e.push("refs/heads/main:refs/heads/main")
	pr, _ := e.gh.Pull(slug, 8)
	pr.State, pr.Merged, pr.MergeCommitSHA = "closed", true, merge
	e.gh.SetPull(slug, pr)
	e.deliver("pull_request", prEvent(t, "closed", 8, head))
	e.eventually("the retries to run out", func() bool {
		return strings.Contains(e.logs.String(), "the resync job will try again")
	})
	e.settle()
	// The write-back is back; the next resync and the next push to main come.
	e.writer.mu.Lock()
	e.writer.fail = nil
	e.writer.mu.Unlock()
	e.srv.queue.push(workKey{kind: kindResync})
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		e.writer.mu.Lock()
		n := len(e.writer.approvals)
		e.writer.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.settle()
	t.Errorf("the approvals that gated merged #8 were never recorded after the write-back recovered")
}

// TestDeliveryNotAcknowledgedWhenItsWorkIsDropped: when the work queue is
// full, handleWebhook ignores queue.push's false, answers 202 Accepted and
// has already remembered the delivery id. The work is lost (for a merge: the
// approval records, which no resync recreates) and GitHub's redelivery of the
// same delivery is then refused as a duplicate. Safe: a 5xx that GitHub
// shows as failed, and a redelivery that is accepted.
func TestDeliveryNotAcknowledgedWhenItsWorkIsDropped(t *testing.T) {
	srv, err := New(Config{Secret: testSecret, Remote: t.TempDir(), MirrorDir: filepath.Join(t.TempDir(), "mirror"),
		QueueLimit: 1, DisableSchedule: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.mirror.Close()
	h := srv.Handler()
	deliver := func(id string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(testSecret, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	head := strings.Repeat("a", 40)
	if rec := deliver("d1", prEvent(t, "opened", 1, head)); rec.Code != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
	}
	merged := prEvent(t, "closed", 2, head)
	rec := deliver("d2", merged)
	if rec.Code == http.StatusAccepted || rec.Code == http.StatusOK {
		t.Errorf("the merge of #2 was dropped (queue full) but acknowledged: %d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// The queue drains; GitHub redelivers d2.
	k, _ := srv.queue.pop()
	srv.queue.done(k)
	if rec := deliver("d2", merged); rec.Code != http.StatusAccepted {
		t.Errorf("redelivery of the dropped d2: %d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	if srv.queue.len() != 1 {
		t.Errorf("the merge of #2 is not queued (queue length %d)", srv.queue.len())
	}
}

// TestMergeIntoAnotherBranchWritesNothingThere: the server evaluates a pull
// request against whatever base it targets (policy from that base), and on
// merge hands the counted reviews to the write-back for pr.BaseRef, which
// records them and runs a full reconcile there: bot-authored (and, with
// --sign-key, bot-signed) commits of approval files, CMDB updates and
// release reports on any branch a contributor created, with that branch's
// own relgate.yaml deciding what counted. `--branch` is documented as "the
// protected BRANCH approvals are written to"; a report the bot wrote on a
// scratch branch later passes the "reports/ only through commits the bot
// made" check when that branch is proposed to main. Safe: only the
// protected branch is written.
func TestMergeIntoAnotherBranchWritesNothingThere(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	e.work.Checkout("main", false)
	e.work.Checkout("scratch", true)
	e.push("refs/heads/scratch:refs/heads/scratch")
	head := e.openPR(9, "wangfang", addGoLive)
	for _, w := range []string{"maxiaodong", "zhangwei"} {
		e.gh.AddReview(slug, 9, ghapitestReview(w, head))
	}
	pr, _ := e.gh.Pull(slug, 9)
	pr.BaseRef = "scratch"
	e.gh.SetPull(slug, pr)
	e.work.Checkout("scratch", false)
	e.work.GitCLI("-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "--no-ff", "-m", "Merge #9", "pr9")
	merge := strings.TrimSpace(e.work.GitCLI("rev-parse", "HEAD"))
	e.push("refs/heads/scratch:refs/heads/scratch")
	pr.State, pr.Merged, pr.MergeCommitSHA = "closed", true, merge
	e.gh.SetPull(slug, pr)
	body := payload(t, "pull_request.closed.json", func(m map[string]any) {
		m["number"] = 9
		p := m["pull_request"].(map[string]any)
		p["number"], p["merged"] = 9, true
		p["head"].(map[string]any)["sha"] = head
		p["base"].(map[string]any)["ref"] = "scratch"
	})
	if code := e.deliver("pull_request", body); code != http.StatusAccepted {
		t.Fatalf("closed: %d", code)
	}
	time.Sleep(100 * time.Millisecond)
	e.settle()
	e.writer.mu.Lock()
	defer e.writer.mu.Unlock()
	for _, b := range e.writer.branches {
		if b != "main" {
			t.Errorf("the write-back was asked to write %d approval record(s) to branch %q, not the protected main", len(e.writer.approvals), b)
		}
	}
}

func ghapitestReview(login, commit string) ghapitest.Review {
	return ghapitest.Review{Login: login, State: "APPROVED", CommitID: commit}
}
