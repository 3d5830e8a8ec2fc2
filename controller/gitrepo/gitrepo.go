// Package gitrepo is relgate's adapter to git, built on go-git: it opens a
// repository fast (kept file descriptors, an object cache), resolves
// revisions, and reads a release repository at a commit without a work tree.
package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/relgate/relgate/controller/source"
)

// Repo is an open git repository.
type Repo struct {
	Git     *git.Repository
	storage *filesystem.Storage
	// WorkDir is the work tree's root, or "" for a bare repository.
	WorkDir string
}

// ErrNotRepository is returned by Open for a directory that is not in a git repository.
var ErrNotRepository = errors.New("not a git repository")

// Open opens the repository containing dir (its work tree or a bare repository).
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if info, err := os.Stat(filepath.Join(d, ".git")); err == nil && info.IsDir() {
			return open(filepath.Join(d, ".git"), d)
		}
		if isBare(d) {
			return open(d, "")
		}
		if filepath.Dir(d) == d {
			return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
		}
	}
}

func isBare(d string) bool {
	for _, f := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(d, f)); err != nil {
			return false
		}
	}
	return true
}

func open(gitDir, workDir string) (*Repo, error) {
	return openLazy(gitDir, workDir, MaxBlobSize, 64*cache.MiByte)
}

// blobReaderCache is the object cache of a repository that BlobReaders opens.
// go-git keeps every object it inflates in that cache; a reader of every
// blob at one revision reads each once, so a large cache only keeps them all
// alive (10,000 releases: some 30 MB per reader, tripled by the collector's
// headroom). The few blobs stored as deltas find a recent base in a small one.
const blobReaderCache = 1 * cache.MiByte

// openLazy opens a repository whose objects over lazy bytes are not read
// into memory when looked up: their size comes from the object header, and
// ReadBlobMax refuses one over its limit before inflating it. Its object
// cache holds up to cacheSize bytes.
func openLazy(gitDir, workDir string, lazy int64, cacheSize cache.FileSize) (*Repo, error) {
	// KeepDescriptors keeps pack files open between reads: twice as fast on
	// large repositories (shared/GIT-NOTES.md).
	st := filesystem.NewStorageWithOptions(osfs.New(gitDir), cache.NewObjectLRU(cacheSize),
		// Alternates (git clone --shared, common in CI) name absolute paths.
		filesystem.Options{KeepDescriptors: true, AlternatesFS: osfs.New("/"), LargeObjectThreshold: lazy})
	var wt billy.Filesystem
	if workDir != "" {
		wt = osfs.New(workDir)
	}
	r, err := git.Open(st, wt)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", gitDir, err)
	}
	return &Repo{Git: r, storage: st, WorkDir: workDir}, nil
}

// Close releases the kept file descriptors.
func (r *Repo) Close() error { return r.storage.Close() }

// GitDir is the repository's git directory.
func (r *Repo) GitDir() string {
	if fsys, ok := r.storage.Filesystem().(interface{ Root() string }); ok {
		return fsys.Root()
	}
	return ""
}

// Resolve turns a revision (HEAD, a branch, a tag, a commit id, HEAD~2) into a commit id.
func (r *Repo) Resolve(rev string) (plumbing.Hash, error) {
	h, err := r.Git.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("resolve revision %q: %w", rev, err)
	}
	return *h, nil
}

// TreeAt returns the release repository as of a commit. prefix is the
// release repository's folder inside the git repository ("" for its root).
func (r *Repo) TreeAt(commit plumbing.Hash, prefix string) (*Tree, error) {
	c, err := r.Git.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", commit, err)
	}
	root, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", commit, err)
	}
	t := &Tree{repo: r, commit: commit, dirs: map[string]*object.Tree{"": root}}
	if prefix = strings.Trim(prefix, "/"); prefix != "" && prefix != "." {
		sub, err := t.dir(prefix)
		if err != nil {
			return nil, fmt.Errorf("folder %s at %s: %w", prefix, commit, err)
		}
		t.dirs = map[string]*object.Tree{"": sub}
	}
	return t, nil
}

