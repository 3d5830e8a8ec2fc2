// Package scaffold writes new documents from templates. Each template starts
// with a yaml-language-server modeline pointing at the schemas relgate keeps
// in .relgate/schemas, so an editor completes and checks fields as the
// engineer types. What the repository already knows (people of the right
// role, the release's items and their CMDB versions, the plan's rollback) is
// filled in; what only a person can write is an empty value whose comment,
// in the policy's language, starts with Mark and says what to write.
package scaffold

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/schemas"
)

//go:embed templates/*.tmpl templates/workflow.yml
var templates embed.FS

// SchemaDir is where editors find the schemas, relative to the repository root.
const SchemaDir = ".relgate/schemas"

// Mark starts the comment of every value a person must write.
const Mark = "✎"

// Values fill a template. Times are RFC 3339 in the policy's timezone; an
// empty value is left for a person to write.
type Values struct {
	ID, Title, Type, Owner, Manager string
	Now                             string // passed in so output is reproducible
	// Lang is the policy's language, "zh" (the default) or "en".
	Lang string
	// Example is a time in the policy's timezone shown in comments.
	Example string
	// Release header: what the flags and the CMDB give.
	Types                   []string
	Systems, Changes, Depts []string
	Items                   []document.Item
	Testers, Implementers   []string
	CustomerRepresentative  string
	Start, End              string
	// Categories are the test categories a test report covers.
	Categories []string
	// Choices are the logins holding each role, for comments.
	Choices map[string][]string
	// What a release's documents know from its folder.
	Release *document.Release
	Plan    *document.Plan
	GoLive  *document.GoLive
	// Installs are the items the release installs (not retired): what is
	// tested and deployed.
	Installs []document.Item
	// Restore are the items' current CMDB versions (the plan's rollback target).
	Restore []document.VersionRef
	// Files are the release's documents, for the closure's archive list.
	Files []string
	// Failed are the quarter's failed releases; Participants the people of
	// the process, for the quarterly review.
	Failed, Participants []string
}

// File is one file to write, relative to the repository root.
type File struct {
	Path    string
	Content []byte
}

// Kinds are what `relgate new` writes, in lifecycle order.
var Kinds = []string{"cmdb-item", "change", "release", "plan", "test-report", "golive", "communication", "deployment", "closure", "review"}

// ReleaseFile is the file of the release folder each release document kind is written to.
var ReleaseFile = map[string]string{
	"plan": "plan.yaml", "test-report": "test-report.yaml", "golive": "golive.yaml",
	"communication": "communication.yaml", "deployment": "deployment.yaml", "closure": "closure.yaml",
}

// Release returns the files of a new release: its header and its plan.
func Release(v Values) ([]File, error) {
	if !document.ReleaseIDPattern.MatchString(v.ID) {
		return nil, fmt.Errorf("release id %q: want the form REL-2026-0042", v.ID)
	}
	if v.Type == "" {
		v.Type = "normal"
	}
	rel, err := render("release.yaml.tmpl", path.Join(document.ReleaseDir(v.ID), "release.yaml"), v)
	if err != nil {
		return nil, err
	}
	plan, err := Document("plan", v)
	if err != nil {
		return nil, err
	}
	return append([]File{rel}, plan...), nil
}

// Document returns the file of a release document kind (plan, test-report,
// golive, communication, deployment, closure) of release v.ID.
func Document(kind string, v Values) ([]File, error) {
	name, ok := ReleaseFile[kind]
	if !ok {
		return nil, fmt.Errorf("%s is not a release document; want one of plan, test-report, golive, communication, deployment, closure", kind)
	}
	if !document.ReleaseIDPattern.MatchString(v.ID) {
		return nil, fmt.Errorf("release id %q: want the form REL-2026-0042", v.ID)
	}
	f, err := render(name+".tmpl", path.Join(document.ReleaseDir(v.ID), name), v)
	return []File{f}, err
}

// Change returns the file of a new change request.
func Change(v Values) ([]File, error) {
	if !document.ChangeIDPattern.MatchString(v.ID) {
		return nil, fmt.Errorf("change id %q: want the form CHG-2026-0012", v.ID)
	}
	f, err := render("change.yaml.tmpl", document.ChangePath(v.ID), v)
	return []File{f}, err
}

// CMDBItem returns the file of a new configuration item.
func CMDBItem(v Values) ([]File, error) {
	if !document.ItemIDPattern.MatchString(v.ID) {
		return nil, fmt.Errorf("configuration item id %q: want lower-case letters, digits and dashes", v.ID)
	}
	f, err := render("cmdb-item.yaml.tmpl", document.CMDBPath(v.ID), v)
	return []File{f}, err
}

