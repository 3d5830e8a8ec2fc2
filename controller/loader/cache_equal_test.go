package loader_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/validate"
)

// broken are documents with problems of every stage (YAML, header, schema),
// so cached entries carry problems and partial values too.
var broken = map[string]string{
	"releases/REL-2026-0901/closure.yaml": closureDoc + "comment: &c x\n",
	"releases/REL-2026-0902/closure.yaml": closureDoc + "closedBy: sunlei\n",
	"releases/REL-2026-0903/closure.yaml": closureDoc + "<<: {comment: x}\n",
	"releases/REL-2026-0904/closure.yaml": closureDoc + "comment: [x\n",
	"releases/REL-2026-0905/closure.yaml": "\n",
	"releases/REL-2026-0906/closure.yaml": "apiVersion: relgate.dev/v1\nkind: Plan\n",
	"releases/REL-2026-0907/closure.yaml": "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: REL-2026-0041\nclosedBy: &who sunlei\nclosedBy: sunlei\nclosedAt: \"2026-10-20T10:00:00\"\narchived: []\ncoment: *who\n",
	"releases/REL-2026-0908/closure.yaml": "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: 42\nclosedBy: \"\"\nclosedAt: yesterday\narchived: [1, 1]\n",
	"releases/REL-2026-0909/notes.yaml":   "a: 1\n",
	"releases/REL-2026-0910/closure.yaml": closureDoc + "comment: \"\xff\xfe\"\n",
	// The same content twice: one blob, two paths.
	"releases/REL-2026-0911/closure.yaml": closureDoc,
	"releases/REL-2026-0912/closure.yaml": closureDoc,
}

// TestCacheSameFindings: a load through the decode cache (being filled,
// read back from its file, from memory, and from a damaged file) gives
// exactly what a load without it gives: the same findings of validate, the
// same typed and partial documents. On the example repository with broken
// documents added, and on the generated repository when there is one
// (RELGATE_BENCH_REPO).
func TestCacheSameFindings(t *testing.T) {
	r := gitrepotest.New(t)
	r.CopyDir("../../examples/release-repo")
	for p, doc := range broken {
		r.Write(p, doc)
	}
	r.Commit("examples and broken documents", gitrepotest.Person{Name: "t", Email: "t@example.com"})
	t.Run("examples", func(t *testing.T) { sameThroughCache(t, r.Dir) })
	t.Run("generated", func(t *testing.T) {
		if os.Getenv("RELGATE_BENCH_REPO") == "" {
			t.Skip("RELGATE_BENCH_REPO is not set")
		}
		sameThroughCache(t, gen.BenchRepo(t))
	})
}

func sameThroughCache(t *testing.T, dir string) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	load := func(c *loader.Cache) string {
		t.Helper()
		repo, err := gitrepo.Open(dir)
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
		snap, err := loader.LoadAll(tree, loader.Options{Cache: c})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		fs, err := validate.Check(snap, validate.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		js, _ := json.Marshal(fs)
		b.Write(js)
		for _, p := range snap.Paths() {
			d := snap.Doc(p)
			v, _ := json.Marshal(d.Value)
			pv, _ := json.Marshal(d.Partial)
			fmt.Fprintf(&b, "\n%s %s %s %s %s", p, d.ID, d.Kind, v, pv)
		}
		return b.String()
	}
	want := load(nil)
	path := filepath.Join(t.TempDir(), "decode-cache")
	check := func(name string, c *loader.Cache) {
		t.Helper()
		if diff := cmp.Diff(want, load(c)); diff != "" {
			t.Errorf("%s differs from the load without a cache (-want +got):\n%s", name, diff)
		}
	}
	check("cold file cache", loader.OpenCache(path))
	check("warm file cache", loader.OpenCache(path))
	check("warm file cache again", loader.OpenCache(path))
	mem := loader.NewMemoryCache()
	check("memory cache, filled", mem)
	check("memory cache, read", mem)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damage := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		check(name, loader.OpenCache(path))
		check(name+", rewritten", loader.OpenCache(path))
	}
	mid := append([]byte(nil), data...)
	mid[len(mid)/3] ^= 0x55 // an entry: its checksum fails, it is decoded again
	damage("an entry damaged", mid)
	end := append([]byte(nil), data...)
	end[len(end)-60] ^= 0x01 // the index: the file is ignored
	damage("the index damaged", end)
	damage("truncated", data[:len(data)/2])
	damage("not a cache", []byte("not a cache"))
	foreign := append([]byte(nil), data...)
	foreign[30] ^= 0x01 // the key: another build's or other schemas' file
	damage("a foreign file", foreign)
}
