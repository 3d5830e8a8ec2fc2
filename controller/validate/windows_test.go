package validate_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/validate"
)

// exampleWindows are the maintenance windows and freeze of the example's
// relgate.yaml (issue 15), right after its schedules; exampleTypeRules
// follow them, last in the file.
const exampleWindows = `# 维护窗口（R-5.1.5、R-9）：各系统的发布窗口须落在其某个维护窗口的一次开启之内；时刻为策略时区的本地时间。
maintenanceWindows:
  - name: 调度系统周末窗口
    systems:
      - D5000 智能电网调度控制系统
      - OMS 调度运行管理系统
    weekly:
      days:
        - sat
      start: "22:00"
    duration: 6h
  - name: 营销系统周末窗口
    systems:
      - 营销业务应用系统
    rrule: FREQ=WEEKLY;BYDAY=SA;BYHOUR=20;BYMINUTE=0
    duration: 10h
# 冻结期（R-5.1.6）：冻结期内所列系统的发布不得上线或部署；不写 systems 即适用于所有系统。
freezes:
  - name: 2027年国庆保电期
    reason: 国庆期间重要保电，暂停营销系统变更
    start: "2027-09-30T00:00:00+08:00"
    end: "2027-10-08T00:00:00+08:00"
    systems:
      - 营销业务应用系统
`

// exampleTypeRules are the exception role and type rules of the example's
// relgate.yaml, its last lines.
const exampleTypeRules = `# 窗口冲突（维护窗口之外、冻结期之内、与同一系统或配置项的其他发布重叠）须经流程审批人批准例外（R-5.1.5、R-5.1.6）。
exceptionRole: process-approver
# 发布类型规则（R-5.1）：紧急发布凭流程审批人一人批准即可上线，方案评审与测试验收须在部署完成后 5 日内补齐。
typeRules:
  emergency:
    kind: emergency
    approver: process-approver
    retrospective:
      - plan-review
      - test-acceptance
    retrospectiveDays: 5
`

// withWindows is the example with its exampleWindows edited by old -> new.
func withWindows(t *testing.T, old, new string) string {
	t.Helper()
	if strings.Count(exampleWindows, old) != 1 {
		t.Fatalf("%q is not in exampleWindows once", old)
	}
	return exampleWith(t, map[string][2]string{document.PolicyPath: {exampleWindows, strings.Replace(exampleWindows, old, new, 1)}})
}

