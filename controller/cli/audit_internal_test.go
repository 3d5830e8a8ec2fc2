package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// These tests call runAudit directly until the command is registered in
// commands(); they then run the same through Main.

const exampleDir = "../../examples/release-repo"

func person(login string) gitrepotest.Person {
	return gitrepotest.Person{Name: login, Email: login + "@grid-it.example.cn"}
}

// auditRepo commits the example release repository as the first commit.
func auditRepo(t *testing.T) *gitrepotest.Repo {
	t.Helper()
	r := gitrepotest.New(t)
	if err := gen.Replay(exampleDir, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	return r
}

// call runs a command function and maps its error to an exit code as Main does.
func call(t *testing.T, run func([]string, *bytes.Buffer, *bytes.Buffer) error, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := exitCode(run(args, &out, &errb), &errb)
	return code, out.String(), errb.String()
}

func auditCmd(args []string, out, errb *bytes.Buffer) error   { return runAudit(args, out, errb) }
func approveCmd(args []string, out, errb *bytes.Buffer) error { return runApprove(args, out, errb) }

func approveAs(t *testing.T, r *gitrepotest.Repo, rel, gate, login string) {
	t.Helper()
	code, out, errs := call(t, approveCmd, rel, gate, "--repo", r.Dir, "--as", login, "--commit", "--now", "2026-11-25T10:00:00+08:00")
	if code != 0 {
		t.Fatalf("approve %s %s as %s: exit %d\n%s%s", rel, gate, login, code, out, errs)
	}
}

const r43 = "releases/REL-2026-0043"

func goLive43(r *gitrepotest.Repo) {
	for _, f := range []string{"golive.yaml", "communication.yaml"} {
		r.Write(r43+"/"+f, strings.ReplaceAll(r.Read("releases/REL-2026-0041/"+f), "REL-2026-0041", "REL-2026-0043"))
	}
}

func deploy43(r *gitrepotest.Repo) {
	r.Write(r43+"/deployment.yaml", strings.ReplaceAll(r.Read("releases/REL-2026-0041/deployment.yaml"), "REL-2026-0041", "REL-2026-0043"))
}

func verify(t *testing.T, r *gitrepotest.Repo, extra ...string) (int, *audit.VerifyReport, string) {
	t.Helper()
	code, out, errs := call(t, auditCmd, append([]string{"verify", r.Dir, "--format", "json"}, extra...)...)
	if code == 2 {
		t.Fatalf("audit verify: exit 2: %s", errs)
	}
	var rep audit.VerifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit verify output: %v\n%s", err, out)
	}
	_, text, _ := call(t, auditCmd, append([]string{"verify", r.Dir}, extra...)...)
	return code, &rep, text
}

