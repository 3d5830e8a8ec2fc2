package loader

import (
	"os"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/source"
)

// TestProblemsEncoding: the cache keeps problems exactly, and a new field of
// docschema.Problem fails here until encodeProblems writes it.
func TestProblemsEncoding(t *testing.T) {
	if n := reflect.TypeOf(docschema.Problem{}).NumField(); n != problemFields {
		t.Fatalf("docschema.Problem has %d fields, encodeProblems writes %d: extend it (and cacheFormat)", n, problemFields)
	}
	if n := reflect.TypeOf(Problem{}).NumField(); n != 2 {
		t.Fatalf("loader.Problem has %d fields, encodeProblems writes 2: extend it (and cacheFormat)", n)
	}
	for _, ps := range [][]Problem{
		nil,
		{{Rule: "yaml", Problem: docschema.Problem{Line: 3, Column: -1, Field: "a.b[2]", Message: "bad \xff\xfe", Want: []string{}}}},
		{{Rule: "schema", Problem: docschema.Problem{Clause: "R-1.2", Code: "enum", Name: "n", Title: "T / 题", Reason: "r",
			Value: `"x"`, Got: "number", Want: []string{"a", ""}, Limit: 1 << 40, Count: -7, Hint: "quote"}}, {Rule: "layout"}},
	} {
		got, err := decodeProblems(encodeProblems(ps))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ps, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if b := encodeProblems(ps); len(b) > 1 {
			if _, err := decodeProblems(b[:len(b)-1]); err == nil {
				t.Errorf("a truncated encoding decodes")
			}
		}
	}
}

// TestCacheReopened: what a run saves, the next run finds; a file damaged
// in its entry is a miss for that entry only.
func TestCacheReopened(t *testing.T) {
	path := t.TempDir() + "/decode-cache"
	c := OpenCache(path)
	probs := []Problem{{Rule: "schema", Problem: docschema.Problem{Line: 2, Message: "m"}}}
	c.put(source.BlobID{1}, document.KindRelease, map[string]any{"id": "REL-2026-0001"}, nil, nil)
	c.put(source.BlobID{2}, document.KindPlan, nil, map[string]any{"purpose": ""}, probs)
	if e, ok := c.get(source.BlobID{2}, document.KindPlan); !ok || string(e.Partial) != `{"purpose":""}` {
		t.Fatalf("an entry of this run: %v %q", ok, e.Partial)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	for run := 0; run < 2; run++ {
		c = OpenCache(path)
		e1, ok1 := c.get(source.BlobID{1}, document.KindRelease)
		e2, ok2 := c.get(source.BlobID{2}, document.KindPlan)
		if !ok1 || !ok2 || string(e1.Value) != `{"id":"REL-2026-0001"}` || e2.Value != nil || string(e2.Partial) != `{"purpose":""}` {
			t.Fatalf("run %d: %v %v %q %q %q", run, ok1, ok2, e1.Value, e2.Value, e2.Partial)
		}
		if diff := cmp.Diff(probs, e2.Problems); diff != "" {
			t.Fatal(diff)
		}
		if _, ok := c.get(source.BlobID{1}, document.KindPlan); ok {
			t.Fatal("found under another kind")
		}
		c.put(source.BlobID{3}, document.KindPlan, map[string]any{}, nil, nil) // Save copies the old entries
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	data, _ := os.ReadFile(path)
	data[headerLen+3] ^= 1
	os.WriteFile(path, data, 0o644)
	c = OpenCache(path)
	defer c.Close()
	hits := 0
	for i := byte(1); i <= 3; i++ {
		for _, k := range []document.Kind{document.KindRelease, document.KindPlan} {
			if _, ok := c.get(source.BlobID{i}, k); ok {
				hits++
			}
		}
	}
	if hits != 2 {
		t.Fatalf("%d entries found after one was damaged, want 2", hits)
	}
}
