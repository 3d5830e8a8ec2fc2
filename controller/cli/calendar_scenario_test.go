package cli

import (
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// TestCalendarConflictAgrees: REL-2026-0043 is planned into the example
// policy's Spring Festival freeze (blackoutWindows, 2027-02-01 to 02-14;
// The gate, status and audit verify decide it alike:
// without the process approver's exception the go-live does not pass, the
// gate names the freeze, status keeps the release before its go-live, and a
// deployment recorded anyway is a violation verify names by commit. With the
// exception all three let it through. (Merging a go-live approval is no
// go-live: the change that records the deployment is the one gated.)
func TestCalendarConflictAgrees(t *testing.T) {
	prepare := func(t *testing.T) *gitrepotest.Repo {
		r := auditRepo(t)
		r.GitCLI("checkout", "-q", "-b", "festival")
		r.Edit(r43+"/release.yaml", `start: "2026-11-28T22:00:00+08:00"`, `start: "2027-02-05T22:00:00+08:00"`)
		r.Edit(r43+"/release.yaml", `end: "2026-11-29T04:00:00+08:00"`, `end: "2027-02-06T04:00:00+08:00"`)
		commitAt(t, r, person("zhouhao"), "2026-11-26T09:00:00+08:00", "REL-2026-0043: window in February")
		for _, login := range []string{"hejun", "maxiaodong", "zhangwei"} {
			approveAt(t, r, "REL-2026-0043", "plan-review", login, "2026-11-26T10:00:00+08:00")
		}
		writeTestReport43(r)
		goLive43(r)
		commitAt(t, r, person("chenjie"), "2026-11-27T09:00:00+08:00", "REL-2026-0043: tested, go-live plan")
		approveAt(t, r, "REL-2026-0043", "test-acceptance", "tangjing", "2026-11-27T10:00:00+08:00")
		approveAt(t, r, "REL-2026-0043", "go-live-approval", "zhangwei", "2026-11-27T11:00:00+08:00")
		return r
	}
	// deploy merges the go-live, then records the deployment on a branch,
	// gates it, and pushes it to main (as an administrator past a red check
	// would); it returns the gate's exit code and text.
	deploy := func(t *testing.T, r *gitrepotest.Repo) (int, string) {
		r.GitCLI("checkout", "-q", "main")
		emergencyAt(t, r, person("relgate-bot"), "2026-11-27T12:00:00+08:00", "merge", "-q", "--no-ff", "-m", "Merge pull request: REL-2026-0043 go-live", "festival")
		r.GitCLI("checkout", "-q", "-b", "deployed")
		r.Write(r43+"/deployment.yaml", strings.NewReplacer("2026-11-28T22:10", "2027-02-05T22:10", "2026-11-28T23:40", "2027-02-05T23:40").Replace(deployment43))
		commitAt(t, r, person("sunlei"), "2027-02-06T00:10:00+08:00", "REL-2026-0043: deployed")
		code, out := gateCLI(t, r, "deployed")
		r.GitCLI("checkout", "-q", "main")
		r.GitCLI("merge", "-q", "--ff-only", "deployed")
		return code, out
	}
	goLivePassed := func(t *testing.T, r *gitrepotest.Repo) bool {
		st, _ := emergencyStatus(t, r, "2027-01-10T09:00:00+08:00")
		for _, g := range st.Releases[0].Passed {
			if g == "go-live-approval" {
				return true
			}
		}
		return false
	}

	t.Run("R-5.1.6 attack: a go-live in the freeze without the exception", func(t *testing.T) {
		r := prepare(t)
		if goLivePassed(t, r) {
			t.Error("status passes the go-live in a freeze without the exception")
		}
		code, out := deploy(t, r)
		if code != 1 || !strings.Contains(out, "2027年春节保电期") || !strings.Contains(out, "process-approver") {
			t.Errorf("the gate of the deployment record does not name the freeze and the exception it needs: exit %d\n%s", code, out)
		}
		code, rep, text := verify(t, r, "--state", "-", "--now", "2027-02-06T09:00:00+08:00")
		found := false
		for _, v := range rep.Violations {
			found = found || v.Rule == "gate:go-live-approval" && v.Release == "REL-2026-0043" && strings.Contains(v.Message, "2027年春节保电期") && v.Subject == "REL-2026-0043: deployed"
		}
		if code != 1 || !found {
			t.Errorf("audit verify does not name the deployment in the freeze: exit %d\n%s", code, text)
		}
	})

	t.Run("R-5.1.6 lawful: the process approver approves the exception", func(t *testing.T) {
		r := prepare(t)
		approveAt(t, r, "REL-2026-0043", "go-live-approval", "liuzhiqiang", "2026-11-27T11:30:00+08:00")
		if !goLivePassed(t, r) {
			t.Error("status does not pass the go-live with the exception")
		}
		if code, out := deploy(t, r); code != 0 {
			t.Errorf("the gate refuses the deployment record of the excepted go-live: exit %d\n%s", code, out)
		}
		if code, rep, text := verify(t, r, "--state", "-", "--now", "2027-02-06T09:00:00+08:00"); code != 0 || !rep.Passed {
			t.Errorf("audit verify of the excepted go-live: exit %d\n%s", code, text)
		}
	})
}
