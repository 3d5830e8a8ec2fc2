package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// TestFreezeTurnsAGreenCheckRed: a pull request giving REL-2026-0042 its
// go-live approval is green the day before a freeze of its system; when the
// freeze begins the server evaluates it again and it turns red (the
// approval would merge during the freeze, R-5.1.6) — and green once the
// freeze ends. Nothing else moves in between: only the clock.
func TestFreezeTurnsAGreenCheckRed(t *testing.T) {
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	// REL-2026-0042 waits for its go-live approval: the release owner's
	// approval, its deployment and confirmations are not there yet.
	rel42 := filepath.Join(src, "releases", "REL-2026-0042")
	for _, f := range []string{"deployment.yaml", "approvals/deployment-confirmation.huangli.yaml", "approvals/deployment-confirmation.lina.yaml", "approvals/go-live-approval.zhangwei.yaml"} {
		if err := os.Remove(filepath.Join(rel42, f)); err != nil {
			t.Fatal(err)
		}
	}
	pol := filepath.Join(src, "relgate.yaml")
	b, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	// One more freeze, first among the example's.
	freeze := "freezes:\n  - name: 迎峰度冬保电\n    reason: 寒潮保电，暂停调度系统变更\n    start: \"2026-11-26T00:00:00+08:00\"\n    end: \"2026-11-27T00:00:00+08:00\"\n    systems:\n      - 营销业务应用系统\n"
	if !bytes.Contains(b, []byte("\nfreezes:\n")) {
		t.Fatal("the example policy has no freezes: list")
	}
	if err := os.WriteFile(pol, bytes.Replace(b, []byte("\nfreezes:\n"), []byte("\n"+freeze), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{checkRuns: true, src: src})
	approval, err := os.ReadFile(filepath.Join(examples, "releases", "REL-2026-0042", "approvals", "go-live-approval.zhangwei.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The release owner commits his approval on wangfang's pull request.
	e.work.Checkout("pr5", true)
	e.work.Write("releases/REL-2026-0042/approvals/go-live-approval.zhangwei.yaml", string(approval))
	head := e.work.Commit("approve the go-live of REL-2026-0042", who("zhangwei"))
	e.push("refs/heads/pr5:refs/pull/5/head", "refs/heads/pr5:refs/heads/pr5")
	e.gh.SetPull(slug, ghapitest.PR{Number: 5, Title: "go-live approval", Author: "wangfang", HeadSHA: head, HeadRef: "pr5", BaseRef: "main"})
	e.deliver("pull_request", prEvent(t, "opened", 5, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("before the freeze: %s\n%s", cr.Conclusion, cr.Summary)
	}
	latest := func() ghapitest.CheckRun {
		t.Helper()
		e.settle()
		cr, _ := e.gh.LatestCheckRun(head, "relgate/main")
		return cr
	}
	cst := time.FixedZone("CST", 8*3600)
	if e.srv.calendarTick(time.Date(2026, 11, 25, 23, 0, 0, 0, cst)) {
		t.Fatal("nothing changed before the freeze: no re-evaluation")
	}
	e.setNow(time.Date(2026, 11, 26, 0, 5, 0, 0, cst))
	if !e.srv.calendarTick(e.now()) {
		t.Fatal("the freeze began: the open pull requests are evaluated again")
	}
	if cr := latest(); cr.Conclusion == "success" || !strings.Contains(cr.Summary, "would merge during freeze 迎峰度冬保电") {
		t.Fatalf("during the freeze: %s\n%s", cr.Conclusion, cr.Summary)
	}
	// The lawful way through: the process approver approves the exception
	// in the same change (bound to the same digest), and it merges.
	exception := strings.Replace(strings.Replace(string(approval), "person: zhangwei", "person: liuzhiqiang", 1), "role: release-owner", "role: process-approver", 1)
	head = e.pushPR(5, "liuzhiqiang", func(r *gitrepotest.Repo) {
		r.Write("releases/REL-2026-0042/approvals/go-live-approval.liuzhiqiang.yaml", exception)
	})
	e.deliver("pull_request", prEvent(t, "synchronize", 5, head))
	if cr := e.checkRun(head); cr.Conclusion != "success" {
		t.Fatalf("during the freeze, with the exception: %s\n%s", cr.Conclusion, cr.Summary)
	}
	e.setNow(time.Date(2026, 11, 27, 0, 5, 0, 0, cst))
	if !e.srv.calendarTick(e.now()) {
		t.Fatal("the freeze ended: evaluated again")
	}
	if cr := latest(); cr.Conclusion != "success" {
		t.Fatalf("after the freeze: %s\n%s", cr.Conclusion, cr.Summary)
	}
}
