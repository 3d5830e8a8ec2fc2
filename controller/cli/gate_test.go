package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

const rel43 = "releases/REL-2026-0043"

func who(login string) gitrepotest.Person {
	return gitrepotest.Person{Name: login, Email: login + "@grid-it.example.cn"}
}

// prRepo commits the example repository on main (after changing it with
// base, if given) and checks out a pull request branch "pr" from it.
func prRepo(t *testing.T, base func(r *gitrepotest.Repo)) *gitrepotest.Repo {
	t.Helper()
	r := exampleRepo(t)
	if base != nil {
		base(r)
		commitPolicy(t, r)
		// The release manager of REL-2026-0043 (who approves nothing of it)
		// changes anything else.
		if st := strings.TrimSpace(r.GitCLI("status", "--porcelain")); st != "" {
			r.Commit("base for the test", who("wangfang"))
		}
	}
	r.Checkout("pr", true)
	return r
}

// commitPolicy commits a change of relgate.yaml in the work tree lawfully, if
// there is one: the process approver approves it (policy-change, R-7) and
// commits both, so that it is the policy in force.
func commitPolicy(t *testing.T, r *gitrepotest.Repo) {
	t.Helper()
	if !strings.Contains(r.GitCLI("status", "--porcelain", "relgate.yaml"), "relgate.yaml") {
		return
	}
	if code, out, errs := run(t, "approve", "policy-change", "--repo", r.Dir, "--as", "liuzhiqiang", "--now", "2026-11-25T10:00:00+08:00"); code != 0 {
		t.Fatalf("approve policy-change: %s%s", out, errs)
	}
	r.GitCLI("add", "relgate.yaml", "approvals")
	r.GitCLI("-c", "user.name=刘志强", "-c", "user.email=liuzhiqiang@grid-it.example.cn", "commit", "-q", "-m", "policy change for the test")
}

// approve records an approval through the CLI, committed by the approver.
func approve(t *testing.T, r *gitrepotest.Repo, args ...string) {
	t.Helper()
	code, out, errs := run(t, append([]string{"approve", "--repo", r.Dir, "--commit", "--now", "2026-11-25T10:00:00+08:00"}, args...)...)
	if code != 0 {
		t.Fatalf("approve %v: exit %d\n%s%s", args, code, out, errs)
	}
}

// gate runs relgate gate for the pull request and decodes its JSON.
func gate(t *testing.T, r *gitrepotest.Repo, extra ...string) (int, *evaluate.GateReport, string) {
	t.Helper()
	code, out, errs := run(t, append([]string{"gate", "--base", "main", "--head", "HEAD", r.Dir, "--format", "json"}, extra...)...)
	if code == 2 {
		t.Fatalf("gate: exit 2: %s", errs)
	}
	var rep evaluate.GateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("gate output: %v\n%s", err, out)
	}
	_, text, _ := run(t, append([]string{"gate", "--base", "main", "--head", "HEAD", r.Dir}, extra...)...)
	return code, &rep, text
}

// addGoLive writes a go-live plan and communication record for REL-2026-0043,
// asserting that go-live planning began (which needs plan review, R-5.1.3).
func addGoLive(r *gitrepotest.Repo) {
	for _, f := range []string{"golive.yaml", "communication.yaml"} {
		r.Write(rel43+"/"+f, strings.ReplaceAll(r.Read("releases/REL-2026-0041/"+f), "REL-2026-0041", "REL-2026-0043"))
	}
}

func approvePlan43(t *testing.T, r *gitrepotest.Repo) {
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
}

func wantBlocked(t *testing.T, code int, text string, want ...string) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit %d, want 1 (blocked)\n%s", code, text)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("gate output lacks %q:\n%s", w, text)
		}
	}
}

func wantPassed(t *testing.T, code int, text string) {
	t.Helper()
	if code != 0 {
		t.Errorf("exit %d, want 0 (pass)\n%s", code, text)
	}
}

