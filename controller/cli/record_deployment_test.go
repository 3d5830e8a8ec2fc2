package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/present"
)

const deployment42 = "releases/REL-2026-0042/deployment.yaml"

// recordArgs is a CI's record of REL-2026-0042's everyday deployment.
func recordArgs(dir string, extra ...string) []string {
	return append([]string{"record-deployment", "REL-2026-0042", dir,
		"--artifact", payment42, "--artifact", marketing42, "--outcome", "succeeded", "--recorded-by", "sunlei",
		"--started", "2026-11-14T21:05:00+08:00", "--finished", "2026-11-14T23:30:00+08:00",
		"--run", "https://gitlab.grid-it.example.cn/marketing/pay/-/pipelines/812",
		"--problem", "接口切换后 3 笔对账延迟 => 手工重发对账文件"}, extra...)
}

func commits(r interface{ GitCLI(...string) string }) int {
	return len(strings.Split(strings.TrimSpace(r.GitCLI("log", "--oneline")), "\n"))
}

// TestRecordDeployment: a CI records its deployment of a release that is
// ready to deploy. The record is written and committed by the
// implementer, is valid, and the release is deployed; running the same
// command again changes nothing; a different record is refused and the
// first stays as it was.
func TestRecordDeployment(t *testing.T) {
	r := deployRepo(t, false)
	before := commits(r)
	code, out, errs := run(t, recordArgs(r.Dir, "--commit")...)
	if code != 0 {
		t.Fatalf("record-deployment: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "wrote "+deployment42) || !strings.Contains(out, "committed ") {
		t.Errorf("output: %s", out)
	}
	if got := commits(r); got != before+1 {
		t.Errorf("%d commits after the record, want %d", got, before+1)
	}
	if author := strings.TrimSpace(r.GitCLI("log", "-1", "--format=%ae", "--", deployment42)); author != "sunlei@grid-it.example.cn" {
		t.Errorf("committed by %s, want the implementer who records it", author)
	}
	written := r.Read(deployment42)
	for _, want := range []string{"recordedBy: sunlei", "outcome: succeeded", "source: ci", "pipelines/812", `version: "3.2.0"`,
		"description: 接口切换后 3 笔对账延迟", "solution: 手工重发对账文件", "Written by relgate from the pipeline's report"} {
		if !strings.Contains(written, want) {
			t.Errorf("deployment.yaml lacks %q:\n%s", want, written)
		}
	}
	if code, out, errs := run(t, "validate", r.Dir); code != 0 {
		t.Errorf("validate after the record: exit %d\n%s%s", code, out, errs)
	}
	_, js, _ := run(t, "status", "REL-2026-0042", r.Dir, "--format", "json")
	var rep present.StatusReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil || len(rep.Releases) != 1 || rep.Releases[0].State != "deployed" {
		t.Errorf("status: %v %s", err, js)
	}

	// The same record again (a retried CI job): nothing new.
	if code, out, errs := run(t, recordArgs(r.Dir, "--commit")...); code != 0 || !strings.Contains(out, "already records") {
		t.Errorf("replay: exit %d\n%s%s", code, out, errs)
	}
	if got := commits(r); got != before+1 {
		t.Errorf("the replay committed: %d commits, want %d", got, before+1)
	}

	// A different record: refused, nothing overwritten.
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"R-5.1.8: another outcome", []string{"record-deployment", "REL-2026-0042", r.Dir, "--artifact", payment42, "--outcome", "failed", "--recorded-by", "zhouhao", "--finished", "2026-11-15T01:00:00+08:00"}},
		{"R-3.1: another digest", recordArgs(r.Dir, "--artifact", "oracle-db-marketing=19.21@sha256:"+strings.Repeat("a", 64))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, tc.args...)
			if code != 1 || !strings.Contains(errs, "already has a deployment record") {
				t.Errorf("exit %d, want 1 (refused)\n%s%s", code, out, errs)
			}
			if r.Read(deployment42) != written {
				t.Errorf("the record was overwritten")
			}
		})
	}
}

