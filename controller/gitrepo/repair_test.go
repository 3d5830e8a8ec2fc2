package gitrepo_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// bareCopy makes a bare clone (one pack) of a small history and returns its folder.
func bareCopy(t *testing.T) string {
	t.Helper()
	tr := gitrepotest.New(t)
	for i, f := range []string{"a.yaml", "b/c.yaml", "b/d.yaml"} {
		tr.Write(f, strings.Repeat("line\n", 200*(i+1)))
		tr.Commit("add "+f, gitrepotest.Person{Name: "t", Email: "t@example.cn"})
	}
	dir := filepath.Join(t.TempDir(), "mirror")
	if out, err := exec.Command("git", "clone", "-q", "--bare", "--no-local", tr.Dir, dir).CombinedOutput(); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	return dir
}

func onePack(t *testing.T, dir string) string {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("%d packs in %s", len(packs), dir)
	}
	return packs[0]
}

// TestVerify: an intact mirror passes; a truncated pack and a missing object
// are each found, wrapping ErrCorrupt.
func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"intact", func(*testing.T, string) {}, ""},
		{"truncated pack", func(t *testing.T, dir string) {
			p := onePack(t, dir)
			info, _ := os.Stat(p)
			if err := os.Truncate(p, info.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "truncated or overwritten"},
		{"missing loose object", func(t *testing.T, dir string) {
			// Unpack, then delete the object of one blob.
			p := onePack(t, dir)
			data, _ := os.ReadFile(p)
			os.Remove(p)
			os.Remove(strings.TrimSuffix(p, ".pack") + ".idx")
			cmd := exec.Command("git", "unpack-objects", "-q")
			cmd.Dir, cmd.Stdin = dir, strings.NewReader(string(data))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("unpack: %v\n%s", err, out)
			}
			out, _ := exec.Command("git", "-C", dir, "rev-parse", "HEAD:b/d.yaml").Output()
			h := strings.TrimSpace(string(out))
			if err := os.Remove(filepath.Join(dir, "objects", h[:2], h[2:])); err != nil {
				t.Fatal(err)
			}
		}, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := bareCopy(t)
			tc.damage(t, dir)
			r, err := gitrepo.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			err = r.Verify()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, gitrepo.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestRebuild moves a damaged mirror aside keeping its configuration, and
// keeps only the newest damaged copy.
func TestRebuild(t *testing.T) {
	dir := bareCopy(t)
	if out, err := exec.Command("git", "-C", dir, "remote", "set-url", "origin", "https://git.example.cn/releases.git").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 2; i++ {
		aside, err := r.Rebuild(t0.Add(time.Duration(i) * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(aside, "config")); err != nil {
			t.Errorf("rebuild %d: nothing at %s: %v", i, aside, err)
		}
	}
	copies, _ := filepath.Glob(dir + gitrepo.BrokenSuffix + "*")
	if len(copies) != 1 || !strings.HasSuffix(copies[0], "20261201T100100Z") {
		t.Errorf("damaged copies %v, want the newest only", copies)
	}
	if err := r.Verify(); err != nil {
		t.Errorf("rebuilt mirror: %v", err)
	}
	rem, err := r.Git.Remote("origin")
	if err != nil || rem.Config().URLs[0] != "https://git.example.cn/releases.git" {
		t.Errorf("remote after rebuild: %v %v", rem, err)
	}
	if refs, _ := r.RefNames("refs/heads/"); len(refs) != 0 {
		t.Errorf("rebuilt mirror has refs %v", refs)
	}
}
