package gen

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// marshal renders a document as YAML with two-space indentation. Versions
// are always double-quoted: yaml.v3 quotes only strings that would otherwise
// read as another type ("1.10"), but a plain 2.4.0 next to a quoted "1.10"
// invites someone to hand-write version: 1.10, a float.
func marshal(v any) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	style(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