func TestGateScenarios(t *testing.T) {
	tests := []struct {
		name   string
		base   func(r *gitrepotest.Repo)
		change func(t *testing.T, r *gitrepotest.Repo)
		pass   bool
		want   []string
	}{
		{name: "a plan alone asserts nothing and merges",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 补充说明。")
				r.Commit("edit plan", who("wangfang"))
			}, pass: true},
		{name: "R-5.1.3 go-live planning before plan review is blocked",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				addGoLive(r)
				r.Commit("go-live plan", who("wangfang"))
			}, want: []string{"gate plan-review", "department-head (dispatch-automation) missing; who may give it: maxiaodong", "release-owner missing; who may give it: zhangwei"}},
		{name: "R-5.1.3 go-live planning after plan review passes",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approvePlan43(t, r)
				addGoLive(r)
				r.Commit("go-live plan", who("wangfang"))
			}, pass: true},
		{name: "attack: plan edited after approval makes the approvals stale",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approvePlan43(t, r)
				r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 临时加一个步骤。")
				addGoLive(r)
				r.Commit("edit plan after approval", who("wangfang"))
			}, want: []string{"stale", "maxiaodong", "zhangwei", "changed after the approval: plan.yaml in"}},
		{name: "attack: the plan's author approves their own plan",
			base: func(r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", "  release-owner:\n    - zhangwei", "  release-owner:\n    - zhangwei\n    - wangfang")
				r.Edit(rel43+"/release.yaml", "owner: zhangwei", "owner: wangfang")
			},
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
				// --force: approve refuses to commit an approval it knows will not count.
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "wangfang", "--force")
				addGoLive(r)
				r.Commit("go-live plan", who("wangfang"))
			}, want: []string{"self-approval", "wangfang holds release-owner but is excluded: authored"}},
		{name: "attack: an approver removed from the role in the base policy",
			base: func(r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", "  release-owner:\n    - zhangwei", "  release-owner:\n    - liuzhiqiang")
			},
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", "  release-owner:\n    - liuzhiqiang", "  release-owner:\n    - zhangwei")
				r.Commit("put myself back", who("zhangwei"))
				approvePlan43(t, r)
				addGoLive(r)
				r.Commit("go-live plan", who("wangfang"))
			}, want: []string{"not-in-role", "zhangwei does not hold release-owner", "gate policy-change"}},
		{name: "attack: the author adds themself to a role and lowers a gate's count, then approves",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", "  release-owner:\n    - zhangwei", "  release-owner:\n    - zhangwei\n    - xuhui")
				r.Edit("relgate.yaml", "blackoutWindows:", "gates:\n  - id: plan-review\n    requires:\n      - {role: release-owner, count: 1}\nblackoutWindows:")
				r.Edit(rel43+"/release.yaml", "owner: zhangwei", "owner: xuhui")
				r.Commit("policy", who("xuhui"))
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "xuhui", "--role", "release-owner")
				addGoLive(r)
				r.Commit("go-live plan", who("xuhui"))
			}, want: []string{"gate policy-change", "process-approver", "who may give it: liuzhiqiang", "gate plan-review"}},
		{name: "R-7 a policy change approved by the process approver passes",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", "maxChangesPerRelease: 3", "maxChangesPerRelease: 2")
				r.Commit("policy", who("hejun"))
				approve(t, r, "policy-change", "--as", "liuzhiqiang")
			}, pass: true},
		{name: "attack: an approval copied from another release",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong")
				r.Write(rel43+"/approvals/plan-review.zhangwei.yaml", r.Read("releases/REL-2026-0041/approvals/plan-review.zhangwei.yaml"))
				addGoLive(r)
				r.Commit("copy", who("zhangwei"))
			}, want: []string{"release REL-2026-0041 does not match the folder REL-2026-0043", "wrong-release"}},
		{name: "attack: a deployment record without go-live approval (R-3.1)",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approvePlan43(t, r)
				r.Write(rel43+"/deployment.yaml", strings.ReplaceAll(r.Read("releases/REL-2026-0041/deployment.yaml"), "REL-2026-0041", "REL-2026-0043"))
				r.Commit("deployed", who("sunlei"))
			}, want: []string{"gate go-live-approval", "golive.yaml is missing", "gate test-acceptance must pass first", "no test report"}},
		{name: "a rejection blocks its gate and says who holds it",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--reject", "--comment", "回退时间点不对")
				addGoLive(r)
				r.Commit("go-live plan", who("wangfang"))
			}, want: []string{"rejected by maxiaodong (department-head): 回退时间点不对"}},
		{name: "a rejection on base cannot be deleted by someone else",
			base: func(r *gitrepotest.Repo) {
				r.Write(rel43+"/approvals/plan-review.maxiaodong.yaml", strings.NewReplacer("decision: approve", "decision: reject", "hejun", "maxiaodong").Replace(r.Read(rel43+"/approvals/plan-review.hejun.yaml")))
			},
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Remove(rel43 + "/approvals/plan-review.maxiaodong.yaml")
				r.Commit("drop rejection", who("wangfang"))
			}, want: []string{"the rejection by maxiaodong is deleted"}},
		{name: "R-3.1 deployed versions differ from the tested ones",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("releases/REL-2026-0041/deployment.yaml", "sha256:937b2351", "sha256:037b2351")
				r.Commit("edit", who("sunlei"))
			}, want: []string{"deployed versions that were not tested"}},
		{name: "R-5.1.2 a failed deployment without the surrounding systems told",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("releases/REL-2026-0042/deployment.yaml", "surroundingSystemsNotified: true", "surroundingSystemsNotified: false")
				r.Commit("edit", who("sunlei"))
			}, want: []string{"surroundingSystemsNotified"}},
		{name: "R-5.1.7 a phased rollout without a customer notification for each phase",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("releases/REL-2026-0042/communication.yaml", "  - phase: 第二阶段：营销应用切换", "  - phase: 第三阶段")
				r.Commit("edit", who("lina"))
			}, want: []string{"phases without a customer notification: 第二阶段：营销应用切换"}},
		{name: "R-9 more change requests than the policy allows",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit(rel43+"/release.yaml", "  - id: CHG-2026-0104", "  - id: CHG-2026-0104\n  - id: CHG-2026-0101\n  - id: CHG-2026-0102\n  - id: CHG-2026-0103")
				r.Commit("bundle", who("wangfang"))
				approvePlan43(t, r)
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun")
				addGoLive(r)
				r.Commit("go-live plan", who("wangfang"))
			}, want: []string{"the release bundles 4 change requests; the policy allows 3"}},
		{name: "R-9 a rejected change request cannot be implemented",
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit(rel43+"/release.yaml", "  - id: CHG-2026-0104", "  - id: CHG-2026-0105")
				r.Commit("cite", who("wangfang"))
				approvePlan43(t, r)
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun")
				addGoLive(r)
				r.Commit("go-live plan", who("wangfang"))
			}, want: []string{"change CHG-2026-0105 is rejected, not approved"}},
		{name: "a team's own gate (security-review before go-live-approval) blocks until approved",
			base: func(r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", "blackoutWindows:", "gates:\n  - id: security-review\n    before: go-live-approval\n    requires: [{role: security-officer, count: 1}]\n    covers: [plan.yaml, golive.yaml]\nblackoutWindows:")
				r.Edit("relgate.yaml", "  process-approver:", "  security-officer:\n    - xuhui\n  process-approver:")
			},
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("releases/REL-2026-0041/deployment.yaml", "recordedBy: ", "# 补记\nrecordedBy: ")
				r.Commit("touch", who("sunlei"))
			}, want: []string{"gate security-review", "security-officer missing; who may give it: xuhui", "gate security-review must pass first"}},
		{name: "R-5.1.6 a window in a blackout period needs the process approver too",
			base: func(r *gitrepotest.Repo) {
				r.Edit(rel43+"/release.yaml", "start: \"2026-11-28T22:00:00+08:00\"", "start: \"2027-02-08T22:00:00+08:00\"")
				r.Edit(rel43+"/release.yaml", "end: \"2026-11-29T04:00:00+08:00\"", "end: \"2027-02-09T04:00:00+08:00\"")
			},
			change: func(t *testing.T, r *gitrepotest.Repo) {
				approvePlan43(t, r)
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun")
				r.Write(rel43+"/test-report.yaml", strings.ReplaceAll(r.Read("releases/REL-2026-0041/test-report.yaml"), "REL-2026-0041", "REL-2026-0043"))
				addGoLive(r)
				r.Write(rel43+"/deployment.yaml", strings.ReplaceAll(r.Read("releases/REL-2026-0041/deployment.yaml"), "REL-2026-0041", "REL-2026-0043"))
				r.Commit("everything", who("wangfang"))
				approve(t, r, "REL-2026-0043", "go-live-approval", "--as", "zhangwei")
			}, want: []string{"blackout window 2027年春节保电期", "process-approver missing; who may give it: liuzhiqiang"}},
		{name: "R-5.1.10 a closed release changes only with the process approver",
			base: func(r *gitrepotest.Repo) {
				r.Write("releases/REL-2026-0041/closure.yaml", closure41)
			},
			change: func(t *testing.T, r *gitrepotest.Repo) {
				r.Edit("releases/REL-2026-0041/plan.yaml", "purpose: ", "purpose: 事后修改。")
				r.Commit("rewrite history", who("wangfang"))
			}, want: []string{"gate closed-release-change", "process-approver"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := prRepo(t, tc.base)
			tc.change(t, r)
			code, rep, text := gate(t, r)
			if tc.pass {
				wantPassed(t, code, text)
			} else {
				wantBlocked(t, code, text, tc.want...)
			}
			if rep.Passed != (code == 0) {
				t.Errorf("json passed=%v, exit %d", rep.Passed, code)
			}
		})
	}
}

