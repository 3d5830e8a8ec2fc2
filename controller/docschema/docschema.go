// Package docschema validates documents against relgate's JSON Schemas
// (schemas/, embedded in the binary) and turns schema errors into problems that
// point at the YAML line of the offending field and at the procedure clause
// the schema cites.
package docschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
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

// Problem is one schema violation located in the YAML file. Code names its
// kind in the message catalogue and the fields after it are what the message
// needs, so it can be told in the reader's language (Render) after the
// policy is known; Message is the English text, for callers that do not.
type Problem struct {
	Line, Column int
	Field        string
	Clause       string
	Message      string

	Code   string   // catalogue key; empty when Message is the whole text
	Name   string   // the field named (required, unknown fields)
	Title  string   // the schema's bilingual title of the field, "English / 中文"
	Reason string   // why it applies here (the bilingual description of an if/then)
	Value  string   // the value written, as the message shows it
	Got    string   // the JSON type written (type problems)
	Want   []string // allowed values, types, field names, or the pattern
	Limit  int      // the bound of a length, count or minimum
	Count  int      // what the document has
	Hint   string   // a variant of the message: quote, bool, approval
}

func (p Problem) key() string {
	return fmt.Sprintf("%d\x00%d\x00%s\x00%s\x00%s\x00%s", p.Line, p.Column, p.Field, p.Code, p.Name, p.Message)
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

var english = message.NewPrinter(language.English)

// Validate checks value (the JSON form of root) against the schema of kind.
// Each problem's Message is in English; Render tells it in another language
// with the repository's hints.
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
	s.leaves(k, ve, root, &out)
	out = misspelt(out)
	for i := range out {
		out[i].Message = Render(out[i], Hints{Lang: "en"})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Message < out[j].Message
	})
	return dedupe(out)
}

// misspelt drops "required field is missing" for a field whose misspelling
// is there: the unknown field's "did you mean" says it once, where it is.
func misspelt(ps []Problem) []Problem {
	meant := map[string]bool{}
	for _, p := range ps {
		if p.Code == "unknown" && p.Hint != "" {
			parent := strings.TrimSuffix(strings.TrimSuffix(p.Field, p.Name), ".")
			meant[yamldoc.Join(parent, p.Hint)] = true
		}
	}
	out := ps[:0]
	for _, p := range ps {
		if p.Code == "required" && meant[p.Field] {
			continue
		}
		out = append(out, p)
	}
	return out
}

