package cli_test

// Scenario tests of who vouches for what (README "One decision", "Every path
// and who may change it", "What relgate guarantees"), through the CLI on real
// git repositories. Each class of bypass has its attack, which the gate must
// block with a message naming the rule and which `relgate audit verify` must
// name by commit once an administrator merges it anyway, and its lawful
// counterpart, which must pass both. A failing attack case is a bypass that
// works; a failing lawful case is a false alarm.

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/present"
)

// --- signed histories ---------------------------------------------------------

// trLogins are the people of the example policy, the bot included.
var trLogins = []string{"liuzhiqiang", "zhangwei", "wangfang", "lina", "chenjie", "sunlei", "zhouhao",
	"hejun", "maxiaodong", "yangfan", "xuhui", "huangli", "tangjing", "relgate-bot"}

// trKey is one person's keys: an OpenPGP key and an SSH key, both listed in
// the signed policy.
type trKey struct {
	pgp             *openpgp.Entity
	pgpPub          string
	sshPub, sshPriv string
}

var (
	trKeysOnce sync.Once
	trKeysAll  map[string]trKey
)

// trKeys makes everyone's keys once per test binary (RSA keys are slow to make).
func trKeys(t *testing.T) map[string]trKey {
	t.Helper()
	trKeysOnce.Do(func() {
		m := map[string]trKey{}
		for _, l := range trLogins {
			e, pub := gitrepotest.NewKey(t, l, l+"@grid-it.example.cn")
			_, sshPub, sshPriv := gitrepotest.NewSSHKey(t)
			m[l] = trKey{pgp: e, pgpPub: pub, sshPub: sshPub, sshPriv: sshPriv}
		}
		trKeysAll = m
	})
	if trKeysAll == nil {
		t.Fatal("no keys")
	}
	return trKeysAll
}

// trPGP is the file of login's OpenPGP private key, for --sign-key.
func trPGP(t *testing.T, login string) string { return writeKey(t, trKeys(t)[login].pgp) }

