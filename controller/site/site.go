// Package site renders the dashboard: the pages the people who read rather
// than write use — change management following releases, the
// configuration manager, the release owner evaluating the
// quarter and auditors. It presents and
// decides nothing: each release's state, gates and the standing of every
// approval come from engine.LoadBoard (package evaluate), the quarter's
// figures from package quarter, the trail from package audit.
//
// A site is a set of files: both languages under zh/ and en/, shared
// assets, and a root page that opens the default language. Every link is
// relative, so the same files work from any web server, a sub-path of
// GitHub Pages, or `relgate serve`; nothing is fetched from elsewhere, and
// JavaScript only filters and sorts. The same commit and options give the
// same bytes.
package site

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
)

// Options adjust Build.
type Options struct {
	// Lang is the language the root page opens (zh or en); empty: the
	// policy's, else Chinese.
	Lang string
	// Now is the time the pages are as of (what is overdue); zero: the
	// commit's committer time, so a commit's site never changes.
	Now time.Time
	// ForgeURL is the repository's web address on its forge
	// (https://github.com/OWNER/NAME): commits and pull requests link there.
	ForgeURL string
	// Cache keeps decoded documents across builds; may be nil.
	Cache *loader.Cache
	// Workers parse documents in parallel; 0: one per CPU.
	Workers int
}

// Site is a built dashboard: files by slash-separated relative path.
type Site struct {
	commit plumbing.Hash
	lang   string
	// files are the files' content, none when they went to a sink.
	files map[string][]byte
	paths []string
}

// Build renders the site of the release repository at prefix inside r as
// of commit tip.
func Build(r *gitrepo.Repo, prefix string, tip plumbing.Hash, opts Options) (*Site, error) {
	m, err := gather(r, prefix, tip, opts)
	if err != nil {
		return nil, err
	}
	return render(m, nil)
}

// BuildTo is Build handing each file to sink as it is rendered, keeping
// none in memory (File then finds nothing). sink is called from one
// goroutine at a time; its first error stops the build.
func BuildTo(r *gitrepo.Repo, prefix string, tip plumbing.Hash, opts Options, sink func(p string, data []byte) error) (*Site, error) {
	m, err := gather(r, prefix, tip, opts)
	if err != nil {
		return nil, err
	}
	return render(m, sink)
}

// Commit is the commit the site shows.
func (s *Site) Commit() plumbing.Hash { return s.commit }

// Lang is the language the root page opens.
func (s *Site) Lang() string { return s.lang }

// Paths are the site's files, sorted.
func (s *Site) Paths() []string { return slices.Clone(s.paths) }

// File is the content of the file at p ("zh/index.html").
func (s *Site) File(p string) ([]byte, bool) {
	b, ok := s.files[p]
	return b, ok
}

// Write writes the site into dir, creating it. Files of an earlier site
// that this one does not have are left alone; write into an empty folder
// to publish exactly this site.
func (s *Site) Write(dir string) error {
	for _, p := range s.Paths() {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, s.files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ReleasePath is the page of release id in lang, relative to the site's root.
func ReleasePath(lang, id string) string { return lang + "/releases/" + id + ".html" }

// BoardPath is the board in lang.
func BoardPath(lang string) string { return lang + "/index.html" }

// rel is the link from the page at from to the file at to, both relative
// to the site's root.
func rel(from, to string) string {
	depth := strings.Count(from, "/")
	up := strings.Repeat("../", depth)
	if to == "" {
		return up
	}
	if strings.HasPrefix(to, "#") {
		return to
	}
	if path.Dir(from) == path.Dir(to) {
		return path.Base(to)
	}
	return up + to
}

// shortHash is a commit id's or digest's first 12 hex digits (a digest
// keeps its algorithm: sha256:6c596ff568ca).
func shortHash(s string) string {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok {
		alg, hex = "", s
	} else {
		alg += ":"
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return alg + hex
}

func errorf(format string, args ...any) error { return fmt.Errorf("site: "+format, args...) }
