package cli_test

// Security review: attacks by someone who controls a pull request's branch but
// not its base. Each test asserts the SAFE outcome (the gate blocks), so a
// failing test is a bypass that works today; a passing one is a regression test.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// signedPolicy turns trustCommitAuthor off and lists signing keys for
// maxiaodong and zhangwei, as TestGateSignedApprovals does.
func signedPolicy(r *gitrepotest.Repo, maPub, zwPub string) {
	r.Edit("relgate.yaml", "trustCommitAuthor: true", "trustCommitAuthor: false")
	r.Edit("relgate.yaml", "    email: maxiaodong@grid-it.example.cn\n", "    email: maxiaodong@grid-it.example.cn\n    signingKeys:\n      - |\n"+indent(maPub, "        "))
	r.Edit("relgate.yaml", "    email: zhangwei@grid-it.example.cn\n", "    email: zhangwei@grid-it.example.cn\n    signingKeys:\n      - |\n"+indent(zwPub, "        "))
}

type signedSetup struct {
	r              *gitrepotest.Repo
	maFile, zwFile string
}

// signedRepo commits the example repository on main with signatures required.
func signedRepo(t *testing.T) signedSetup {
	t.Helper()
	maKey, maPub := gitrepotest.NewKey(t, "马晓东", "maxiaodong@grid-it.example.cn")
	zwKey, zwPub := gitrepotest.NewKey(t, "张伟", "zhangwei@grid-it.example.cn")
	r := exampleRepo(t)
	signedPolicy(r, maPub, zwPub)
	commitPolicy(t, r)
	return signedSetup{r: r, maFile: writeKey(t, maKey), zwFile: writeKey(t, zwKey)}
}

func headHash(t *testing.T, r *gitrepotest.Repo) plumbing.Hash {
	t.Helper()
	ref, err := r.Git.Head()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash()
}

// branchAt creates branch name at commit h and checks it out.
func branchAt(t *testing.T, r *gitrepotest.Repo, name string, h plumbing.Hash) {
	t.Helper()
	if err := r.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), h)); err != nil {
		t.Fatal(err)
	}
	r.Checkout(name, false)
}

// mergeCommit stages the work tree and commits it with the given parents, as who.
func mergeCommit(t *testing.T, r *gitrepotest.Repo, msg string, p gitrepotest.Person, parents ...plumbing.Hash) {
	t.Helper()
	wt, err := r.Git.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: p.Name, Email: p.Email, When: headTime(t, r).Add(time.Hour)}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, Parents: parents, AllowEmptyCommits: true}); err != nil {
		t.Fatal(err)
	}
}

