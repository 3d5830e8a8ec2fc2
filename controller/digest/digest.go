// Package digest computes what an approval binds to: a SHA-256 over the git
// blob ids of exactly the documents a gate covers, with the release and the
// gate named, so an approval cannot be moved to another release or gate and
// goes stale when any covered byte changes.
//
// The digest of gate G of release R covering files f1..fn (sorted by name) is
//
//	sha256("relgate-digest/v1\nrelease R\ngate G\n" + "<blob id> f1\n" + ... + "<blob id> fn\n")
//
// where <blob id> is the file's git blob id (git ls-tree, git hash-object) or
// "-" when the file is absent. A cover ending in "/" stands for every file in
// that folder, each listed by its path. For the repository-wide gates
// (policy-change, change-record) the release line reads "release -". Anyone can recompute it with git and sha256sum;
// the README shows how.
package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/relgate/relgate/controller/source"
)

// Prefix starts every digest.
const Prefix = "sha256:"

// Input is the canonical text that is hashed, exposed so `relgate digest
// --explain` can show it.
func Input(release, gate string, files map[string]source.BlobID) string {
	var b strings.Builder
	b.WriteString("relgate-digest/v1\n")
	if release == "" {
		release = "-"
	}
	fmt.Fprintf(&b, "release %s\ngate %s\n", release, gate)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		id := "-"
		if !files[n].IsZero() {
			id = files[n].String()
		}
		fmt.Fprintf(&b, "%s %s\n", id, n)
	}
	return b.String()
}

// Of hashes an Input.
func Of(input string) string {
	sum := sha256.Sum256([]byte(input))
	return Prefix + hex.EncodeToString(sum[:])
}

// Compute returns the digest of the covered files of a release (dir is the
// release folder, or "" for repository-wide files) as they are in t, and the
// input hashed.
func Compute(t source.Tree, release, dir, gate string, covers []string) (string, string, error) {
	files := make(map[string]source.BlobID, len(covers))
	for _, name := range covers {
		if strings.HasSuffix(name, "/") {
			// A folder: every file in it, named by its path from dir.
			entries, err := t.List(path.Join(dir, name))
			if err != nil {
				return "", "", err
			}
			for _, e := range entries {
				id := e.ID
				if id.IsZero() && !e.NotRegular { // a work tree lists files before reading them
					st, err := t.Stat(e.Path)
					if err != nil {
						return "", "", err
					}
					id = st.ID
				}
				files[strings.TrimPrefix(strings.TrimPrefix(e.Path, dir), "/")] = id
			}
			continue
		}
		e, err := t.Stat(path.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			files[name] = source.BlobID{}
		case err != nil:
			return "", "", err
		default:
			files[name] = e.ID
		}
	}
	in := Input(release, gate, files)
	return Of(in), in, nil
}
