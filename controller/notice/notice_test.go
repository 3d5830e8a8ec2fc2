package notice_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/notice"
	"github.com/relgate/relgate/controller/notify"
	"github.com/relgate/relgate/controller/policy"
)

const review = `apiVersion: relgate.dev/v1
kind: Review
quarter: 2026Q4
heldAt: "2026-11-20T10:00:00+08:00"
participants: [zhangwei, lina, hejun]
retrospectives:
  - release: REL-2026-0042
    summary: 违约金舍入缺陷导致回退
    rootCause: 测试数据未覆盖分次结清
    lessons: 测试库补充全量脱敏数据
actions:
  - {id: A1, description: 补充测试数据, owner: chenjie, due: "2026-11-01", status: open}
  - {id: A2, description: 舍入规则评审, owner: lina, due: "2026-12-15", status: open}
  - {id: A3, description: 已完成的措施, owner: hejun, due: "2026-10-01", status: done, doneAt: "2026-10-01T10:00:00+08:00"}
`

// exampleBoard is the example's lawful history replayed (gen.Replay) with
// a quarterly review added: REL-2026-0041 deployed and confirmed on
// 18 October, REL-2026-0042 rolled back on 15 November, REL-2026-0043 in
// plan review since 19 November 17:31 (its plan's last change), missing the
// dispatch-automation head (maxiaodong) and the release owner (zhangwei),
// its window opening 28 November 22:00 (Asia/Shanghai).
func exampleBoard(t *testing.T) *engine.Board {
	t.Helper()
	r := gitrepotest.New(t)
	if err := gen.Replay("../../examples/release-repo", r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	r.Write("reviews/2026Q4.yaml", review)
	r.Commit("quarterly review", gitrepotest.Person{Name: "李娜", Email: "lina@grid-it.example.cn"})
	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := engine.LoadBoard(repo, "", plumbing.NewHash(strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))), engine.BoardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withNotices is the board under a copy of its policy with notices n and
// freezes fz.
func withNotices(t *testing.T, b *engine.Board, n *document.Notices, fz ...document.Freeze) *engine.Board {
	t.Helper()
	dp := *b.Policy.Policy
	dp.Notices, dp.Freezes = n, append(append([]document.Freeze(nil), dp.Freezes...), fz...)
	pol, err := policy.New(&dp)
	if err != nil {
		t.Fatal(err)
	}
	out := *b
	out.Policy = pol
	return &out
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// line is what a person checks of a message: where it goes, what it is,
// to whom.
func line(m notify.Message) string {
	var who []string
	for _, r := range m.Recipients {
		who = append(who, r.Login)
	}
	return fmt.Sprintf("%s %s %s %s [%s]", m.Channel, m.Lang, m.Event, m.Key, strings.Join(who, ","))
}

var channels = []document.NoticeChannel{
	{Name: "ops", Kind: document.ChannelWeCom, URLEnv: "WECOM"},
	{Name: "mail", Kind: document.ChannelEmail, Language: "en", Events: []string{notice.ApprovalMissing, notice.DeploymentRolledBack}},
}

func TestDue(t *testing.T) {
	b := exampleBoard(t)
	digest := func(rel, g string) string {
		for _, st := range b.Statuses {
			if st.Release == rel {
				r, _ := st.Gate(g)
				return strings.TrimPrefix(r.Digest, "sha256:")[:16]
			}
		}
		t.Fatalf("no %s", rel)
		return ""
	}
	plan43 := "approval-missing/REL-2026-0043/plan-review/" + digest("REL-2026-0043", "plan-review")
	a1 := "action-overdue action-overdue/2026Q4/A1/2026-11-01 [chenjie]"
	conf42 := "ops zh deployment-confirmed deployment-confirmed/REL-2026-0042/rolled-back [zhangwei]"
	roll42 := "deployment-rolled-back deployment-rolled-back/REL-2026-0042/rolled-back [zhangwei]"
	tests := []struct {
		name    string
		now     string
		notices *document.Notices
		freeze  []document.Freeze
		edit    func(b *engine.Board) // on a copy of the statuses
		want    []string
	}{
		{name: "R-5.1.3 requested 23 hours ago: no reminder yet", now: "2026-11-20T16:31:00+08:00",
			want: []string{conf42, "ops zh " + roll42, "ops zh " + a1, "mail en " + roll42}},
		{name: "R-5.1.3 requested 25 hours ago: reminded once to who may give it, on every channel in its language",
			now: "2026-11-20T18:31:00+08:00",
			want: []string{"ops zh approval-missing " + plan43 + "/1 [maxiaodong,zhangwei]", conf42, "ops zh " + roll42, "ops zh " + a1,
				"mail en approval-missing " + plan43 + "/1 [maxiaodong,zhangwei]", "mail en " + roll42}},
		{name: "R-5.1.3 the next period is a new notice", now: "2026-11-21T18:00:00+08:00",
			want: []string{"ops zh approval-missing " + plan43 + "/2 [maxiaodong,zhangwei]", conf42, "ops zh " + roll42, "ops zh " + a1,
				"mail en approval-missing " + plan43 + "/2 [maxiaodong,zhangwei]", "mail en " + roll42}},
		{name: "R-5.1.3 approvalReminderHours 48: the first reminder after two days", now: "2026-11-21T16:00:00+08:00",
			notices: &document.Notices{Channels: channels[:1], ApprovalReminderHours: 48},
			want:    []string{conf42, "ops zh " + roll42, "ops zh " + a1}},
		{name: "R-5.1.5 the window opens in 22 hours: owner, manager, implementers", now: "2026-11-28T00:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.WindowStarting}}}},
			want:    []string{"ops zh window-starting window-starting/REL-2026-0043/2026-11-28T14:00:00Z [sunlei,wangfang,zhangwei,zhouhao]"}},
		{name: "R-5.1.5 the window opens in 26 hours: not yet", now: "2026-11-27T20:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.WindowStarting}}}}},
		{name: "R-5.1.5 the window has opened: past", now: "2026-11-28T22:30:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.WindowStarting}}}}},
		{name: "R-5.1.2 R-5.1.8 the day after the rollback: rolled back and confirmed, to the owner (the plan names systems the CMDB does not know)",
			now: "2026-11-16T09:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook",
				Events: []string{notice.DeploymentConfirmed, notice.DeploymentRolledBack}}}},
			want: []string{"ops zh deployment-confirmed deployment-confirmed/REL-2026-0042/rolled-back [zhangwei]",
				"ops zh deployment-rolled-back deployment-rolled-back/REL-2026-0042/rolled-back [zhangwei]"}},
		{name: "R-5.1.2 the rollback plan's logins and CMDB systems become people", now: "2026-11-16T09:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.DeploymentRolledBack}}}},
			edit: func(b *engine.Board) {
				p := *b.Snapshot.Releases["REL-2026-0042"].Plan
				p.Rollback.Notify = []string{"hejun", "营销业务应用系统", "95598 客服系统"}
				orig := b.Snapshot.Releases["REL-2026-0042"].Plan
				b.Snapshot.Releases["REL-2026-0042"].Plan = &p
				t.Cleanup(func() { b.Snapshot.Releases["REL-2026-0042"].Plan = orig })
			},
			want: []string{"ops zh deployment-rolled-back deployment-rolled-back/REL-2026-0042/rolled-back [hejun,yangfan,zhangwei,zhouhao]"}},
		{name: "R-5.1.8 eight days after: an old deployment does not flood a new channel", now: "2026-11-23T05:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook",
				Events: []string{notice.DeploymentConfirmed, notice.DeploymentRolledBack}}}}},
		{name: "R-5.1.6 a freeze of the release's system in 10 hours: its owner and manager", now: "2026-11-24T12:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.FreezeStarting}}}},
			freeze: []document.Freeze{{Name: "保电", Reason: "重要保电", Start: "2026-11-24T22:00:00+08:00", End: "2026-11-26T00:00:00+08:00", Systems: []string{"OMS 调度运行管理系统"}},
				{Name: "later", Reason: "x", Start: "2026-11-26T22:00:00+08:00", End: "2026-11-27T00:00:00+08:00"}},
			want: []string{"ops zh freeze-starting freeze-starting/保电/2026-11-24T14:00:00Z [wangfang,zhangwei]"}},
		{name: "R-5.1.7 a phase of a phased go-live within the lead time: to the customer representative", now: "2026-11-28T12:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.PhaseStarting}}}},
			edit: func(b *engine.Board) {
				r := b.Snapshot.Releases["REL-2026-0043"]
				r.GoLive = &document.GoLive{RolloutMode: "phased", Phases: []document.Phase{
					{Name: "一", Items: []string{"oracle-db-dispatch"}, At: "2026-11-28T23:00:00+08:00"},
					{Name: "二", Items: []string{"oms-workflow"}, At: "2026-11-29T13:00:00+08:00"}}}
				t.Cleanup(func() { r.GoLive = nil })
			},
			want: []string{"ops zh phase-starting phase-starting/REL-2026-0043/0/2026-11-28T15:00:00Z [tangjing]"}},
		{name: "R-10 an emergency release's retrospective overdue: who may give it and the owner", now: "2026-11-24T12:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.RetrospectiveOverdue}}}},
			edit: func(b *engine.Board) {
				b.Statuses[2].Retrospectives = []gate.Retrospective{{Gate: "plan-review", Due: "2026-11-24T00:00:00+08:00"},
					{Gate: "test-acceptance", Due: "2026-11-25T00:00:00+08:00"}}
			},
			want: []string{"ops zh retrospective-overdue retrospective-overdue/REL-2026-0043/plan-review/2026-11-24T00:00:00+08:00 [maxiaodong,zhangwei]"}},
		{name: "R-8 on 15 December A2 is not overdue yet, on the 16th it is", now: "2026-12-16T00:00:00+08:00",
			notices: &document.Notices{Channels: []document.NoticeChannel{{Name: "ops", Kind: "webhook", Events: []string{notice.ActionOverdue}}}},
			want:    []string{"ops zh " + a1, "ops zh action-overdue action-overdue/2026Q4/A2/2026-12-15 [lina]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.notices
			if n == nil {
				n = &document.Notices{Channels: channels}
			}
			bb := withNotices(t, b, n, tt.freeze...)
			bb.Statuses = append([]gate.Status(nil), b.Statuses...)
			if tt.edit != nil {
				tt.edit(bb)
			}
			ms := notice.Due(notice.Input{Board: bb, Requested: notice.Requested(bb), Now: at(t, tt.now)})
			var got []string
			for _, m := range ms {
				got = append(got, line(m))
				if m.Subject == "" || m.Text == "" || strings.Contains(m.Text, "<no value>") {
					t.Errorf("%s: subject %q text %q", m.Key, m.Subject, m.Text)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("due (-want +got):\n%s", d)
			}
			again := notice.Due(notice.Input{Board: bb, Requested: notice.Requested(bb), Now: at(t, tt.now)})
			if d := cmp.Diff(ms, again); d != "" {
				t.Errorf("a second decision differs (keys must be stable):\n%s", d)
			}
		})
	}
}