func headTime(t *testing.T, r *gitrepotest.Repo) time.Time {
	t.Helper()
	c, err := r.Git.CommitObject(headHash(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return c.Author.When
}

const rel41 = "releases/REL-2026-0041"

// --- bypasses -------------------------------------------------------------

// A rejection recorded on main after the pull request's branch was forked is
// undone by the branch simply not containing it: the gate evaluates head (not
// the merge result), sees maxiaodong's older approval where base has his
// rejection, and Introductions finds no commit in the range that introduced
// it, so it is taken as "on the protected branch already".
func TestReviewAttack_StaleBranchUndoesRejection(t *testing.T) {
	s := signedRepo(t)
	r := s.r
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--sign-key", s.maFile)
	forkPoint := headHash(t, r)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--reject", "--comment", "回退时间点不对", "--sign-key", s.maFile)
	branchAt(t, r, "pr", forkPoint) // the attacker's branch starts before the rejection
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", s.zwFile)
	addGoLive(r)
	r.Commit("go-live plan", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "maxiaodong")
}

// The branch is up to date with main, but a merge commit takes an old main
// commit as its second parent and restores maxiaodong's superseded (signed)
// approval over his rejection. Introductions walks into main's history
// through that parent and finds his old signed commit, so the replayed
// approval authenticates as "signature" and the rejection is gone.
func TestReviewAttack_MergeOfOldMainCommitReplaysSupersededApproval(t *testing.T) {
	s := signedRepo(t)
	r := s.r
	const file = rel43 + "/approvals/plan-review.maxiaodong.yaml"
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--sign-key", s.maFile)
	old := headHash(t, r)
	oldContent := r.Read(file)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--reject", "--comment", "回退时间点不对", "--sign-key", s.maFile)
	r.Checkout("pr", true) // from main's tip, rejection included
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", s.zwFile)
	addGoLive(r)
	r.Write(file, oldContent)
	mergeCommit(t, r, "Merge old main", who("wangfang"), headHash(t, r), old)
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "maxiaodong")
}

// GitHub logins are case-insensitive (the server matches reviewers with
// EqualFold), but separation of duties compares the pull request's author
// with the approver exactly: the PR author "ZhangWei" approves his own change
// through an approval file as "zhangwei". The action passes
// github.event.pull_request.user.login, GitHub's display case.
func TestReviewAttack_PRAuthorLoginCaseDefeatsSeparationOfDuties(t *testing.T) {
	r := prRepo(t, nil)
	approvePlan43(t, r)
	addGoLive(r)
	r.Commit("go-live plan", who("zhangwei"))
	code, _, text := gate(t, r, "--author", "ZhangWei")
	wantBlocked(t, code, text, "self-approval")
}

// A commit by the release owner on someone else's pull request rewrites the
// plan; he then approves it. Separation of duties only knows the plan's
// self-declared author field and the PR's opener, not who changed the
// covered documents in the range.
func TestReviewAttack_ApproverEditsPlanInOthersPR(t *testing.T) {
	r := prRepo(t, nil)
	r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 由张伟改写的方案。")
	r.Commit("rewrite the plan", who("zhangwei"))
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
	// --force: approve refuses to commit an approval it knows will not count.
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--force")
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun")
	addGoLive(r)
	r.Commit("go-live plan", who("wangfang"))
	code, _, text := gate(t, r, "--author", "wangfang")
	wantBlocked(t, code, text, "self-approval")
}

// The schema's date-time accepts a lowercase "t" separator (RFC 3339 allows
// it), but the blackout check parses with time.RFC3339, fails, and silently
// treats the window as outside every blackout period: the process approver
// is no longer required.
func TestReviewAttack_BlackoutWindowLowercaseT(t *testing.T) {
	r := prRepo(t, nil)
	blackoutGoLive(t, r, "t")
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "process-approver missing; who may give it: liuzhiqiang")
}

// A rejection of a repository gate (policy-change) on base is never read:
// the head snapshot only includes root approvals the change touches, so an
// unchanged base rejection neither blocks nor is reported as deleted.
func TestReviewAttack_BaseRejectionOfPolicyChangeIgnored(t *testing.T) {
	r := exampleRepo(t)
	r.Edit("relgate.yaml", "  process-approver:\n    - liuzhiqiang", "  process-approver:\n    - liuzhiqiang\n    - hejun")
	commitPolicy(t, r)
	// liuzhiqiang rejects the proposal maxChangesPerRelease: 2, recorded on main.
	r.Edit("relgate.yaml", "maxChangesPerRelease: 3", "maxChangesPerRelease: 2")
	_, d, errs := run(t, "digest", "policy-change", r.Dir)
	d = strings.TrimSpace(d)
	if !strings.HasPrefix(d, "sha256:") {
		t.Fatalf("digest: %q %s", d, errs)
	}
	r.Edit("relgate.yaml", "maxChangesPerRelease: 2", "maxChangesPerRelease: 3")
	r.Write("approvals/policy-change.liuzhiqiang.yaml", "apiVersion: relgate.dev/v1\nkind: Approval\ngate: policy-change\nperson: liuzhiqiang\nrole: process-approver\ndecision: reject\ndigest: "+d+"\nat: \"2026-11-20T10:00:00+08:00\"\ncomment: 不同意放宽\n")
	r.Commit("policy-change: reject", who("liuzhiqiang"))
	if code, out, _ := run(t, "validate", r.Dir); code != 0 {
		t.Fatalf("base invalid:\n%s", out)
	}
	r.Checkout("pr", true)
	r.Edit("relgate.yaml", "maxChangesPerRelease: 3", "maxChangesPerRelease: 2")
	r.Commit("policy", who("wangfang"))
	approve(t, r, "policy-change", "--as", "hejun")
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "rejected by liuzhiqiang")
}