func TestAuditVerify(t *testing.T) {
	tests := []struct {
		name    string
		history func(t *testing.T, r *gitrepotest.Repo) (bad string)
		// rule is the violation verify must report at the commit history returns; "" means a clean history.
		rule, want string
	}{
		{name: "a clean history: plan edited, reviewed, go-live planning after review",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 补充说明。")
				r.Commit("edit plan", person("wangfang"))
				approveAs(t, r, "REL-2026-0043", "plan-review", "hejun")
				approveAs(t, r, "REL-2026-0043", "plan-review", "maxiaodong")
				approveAs(t, r, "REL-2026-0043", "plan-review", "zhangwei")
				goLive43(r)
				r.Commit("go-live plan", person("wangfang"))
				return ""
			}},
		{name: "R-3.1 bypass: a deployment record committed directly without go-live approval",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				approveAs(t, r, "REL-2026-0043", "plan-review", "maxiaodong")
				approveAs(t, r, "REL-2026-0043", "plan-review", "zhangwei")
				deploy43(r)
				return r.Commit("record deployment", person("sunlei"))
			}, rule: "gate:go-live-approval", want: "without gate go-live-approval"},
		{name: "R-5.1.3 go-live planning pushed before plan review",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				goLive43(r)
				return r.Commit("go-live plan", person("wangfang"))
			}, rule: "gate:plan-review", want: "department-head"},
		{name: "R-7 a policy change without the process approver",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				r.Edit("relgate.yaml", "maxChangesPerRelease: 3", "maxChangesPerRelease: 9")
				return r.Commit("allow more changes", person("hejun"))
			}, rule: "policy-change", want: "process-approver"},
		{name: "a commit on top of an invalid policy cannot be verified",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				r.Edit("relgate.yaml", "maxChangesPerRelease: 3", "maxChangesPerRelease: many")
				r.Commit("break the policy", person("hejun"))
				r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 补充。")
				return r.Commit("edit plan", person("wangfang"))
			}, rule: "unverifiable", want: "invalid relgate.yaml"},
		{name: "attack: an approval and an edit of what it approves in one commit (R-4 self-approval)",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				code, out, errs := call(t, approveCmd, "REL-2026-0043", "plan-review", "--repo", r.Dir, "--as", "zhangwei", "--now", "2026-11-25T10:00:00+08:00")
				if code != 0 {
					t.Fatalf("approve: %s%s", out, errs)
				}
				r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 改过。")
				return r.Commit("approve and edit", person("zhangwei"))
			}, rule: "uncounted-approval", want: "self-approval"},
		{name: "attack: an approval stale when merged (the plan edited after it on the branch)",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				r.Checkout("pr", true)
				approveAs(t, r, "REL-2026-0043", "plan-review", "zhangwei")
				r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 改过。")
				r.Commit("edit the plan after the approval", person("wangfang"))
				r.Checkout("main", false)
				return merge(r, "pr")
			}, rule: "stale-approval", want: "plan-review.zhangwei.yaml"},
		{name: "attack: an approval committed by someone else (unauthenticated)",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				code, out, errs := call(t, approveCmd, "REL-2026-0043", "plan-review", "--repo", r.Dir, "--as", "zhangwei", "--now", "2026-11-25T10:00:00+08:00")
				if code != 0 {
					t.Fatalf("approve: %s%s", out, errs)
				}
				return r.Commit("approval", person("wangfang"))
			}, rule: "unauthenticated-approval", want: "not authenticated"},
		{name: "a merge commit is evaluated as the whole change it lands",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				r.Checkout("pr", true)
				approveAs(t, r, "REL-2026-0043", "plan-review", "maxiaodong")
				approveAs(t, r, "REL-2026-0043", "plan-review", "zhangwei")
				goLive43(r)
				r.Commit("go-live plan", person("wangfang"))
				r.Checkout("main", false)
				merge(r, "pr")
				return ""
			}},
		{name: "R-3.1 a merge that lands a deployment record without go-live approval",
			history: func(t *testing.T, r *gitrepotest.Repo) string {
				r.Checkout("pr", true)
				approveAs(t, r, "REL-2026-0043", "plan-review", "maxiaodong")
				approveAs(t, r, "REL-2026-0043", "plan-review", "zhangwei")
				deploy43(r)
				r.Commit("deployment", person("sunlei"))
				r.Checkout("main", false)
				return merge(r, "pr")
			}, rule: "gate:go-live-approval", want: "REL-2026-0043"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := auditRepo(t)
			bad := tc.history(t, r)
			code, rep, text := verify(t, r)
			if tc.rule == "" {
				if code != 0 || !rep.Passed {
					t.Fatalf("exit %d, want 0 (clean)\n%s", code, text)
				}
				if rep.Checked == 0 {
					t.Errorf("no commit was evaluated:\n%s", text)
				}
				return
			}
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, text)
			}
			found := false
			for _, v := range rep.Violations {
				if v.Commit == bad && v.Rule == tc.rule && strings.Contains(v.Message, tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no violation %s at commit %s containing %q:\n%s", tc.rule, bad, tc.want, text)
			}
			if !strings.Contains(text, bad[:12]) || !strings.Contains(text, tc.rule) {
				t.Errorf("text output does not name the commit and the rule:\n%s", text)
			}
		})
	}
}

// merge merges branch into the checked-out branch with a merge commit, using the git CLI.
func merge(r *gitrepotest.Repo, branch string) string {
	r.GitCLI("-c", "user.name=hejun", "-c", "user.email=hejun@grid-it.example.cn", "merge", "--no-ff", "-q", "-m", "Merge "+branch, branch)
	return strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))
}

