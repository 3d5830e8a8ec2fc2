package loader

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/source"
)

// FuzzOpenCache: the decode cache is a file on disk that a run reads
// before anything else; whatever it holds, opening it and decoding its
// entries never panics, and a file that does not decode is ignored.
func FuzzOpenCache(f *testing.F) {
	dir := f.TempDir()
	c := OpenCache(filepath.Join(dir, "seed"))
	c.put(source.BlobID{1}, document.KindRelease, map[string]any{"id": "REL-2026-0001"}, nil, nil)
	c.put(source.BlobID{2}, document.KindPlan, nil, map[string]any{"purpose": ""}, []Problem{{Problem: docschema.Problem{Field: "purpose", Message: "required"}}})
	if err := c.Save(); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(c.path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "decode-cache")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c := OpenCache(p)
		defer c.Close()
		for k := range c.index {
			if e, ok := c.get(k.ID, k.Kind); ok {
				decodeCached(k.Kind, e)
			}
		}
	})
}

// FuzzDecodeCached: an entry's JSON, whatever it is, decodes or errs.
func FuzzDecodeCached(f *testing.F) {
	f.Add("release", []byte(`{"id":"REL-2026-0001"}`))
	f.Add("plan", []byte(`{"steps":[{"owner":1}]}`))
	f.Add("approval", []byte(`null`))
	f.Fuzz(func(t *testing.T, kind string, value []byte) {
		decodeCached(document.Kind(kind), cacheEntry{Value: value})
	})
}
