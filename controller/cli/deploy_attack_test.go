package cli_test

// Adversarial tests of `relgate deploy-check` and of the records around it
// (issue 16). Each asserts the safe behaviour; one whose attack succeeds is
// skipped with "BYPASS:" and reported.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

const (
	rel42dir  = "releases/REL-2026-0042/"
	digest42p = "sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6"
)

var (
	sunlei = gitrepotest.Person{Name: "孙磊", Email: "sunlei@grid-it.example.cn"}
	lina   = gitrepotest.Person{Name: "李娜", Email: "lina@grid-it.example.cn"}
)

func failedIDs(d deploy.Decision) string {
	var ids []string
	for _, r := range d.Failed() {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ",")
}

// TestDeployAttackEdges: the edges of the release window and of a blackout
// window, the same instants written in other offsets, and artifacts dressed
// up to look like the tested ones.
func TestDeployAttackEdges(t *testing.T) {
	r := deployRepo(t, false)
	p41 := "payment-interface=3.1.4@sha256:f8ccda95cad409f0ceb249a927ed32ccfc6864d2f380b78732c4ef2bd36e4c48"
	tests := []struct {
		name    string
		args    []string
		code    int
		failed  string // rule ids, comma-separated ("" when allowed)
		contain string // a rule id that must be among the failed (when failed is "*")
	}{
		{name: "the window's first instant", args: []string{"--now", "2026-11-14T20:00:00+08:00"}, code: 0},
		{name: "the window's first instant in UTC", args: []string{"--now", "2026-11-14T12:00:00Z"}, code: 0},
		{name: "the window's first instant in another offset", args: []string{"--now", "2026-11-14T07:00:00-05:00"}, code: 0},
		{name: "a second before the window", args: []string{"--now", "2026-11-14T11:59:59Z"}, code: 1, failed: deploy.RuleWindow},
		{name: "a nanosecond before the window", args: []string{"--now", "2026-11-14T19:59:59.999999999+08:00"}, code: 1, failed: deploy.RuleWindow},
		{name: "the window's last second", args: []string{"--now", "2026-11-15T05:59:59+08:00"}, code: 0},
		{name: "the window's end exactly", args: []string{"--now", "2026-11-15T06:00:00+08:00"}, code: 1, failed: deploy.RuleWindow},
		{name: "the window's end in UTC", args: []string{"--now", "2026-11-14T22:00:00Z"}, code: 1, failed: deploy.RuleWindow},
		{name: "the window's end in a far offset", args: []string{"--now", "2026-11-15T11:00:00+13:00"}, code: 1, failed: deploy.RuleWindow},
		{name: "the blackout's first instant", args: []string{"--now", "2027-02-01T00:00:00+08:00"}, code: 1, failed: "*", contain: deploy.RuleFreeze},
		{name: "the blackout's first instant in UTC", args: []string{"--now", "2027-01-31T16:00:00Z"}, code: 1, failed: "*", contain: deploy.RuleFreeze},
		{name: "a time without an offset", args: []string{"--now", "2026-11-14T21:00:00"}, code: 2},
		{name: "a time in another format", args: []string{"--now", "2026-11-14 21:00:00+08:00"}, code: 2},
		{name: "an artifact twice, once untested", args: []string{"--now", inWindow42, "--artifact", payment42,
			"--artifact", "payment-interface=3.2.0@sha256:" + strings.Repeat("a", 64)}, code: 1, failed: deploy.RuleArtifacts},
		{name: "the previous release's artifact", args: []string{"--now", inWindow42, "--artifact", p41}, code: 1, failed: deploy.RuleArtifacts},
		{name: "a version with a trailing space", args: []string{"--now", inWindow42, "--artifact", "payment-interface=3.2.0 @" + digest42p}, code: 1, failed: deploy.RuleArtifacts},
		{name: "a version with a lookalike dot", args: []string{"--now", inWindow42, "--artifact", "payment-interface=3․2․0@" + digest42p}, code: 1, failed: deploy.RuleArtifacts},
		{name: "a version with a leading v", args: []string{"--now", inWindow42, "--artifact", "payment-interface=v3.2.0@" + digest42p}, code: 1, failed: deploy.RuleArtifacts},
		{name: "a digest with more hex", args: []string{"--now", inWindow42, "--artifact", payment42 + "00"}, code: 2},
		{name: "a digest of another algorithm", args: []string{"--now", inWindow42, "--artifact", "payment-interface=3.2.0@sha512:" + strings.Repeat("a", 128)}, code: 2},
		{name: "an item id with a lookalike letter", args: []string{"--now", inWindow42, "--artifact", "pаyment-interface=3.2.0@" + digest42p}, code: 2},
		{name: "an environment with a trailing space", args: []string{"--now", inWindow42, "--env", "production "}, code: 1, failed: deploy.RuleEnvironment},
		{name: "an environment given twice, the last ungated", args: []string{"--now", inWindow42, "--env", "production", "--env", "staging"}, code: 1, failed: deploy.RuleEnvironment},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"REL-2026-0042", "--env", "production", "--lang", "en"}, tc.args...)
			if tc.code == 2 {
				if code, out, errs := run(t, append([]string{"deploy-check", r.Dir}, args...)...); code != 2 {
					t.Fatalf("exit %d, want a usage error (2)\n%s%s", code, out, errs)
				}
				return
			}
			code, d, text := deployCheck(t, r.Dir, args...)
			if code != tc.code || d.Allowed != (tc.code == 0) {
				t.Fatalf("exit %d allowed %v, want exit %d\n%s", code, d.Allowed, tc.code, text)
			}
			got := failedIDs(d)
			switch tc.failed {
			case "*":
				if !strings.Contains(","+got+",", ","+tc.contain+",") {
					t.Errorf("refused by %s, want %s among them\n%s", got, tc.contain, text)
				}
			default:
				if got != tc.failed {
					t.Errorf("refused by %q, want %q\n%s", got, tc.failed, text)
				}
			}
		})
	}
}