// A rejection goes stale when the documents change: a cosmetic edit of the
// plan sheds xuhui's rejection of the team's security-review, and the other
// security officer passes it, although "a rejection blocks its gate until its
// author records an approval instead".
func TestReviewAttack_CosmeticEditShedsRejection(t *testing.T) {
	r := exampleRepo(t)
	r.Edit("relgate.yaml", "blackoutWindows:", "gates:\n  - id: security-review\n    before: plan-review\n    requires: [{role: security-officer, count: 1}]\n    covers: [plan.yaml]\nblackoutWindows:")
	r.Edit("relgate.yaml", "  process-approver:", "  security-officer:\n    - xuhui\n    - huangli\n  process-approver:")
	commitPolicy(t, r)
	approve(t, r, "REL-2026-0043", "security-review", "--as", "xuhui", "--reject", "--comment", "备份方案不完整")
	r.Checkout("pr", true)
	r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose:  ")
	r.Commit("whitespace", who("wangfang"))
	approve(t, r, "REL-2026-0043", "security-review", "--as", "huangli")
	approvePlan43(t, r)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun")
	addGoLive(r)
	r.Commit("go-live plan", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "xuhui")
}

// Files relgate does not read in a release folder (.yml, nested too deep)
// pass the gate, although `relgate validate` of the merged tree rejects them.
func TestReviewAttack_MisplacedFilesPassGate(t *testing.T) {
	for _, f := range []string{rel43 + "/golive.yml", rel43 + "/approvals/x/plan-review.zhangwei.yaml"} {
		t.Run(f, func(t *testing.T) {
			r := prRepo(t, nil)
			r.Write(f, strings.ReplaceAll(r.Read(rel41+"/golive.yaml"), "REL-2026-0041", "REL-2026-0043"))
			r.Commit("misplaced", who("wangfang"))
			if code, out, _ := run(t, "validate", r.Dir); code == 0 {
				t.Fatalf("validate accepts %s:\n%s", f, out)
			}
			code, _, text := gate(t, r)
			wantBlocked(t, code, text, f)
		})
	}
}

// blackoutGoLive moves REL-2026-0041's window into the 2027 Spring Festival
// blackout, writing its "T" separator as sep, and records every approval but
// the process approver's.
func blackoutGoLive(t *testing.T, r *gitrepotest.Repo, sep string) {
	t.Helper()
	r.Edit(rel41+"/release.yaml", "start: \"2026-10-17T22:00:00+08:00\"", "start: \"2027-02-08"+sep+"22:00:00+08:00\"")
	r.Edit(rel41+"/release.yaml", "end: \"2026-10-18T04:00:00+08:00\"", "end: \"2027-02-09"+sep+"04:00:00+08:00\"")
	r.Commit("move the window", who("wangfang"))
	for _, p := range []string{"maxiaodong", "hejun", "xuhui", "zhangwei"} {
		approve(t, r, "REL-2026-0041", "plan-review", "--as", p)
	}
	approve(t, r, "REL-2026-0041", "test-acceptance", "--as", "tangjing")
	approve(t, r, "REL-2026-0041", "go-live-approval", "--as", "zhangwei")
}

// --- attacks correctly blocked (regression tests) ---------------------------

func TestReviewAttack_BlackoutWindowUppercaseT(t *testing.T) {
	r := prRepo(t, nil)
	blackoutGoLive(t, r, "T")
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "process-approver missing; who may give it: liuzhiqiang")
	approve(t, r, "REL-2026-0041", "go-live-approval", "--as", "liuzhiqiang", "--role", "process-approver")
	// Go-live approval now passes; the edit of the confirmed release still
	// needs its deployment confirmation again, which keeps the change blocked.
	code, rep, text := gate(t, r)
	for _, g := range rep.Releases[0].Gates {
		if g.Gate == "go-live-approval" && !g.Passed {
			t.Errorf("go-live-approval with the process approver:\n%s", text)
		}
	}
	wantBlocked(t, code, text, "gate deployment-confirmation")
}

func TestReviewAttack_PRAuthorSelfApproval(t *testing.T) {
	r := prRepo(t, nil)
	approvePlan43(t, r)
	addGoLive(r)
	r.Commit("go-live plan", who("zhangwei"))
	code, _, text := gate(t, r, "--author", "zhangwei")
	wantBlocked(t, code, text, "self-approval")
}

// The pull request rewrites maxiaodong's base rejection into an approval.
func TestReviewAttack_RejectionRewrittenByAnother(t *testing.T) {
	s := signedRepo(t)
	r := s.r
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--reject", "--comment", "不同意", "--sign-key", s.maFile)
	r.Checkout("pr", true)
	f := rel43 + "/approvals/plan-review.maxiaodong.yaml"
	r.Write(f, strings.NewReplacer("decision: reject", "decision: approve", "comment: 不同意\n", "").Replace(r.Read(f)))
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", s.zwFile)
	addGoLive(r)
	r.Commit("go-live plan", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "not authenticated")
}

