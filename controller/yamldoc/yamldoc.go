// Package yamldoc parses one untrusted YAML document into a yaml.Node tree,
// refusing what a release document never needs and what a hostile file uses:
// oversized input, anchors and aliases, duplicate keys, merge keys, custom tags,
// deep nesting and several documents in one file. Everything relgate reads
// goes through Parse, so decoding and schema validation share one tree.
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits on one file. A release document is a few kilobytes; these leave room
// for long plans while keeping a hostile file's cost bounded.
const (
	MaxFileSize = 1 << 20 // bytes
	MaxDepth    = 32      // nesting of mappings and sequences
	MaxNodes    = 50000   // nodes in one document
)

// Error is a problem at a place in a file. Line and Column are 1-based; 0 means
// the whole file.
type Error struct {
	Line, Column int
	Path         string // field path, e.g. rollback.pointInTime
	Msg          string // in English
	// Code names the problem for a message in another language (docschema
	// renders it); Name and Value are what that message needs (an anchor or
	// key, the lines of the aliases or the parser's text), First a line.
	Code, Name, Value string
	First             int
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// Parse checks data and returns the root mapping node of its only document.
// The first problem of the file is its error.
func Parse(data []byte) (*yaml.Node, error) {
	root, problems, err := ParseAll(data)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, problems[0]
	}
	return root, nil
}

// ParseAll is Parse that reports every problem of a file that parses, so a
// person sees them all in one run: err is set only when the file cannot be
// read as one YAML mapping within the limits (then nothing else is checked);
// problems are what relgate refuses in a tree it could read (anchors and
// aliases, duplicate keys, merge keys, complex keys, custom tags), in file
// order. With problems, root is still returned for locating and checking
// the rest; Value reads it with the first of duplicate keys, aliases written
// out within the node limit, and merge and complex keys left out.
func ParseAll(data []byte) (root *yaml.Node, problems []*Error, err error) {
	if len(data) > MaxFileSize {
		return nil, nil, &Error{Msg: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), MaxFileSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &Error{Line: 1, Column: 1, Code: "empty", Msg: "file is empty"}
	}
	if err := checkNesting(data); err != nil {
		return nil, nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		return nil, nil, err
	}
	var extra yaml.Node
	switch err := decode(dec, &extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, nil, err
	default:
		return nil, nil, &Error{Line: extra.Line, Column: extra.Column, Code: "second-document", Msg: "a file holds one document; remove the second '---' document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil, &Error{Line: 1, Column: 1, Code: "no-document", Msg: "file holds no YAML document"}
	}
	root = doc.Content[0]
	w := walker{anchors: map[string]*anchor{}}
	if err := w.check(root, 1); err != nil {
		return nil, nil, err
	}
	w.finish()
	if root.Kind != yaml.MappingNode {
		return nil, nil, &Error{Line: root.Line, Column: root.Column, Code: "not-mapping", Msg: "a document is a mapping of fields (key: value)"}
	}
	sort.SliceStable(w.problems, func(i, j int) bool {
		if w.problems[i].Line != w.problems[j].Line {
			return w.problems[i].Line < w.problems[j].Line
		}
		return w.problems[i].Column < w.problems[j].Column
	})
	return root, w.problems, nil
}

// decode reads one document, turning yaml.v3's errors (and its rare panics on
// malformed input) into an Error with a line.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Msg: fmt.Sprintf("malformed YAML: %v", r)}
		}
	}()
	err = dec.Decode(n)
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return syntaxError(err)
}

// syntaxError extracts "line N" from yaml.v3's message so the caller can point at it.
func syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		line, _ = strconv.Atoi(rest[:j])
		if j < len(rest) && rest[j] == ':' {
			msg = strings.TrimSpace(rest[j+1:])
		}
	}
	return &Error{Line: line, Column: 1, Code: "syntax", Value: msg, Msg: "YAML syntax: " + msg}
}

