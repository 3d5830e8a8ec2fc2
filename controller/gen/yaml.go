package gen

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// marshal renders a document as YAML with two-space indentation. Versions
// are always double-quoted: yaml.v3 quotes only strings that would otherwise
// read as another type ("1.10"), but a plain 2.4.0 next to a quoted "1.10"
// invites someone to hand-write version: 1.10, a float.
func marshal(v any) ([]byte, error) {
	n, ok := toNode(reflect.ValueOf(v))
	if !ok {
		n = &yaml.Node{}
		if err := n.Encode(v); err != nil {
			return nil, fmt.Errorf("encode %T: %w", v, err)
		}
	}
	style(n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// toNode builds the YAML tree of a document the way yaml.Node.Encode does,
// without the round trip through text it makes (which took a third of the
// generator's time): structs with yaml tags (omitempty, inline), pointers,
// slices, strings, booleans and integers. It reports false for anything
// else (maps, floats), which marshal then encodes through yaml.v3.
func toNode(v reflect.Value) (*yaml.Node, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, true
		}
		return toNode(v.Elem())
	case reflect.String:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.String()}
		switch {
		case strings.Contains(n.Value, "\n"):
			n.Style = yaml.LiteralStyle
		case yaml11Scalar(n.Value):
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, true
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v.Bool())}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v.Int(), 10)}, true
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < v.Len(); i++ {
			c, ok := toNode(v.Index(i))
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, c)
		}
		return n, true
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		return n, fields(n, v)
	}
	return nil, false
}

// yaml11Scalar reports the strings yaml.v3 quotes although YAML 1.2 reads
// them as strings, because YAML 1.1 read them as booleans (yes, off) or
// base-60 numbers (1:20).
func yaml11Scalar(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return true
	}
	return strings.IndexByte(s, ':') >= 0 && base60.MatchString(s)
}

var base60 = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

// fields adds the fields of struct v to mapping n.
func fields(n *yaml.Node, v reflect.Value) bool {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.PkgPath != "" {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if opts == "inline" {
			if fv.Kind() != reflect.Struct || !fields(n, fv) {
				return false
			}
			continue
		}
		if opts != "" && opts != "omitempty" {
			return false
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if opts == "omitempty" && zero(fv) {
			continue
		}
		c, ok := toNode(fv)
		if !ok {
			return false
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, c)
	}
	return true
}

// zero is yaml.v3's test for omitempty.
func zero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).PkgPath == "" && !zero(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return !v.IsValid() || v.IsZero()
}

// shortList is the length under which a list of scalars is written on one
// line (testers: [li-na, wu-hao]), as people write them by hand.
const shortList = 60

// style sets the flow style of short lists and quotes versions.
func style(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		size := 0
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				size = shortList
				break
			}
			size += len(c.Value) + 2
		}
		if size < shortList {
			n.Style = yaml.FlowStyle
		}
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "version" && v.Kind == yaml.ScalarNode {
				v.Style = yaml.DoubleQuotedStyle
			}
		}
	}
	for _, c := range n.Content {
		style(c)
	}
}
