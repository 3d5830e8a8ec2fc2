package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// Scenario tests of `relgate audit verify` against history rewrites, run
// through the CLI on small repositories each test builds itself (not on
// the example's history, whose approvals count differently as the engine
// changes).

func vrPerson(login string) gitrepotest.Person {
	return gitrepotest.Person{Name: login, Email: login + "@grid-it.example.cn"}
}

func vrExample(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examples, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// vrStart commits the lawful start of a history: relgate.yaml (the
// example's policy) and a README.
func vrStart(t *testing.T) (*gitrepotest.Repo, string) {
	t.Helper()
	r := gitrepotest.New(t)
	r.Write("relgate.yaml", vrExample(t, "relgate.yaml"))
	r.Write("README.md", "# releases\n")
	return r, r.Commit("start", vrPerson("liuzhiqiang"))
}

const vr43 = "releases/REL-2026-0043"

// vrRelease43 writes REL-2026-0043 in plan review, citing an external change
// and adding its item, so that it is valid alone and asserts no step.
func vrRelease43(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	rel := vrExample(t, vr43+"/release.yaml")
	rel = strings.Replace(rel, "action: update", "action: add", 1)
	rel = strings.Replace(rel, "  - id: CHG-2026-0104\n", "  - id: ITSM-2026-0104\n    external: true\n    url: https://itsm.grid-it.example.cn/change/ITSM-2026-0104\n", 1)
	r.Write(vr43+"/release.yaml", rel)
	r.Write(vr43+"/plan.yaml", vrExample(t, vr43+"/plan.yaml"))
}

// vrGoLive43 writes REL-2026-0043's go-live plan and communication record,
// which assert that plan review passed, without any approval.
func vrGoLive43(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	for _, f := range []string{"golive.yaml", "communication.yaml"} {
		r.Write(vr43+"/"+f, strings.ReplaceAll(vrExample(t, "releases/REL-2026-0041/"+f), "REL-2026-0041", "REL-2026-0043"))
	}
}

// vrDeploy43 writes a deployment record, which asserts go-live approval.
func vrDeploy43(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	r.Write(vr43+"/deployment.yaml", strings.ReplaceAll(vrExample(t, "releases/REL-2026-0041/deployment.yaml"), "REL-2026-0041", "REL-2026-0043"))
}

func vrHead(r *gitrepotest.Repo) string { return strings.TrimSpace(r.GitCLI("rev-parse", "HEAD")) }

// vrGit runs the git CLI as sunlei, for merges and commits go-git does not make.
func vrGit(r *gitrepotest.Repo, args ...string) string {
	return r.GitCLI(append([]string{"-c", "user.name=sunlei", "-c", "user.email=sunlei@grid-it.example.cn"}, args...)...)
}

// verifyRun runs `relgate audit verify DIR --branch main` in JSON and in
// text and returns the exit code, the report and the text.
type verifyRun func(args ...string) (int, *audit.VerifyReport, string)

func vrVerifier(t *testing.T, r *gitrepotest.Repo) verifyRun {
	return func(args ...string) (int, *audit.VerifyReport, string) {
		t.Helper()
		base := []string{"audit", "verify", r.Dir, "--branch", "main"}
		code, out, errs := run(t, append(append(base, args...), "--format", "json")...)
		if code == 2 {
			t.Fatalf("audit verify: exit 2: %s", errs)
		}
		var rep audit.VerifyReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("audit verify output: %v\n%s", err, out)
		}
		tcode, text, _ := run(t, append(base, args...)...)
		if tcode != code {
			t.Fatalf("exit %d in JSON, %d in text", code, tcode)
		}
		return code, &rep, text
	}
}

type vrWant struct {
	commit, rule, text string
}

