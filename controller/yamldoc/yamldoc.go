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
	Msg          string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// Parse checks data and returns the root mapping node of its only document.
func Parse(data []byte) (*yaml.Node, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{Msg: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), MaxFileSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{Line: 1, Column: 1, Msg: "file is empty"}
	}
	if err := checkNesting(data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		return nil, err
	}
	var extra yaml.Node
	switch err := decode(dec, &extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, &Error{Line: extra.Line, Column: extra.Column, Msg: "a file holds one document; remove the second '---' document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{Line: 1, Column: 1, Msg: "file holds no YAML document"}
	}
	root := doc.Content[0]
	w := walker{}
	if err := w.check(root, "", 1); err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Line: root.Line, Column: root.Column, Msg: "a document is a mapping of fields (key: value)"}
	}
	return root, nil
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
	return &Error{Line: line, Column: 1, Msg: "YAML syntax: " + msg}
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

type walker struct{ nodes int }

func (w *walker) check(n *yaml.Node, path string, depth int) error {
	w.nodes++
	if w.nodes > MaxNodes {
		return &Error{Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("more than %d values in one document", MaxNodes)}
	}
	if depth > MaxDepth {
		return &Error{Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("nesting deeper than %d levels", MaxDepth)}
	}
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return &Error{Line: n.Line, Column: n.Column, Path: path, Msg: "anchors and aliases (&, *) are not allowed; write the value out"}
	}
	if n.Tag != "" && n.Style&yaml.TaggedStyle != 0 && !standardTags[n.Tag] {
		return &Error{Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("tag %s is not allowed", n.Tag)}
	}
	switch n.Kind {
	case yaml.MappingNode:
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" || k.Anchor != "" {
				return &Error{Line: k.Line, Column: k.Column, Path: path, Msg: "keys are plain names; merge keys (<<), anchors and complex keys are not allowed"}
			}
			if first, dup := seen[k.Value]; dup {
				return &Error{Line: k.Line, Column: k.Column, Path: Join(path, k.Value), Msg: fmt.Sprintf("duplicate key %q (first on line %d)", k.Value, first)}
			}
			seen[k.Value] = k.Line
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
func Value(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := Value(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := Value(c)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		return scalar(n)
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
