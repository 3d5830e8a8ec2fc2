package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/remote"
)

// mirrorRemote is a bare repository with a short history on main.
func mirrorRemote(t *testing.T) string {
	t.Helper()
	tr := gitrepotest.New(t)
	for i, f := range []string{"relgate.yaml", "releases/REL-1/plan.yaml", "cmdb/a.yaml"} {
		tr.Write(f, strings.Repeat("k: v\n", 100*(i+1)))
		tr.Commit("add "+f, gitrepotest.Person{Name: "t", Email: "t@example.cn"})
	}
	dir := filepath.Join(t.TempDir(), "remote.git")
	if out, err := exec.Command("git", "clone", "-q", "--bare", "--no-local", tr.Dir, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return dir
}

// readMain reads every file of main's tip in the mirror.
func readMain(r *gitrepo.Repo) error {
	ref, err := r.Git.Reference(BranchRef("main"), true)
	if err != nil {
		return err
	}
	tree, err := r.TreeAt(ref.Hash(), "")
	if err != nil {
		return err
	}
	files, err := tree.List("")
	if err != nil {
		return err
	}
	for _, f := range files {
		if _, err := tree.Read(f.Path); err != nil {
			return err
		}
	}
	return nil
}

// TestMirrorRepairs: a mirror whose pack is truncated, or whose objects are
// gone, is moved aside (one copy kept), fetched again and works; the repair
// is logged and counted.
func TestMirrorRepairs(t *testing.T) {
	for _, tc := range []struct {
		name string
		// damage breaks the mirror; next is the operation that must heal it.
		damage func(t *testing.T, dir string)
		next   func(m *Mirror) error
		reason string
	}{
		{"truncated pack, next fetch", truncatePack, fetchMain, "truncated"},
		{"truncated pack, next read", truncatePack, func(m *Mirror) error { return m.Do(readMain) }, "truncated"},
		{"objects gone, next read", removePacks, func(m *Mirror) error { return m.Do(readMain) }, "which is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := mirrorRemote(t)
			dir := filepath.Join(t.TempDir(), "mirror")
			var logs bytes.Buffer
			var reasons []string
			m, err := OpenMirrorWith(dir, src, MirrorOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				OnRepair: func(r string) { reasons = append(reasons, r) }})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.Fetch(context.Background(), []string{"main"}, nil); err != nil {
				t.Fatal(err)
			}
			if err := m.Do(readMain); err != nil {
				t.Fatal(err)
			}
			// A broken copy from an earlier repair: only the newest is kept.
			if err := os.MkdirAll(dir+gitrepo.BrokenSuffix+"20200101T000000Z", 0o755); err != nil {
				t.Fatal(err)
			}
			// Damage found by the next process (this one has the objects cached).
			m.Close()
			tc.damage(t, dir)
			m, err = OpenMirrorWith(dir, src, MirrorOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				OnRepair: func(r string) { reasons = append(reasons, r) }})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := tc.next(m); err != nil {
				t.Fatalf("after the damage: %v", err)
			}
			if err := m.Do(readMain); err != nil {
				t.Fatalf("read after the repair: %v", err)
			}
			if m.Repairs() != 1 || len(reasons) != 1 || !strings.Contains(reasons[0], tc.reason) {
				t.Errorf("repairs %d, reasons %q", m.Repairs(), reasons)
			}
			if !strings.Contains(logs.String(), "mirror damaged: moved aside and fetching again") {
				t.Errorf("no log line:\n%s", logs.String())
			}
			copies, _ := filepath.Glob(dir + gitrepo.BrokenSuffix + "*")
			if len(copies) != 1 || strings.HasSuffix(copies[0], "20200101T000000Z") {
				t.Errorf("broken copies %v, want the new one only", copies)
			}
			if out, err := exec.Command("git", "-C", dir, "fsck", "--strict").CombinedOutput(); err != nil {
				t.Errorf("fsck of the rebuilt mirror: %v\n%s", err, out)
			}
		})
	}
}

func fetchMain(m *Mirror) error { return m.Fetch(context.Background(), []string{"main"}, nil) }

func packs(t *testing.T, dir string) []string {
	t.Helper()
	p, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if len(p) == 0 {
		t.Fatalf("no pack in %s", dir)
	}
	return p
}

func truncatePack(t *testing.T, dir string) {
	for _, p := range packs(t, dir) {
		info, _ := os.Stat(p)
		if err := os.Truncate(p, info.Size()*2/3); err != nil {
			t.Fatal(err)
		}
	}
}

func removePacks(t *testing.T, dir string) {
	for _, p := range packs(t, dir) {
		os.Remove(p)
		os.Remove(strings.TrimSuffix(p, ".pack") + ".idx")
	}
}

// TestMirrorFetchDeadline: a remote that streams progress for ever is
// stopped at the mirror's deadline.
func TestMirrorFetchDeadline(t *testing.T) {
	srv := gitrepotest.NewStallingRemote(t, strings.Repeat("cd", 20))
	m, err := OpenMirrorWith(filepath.Join(t.TempDir(), "mirror"), srv.URL+"/r.git", MirrorOptions{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Fetch(context.Background(), []string{"main"}, nil) }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("fetch still running a minute after a 300ms deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stopped after 300ms") {
		t.Errorf("err = %v", err)
	}
	if m.Repairs() != 0 {
		t.Errorf("a stalled remote is not a damaged mirror: %d repairs", m.Repairs())
	}
}

// TestMirrorRefusesRemote: a remote off the allow-list is refused before a
// mirror is made.
func TestMirrorRefusesRemote(t *testing.T) {
	for _, url := range []string{"file:///srv/git/r.git", "ext::sh -c touch% /tmp/x", "http://example.com/r.git"} {
		dir := filepath.Join(t.TempDir(), "mirror")
		_, err := OpenMirrorWith(dir, url, MirrorOptions{})
		if !errors.Is(err, remote.ErrRefused) {
			t.Errorf("%q: %v", url, err)
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%q: a mirror was made", url)
		}
	}
}