func TestAuditVerifyRewrites(t *testing.T) {
	tests := []struct {
		name string
		// history builds the branch main (it may verify on the way) and
		// returns the violations the last run must report; none means exit 0.
		history func(t *testing.T, r *gitrepotest.Repo, verify verifyRun) (args []string, want []vrWant)
		// note is a note the last run must give.
		note string
	}{
		{name: "attack: a fast-forward onto a new root that carries an unapproved go-live plan and deployment",
			history: func(t *testing.T, r *gitrepotest.Repo, verify verifyRun) ([]string, []vrWant) {
				r.Write("README.md", "# releases of the dispatch systems\n")
				verified := r.Commit("readme", vrPerson("wangfang"))
				if code, _, text := verify(); code != 0 {
					t.Fatalf("before the push: exit %d\n%s", code, text)
				}
				r.GitCLI("checkout", "-q", "--orphan", "forged")
				vrRelease43(t, r)
				vrGoLive43(t, r)
				vrDeploy43(t, r)
				root := r.Commit("REL-2026-0043 deployed", vrPerson("sunlei"))
				// Merging main in, keeping the forged tree, makes the push a
				// fast-forward of main; the first parent is the new root.
				vrGit(r, "merge", "-q", "-s", "ours", "--allow-unrelated-histories", "-m", "Merge main", "main")
				r.GitCLI("checkout", "-q", "main")
				r.GitCLI("merge", "-q", "--ff-only", "forged")
				return nil, []vrWant{{root, audit.RuleRootCommit, "releases/ (1: REL-2026-0043)"},
					{verified, audit.RuleHistoryRewritten, "another line of history"}}
			}},
		{name: "attack: a force push that squashes the history, violations and all, into one root",
			history: func(t *testing.T, r *gitrepotest.Repo, verify verifyRun) ([]string, []vrWant) {
				vrRelease43(t, r)
				r.Commit("new release", vrPerson("wangfang"))
				vrGoLive43(t, r)
				early := r.Commit("go-live plan before plan review", vrPerson("wangfang"))
				code, rep, text := verify()
				if code != 1 || len(rep.Violations) == 0 || rep.Violations[0].Commit != early || rep.Violations[0].Rule != "gate:plan-review" {
					t.Fatalf("before the squash: want exit 1 for the early go-live plan\n%s", text)
				}
				r.GitCLI("checkout", "-q", "--orphan", "squashed")
				vrGit(r, "commit", "-q", "-m", "REL-2026-0043")
				squashed := vrHead(r)
				r.GitCLI("branch", "-f", "main", "squashed")
				r.GitCLI("checkout", "-q", "main")
				want := []vrWant{{early, audit.RuleHistoryRewritten, "rewritten"}, {squashed, audit.RuleRootCommit, "REL-2026-0043"}}
				if code, rep, text := verify(); code != 1 || !vrHas(rep, want) {
					t.Fatalf("the run after the squash: exit %d\n%s", code, text)
				}
				// The rewrite stays reported: running again does not make it lawful.
				return nil, want
			}},
		{name: "lawful: a root with relgate.yaml only, then lawful commits",
			history: func(t *testing.T, r *gitrepotest.Repo, verify verifyRun) ([]string, []vrWant) {
				vrRelease43(t, r)
				r.Commit("new release", vrPerson("wangfang"))
				r.Edit(vr43+"/plan.yaml", "purpose: ", "purpose: 补充说明。")
				r.Commit("edit plan", vrPerson("wangfang"))
				r.Write("README.md", "# releases of the dispatch systems\n")
				r.Commit("readme", vrPerson("wangfang"))
				if code, _, text := verify(); code != 0 {
					t.Fatalf("exit %d\n%s", code, text)
				}
				// A second run finds the branch as the first left it.
				return nil, nil
			}, note: "lawful start"},
		{name: "baseline: the auditor trusts the import root that carries releases",
			history: func(t *testing.T, r *gitrepotest.Repo, verify verifyRun) ([]string, []vrWant) {
				import_ := vrImport(t)
				*r = *import_
				root := vrHead(r)
				r.Write("README.md", "# releases\n")
				r.Commit("readme", vrPerson("wangfang"))
				code, rep, text := verify("--state", "-")
				if code != 1 || !vrHas(rep, []vrWant{{root, audit.RuleRootCommit, "releases/ (3: REL-2026-0041, REL-2026-0042, REL-2026-0043)"}}) {
					t.Fatalf("without --baseline: exit %d\n%s", code, text)
				}
				return []string{"--baseline", root}, nil
			}, note: "trusted baseline"},
		{name: "attack: a direct push to changes/ that flips a change to approved (R-3.3, R-9)",
			history: func(t *testing.T, r *gitrepotest.Repo, verify verifyRun) ([]string, []vrWant) {
				*r = *vrImport(t)
				root := vrHead(r)
				r.Edit("changes/CHG-2026-0106.yaml", "status: submitted\n", "status: approved\napprovedBy: hejun\napprovedAt: \"2026-11-20T10:00:00+08:00\"\n")
				push := r.Commit("CHG-2026-0106 approved", vrPerson("maxiaodong"))
				return []string{"--baseline", root}, []vrWant{{push, "gate:change-record", "changes/CHG-2026-0106.yaml"}}
			}},
		{name: "a symlink committed in one commit is a violation there; the commits after it are still checked",
			history: func(t *testing.T, r *gitrepotest.Repo, verify verifyRun) ([]string, []vrWant) {
				vrRelease43(t, r)
				r.Commit("new release", vrPerson("wangfang"))
				if err := os.MkdirAll(filepath.Join(r.Dir, "releases/REL-2026-0044"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("../REL-2026-0043/release.yaml", filepath.Join(r.Dir, "releases/REL-2026-0044/release.yaml")); err != nil {
					t.Fatal(err)
				}
				link := r.Commit("REL-2026-0044 like REL-2026-0043", vrPerson("sunlei"))
				vrGoLive43(t, r)
				later := r.Commit("go-live plan before plan review", vrPerson("wangfang"))
				return nil, []vrWant{{link, audit.RuleUnverifiable, "not a regular file"}, {later, "gate:plan-review", "asserts plan review"}}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := vrStart(t)
			verify := vrVerifier(t, r)
			args, want := tc.history(t, r, verify)
			code, rep, text := verify(args...)
			if len(want) == 0 {
				if code != 0 || !rep.Passed || rep.Checked == 0 {
					t.Fatalf("exit %d, want 0 with commits evaluated\n%s", code, text)
				}
			} else if code != 1 || !vrHas(rep, want) {
				t.Fatalf("exit %d, want 1 with %+v\n%s", code, want, text)
			}
			for _, w := range want {
				if !strings.Contains(text, w.commit[:12]) || !strings.Contains(text, w.rule) {
					t.Errorf("the text does not name commit %s and rule %s:\n%s", w.commit[:12], w.rule, text)
				}
			}
			if tc.note != "" && !strings.Contains(text, tc.note) {
				t.Errorf("no note %q:\n%s", tc.note, text)
			}
		})
	}
}

// vrHas reports whether the report has every violation wanted.
func vrHas(rep *audit.VerifyReport, want []vrWant) bool {
	for _, w := range want {
		found := false
		for _, v := range rep.Violations {
			if v.Commit == w.commit && v.Rule == w.rule && strings.Contains(v.Message, w.text) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// vrImport is a repository whose root commit imports the example release
// repository, as kept under an older process, and a change request still
// submitted.
func vrImport(t *testing.T) *gitrepotest.Repo {
	t.Helper()
	r := gitrepotest.New(t)
	r.CopyDir(examples)
	chg := vrExample(t, "changes/CHG-2026-0104.yaml")
	chg = strings.Replace(chg, "id: CHG-2026-0104", "id: CHG-2026-0106", 1)
	chg = strings.Replace(chg, "status: approved\n", "status: submitted\n", 1)
	chg = strings.Replace(chg, "approvedBy: hejun\n", "", 1)
	chg = strings.Replace(chg, "approvedAt: \"2026-11-16T11:00:00+08:00\"\n", "", 1)
	r.Write("changes/CHG-2026-0106.yaml", chg)
	r.Commit("import of the 2026 releases", vrPerson("zhangwei"))
	return r
}

// TestAuditVerifyStateFlag: --state names the record, - keeps none, and the
// record holds the tip verified.
func TestAuditVerifyStateFlag(t *testing.T) {
	r, _ := vrStart(t)
	r.Write("README.md", "one\n")
	one := r.Commit("one", vrPerson("wangfang"))
	state := filepath.Join(t.TempDir(), "verified")
	if code, out, errs := run(t, "audit", "verify", r.Dir, "--branch", "main", "--state", state); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if data, err := os.ReadFile(state); err != nil || strings.TrimSpace(string(data)) != one {
		t.Fatalf("the record holds %q (%v), want %s", data, err, one)
	}
	r.GitCLI("reset", "-q", "--hard", "HEAD~1")
	if code, out, _ := run(t, "audit", "verify", r.Dir, "--branch", "main", "--state", "-"); code != 0 {
		t.Errorf("--state -: exit %d, want 0 (no record read)\n%s", code, out)
	}
	code, out, _ := run(t, "audit", "verify", r.Dir, "--branch", "main", "--state", state)
	if code != 1 || !strings.Contains(out, audit.RuleHistoryRewritten) || !strings.Contains(out, one[:12]) || !strings.Contains(out, state) {
		t.Errorf("after the reset: exit %d, want 1 naming %s and the record\n%s", code, one[:12], out)
	}
	if err := os.WriteFile(state, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "audit", "verify", r.Dir, "--branch", "main", "--state", state); code != 2 || !strings.Contains(errs, state) {
		t.Errorf("a record without a commit id: exit %d, want 2 naming it: %s", code, errs)
	}
	// The default record is per branch: verifying another branch, or a
	// fixed revision, does not read main's.
	r.GitCLI("checkout", "-q", "-b", "other")
	r.Write("README.md", "other\n")
	r.Commit("other", vrPerson("wangfang"))
	for _, branch := range []string{"main", "other", "HEAD", "HEAD~1"} {
		if code, out, errs := run(t, "audit", "verify", r.Dir, "--branch", branch); code != 0 {
			t.Errorf("--branch %s: exit %d\n%s%s", branch, code, out, errs)
		}
	}
	if code, out, errs := run(t, "audit", "verify", r.Dir, "--baseline", "no-such-rev"); code != 2 {
		t.Errorf("bad --baseline: exit %d, want 2\n%s%s", code, out, errs)
	}
}