// trSSH is the file of login's SSH private key, for --sign-key.
func trSSH(t *testing.T, login string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, []byte(trKeys(t)[login].sshPriv), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// trSignedRepo replays the example repository as a fully signed history: its
// policy turns trustCommitAuthor off and lists an OpenPGP and an SSH key for
// every person (the bot too), and every commit of the replay is signed with
// its author's OpenPGP key. prepare, if given, changes the copied source first.
func trSignedRepo(t *testing.T, prepare func(src string)) *gitrepotest.Repo {
	t.Helper()
	keys := trKeys(t)
	src := t.TempDir()
	err := filepath.WalkDir(examples, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(examples, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(src, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(src, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	polPath := filepath.Join(src, "relgate.yaml")
	data, err := os.ReadFile(polPath)
	if err != nil {
		t.Fatal(err)
	}
	pol := strings.Replace(string(data), "trustCommitAuthor: true", "trustCommitAuthor: false", 1)
	sign := map[string]*openpgp.Entity{}
	for _, l := range trLogins {
		k := keys[l]
		line := "    email: " + l + "@grid-it.example.cn\n"
		if !strings.Contains(pol, line) {
			t.Fatalf("the example policy has no %q", line)
		}
		pol = strings.Replace(pol, line, line+"    signingKeys:\n      - |\n"+indent(k.pgpPub, "        ")+"      - "+k.sshPub+"\n", 1)
		sign[l] = k.pgp
	}
	if err := os.WriteFile(polPath, []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(src)
	}
	r := gitrepotest.New(t)
	if err := gen.Replay(src, r.Dir, gen.ReplayOptions{Sign: sign}); err != nil {
		t.Fatal(err)
	}
	return r
}

// --- git as the people do it ----------------------------------------------------

// outsider is someone the policy does not know: a vendor's engineer.
var outsider = gitrepotest.Person{Name: "外包工程师", Email: "waibao@vendor.example.com"}

// trGit runs the git CLI as p.
func trGit(r *gitrepotest.Repo, p gitrepotest.Person, args ...string) string {
	return r.GitCLI(append([]string{"-c", "user.name=" + p.Name, "-c", "user.email=" + p.Email}, args...)...)
}

func trRev(r *gitrepotest.Repo, rev string) string {
	return strings.TrimSpace(r.GitCLI("rev-parse", rev))
}

// trCommitAt stages the work tree and commits it on HEAD as p at when
// (commit dates are whatever the committer says).
func trCommitAt(t *testing.T, r *gitrepotest.Repo, msg string, p gitrepotest.Person, when time.Time) string {
	t.Helper()
	wt, err := r.Git.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: p.Name, Email: p.Email, When: when}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// trMerge merges branch into main with a merge commit by the bot, as
// GitHub's merge button (or an administrator past a red check) does, and
// returns it.
func trMerge(t *testing.T, r *gitrepotest.Repo, branch string) string {
	t.Helper()
	r.GitCLI("checkout", "-q", "main")
	trGit(r, who("relgate-bot"), "merge", "-q", "--no-ff", "-m", "Merge pull request from "+branch, branch)
	return trRev(r, "HEAD")
}

// trPush moves main to branch, as a direct push does, and returns the tip.
func trPush(t *testing.T, r *gitrepotest.Repo, branch string) string {
	t.Helper()
	r.GitCLI("checkout", "-q", "main")
	r.GitCLI("merge", "-q", "--ff-only", branch)
	return trRev(r, "HEAD")
}

// trGate runs `relgate gate --base main --head branch` in text.
func trGate(t *testing.T, r *gitrepotest.Repo, branch string, extra ...string) (int, string) {
	t.Helper()
	code, out, errs := run(t, append([]string{"gate", "--base", "main", "--head", branch, r.Dir}, extra...)...)
	if code == 2 {
		t.Fatalf("gate: exit 2: %s", errs)
	}
	return code, out
}

// trVerify runs `relgate audit verify DIR --branch main` (with --state - unless
// args say otherwise).
func trVerify(t *testing.T, r *gitrepotest.Repo, args ...string) (int, string) {
	t.Helper()
	if len(args) == 0 {
		args = []string{"--state", "-"}
	}
	code, out, errs := run(t, append([]string{"audit", "verify", r.Dir, "--branch", "main"}, args...)...)
	if code == 2 {
		t.Fatalf("audit verify: exit 2: %s", errs)
	}
	return code, out
}

// wantViolation checks that verify exited 1 with a violation of commit whose
// line holds every one of want (the rule, a message).
func wantViolation(t *testing.T, code int, text, commit string, want ...string) {
	t.Helper()
	if code != 1 {
		t.Errorf("audit verify: exit %d, want 1 naming commit %s\n%s", code, commit[:12], text)
		return
	}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "violation: commit "+commit[:12]) {
			continue
		}
		all := true
		for _, w := range want {
			all = all && strings.Contains(line, w)
		}
		if all {
			return
		}
	}
	t.Errorf("audit verify names no violation of commit %s with %q:\n%s", commit[:12], want, text)
}

func wantVerified(t *testing.T, code int, text string) {
	t.Helper()
	if code != 0 || !strings.Contains(text, ": PASS") {
		t.Errorf("audit verify: exit %d, want 0\n%s", code, text)
	}
}

// trStatus is the state of one release at the work tree, and the text.
func trStatus(t *testing.T, r *gitrepotest.Repo, rel string) (string, string) {
	t.Helper()
	code, js, errs := run(t, "status", rel, r.Dir, "--format", "json")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	var st present.StatusReport
	if err := json.Unmarshal([]byte(js), &st); err != nil || len(st.Releases) != 1 {
		t.Fatalf("status: %v\n%s", err, js)
	}
	_, text, _ := run(t, "status", rel, r.Dir)
	return st.Releases[0].State, text
}

const (
	plan43      = rel43 + "/plan.yaml"
	zwApproval  = rel43 + "/approvals/plan-review.zhangwei.yaml"
	reconcileAt = "2026-11-25T12:00:00+08:00"
)

var cst = time.FixedZone("CST", 8*3600)

// --- 1. a withdrawn approval does not come back (R-3.2, R-4.1) ------------------

// TestTrustR32WithdrawnApprovalStaysWithdrawn: zhangwei approves REL-2026-0043's
// plan (SSH-signed commit Y) and later rejects it (SSH-signed) on main, with a
// harmless commit dated 1970 between. A branch made at Y takes main in and
// keeps or restores Y's approval: nobody vouches for restored content, so the
// gate blocks and verify names the merge that lands it. Lawful: zhangwei
// approves again with a new signed commit.
func TestTrustR32WithdrawnApprovalStaysWithdrawn(t *testing.T) {
	tests := []struct {
		name string
		// branch builds the pull request branch "pr"; y is zhangwei's
		// approval commit, rej his rejection.
		branch func(t *testing.T, r *gitrepotest.Repo, y, rej string)
		pass   bool
		want   []string
	}{
		{name: "attack R-3.2: a merge -s ours of main keeps Y's approval",
			branch: func(t *testing.T, r *gitrepotest.Repo, y, rej string) {
				branchAtRev(t, r, "pr", y)
				trGit(r, who("wangfang"), "merge", "-q", "-s", "ours", "-m", "Merge main", "main")
			},
			want: []string{zwApproval + ": not authenticated", "a decision stands until its author changes it"}},
		{name: "attack R-3.2: a clean merge of main whose result is edited back to Y's approval",
			branch: func(t *testing.T, r *gitrepotest.Repo, y, rej string) {
				branchAtRev(t, r, "pr", y)
				old := r.Read(zwApproval)
				trGit(r, who("wangfang"), "merge", "-q", "--no-commit", "--no-ff", "main")
				r.Write(zwApproval, old)
				r.GitCLI("add", "-A")
				trGit(r, who("wangfang"), "commit", "-q", "-m", "Merge main")
			},
			want: []string{zwApproval + ": not authenticated", "a decision stands until its author changes it"}},
		{name: "attack R-3.2: a merge conflict on the approval resolved to Y's content",
			branch: func(t *testing.T, r *gitrepotest.Repo, y, rej string) {
				branchAtRev(t, r, "pr", y)
				old := r.Read(zwApproval)
				r.Write(zwApproval, old+"# 待复核\n")
				r.Commit("note", who("wangfang"))
				cmd := []string{"-c", "user.name=wangfang", "-c", "user.email=wangfang@grid-it.example.cn", "merge", "-q", "main"}
				if out, err := gitCLI(r, cmd...); err == nil {
					t.Fatalf("the merge did not conflict:\n%s", out)
				}
				r.Write(zwApproval, old)
				r.GitCLI("add", "-A")
				trGit(r, who("wangfang"), "commit", "-q", "--no-edit")
			},
			want: []string{zwApproval + ": not authenticated", "carries no valid signature by a key the policy lists for zhangwei"}},
		{name: "attack R-3.2: main merged, then a revert of the rejection",
			branch: func(t *testing.T, r *gitrepotest.Repo, y, rej string) {
				branchAtRev(t, r, "pr", y)
				trGit(r, who("wangfang"), "merge", "-q", "--no-edit", "main")
				trGit(r, who("wangfang"), "revert", "--no-edit", rej)
			},
			want: []string{zwApproval + ": not authenticated", "carries no valid signature by a key the policy lists for zhangwei"}},
		{name: "lawful R-4.1: zhangwei approves again with a new SSH-signed commit",
			branch: func(t *testing.T, r *gitrepotest.Repo, y, rej string) {
				r.Checkout("pr", true)
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", trSSH(t, "zhangwei"), "--now", "2026-11-27T10:00:00+08:00")
			}, pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := trSignedRepo(t, nil)
			// Plan review has not passed when zhangwei changes his mind
			// (maxiaodong approves last): see TestTrustFalseAlarms for a
			// withdrawal after it passed.
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", trSSH(t, "zhangwei"))
			y := trRev(r, "HEAD")
			r.Write("README.md", r.Read("README.md")+"\n变更窗口见各发布的 release.yaml。\n")
			trCommitAt(t, r, "README", who("wangfang"), time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC))
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--reject", "--comment", "回退方案未经演练",
				"--sign-key", trSSH(t, "zhangwei"), "--now", "2026-11-26T10:00:00+08:00")
			rej := trRev(r, "HEAD")
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--sign-key", trPGP(t, "maxiaodong"), "--now", "2026-11-26T11:00:00+08:00")
			if code, text := trVerify(t, r); code != 0 {
				t.Fatalf("main before the pull request: exit %d\n%s", code, text)
			}
			tc.branch(t, r, y, rej)
			addGoLive(r)
			r.Commit("go-live plan", who("wangfang"))
			code, text := trGate(t, r, "pr")
			if tc.pass {
				wantPassed(t, code, text)
			} else {
				wantBlocked(t, code, text, tc.want...)
			}
			merge := trMerge(t, r, "pr")
			code, text = trVerify(t, r)
			if tc.pass {
				wantVerified(t, code, text)
			} else {
				wantViolation(t, code, text, merge, "unauthenticated-approval", "plan-review.zhangwei.yaml")
			}
		})
	}
}