// TestAuditVerifySince: --since limits the walk; the bypass before it is not reported.
func TestAuditVerifySince(t *testing.T) {
	r := auditRepo(t)
	goLive43(r)
	r.Commit("go-live plan before review", person("wangfang"))
	mark := strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))
	r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 补充。")
	r.Commit("edit plan", person("wangfang"))
	if code, _, text := verify(t, r); code != 1 {
		t.Fatalf("whole history: exit %d, want 1\n%s", code, text)
	}
	code, rep, text := verify(t, r, "--since", mark)
	if code != 1 {
		// the plan edit keeps the early go-live plan: plan review still has not passed
		t.Logf("%s", text)
	}
	if rep.Commits != 1 {
		t.Errorf("--since walked %d commits, want 1\n%s", rep.Commits, text)
	}
	if code, _, errs := call(t, auditCmd, "verify", r.Dir, "--since", "no-such-rev"); code != 2 {
		t.Errorf("bad --since: exit %d, want 2 (%s)", code, errs)
	}
}

func TestAuditTimeline(t *testing.T) {
	r := auditRepo(t)
	r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 补充说明。")
	edit := r.Commit("edit plan", person("wangfang"))
	approveAs(t, r, "REL-2026-0043", "plan-review", "hejun")
	approveAs(t, r, "REL-2026-0043", "plan-review", "maxiaodong")
	approveAs(t, r, "REL-2026-0043", "plan-review", "zhangwei")
	r.Edit("cmdb/payment-interface.yaml", "name:", "name: ")
	r.Commit("unrelated CMDB edit", person("zhouhao"))
	r.Edit("cmdb/oracle-db-dispatch.yaml", "name: ", "name: 新")
	cmdb := r.Commit("CMDB edit of the release's item", person("zhouhao"))
	r.Edit(r43+"/release.yaml", "title: ", "title: 紧急：")
	stale := r.Commit("retitle after review", person("wangfang"))

	code, out, errs := call(t, auditCmd, "REL-2026-0043", r.Dir, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var tl audit.Timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, ev := range tl.Events {
		subjects = append(subjects, ev.Subject)
	}
	// The replayed history first: the CMDB item the release changes, its
	// plan and its first approval, each merged as a pull request.
	want := []string{"CMDB: 6 configuration items", "Merge pull request #1 from cmdb", "REL-2026-0043: release.yaml",
		"REL-2026-0043: plan.yaml", "REL-2026-0043: plan-review approved by hejun (department-head)",
		"Merge pull request #15 from REL-2026-0043/plan", "edit plan", "REL-2026-0043: approve plan-review as department-head",
		"REL-2026-0043: approve plan-review as department-head",
		"REL-2026-0043: approve plan-review as release-owner", "CMDB edit of the release's item", "retitle after review"}
	if strings.Join(subjects, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(subjects, "\n"), strings.Join(want, "\n"))
	}
	byCommit := map[string]audit.Event{}
	for _, ev := range tl.Events {
		byCommit[ev.Commit] = ev
	}
	e := byCommit[edit]
	if len(e.Changes) != 1 || e.Changes[0].Path != r43+"/plan.yaml" || e.Changes[0].Kind != "Plan" ||
		strings.Join(e.Changes[0].Fields, ",") != "purpose" || e.Changes[0].Action != "modified" {
		t.Errorf("plan edit: %+v", e.Changes)
	}
	if e.Author.Login != "wangfang" || e.Signature != audit.SigUnsigned {
		t.Errorf("plan edit author/signature: %+v %s", e.Author, e.Signature)
	}
	var ap audit.Event
	for _, ev := range tl.Events {
		if ev.Subject == "REL-2026-0043: approve plan-review as release-owner" {
			ap = ev
		}
	}
	if len(ap.Changes) != 1 || ap.Changes[0].Gate != "plan-review" || ap.Changes[0].Person != "zhangwei" || ap.Changes[0].Action != "added" {
		t.Errorf("approval change: %+v", ap.Changes)
	}
	if len(ap.Approvals) != 1 || ap.Approvals[0].Status != "counted" || ap.Approvals[0].Person != "zhangwei" {
		t.Errorf("approval standing: %+v", ap.Approvals)
	}
	if ap.State != "testing" {
		t.Errorf("state after both plan-review approvals: %q, want testing", ap.State)
	}
	if c := byCommit[cmdb]; len(c.Changes) != 1 || c.Changes[0].Path != "cmdb/oracle-db-dispatch.yaml" || c.Changes[0].Kind != "CMDBItem" ||
		strings.Join(c.Changes[0].Fields, ",") != "name" {
		t.Errorf("CMDB item change (R-3.4): %+v", c.Changes)
	}
	s := byCommit[stale]
	staleFor := map[string]bool{}
	for _, a := range s.Approvals {
		if a.Status == "stale" && a.Before == "counted" {
			staleFor[a.Person] = true
		}
	}
	if !staleFor["zhangwei"] || !staleFor["maxiaodong"] || !staleFor["hejun"] || s.State != "plan-review" {
		t.Errorf("retitle should make both plan-review approvals stale: %+v state %s", s.Approvals, s.State)
	}
	if strings.Join(s.Changes[0].Fields, ",") != "title" {
		t.Errorf("retitle fields: %v", s.Changes[0].Fields)
	}
	for _, format := range []string{"text", "md"} {
		code, out, _ := call(t, auditCmd, "REL-2026-0043", r.Dir, "--format", format)
		if code != 0 || !strings.Contains(out, "plan-review by zhangwei: stale (was counted)") || !strings.Contains(out, stale[:12]) {
			t.Errorf("%s output:\n%s", format, out)
		}
	}
	if code, _, _ := call(t, auditCmd, "REL-2026-0099", r.Dir); code != 2 {
		t.Errorf("unknown release: exit %d, want 2", code)
	}
	if code, _, _ := call(t, auditCmd, "nonsense", r.Dir); code != 2 {
		t.Errorf("bad argument: exit %d, want 2", code)
	}
}

