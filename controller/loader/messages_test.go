package loader_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const closureDoc = "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: REL-2026-0041\nclosedBy: sunlei\nclosedAt: \"2026-10-20T10:00:00+08:00\"\narchived:\n  - 方案\n"

// TestStageMessages: the problems of the YAML stage and of the header, told
// in English and Chinese (testdata/stages.<lang>.golden), each a file's only
// problem, and a file's problems of every stage together.
func TestStageMessages(t *testing.T) {
	set, err := docschema.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc string
		n         int // problems expected
	}{
		{"anchor without an alias", closureDoc + "comment: &c x\n", 1},
		{"anchor and its aliases", "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: REL-2026-0041\nclosedBy: &who sunlei\nclosedAt: \"2026-10-20T10:00:00+08:00\"\narchived:\n  - *who\ncomment: *who\n", 1},
		{"duplicate key", closureDoc + "closedBy: sunlei\n", 1},
		{"merge key", closureDoc + "<<: {comment: x}\n", 1},
		{"custom tag", closureDoc + "comment: !secret x\n", 1},
		{"syntax", closureDoc + "comment: [x\n", 1},
		{"empty", "\n", 1},
		{"second document", closureDoc + "---\na: 1\n", 1},
		{"not a mapping", "- a\n", 1},
		{"apiVersion missing", "kind: Closure\n", 1},
		{"apiVersion unsupported", "apiVersion: relgate.dev/v2\nkind: Closure\n", 1},
		{"kind missing", "apiVersion: relgate.dev/v1\n", 1},
		{"kind of another place", "apiVersion: relgate.dev/v1\nkind: Plan\n", 1},
		{"every stage at once", "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: REL-2026-0041\nclosedBy: &who sunlei\nclosedBy: sunlei\nclosedAt: \"2026-10-20T10:00:00\"\narchived: []\ncoment: *who\n", 5},
	}
	golden := map[string]*bytes.Buffer{"en": {}, "zh": {}}
	for _, tc := range tests {
		v, partial, probs := loader.DecodeAll(set, document.KindClosure, []byte(tc.doc))
		if v != nil || len(probs) != tc.n {
			t.Errorf("%s: value %v, %d problems, want %d: %+v", tc.name, v != nil, len(probs), tc.n, probs)
		}
		if tc.n > 1 && partial == nil {
			t.Errorf("%s: nothing decoded of a file that parses", tc.name)
		}
		for lang, b := range golden {
			fmt.Fprintf(b, "## %s\n", tc.name)
			for _, p := range probs {
				fmt.Fprintf(b, "%d:%d: %s: %s: %s\n", p.Line, p.Column, p.Rule, p.Field, docschema.Render(p.Problem, docschema.Hints{Lang: lang}))
			}
		}
	}
	for lang, b := range golden {
		file := filepath.Join("testdata", "stages."+lang+".golden")
		if *update {
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), b.String()); diff != "" {
			t.Errorf("%s (-want +got; -update rewrites):\n%s", file, diff)
		}
	}
}
