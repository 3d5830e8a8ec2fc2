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

// TestParseAllReportsEveryProblem: a file that parses gets every problem in
// one run (issue 12), one per anchor however often it is used, and the tree
// is still read as meant: the first of duplicate keys, aliases written out,
// merge keys left out.
func TestParseAllReportsEveryProblem(t *testing.T) {
	in := "a: &x [1, 2]\nb: *x\nc: 1\nc: 2\nd:\n  <<: {e: 1}\n  f: !secret s\ng: *x\n"
	root, probs, err := yamldoc.ParseAll([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.Error())
	}
	want := []string{
		"1:4: anchors and aliases (&, *) are not allowed: write the value of &x out where *x is used (line 2, 8)",
		`4:1: duplicate key "c" (first on line 3)`,
		"6:3: keys are plain names; merge keys (<<), anchors and complex keys are not allowed",
		"7:6: tag !secret is not allowed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	v, err := yamldoc.Value(root)
	if err != nil {
		t.Fatal(err)
	}
	wantV := map[string]any{"a": []any{int64(1), int64(2)}, "b": []any{int64(1), int64(2)}, "c": int64(1),
		"d": map[string]any{"f": "s"}, "g": []any{int64(1), int64(2)}}
	if diff := cmp.Diff(wantV, v); diff != "" {
		t.Errorf("value (-want +got):\n%s", diff)
	}
}

// TestValueAliasBomb: aliases of aliases (a billion laughs) are refused once
// they would make more values than a document may hold, not expanded.
func TestValueAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt := n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", ") + "]\n"
		b.WriteString(fmt)
		prev = n
	}
	root, probs, err := yamldoc.ParseAll([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 9 {
		t.Errorf("%d problems, want one per anchor (9)", len(probs))
	}
	if _, err := yamldoc.Value(root); err == nil || !strings.Contains(err.Error(), "aliases make more than") {
		t.Errorf("Value = %v, want the alias limit", err)
	}
}