// TestAuditIndexReuse: a second audit scans only the new commits; a corrupt
// cache is rebuilt.
func TestAuditIndexReuse(t *testing.T) {
	r := auditRepo(t)
	r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 一。")
	r.Commit("one", person("wangfang"))
	stats := func() string {
		code, _, errs := call(t, auditCmd, "REL-2026-0043", r.Dir, "--index-stats")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return errs
	}
	n := strings.Count(r.GitCLI("rev-list", "HEAD"), "\n")
	if s := stats(); !strings.Contains(s, fmt.Sprintf("%d commits, %d scanned", n, n)) || !strings.Contains(s, `rebuilt="missing"`) {
		t.Errorf("first run: %s", s)
	}
	if s := stats(); !strings.Contains(s, fmt.Sprintf("%d commits, 0 scanned, loaded=true", n)) {
		t.Errorf("second run: %s", s)
	}
	r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 二。")
	r.Commit("two", person("wangfang"))
	if s := stats(); !strings.Contains(s, fmt.Sprintf("%d commits, 1 scanned, loaded=true", n+1)) {
		t.Errorf("after a commit: %s", s)
	}
	r.Write(".git/relgate/index-v1", "garbage")
	if s := stats(); !strings.Contains(s, fmt.Sprintf("%d commits, %d scanned", n+1, n+1)) || !strings.Contains(s, "corrupt") {
		t.Errorf("corrupt cache: %s", s)
	}
}