// branchAtRev creates branch name at rev and checks it out with the git CLI.
func branchAtRev(t *testing.T, r *gitrepotest.Repo, name, rev string) {
	t.Helper()
	r.GitCLI("checkout", "-q", "-b", name, rev)
}

// gitCLI runs git and returns its output and error, for commands expected to fail.
func gitCLI(r *gitrepotest.Repo, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// --- 2. separation of duties over the document's history (R-4, R-4.1) -----------

// approvePlan43All records the three plan-review approvals of REL-2026-0043
// (hejun again: the plan changed since his approval on main).
func approvePlan43All(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	approvePlan43(t, r)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun")
}

// TestTrustR4SeparationOfDutiesOverHistory: whoever changed a covered
// document since it was created may not approve it, whatever its author
// field says and whoever opens the pull request; a document last changed by
// someone the policy does not know is unapprovable until a person of the
// policy commits it again.
func TestTrustR4SeparationOfDutiesOverHistory(t *testing.T) {
	tests := []struct {
		name string
		// build makes the branch "pr" with its approvals and go-live plan.
		build func(t *testing.T, r *gitrepotest.Repo)
		pass  bool
		want  []string
		// rule is the violation verify reports for the merge.
		rule string
	}{
		{name: "attack R-4.1: zhangwei rewrote the plan in an earlier merged pull request, then approves it in one opened by wangfang",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr1", true)
				r.Edit(plan43, "purpose: ", "purpose: 由张伟改写的方案。")
				r.Commit("rewrite the plan", who("zhangwei"))
				if code, text := trGate(t, r, "pr1"); code != 0 {
					t.Fatalf("pull request 1 (a plan edit asserts nothing): exit %d\n%s", code, text)
				}
				trMerge(t, r, "pr1")
				r.Checkout("pr", true)
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
				// --force: approve refuses to commit an approval it knows will not count.
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--force")
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun")
			},
			want: []string{"self-approval", "zhangwei holds release-owner but is excluded: authored plan.yaml in"},
			rule: "uncounted-approval"},
		{name: "attack R-4: inside one pull request, the plan last changed by an author the policy does not know",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Edit(plan43, "purpose: ", "purpose: 外包改写的方案。")
				r.Commit("vendor rewrite", outsider)
				approvePlan43All(t, r)
			},
			want: []string{"plan.yaml was last changed by commit", "whose author waibao@vendor.example.com is not a person of the policy"},
			rule: "gate:plan-review"},
		{name: "attack R-4: the vendor's commit is the first parent of a merge that keeps its plan over wangfang's",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("colleague", true)
				r.Edit(plan43, "impact: ", "impact: 王芳补充的影响说明。")
				r.Commit("plan: impact", who("wangfang"))
				r.GitCLI("checkout", "-q", "-b", "pr", "main")
				r.Edit(plan43, "purpose: ", "purpose: 外包改写的方案。")
				r.Commit("vendor rewrite", outsider)
				// The merge takes the vendor's side (it is not a change of the
				// plan): the plan's content is the vendor's alone.
				trGit(r, who("wangfang"), "merge", "-q", "-s", "ours", "-m", "Merge colleague", "colleague")
				approvePlan43All(t, r)
			},
			want: []string{"plan.yaml cannot be attributed to a commit", "a person of the policy must commit it before it can be approved"},
			rule: "gate:plan-review"},
		{name: "attack R-4: the history index saw the vendor's commit before main's later edit of the plan",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Edit(plan43, "purpose: ", "purpose: 外包改写的方案。")
				r.Commit("vendor rewrite", outsider)
				// CI gates the pushed branch (and keeps the history index).
				if code, text := trGate(t, r, "pr"); code != 0 {
					t.Fatalf("a plan edit alone: exit %d\n%s", code, text)
				}
				r.Checkout("main", false)
				r.Edit(plan43, "impact: ", "impact: 王芳补充的影响说明。")
				r.Commit("plan: impact", who("wangfang"))
				r.Checkout("pr", false)
				// Judged with a fresh history index (rm -r .git/relgate) the same
				// branch is blocked: the decision must not depend on the order in
				// which the index first saw the commits.
				trGit(r, outsider, "merge", "-q", "-s", "ours", "-m", "Merge main", "main")
				approvePlan43All(t, r)
			},
			want: []string{"plan.yaml cannot be attributed to a commit", "a person of the policy must commit it before it can be approved"},
			rule: "gate:plan-review"},
		{name: "lawful R-4.1: wangfang rewrote the plan in an earlier pull request; the others approve it",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr1", true)
				r.Edit(plan43, "purpose: ", "purpose: 王芳改写的方案。")
				r.Commit("rewrite the plan", who("wangfang"))
				trMerge(t, r, "pr1")
				r.Checkout("pr", true)
				approvePlan43All(t, r)
			}, pass: true},
		{name: "lawful R-4: wangfang commits the vendor's plan again before it is approved",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Edit(plan43, "purpose: ", "purpose: 外包改写的方案。")
				r.Commit("vendor rewrite", outsider)
				r.Edit(plan43, "purpose: 外包改写的方案。", "purpose: 外包改写、王芳复核的方案。")
				r.Commit("plan: reviewed", who("wangfang"))
				approvePlan43All(t, r)
			}, pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			tc.build(t, r)
			addGoLive(r)
			r.Commit("go-live plan", who("wangfang"))
			code, text := trGate(t, r, "pr", "--author", "wangfang")
			if tc.pass {
				wantPassed(t, code, text)
			} else {
				wantBlocked(t, code, text, tc.want...)
			}
			merge := trMerge(t, r, "pr")
			code, text = trVerify(t, r)
			if tc.pass {
				wantVerified(t, code, text)
			} else {
				wantViolation(t, code, text, merge, tc.rule)
			}
		})
	}
}

