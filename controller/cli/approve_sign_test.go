package cli_test

// Tests of `relgate approve` as a person runs it (issue 12): it signs as
// git's configuration says (commit.gpgsign, gpg.format, user.signingkey),
// refuses with --commit to record an approval that will not count (and
// warns without), and a second identical run has nothing to do. Through the
// CLI on real git repositories; the git CLI sets the configuration and
// checks that git itself accepts the signatures relgate makes.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/present"
)

const apsNow = "2026-11-25T10:00:00+08:00"

// apsCounted reports who the status of REL-2026-0043 counts for plan-review.
func apsCounted(t *testing.T, r *gitrepotest.Repo) []string {
	t.Helper()
	code, out, errs := run(t, "status", "REL-2026-0043", r.Dir, "--format", "json")
	if code == 2 {
		t.Fatalf("status: exit 2: %s", errs)
	}
	var rep present.StatusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Releases) != 1 {
		t.Fatalf("status output: %v\n%s", err, out)
	}
	g, _ := rep.Releases[0].Gate("plan-review")
	var who []string
	for _, q := range g.Requirements {
		who = append(who, q.Approved...)
	}
	return who
}

func TestApproveSigning(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "")
	_, zwPub, zwPriv := gitrepotest.NewSSHKey(t)
	_, _, otherPriv := gitrepotest.NewSSHKey(t)
	// signed: the policy requires signatures and lists zhangwei's SSH key
	// (nobody else's).
	signed := func(r *gitrepotest.Repo) {
		r.Edit("relgate.yaml", "trustCommitAuthor: true", "trustCommitAuthor: false")
		r.Edit("relgate.yaml", "    email: zhangwei@grid-it.example.cn\n", "    email: zhangwei@grid-it.example.cn\n    signingKeys:\n      - "+zwPub+"\n")
	}
	// ownsRelease: wangfang, who wrote REL-2026-0043's documents, is its owner.
	ownsRelease := func(r *gitrepotest.Repo) {
		r.Edit("relgate.yaml", "  release-owner:\n    - zhangwei", "  release-owner:\n    - zhangwei\n    - wangfang")
		r.Edit(rel43+"/release.yaml", "owner: zhangwei", "owner: wangfang")
	}
	writeFile := func(t *testing.T, p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sshConfig := func(scope, key string) func(t *testing.T, r *gitrepotest.Repo) {
		return func(t *testing.T, r *gitrepotest.Repo) {
			for _, kv := range [][2]string{{"commit.gpgsign", "true"}, {"gpg.format", "ssh"}, {"user.signingkey", key}} {
				r.GitCLI(append(strings.Fields(scope), kv[0], kv[1])...)
			}
		}
	}
	home := func() string { return os.Getenv("HOME") }
	tests := []struct {
		name  string
		base  func(r *gitrepotest.Repo)
		setup func(t *testing.T, r *gitrepotest.Repo)
		args  []string
		code  int
		// out and errs must appear in stdout and stderr; quiet: stderr is empty.
		out, errs []string
		quiet     bool
		// committed: a new commit, signed by git's standard when verify.
		committed, verify bool
		written           bool // the approval file is in the work tree
		counted           string
		recordedInHead    bool
	}{
		{name: "everyday: ssh key from global git config (a private key under ~), identity from user.email",
			base: signed,
			setup: func(t *testing.T, r *gitrepotest.Repo) {
				writeFile(t, filepath.Join(home(), ".ssh", "id_ed25519"), zwPriv)
				sshConfig("config --global", "~/.ssh/id_ed25519")(t, r)
				r.GitCLI("config", "--global", "user.email", "zhangwei@grid-it.example.cn")
			},
			args: []string{"--commit"}, out: []string{"committed ", "signed with SSH key SHA256:"}, quiet: true,
			committed: true, verify: true, written: true, counted: "zhangwei"},
		{name: "everyday: repository git config naming the public key, private key beside it",
			base: signed,
			setup: func(t *testing.T, r *gitrepotest.Repo) {
				p := filepath.Join(t.TempDir(), "zw")
				writeFile(t, p, zwPriv)
				writeFile(t, p+".pub", zwPub+"\n")
				sshConfig("config", p+".pub")(t, r)
			},
			args: []string{"--as", "zhangwei", "--commit"}, quiet: true,
			committed: true, verify: true, written: true, counted: "zhangwei"},
		{name: "everyday: authorship trusted, no key, role held, not an author",
			args: []string{"--as", "zhangwei", "--commit"}, out: []string{"committed "}, quiet: true,
			committed: true, written: true, counted: "zhangwei"},
		{name: "everyday without --commit: git config will sign with a listed key",
			base:  signed,
			setup: sshConfig("config", "key::"+zwPub),
			args:  []string{"--as", "zhangwei"}, out: []string{"wrote releases/REL-2026-0043/approvals/plan-review.zhangwei.yaml"}, quiet: true,
			written: true},
		{name: "ssh key:: literal: relgate does not use ssh-agent",
			base:  signed,
			setup: sshConfig("config", "key::"+zwPub),
			args:  []string{"--as", "zhangwei", "--commit"}, code: 1,
			errs: []string{"approval not recorded", "user.signingkey is a key:: literal", "ssh-agent", "--sign-key FILE"}},
		{name: "commit.gpgsign with an openpgp key id in a gpg keyring: refused, whatever the policy",
			setup: func(t *testing.T, r *gitrepotest.Repo) {
				r.GitCLI("config", "commit.gpgsign", "true")
				r.GitCLI("config", "user.signingkey", "3AA5C34371567BD2")
			},
			args: []string{"--as", "zhangwei", "--commit"}, code: 1,
			errs: []string{"gpg key 3AA5C34371567BD2 (user.signingkey)", "relgate does not run gpg", "--sign-key FILE (an OpenSSH private key, or an armored OpenPGP secret key"}},
		{name: "commit.gpgsign, gpg.format ssh, no user.signingkey",
			setup: func(t *testing.T, r *gitrepotest.Repo) {
				r.GitCLI("config", "commit.gpgsign", "true")
				r.GitCLI("config", "gpg.format", "ssh")
			},
			args: []string{"--as", "zhangwei", "--commit"}, code: 1,
			errs: []string{"user.signingkey is not set"}},
		{name: "git config names an SSH key with a passphrase: refused",
			base: signed,
			setup: func(t *testing.T, r *gitrepotest.Repo) {
				p := filepath.Join(t.TempDir(), "id_ed25519")
				if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", p).CombinedOutput(); err != nil {
					t.Fatalf("ssh-keygen: %v\n%s", err, out)
				}
				sshConfig("config", p)(t, r)
			},
			args: []string{"--as", "zhangwei", "--commit"}, code: 1,
			errs: []string{"is protected by a passphrase; relgate cannot ask for it"}},
		{name: "--sign-key a public key: a usage error",
			args: []string{"--as", "zhangwei", "--commit", "--sign-key", "PUBLIC"}, code: 2,
			errs: []string{"want an OpenSSH private key or an armored OpenPGP secret key"}},
		{name: "signatures required, nothing configured, --commit: refused",
			base: signed, args: []string{"--as", "zhangwei", "--commit"}, code: 1,
			errs: []string{"approval not recorded, because it would not count", "approvals must be signed (trustCommitAuthor is off), but no signing key is configured"}},
		{name: "signatures required, nothing configured, without --commit: warned",
			base: signed, args: []string{"--as", "zhangwei"},
			errs:    []string{"warning: this approval will not count", "no signing key is configured"},
			written: true},
		{name: "signatures required, the key is not listed for the approver",
			base: signed, args: []string{"--as", "zhangwei", "--commit", "--sign-key", "OTHER"}, code: 1,
			errs: []string{"signed with SSH key SHA256:", "which relgate.yaml does not list for zhangwei in people[].signingKeys"}},
		{name: "signatures required, the policy lists no key for the approver",
			base: signed, args: []string{"--as", "maxiaodong", "--commit", "--sign-key", "OTHER"}, code: 1,
			errs: []string{"the policy lists no signing key for maxiaodong", "people[].signingKeys"}},
		{name: "signatures required, zh from the policy's language",
			base: signed, args: []string{"--as", "zhangwei", "--commit", "--lang="}, code: 1,
			errs: []string{"未记录审批", "审批必须签名（trustCommitAuthor 已关闭）"}},
		{name: "self-approval with --commit: refused",
			base: ownsRelease, args: []string{"--as", "wangfang", "--commit"}, code: 1,
			errs: []string{"wangfang may not approve plan-review (separation of duties, R-4): authored release.yaml in", "another holder of release-owner must approve"}},
		{name: "self-approval without --commit: warned",
			base: ownsRelease, args: []string{"--as", "wangfang"},
			errs: []string{"warning: this approval will not count: wangfang may not approve plan-review (separation of duties"}, written: true},
		{name: "self-approval, --force: recorded, and still not counted",
			base: ownsRelease, args: []string{"--as", "wangfang", "--commit", "--force"},
			errs: []string{"warning: this approval will not count"}, committed: true, written: true},
		{name: "a rejection by an author is recorded: separation of duties never sheds a rejection",
			base: ownsRelease, args: []string{"--as", "wangfang", "--commit", "--reject", "--comment", "回退方案未经演练"},
			quiet: true, committed: true, written: true},
		{name: "a second identical run: already recorded",
			setup: func(t *testing.T, r *gitrepotest.Repo) {
				if code, out, errs := run(t, "approve", "REL-2026-0043", "plan-review", "--repo", r.Dir, "--lang", "en", "--now", apsNow, "--as", "zhangwei", "--commit"); code != 0 {
					t.Fatalf("first approve: exit %d\n%s%s", code, out, errs)
				}
			},
			args: []string{"--as", "zhangwei", "--commit", "--now", "2026-11-25T11:00:00+08:00"},
			out:  []string{"zhangwei's approval of plan-review as release-owner (sha256:", "is already recorded in "}, quiet: true,
			written: true, counted: "zhangwei", recordedInHead: true},
		{name: "a second identical run without --commit: already recorded, the file untouched",
			setup: func(t *testing.T, r *gitrepotest.Repo) {
				if code, out, errs := run(t, "approve", "REL-2026-0043", "plan-review", "--repo", r.Dir, "--lang", "en", "--now", apsNow, "--as", "zhangwei", "--commit"); code != 0 {
					t.Fatalf("first approve: exit %d\n%s%s", code, out, errs)
				}
			},
			args: []string{"--as", "zhangwei"}, out: []string{"is already recorded in "}, quiet: true,
			written: true, counted: "zhangwei", recordedInHead: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := prRepo(t, tc.base)
			if tc.setup != nil {
				tc.setup(t, r)
			}
			before := trRev(r, "HEAD")
			approvalFile := rel43 + "/approvals/plan-review.zhangwei.yaml"
			for i, a := range tc.args {
				if i > 0 && tc.args[i-1] == "--as" {
					approvalFile = rel43 + "/approvals/plan-review." + a + ".yaml"
				}
			}
			var fileBefore []byte
			if tc.recordedInHead {
				fileBefore, _ = os.ReadFile(filepath.Join(r.Dir, approvalFile))
			}
			args := []string{"approve", "REL-2026-0043", "plan-review", "--repo", r.Dir, "--lang", "en", "--now", apsNow}
			for _, a := range tc.args {
				switch a {
				case "OTHER":
					p := filepath.Join(t.TempDir(), "other")
					writeFile(t, p, otherPriv)
					a = p
				case "PUBLIC":
					p := filepath.Join(t.TempDir(), "id.pub")
					writeFile(t, p, zwPub+"\n")
					a = p
				case "--lang=":
					args = slices.DeleteFunc(args, func(s string) bool { return s == "--lang" || s == "en" })
					continue
				}
				args = append(args, a)
			}
			code, out, errs := run(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.errs {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if tc.quiet && errs != "" {
				t.Errorf("stderr: want nothing, got:\n%s", errs)
			}
			after := trRev(r, "HEAD")
			if (after != before) != tc.committed {
				t.Errorf("committed = %v, want %v", after != before, tc.committed)
			}
			_, err := os.Stat(filepath.Join(r.Dir, approvalFile))
			if (err == nil) != tc.written {
				t.Errorf("%s written = %v, want %v", approvalFile, err == nil, tc.written)
			}
			if tc.recordedInHead {
				if !strings.Contains(out, after[:12]) {
					t.Errorf("stdout does not name HEAD %s:\n%s", after[:12], out)
				}
				if now, _ := os.ReadFile(filepath.Join(r.Dir, approvalFile)); string(now) != string(fileBefore) {
					t.Errorf("the recorded approval was rewritten:\n%s", now)
				}
			}
			if tc.committed {
				if st := strings.TrimSpace(r.GitCLI("status", "--porcelain", approvalFile)); st != "" {
					t.Errorf("the approval is not committed: %s", st)
				}
			}
			if tc.verify {
				// Git itself accepts the signature (gpg.format=ssh with an
				// allowed-signers file), and names zhangwei's key.
				allowed := filepath.Join(t.TempDir(), "allowed_signers")
				writeFile(t, allowed, "zhangwei@grid-it.example.cn "+zwPub+"\n")
				v := r.GitCLI("-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile="+allowed, "verify-commit", "-v", "HEAD")
				if !strings.Contains(v, `Good "git" signature for zhangwei@grid-it.example.cn`) {
					t.Errorf("git verify-commit:\n%s", v)
				}
				if log := r.GitCLI("-c", "gpg.ssh.allowedSignersFile="+allowed, "log", "-1", "--format=%G? %ae"); strings.TrimSpace(log) != "G zhangwei@grid-it.example.cn" {
					t.Errorf("git log %%G?: %q, want a good signature by zhangwei", log)
				}
			}
			if tc.counted != "" {
				if who := apsCounted(t, r); !slices.Contains(who, tc.counted) {
					t.Errorf("status counts %v for plan-review, want %s among them", who, tc.counted)
				}
			}
			if strings.Contains(tc.name, "still not counted") {
				if who := apsCounted(t, r); slices.Contains(who, "wangfang") {
					t.Errorf("status counts wangfang's self-approval: %v", who)
				}
			}
		})
	}
}