// Prefix returns the path of dir relative to the work tree root, for TreeAt.
func (r *Repo) Prefix(dir string) (string, error) {
	if r.WorkDir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	root := r.WorkDir
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%s is outside the work tree %s", dir, r.WorkDir)
	}
	if rel == "." {
		return "", nil
	}
	return filepath.ToSlash(rel), nil
}

// Tree is a release repository at one commit. It caches the folders it has
// decoded, so looking up many files in one release decodes each folder once.
type Tree struct {
	repo   *Repo
	commit plumbing.Hash
	mu     sync.Mutex
	dirs   map[string]*object.Tree
}

var _ source.Tree = (*Tree)(nil)

// Commit is the commit this tree belongs to.
func (t *Tree) Commit() plumbing.Hash { return t.commit }

// Name implements source.Tree.
func (t *Tree) Name() string { return t.commit.String()[:12] }

// dir returns the folder at p, decoding each level once.
func (t *Tree) dir(p string) (*object.Tree, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dirLocked(p)
}

func (t *Tree) dirLocked(p string) (*object.Tree, error) {
	if d, ok := t.dirs[p]; ok {
		if d == nil {
			return nil, fs.ErrNotExist
		}
		return d, nil
	}
	parent, err := t.dirLocked(parentDir(p))
	if err != nil {
		return nil, err
	}
	e, err := parent.FindEntry(path.Base(p))
	if err != nil || e.Mode != filemode.Dir {
		t.dirs[p] = nil
		return nil, fs.ErrNotExist
	}
	d, err := t.repo.Git.TreeObject(e.Hash)
	if err != nil {
		return nil, fmt.Errorf("read tree %s at %s: %w", p, t.Name(), err)
	}
	t.dirs[p] = d
	return d, nil
}

