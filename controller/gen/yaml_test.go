package gen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
)

// marshalV3 is marshal through yaml.Node.Encode, which toNode replaces.
func marshalV3(t *testing.T, v any) []byte {
	t.Helper()
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		t.Fatal(err)
	}
	style(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		t.Fatal(err)
	}
	enc.Close()
	return buf.Bytes()
}

// TestMarshalAsYAMLv3: marshal writes every document kind byte for byte as
// yaml.v3 does through yaml.Node.Encode, including strings yaml.v3 must
// quote or write as blocks.
func TestMarshalAsYAMLv3(t *testing.T) {
	res := generate(t, Options{Releases: 40, Seed: 6})
	var docs []any
	kinds := map[document.Kind]bool{}
	for _, p := range res.Files {
		loc, ok := document.Locate(p)
		if !ok || loc.Kind == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(res.Dir, p))
		if err != nil {
			t.Fatal(err)
		}
		v := loader.New(loc.Kind)
		if err := yaml.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		docs = append(docs, v)
		kinds[loc.Kind] = true
	}
	if len(kinds) < 11 {
		t.Errorf("only %d document kinds in the generated repository: %v", len(kinds), kinds)
	}
	odd := []string{"", "yes", "no", "on", "null", "~", "1.10", "2.4.0", "0x1F", "1e3", "2026-01-02", "2026-01-02T10:00:00+08:00",
		"a: b", "- x", "#x", "x #y", "'q'", "\"dq\"", "line one\nline two", "trailing\n", " lead", "tail ", "@at", "`tick", "%pct",
		"*star", "&amp", "!bang", "|pipe", ">gt", "{b}", "[s]", "a,b", "1:20", "true", "False", "NaN", ".inf", "-", "?", "é中文"}
	for _, s := range odd {
		docs = append(docs, &document.Change{Header: header(document.KindChange), ID: "CHG-2026-000001", Title: s, Type: s,
			Status: "submitted", Requester: s, Description: s})
	}
	for _, v := range docs {
		got, err := marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(marshalV3(t, v)), string(got)); d != "" {
			t.Errorf("%T (-yaml.v3 +marshal):\n%s", v, d)
		}
	}
}