// Review returns the file of a quarterly process review; v.ID is the quarter.
func Review(v Values) ([]File, error) {
	if !document.QuarterPattern.MatchString(v.ID) {
		return nil, fmt.Errorf("quarter %q: want the form 2026Q4", v.ID)
	}
	f, err := render("review.yaml.tmpl", path.Join(document.ReviewsDir, v.ID+".yaml"), v)
	return []File{f}, err
}

func render(tmpl, dest string, v Values) (File, error) {
	t, err := newTemplate(tmpl, v.Lang)
	if err != nil {
		return File{}, err
	}
	data := struct {
		Values
		SchemaDir string
	}{v, relSchemaDir(dest)}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return File{}, fmt.Errorf("template %s: %w", tmpl, err)
	}
	return File{Path: dest, Content: b.Bytes()}, nil
}

func newTemplate(tmpl, lang string) (*template.Template, error) {
	return template.New(tmpl).Funcs(funcs(lang)).ParseFS(templates, "templates/"+tmpl)
}

// funcs are the helpers templates write YAML with. Every string value is
// written double-quoted (JSON's escapes are YAML's), so no input can change
// the document's structure.
func funcs(lang string) template.FuncMap {
	tr := func(zh, en string) string {
		if lang == "en" {
			return en
		}
		return zh
	}
	todo := func(zh, en string) string { return `""  # ` + Mark + " " + tr(zh, en) }
	return template.FuncMap{
		"tr":   tr,
		"q":    quote,
		"todo": todo,
		// val writes v, or the placeholder a person fills in.
		"val": func(v, zh, en string) string {
			if v == "" {
				return todo(zh, en)
			}
			return quote(v)
		},
		// list writes a block sequence at indent, or one placeholder item;
		// an empty item (copied from a document not yet filled in) is a
		// placeholder too.
		"list": func(indent string, vs []string, zh, en string) string {
			if len(vs) == 0 {
				return "\n" + indent + "- " + todo(zh, en)
			}
			var b strings.Builder
			for _, v := range vs {
				if v == "" {
					b.WriteString("\n" + indent + "- " + todo(zh, en))
				} else {
					b.WriteString("\n" + indent + "- " + quote(v))
				}
			}
			return b.String()
		},
		// choices lists the holders of a role for a comment.
		"choices": func(logins []string) string {
			if len(logins) == 0 {
				return tr("（策略中无人担任）", "(nobody in the policy)")
			}
			return strings.Join(logins, tr("、", ", "))
		},
		"first": func(vs []string) string {
			if len(vs) == 0 {
				return ""
			}
			return vs[0]
		},
	}
}

// quote writes s as a YAML double-quoted scalar.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return `""`
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// relSchemaDir is the schema folder as seen from a file's folder.
func relSchemaDir(file string) string {
	depth := strings.Count(file, "/")
	return strings.Repeat("../", depth) + SchemaDir
}

// SchemaFiles returns the embedded schemas as files under .relgate/schemas.
func SchemaFiles() ([]File, error) {
	var out []File
	err := fs.WalkDir(schemas.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := schemas.FS.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: path.Join(SchemaDir, p), Content: data})
		return nil
	})
	return out, err
}

// ErrExists is returned when a file to create is already there.
var ErrExists = errors.New("already exists")

// Existing returns the paths of files that are already under root.
func Existing(root string, files []File) []string {
	var out []string
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f.Path))); err == nil {
			out = append(out, f.Path)
		}
	}
	return out
}

// Write writes files under root. New files never replace existing ones
// unless overwrite is set; paths never leave root or pass through a symlink.
func Write(root string, files []File, overwrite bool) error {
	for _, f := range files {
		if !fs.ValidPath(f.Path) {
			return fmt.Errorf("write %s: %w", f.Path, fs.ErrInvalid)
		}
		full := filepath.Join(root, filepath.FromSlash(f.Path))
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			info, err := os.Lstat(filepath.Join(root, filepath.FromSlash(d)))
			if err == nil && info.Mode()&fs.ModeSymlink != 0 {
				return fmt.Errorf("write %s: %s is a symlink; relgate does not write through links", f.Path, d)
			}
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if overwrite {
			flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			if info, err := os.Lstat(full); err == nil && !info.Mode().IsRegular() {
				return fmt.Errorf("write %s: not a regular file", f.Path)
			}
		}
		out, err := os.OpenFile(full, flags, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("write %s: %w", f.Path, ErrExists)
		}
		if err != nil {
			return err
		}
		if _, err := out.Write(f.Content); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	return nil
}