// TestWindowFindings: a maintenance window or freeze the calendar cannot
// read is an error at its file, line and field, in the reader's language;
// overlapping windows are not.
func TestWindowFindings(t *testing.T) {
	const (
		weekly = "    weekly:\n      days:\n        - sat\n      start: \"22:00\"\n    duration: 6h\n"
		rrule  = "    rrule: FREQ=WEEKLY;BYDAY=SA;BYHOUR=20;BYMINUTE=0\n"
		freeze = "    end: \"2027-10-08T00:00:00+08:00\"\n"
	)
	tests := []struct {
		name string
		old  string
		new  string
		lang string
		want []string
	}{
		{"the example is valid", rrule, rrule, "en", nil},
		{"R-5.1.5 a minute-level recurrence is refused", rrule, "    rrule: FREQ=MINUTELY;INTERVAL=1\n", "en",
			[]string{"relgate.yaml:130:12: error: maintenanceWindows[1].rrule: FREQ=MINUTELY is not allowed: a maintenance window recurs daily, weekly or monthly at most often [R-5.1.5]"}},
		{"R-5.1.5 in Chinese", rrule, "    rrule: FREQ=MINUTELY;INTERVAL=1\n", "zh",
			[]string{"relgate.yaml:130:12: error: maintenanceWindows[1].rrule: 不允许 FREQ=MINUTELY：维护窗口至多按天、周或月重复 [R-5.1.5]"}},
		{"R-5.1.5 an unknown day: the schema says so", weekly, "    weekly:\n      days:\n        - saturday\n      start: \"22:00\"\n    duration: 6h\n", "en",
			[]string{`relgate.yaml:124:11: error: maintenanceWindows[0].weekly.days[0]: "saturday" is not allowed here; write one of "mon", "tue", "wed", "thu", "fri", "sat", "sun" [R-5.1.5, R-9]`}},
		{"R-5.1.5 a start that is not a time of day", weekly, "    weekly:\n      days:\n        - sat\n      start: \"25:00\"\n    duration: 6h\n", "en",
			[]string{`relgate.yaml:125:14: error: maintenanceWindows[0].weekly.start: "25:00" is not a time of day: write it as 22:00 (24-hour, hours:minutes) [R-5.1.5]`}},
		{"R-5.1.5 a duration of zero", weekly, "    weekly:\n      days:\n        - sat\n      start: \"22:00\"\n    duration: 0h\n", "en",
			[]string{"relgate.yaml:126:15: error: maintenanceWindows[0].duration: 0h is not a window's duration: more than 0 and at most 7 days (168h) [R-5.1.5]"}},
		{"R-5.1.5 a duration over seven days", weekly, "    weekly:\n      days:\n        - sat\n      start: \"22:00\"\n    duration: 169h\n", "en",
			[]string{"relgate.yaml:126:15: error: maintenanceWindows[0].duration: 169h is not a window's duration: more than 0 and at most 7 days (168h) [R-5.1.5]"}},
		{"R-5.1.5 a window that never opens", rrule, "    rrule: FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=20\n", "en",
			[]string{"relgate.yaml:130:12: error: maintenanceWindows[1].rrule: the window never opens: no day from its first day on matches its rule before it ends (February has at most 29 days; April, June, September and November 30) [R-5.1.5]"}},
		{"R-5.1.5 INTERVAL needs a first day", rrule, "    rrule: FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;BYHOUR=20\n", "en",
			[]string{"relgate.yaml:127:5: error: maintenanceWindows[1].from: INTERVAL and COUNT count from a first day: add from: with the date the recurrence begins [R-5.1.5]"}},
		{"overlapping windows are fine", rrule, "    rrule: FREQ=DAILY;BYHOUR=20\n", "en", nil},
		{"R-5.1.6 a freeze that ends when it starts", freeze, "    end: \"2027-09-30T00:00:00+08:00\"\n", "en",
			[]string{"relgate.yaml:137:10: error: freezes[0].end: the freeze ends before it starts, or when it starts; end is the first moment after it [R-5.1.6]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := withWindows(t, tt.old, tt.new)
			var got []string
			for _, f := range check(t, dir, loader.Options{Lang: tt.lang}, validate.Options{}) {
				if f.File == document.PolicyPath && f.Severity == "error" {
					got = append(got, f.String())
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}

// TestExampleWindowsChangeNoOutcome: every release window of the example
// lies inside a maintenance window of each of its systems and outside every
// freeze, so exampleWindows would change no gate of the example.
func TestExampleWindowsChangeNoOutcome(t *testing.T) {
	snap, err := loader.LoadAll(source.Dir{Root: withWindows(t, "duration: 10h", "duration: 10h")}, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.New(snap.Policy)
	if err != nil {
		t.Fatal(err)
	}
	cal, errs := calendar.FromPolicy(snap.Policy, p.Location)
	if len(errs) > 0 || len(cal.Windows) == 0 || len(cal.Freezes) < 2 {
		t.Fatalf("the example's calendar: %d windows, %d freezes, %v", len(cal.Windows), len(cal.Freezes), errs)
	}
	for _, id := range snap.ReleaseIDs() {
		rel := snap.Releases[id].Release
		s, err1 := document.ParseTime(rel.Window.Start)
		e, err2 := document.ParseTime(rel.Window.End)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: window %v %v", id, err1, err2)
		}
		iv := calendar.Interval{Start: s, End: e}
		for _, sys := range rel.Systems {
			if !calendar.Restricted(cal.Windows, sys) {
				t.Errorf("%s: system %s has no maintenance window in the example", id, sys)
			}
		}
		if u := calendar.Uncovered(cal.Windows, rel.Systems, iv); len(u) > 0 {
			t.Errorf("%s: window %s – %s is outside the maintenance windows of %v", id, rel.Window.Start, rel.Window.End, u)
		}
		if fz := calendar.Freezes(cal.Freezes, rel.Systems, iv); len(fz) > 0 {
			t.Errorf("%s: window overlaps freeze %s", id, fz[0].Name)
		}
	}
}
