// Package scaffold writes new documents from templates. Each template starts
// with a yaml-language-server modeline pointing at the schemas relgate keeps
// in .relgate/schemas, so an editor completes and checks fields as the
// engineer types.
package scaffold

import (
	"bytes"
	"embed"
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

//go:embed templates/*.tmpl
var templates embed.FS

// SchemaDir is where editors find the schemas, relative to the repository root.
const SchemaDir = ".relgate/schemas"

// Values fill a template.
type Values struct {
	ID, Title, Type, Owner, Manager string
	Now                             string // RFC 3339, passed in so output is reproducible
}

// File is one file to write, relative to the repository root.
type File struct {
	Path    string
	Content []byte
}

// Release returns the files of a new release: its header and an empty plan.
func Release(v Values) ([]File, error) {
	if !document.ReleaseIDPattern.MatchString(v.ID) {
		return nil, fmt.Errorf("release id %q: want the form REL-2026-0042", v.ID)
	}
	if v.Type == "" {
		v.Type = "normal"
	}
	dir := document.ReleaseDir(v.ID)
	var out []File
	for _, name := range []string{"release.yaml", "plan.yaml"} {
		f, err := render(name+".tmpl", path.Join(dir, name), v)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
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

func render(tmpl, dest string, v Values) (File, error) {
	t, err := template.ParseFS(templates, "templates/"+tmpl)
	if err != nil {
		return File{}, err
	}
	data := struct {
		Values
		SchemaDir string
	}{v, relSchemaDir(dest)}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return File{}, err
	}
	return File{Path: dest, Content: b.Bytes()}, nil
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
