// Package source defines how relgate reads a release repository at one
// revision, and implements it for a directory on disk. The git implementation
// lives in gitrepo; both identify a file's content by its git blob id, so a
// digest or a cached result is the same whichever way the file was read.
package source

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// BlobID is the git object id of a file's content.
type BlobID [20]byte

func (b BlobID) String() string { return hex.EncodeToString(b[:]) }

// IsZero reports whether b is unset.
func (b BlobID) IsZero() bool { return b == BlobID{} }

// HashBlob computes the id git gives content as a blob.
func HashBlob(content []byte) BlobID {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(content)) + "\x00"))
	h.Write(content)
	var id BlobID
	copy(id[:], h.Sum(nil))
	return id
}

// Entry is a regular file in a tree.
type Entry struct {
	Path string // slash-separated, relative to the repository root
	ID   BlobID
	Size int64
	// NotRegular marks a symlink, submodule or other non-file. The ID of a
	// regular file listed from disk is zero until its content is read.
	NotRegular bool
}

// ErrTooLarge is returned for a file larger than relgate reads.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is returned for a path that is a symlink or another non-file:
// relgate never follows a link out of the repository.
var ErrNotRegular = errors.New("not a regular file")

// Tree is a read-only view of a release repository at one revision.
type Tree interface {
	// Name says which revision this is, for messages: "work tree" or a commit id.
	Name() string
	// List returns the regular files under dir ("" for all), sorted by path.
	// Symlinks and submodules are listed with NotRegular so callers can report them.
	List(dir string) ([]Entry, error)
	// Stat returns the entry at p, fs.ErrNotExist, or ErrNotRegular.
	Stat(p string) (Entry, error)
	// Read returns the content of the file at p.
	Read(p string) ([]byte, error)
}

// Dir is a release repository's work tree on disk.
type Dir struct {
	Root string
}

var _ Tree = Dir{}

// Name implements Tree.
func (d Dir) Name() string { return "work tree" }

// List implements Tree. Hidden folders (.git, .relgate) are skipped.
func (d Dir) List(dir string) ([]Entry, error) {
	var out []Entry
	base := filepath.Join(d.Root, filepath.FromSlash(dir))
	err := filepath.WalkDir(base, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == base {
				return fs.SkipAll
			}
			return err
		}
		rel, _ := filepath.Rel(d.Root, p)
		rel = filepath.ToSlash(rel)
		if de.IsDir() {
			if p != base && de.Name()[0] == '.' {
				return fs.SkipDir
			}
			return nil
		}
		if de.Type()&fs.ModeType != 0 { // symlink, device, socket...
			out = append(out, Entry{Path: rel, NotRegular: true})
			return nil
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		e := Entry{Path: rel, Size: info.Size()}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Stat implements Tree. The id of a file on disk is only known after reading
// it, so Stat reads small files to fill it.
func (d Dir) Stat(p string) (Entry, error) {
	full, err := d.path(p)
	if err != nil {
		return Entry{}, err
	}
	info, err := os.Lstat(full)
	if err != nil {
		return Entry{}, err
	}
	if !info.Mode().IsRegular() {
		return Entry{Path: p, NotRegular: true}, fmt.Errorf("%s: %w", p, ErrNotRegular)
	}
	data, err := d.Read(p)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Path: p, ID: HashBlob(data), Size: info.Size()}, nil
}

// Read implements Tree.
func (d Dir) Read(p string) ([]byte, error) {
	full, err := d.path(p)
	if err != nil {
		return nil, err
	}
	info, err := os.Lstat(full)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", p, ErrNotRegular)
	}
	return os.ReadFile(full)
}

// path confines p to the root: no absolute paths, no "..", and no symlinked
// directory on the way.
func (d Dir) path(p string) (string, error) {
	if !fs.ValidPath(p) {
		return "", fmt.Errorf("%s: %w", p, fs.ErrInvalid)
	}
	cur := d.Root
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		info, err := os.Lstat(filepath.Join(d.Root, filepath.FromSlash(dir)))
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("%s: %w", dir, ErrNotRegular)
		}
	}
	return filepath.Join(cur, filepath.FromSlash(p)), nil
}

// ReadListed reads a file that List returned. List walks without following
// links, so the folders on the way are real; only the file itself is checked
// (opened without following a link), which saves a system call per folder.
func (d Dir) ReadListed(e Entry) ([]byte, error) {
	if !fs.ValidPath(e.Path) {
		return nil, fmt.Errorf("%s: %w", e.Path, fs.ErrInvalid)
	}
	f, err := os.OpenFile(filepath.Join(d.Root, filepath.FromSlash(e.Path)), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", e.Path, ErrNotRegular)
	}
	if info.Size() > 4<<20 {
		return nil, fmt.Errorf("%s: %w", e.Path, ErrTooLarge)
	}
	buf := make([]byte, info.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Overlay is Base with the files at Paths taken from Over instead: the tree
// a merge would give when Over's branch changed exactly Paths since the two
// branches parted. A path in Paths that Over lacks is deleted.
type Overlay struct {
	Base, Over Tree
	Paths      map[string]bool
	Label      string
}

var _ Tree = Overlay{}

// Name implements Tree.
func (o Overlay) Name() string { return o.Label }

// List implements Tree.
func (o Overlay) List(dir string) ([]Entry, error) {
	base, err := o.Base.List(dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range base {
		if !o.Paths[e.Path] {
			out = append(out, e)
		}
	}
	d := strings.Trim(dir, "/")
	for p := range o.Paths {
		if d != "" && !strings.HasPrefix(p, d+"/") || hidden(p) {
			continue
		}
		e, err := o.Over.Stat(p)
		switch {
		case err == nil:
			out = append(out, e)
		case errors.Is(err, ErrNotRegular):
			e.Path, e.NotRegular = p, true
			out = append(out, e)
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// hidden: trees list no file inside a folder whose name starts with a dot.
func hidden(p string) bool {
	parts := strings.Split(p, "/")
	for _, s := range parts[:len(parts)-1] {
		if strings.HasPrefix(s, ".") {
			return true
		}
	}
	return false
}

func (o Overlay) pick(p string) Tree {
	if o.Paths[p] {
		return o.Over
	}
	return o.Base
}

// Stat implements Tree.
func (o Overlay) Stat(p string) (Entry, error) { return o.pick(p).Stat(p) }

// Read implements Tree.
func (o Overlay) Read(p string) ([]byte, error) { return o.pick(p).Read(p) }

// ReadBlob reads a blob by id when both trees are of one git repository.
func (o Overlay) ReadBlob(id BlobID) ([]byte, error) {
	if r, ok := o.Base.(interface {
		ReadBlob(BlobID) ([]byte, error)
	}); ok {
		return r.ReadBlob(id)
	}
	return nil, fmt.Errorf("read blob %s: %w", id, errors.ErrUnsupported)
}

// ReadBlobMax reads a blob by id when both trees are of one git repository,
// refusing one over max bytes before reading it.
func (o Overlay) ReadBlobMax(id BlobID, max int64) ([]byte, error) {
	if r, ok := o.Base.(interface {
		ReadBlobMax(BlobID, int64) ([]byte, error)
	}); ok {
		return r.ReadBlobMax(id, max)
	}
	return nil, fmt.Errorf("read blob %s: %w", id, errors.ErrUnsupported)
}
