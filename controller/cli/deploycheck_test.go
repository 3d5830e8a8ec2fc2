package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

const (
	payment42   = "payment-interface=3.2.0@sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6"
	marketing42 = "marketing-app-server=5.7.0@sha256:9ea24af1be33fbbf6a5fdee7eb2121bb2d0bfb690f399c6faadf382206f5502d"
	inWindow42  = "2026-11-14T21:00:00+08:00"
)

// deployRepo is the example's lawful history, replayed, as it stood before
// REL-2026-0042 was deployed: 0042 is approved to go live (ready-to-deploy).
// With twin, REL-2026-0044 is 0042's twin, approved for an overlapping
// window on the same system and items: the two conflict.
func deployRepo(t *testing.T, twin bool) *gitrepotest.Repo {
	t.Helper()
	return deployRepoWith(t, twin, nil)
}

// deployRepoWith is deployRepo with the example source changed by prepare
// before it is replayed.
func deployRepoWith(t *testing.T, twin bool, prepare func(src string)) *gitrepotest.Repo {
	t.Helper()
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	rel42 := filepath.Join(src, "releases", "REL-2026-0042")
	for _, f := range []string{"deployment.yaml", "approvals/deployment-confirmation.huangli.yaml", "approvals/deployment-confirmation.lina.yaml"} {
		if err := os.Remove(filepath.Join(rel42, f)); err != nil {
			t.Fatal(err)
		}
	}
	if twin {
		// Twins overlap on their systems and items: each went live with the
		// calendar's exception, the process approver's.
		code, out, errs := run(t, "digest", "REL-2026-0042", "go-live-approval", src)
		if code != 0 {
			t.Fatalf("digest: %s", errs)
		}
		ap := "apiVersion: relgate.dev/v1\nkind: Approval\nrelease: REL-2026-0042\ngate: go-live-approval\nperson: liuzhiqiang\nrole: process-approver\n" +
			"decision: approve\ndigest: " + strings.TrimSpace(out) + "\nat: \"2026-11-12T10:00:00+08:00\"\ncomment: 两个发布窗口重叠，已协调先后顺序，同意。\n"
		if err := os.WriteFile(filepath.Join(rel42, "approvals", "go-live-approval.liuzhiqiang.yaml"), []byte(ap), 0o644); err != nil {
			t.Fatal(err)
		}
		rel44 := filepath.Join(src, "releases", "REL-2026-0044")
		if err := os.CopyFS(rel44, os.DirFS(rel42)); err != nil {
			t.Fatal(err)
		}
		err := filepath.WalkDir(rel44, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := strings.ReplaceAll(string(b), "REL-2026-0042", "REL-2026-0044")
			s = strings.ReplaceAll(s, "营销系统电费结算接口改造", "营销系统电费结算接口改造（并行）")
			return os.WriteFile(p, []byte(s), 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Its approvals bind to its own documents' digests.
		approvals, err := filepath.Glob(filepath.Join(rel44, "approvals", "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range approvals {
			gateID, _, _ := strings.Cut(filepath.Base(p), ".")
			code, out, errs := run(t, "digest", "REL-2026-0044", gateID, src)
			if code != 0 {
				t.Fatalf("digest %s: %s", gateID, errs)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			s := regexp.MustCompile(`(?m)^digest: .*$`).ReplaceAllString(string(b), "digest: "+strings.TrimSpace(out))
			if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if prepare != nil {
		prepare(src)
	}
	r := gitrepotest.New(t)
	if err := gen.Replay(src, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	return r
}

func deployCheck(t *testing.T, dir string, args ...string) (int, deploy.Decision, string) {
	t.Helper()
	code, out, errs := run(t, append([]string{"deploy-check", dir, "--format", "json"}, args...)...)
	var d deploy.Decision
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("deploy-check output is not a decision: %v\n%s%s", err, out, errs)
	}
	_, text, _ := run(t, append([]string{"deploy-check", dir}, args...)...)
	return code, d, text + errs
}

// TestDeployCheck: the deployment gate through the CLI, as a GitLab job or
// a Jenkins stage would call it. The everyday deployment passes; each rule
// refuses the deployment it exists to stop, with its reason (R-3.1, R-5.1.5,
//
func TestDeployCheck(t *testing.T) {
	r := deployRepo(t, false)
	tests := []struct {
		name    string
		args    []string
		allowed bool
		failed  []string // rule ids that refuse it
		want    string   // in the text output
	}{
		{name: "lawful: the tested artifacts inside the window",
			args:    []string{"REL-2026-0042", "--env", "production", "--artifact", payment42, "--artifact", marketing42, "--now", inWindow42},
			allowed: true, want: "ALLOWED REL-2026-0042 → production"},
		{name: "lawful: no artifact named, the release's items stand in",
			args:    []string{"REL-2026-0042", "--env", "production", "--now", inWindow42},
			allowed: true, want: "✓ artifacts (R-3.1)"},
		{name: "lawful: one of the two artifacts (a phased go-live)",
			args:    []string{"REL-2026-0042", "--env", "production", "--artifact", payment42, "--now", inWindow42},
			allowed: true},
		{name: "attack R-3.1: an untested digest",
			args:   []string{"REL-2026-0042", "--env", "production", "--artifact", "payment-interface=3.2.0@sha256:" + strings.Repeat("0", 64), "--now", inWindow42},
			failed: []string{deploy.RuleArtifacts}, want: "is not what release.yaml installs"},
		{name: "attack R-3.1: a version the release does not install",
			args:   []string{"REL-2026-0042", "--env", "production", "--artifact", "payment-interface=3.1.4@sha256:f8ccda95cad409f0ceb249a927ed32ccfc6864d2f380b78732c4ef2bd36e4c48", "--now", inWindow42},
			failed: []string{deploy.RuleArtifacts}, want: "payment-interface 3.1.4"},
		{name: "attack R-5.1.5: before the window",
			args:   []string{"REL-2026-0042", "--env", "production", "--now", "2026-11-14T19:59:59+08:00"},
			failed: []string{deploy.RuleWindow}, want: "has not begun"},
		{name: "attack R-5.1.5: after the window",
			args:   []string{"REL-2026-0042", "--env", "production", "--now", "2026-11-15T06:00:00+08:00"},
			failed: []string{deploy.RuleWindow}, want: "is over"},
		{name: "attack R-5.1.6: inside the Spring Festival blackout",
			args:   []string{"REL-2026-0042", "--env", "production", "--now", "2027-02-05T10:00:00+08:00"},
			failed: []string{deploy.RuleWindow, deploy.RuleFreeze}, want: "2027年春节保电期"},
		{name: "attack R-5.1.6: a release still in plan review",
			args:   []string{"REL-2026-0043", "--env", "production", "--now", "2026-11-28T23:00:00+08:00"},
			failed: []string{deploy.RuleGoLive, deploy.RuleArtifacts}, want: "the go-live approval has not passed (the release is in plan-review)"},
		{name: "attack R-5.1.8: a release already deployed",
			args:   []string{"REL-2026-0041", "--env", "production", "--now", "2026-10-17T23:00:00+08:00"},
			failed: []string{deploy.RuleNotDeployed}, want: "a deployment is already recorded (succeeded"},
		{name: "attack R-3.3: a release that does not exist",
			args:   []string{"REL-2026-9999", "--env", "production", "--now", inWindow42},
			failed: []string{deploy.RuleRelease}, want: "release \"REL-2026-9999\" does not exist"},
		{name: "attack: an environment the policy does not gate, spelt otherwise",
			args:   []string{"REL-2026-0042", "--env", "Production", "--now", inWindow42},
			failed: []string{deploy.RuleEnvironment}, want: "is not one the policy gates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, d, text := deployCheck(t, r.Dir, append(tc.args, "--lang", "en")...)
			wantCode := 1
			if tc.allowed {
				wantCode = 0
			}
			if code != wantCode || d.Allowed != tc.allowed {
				t.Fatalf("exit %d, allowed %v; want exit %d\n%s", code, d.Allowed, wantCode, text)
			}
			var failed []string
			for _, f := range d.Failed() {
				failed = append(failed, f.ID)
			}
			if strings.Join(failed, ",") != strings.Join(tc.failed, ",") {
				t.Errorf("refused by %v, want %v\n%s", failed, tc.failed, text)
			}
			if !strings.Contains(text, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, text)
			}
			if d.APIVersion != "relgate.dev/v1" || d.Kind != "DeploymentDecision" || !strings.HasPrefix(d.Revision, r.GitCLI("rev-parse", "HEAD")[:12]) {
				t.Errorf("decision header: %s %s at %s, want relgate.dev/v1 DeploymentDecision at HEAD", d.APIVersion, d.Kind, d.Revision)
			}
		})
	}
}

// TestDeployCheckConflict: two releases approved to go live on the same
// system and items in overlapping windows: neither may deploy while the
// other is approved and unrecorded; each names the other.
func TestDeployCheckConflict(t *testing.T) {
	r := deployRepo(t, true)
	for rel, other := range map[string]string{"REL-2026-0042": "REL-2026-0044", "REL-2026-0044": "REL-2026-0042"} {
		code, d, text := deployCheck(t, r.Dir, rel, "--env", "production", "--now", inWindow42, "--lang", "en")
		if code != 1 || d.State != "ready-to-deploy" {
			t.Fatalf("%s: exit %d, state %s; want refused while ready-to-deploy\n%s", rel, code, d.State, text)
		}
		if f := d.Failed(); len(f) != 1 || f[0].ID != deploy.RuleConflict || !strings.Contains(f[0].Message, other+" (营销业务应用系统, payment-interface, marketing-app-server)") {
			t.Errorf("%s: refused by %+v, want only the conflict with %s", rel, f, other)
		}
	}
}

// TestDeployCheckFailsClosed: what cannot be evaluated never passes: exit 2,
// and in JSON a refused decision naming the evaluation rule.
func TestDeployCheckFailsClosed(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "deploy-check", "REL-2026-0042", "--env", "production", dir, "--format", "json")
	var d deploy.Decision
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("no decision on stdout: %v\n%s%s", err, out, errs)
	}
	if code != 2 || d.Allowed || len(d.Rules) != 1 || d.Rules[0].ID != deploy.RuleEvaluation {
		t.Errorf("exit %d, decision %+v; want exit 2 and a refusal by %q", code, d, deploy.RuleEvaluation)
	}
	for _, bad := range [][]string{
		{"REL-2026-0042", "--env", "production", "--artifact", "payment-interface=3.2.0"},
		{"REL-2026-0042", "--env", "production", "--artifact", "Payment=3.2.0@sha256:" + strings.Repeat("a", 64)},
		{"REL-2026-0042"},
		{"--env", "production"},
	} {
		if code, _, errs := run(t, append([]string{"deploy-check", dir}, bad...)...); code != 2 || errs == "" {
			t.Errorf("deploy-check %v: exit %d (%q), want a usage error", bad, code, errs)
		}
	}
}

// TestDeployCheckChinese: the reasons in the policy's language (zh).
func TestDeployCheckChinese(t *testing.T) {
	r := deployRepo(t, false)
	code, d, text := deployCheck(t, r.Dir, "REL-2026-0042", "--env", "production", "--now", "2026-11-14T19:00:00+08:00")
	if code != 1 || d.Lang != "zh" || !strings.Contains(text, "拒绝 REL-2026-0042") || !strings.Contains(text, "尚未开始；请在窗口内部署") {
		t.Errorf("exit %d lang %s:\n%s", code, d.Lang, text)
	}
}

// TestDeployCheckBlackoutException: a release whose window falls in a
// blackout went live with the process approver's approval as well:
// it may deploy inside that blackout. Without that approval it could not have
// passed its go-live approval, and the freeze stops every other deployment.
func TestDeployCheckBlackoutException(t *testing.T) {
	r := deployRepoWith(t, false, func(src string) {
		pol := filepath.Join(src, "relgate.yaml")
		b, err := os.ReadFile(pol)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(b), `start: "2027-02-01T00:00:00+08:00"`, `start: "2026-11-14T00:00:00+08:00"`, 1)
		if err := os.WriteFile(pol, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := run(t, "digest", "REL-2026-0042", "go-live-approval", src)
		if code != 0 {
			t.Fatalf("digest: %s", errs)
		}
		ap := "apiVersion: relgate.dev/v1\nkind: Approval\nrelease: REL-2026-0042\ngate: go-live-approval\nperson: liuzhiqiang\nrole: process-approver\n" +
			"decision: approve\ndigest: " + strings.TrimSpace(out) + "\nat: \"2026-11-12T10:00:00+08:00\"\ncomment: 保电期内上线，已评估风险，同意。\n"
		if err := os.WriteFile(filepath.Join(src, "releases", "REL-2026-0042", "approvals", "go-live-approval.liuzhiqiang.yaml"), []byte(ap), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	code, d, text := deployCheck(t, r.Dir, "REL-2026-0042", "--env", "production", "--now", inWindow42, "--lang", "en")
	if code != 0 || !strings.Contains(text, "which the exception approver approved for this release") {
		t.Fatalf("the approved exception must deploy: exit %d\n%s", code, text)
	}
	if d.State != "ready-to-deploy" {
		t.Fatalf("state %s", d.State)
	}
}

// TestDeployCheckConflictWhileDeploying: a release the gate allowed and that
// has no deployment record yet is deploying, even if its approval went stale
// since: another release on the same system waits.
func TestDeployCheckConflictWhileDeploying(t *testing.T) {
	r := deployRepo(t, true)
	r.Edit("releases/REL-2026-0044/plan.yaml", "purpose: ", "purpose: （修订）")
	r.Commit("revise the plan of 0044", gitrepotest.Person{Name: "lina", Email: "lina@grid-it.example.cn"})
	if _, d, text := deployCheck(t, r.Dir, "REL-2026-0042", "--env", "production", "--now", inWindow42, "--lang", "en"); !d.Allowed {
		t.Fatalf("with 0044's approvals stale and nothing logged, 0042 deploys:\n%s", text)
	}
	log := "apiVersion: relgate.dev/v1\nkind: DeploymentLog\nrelease: REL-2026-0044\ndecisions:\n" +
		"  - key: github/7/7\n    at: \"2026-11-14T20:30:00+08:00\"\n    environment: production\n    allowed: true\n    source: github\n" +
		"    deploymentId: 7\n    revision: 0000000000000000000000000000000000000000\n    artifacts: []\n"
	r.Write("reports/deployments/REL-2026-0044.yaml", log)
	r.Commit("deployment of REL-2026-0044 to production allowed", gitrepotest.Person{Name: "relgate-bot", Email: "relgate-bot@grid-it.example.cn"})
	code, d, text := deployCheck(t, r.Dir, "REL-2026-0042", "--env", "production", "--now", inWindow42, "--lang", "en")
	if code != 1 || len(d.Failed()) != 1 || d.Failed()[0].ID != deploy.RuleConflict || !strings.Contains(text, "REL-2026-0044") {
		t.Fatalf("exit %d, want a conflict with the deploying REL-2026-0044\n%s", code, text)
	}
}