func parentDir(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

// List implements source.Tree.
func (t *Tree) List(dir string) ([]source.Entry, error) {
	d, err := t.dir(strings.Trim(dir, "/"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []source.Entry
	err = t.walk(d, strings.Trim(dir, "/"), func(e source.Entry) { out = append(out, e) })
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

func (t *Tree) walk(d *object.Tree, prefix string, fn func(source.Entry)) error {
	for _, e := range d.Entries {
		p := e.Name
		if prefix != "" {
			p = prefix + "/" + e.Name
		}
		switch e.Mode {
		case filemode.Dir:
			if strings.HasPrefix(e.Name, ".") {
				continue
			}
			sub, err := t.repo.Git.TreeObject(e.Hash)
			if err != nil {
				return fmt.Errorf("read tree %s at %s: %w", p, t.Name(), err)
			}
			if err := t.walk(sub, p, fn); err != nil {
				return err
			}
		case filemode.Regular, filemode.Executable:
			fn(source.Entry{Path: p, ID: source.BlobID(e.Hash)})
		default:
			fn(source.Entry{Path: p, ID: source.BlobID(e.Hash), NotRegular: true})
		}
	}
	return nil
}

// Stat implements source.Tree.
func (t *Tree) Stat(p string) (source.Entry, error) {
	if !fs.ValidPath(p) || p == "." {
		return source.Entry{}, fmt.Errorf("%s: %w", p, fs.ErrInvalid)
	}
	d, err := t.dir(parentDir(p))
	if err != nil {
		return source.Entry{}, err
	}
	e, err := d.FindEntry(path.Base(p))
	if err != nil {
		return source.Entry{}, fs.ErrNotExist
	}
	out := source.Entry{Path: p, ID: source.BlobID(e.Hash)}
	switch e.Mode {
	case filemode.Regular, filemode.Executable:
		return out, nil
	case filemode.Dir:
		return source.Entry{}, fs.ErrNotExist
	}
	out.NotRegular = true
	return out, fmt.Errorf("%s: %w", p, source.ErrNotRegular)
}

// Read implements source.Tree.
func (t *Tree) Read(p string) ([]byte, error) {
	e, err := t.Stat(p)
	if err != nil {
		return nil, err
	}
	return t.repo.ReadBlob(e.ID)
}

// ReadBlob reads a blob of this tree's repository by id.
func (t *Tree) ReadBlob(id source.BlobID) ([]byte, error) { return t.repo.ReadBlob(id) }

// ReadBlobMax reads a blob of this tree's repository by id, refusing one over max bytes unread.
func (t *Tree) ReadBlobMax(id source.BlobID, max int64) ([]byte, error) {
	return t.repo.ReadBlobMax(id, max)
}

// MaxBlobSize is the largest blob relgate reads into memory.
const MaxBlobSize = 4 << 20

// BlobSize returns a blob's size from its object header (loose or packed),
// without inflating its content. It is -1 when the header cannot be found
// in this repository's own objects (an object of an alternate).
func (r *Repo) BlobSize(id source.BlobID) (int64, error) {
	n, err := r.storage.EncodedObjectSize(plumbing.Hash(id))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		// go-git's EncodedObjectSize does not look in alternates; the read
		// that follows does, and checks the size it finds there.
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("size of blob %s: %w", id, err)
	}
	return n, nil
}

// ReadBlob returns a blob's content, at most MaxBlobSize bytes.
func (r *Repo) ReadBlob(id source.BlobID) ([]byte, error) { return r.ReadBlobMax(id, MaxBlobSize) }

// ReadBlobMax returns a blob's content. A blob over max bytes (or over
// MaxBlobSize) is source.ErrTooLarge, known from its object header: a 50 MB
// blob costs a header read, not 50 MB. (A loose blob between max and the
// repository's lazy size, at most MaxBlobSize, is inflated first; the
// readers of BlobReaders are lazy from max on.)
func (r *Repo) ReadBlobMax(id source.BlobID, max int64) ([]byte, error) {
	max = min(max, MaxBlobSize)
	// Looking an object up reads its header; its content is read into
	// memory only when it is small (a loose object up to the repository's
	// lazy size, a packed one up to go-git's 16 KiB; larger ones are read
	// from their Reader). Asking BlobSize first would cost as much again.
	obj, err := r.storage.EncodedObject(plumbing.BlobObject, plumbing.Hash(id))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	if obj.Size() > max {
		return nil, tooLarge(id, obj.Size(), max)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	defer rd.Close()
	// The size is known: one exact buffer, no growing, no scratch space.
	buf := make([]byte, obj.Size())
	if _, err := io.ReadFull(rd, buf); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	return buf, nil
}

func tooLarge(id source.BlobID, size, max int64) error {
	return fmt.Errorf("blob %s is %d bytes, relgate reads at most %d: %w", id, size, max, source.ErrTooLarge)
}

// BlobReaders returns n readers of blobs by id that n goroutines can use at
// once (a go-git repository is not safe for concurrent use). Each reads whole
// blobs straight from the pack files (packs), and what it cannot read that
// way through a go-git repository of its own, opened when first needed. Each
// refuses, unread, a blob over max bytes (see ReadBlobMax). close releases them.
func (t *Tree) BlobReaders(n int, max int64) (readers []func(source.BlobID) ([]byte, error), close func(), err error) {
	gd := t.repo.GitDir()
	if gd == "" {
		return nil, nil, errors.New("blob readers: the repository has no git directory")
	}
	ps := openPacks(gd)
	var mu sync.Mutex
	var opened []*Repo
	close = func() {
		ps.close()
		mu.Lock()
		defer mu.Unlock()
		for _, r := range opened {
			r.Close()
		}
	}
	max = min(max, MaxBlobSize)
	for i := 0; i < n; i++ {
		pr := ps.reader()
		var fallback *Repo
		readers = append(readers, func(id source.BlobID) ([]byte, error) {
			data, err := pr.read(id, max)
			if !errors.Is(err, errNotInPack) {
				return data, err
			}
			if fallback == nil {
				// These repositories read blobs only: lazy from max on.
				r, err := openLazy(gd, "", max, blobReaderCache)
				if err != nil {
					return nil, err
				}
				mu.Lock()
				opened = append(opened, r)
				mu.Unlock()
				fallback = r
			}
			return fallback.ReadBlobMax(id, max)
		})
	}
	return readers, close, nil
}