// --- 3. a rejection is withdrawn only by its author (R-5.1.3, R-3.2) ------------

// TestTrustR513RejectionShedWithoutItsAuthor: maxiaodong rejects REL-2026-0043's
// plan (an OpenPGP-signed commit on main). A pull request that drops his
// department from release.yaml, with the others approving again, still
// blocks, and the gate says it is his rejection (not that he is out of role).
// Lawful: maxiaodong replaces his rejection with an approval.
func TestTrustR513RejectionShedWithoutItsAuthor(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, r *gitrepotest.Repo)
		pass   bool
	}{
		{name: "attack R-5.1.3: the release drops the rejecting department and the others approve again",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit(rel43+"/release.yaml", "  - dispatch-automation\n", "")
				r.Commit("REL-2026-0043 does not involve dispatch automation", who("wangfang"))
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun", "--sign-key", trPGP(t, "hejun"))
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", trPGP(t, "zhangwei"))
			}},
		{name: "lawful R-5.1.3: maxiaodong replaces his rejection with an approval",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--sign-key", trPGP(t, "maxiaodong"), "--now", "2026-11-26T10:00:00+08:00")
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", trPGP(t, "zhangwei"))
			}, pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := trSignedRepo(t, nil)
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--reject", "--comment", "回退时间点不对", "--sign-key", trPGP(t, "maxiaodong"))
			r.Checkout("pr", true)
			tc.change(t, r)
			addGoLive(r)
			r.Commit("go-live plan", who("wangfang"))
			code, text := trGate(t, r, "pr", "--author", "wangfang")
			if tc.pass {
				wantPassed(t, code, text)
			} else {
				wantBlocked(t, code, text, "rejected by maxiaodong (department-head): 回退时间点不对", "maxiaodong no longer holds department-head for this release")
				if strings.Contains(text, "not-in-role") {
					t.Errorf("the gate calls maxiaodong's rejection not-in-role:\n%s", text)
				}
			}
			merge := trMerge(t, r, "pr")
			code, text = trVerify(t, r)
			if tc.pass {
				wantVerified(t, code, text)
			} else {
				wantViolation(t, code, text, merge, "gate:plan-review", "rejected by maxiaodong")
			}
		})
	}
}

// --- 4. files outside the lifecycle (R-3.4, R-5.1.9, R-3.3, R-9, R-5.1.11) -------

// trReconcile runs the bot's write-back on the current branch.
func trReconcile(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	if code, out, errs := run(t, "reconcile", r.Dir, "--now", reconcileAt); code != 0 || !strings.Contains(out, "4 commit(s)") {
		t.Fatalf("reconcile: exit %d\n%s%s", code, out, errs)
	}
}

// trClosure41 is REL-2026-0041's closure by sunlei, dated before the commit
// that trClose makes of it.
var trClosure41 = strings.Replace(closure41, `closedAt: "2026-10-20T10:00:00+08:00"`, `closedAt: "2026-11-26T09:00:00+08:00"`, 1)

// trClose commits REL-2026-0041's closure.yaml as p.
func trClose(t *testing.T, r *gitrepotest.Repo, p gitrepotest.Person) {
	t.Helper()
	r.Write(rel41+"/closure.yaml", trClosure41)
	trCommitAt(t, r, "REL-2026-0041: closed", p, time.Date(2026, 11, 26, 10, 0, 0, 0, cst))
}