// checkNesting rejects flow-style nesting deeper than MaxDepth before the
// parser sees it: yaml.v3 recurses on '[' and '{' and a file of brackets is the
// cheapest way to make it work hard. Block nesting is bounded by indentation
// and checked on the tree.
//
// It also bounds the number of values before parsing: every value but the
// first is preceded by a newline or a comma, so their count caps what the
// parser would allocate (a flow sequence of a million digits would otherwise
// cost some 120 MiB before the tree could be checked).
func checkNesting(data []byte) error {
	depth, line, separators := 0, 1, 0
	inQuote := byte(0)
	for _, c := range data {
		if c == '\n' || c == ',' {
			separators++
			if separators > 2*MaxNodes {
				return &Error{Line: line, Column: 1, Msg: fmt.Sprintf("more than %d lines and list items; a release document is far smaller", 2*MaxNodes)}
			}
		}
		switch {
		case c == '\n':
			line++
			inQuote = 0 // quoted flow scalars spanning lines are not worth the precision
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case c == '"' || c == '\'':
			inQuote = c
		case c == '[' || c == '{':
			depth++
			if depth > MaxDepth {
				return &Error{Line: line, Column: 1, Msg: fmt.Sprintf("nesting deeper than %d levels", MaxDepth)}
			}
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

type walker struct {
	nodes    int
	problems []*Error
	// anchors holds the problem reported for each anchor, which names the
	// lines of its aliases: one finding per anchor, not one per use.
	anchors map[string]*anchor
	// at is the way from the root to the node being checked; its field path
	// is written out only for a problem (most documents have none).
	at []step
}

// step is a key of a mapping, or an index of a sequence when key is "" and index >= 0.
type step struct {
	key   string
	index int
}

// path is the field path of the node being checked: rollback.steps[2].owner.
func (w *walker) path() string {
	p := ""
	for _, s := range w.at {
		if s.index >= 0 {
			p = fmt.Sprintf("%s[%d]", p, s.index)
		} else {
			p = Join(p, s.key)
		}
	}
	return p
}

type anchor struct {
	err  *Error
	name string
	uses []string // lines of its aliases
}

// finish writes the anchors' messages once their uses are known.
func (w *walker) finish() {
	for _, a := range w.anchors {
		a.err.Msg = fmt.Sprintf("anchors and aliases (&, *) are not allowed: write the value of &%s out", a.name)
		if len(a.uses) > 0 {
			a.err.Value = strings.Join(a.uses, ", ")
			a.err.Msg += fmt.Sprintf(" where *%s is used (line %s)", a.name, a.err.Value)
		}
	}
}

// smallMapping is the number of keys up to which duplicates are found by
// comparing each key with those before it, without a map.
const smallMapping = 16

// check walks the tree: the limits end the walk (the tree is not worth
// reading further), everything else is a problem and the walk goes on.
func (w *walker) check(n *yaml.Node, depth int) error {
	w.nodes++
	if w.nodes > MaxNodes {
		return &Error{Line: n.Line, Column: n.Column, Path: w.path(), Msg: fmt.Sprintf("more than %d values in one document", MaxNodes)}
	}
	if depth > MaxDepth {
		return &Error{Line: n.Line, Column: n.Column, Path: w.path(), Msg: fmt.Sprintf("nesting deeper than %d levels", MaxDepth)}
	}
	if n.Kind == yaml.AliasNode {
		if a, ok := w.anchors[n.Value]; ok {
			a.uses = append(a.uses, strconv.Itoa(n.Line))
			return nil
		}
		w.problems = append(w.problems, &Error{Line: n.Line, Column: n.Column, Path: w.path(), Code: "alias",
			Msg: "anchors and aliases (&, *) are not allowed; write the value out"})
		return nil
	}
	if n.Anchor != "" {
		e := &Error{Line: n.Line, Column: n.Column, Path: w.path(), Code: "anchor", Name: n.Anchor}
		w.anchors[n.Anchor] = &anchor{err: e, name: n.Anchor}
		w.problems = append(w.problems, e)
	}
	if n.Tag != "" && n.Style&yaml.TaggedStyle != 0 && !standardTags[n.Tag] {
		w.problems = append(w.problems, &Error{Line: n.Line, Column: n.Column, Path: w.path(), Code: "tag", Value: n.Tag, Msg: fmt.Sprintf("tag %s is not allowed", n.Tag)})
	}
	switch n.Kind {
	case yaml.MappingNode:
		var seen map[string]int
		if len(n.Content) > 2*smallMapping {
			seen = make(map[string]int, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !plainKey(k) {
				w.problems = append(w.problems, &Error{Line: k.Line, Column: k.Column, Path: w.path(), Code: "key", Msg: "keys are plain names; merge keys (<<), anchors and complex keys are not allowed"})
				if err := w.check(v, depth+1); err != nil {
					return err
				}
				continue
			}
			first, dup := 0, false
			if seen != nil {
				if first, dup = seen[k.Value]; !dup {
					seen[k.Value] = k.Line
				}
			} else {
				first, dup = firstKey(n.Content[:i], k.Value)
			}
			w.at = append(w.at, step{key: k.Value, index: -1})
			if dup {
				w.problems = append(w.problems, &Error{Line: k.Line, Column: k.Column, Path: w.path(), Code: "duplicate", Name: k.Value, First: first,
					Msg: fmt.Sprintf("duplicate key %q (first on line %d)", k.Value, first)})
			}
			err := w.check(v, depth+1)
			w.at = w.at[:len(w.at)-1]
			if err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			w.at = append(w.at, step{index: i})
			err := w.check(c, depth+1)
			w.at = w.at[:len(w.at)-1]
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// firstKey finds the first plain key named name among a mapping's keys and
// values (pairs), and returns its line.
func firstKey(pairs []*yaml.Node, name string) (line int, ok bool) {
	for j := 0; j+1 < len(pairs); j += 2 {
		if k := pairs[j]; plainKey(k) && k.Value == name {
			return k.Line, true
		}
	}
	return 0, false
}

// plainKey reports a key Value and Find can use: a scalar that is no merge
// key and carries no anchor.
func plainKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag != "!!merge" && k.Anchor == ""
}

var standardTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true,
	"!!null": true, "!!map": true, "!!seq": true, "!!timestamp": true}

// Join appends a field name to a dotted field path.
func Join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// Value converts a checked tree to the JSON data model (map[string]any,
// []any, string, int64, float64, bool, nil) for schema validation. Plain
// scalars keep the type YAML 1.2 gives them, so `version: 1.10` is the number
// 1.1 and fails a string schema (with a hint to quote it) instead of silently
// becoming "1.1". Timestamps stay text: the schema checks their format.
//
// A tree with problems (ParseAll) is read as a person would mean it: the
// first of duplicate keys, an alias as the value it names (at most MaxNodes
// values in all, so aliases of aliases cannot multiply), merge and complex
// keys left out (they are reported already).
func Value(n *yaml.Node) (any, error) {
	budget := MaxNodes
	return value(n, &budget)
}

func value(n *yaml.Node, budget *int) (any, error) {
	*budget--
	if *budget < 0 {
		return nil, &Error{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("aliases make more than %d values; write the values out", MaxNodes)}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !plainKey(k) {
				continue
			}
			if _, dup := m[k.Value]; dup {
				continue
			}
			v, err := value(n.Content[i+1], budget)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := value(c, budget)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.AliasNode:
		if n.Alias != nil {
			return value(n.Alias, budget)
		}
	}
	return nil, &Error{Line: n.Line, Column: n.Column, Msg: "unsupported YAML node"}
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", nil
	case "!!int":
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			// Too large for int64, or an octal/hex form: keep the number as a float.
			f, ferr := strconv.ParseFloat(n.Value, 64)
			if ferr != nil {
				return nil, &Error{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("number %q is out of range", n.Value)}
			}
			return f, nil
		}
		return v, nil
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &Error{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("number %q is not a finite decimal; quote it if it is text", n.Value)}
		}
		return f, nil
	}
	return n.Value, nil
}

// Find returns the node at a path of keys and sequence indexes (as given by a
// JSON Schema instance location), and the key node naming it when it is a
// mapping value. It stops at the deepest node that exists.
func Find(root *yaml.Node, loc []string) (node, key *yaml.Node) {
	node = root
	for _, p := range loc {
		switch node.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == p {
					key, node, found = node.Content[i], node.Content[i+1], true
					break
				}
			}
			if !found {
				return node, key
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(node.Content) {
				return node, key
			}
			node, key = node.Content[i], nil
		default:
			return node, key
		}
	}
	return node, key
}

// KeyOf returns the key node of field in a mapping, or nil.
func KeyOf(m *yaml.Node, field string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == field {
			return m.Content[i]
		}
	}
	return nil
}

// PathString renders an instance location as a field path: plan.steps[2].owner.
func PathString(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