// TestDeployAttackTamperedHead: changes pushed to the branch after the
// go-live approval, without new approvals, must not open the gate: a longer
// window, a new digest put in both release.yaml and the test report, a
// policy that lifts the freeze without gate policy-change.
func TestDeployAttackTamperedHead(t *testing.T) {
	newDigest := "sha256:" + strings.Repeat("b", 64)
	for _, tc := range []struct {
		name   string
		tamper func(r *gitrepotest.Repo)
		args   []string
		want   string // a rule id among the failed
	}{
		{name: "the window stretched by a week",
			tamper: func(r *gitrepotest.Repo) {
				r.Edit(rel42dir+"release.yaml", `end: "2026-11-15T06:00:00+08:00"`, `end: "2026-11-22T06:00:00+08:00"`)
			},
			args: []string{"--now", "2026-11-18T22:00:00+08:00"}, want: deploy.RuleGoLive},
		{name: "a new digest in release.yaml and the test report",
			tamper: func(r *gitrepotest.Repo) {
				r.Edit(rel42dir+"release.yaml", digest42p, newDigest)
				r.Edit(rel42dir+"test-report.yaml", digest42p, newDigest)
			},
			args: []string{"--now", inWindow42, "--artifact", "payment-interface=3.2.0@" + newDigest}, want: deploy.RuleGoLive},
		{name: "a new digest added to the test report only",
			tamper: func(r *gitrepotest.Repo) {
				r.Edit(rel42dir+"test-report.yaml", "artifacts:\n", "artifacts:\n  - item: payment-interface\n    version: \"3.2.0\"\n    digest: "+newDigest+"\n")
			},
			args: []string{"--now", inWindow42, "--artifact", "payment-interface=3.2.0@" + newDigest}, want: deploy.RuleArtifacts},
		{name: "the freeze lifted without gate policy-change",
			tamper: func(r *gitrepotest.Repo) {
				r.Edit("relgate.yaml", `end: "2027-02-14T23:59:59+08:00"`, `end: "2027-02-01T00:00:01+08:00"`)
			},
			args: []string{"--now", "2027-02-05T10:00:00+08:00"}, want: deploy.RuleFreeze},
		{name: "an unreadable deployment record",
			tamper: func(r *gitrepotest.Repo) {
				r.Write(rel42dir+"deployment.yaml", "apiVersion: relgate.dev/v1\nkind: Deployment\nrelease: REL-2026-0042\noutcome: maybe\n")
			},
			args: []string{"--now", inWindow42}, want: "*"},
		{name: "a deployment record that is not YAML",
			tamper: func(r *gitrepotest.Repo) {
				r.Write(rel42dir+"deployment.yaml", "{{{{ not yaml\n")
			},
			args: []string{"--now", inWindow42}, want: "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := deployRepo(t, false)
			tc.tamper(r)
			r.Commit("tamper", lina)
			code, d, text := deployCheck(t, r.Dir, append([]string{"REL-2026-0042", "--env", "production", "--lang", "en"}, tc.args...)...)
			if code == 0 || d.Allowed {
				t.Fatalf("allowed after the tampering:\n%s", text)
			}
			if got := failedIDs(d); tc.want != "*" && !strings.Contains(","+got+",", ","+tc.want+",") {
				t.Errorf("refused by %s, want %s among them\n%s", got, tc.want, text)
			}
		})
	}
}

