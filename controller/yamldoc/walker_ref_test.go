package yamldoc

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// The walker as it was before it kept its path as steps (issue 13): the
// problems it finds are the reference for TestWalkerSameProblems.
type refWalker struct {
	nodes    int
	problems []*Error
	// anchors holds the problem reported for each anchor, which names the
	// lines of its aliases: one finding per anchor, not one per use.
	anchors map[string]*refAnchor
}

type refAnchor struct {
	err  *Error
	name string
	uses []string // lines of its aliases
}

// finish writes the anchors' messages once their uses are known.
func (w *refWalker) finish() {
	for _, a := range w.anchors {
		a.err.Msg = fmt.Sprintf("anchors and aliases (&, *) are not allowed: write the value of &%s out", a.name)
		if len(a.uses) > 0 {
			a.err.Value = strings.Join(a.uses, ", ")
			a.err.Msg += fmt.Sprintf(" where *%s is used (line %s)", a.name, a.err.Value)
		}
	}
}

// check walks the tree: the limits end the walk (the tree is not worth
// reading further), everything else is a problem and the walk goes on.
func (w *refWalker) check(n *yaml.Node, path string, depth int) error {
	w.nodes++
	if w.nodes > MaxNodes {
		return &Error{Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("more than %d values in one document", MaxNodes)}
	}
	if depth > MaxDepth {
		return &Error{Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("nesting deeper than %d levels", MaxDepth)}
	}
	if n.Kind == yaml.AliasNode {
		if a, ok := w.anchors[n.Value]; ok {
			a.uses = append(a.uses, strconv.Itoa(n.Line))
			return nil
		}
		w.problems = append(w.problems, &Error{Line: n.Line, Column: n.Column, Path: path, Code: "alias",
			Msg: "anchors and aliases (&, *) are not allowed; write the value out"})
		return nil
	}
	if n.Anchor != "" {
		e := &Error{Line: n.Line, Column: n.Column, Path: path, Code: "anchor", Name: n.Anchor}
		w.anchors[n.Anchor] = &refAnchor{err: e, name: n.Anchor}
		w.problems = append(w.problems, e)
	}
	if n.Tag != "" && n.Style&yaml.TaggedStyle != 0 && !standardTags[n.Tag] {
		w.problems = append(w.problems, &Error{Line: n.Line, Column: n.Column, Path: path, Code: "tag", Value: n.Tag, Msg: fmt.Sprintf("tag %s is not allowed", n.Tag)})
	}
	switch n.Kind {
	case yaml.MappingNode:
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !plainKey(k) {
				w.problems = append(w.problems, &Error{Line: k.Line, Column: k.Column, Path: path, Code: "key", Msg: "keys are plain names; merge keys (<<), anchors and complex keys are not allowed"})
				if err := w.check(v, path, depth+1); err != nil {
					return err
				}
				continue
			}
			if first, dup := seen[k.Value]; dup {
				w.problems = append(w.problems, &Error{Line: k.Line, Column: k.Column, Path: Join(path, k.Value), Code: "duplicate", Name: k.Value, First: first,
					Msg: fmt.Sprintf("duplicate key %q (first on line %d)", k.Value, first)})
			} else {
				seen[k.Value] = k.Line
			}
			if err := w.check(v, Join(path, k.Value), depth+1); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := w.check(c, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func refProblems(root *yaml.Node) ([]*Error, error) {
	w := refWalker{anchors: map[string]*refAnchor{}}
	if err := w.check(root, "", 1); err != nil {
		return nil, err
	}
	w.finish()
	sort.SliceStable(w.problems, func(i, j int) bool {
		if w.problems[i].Line != w.problems[j].Line {
			return w.problems[i].Line < w.problems[j].Line
		}
		return w.problems[i].Column < w.problems[j].Column
	})
	return w.problems, nil
}

// TestWalkerSameProblems: the walker finds the same problems, with the same
// field paths, as before it stopped writing a path for every node.
func TestWalkerSameProblems(t *testing.T) {
	docs := []string{
		"a: 1\na: 2\n",
		"a: &x 1\nb: *x\nc: *x\n",
		"<<: {a: 1}\nb: [1, {c: 2, c: 3}]\n",
		"? [complex]\n: 1\n&k key: 2\n",
		"a: !secret x\nb:\n  - !!str y\n  - c: !other z\n    c: 1\n",
		"l:\n" + strings.Repeat("  - {x: 1, x: 2}\n", 3),
		"deep: " + strings.Repeat("[", 31) + "1" + strings.Repeat("]", 31) + "\n",
		"deep: " + strings.Repeat("{a: ", 33) + "1" + strings.Repeat("}", 33) + "\n",
	}
	var big strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&big, "k%d: %d\n", i%30, i)
	}
	docs = append(docs, big.String(), "many: ["+strings.Repeat("1, ", 60000)+"1]\n")
	for _, d := range docs {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(d), &doc); err != nil || len(doc.Content) == 0 {
			t.Fatalf("%.40q: %v", d, err)
		}
		root := doc.Content[0]
		want, werr := refProblems(root)
		w := walker{anchors: map[string]*anchor{}}
		gerr := w.check(root, 1)
		w.finish()
		sort.SliceStable(w.problems, func(i, j int) bool {
			if w.problems[i].Line != w.problems[j].Line {
				return w.problems[i].Line < w.problems[j].Line
			}
			return w.problems[i].Column < w.problems[j].Column
		})
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Errorf("%.40q: error %v, want %v", d, gerr, werr)
			continue
		}
		if werr == nil {
			if diff := cmp.Diff(want, w.problems); diff != "" {
				t.Errorf("%.40q (-want +got):\n%s", d, diff)
			}
		}
	}
}
