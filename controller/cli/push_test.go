package cli_test

import (
	"fmt"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relgate/relgate/controller/cli"
)

// TestMain lets tests run relgate as a separate process: the test binary
// re-executes itself as the CLI when RELGATE_TEST_AS_CLI is set.
func TestMain(m *testing.M) {
	// The language of the messages follows $LC_ALL/$LANG before the policy.
	// Whatever the machine's locale, the tests read English unless they ask
	// for Chinese (--lang zh) or for the policy's language (t.Setenv("LC_ALL", "")).
	if os.Getenv("RELGATE_TEST_AS_CLI") != "1" {
		os.Setenv("LC_ALL", "en_US.UTF-8")
		os.Unsetenv("LANG")
	}
	if os.Getenv("RELGATE_TEST_AS_CLI") == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// relgateProcess runs relgate in its own process.
func relgateProcess(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "RELGATE_TEST_AS_CLI=1"), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v in %s: %v\n%s", args, dir, err, out)
	}
	return string(out)
}

// bareRemote pushes the example repository to a new bare repository that
// refuses non-fast-forward updates, and returns its path.
func bareRemote(t *testing.T) string {
	t.Helper()
	r := exampleRepo(t)
	remote := filepath.Join(t.TempDir(), "remote.git")
	gitCmd(t, filepath.Dir(remote), "init", "-q", "--bare", "-b", "main", remote)
	gitCmd(t, remote, "config", "receive.denyNonFastForwards", "true")
	gitCmd(t, remote, "config", "http.receivepack", "true")
	gitCmd(t, r.Dir, "push", "-q", remote, "main")
	return remote
}

// TestReconcilePushFile pushes to a bare remote given as a path and is idempotent.
func TestReconcilePushFile(t *testing.T) {
	remote := bareRemote(t)
	start := commitCount(t, remote)
	mirror := filepath.Join(t.TempDir(), "mirror")
	for i, want := range []string{"4 commit(s)", "nothing to do"} {
		code, out := relgateProcess(t, nil, "reconcile", "--remote", remote, "--branch", "main", "--mirror", mirror)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("run %d: exit %d\n%s", i, code, out)
		}
	}
	gitCmd(t, remote, "fsck", "--strict")
	if n := commitCount(t, remote); n != start+4 {
		t.Errorf("remote has %d commits, want %d", n, start+4)
	}
}

