package validate

import (
	"bytes"
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/yamldoc"
)

// Scope is what a validation of a change covers: the files whose findings
// are the same as a full validation's.
type Scope struct {
	// All: the policy changed, and every document depends on it.
	All bool
	// Releases are the release folders read whole, sorted.
	Releases []string
	// Files are the other files, sorted: relgate.yaml, the changed files,
	// and the change requests and configuration items the releases cite.
	Files []string
}

// Covers reports whether the findings for file are in the scope.
func (sc Scope) Covers(file string) bool {
	if sc.All {
		return true
	}
	if _, ok := slices.BinarySearch(sc.Files, file); ok {
		return true
	}
	rest, ok := strings.CutPrefix(file, document.ReleasesDir+"/")
	if !ok {
		return false
	}
	id, _, _ := strings.Cut(rest, "/")
	_, ok = slices.BinarySearch(sc.Releases, id)
	return ok
}

// Changed validates what a change touches at head, reading only that: the
// releases with a changed file (their whole folders), the change requests
// and configuration items they cite, the other changed documents, the
// policy, and the releases that cite a change request or configuration item
// the change adds or deletes (base says which existed before; nil counts
// every changed one). A changed relgate.yaml is a full validation: every
// check reads the policy. The findings for each file in the scope are the
// ones a full validation gives it.
func Changed(head, base source.Tree, changed []string, opts loader.Options, vopts ...Options) ([]finding.Finding, Scope, error) {
	if slices.Contains(changed, document.PolicyPath) {
		snap, err := loader.LoadAll(head, opts)
		if err != nil {
			return nil, Scope{}, err
		}
		fs, err := Check(snap, vopts...)
		return fs, Scope{All: true}, err
	}
	releases := map[string]bool{}
	var flipped []string // ids of change requests and items added or deleted
	for _, p := range changed {
		parts := strings.Split(p, "/")
		if parts[0] == document.ReleasesDir && len(parts) > 2 {
			releases[parts[1]] = true
			continue
		}
		loc, ok := document.Locate(p)
		if !ok || (loc.Kind != document.KindChange && loc.Kind != document.KindCMDBItem) {
			continue
		}
		now, err := exists(head, p)
		if err != nil {
			return nil, Scope{}, err
		}
		before := !now // without a base, count it as added or deleted
		if base != nil {
			if before, err = exists(base, p); err != nil {
				return nil, Scope{}, err
			}
		}
		if now != before {
			flipped = append(flipped, loc.ID)
		}
	}
	if len(flipped) > 0 {
		citing, err := citing(head, flipped)
		if err != nil {
			return nil, Scope{}, err
		}
		for _, id := range citing {
			releases[id] = true
		}
	}
	ids := make([]string, 0, len(releases))
	for id := range releases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	snap, err := loader.LoadChanged(head, ids, changed, opts)
	if err != nil {
		return nil, Scope{}, err
	}
	fs, err := Check(snap, vopts...)
	if err != nil {
		return nil, Scope{}, err
	}
	sc := Scope{Releases: ids, Files: []string{document.PolicyPath}}
	for _, p := range changed {
		if !strings.HasPrefix(p, document.ReleasesDir+"/") || strings.Count(p, "/") < 2 {
			sc.Files = append(sc.Files, p)
		}
	}
	sc.Files = append(sc.Files, snap.Paths()...)
	slices.Sort(sc.Files)
	sc.Files = slices.Compact(sc.Files)
	return fs, sc, nil
}

func exists(t source.Tree, p string) (bool, error) {
	_, err := t.Stat(p)
	switch {
	case err == nil, errors.Is(err, source.ErrNotRegular):
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// citing returns the releases whose release.yaml mentions one of ids: the
// ones whose findings an added or deleted change request or item can change.
// It reads every release.yaml, but parses only those that name an id: a
// change that adds or deletes one is rare, and a cheap superset is enough
// (the folders found are validated whole).
func citing(t source.Tree, ids []string) ([]string, error) {
	entries, err := t.List(document.ReleasesDir)
	if err != nil {
		return nil, err
	}
	br, _ := t.(interface {
		ReadBlobMax(source.BlobID, int64) ([]byte, error)
	})
	var out []string
	for _, e := range entries {
		parts := strings.Split(e.Path, "/")
		if len(parts) != 3 || parts[2] != "release.yaml" || e.NotRegular {
			continue
		}
		var data []byte
		if br != nil && !e.ID.IsZero() {
			data, err = br.ReadBlobMax(e.ID, yamldoc.MaxFileSize)
		} else {
			data, err = t.Read(e.Path)
		}
		if errors.Is(err, source.ErrTooLarge) {
			continue // reported as too large where it is read
		}
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if bytes.Contains(data, []byte(id)) {
				out = append(out, parts[1])
				break
			}
		}
	}
	return out, nil
}