// A cosmetic edit of an approval already on base is a new, unauthenticated approval.
func TestReviewAttack_BaseApprovalTouched(t *testing.T) {
	s := signedRepo(t)
	r := s.r
	r.Checkout("pr", true)
	f := rel43 + "/approvals/plan-review.hejun.yaml"
	r.Write(f, r.Read(f)+"# 复核\n")
	r.Commit("touch", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "not authenticated")
}

// An approval file whose name says one person and content another.
func TestReviewAttack_ApprovalNameContentMismatch(t *testing.T) {
	r := prRepo(t, nil)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
	// zhangwei's approval moved to maxiaodong's file name, maxiaodong's dropped.
	zw := r.Read(rel43 + "/approvals/plan-review.zhangwei.yaml")
	r.Remove(rel43 + "/approvals/plan-review.zhangwei.yaml")
	r.Write(rel43+"/approvals/plan-review.maxiaodong.yaml", zw)
	addGoLive(r)
	r.Commit("rename", who("maxiaodong"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "the file name says gate plan-review by maxiaodong")
}

// A release gate's approval put in the root approvals/ folder does not count.
func TestReviewAttack_ReleaseApprovalAtRoot(t *testing.T) {
	r := prRepo(t, nil)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
	r.Write("approvals/plan-review.zhangwei.yaml", r.Read(rel43+"/approvals/plan-review.zhangwei.yaml"))
	r.Remove(rel43 + "/approvals/plan-review.zhangwei.yaml")
	addGoLive(r)
	r.Commit("move", who("zhangwei"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "release-owner missing; who may give it: zhangwei")
}

// An approval file in another case: logins are case-sensitive in the policy.
func TestReviewAttack_ApprovalLoginCase(t *testing.T) {
	r := prRepo(t, nil)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
	zw := r.Read(rel43 + "/approvals/plan-review.zhangwei.yaml")
	r.Remove(rel43 + "/approvals/plan-review.zhangwei.yaml")
	r.Write(rel43+"/approvals/plan-review.ZhangWei.yaml", strings.Replace(zw, "person: zhangwei", "person: ZhangWei", 1))
	addGoLive(r)
	r.Commit("case", who("zhangwei"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "release-owner missing; who may give it: zhangwei")
}

// A go-live plan that is a symlink to another release's.
func TestReviewAttack_SymlinkDocument(t *testing.T) {
	r := prRepo(t, nil)
	approvePlan43(t, r)
	addGoLive(r)
	r.Remove(rel43 + "/golive.yaml")
	if err := os.Symlink("../REL-2026-0041/golive.yaml", filepath.Join(r.Dir, rel43, "golive.yaml")); err != nil {
		t.Fatal(err)
	}
	r.Commit("symlink", who("wangfang"))
	// Today the gate stops with exit 2 ("not a regular file") rather than a
	// finding; either way it does not pass.
	if code, out, errs := run(t, "gate", "--base", "main", "--head", "HEAD", r.Dir); code == 0 {
		t.Errorf("gate passed a symlinked document:\n%s%s", out, errs)
	}
}

func TestReviewAttack_DeleteRelease(t *testing.T) {
	r := prRepo(t, nil)
	r.Remove("releases/REL-2026-0042")
	r.Commit("delete", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "the change deletes release REL-2026-0042")
}

func TestReviewAttack_RenameRelease(t *testing.T) {
	r := prRepo(t, nil)
	for _, f := range []string{"release.yaml", "plan.yaml", "approvals/plan-review.hejun.yaml"} {
		r.Write("releases/REL-2026-0044/"+f, strings.ReplaceAll(r.Read(rel43+"/"+f), "REL-2026-0043", "REL-2026-0044"))
	}
	r.Remove(rel43)
	r.Commit("rename", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "the change deletes release REL-2026-0043")
}

// Release folders renamed to something that is not a release id, or replaced
// by a file: the gate must not pass (nor panic).
func TestReviewAttack_ReleaseFolderTricks(t *testing.T) {
	for name, change := range map[string]func(r *gitrepotest.Repo){
		"lowercase id": func(r *gitrepotest.Repo) {
			for _, f := range []string{"release.yaml", "plan.yaml"} {
				r.Write("releases/rel-2026-0042/"+f, r.Read("releases/REL-2026-0042/"+f))
			}
			r.Remove("releases/REL-2026-0042")
		},
		"folder replaced by a file": func(r *gitrepotest.Repo) {
			r.Remove("releases/REL-2026-0042")
			r.Write("releases/REL-2026-0042", "gone\n")
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := prRepo(t, nil)
			change(r)
			r.GitCLI("add", "-A")
			r.GitCLI("-c", "user.name=wangfang", "-c", "user.email=wangfang@grid-it.example.cn", "commit", "-q", "-m", "trick")
			code, out, errs := run(t, "gate", "--base", "main", "--head", "HEAD", r.Dir)
			if code == 0 || strings.Contains(errs, "panic") {
				t.Errorf("gate exit %d:\n%s%s", code, out, errs)
			}
			t.Logf("exit %d: %s%s", code, out, errs)
		})
	}
}

func TestReviewAttack_ClosedReleaseClosureDeleted(t *testing.T) {
	r := prRepo(t, func(r *gitrepotest.Repo) { r.Write(rel41+"/closure.yaml", closure41) })
	r.Remove(rel41 + "/closure.yaml")
	r.Commit("reopen", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "gate closed-release-change")
}

// A confirmed deployment record is rewritten (a problem met during the
// deployment is erased, R-5.1.8, R-5.1.11) without the release manager and
// the customer representative who confirmed it: deployment.yaml only asserts
// go-live approval, so deployment-confirmation is not required and its
// approvals silently go stale; the release falls back from confirmed to deployed.
func TestReviewAttack_ConfirmedDeploymentRewritten(t *testing.T) {
	r := prRepo(t, nil)
	r.Edit(rel41+"/deployment.yaml", "  - description: 迁移在途检修申请票时，1 张票因会签节点已被退回而迁移脚本报错。\n    solution: 重复执行迁移脚本跳过该票，由 OMS 管理员在新流程中手工转办，并电话通知申请单位。\n    at: \"2026-10-18T01:25:00+08:00\"\n", "")
	r.Commit("tidy the deployment record", who("sunlei"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "deployment-confirmation")
}

// Closure needs "the release report present", a report relgate
// reconcile writes. The closing pull request can write any file there itself.
func TestReviewAttack_ClosureWithFabricatedReport(t *testing.T) {
	r := prRepo(t, nil)
	for _, it := range []struct{ id, from, to, digest string }{
		{"d5000-scada-frontend", "", "4.4.0", "sha256:937b235105d87f76707b8693468068df455b663d3e52e739f9fb934f3a0c23ca"},
		{"oms-workflow", "", "2.8.0", "sha256:e92d19c84617aa08828dfc2dbf42b90d3319aedf2e774d60586c62f42a5b9e1c"},
	} {
		f := "cmdb/" + it.id + ".yaml"
		s := r.Read(f)
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "version: ") {
				lines[i] = "version: \"" + it.to + "\""
			}
			if strings.HasPrefix(l, "digest: ") {
				lines[i] = "digest: " + it.digest
			}
		}
		s = strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n  - at: \"2026-10-18T03:00:00+08:00\"\n    action: update\n    version: \"" + it.to + "\"\n    digest: " + it.digest + "\n    release: REL-2026-0041\n"
		r.Write(f, s)
	}
	r.Write(rel41+"/closure.yaml", closure41)
	r.Commit("close", who("sunlei"))
	if code, out, _ := run(t, "validate", r.Dir); code != 0 {
		t.Fatalf("invalid:\n%s", out)
	}
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "the release report reports/releases/REL-2026-0041.md is missing")
	// The same pull request now writes the "report" itself.
	r.Write("reports/releases/REL-2026-0041.md", "whatever I like\n")
	r.Commit("report", who("sunlei"))
	code, _, text = gate(t, r)
	wantBlocked(t, code, text, "release report")
}

// A symlinked release folder is not a touched release (its path has two
// parts), so the gate evaluates nothing; `relgate validate` should reject it.
func TestReviewAttack_SymlinkedReleaseFolder(t *testing.T) {
	r := prRepo(t, nil)
	if err := os.Symlink("REL-2026-0041", filepath.Join(r.Dir, "releases", "REL-2026-0044")); err != nil {
		t.Fatal(err)
	}
	r.Commit("alias", who("wangfang"))
	vcode, vout, _ := run(t, "validate", "--rev", "HEAD", r.Dir)
	code, _, text := gate(t, r)
	t.Logf("validate --rev HEAD: exit %d\n%s", vcode, vout)
	wantBlocked(t, code, text, "REL-2026-0044")
}
