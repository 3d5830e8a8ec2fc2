package gitrepo_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/source"
)

// TestBlobReadersReadWhatGoGitReads: the readers of BlobReaders, which read
// whole packed blobs themselves, return for every blob of every commit what
// go-git returns: whole objects and deltas in a pack, loose objects, the
// empty blob.
func TestBlobReadersReadWhatGoGitReads(t *testing.T) {
	r := gitrepotest.New(t)
	who := gitrepotest.Person{Name: "t", Email: "t@example.com"}
	base := strings.Repeat("steps:\n  - owner: someone\n    what: a step of the plan\n", 40)
	for i := 0; i < 6; i++ {
		r.Write("plan.yaml", base+fmt.Sprintf("version: %d\n", i)) // deltas of each other once packed
		r.Write(fmt.Sprintf("f%d.yaml", i), fmt.Sprintf("n: %d\n", i))
		r.Write("empty.yaml", "")
		r.Commit(fmt.Sprint(i), who)
	}
	r.GitCLI("gc", "-q", "--aggressive")
	r.Write("loose.yaml", "a: loose\n")
	r.GitCLI("add", "-A")
	r.GitCLI("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "loose")
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
	readers, closeReaders, err := tree.BlobReaders(2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer closeReaders()
	n := 0
	for _, line := range strings.Split(r.GitCLI("cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"), "\n") {
		f, typ, _ := strings.Cut(line, " ")
		if typ != "blob" {
			continue
		}
		b, err := hex.DecodeString(f)
		if err != nil || len(b) != 20 {
			continue
		}
		id := source.BlobID(b)
		want, err := repo.ReadBlob(id)
		if err != nil {
			t.Fatal(err)
		}
		for i, read := range readers {
			got, err := read(id)
			if err != nil || string(got) != string(want) {
				t.Errorf("reader %d, blob %s: %q, %v; want %q", i, id, got, err, want)
			}
		}
		n++
	}
	if n < 14 {
		t.Fatalf("read %d blobs, want at least 14", n)
	}
}

// TestBlobReadersDamagedPack: a pack whose content was damaged is an error,
// never other content.
func TestBlobReadersDamagedPack(t *testing.T) {
	r := gitrepotest.New(t)
	r.Write("a.yaml", strings.Repeat("key: value\n", 100))
	r.Commit("a", gitrepotest.Person{Name: "t", Email: "t@example.com"})
	r.GitCLI("gc", "-q")
	id := strings.TrimSpace(r.GitCLI("rev-parse", "HEAD:a.yaml"))
	packsGlob, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.pack"))
	if len(packsGlob) != 1 {
		t.Fatalf("packs: %v", packsGlob)
	}
	data, err := os.ReadFile(packsGlob[0])
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(packsGlob[0], 0o644)
	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	h, _ := repo.Resolve("HEAD")
	tree, err := repo.TreeAt(h, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 20 {
		t.Fatalf("blob id %q", id)
	}
	bid := source.BlobID(b)
	// Damage every byte after the pack header in turn would be slow: flip
	// bytes across the file, each time with a fresh reader.
	bad := 0
	for off := 12; off < len(data)-20; off += 7 {
		d := append([]byte(nil), data...)
		d[off] ^= 0x20
		if err := os.WriteFile(packsGlob[0], d, 0o644); err != nil {
			t.Fatal(err)
		}
		readers, closeReaders, err := tree.BlobReaders(1, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readers[0](bid)
		closeReaders()
		if err == nil && string(got) != strings.Repeat("key: value\n", 100) {
			t.Fatalf("damage at %d: read other content without an error", off)
		}
		if err != nil {
			bad++
		}
	}
	if bad == 0 {
		t.Fatal("no damage was noticed")
	}
}