// TestDeployAttackConflictFailsOpen: a conflicting release approved for the
// same window on the same system, whose release.yaml a later commit breaks
// (an unreadable window), still blocks: what cannot be read is not "no
// conflict".
func TestDeployAttackConflictFailsOpen(t *testing.T) {
	r := deployRepo(t, true)
	r.Edit("releases/REL-2026-0044/release.yaml", `start: "2026-11-14T20:00:00+08:00"`, `start: "2026-11-14 20:00"`)
	r.Commit("break 0044's window", lina)
	code, d, text := deployCheck(t, r.Dir, "REL-2026-0042", "--env", "production", "--now", inWindow42, "--lang", "en")
	if code == 0 || d.Allowed {
		t.Fatalf("allowed while REL-2026-0044, approved for the same system, has an unreadable window:\n%s", text)
	}
}

// TestDeployAttackForgedRecords: a person's commit that writes deployment.yaml
// as a receipt in the bot's name, or adds an "allowed" entry to the bot's
// deployment log, is flagged by status and by audit verify, and the forged
// receipt does not count as the bot's.
func TestDeployAttackForgedRecords(t *testing.T) {
	receipt := "apiVersion: relgate.dev/v1\nkind: Deployment\nrelease: REL-2026-0042\nrecordedBy: relgate-bot\n" +
		"startedAt: \"2026-11-14T21:00:00+08:00\"\nfinishedAt: \"2026-11-14T22:00:00+08:00\"\noutcome: succeeded\ndeployed:\n" +
		"  - item: payment-interface\n    version: \"3.2.0\"\n    digest: " + digest42p + "\n" +
		"  - item: marketing-app-server\n    version: \"5.7.0\"\n    digest: sha256:9ea24af1be33fbbf6a5fdee7eb2121bb2d0bfb690f399c6faadf382206f5502d\n" +
		"problems: []\nreceipt:\n  source: github-deployment\n  run: https://github.com/grid-it/releases/actions/runs/1\n  environment: production\n  deploymentId: 1\n"
	log := "apiVersion: relgate.dev/v1\nkind: DeploymentLog\nrelease: REL-2026-0042\ndecisions:\n" +
		"  - key: github/1/1\n    at: \"2026-11-14T21:00:00+08:00\"\n    environment: production\n    allowed: true\n    source: github\n" +
		"    deploymentId: 1\n    revision: 0000000000000000000000000000000000000000\n    artifacts: []\n"
	t.Run("a receipt in the bot's name", func(t *testing.T) {
		r := deployRepo(t, false)
		r.Write(rel42dir+"deployment.yaml", receipt)
		forged := r.Commit("record the deployment", sunlei)
		code, out, errs := run(t, "status", "REL-2026-0042", r.Dir, "--format", "json")
		if !strings.Contains(out, `"receipt-authentic"`) {
			t.Fatalf("status (exit %d) does not judge the receipt:\n%s%s", code, out, errs)
		}
		var st any
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatal(err)
		}
		if !checkFailed(st, "receipt-authentic") {
			t.Errorf("status takes a person's receipt in the bot's name as the bot's:\n%s", out)
		}
		wantVerifyFlags(t, r, forged)
	})
	t.Run("an allowed entry in the deployment log", func(t *testing.T) {
		r := deployRepo(t, false)
		r.Write("reports/deployments/REL-2026-0042.yaml", log)
		forged := r.Commit("log", sunlei)
		wantVerifyFlags(t, r, forged)
	})
}

// checkFailed finds a check of that name with ok false anywhere in v.
func checkFailed(v any, name string) bool {
	switch x := v.(type) {
	case map[string]any:
		if x["name"] == name && x["ok"] == false {
			return true
		}
		for _, c := range x {
			if checkFailed(c, name) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if checkFailed(c, name) {
				return true
			}
		}
	}
	return false
}

func wantVerifyFlags(t *testing.T, r *gitrepotest.Repo, commit string) {
	t.Helper()
	code, out, errs := run(t, "audit", "verify", r.Dir, "--branch", "master", "--state", "-", "--format", "json")
	if code == 2 {
		code, out, errs = run(t, "audit", "verify", r.Dir, "--branch", strings.TrimSpace(r.GitCLI("branch", "--show-current")), "--state", "-", "--format", "json")
	}
	if code == 0 || !strings.Contains(out, commit[:12]) {
		t.Errorf("audit verify (exit %d) does not flag the forged commit %.12s:\n%s%s", code, commit, out, errs)
	}
}