// updating reports whether -update was given (the flag is registered by the
// package's external tests, in the same test binary).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestAuditGolden renders the timeline and verify reports of a history with
// a bypass in every format and compares them with controller/audit/testdata
// (refresh with -update). Commit ids are stable: authors, times and contents are fixed.
func TestAuditGolden(t *testing.T) {
	r := auditRepo(t)
	r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 补充说明。")
	r.Commit("edit plan", person("wangfang"))
	approveAs(t, r, "REL-2026-0043", "plan-review", "hejun")
	approveAs(t, r, "REL-2026-0043", "plan-review", "maxiaodong")
	approveAs(t, r, "REL-2026-0043", "plan-review", "zhangwei")
	deploy43(r)
	r.Commit("record deployment", person("sunlei"))
	for _, tc := range []struct {
		file string
		args []string
		code int
	}{
		{"timeline.txt", []string{"REL-2026-0043"}, 0},
		{"timeline.md", []string{"REL-2026-0043", "--format", "md"}, 0},
		{"timeline.json", []string{"REL-2026-0043", "--format", "json"}, 0},
		{"verify.txt", []string{"verify"}, 1},
		{"verify.md", []string{"verify", "--format", "md"}, 1},
		{"verify.json", []string{"verify", "--format", "json"}, 1},
	} {
		code, out, errs := call(t, auditCmd, append(tc.args, r.Dir)...)
		if code != tc.code {
			t.Fatalf("%s: exit %d, want %d\n%s", tc.file, code, tc.code, errs)
		}
		// Commit ids follow every byte of the example repository; the golden
		// files keep the rest of the output.
		out = objectIDs.ReplaceAllString(out, "<id>")
		p := filepath.Join("..", "audit", "testdata", tc.file)
		if updating() {
			if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if diff := cmp.Diff(string(want), out); diff != "" {
			t.Errorf("%s differs from the golden file (-want +got):\n%s", tc.file, diff)
		}
	}
}

// TestAuditSignatures: a commit signed by a key the parent's policy lists for
// its author is verified; one signed by another key is a bad signature.
func TestAuditSignatures(t *testing.T) {
	key, pub := gitrepotest.NewKey(t, "王芳", "wangfang@grid-it.example.cn")
	other, _ := gitrepotest.NewKey(t, "王芳", "wangfang@grid-it.example.cn")
	r := auditRepo(t)
	lines := strings.Split(strings.TrimRight(pub, "\n"), "\n")
	r.Edit("relgate.yaml", "    email: wangfang@grid-it.example.cn\n",
		"    email: wangfang@grid-it.example.cn\n    signingKeys:\n      - |\n        "+strings.Join(lines, "\n        ")+"\n")
	// A lawful policy change: the process approver approves it.
	if code, out, errs := call(t, approveCmd, "policy-change", "--repo", r.Dir, "--as", "liuzhiqiang", "--now", "2026-11-25T10:00:00+08:00"); code != 0 {
		t.Fatalf("approve policy-change: %s%s", out, errs)
	}
	r.Commit("wangfang's key", person("liuzhiqiang"))
	signer := person("wangfang")
	signer.Key = key
	r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 一。")
	good := r.Commit("signed edit", signer)
	signer.Key = other
	r.Edit(r43+"/plan.yaml", "purpose: ", "purpose: 二。")
	bad := r.Commit("edit signed with another key", signer)
	code, out, errs := call(t, auditCmd, "REL-2026-0043", r.Dir, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var tl audit.Timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ev := range tl.Events {
		got[ev.Commit] = ev.Signature + " " + ev.SignedBy
	}
	if got[good] != "verified wangfang" || got[bad] != "bad-signature " {
		t.Errorf("signatures: good %q, bad %q", got[good], got[bad])
	}
}

// TestAuditSubfolder: a release repository kept in a folder of a larger git
// repository is audited from its own paths.
func TestAuditSubfolder(t *testing.T) {
	r := gitrepotest.New(t)
	r.Write("README.md", "the larger repository\n")
	r.Commit("start", person("hejun"))
	sub := filepath.Join(r.Dir, "ops", "release-repo")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	r.CopyDir(exampleDir)
	for _, e := range []string{"README.md", "relgate.yaml", "changes", "cmdb", "releases"} {
		if err := os.Rename(filepath.Join(r.Dir, e), filepath.Join(sub, e)); err != nil {
			t.Fatal(err)
		}
	}
	r.Write("README.md", "the larger repository\n")
	imported := r.Commit("add the release repository", person("zhangwei"))
	r.Edit("ops/release-repo/"+r43+"/plan.yaml", "purpose: ", "purpose: 补充。")
	edit := r.Commit("edit plan", person("wangfang"))
	code, out, errs := call(t, auditCmd, "REL-2026-0043", sub, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var tl audit.Timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.Events) != 2 || tl.Events[1].Commit != edit || tl.Events[1].Changes[0].Path != r43+"/plan.yaml" {
		t.Errorf("timeline in a subfolder: %s", out)
	}
	// The commit that brings the release repository in with its documents
	// is an import: trusted only when the auditor names it.
	if code, out, _ := call(t, auditCmd, "verify", sub, "--state", "-"); code != 1 || !strings.Contains(out, "root-commit") {
		t.Errorf("verify in a subfolder, import not named: exit %d, want 1 with root-commit\n%s", code, out)
	}
	if code, out, _ := call(t, auditCmd, "verify", sub, "--baseline", imported, "--state", "-"); code != 0 {
		t.Errorf("verify in a subfolder from the import: exit %d\n%s", code, out)
	}
}

// objectIDs matches commit and blob ids, full or abbreviated.
var objectIDs = regexp.MustCompile(`\b[0-9a-f]{40}\b|\b[0-9a-f]{12}\b`)