// TestDueTexts: what a reader sees of a reminder, in Chinese and English:
// the release, its title, the gate, who may give it by name, the time in
// the policy's timezone and the link.
func TestDueTexts(t *testing.T) {
	b := withNotices(t, exampleBoard(t), &document.Notices{Channels: []document.NoticeChannel{
		{Name: "zh", Kind: "webhook", Events: []string{notice.ApprovalMissing}},
		{Name: "en", Kind: "webhook", Language: "en", Events: []string{notice.ApprovalMissing}}}})
	ms := notice.Due(notice.Input{Board: b, Requested: notice.Requested(b), Now: at(t, "2026-11-20T18:31:00+08:00"), BaseURL: "https://relgate.example.cn/"})
	if len(ms) != 2 {
		t.Fatalf("%d messages, want 2", len(ms))
	}
	want := []string{
		"【relgate】REL-2026-0043 调度管理 Oracle 数据库 19c 补丁升级（RU 19.32）：发布方案评审 (plan-review) 审批仍缺失\n" +
			"发布 REL-2026-0043「调度管理 Oracle 数据库 19c 补丁升级（RU 19.32）」的关口 发布方案评审 (plan-review) 自 2026-11-19 17:31（Asia/Shanghai）起等待审批：\n" +
			"- 部门负责人 (dispatch-automation)：缺 1 份；可审批人：马晓东 (maxiaodong)\n" +
			"- 发布负责人：缺 1 份；可审批人：张伟 (zhangwei)\n" +
			"请审阅相关文档并批准或驳回。\n" +
			"https://relgate.example.cn/zh/releases/REL-2026-0043.html",
		"[relgate] REL-2026-0043 调度管理 Oracle 数据库 19c 补丁升级（RU 19.32）: approval of plan-review still missing\n" +
			"Release REL-2026-0043 \"调度管理 Oracle 数据库 19c 补丁升级（RU 19.32）\" waits for approvals of gate plan-review, requested 2026-11-19 17:31 (Asia/Shanghai):\n" +
			"- department-head (dispatch-automation): 1 missing; who may give it: 马晓东 (maxiaodong)\n" +
			"- release-owner: 1 missing; who may give it: 张伟 (zhangwei)\n" +
			"Please review the documents and approve or reject.\n" +
			"https://relgate.example.cn/en/releases/REL-2026-0043.html",
	}
	for i, m := range ms {
		if d := cmp.Diff(want[i], m.Subject+"\n"+m.Text); d != "" {
			t.Errorf("%s (-want +got):\n%s", m.Channel, d)
		}
		if m.Recipients[0].Email != "maxiaodong@grid-it.example.cn" || m.Recipients[0].Name != "马晓东" {
			t.Errorf("recipient %+v: want the policy's person", m.Recipients[0])
		}
	}
}

// TestDueNoChannels: a policy without notices sends nothing.
func TestDueNoChannels(t *testing.T) {
	b := withNotices(t, exampleBoard(t), nil)
	if ms := notice.Due(notice.Input{Board: b, Now: at(t, "2026-11-20T18:31:00+08:00")}); len(ms) != 0 {
		t.Errorf("%d messages without channels", len(ms))
	}
}
