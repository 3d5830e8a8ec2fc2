// Package docschema validates documents against relgate's JSON Schemas
// (schemas/, embedded in the binary) and turns schema errors into problems that
// point at the YAML line of the offending field and at the procedure clause
// the schema cites.
package docschema

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/yamldoc"
	"github.com/relgate/relgate/schemas"
)

// Problem is one schema violation located in the YAML file.
type Problem struct {
	Line, Column int
	Field        string
	Clause       string
	Message      string
}

// Set is the compiled schemas, one per document kind.
type Set struct {
	byKind map[document.Kind]*jsonschema.Schema
	raw    map[string]any // schema URL (without fragment) -> parsed schema JSON
}

var (
	once     sync.Once
	embedded *Set
	embedErr error
)

// Embedded returns the schemas built into the binary, compiled once.
func Embedded() (*Set, error) {
	once.Do(func() { embedded, embedErr = compile() })
	return embedded, embedErr
}

func compile() (*Set, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	s := &Set{byKind: map[document.Kind]*jsonschema.Schema{}, raw: map[string]any{}}
	for _, k := range document.Kinds {
		file := schemas.FileFor(string(k))
		data, err := schemas.FS.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("schema for %s: %w", k, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", file, err)
		}
		u := URL(k)
		if err := c.AddResource(u, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", file, err)
		}
		s.raw[u] = doc
	}
	for _, k := range document.Kinds {
		sch, err := c.Compile(URL(k))
		if err != nil {
			return nil, fmt.Errorf("compile schema for %s: %w", k, err)
		}
		s.byKind[k] = sch
	}
	return s, nil
}

// URL is the $id of a kind's schema.
func URL(k document.Kind) string {
	return "https://relgate.dev/schemas/v1/" + schemas.FileFor(string(k))
}

var printer = message.NewPrinter(language.English)

// Validate checks value (the JSON form of root) against the schema of kind.
func (s *Set) Validate(k document.Kind, root *yaml.Node, value any) []Problem {
	sch := s.byKind[k]
	if sch == nil {
		return []Problem{{Line: root.Line, Column: root.Column, Field: "kind", Message: fmt.Sprintf("unknown kind %q", k)}}
	}
	err := sch.Validate(value)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Problem{{Line: root.Line, Column: root.Column, Message: err.Error()}}
	}
	var out []Problem
	s.leaves(ve, root, &out)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Message < out[j].Message
	})
	return dedupe(out)
}

func dedupe(ps []Problem) []Problem {
	out := ps[:0]
	seen := map[Problem]bool{}
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func (s *Set) leaves(e *jsonschema.ValidationError, root *yaml.Node, out *[]Problem) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			s.leaves(c, root, out)
		}
		return
	}
	node, key := yamldoc.Find(root, e.InstanceLocation)
	at := node
	if key != nil {
		at = key
	}
	field := yamldoc.PathString(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			msg := "required field is missing"
			if t := s.title(e.SchemaURL, "properties", m); t != "" {
				msg += " (" + t + ")"
			}
			*out = append(*out, Problem{Line: at.Line, Column: at.Column, Field: yamldoc.Join(field, m),
				Clause: s.clause(e.SchemaURL, "properties", m), Message: msg})
		}
	case *kind.AdditionalProperties:
		allowed := s.propertyNames(e.SchemaURL)
		for _, p := range k.Properties {
			kn := yamldoc.KeyOf(node, p)
			if kn == nil {
				kn = at
			}
			msg := "unknown field"
			if len(allowed) > 0 {
				msg += "; allowed here: " + strings.Join(allowed, ", ")
			}
			*out = append(*out, Problem{Line: kn.Line, Column: kn.Column, Field: yamldoc.Join(field, p), Message: msg})
		}
	case *kind.Type:
		msg := k.LocalizedString(printer)
		if node.Kind == yaml.ScalarNode && node.Style == 0 && contains(k.Want, "string") {
			msg += fmt.Sprintf("; write it in quotes (\"%s\") so YAML keeps it as text", node.Value)
		}
		if node.Kind == yaml.ScalarNode && contains(k.Want, "boolean") {
			msg += "; write true or false"
		}
		*out = append(*out, Problem{Line: at.Line, Column: at.Column, Field: field, Clause: s.clause(e.SchemaURL), Message: msg})
	case *kind.Reference, *kind.Group, *kind.Schema:
		// Containers without causes carry nothing to report.
	default:
		line, col := node.Line, node.Column
		*out = append(*out, Problem{Line: line, Column: col, Field: field, Clause: s.clause(e.SchemaURL), Message: k.LocalizedString(printer)})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// lookup returns the schema object at an absolute schema URL plus extra pointer segments.
func (s *Set) lookup(schemaURL string, extra ...string) map[string]any {
	base, frag, _ := strings.Cut(schemaURL, "#")
	cur, ok := s.raw[base].(map[string]any)
	if !ok {
		return nil
	}
	var segs []string
	for _, p := range strings.Split(frag, "/") {
		if p == "" {
			continue
		}
		p, _ = url.PathUnescape(p)
		segs = append(segs, strings.NewReplacer("~1", "/", "~0", "~").Replace(p))
	}
	segs = append(segs, extra...)
	var v any = cur
	for _, seg := range segs {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i := 0
			fmt.Sscan(seg, &i)
			if i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	m, _ := v.(map[string]any)
	return m
}

func (s *Set) title(schemaURL string, extra ...string) string {
	t, _ := s.lookup(schemaURL, extra...)["title"].(string)
	return t
}

func (s *Set) propertyNames(schemaURL string) []string {
	props, _ := s.lookup(schemaURL)["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var clauseRE = regexp.MustCompile(`R-[0-9]+(?:\.[0-9]+)*`)

// clause finds the procedure clause cited by the schema at the error, or by
// the nearest enclosing schema that cites one.
func (s *Set) clause(schemaURL string, extra ...string) string {
	base, frag, _ := strings.Cut(schemaURL, "#")
	segs := append(strings.Split(strings.Trim(frag, "/"), "/"), extra...)
	for len(segs) >= 0 {
		u := base + "#/" + strings.Join(segs, "/")
		if m := s.lookup(u); m != nil {
			if d, ok := m["description"].(string); ok {
				if ids := clauseRE.FindAllString(d, -1); len(ids) > 0 {
					return strings.Join(unique(ids), ", ")
				}
			}
		}
		if len(segs) == 0 {
			break
		}
		segs = segs[:len(segs)-1]
	}
	return ""
}

func unique(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
