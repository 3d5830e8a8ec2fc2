package cli_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// relgateWithin runs relgate in its own process and fails the test when it
// is still running after limit: a hang must fail, not stall the suite.
func relgateWithin(t *testing.T, limit time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RELGATE_TEST_AS_CLI=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("relgate %v still running after %s:\n%s", args, limit, out)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestReconcileRemoteDeadline: a remote that streams side-band progress for
// ever no longer hangs reconcile --remote: it stops at --net-timeout and
// says so.
func TestReconcileRemoteDeadline(t *testing.T) {
	srv := gitrepotest.NewStallingRemote(t, strings.Repeat("ef", 20))
	code, out := relgateWithin(t, time.Minute, "reconcile", "--remote", srv.URL+"/releases.git", "--branch", "main",
		"--mirror", filepath.Join(t.TempDir(), "m"), "--net-timeout", "500ms")
	if code != 2 || !strings.Contains(out, "stopped after 500ms") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if srv.Streams.Load() != 1 {
		t.Errorf("the remote streamed %d times, want 1", srv.Streams.Load())
	}
}

// TestReconcileRemoteRefused: remotes off the allow-list are refused before
// a mirror is made or any process starts.
func TestReconcileRemoteRefused(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	for _, tc := range []struct{ name, url, want string }{
		{"file URL", "file://" + bareRemote(t), "file:// runs git-upload-pack"},
		{"ext helper runs a command", "ext::sh -c touch% " + marker, "transport helper (ext::)"},
		{"fd helper", "fd::7", "transport helper (fd::)"},
		{"ssh option as host", "ssh://-oProxyCommand=touch%20" + marker + "/x", "remote"},
		{"scp host as an option", "git@-oProxyCommand=sh:x", "host starts with '-'"},
		{"option-like", "--upload-pack=touch " + marker, "starts with '-'"},
		{"plain http off loopback", "http://192.0.2.1/releases.git", "only to a loopback host"},
		{"newline", "https://github.com/a\n/b", "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mirror := filepath.Join(t.TempDir(), "m")
			code, out := relgateWithin(t, time.Minute, "reconcile", "--remote", tc.url, "--branch", "main", "--mirror", mirror)
			if code != 2 || !strings.Contains(out, "remote refused") || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d\n%s", code, out)
			}
			if _, err := os.Stat(mirror); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a mirror was made for %q", tc.url)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a refused remote ran a command")
	}
}

var commitLine = regexp.MustCompile(`(?m)^(committed|pushed) ([0-9a-f]{12}): (.+) \[(.+)\]$`)
var planLine = regexp.MustCompile(`(?m)^would (commit|push): (.+) \[(.+)\]$`)

// TestReconcileReportsCommits: each commit reconcile makes is printed with
// its id, why and the files it wrote, as git records them; a dry run lists
// the same commits in the same form, locally and for a push.
func TestReconcileReportsCommits(t *testing.T) {
	for _, push := range []bool{false, true} {
		name := map[bool]string{false: "local", true: "push"}[push]
		t.Run(name, func(t *testing.T) {
			var args []string
			var gitDir string
			if push {
				remote := bareRemote(t)
				args, gitDir = []string{"reconcile", "--remote", remote, "--branch", "main", "--mirror", filepath.Join(t.TempDir(), "m")}, remote
			} else {
				r := exampleRepo(t)
				args, gitDir = []string{"reconcile", r.Dir}, r.Dir
			}
			code, plan := relgateProcess(t, nil, append(args, "--dry-run")...)
			if code != 0 {
				t.Fatalf("dry run: exit %d\n%s", code, plan)
			}
			code, out := relgateProcess(t, nil, args...)
			if code != 0 || !strings.Contains(out, "4 commit(s)") {
				t.Fatalf("exit %d\n%s", code, out)
			}
			planned := planLine.FindAllStringSubmatch(plan, -1)
			made := commitLine.FindAllStringSubmatch(out, -1)
			if len(made) != 4 || len(planned) != 4 {
				t.Fatalf("%d commit lines, %d planned:\n%s\n%s", len(made), len(planned), out, plan)
			}
			for i, m := range made {
				if want := map[bool]string{false: "committed", true: "pushed"}[push]; m[1] != want {
					t.Errorf("line %q does not say %s", m[0], want)
				}
				if planned[i][2] != m[3] || planned[i][3] != m[4] {
					t.Errorf("planned %q, made %q", planned[i][0], m[0])
				}
				show := gitCmd(t, gitDir, "show", "--no-patch", "--format=%s", m[2])
				files := gitCmd(t, gitDir, "show", "--format=", "--name-only", m[2])
				if strings.TrimSpace(show) != m[3] || strings.Join(strings.Fields(files), ", ") != m[4] {
					t.Errorf("%s: git has %q %q; relgate printed %q", m[2], show, files, m[0])
				}
			}
		})
	}
}

// TestReconcileLocalCrashAfterRef: relgate killed after moving the branch
// and before bringing the work tree along leaves a journal; the next run
// finishes the work tree, and git status is clean again.
func TestReconcileLocalCrashAfterRef(t *testing.T) {
	r := exampleRepo(t)
	start := commitCount(t, r.Dir)
	if code, out := relgateProcess(t, []string{"RELGATE_FAILPOINT=after-ref"}, "reconcile", r.Dir); code != 86 {
		t.Fatalf("failpoint: exit %d\n%s", code, out)
	}
	code, out := relgateProcess(t, nil, "reconcile", r.Dir)
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("rerun: exit %d\n%s", code, out)
	}
	if st := r.GitCLI("status", "--porcelain", "--untracked-files=all"); st != "" {
		t.Errorf("git status after the rerun:\n%s", st)
	}
	r.GitCLI("fsck", "--strict")
	if n := commitCount(t, r.Dir); n != start+4 {
		t.Errorf("%d commits, want %d", n, start+4)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, ".git", "relgate-sync.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal left behind: %v", err)
	}
}

// TestReconcileRemoteMirrorRepair: a mirror whose pack was truncated is
// moved aside and fetched again; the run succeeds and says so.
func TestReconcileRemoteMirrorRepair(t *testing.T) {
	remote := bareRemote(t)
	mirror := filepath.Join(t.TempDir(), "m")
	args := []string{"reconcile", "--remote", remote, "--branch", "main", "--mirror", mirror}
	if code, out := relgateProcess(t, nil, args...); code != 0 || !strings.Contains(out, "4 commit(s)") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	packs, _ := filepath.Glob(filepath.Join(mirror, "objects", "pack", "*.pack"))
	if len(packs) == 0 {
		t.Fatal("no pack in the mirror")
	}
	for _, p := range packs {
		info, _ := os.Stat(p)
		if err := os.Truncate(p, info.Size()/2); err != nil {
			t.Fatal(err)
		}
	}
	code, out := relgateProcess(t, nil, args...)
	if code != 0 || !strings.Contains(out, "nothing to do") || !strings.Contains(out, "was damaged") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if copies, _ := filepath.Glob(mirror + ".broken-*"); len(copies) != 1 {
		t.Errorf("moved-aside copies: %v", copies)
	}
	gitCmd(t, mirror, "fsck", "--strict")
}
