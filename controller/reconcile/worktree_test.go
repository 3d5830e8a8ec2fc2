package reconcile_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/reconcile"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "gc.auto=0", "-c", "maintenance.auto=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var reconcileNow = func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }

// TestReconcileDiskFull runs reconcile in local mode on a 2 MiB tmpfs filled
// to leave less and less room, so that each write fails at another point
// (objects, work-tree files, index, journal). After each failure the branch
// has not moved or the work tree is at the new tip, git status is clean and
// fsck passes; with room again, a rerun completes the work.
func TestReconcileDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt, err := os.MkdirTemp("", "relgate-tmpfs-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		os.Remove(mnt)
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		// A git process (an automatic gc) may still hold the mount for a
		// moment; then detach it lazily: the test's verdict is made.
		for i := 0; i < 20; i++ {
			if exec.Command("umount", mnt).Run() == nil {
				os.Remove(mnt)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Logf("umount -l %s: %v: %s", mnt, err, out)
		}
	})

	tr := gitrepotest.New(t)
	if err := gen.Replay("../../examples/release-repo", tr.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	git(t, tr.Dir, "gc", "-q")
	start := strings.TrimSpace(git(t, tr.Dir, "rev-parse", "HEAD"))
	outcomes := map[string]int{}
	var lastErr error
	for slack := int64(0); slack <= 160<<10; slack += 8 << 10 {
		dir := filepath.Join(mnt, "repo")
		os.RemoveAll(dir)
		os.Remove(filepath.Join(mnt, "filler"))
		if out, err := exec.Command("cp", "-a", tr.Dir, dir).CombinedOutput(); err != nil {
			t.Fatalf("copy the repository to the tmpfs (too small?): %v\n%s", err, out)
		}
		fill(t, filepath.Join(mnt, "filler"), mnt, slack)
		r, err := gitrepo.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, runErr := reconcile.Run(context.Background(), r, "", reconcile.Options{Now: reconcileNow})
		r.Close()
		if runErr != nil {
			lastErr = runErr
		}
		head := strings.TrimSpace(git(t, dir, "rev-parse", "HEAD"))
		switch {
		case runErr == nil:
			outcomes["done"]++
		case head == start && !strings.Contains(runErr.Error(), "the index and the work tree are unchanged"):
			t.Errorf("slack %d KiB: the error does not say what state it left: %v", slack>>10, runErr)
		case head == start && strings.HasPrefix(runErr.Error(), "write the work tree"):
			outcomes["failed writing the work tree; branch not moved"]++
		case head == start:
			outcomes["failed writing objects or the ref; branch not moved"]++
		default:
			t.Errorf("slack %d KiB: the branch moved and the run failed: %v", slack>>10, runErr)
		}
		if st := git(t, dir, "--no-optional-locks", "status", "--porcelain"); st != "" {
			t.Errorf("slack %d KiB (%v): git status not clean:\n%s", slack>>10, runErr, st)
		}
		git(t, dir, "fsck", "--strict")
		// With room again, a rerun finishes the work.
		os.Remove(filepath.Join(mnt, "filler"))
		r, err = gitrepo.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reconcile.Run(context.Background(), r, "", reconcile.Options{Now: reconcileNow}); err != nil {
			t.Errorf("slack %d KiB: rerun: %v", slack>>10, err)
		}
		r.Close()
		if n := strings.Count(git(t, dir, "log", "--format=%s", start+"..HEAD"), "\n"); n != 4 {
			t.Errorf("slack %d KiB: %d commits after the rerun, want 4", slack>>10, n)
		}
		if st := git(t, dir, "--no-optional-locks", "status", "--porcelain"); st != "" {
			t.Errorf("slack %d KiB: git status not clean after the rerun:\n%s", slack>>10, st)
		}
		git(t, dir, "fsck", "--strict")
	}
	t.Logf("outcomes: %v; last error: %v", outcomes, lastErr)
	if outcomes["failed writing the work tree; branch not moved"] == 0 || outcomes["done"] == 0 {
		t.Errorf("no run failed midway, or none succeeded: %v (adjust the slack range)", outcomes)
	}
}

// fill writes a file that leaves slack bytes free on the file system at dir.
func fill(t *testing.T, name, dir string, slack int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := free - slack
	chunk := bytes.Repeat([]byte{'x'}, 64<<10)
	for n > 0 {
		w := chunk[:min(int64(len(chunk)), n)]
		if _, err := f.Write(w); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
		n -= int64(len(w))
	}
}
