package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/finding"
)

// hostileSchedules are issue 11's specs: robfig/cron's parser panicked on
// the first three; it accepted the others though they never run or would run
// more often than once a minute.
var hostileSchedules = []struct {
	name, spec, want string
}{
	{"issue 11: TZ=0 panicked", "TZ=0", "policy's timezone"},
	{"issue 11: empty TZ= panicked", "TZ=", "policy's timezone"},
	{"issue 11: CRON_TZ=UTC panicked", "CRON_TZ=UTC", "policy's timezone"},
	{"issue 11: February 31 never runs", "0 0 31 2 *", "day-of-month field: never runs"},
	{"issue 11: February 30 never runs", "0 0 30 2 *", "day-of-month field: never runs"},
	{"issue 11: @every 0s", "@every 0s", "more often than once a minute"},
	{"a seconds field", "*/1 * * * * *", "no seconds"},
}

// lineOf is the 1-based line of the first line of text containing s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no %q", s)
	return 0
}

// TestValidateHostileSchedules: each hostile spec in relgate.yaml is a
// finding at schedules.resync's line, in English and Chinese, exit 1, no
// panic, in the work tree and at a revision.
func TestValidateHostileSchedules(t *testing.T) {
	r := exampleRepo(t) // one repository, edited case by case: replaying it is slow
	orig := r.Read("relgate.yaml")
	for _, tc := range hostileSchedules {
		t.Run(tc.name, func(t *testing.T) {
			r.Write("relgate.yaml", strings.Replace(orig, `resync: "*/15 * * * *"`, `resync: "`+tc.spec+`"`, 1))
			line := lineOf(t, r.Read("relgate.yaml"), "resync:")
			for _, rev := range [][]string{nil, {"--rev", "HEAD"}} {
				if rev != nil {
					r.Commit("hostile schedule", gitrepoPerson)
				}
				code, out, errs := run(t, append([]string{"validate", r.Dir, "--format", "json"}, rev...)...)
				if code != 1 {
					t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
				}
				var rep finding.Report
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				var got []finding.Finding
				for _, f := range rep.Findings {
					if f.Field == "schedules.resync" {
						got = append(got, f)
					}
				}
				if len(got) != 1 {
					t.Fatalf("findings on schedules.resync: %+v\nall: %s", got, out)
				}
				f := got[0]
				if f.File != "relgate.yaml" || f.Line != line || f.Severity != finding.Error || !strings.Contains(f.Message, tc.want) ||
					!strings.Contains(f.Message, tc.spec) || !strings.Contains(f.Message, " / ") {
					t.Errorf("finding %+v, want relgate.yaml:%d naming %q and %q, English / Chinese", f, line, tc.spec, tc.want)
				}
			}
			code, out, _ := run(t, "validate", r.Dir)
			if code != 1 || !strings.Contains(out, "relgate.yaml:") || !strings.Contains(out, "schedules.resync") {
				t.Errorf("text output: exit %d\n%s", code, out)
			}
		})
	}
}

// TestValidateGoodSchedules: the grammar's words, names and steps pass.
func TestValidateGoodSchedules(t *testing.T) {
	r := exampleRepo(t)
	r.Edit("relgate.yaml", `resync: "*/15 * * * *"`, `resync: "@hourly"`)
	r.Edit("relgate.yaml", `reminders: "0 9 * * 1-5"`, `reminders: "30 8-18/2 * jan-dec mon-fri"`)
	if code, out, errs := run(t, "validate", r.Dir); code != 0 {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}

// TestGateHostileSchedule: a pull request that adds a hostile schedule to
// the policy is blocked with the finding (gate validates the merged view);
// it never panics (exit 2 would fail here too).
func TestGateHostileSchedule(t *testing.T) {
	r := prRepo(t, nil)
	orig := r.Read("relgate.yaml")
	for _, tc := range hostileSchedules {
		t.Run(tc.name, func(t *testing.T) {
			r.Write("relgate.yaml", strings.Replace(orig, `reconcile: "*/5 * * * *"`, `reconcile: "`+tc.spec+`"`, 1))
			r.Commit("schedule", who("liuzhiqiang"))
			code, rep, text := gate(t, r)
			if code != 1 || rep.Passed {
				t.Fatalf("exit %d passed %v, want 1 (blocked)\n%s", code, rep.Passed, text)
			}
			found := false
			for _, f := range rep.Findings {
				found = found || f.File == "relgate.yaml" && f.Field == "schedules.reconcile" && f.Line > 0 && strings.Contains(f.Message, tc.want)
			}
			if !found {
				t.Errorf("no finding on relgate.yaml schedules.reconcile with %q: %+v", tc.want, rep.Findings)
			}
			if !strings.Contains(text, "schedules.reconcile") {
				t.Errorf("text output lacks the field:\n%s", text)
			}
		})
	}
}
