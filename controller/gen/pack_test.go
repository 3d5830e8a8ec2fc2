package gen

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestMakeDelta(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	big := random(300_000) // copies beyond 64 KiB and offsets of three bytes
	for _, c := range []struct {
		name         string
		base, target []byte
	}{
		{"same", big, big},
		{"one byte changed", big, append(append(append([]byte{}, big[:150_000]...), big[150_000]^1), big[150_001:]...)},
		{"insert in the middle", big, append(append(append([]byte{}, big[:200_000]...), random(45)...), big[200_000:]...)},
		{"append", big, append(append([]byte{}, big...), random(200)...)},
		{"prepend", big, append(random(200), big...)},
		{"shorter", big, big[:100_000]},
		{"unrelated", random(1000), random(5000)},
		{"small", []byte("a"), []byte("ab")},
	} {
		d := makeDelta(nil, c.base, c.target)
		got, err := packfile.PatchDelta(c.base, d)
		if err != nil {
			t.Errorf("%s: patch: %v", c.name, err)
			continue
		}
		if !bytes.Equal(got, c.target) {
			t.Errorf("%s: patched result differs from the target", c.name)
		}
	}
}

// TestReadWithGoGit reads a generated history with go-git, which resolves
// the pack's delta chains itself: a releases/ folder of a few hundred
// entries is large enough to be stored as deltas.
func TestReadWithGoGit(t *testing.T) {
	res := generate(t, Options{Releases: 300, Commits: 600, Seed: 9})
	runGit(t, res.Dir, "fsck", "--strict", "--no-dangling")
	repo, err := git.PlainOpen(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	commits, err := repo.Log(&git.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = commits.ForEach(func(c *object.Commit) error {
		n++
		if n%50 == 1 { // every tree of some commits
			tree, err := c.Tree()
			if err != nil {
				return err
			}
			return tree.Files().ForEach(func(*object.File) error { return nil })
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != res.Commits {
		t.Errorf("go-git walks %d commits, want %d", n, res.Commits)
	}
	head, err := repo.CommitObject(res.Head)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := head.Tree()
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = tree.Files().ForEach(func(f *object.File) error {
		files++
		got, err := f.Contents()
		if err != nil {
			return err
		}
		want, err := os.ReadFile(filepath.Join(res.Dir, f.Name))
		if err != nil {
			return err
		}
		if got != string(want) {
			t.Errorf("%s: HEAD and the work tree differ", f.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != len(res.Files) {
		t.Errorf("HEAD has %d files, want %d", files, len(res.Files))
	}
	// The pack holds deltas: verify-pack lists them with their chain length.
	if out := runGit(t, res.Dir, "verify-pack", "-v", res.Pack); !strings.Contains(out, "chain length = 1:") {
		t.Errorf("no delta in the pack:\n%s", out[max(0, len(out)-500):])
	}
}