// TestReconcilePushHTTP pushes through git http-backend on loopback.
func TestReconcilePushHTTP(t *testing.T) {
	remote := bareRemote(t)
	execPath := strings.TrimSpace(gitCmd(t, ".", "--exec-path"))
	srv := httptest.NewServer(&cgi.Handler{Path: filepath.Join(execPath, "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(remote), "GIT_HTTP_EXPORT_ALL=1"}})
	defer srv.Close()
	url := srv.URL + "/remote.git"
	code, out := relgateProcess(t, nil, "reconcile", "--remote", url, "--branch", "main", "--mirror", filepath.Join(t.TempDir(), "m"))
	if code != 0 || !strings.Contains(out, "4 commit(s)") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	gitCmd(t, remote, "fsck", "--strict")
	if log := gitCmd(t, remote, "log", "--format=%s", "main"); !strings.Contains(log, "REL-2026-0042: write the release report") {
		t.Errorf("remote log:\n%s", log)
	}
}

// TestReconcileRejectedPushStops: a hook that declines is not contention.
func TestReconcileRejectedPushStops(t *testing.T) {
	remote := bareRemote(t)
	hook := filepath.Join(remote, "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := commitCount(t, remote)
	code, out := relgateProcess(t, nil, "reconcile", "--remote", remote, "--branch", "main", "--mirror", filepath.Join(t.TempDir(), "m"))
	if code != 2 || !strings.Contains(out, "push rejected") || strings.Contains(out, "gave up after") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// The remote's reason survives, not only go-git's summary of it.
	if !strings.Contains(out, "pre-receive hook declined") || !strings.Contains(out, "remote: GH006: Protected branch update failed for refs/heads/main.") {
		t.Errorf("the hook's message is lost:\n%s", out)
	}
	if n := commitCount(t, remote); n != start {
		t.Errorf("remote has %d commits, want %d", n, start)
	}
}

// TestReconcileCrash kills relgate at each failpoint and restarts it: each
// effect appears exactly once.
func TestReconcileCrash(t *testing.T) {
	for _, fp := range []string{"after-commit", "before-push", "after-push"} {
		t.Run(fp, func(t *testing.T) {
			remote := bareRemote(t)
			mirror := filepath.Join(t.TempDir(), "m")
			args := []string{"reconcile", "--remote", remote, "--branch", "main", "--mirror", mirror}
			code, out := relgateProcess(t, []string{"RELGATE_FAILPOINT=" + fp}, args...)
			if code != 86 {
				t.Fatalf("failpoint %s: exit %d\n%s", fp, code, out)
			}
			if code, out := relgateProcess(t, nil, args...); code != 0 {
				t.Fatalf("restart: exit %d\n%s", code, out)
			}
			if code, out := relgateProcess(t, nil, args...); code != 0 || !strings.Contains(out, "nothing to do") {
				t.Fatalf("third run: exit %d\n%s", code, out)
			}
			gitCmd(t, remote, "fsck", "--strict")
			log := gitCmd(t, remote, "log", "--format=%s", "main")
			for _, s := range []string{"REL-2026-0041: update the CMDB", "REL-2026-0041: write the release report",
				"REL-2026-0042: update the CMDB", "REL-2026-0042: write the release report"} {
				if n := strings.Count(log, s); n != 1 {
					t.Errorf("%q appears %d times:\n%s", s, n, log)
				}
			}
			clone := filepath.Join(t.TempDir(), "c")
			gitCmd(t, ".", "clone", "-q", remote, clone)
			if n := strings.Count(readFile(t, filepath.Join(clone, "cmdb", "payment-interface.yaml")), "release: REL-2026-0042"); n != 1 {
				t.Errorf("payment-interface history names REL-2026-0042 %d times", n)
			}
		})
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestReconcileConcurrent: two reconcilers in separate processes and an
// engineer pushing with the git CLI, some 90 updates against one remote that
// refuses non-fast-forward updates: every update lands, none twice.
// (RELGATE_STRESS_RELEASES raises the count: 70 releases took 3.5 minutes
// of CI's 20.)
func TestReconcileConcurrent(t *testing.T) {
	releases := 30
	if n, err := strconv.Atoi(os.Getenv("RELGATE_STRESS_RELEASES")); err == nil && n > 0 {
		releases = n
	}
	if testing.Short() {
		releases = 8
	}
	remote := bareRemote(t)
	url := remote
	writer := filepath.Join(t.TempDir(), "writer")
	gitCmd(t, ".", "clone", "-q", remote, writer)
	// The writer is lina, who approves none of these releases: whoever
	// commits a document (a rebase commits again) may not approve it.
	gitCmd(t, writer, "config", "user.name", "李娜")
	gitCmd(t, writer, "config", "user.email", "lina@grid-it.example.cn")
	var done atomic.Bool
	var wg sync.WaitGroup
	var runs [2]int
	var failures []string
	gaveUp := 0
	var mu sync.Mutex
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mirror := filepath.Join(t.TempDir(), fmt.Sprintf("m%d", i))
			for {
				last := done.Load()
				code, out := relgateProcess(t, nil, "reconcile", "--remote", url, "--branch", "main", "--mirror", mirror)
				runs[i]++
				if code != 0 {
					mu.Lock()
					if strings.Contains(out, "another writer kept moving the branch") {
						gaveUp++ // bounded retries ran out under contention; the next run continues
					} else {
						failures = append(failures, out)
					}
					mu.Unlock()
				}
				if last && strings.Contains(out, "nothing to do") {
					return
				}
			}
		}()
	}
	src := readTree(t, filepath.Join(examples, "releases", "REL-2026-0041"))
	for n := 0; n < releases; n++ {
		id := fmt.Sprintf("REL-2026-%04d", 1000+n)
		for name, content := range src {
			if strings.HasPrefix(name, "approvals/") {
				continue
			}
			writeFile(t, filepath.Join(writer, "releases", id, name), strings.ReplaceAll(content, "REL-2026-0041", id))
		}
		// Each approval committed by its person, so that it counts.
		gitCmd(t, writer, "add", "-A")
		gitCmd(t, writer, "commit", "-q", "-m", id+": deployed")
		// Written as relgate approve writes them, without asking it each
		// time (it evaluates the release's history to say whether the
		// approval will count: 560 times, that was most of this test).
		digests := map[string]string{}
		for _, a := range [][3]string{{"plan-review", "maxiaodong", "department-head"}, {"plan-review", "hejun", "department-head"},
			{"plan-review", "xuhui", "department-head"}, {"plan-review", "zhangwei", "release-owner"},
			{"test-acceptance", "tangjing", "customer-representative"}, {"go-live-approval", "zhangwei", "release-owner"},
			{"deployment-confirmation", "wangfang", "release-manager"}, {"deployment-confirmation", "tangjing", "customer-representative"}} {
			d, ok := digests[a[0]]
			if !ok {
				code, out, errs := run(t, "digest", id, a[0], writer)
				if code != 0 {
					t.Fatalf("digest: %s", errs)
				}
				d = strings.TrimSpace(out)
				digests[a[0]] = d
			}
			writeFile(t, filepath.Join(writer, "releases", id, "approvals", a[0]+"."+a[1]+".yaml"), fmt.Sprintf(
				"apiVersion: relgate.dev/v1\nkind: Approval\nrelease: %s\ngate: %s\nperson: %s\nrole: %s\ndecision: approve\ndigest: %s\nat: \"2026-10-18T09:00:00+08:00\"\n",
				id, a[0], a[1], a[2], d))
			gitCmd(t, writer, "add", "-A")
			gitCmd(t, writer, "-c", "user.name="+a[1], "-c", "user.email="+a[1]+"@grid-it.example.cn", "commit", "-q", "-m", id+": "+a[0]+" by "+a[1])
		}
		for attempt := 0; ; attempt++ {
			cmd := exec.Command("git", "push", "-q", "origin", "main")
			cmd.Dir = writer
			if out, err := cmd.CombinedOutput(); err == nil {
				break
			} else if attempt > 50 {
				t.Fatalf("writer push: %s", out)
			}
			gitCmd(t, writer, "pull", "-q", "--rebase", "origin", "main")
		}
	}
	done.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d reconcile runs failed; first:\n%s", len(failures), failures[0])
	}
	gitCmd(t, remote, "fsck", "--strict")
	log := gitCmd(t, remote, "log", "--format=%s", "main")
	updates := strings.Count(log, "\n") - 1
	final := filepath.Join(t.TempDir(), "final")
	gitCmd(t, ".", "clone", "-q", remote, final)
	d5000 := readFile(t, filepath.Join(final, "cmdb", "d5000-scada-frontend.yaml"))
	for n := 0; n < releases; n++ {
		id := fmt.Sprintf("REL-2026-%04d", 1000+n)
		for _, s := range []string{id + ": deployed", id + ": update the CMDB", id + ": write the release report"} {
			if c := strings.Count(log, s); c != 1 {
				t.Errorf("%q: %d commits, want 1", s, c)
			}
		}
		if c := len(regexp.MustCompile(`release: `+id+`\n`).FindAllString(d5000, -1)); c != 1 {
			_, st, _ := run(t, "status", id, final)
			t.Errorf("d5000-scada-frontend history names %s %d times; status:\n%s", id, c, st)
		}
		if _, err := os.Stat(filepath.Join(final, "reports", "releases", id+".md")); err != nil {
			t.Errorf("report of %s: %v", id, err)
		}
	}
	t.Logf("%d updates on the remote; reconciler runs: %v; runs that ran out of retries: %d", updates, runs, gaveUp)
	if !testing.Short() && updates < 200 {
		t.Errorf("only %d updates", updates)
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = readFile(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