// TestRecordDeploymentRefused: what cannot be a record is refused before
// anything is written: a usage error (2) for malformed flags, a refusal (1)
// for a recorder who is not an implementer or a release that does not exist.
func TestRecordDeploymentRefused(t *testing.T) {
	r := deployRepo(t, false)
	base := func(drop string, extra ...string) []string {
		args := recordArgs(r.Dir)
		for i := 0; i < len(args); i++ {
			if args[i] == drop {
				args = append(args[:i:i], args[i+2:]...)
				break
			}
		}
		return append(args, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no outcome", base("--outcome"), 2, "--outcome"},
		{"unknown outcome", base("--outcome", "--outcome", "partial"), 2, "--outcome"},
		{"no recorder", base("--recorded-by"), 2, "--recorded-by"},
		{"malformed artifact", base("", "--artifact", "payment-interface=3.2.0"), 2, "--artifact"},
		{"artifact given twice", base("", "--artifact", payment42), 2, "twice"},
		{"problem without solution", base("", "--problem", "只有描述"), 2, "DESCRIPTION => SOLUTION"},
		{"bad time", base("--finished", "--finished", "yesterday"), 2, "RFC 3339"},
		{"finishes before it starts", base("--finished", "--finished", "2026-11-14T20:00:00+08:00"), 2, "before it starts"},
		{"run URL over 2048 bytes", base("--run", "--run", "https://x/"+strings.Repeat("a", 2048)), 2, "run URL"},
		{"R-5.1.8: recorder is not an implementer", base("--recorded-by", "--recorded-by", "wangfang"), 1, "implementer"},
		{"recorder unknown", base("--recorded-by", "--recorded-by", "mallory"), 2, "not a person"},
		{"unknown release", append([]string{"record-deployment", "REL-2026-0099"}, base("")[2:]...), 1, "does not exist"},
		{"not a release id", append([]string{"record-deployment", "../etc"}, base("")[2:]...), 2, "release id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", code, tc.code, tc.want, out, errs)
			}
			if st := strings.TrimSpace(r.GitCLI("status", "--porcelain")); st != "" {
				t.Errorf("something was written: %s", st)
			}
		})
	}
}

// TestRecordDeploymentInBotsName: attack: a person's pull request
// adds a deployment record in the bot's name, as if the pipeline had
// reported it. The gate refuses it (receipt-authentic): only the bot's own
// commit writes a receipt.
func TestRecordDeploymentInBotsName(t *testing.T) {
	r := deployRepo(t, false)
	r.Checkout("pr", true)
	if code, out, errs := run(t, recordArgs(r.Dir)...); code != 0 {
		t.Fatalf("record-deployment: exit %d\n%s%s", code, out, errs)
	}
	r.Edit(deployment42, "recordedBy: sunlei", "recordedBy: relgate-bot")
	r.Commit("REL-2026-0042: record the succeeded deployment to production from the pipeline's report", who("sunlei"))
	if code, out, errs := run(t, "validate", r.Dir); code != 0 {
		t.Fatalf("the forged receipt must be schema-valid for the attack to matter: exit %d\n%s%s", code, out, errs)
	}
	code, rep, text := gate(t, r)
	wantBlocked(t, code, text, "no authenticated commit of the bot", "(R-5.1.8)")
	found := false
	for _, rg := range rep.Releases {
		for _, g := range rg.Gates {
			for _, c := range g.Checks {
				found = found || c.Name == "receipt-authentic" && !c.OK
			}
		}
		for _, p := range rg.Problems {
			found = found || strings.Contains(p, "no authenticated commit of the bot")
		}
	}
	if !found {
		t.Errorf("no failed receipt-authentic in the report: %+v", rep.Releases)
	}
}
