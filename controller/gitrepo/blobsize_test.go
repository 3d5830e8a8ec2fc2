package gitrepo_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/source"
)

// bigBlob is over every limit relgate has (1 MiB documents, 4 MiB blobs).
const bigBlob = 50 << 20

// TestOversizedBlobNotInflated: a 50 MB blob, loose or packed, is refused
// from its object header. Allocating less than a tenth of it proves it was
// not inflated.
func TestOversizedBlobNotInflated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		packed bool
	}{{"loose", false}, {"packed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := gitrepotest.New(t)
			if err := os.WriteFile(filepath.Join(r.Dir, "big.yaml"), []byte(strings.Repeat("a: b\n", bigBlob/5)), 0o644); err != nil {
				t.Fatal(err)
			}
			r.Write("small.yaml", "a: b\n")
			r.GitCLI("add", "-A")
			r.GitCLI("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "big")
			if tc.packed {
				r.GitCLI("gc", "-q")
			}
			repo, err := gitrepo.Open(r.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			h, err := repo.Resolve("HEAD")
			if err != nil {
				t.Fatal(err)
			}
			tree, err := repo.TreeAt(h, "")
			if err != nil {
				t.Fatal(err)
			}
			big, err := tree.Stat("big.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if n, err := repo.BlobSize(big.ID); err != nil || n != bigBlob {
				t.Fatalf("BlobSize = %d, %v; want %d", n, err, bigBlob)
			}
			readers, closeReaders, err := tree.BlobReaders(1, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer closeReaders()
			for name, read := range map[string]func() ([]byte, error){
				"Repo.ReadBlob":       func() ([]byte, error) { return repo.ReadBlob(big.ID) },
				"Tree.ReadBlobMax":    func() ([]byte, error) { return tree.ReadBlobMax(big.ID, 1<<20) },
				"Tree.Read":           func() ([]byte, error) { return tree.Read("big.yaml") },
				"Tree.BlobReaders[0]": func() ([]byte, error) { return readers[0](big.ID) },
			} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				data, err := read()
				runtime.ReadMemStats(&after)
				if !errors.Is(err, source.ErrTooLarge) || data != nil {
					t.Errorf("%s: %d bytes, %v; want source.ErrTooLarge", name, len(data), err)
				}
				if got := after.TotalAlloc - before.TotalAlloc; got > bigBlob/10 {
					t.Errorf("%s allocated %d bytes: the blob was inflated", name, got)
				}
			}
			small, err := tree.Stat("small.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if data, err := tree.ReadBlobMax(small.ID, 5); err != nil || string(data) != "a: b\n" {
				t.Errorf("small blob at its limit: %q, %v", data, err)
			}
			if _, err := tree.ReadBlobMax(small.ID, 4); !errors.Is(err, source.ErrTooLarge) {
				t.Errorf("small blob over its limit: %v; want source.ErrTooLarge", err)
			}
		})
	}
}
