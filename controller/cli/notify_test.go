package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// noticeChannels are appended to the example's relgate.yaml before its
// history is replayed, so the policy in force has them (a policy changed
// afterwards would need the process approver's approval first).
const noticeChannels = `notices:
  channels:
    - name: ops
      kind: webhook
      urlEnv: RELGATE_TEST_HOOK
      events: [approval-missing, deployment-rolled-back]
    - name: ops-en
      kind: webhook
      urlEnv: RELGATE_TEST_HOOK
      language: en
      events: [approval-missing]
`

// noticeRepo is the example's lawful history with notice channels.
func noticeRepo(t *testing.T) *gitrepotest.Repo {
	t.Helper()
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(src, "relgate.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(data, noticeChannels...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := gitrepotest.New(t)
	if err := gen.Replay(src, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	return r
}

// A day after REL-2026-0043's plan last changed (19 November 17:31), its
// plan review is still missing two approvals; REL-2026-0042 was rolled
// back on 15 November, within the last week.
const noticeNow = "2026-11-20T18:31:00+08:00"

// TestNotifyDryRun: relgate notify --dry-run prints what would be sent
// now, each message in its channel's language and the headings in the
// reader's, and neither sends nor writes a ledger.
func TestNotifyDryRun(t *testing.T) {
	r := noticeRepo(t)
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits++ }))
	defer srv.Close()
	t.Setenv("RELGATE_TEST_HOOK", srv.URL)
	ledger := filepath.Join(t.TempDir(), "ledger")
	tests := []struct {
		lang string
		want []string
	}{
		{"zh", []string{
			"[ops] approval-missing → 马晓东 (maxiaodong), 张伟 (zhangwei)",
			"【relgate】REL-2026-0043 调度管理 Oracle 数据库 19c 补丁升级（RU 19.32）：发布方案评审 (plan-review) 审批仍缺失",
			"    - 部门负责人 (dispatch-automation)：缺 1 份；可审批人：马晓东 (maxiaodong)",
			"[ops] deployment-rolled-back → 张伟 (zhangwei)",
			"【relgate】REL-2026-0042 营销系统电费结算接口改造：部署已回退",
			"[ops-en] approval-missing → 马晓东 (maxiaodong), 张伟 (zhangwei)",
			"[relgate] REL-2026-0043 调度管理 Oracle 数据库 19c 补丁升级（RU 19.32）: approval of plan-review still missing",
			"    - release-owner: 1 missing; who may give it: 张伟 (zhangwei)",
			"  键：approval-missing/REL-2026-0043/plan-review/",
			"演练：3 条通知到期；未发送，通知台账未改动",
		}},
		{"en", []string{
			"[ops] approval-missing → 马晓东 (maxiaodong), 张伟 (zhangwei)",
			"【relgate】REL-2026-0043 调度管理 Oracle 数据库 19c 补丁升级（RU 19.32）：发布方案评审 (plan-review) 审批仍缺失",
			"[ops-en] approval-missing",
			"  key: approval-missing/REL-2026-0043/plan-review/",
			"dry run: 3 notice(s) due; nothing sent, the ledger untouched",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			code, out, errs := run(t, "notify", "--repo", r.Dir, "--now", noticeNow, "--dry-run", "--ledger", ledger, "--lang", tt.lang)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if hits != 0 {
		t.Errorf("a dry run sent %d requests", hits)
	}
	if _, err := os.Stat(ledger); !os.IsNotExist(err) {
		t.Errorf("a dry run touched the ledger: %v", err)
	}
	// Before the reminder period, nothing of REL-2026-0043 is due.
	_, out, _ := run(t, "notify", "--repo", r.Dir, "--now", "2026-11-20T16:00:00+08:00", "--dry-run", "--lang", "en")
	if strings.Contains(out, "REL-2026-0043") || !strings.Contains(out, "1 notice(s) due") {
		t.Errorf("23 hours after the request:\n%s", out)
	}
	// JSON for scripts.
	code, out, _ := run(t, "notify", "--repo", r.Dir, "--now", noticeNow, "--dry-run", "--format", "json")
	var doc struct {
		DryRun   bool `json:"dryRun"`
		Messages []struct{ Key, Channel, Event, Lang string }
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || !doc.DryRun || len(doc.Messages) != 3 || doc.Messages[2].Lang != "en" {
		t.Errorf("json: exit %d, %v, %+v\n%s", code, err, doc, out)
	}
}

// TestNotifySendsOnce: relgate notify sends the due notices to a webhook on
// loopback; a second run sends nothing (the ledger), and a receiver that
// refuses makes the run fail (exit 1) and is tried again next time.
func TestNotifySendsOnce(t *testing.T) {
	r := noticeRepo(t)
	var mu sync.Mutex
	var bodies []map[string]any
	refuse := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(req.Body)
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Errorf("not JSON: %s", data)
		}
		bodies = append(bodies, m)
	}))
	defer srv.Close()
	t.Setenv("RELGATE_TEST_HOOK", srv.URL+"/hook")
	ledger := filepath.Join(t.TempDir(), "ledger")
	args := []string{"notify", "--repo", r.Dir, "--now", noticeNow, "--ledger", ledger, "--lang", "en"}
	code, out, errs := run(t, args...)
	if code != 0 || !strings.Contains(out, "3 sent, 0 sent before, 0 failed, 0 not sent") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errs)
	}
	mu.Lock()
	if len(bodies) != 3 {
		t.Errorf("the receiver got %d messages, want 3", len(bodies))
	}
	mu.Unlock()
	code, out, errs = run(t, args...)
	if code != 0 || !strings.Contains(out, "0 sent, 3 sent before") {
		t.Errorf("second run: exit %d\n%s%s", code, out, errs)
	}
	mu.Lock()
	if len(bodies) != 3 {
		t.Errorf("the second run sent again: %d messages in all", len(bodies))
	}
	refuse = true
	mu.Unlock()
	// A day later the reminder of the next period is due; the receiver refuses it.
	later := []string{"notify", "--repo", r.Dir, "--now", "2026-11-21T18:31:00+08:00", "--ledger", ledger, "--lang", "en"}
	code, out, _ = run(t, later...)
	if code != 1 || !strings.Contains(out, "failed") {
		t.Errorf("a refusing receiver: exit %d, want 1\n%s", code, out)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	code, out, errs = run(t, later...)
	if code != 0 || !strings.Contains(out, "2 sent, 1 sent before") {
		t.Errorf("after the receiver recovered: exit %d\n%s%s", code, out, errs)
	}
}
