package yamldoc

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse: every document file passes through Parse before anything
// else; whatever the bytes, it returns a mapping or an error, never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"id: REL-2026-0001\ntitle: 发布\n",
		"a: &x 1\nb: *x\n",
		"a: 1\na: 2\n",
		"<<: {a: 1}\n",
		"--- a: 1\n--- b: 2\n",
		"a: !!binary aGVsbG8=\n",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		"\ufeffa: 1\n",
		"a: \"\\x00\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err == nil && (n == nil || n.Kind != yaml.MappingNode) {
			t.Fatalf("Parse(%q) = %v without an error, want a mapping", data, n)
		}
		// A tree with problems is still read, within the limits.
		root, problems, err := ParseAll(data)
		if err == nil {
			if root == nil || root.Kind != yaml.MappingNode {
				t.Fatalf("ParseAll(%q) = %v without an error, want a mapping", data, root)
			}
			_, _ = Value(root)
		}
		if (err == nil && len(problems) == 0) != (n != nil) {
			t.Fatalf("Parse and ParseAll disagree on %q", data)
		}
	})
}