// TestTrustR34R9R5111PathsOutsideTheLifecycle: the CMDB, change requests,
// reports and unknown paths change only as the path table says, by pull
// request or by direct push alike.
func TestTrustR34R9R5111PathsOutsideTheLifecycle(t *testing.T) {
	tests := []struct {
		name string
		// build makes the branch "pr" (main may change on the way).
		build func(t *testing.T, r *gitrepotest.Repo)
		pass  bool
		want  []string // in the gate's output
		// push lands the branch as a direct push (a fast-forward of main)
		// rather than a merge commit.
		push bool
		rule string // the violation of the landing commit
		// after, if set, runs once the branch landed: a further pull request
		// that must be blocked, and the violation of its merge.
		after func(t *testing.T, r *gitrepotest.Repo)
	}{
		{name: "attack R-3.4: a CMDB item edited by someone outside the policy",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Edit("cmdb/oracle-db-dispatch.yaml", "version: \"19.30.0\"", "version: \"19.32.0\"")
				r.Commit("CMDB: 19.32 is installed", outsider)
			},
			want: []string{"gate cmdb-change", "configuration-manager missing; who may give it: zhouhao"},
			rule: "gate:cmdb-change"},
		{name: "attack R-9: a direct push to changes/ flips a rejected change to approved",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Edit("changes/CHG-2026-0105.yaml", "status: rejected", "status: approved")
				r.Commit("CHG-2026-0105 approved", who("wangfang"))
			},
			want: []string{"gate change-record", "change-manager missing; who may give it: hejun"},
			push: true, rule: "gate:change-record"},
		{name: "attack R-5.1.11: a hand-written release report pushed straight to main, then the closure",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				trReconcile(t, r)
				r.Checkout("pr", true)
				r.Write("reports/releases/REL-2026-0041.md", "# 发布报告 REL-2026-0041\n\n发布成功，无问题。\n")
				r.Commit("the release report, tidied", who("sunlei"))
			},
			want: []string{"reports/releases/REL-2026-0041.md: reports/ is written by relgate reconcile", "(R-5.1.11)"},
			push: true, rule: "reports/ is written by relgate reconcile",
			after: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("close", true)
				trClose(t, r, who("sunlei"))
				code, text := trGate(t, r, "close")
				wantBlocked(t, code, text, "release report")
				if st, _ := trStatus(t, r, "REL-2026-0041"); st == "closed" {
					t.Errorf("status: REL-2026-0041 is closed on a release report the bot did not write")
				}
				merge := trMerge(t, r, "close")
				code, text = trVerify(t, r)
				wantViolation(t, code, text, merge, "REL-2026-0041")
			}},
		{name: "attack: a file at a path no rule covers",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Write("scripts/deploy.sh", "#!/bin/sh\nexit 0\n")
				r.Commit("deploy script", who("sunlei"))
			},
			want: []string{"scripts/deploy.sh: no rule of relgate covers this path"},
			rule: "scripts/deploy.sh"},
		{name: "lawful R-5.1.9: the bot's reconcile write-back of cmdb/ and reports/",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				trReconcile(t, r)
			}, pass: true, push: true},
		{name: "lawful R-3.4: a CMDB edit approved by the configuration manager",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Edit("cmdb/oracle-db-marketing.yaml", "\nhistory:", "\n# 机房搬迁后核对\nhistory:")
				r.Commit("CMDB: checked after the move", who("sunlei"))
				approve(t, r, "cmdb-change", "--as", "zhouhao")
			}, pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			tc.build(t, r)
			code, text := trGate(t, r, "pr")
			if tc.pass {
				wantPassed(t, code, text)
			} else {
				wantBlocked(t, code, text, tc.want...)
			}
			var landed string
			if tc.push {
				landed = trPush(t, r, "pr")
			} else {
				landed = trMerge(t, r, "pr")
			}
			code, text = trVerify(t, r)
			if tc.pass {
				wantVerified(t, code, text)
			} else {
				wantViolation(t, code, text, landed, tc.rule)
			}
			if tc.after != nil {
				tc.after(t, r)
			}
		})
	}
}

// --- 5. an implementer of the release closes it, as themself (R-5.1.10) ---------

// TestTrustR5110OnlyTheNamedImplementerCloses: after the write-back, closure.yaml
// with closedBy: sunlei (an implementer of REL-2026-0041) counts only through a
// commit of sunlei's.
func TestTrustR5110OnlyTheNamedImplementerCloses(t *testing.T) {
	tests := []struct {
		name string
		by   gitrepotest.Person
		pass bool
	}{
		{name: "attack R-5.1.10: someone outside the policy commits sunlei's closure", by: outsider},
		{name: "attack R-5.1.10: zhouhao, another implementer, commits sunlei's closure", by: who("zhouhao")},
		{name: "lawful R-5.1.10: sunlei commits his closure", by: who("sunlei"), pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			trReconcile(t, r)
			r.Checkout("pr", true)
			trClose(t, r, tc.by)
			code, text := trGate(t, r, "pr")
			st, stText := trStatus(t, r, "REL-2026-0041")
			merge := trMerge(t, r, "pr")
			vcode, vtext := trVerify(t, r)
			if tc.pass {
				wantPassed(t, code, text)
				if st != "closed" {
					t.Errorf("status: %s, want closed\n%s", st, stText)
				}
				wantVerified(t, vcode, vtext)
				return
			}
			wantBlocked(t, code, text, "gate closure", "closure.yaml names sunlei, but the commit that wrote it is not theirs")
			if st == "closed" {
				t.Errorf("status: closed by a commit that is not sunlei's\n%s", stText)
			}
			wantViolation(t, vcode, vtext, merge, "gate:closure")
		})
	}
}

// --- 6. a deployment record says what was deployed (R-3.1, R-5.1.8) -------------

