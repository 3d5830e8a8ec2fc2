package yamldoc_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/yamldoc"
)

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, in, want string
		line           int
	}{
		{"alias", "a: &x 1\nb: *x\n", "anchors and aliases", 1},
		{"duplicate key", "a: 1\nb: 2\na: 3\n", `duplicate key "a" (first on line 1)`, 3},
		{"second document", "a: 1\n---\nb: 2\n", "one document", 2},
		{"merge key", "a:\n  <<: {b: 1}\n", "merge keys", 2},
		{"custom tag", "a: !secret x\n", "tag !secret is not allowed", 1},
		{"empty", "  \n", "file is empty", 1},
		{"sequence root", "- a\n", "mapping of fields", 1},
		{"flow bomb", "a: " + strings.Repeat("[", 100), "nesting deeper", 1},
		{"too large", "a: \"" + strings.Repeat("x", yamldoc.MaxFileSize) + "\"\n", "the limit is", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := yamldoc.Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if e, ok := err.(*yamldoc.Error); !ok || e.Line != tc.line {
				t.Errorf("line = %+v, want %d", err, tc.line)
			}
		})
	}
}

// TestValue: YAML 1.2 scalar types, so a version that looks like a number is
// a number (and the schema asks to quote it), and yes/no stay text.
func TestValue(t *testing.T) {
	root, err := yamldoc.Parse([]byte("v: 1.10\nq: \"1.10\"\nb: true\ny: yes\nn: ~\ni: 0x1F\nt: 2026-11-25T10:00:00+08:00\nl: [a, 1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := yamldoc.Value(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"v": 1.1, "q": "1.10", "b": true, "y": "yes", "n": nil, "i": int64(31),
		"t": "2026-11-25T10:00:00+08:00", "l": []any{"a", int64(1)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestFind(t *testing.T) {
	root, err := yamldoc.Parse([]byte("a:\n  b:\n    - x\n    - c: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	n, k := yamldoc.Find(root, []string{"a", "b", "1", "c"})
	if n.Value != "1" || n.Line != 4 || k == nil || k.Value != "c" {
		t.Errorf("found %+v key %+v", n, k)
	}
	if got := yamldoc.PathString([]string{"a", "b", "1", "c"}); got != "a.b[1].c" {
		t.Errorf("path %q", got)
	}
}