const closure41 = `apiVersion: relgate.dev/v1
kind: Closure
release: REL-2026-0041
closedBy: sunlei
closedAt: "2026-10-20T10:00:00+08:00"
archived: [plan.yaml, test-report.yaml, deployment.yaml]
`

// TestGateSignedApprovals: with signatures required, an approval counts when
// the commit that added it is signed by a key the policy lists for that person,
// and a forged one (right name, no key) blocks the merge.
func TestGateSignedApprovals(t *testing.T) {
	maKey, maPub := gitrepotest.NewKey(t, "马晓东", "maxiaodong@grid-it.example.cn")
	zwKey, zwPub := gitrepotest.NewKey(t, "张伟", "zhangwei@grid-it.example.cn")
	evilKey, _ := gitrepotest.NewKey(t, "张伟", "zhangwei@grid-it.example.cn")
	hjKey, hjPub := gitrepotest.NewKey(t, "何军", "hejun@grid-it.example.cn")
	base := func(r *gitrepotest.Repo) {
		r.Edit("relgate.yaml", "trustCommitAuthor: true", "trustCommitAuthor: false")
		r.Edit("relgate.yaml", "    email: hejun@grid-it.example.cn\n", "    email: hejun@grid-it.example.cn\n    signingKeys:\n      - |\n"+indent(hjPub, "        "))
		r.Edit("relgate.yaml", "    email: maxiaodong@grid-it.example.cn\n", "    email: maxiaodong@grid-it.example.cn\n    signingKeys:\n      - |\n"+indent(maPub, "        "))
		r.Edit("relgate.yaml", "    email: zhangwei@grid-it.example.cn\n", "    email: zhangwei@grid-it.example.cn\n    signingKeys:\n      - |\n"+indent(zwPub, "        "))
	}
	tests := []struct {
		name   string
		zwKey  *openpgp.Entity
		forged bool
		pass   bool
		want   string
	}{
		{name: "both signed with their keys", zwKey: zwKey, pass: true},
		{name: "attack: zhangwei's approval unsigned", want: "carries no valid signature by a key the policy lists for zhangwei"},
		{name: "attack: zhangwei's approval signed by another key with his name", zwKey: evilKey, want: "not authenticated"},
		{name: "attack: forged by another person in zhangwei's name", forged: true, want: "not authenticated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := prRepo(t, base)
			// Once signatures are required, hejun's earlier unsigned approval
			// no longer counts: he signs it again.
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun", "--sign-key", writeKey(t, hjKey))
			keyFile := writeKey(t, maKey)
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--sign-key", keyFile)
			switch {
			case tc.forged:
				_, _, _ = run(t, "approve", "REL-2026-0043", "plan-review", "--repo", r.Dir, "--as", "zhangwei", "--now", "2026-11-25T10:00:00+08:00")
				r.Commit("approval", who("xuhui"))
			case tc.zwKey != nil && tc.pass:
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", writeKey(t, tc.zwKey))
			case tc.zwKey != nil:
				// --force: approve refuses to commit an approval it knows will not count.
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", writeKey(t, tc.zwKey), "--force")
			default:
				approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--force")
			}
			addGoLive(r)
			r.Commit("go-live plan", who("wangfang"))
			code, rep, text := gate(t, r)
			if tc.pass {
				wantPassed(t, code, text)
				if strings.Contains(text, "unauthenticated") {
					t.Errorf("signed policy still warns of unauthenticated approvals:\n%s", text)
				}
			} else {
				wantBlocked(t, code, text, tc.want)
			}
			_ = rep
			// git itself reads the signed commits relgate made.
			r.GitCLI("log", "--format=%H %G? %an", "-3")
		})
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

// TestGateFormats: the Markdown a check run shows and the annotations a
// GitHub Actions run makes, for a blocked change.
func TestGateFormats(t *testing.T) {
	r := prRepo(t, nil)
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
	r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 改。")
	addGoLive(r)
	r.Commit("go-live plan", who("wangfang"))
	_, md, _ := run(t, "gate", "--base", "main", r.Dir, "--format", "markdown")
	for _, want := range []string{"## relgate: ⛔ BLOCKED", "#### ⛔ `plan-review`", "| release-owner × 1 |", "**stale**"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	_, gh, _ := run(t, "gate", "--base", "main", r.Dir, "--format", "github")
	if !strings.Contains(gh, "::error file=") || !strings.Contains(gh, "releases/REL-2026-0043/release.yaml") || !strings.Contains(gh, "plan-review") {
		t.Errorf("annotations:\n%s", gh)
	}
	if code, _, errs := run(t, "gate", r.Dir); code != 2 || !strings.Contains(errs, "--base") {
		t.Errorf("gate without --base: exit %d %s", code, errs)
	}
}

// TestGateChangeRecord: change requests are decided in change management
// a pull request that edits changes/ needs the change manager,
// so nobody can mark their own change approved to pass plan review.
func TestGateChangeRecord(t *testing.T) {
	r := prRepo(t, nil)
	r.Edit("changes/CHG-2026-0105.yaml", "status: rejected", "status: approved")
	r.Commit("approve my own change", who("wangfang"))
	code, _, text := gate(t, r)
	wantBlocked(t, code, text, "gate change-record", "change-manager missing; who may give it: hejun")
	approve(t, r, "change-record", "--as", "hejun")
	code, _, text = gate(t, r)
	wantPassed(t, code, text)
	if _, d, _ := run(t, "digest", "change-record", r.Dir); !strings.HasPrefix(d, "sha256:") {
		t.Errorf("digest change-record: %q", d)
	}
}

// TestGateSSHSignedApprovals: approvals signed with SSH keys (git's
// gpg.format=ssh, as GitHub users commonly sign) authenticate against SSH
// public keys in the policy; another SSH key with the same name does not.
func TestGateSSHSignedApprovals(t *testing.T) {
	_, maPub, maPriv := gitrepotest.NewSSHKey(t)
	_, zwPub, zwPriv := gitrepotest.NewSSHKey(t)
	_, _, evilPriv := gitrepotest.NewSSHKey(t)
	_, hjPub, hjPriv := gitrepotest.NewSSHKey(t)
	base := func(r *gitrepotest.Repo) {
		r.Edit("relgate.yaml", "trustCommitAuthor: true", "trustCommitAuthor: false")
		r.Edit("relgate.yaml", "    email: hejun@grid-it.example.cn\n", "    email: hejun@grid-it.example.cn\n    signingKeys:\n      - "+hjPub+"\n")
		r.Edit("relgate.yaml", "    email: maxiaodong@grid-it.example.cn\n", "    email: maxiaodong@grid-it.example.cn\n    signingKeys:\n      - "+maPub+"\n")
		r.Edit("relgate.yaml", "    email: zhangwei@grid-it.example.cn\n", "    email: zhangwei@grid-it.example.cn\n    signingKeys:\n      - "+zwPub+"\n")
	}
	keyFile := func(pem string) string {
		p := filepath.Join(t.TempDir(), "id_ed25519")
		if err := os.WriteFile(p, []byte(pem), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		zwKey  string
		passes bool
	}{{"both signed with their SSH keys", zwPriv, true}, {"attack: zhangwei's approval signed with another SSH key", evilPriv, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := prRepo(t, base)
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "hejun", "--sign-key", keyFile(hjPriv))
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--sign-key", keyFile(maPriv))
			zw := []string{"REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", keyFile(tc.zwKey)}
			if !tc.passes {
				zw = append(zw, "--force") // approve refuses to commit an approval it knows will not count
			}
			approve(t, r, zw...)
			addGoLive(r)
			r.Commit("go-live plan", who("wangfang"))
			code, _, text := gate(t, r)
			if tc.passes {
				wantPassed(t, code, text)
			} else {
				wantBlocked(t, code, text, "not authenticated")
			}
		})
	}
	if code, out, _ := run(t, "validate", examples); code != 0 {
		t.Fatal(out)
	}
}