// TestTrustR31R518DeploymentRecordEmptied: a deployment record rewritten so
// that it no longer says what was deployed is never confirmed, whoever
// confirms it: the gate blocks, status does not say confirmed, and verify
// names the merge. Lawful: a corrected record confirmed again by the release
// manager and the customer representative.
func TestTrustR31R518DeploymentRecordEmptied(t *testing.T) {
	const oms = "  - item: oms-workflow\n    version: \"2.8.0\"\n    digest: sha256:e92d19c84617aa08828dfc2dbf42b90d3319aedf2e774d60586c62f42a5b9e1c\n"
	tests := []struct {
		name       string
		release    string
		confirmers []string
		edit       func(r *gitrepotest.Repo)
		pass       bool
		want       string
	}{
		{name: "attack R-3.1: rolled back after deploying an untested 9.9.9 with a wrong digest",
			release: "REL-2026-0042", confirmers: []string{"lina", "huangli"},
			edit: func(r *gitrepotest.Repo) {
				r.Edit("releases/REL-2026-0042/deployment.yaml",
					"    version: \"5.7.0\"\n    digest: sha256:9ea24af1be33fbbf6a5fdee7eb2121bb2d0bfb690f399c6faadf382206f5502d",
					"    version: \"9.9.9\"\n    digest: sha256:"+strings.Repeat("9", 64))
			},
			want: "marketing-app-server 9.9.9 (tested: 5.7.0)"},
		{name: "attack R-5.1.8: succeeded with deployed: []",
			release: "REL-2026-0041", confirmers: []string{"wangfang", "tangjing"},
			edit: func(r *gitrepotest.Repo) {
				d := r.Read(rel41 + "/deployment.yaml")
				start, end := strings.Index(d, "deployed:\n"), strings.Index(d, "problems:\n")
				r.Write(rel41+"/deployment.yaml", d[:start]+"deployed: []\n"+d[end:])
			},
			want: "outcome succeeded but deployed is empty"},
		{name: "attack R-5.1.8: succeeded with only one of the release's two items",
			release: "REL-2026-0041", confirmers: []string{"wangfang", "tangjing"},
			edit: func(r *gitrepotest.Repo) { r.Edit(rel41+"/deployment.yaml", oms, "") },
			want: "outcome succeeded but deployed does not list oms-workflow 2.8.0"},
		// Beyond the list: nothing compares what a rollback says it
		// restored with the rollback plan (plan.yaml rollback.restoreVersions,
		// ), yet reconcile writes it to the CMDB as the restored version.
		{name: "attack R-5.1.2, R-3.4: rolled back, restoring 9.9.9, which the rollback plan does not name",
			release: "REL-2026-0042", confirmers: []string{"lina", "huangli"},
			edit: func(r *gitrepotest.Repo) {
				r.Edit("releases/REL-2026-0042/deployment.yaml",
					"      version: \"3.1.4\"\n      digest: sha256:f8ccda95cad409f0ceb249a927ed32ccfc6864d2f380b78732c4ef2bd36e4c48",
					"      version: \"9.9.9\"\n      digest: sha256:"+strings.Repeat("9", 64))
			},
			want: "payment-interface 9.9.9"},
		{name: "lawful R-5.1.8: a problem's solution corrected, confirmed again",
			release: "REL-2026-0041", confirmers: []string{"wangfang", "tangjing"},
			edit: func(r *gitrepotest.Repo) {
				r.Edit(rel41+"/deployment.yaml", "并电话通知申请单位。", "并电话通知申请单位；次日复核无遗漏。")
			}, pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			r.Checkout("pr", true)
			tc.edit(r)
			r.Commit("the deployment record", who("sunlei"))
			for _, p := range tc.confirmers {
				approve(t, r, tc.release, "deployment-confirmation", "--as", p)
			}
			code, text := trGate(t, r, "pr")
			st, stText := trStatus(t, r, tc.release)
			merge := trMerge(t, r, "pr")
			vcode, vtext := trVerify(t, r)
			if tc.pass {
				wantPassed(t, code, text)
				if st != "confirmed" {
					t.Errorf("status: %s, want confirmed\n%s", st, stText)
				}
				wantVerified(t, vcode, vtext)
				return
			}
			wantBlocked(t, code, text, tc.want)
			if st == "confirmed" || st == "closed" {
				t.Errorf("status: %s with a record that does not say what was deployed\n%s", st, stText)
			}
			wantViolation(t, vcode, vtext, merge, tc.want)
		})
	}
}

// --- 7. history rewrites (R-3.2) --------------------------------------------------

// TestTrustR32HistoryRewrites: a branch whose history restarts, by a
// fast-forward onto a new root or by a force push of a squashed one, is
// found by audit verify. Lawful: an ordinary fast-forward after a verified run.
func TestTrustR32HistoryRewrites(t *testing.T) {
	t.Run("attack R-3.2: a fast-forward whose first parent is a new root with an unapproved go-live plan and deployment", func(t *testing.T) {
		r := exampleRepo(t)
		r.GitCLI("checkout", "-q", "--orphan", "forged")
		addGoLive(r)
		r.Write(rel43+"/deployment.yaml", strings.ReplaceAll(r.Read(rel41+"/deployment.yaml"), "REL-2026-0041", "REL-2026-0043"))
		r.GitCLI("add", "-A")
		trGit(r, who("sunlei"), "commit", "-q", "-m", "REL-2026-0043 deployed")
		root := trRev(r, "HEAD")
		// Merging main in, keeping the forged tree, makes it a fast-forward of main.
		trGit(r, who("sunlei"), "merge", "-q", "-s", "ours", "--allow-unrelated-histories", "-m", "Merge main", "main")
		code, text := trGate(t, r, "forged")
		wantBlocked(t, code, text, "gate go-live-approval")
		trPush(t, r, "forged")
		code, text = trVerify(t, r)
		wantViolation(t, code, text, root, "root-commit", "REL-2026-0043")
	})
	t.Run("attack R-3.2: a force push squashes the whole history into one root", func(t *testing.T) {
		r := exampleRepo(t)
		code, text := trVerify(t, r, "--format", "text") // the default state file records the tip
		wantVerified(t, code, text)
		before := trRev(r, "main")
		r.GitCLI("checkout", "-q", "--orphan", "squashed")
		trGit(r, who("sunlei"), "commit", "-q", "-m", "the release repository")
		squashed := trRev(r, "HEAD")
		r.GitCLI("branch", "-f", "main", "squashed")
		r.GitCLI("checkout", "-q", "main")
		code, text = trVerify(t, r, "--format", "text")
		wantViolation(t, code, text, before, "history-rewritten")
		wantViolation(t, code, text, squashed, "root-commit")
	})
	t.Run("lawful R-3.2: a fast-forward after a verified run", func(t *testing.T) {
		r := exampleRepo(t)
		code, text := trVerify(t, r, "--format", "text")
		wantVerified(t, code, text)
		r.Checkout("pr", true)
		r.Write("README.md", r.Read("README.md")+"\n值班电话见运维手册。\n")
		r.Commit("README", who("wangfang"))
		code, text = trGate(t, r, "pr")
		wantPassed(t, code, text)
		trPush(t, r, "pr")
		code, text = trVerify(t, r, "--format", "text")
		wantVerified(t, code, text)
	})
}

// --- 8. one decision: status, reconcile and audit REL agree with gate (R-3.2) ----