func dedupe(ps []Problem) []Problem {
	out := ps[:0]
	seen := map[string]bool{}
	for _, p := range ps {
		if k := p.key(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

func (s *Set) leaves(dk document.Kind, e *jsonschema.ValidationError, root *yaml.Node, out *[]Problem) {
	if _, ok := e.ErrorKind.(*kind.PropertyNames); ok {
		// A key that is not a name allowed here: say it once, at the key.
		k := e.ErrorKind.(*kind.PropertyNames)
		loc := propertyNamesLocation(e)
		node, _ := yamldoc.Find(root, loc)
		at := yamldoc.KeyOf(node, k.Property)
		if at == nil {
			at = node
		}
		*out = append(*out, Problem{Line: at.Line, Column: at.Column, Field: yamldoc.Join(yamldoc.PathString(loc), k.Property),
			Clause: s.clause(e.SchemaURL), Code: "property-name", Value: k.Property})
		return
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			s.leaves(dk, c, root, out)
		}
		return
	}
	node, key := yamldoc.Find(root, e.InstanceLocation)
	at := node
	if key != nil {
		at = key
	}
	field := yamldoc.PathString(e.InstanceLocation)
	p := Problem{Line: node.Line, Column: node.Column, Field: field, Clause: s.clause(e.SchemaURL), Title: s.title(e.SchemaURL)}
	if node.Kind == yaml.ScalarNode {
		p.Value = strconv.Quote(node.Value)
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		// In the then of an if, the schema says why the field is needed here.
		inThen := strings.HasSuffix(e.SchemaURL, "/then")
		for _, m := range k.Missing {
			q := Problem{Line: at.Line, Column: at.Column, Field: yamldoc.Join(field, m), Code: "required", Name: m,
				Clause: s.clause(e.SchemaURL, "properties", m), Title: s.title(e.SchemaURL, "properties", m)}
			if inThen {
				q.Reason = s.description(e.SchemaURL, "properties", m)
			}
			*out = append(*out, q)
		}
	case *kind.AdditionalProperties:
		allowed := s.propertyNames(e.SchemaURL)
		for _, name := range k.Properties {
			kn := yamldoc.KeyOf(node, name)
			if kn == nil {
				kn = at
			}
			q := Problem{Line: kn.Line, Column: kn.Column, Field: yamldoc.Join(field, name), Code: "unknown",
				Name: name, Want: allowed}
			if c := closest(name, allowed, 1); len(c) > 0 {
				q.Hint = c[0]
			}
			*out = append(*out, q)
		}
	case *kind.Type:
		p.Line, p.Column, p.Code, p.Got, p.Want = at.Line, at.Column, "type", k.Got, k.Want
		p.Value = node.Value
		if node.Kind == yaml.ScalarNode && node.Style == 0 && contains(k.Want, "string") {
			p.Hint = "quote"
		}
		if node.Kind == yaml.ScalarNode && contains(k.Want, "boolean") {
			p.Hint = "bool"
		}
		*out = append(*out, p)
	case *kind.MinLength:
		p.Code, p.Limit, p.Count = "min-length", k.Want, k.Got
		if k.Got == 0 {
			p.Code = "empty"
		}
		*out = append(*out, p)
	case *kind.MaxLength:
		p.Code, p.Limit, p.Count = "max-length", k.Want, k.Got
		*out = append(*out, p)
	case *kind.MinItems:
		p.Code, p.Limit, p.Count = "min-items", k.Want, k.Got
		if len(e.InstanceLocation) > 0 {
			p.Name = e.InstanceLocation[len(e.InstanceLocation)-1]
		}
		*out = append(*out, p)
	case *kind.UniqueItems:
		p.Code, p.Limit, p.Count = "unique-items", k.Duplicates[0], k.Duplicates[1]
		*out = append(*out, p)
	case *kind.Const:
		p.Code, p.Want = "const", []string{display(k.Want)}
		p.Value = display(k.Got)
		if strings.Contains(e.SchemaURL, "/then") {
			p.Reason = s.description(e.SchemaURL)
		}
		*out = append(*out, p)
	case *kind.Enum:
		p.Code, p.Value = "enum", display(k.Got)
		for _, w := range k.Want {
			p.Want = append(p.Want, display(w))
		}
		*out = append(*out, p)
	case *kind.Minimum:
		p.Code, p.Want, p.Value = "minimum", []string{k.Want.RatString()}, k.Got.RatString()
		*out = append(*out, p)
	case *kind.Maximum:
		p.Code, p.Want, p.Value = "maximum", []string{k.Want.RatString()}, k.Got.RatString()
		*out = append(*out, p)
	case *kind.MinProperties:
		p.Code, p.Limit, p.Count = "min-properties", k.Want, k.Got
		*out = append(*out, p)
	case *kind.Format:
		p.Value = node.Value
		switch k.Want {
		case "date-time", "date", "email", "uri":
			p.Code = k.Want
		default:
			p.Message = k.LocalizedString(english)
			p.Code = "other"
		}
		*out = append(*out, p)
	case *kind.Pattern:
		p.Code, p.Value, p.Want = "pattern", k.Got, []string{k.Want}
		if dk == document.KindApproval && field == "digest" {
			p.Hint = "approval"
		}
		*out = append(*out, p)
	case *kind.Reference, *kind.Group, *kind.Schema:
		// Containers without causes carry nothing to report.
	default:
		p.Code, p.Message = "other", k.LocalizedString(english)
		*out = append(*out, p)
	}
}

// propertyNamesLocation is the object whose key failed propertyNames.
// jsonschema/v6.0.3 reports a wrong instance location for it (another
// field's), so where the schema is reached through properties only, the
// schema's own path says where the object is.
func propertyNamesLocation(e *jsonschema.ValidationError) []string {
	_, frag, _ := strings.Cut(e.SchemaURL, "#")
	segs := strings.Split(strings.Trim(frag, "/"), "/")
	if len(segs) == 0 || segs[len(segs)-1] != "propertyNames" || len(segs)%2 != 1 {
		return e.InstanceLocation
	}
	var loc []string
	for i := 0; i+1 < len(segs); i += 2 {
		if segs[i] != "properties" {
			return e.InstanceLocation
		}
		loc = append(loc, segs[i+1])
	}
	return loc
}

// display writes a JSON value as the document would: text in quotes.
func display(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
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

func (s *Set) description(schemaURL string, extra ...string) string {
	d, _ := s.lookup(schemaURL, extra...)["description"].(string)
	return d
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
