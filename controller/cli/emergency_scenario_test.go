package cli

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/present"
)

// Scenario tests of an emergency release (the example policy's release
// type emergency, with the default rule: the process approver's go-live
// approval, plan review and test acceptance due five days after the
// deployment; ), through the CLI on a real git repository. The
// gate, status and audit verify must agree: on time it passes everywhere;
// overdue, status says OVERDUE and verify fails naming the release; given
// late, verify names the commit that gave it.

// mainRun runs relgate as the command line does.
func mainRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// matchesSchema checks a JSON output against schemas/output/<name>.schema.json:
// the retrospectives and their rules are in the shape tools rely on.
func matchesSchema(t *testing.T, name, out string) {
	t.Helper()
	data, err := os.ReadFile("../../schemas/output/" + name + ".schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(name+".json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("the output does not match schemas/output/%s.schema.json: %v\n%s", name, err, out)
	}
}

// emergencyAt runs git as p with author and committer date when.
func emergencyAt(t *testing.T, r *gitrepotest.Repo, p gitrepotest.Person, when string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=" + p.Name, "-c", "user.email=" + p.Email}, args...)...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+when, "GIT_COMMITTER_DATE="+when)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// commitAt stages everything and commits it as p at when.
func commitAt(t *testing.T, r *gitrepotest.Repo, p gitrepotest.Person, when, msg string) {
	t.Helper()
	emergencyAt(t, r, p, when, "add", "-A")
	emergencyAt(t, r, p, when, "commit", "-q", "-m", msg)
}

func approveAt(t *testing.T, r *gitrepotest.Repo, rel, gate, login, when string) {
	t.Helper()
	code, out, errs := call(t, approveCmd, rel, gate, "--repo", r.Dir, "--as", login, "--commit", "--now", when)
	if code != 0 {
		t.Fatalf("approve %s %s as %s: exit %d\n%s%s", rel, gate, login, code, out, errs)
	}
}

// emergencyStatus is REL-2026-0043's status as of now, in JSON and text.
func emergencyStatus(t *testing.T, r *gitrepotest.Repo, now string) (present.StatusReport, string) {
	t.Helper()
	code, js, errs := mainRun(t, "status", "REL-2026-0043", r.Dir, "--format", "json", "--now", now)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	var st present.StatusReport
	if err := json.Unmarshal([]byte(js), &st); err != nil || len(st.Releases) != 1 {
		t.Fatalf("status: %v\n%s", err, js)
	}
	matchesSchema(t, "status-report", js)
	_, text, _ := mainRun(t, "status", "REL-2026-0043", r.Dir, "--now", now, "--lang", "en")
	return st, text
}

// liveInEmergency makes REL-2026-0043 an emergency release, merges its
// go-live on the process approver's approval alone (the gate must pass
// it, and must refuse the same change without the approval), and records
// its deployment, finished 2026-11-28 23:40: plan review and test
// acceptance are due 2026-12-03 23:40.
func liveInEmergency(t *testing.T) *gitrepotest.Repo {
	t.Helper()
	r := auditRepo(t)
	r.GitCLI("checkout", "-q", "-b", "emergency")
	r.Edit(r43+"/release.yaml", "type: normal", "type: emergency")
	goLive43(r)
	commitAt(t, r, person("zhouhao"), "2026-11-26T09:00:00+08:00", "REL-2026-0043: emergency go-live plan")

	if code, out := gateCLI(t, r, "emergency"); code != 1 || !strings.Contains(out, "BLOCKED") {
		t.Fatalf("attack: an emergency go-live with no approval passes the gate: exit %d\n%s", code, out)
	}
	approveAt(t, r, "REL-2026-0043", "go-live-approval", "liuzhiqiang", "2026-11-26T10:00:00+08:00")
	if code, out := gateCLI(t, r, "emergency"); code != 0 {
		t.Fatalf("lawful: the process approver's emergency approval does not pass the gate: exit %d\n%s", code, out)
	}
	r.GitCLI("checkout", "-q", "main")
	emergencyAt(t, r, person("relgate-bot"), "2026-11-26T10:30:00+08:00", "merge", "-q", "--no-ff", "-m", "Merge pull request: REL-2026-0043 emergency", "emergency")

	r.Write(r43+"/deployment.yaml", deployment43)
	commitAt(t, r, person("sunlei"), "2026-11-29T00:10:00+08:00", "REL-2026-0043: deployed")
	return r
}

func gateCLI(t *testing.T, r *gitrepotest.Repo, branch string) (int, string) {
	t.Helper()
	code, out, errs := mainRun(t, "gate", "--base", "main", "--head", branch, r.Dir, "--lang", "en")
	if code == 2 {
		t.Fatalf("gate: exit 2: %s", errs)
	}
	return code, out + errs
}

// deployment43 records REL-2026-0043's deployment, finished 2026-11-28 23:40.
const deployment43 = `apiVersion: relgate.dev/v1
kind: Deployment
release: REL-2026-0043
recordedBy: sunlei
startedAt: "2026-11-28T22:10:00+08:00"
finishedAt: "2026-11-28T23:40:00+08:00"
outcome: succeeded
problems: []
deployed:
  - item: oracle-db-dispatch
    version: "19.32.0"
    digest: sha256:6c596ff568ca36749cd18b7ec767ec78a0675a5f1629bad17ec783f1aefcbcba
`

// writeTestReport43 writes REL-2026-0043's test report: REL-2026-0041's
// results, of REL-2026-0043's artifact, by its tester.
func writeTestReport43(r *gitrepotest.Repo) {
	rep := strings.ReplaceAll(r.Read("releases/REL-2026-0041/test-report.yaml"), "REL-2026-0041", "REL-2026-0043")
	rep = strings.Replace(rep, "author: lina", "author: chenjie", 1)
	rep = regexp.MustCompile(`(?s)artifacts:\n.*?results:`).ReplaceAllString(rep, `artifacts:
  - item: oracle-db-dispatch
    version: "19.32.0"
    digest: sha256:6c596ff568ca36749cd18b7ec767ec78a0675a5f1629bad17ec783f1aefcbcba
results:`)
	r.Write(r43+"/test-report.yaml", rep)
}

// retrospect gives REL-2026-0043's plan review and test acceptance at when.
func retrospect(t *testing.T, r *gitrepotest.Repo, when string) {
	t.Helper()
	for _, login := range []string{"hejun", "maxiaodong", "zhangwei"} {
		approveAt(t, r, "REL-2026-0043", "plan-review", login, when)
	}
	writeTestReport43(r)
	commitAt(t, r, person("chenjie"), when, "REL-2026-0043: test report, after the fact")
	approveAt(t, r, "REL-2026-0043", "test-acceptance", "tangjing", when)
}

func retros(st present.StatusReport) map[string]string {
	out := map[string]string{}
	for _, rt := range st.Releases[0].Retrospectives {
		switch {
		case rt.Passed:
			out[rt.Gate] = "passed"
		case rt.Overdue:
			out[rt.Gate] = "overdue " + rt.Due
		default:
			out[rt.Gate] = "owed " + rt.Due
		}
	}
	return out
}

func TestEmergencyRetrospectives(t *testing.T) {
	const due = "2026-12-03T23:40:00+08:00"
	t.Run("R-5.1 lawful: live on the process approver, owed until the due date, then given on time", func(t *testing.T) {
		r := liveInEmergency(t)
		st, text := emergencyStatus(t, r, "2026-12-01T09:00:00+08:00")
		if got := st.Releases[0].State; got != "deployed" {
			t.Errorf("state %s, want deployed\n%s", got, text)
		}
		if got, want := retros(st), map[string]string{"plan-review": "owed " + due, "test-acceptance": "owed " + due}; !maps.Equal(got, want) {
			t.Errorf("retrospectives %v, want %v", got, want)
		}
		if !strings.Contains(text, "retrospective: plan-review owed: due "+due) {
			t.Errorf("status text does not say plan review is owed:\n%s", text)
		}
		code, rep, vtext := verify(t, r, "--state", "-", "--now", "2026-12-01T09:00:00+08:00")
		if code != 0 || !rep.Passed {
			t.Errorf("audit verify before the due date: exit %d\n%s", code, vtext)
		}

		retrospect(t, r, "2026-12-02T15:00:00+08:00")
		st, text = emergencyStatus(t, r, "2026-12-05T09:00:00+08:00")
		if got, want := retros(st), map[string]string{"plan-review": "passed", "test-acceptance": "passed"}; !maps.Equal(got, want) {
			t.Errorf("after the retrospective approvals: %v, want %v\n%s", got, want, text)
		}
		if code, rep, vtext := verify(t, r, "--state", "-", "--now", "2026-12-05T09:00:00+08:00"); code != 0 || !rep.Passed {
			t.Errorf("audit verify after approvals on time: exit %d\n%s", code, vtext)
		}
	})

	t.Run("R-5.1 attack: the due date passes without them; status and verify flag it", func(t *testing.T) {
		r := liveInEmergency(t)
		st, text := emergencyStatus(t, r, "2026-12-05T09:00:00+08:00")
		if got, want := retros(st), map[string]string{"plan-review": "overdue " + due, "test-acceptance": "overdue " + due}; !maps.Equal(got, want) {
			t.Errorf("retrospectives %v, want %v", got, want)
		}
		if !strings.Contains(text, "retrospective: plan-review OVERDUE: was due "+due) {
			t.Errorf("status text does not flag the overdue plan review:\n%s", text)
		}
		code, rep, vtext := verify(t, r, "--state", "-", "--now", "2026-12-05T09:00:00+08:00")
		if code != 1 || rep.Passed {
			t.Fatalf("audit verify passes an overdue emergency retrospective: exit %d\n%s", code, vtext)
		}
		for _, g := range []string{"plan-review", "test-acceptance"} {
			found := false
			for _, v := range rep.Violations {
				found = found || v.Rule == audit.RuleRetrospectiveOverdue && v.Release == "REL-2026-0043" && v.Commit == rep.Tip && strings.Contains(v.Message, "gate "+g+", which was due by "+due)
			}
			if !found {
				t.Errorf("verify does not name the overdue %s at the tip: %+v", g, rep.Violations)
			}
		}
		_, js, _ := mainRun(t, "audit", "verify", r.Dir, "--state", "-", "--now", "2026-12-05T09:00:00+08:00", "--format", "json")
		matchesSchema(t, "audit-verify-report", js)
		if !strings.Contains(vtext, "retrospective-overdue") {
			t.Errorf("the text report does not name the rule:\n%s", vtext)
		}
	})

	t.Run("R-5.1 attack: given after the due date; verify names the commit that gave them", func(t *testing.T) {
		r := liveInEmergency(t)
		retrospect(t, r, "2026-12-06T15:00:00+08:00")
		st, _ := emergencyStatus(t, r, "2026-12-07T09:00:00+08:00")
		if got, want := retros(st), map[string]string{"plan-review": "passed", "test-acceptance": "passed"}; !maps.Equal(got, want) {
			t.Errorf("status: %v, want %v", got, want)
		}
		code, rep, vtext := verify(t, r, "--state", "-", "--now", "2026-12-07T09:00:00+08:00")
		if code != 1 {
			t.Fatalf("audit verify passes retrospective approvals given late: exit %d\n%s", code, vtext)
		}
		// zhangwei's approval completes the plan review; tangjing's, the last
		// commit, the test acceptance.
		late := map[string]string{}
		for _, v := range rep.Violations {
			if v.Rule == audit.RuleRetrospectiveLate && v.Release == "REL-2026-0043" {
				for _, g := range []string{"plan-review", "test-acceptance"} {
					if strings.Contains(v.Message, "gate "+g+",") {
						late[g] = v.Subject
					}
				}
			}
		}
		if !strings.Contains(late["plan-review"], "plan-review") || !strings.Contains(late["test-acceptance"], "test-acceptance") {
			t.Errorf("want the commits that gave the late plan review and test acceptance, got %v\n%s", late, vtext)
		}
	})
}