// TestTrustR32EveryCommandAgreesWithGate: in a signed history where
// REL-2026-0041 is deployed but not yet confirmed, its two confirmations are
// pushed straight to main unauthenticated (unsigned, or signed with someone
// else's key). The gate blocks them as a pull request and verify names the
// push; status does not say confirmed and says why, reconcile plans no CMDB
// update for the release, and audit REL does not say they counted. Lawful:
// the two confirm with their own keys (one SSH, one OpenPGP), and audit REL
// shows the SSH signature as verified.
func TestTrustR32EveryCommandAgreesWithGate(t *testing.T) {
	const (
		wfFile = rel41 + "/approvals/deployment-confirmation.wangfang.yaml"
		tjFile = rel41 + "/approvals/deployment-confirmation.tangjing.yaml"
	)
	tests := []struct {
		name string
		// keys sign wangfang's and tangjing's confirmations: a key file, "" for none.
		keys func(t *testing.T) (wf, tj string)
		pass bool
	}{
		{name: "attack R-3.2: unsigned confirmations pushed to main",
			keys: func(t *testing.T) (string, string) { return "", "" }},
		{name: "attack R-3.2: confirmations signed with other people's keys (lina's OpenPGP, huangli's SSH) pushed to main",
			keys: func(t *testing.T) (string, string) { return trPGP(t, "lina"), trSSH(t, "huangli") }},
		{name: "lawful R-5.1.8: wangfang confirms with her SSH key, tangjing with her OpenPGP key",
			keys: func(t *testing.T) (string, string) { return trSSH(t, "wangfang"), trPGP(t, "tangjing") }, pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := trSignedRepo(t, func(src string) {
				for _, f := range []string{wfFile, tjFile} {
					if err := os.Remove(filepath.Join(src, f)); err != nil {
						t.Fatal(err)
					}
				}
			})
			if st, text := trStatus(t, r, "REL-2026-0041"); st != "deployed" {
				t.Fatalf("the replay without confirmations: %s, want deployed\n%s", st, text)
			}
			r.Checkout("pr", true)
			wf, tj := tc.keys(t)
			for _, c := range []struct{ login, key string }{{"wangfang", wf}, {"tangjing", tj}} {
				args := []string{"REL-2026-0041", "deployment-confirmation", "--as", c.login}
				if c.key != "" {
					args = append(args, "--sign-key", c.key)
				}
				if !tc.pass {
					args = append(args, "--force") // approve refuses to commit an approval it knows will not count
				}
				approve(t, r, args...)
			}
			code, text := trGate(t, r, "pr")
			var landed string
			if tc.pass {
				wantPassed(t, code, text)
				landed = trMerge(t, r, "pr")
			} else {
				wantBlocked(t, code, text, wfFile+": not authenticated", tjFile+": not authenticated")
				landed = trPush(t, r, "pr")
			}
			vcode, vtext := trVerify(t, r)
			st, stText := trStatus(t, r, "REL-2026-0041")
			_, plan, errs := run(t, "reconcile", r.Dir, "--dry-run")
			_, trail, _ := run(t, "audit", "REL-2026-0041", r.Dir)
			// The dashboard shows the same decision (issue 14).
			siteDir := filepath.Join(t.TempDir(), "site")
			if code, _, errs := run(t, "site", siteDir, "--repo", r.Dir); code != 0 {
				t.Fatalf("site: exit %d: %s", code, errs)
			}
			page := readSite(t, siteDir, "en/releases/REL-2026-0041.html")
			siteState := strings.Contains(page, `<span class="badge">confirmed</span>`)
			if siteState != tc.pass {
				t.Errorf("site: REL-2026-0041 shown confirmed: %v, want %v", siteState, tc.pass)
			}
			for _, p := range []string{"王芳 (wangfang)", "唐静 (tangjing)"} {
				row := approvalRow(t, page, "deployment-confirmation", p)
				if tc.pass && !strings.Contains(row, "✔ counts") || !tc.pass && !strings.Contains(row, "✘ unauthenticated") {
					t.Errorf("site: REL-2026-0041: %s's confirmation is not shown as the gate decided:\n%s", p, row)
				}
			}
			wantCMDB := "would commit: REL-2026-0041: update the CMDB"
			counted := func(login string) bool {
				return strings.Contains(trail, "approval deployment-confirmation by "+login+": counted")
			}
			if tc.pass {
				wantVerified(t, vcode, vtext)
				if st != "confirmed" {
					t.Errorf("status: %s, want confirmed\n%s", st, stText)
				}
				if !strings.Contains(plan, wantCMDB) {
					t.Errorf("reconcile --dry-run plans no CMDB update for REL-2026-0041:\n%s%s", plan, errs)
				}
				if !counted("wangfang") || !counted("tangjing") {
					t.Errorf("audit REL-2026-0041 does not say both confirmations counted:\n%s", trail)
				}
				// Each confirmation's commit shows as verified by its person's key.
				_, js, _ := run(t, "audit", "REL-2026-0041", r.Dir, "--format", "json")
				var tl audit.Timeline
				if err := json.Unmarshal([]byte(js), &tl); err != nil {
					t.Fatalf("audit --format json: %v\n%s", err, js)
				}
				for _, c := range []struct{ file, login, how string }{{wfFile, "wangfang", "SSH"}, {tjFile, "tangjing", "OpenPGP"}} {
					found := false
					for _, ev := range tl.Events {
						for _, ch := range ev.Changes {
							if ch.Path == c.file && ch.Action == "added" && ev.Author.Login == c.login {
								found = true
								if ev.Signature != audit.SigVerified || ev.SignedBy != c.login {
									t.Errorf("audit REL-2026-0041: %s's %s-signed commit %s shows signature %q (signed by %q), want verified by %s",
										c.login, c.how, short12(ev.Commit), ev.Signature, ev.SignedBy, c.login)
								}
							}
						}
					}
					if !found {
						t.Errorf("audit REL-2026-0041 has no commit of %s adding %s:\n%s", c.login, c.file, trail)
					}
				}
				return
			}
			wantViolation(t, vcode, vtext, landed, "unauthenticated-approval", "deployment-confirmation.tangjing.yaml")
			if st == "confirmed" || st == "closed" {
				t.Errorf("status: %s on unauthenticated confirmations\n%s", st, stText)
			}
			if !strings.Contains(stText, "deployment-confirmation by wangfang (release-manager): unauthenticated") ||
				!strings.Contains(stText, "deployment-confirmation by tangjing (customer-representative): unauthenticated") {
				t.Errorf("status does not say the confirmations are unauthenticated:\n%s", stText)
			}
			if strings.Contains(plan, wantCMDB) {
				t.Errorf("reconcile --dry-run plans a CMDB update for an unconfirmed release:\n%s", plan)
			}
			if counted("wangfang") || counted("tangjing") {
				t.Errorf("audit REL-2026-0041 says an unauthenticated confirmation counted:\n%s", trail)
			}
		})
	}
}

func short12(id string) string { return id[:min(len(id), 12)] }

// TestTrustR32R7PushedPolicyDoesNotVouch: beyond the list, the same
// direct push first turns trustCommitAuthor back on, with no process
// approver's approval, then adds the two unsigned confirmations. verify
// names the policy commit; status, reconcile and audit REL read the pushed
// policy and must still not count what the gate refuses.
func TestTrustR32R7PushedPolicyDoesNotVouch(t *testing.T) {
	r := trSignedRepo(t, func(src string) {
		for _, f := range []string{"deployment-confirmation.wangfang.yaml", "deployment-confirmation.tangjing.yaml"} {
			if err := os.Remove(filepath.Join(src, rel41, "approvals", f)); err != nil {
				t.Fatal(err)
			}
		}
	})
	r.Checkout("pr", true)
	r.Edit("relgate.yaml", "trustCommitAuthor: false", "trustCommitAuthor: true")
	pol := r.Commit("sign-off by commit author again", who("wangfang"))
	// --force: approve refuses to commit approvals it knows will not count.
	approve(t, r, "REL-2026-0041", "deployment-confirmation", "--as", "wangfang", "--force")
	approve(t, r, "REL-2026-0041", "deployment-confirmation", "--as", "tangjing", "--force")
	code, text := trGate(t, r, "pr")
	wantBlocked(t, code, text, "gate policy-change", "deployment-confirmation.wangfang.yaml: not authenticated")
	trPush(t, r, "pr")
	code, text = trVerify(t, r)
	wantViolation(t, code, text, pol, "policy-change")
	if st, stText := trStatus(t, r, "REL-2026-0041"); st == "confirmed" || st == "closed" {
		t.Errorf("status: %s on confirmations only an unapproved policy change vouches for\n%s", st, stText)
	}
	if _, plan, _ := run(t, "reconcile", r.Dir, "--dry-run"); strings.Contains(plan, "would commit: REL-2026-0041: update the CMDB") {
		t.Errorf("reconcile --dry-run plans a CMDB update on confirmations only an unapproved policy change vouches for:\n%s", plan)
	}
	if _, trail, _ := run(t, "audit", "REL-2026-0041", r.Dir); strings.Contains(trail, "approval deployment-confirmation by wangfang: counted") {
		t.Errorf("audit REL-2026-0041 says wangfang's unsigned confirmation counted:\n%s", trail)
	}
}

// --- false alarms ------------------------------------------------------------------

// TestTrustFalseAlarms: lawful changes that must pass gate and verify.
func TestTrustFalseAlarms(t *testing.T) {
	tests := []struct {
		name string
		// build makes the branch "pr" and moves main on after it forked.
		build  func(t *testing.T, r *gitrepotest.Repo)
		author string
		// forbid must not appear in the gate's output.
		forbid []string
	}{
		{name: "R-5.1.11 a README-only branch made before the bot wrote reports/ to main",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Write("README.md", r.Read("README.md")+"\n值班电话见运维手册。\n")
				r.Commit("README", who("wangfang"))
				r.Checkout("main", false)
				trReconcile(t, r)
				r.Checkout("pr", false)
			}, forbid: []string{"reports/"}},
		{name: "R-5.1.11 a branch touching one release, made before the bot wrote reports/ to main",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Edit(plan43, "purpose: ", "purpose: 补充说明。")
				r.Commit("plan", who("wangfang"))
				r.Checkout("main", false)
				trReconcile(t, r)
				r.Checkout("pr", false)
			}, author: "wangfang", forbid: []string{"reports/"}},
		{name: "R-5.1.10 a closure branch made before the bot wrote the CMDB and reports/ to main",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				trClose(t, r, who("sunlei"))
				r.Checkout("main", false)
				trReconcile(t, r)
				r.Checkout("pr", false)
			}, forbid: []string{"reports/"}},
		{name: "R-9 a README-only branch from an older main needs no change manager",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				r.Checkout("pr", true)
				r.Write("README.md", r.Read("README.md")+"\n变更单见 changes/。\n")
				r.Commit("README", who("wangfang"))
				// On main, meanwhile, a change request is approved and merged.
				r.GitCLI("checkout", "-q", "-b", "chg", "main")
				r.Edit("changes/CHG-2026-0104.yaml", "title: ", "title: （补充）")
				r.Commit("CHG-2026-0104: title", who("zhouhao"))
				approve(t, r, "change-record", "--as", "hejun")
				trMerge(t, r, "chg")
				r.Checkout("pr", false)
			}, forbid: []string{"change-record", "change-manager"}},
		{name: "R-4.1 the release owner withdraws his approval after plan review passed (before anything asserts it)",
			build: func(t *testing.T, r *gitrepotest.Repo) {
				approvePlan43(t, r) // on main: plan review of REL-2026-0043 passes
				r.Checkout("pr", true)
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--reject", "--comment", "回退方案未经演练", "--now", "2026-11-26T10:00:00+08:00")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			tc.build(t, r)
			var extra []string
			if tc.author != "" {
				extra = []string{"--author", tc.author}
			}
			code, text := trGate(t, r, "pr", extra...)
			wantPassed(t, code, text)
			for _, f := range tc.forbid {
				if strings.Contains(text, f) {
					t.Errorf("the gate's output mentions %q:\n%s", f, text)
				}
			}
			trMerge(t, r, "pr")
			code, text = trVerify(t, r)
			wantVerified(t, code, text)
		})
	}
}
