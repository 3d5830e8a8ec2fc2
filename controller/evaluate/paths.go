package evaluate

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/source"
)

// Free are the paths of a release repository that no rule governs: its
// README, git's own files and editor settings, relgate's schemas for editors
// and the forge's configuration. Every other path belongs to a gate.
func Free(p string) bool {
	top, _, nested := strings.Cut(p, "/")
	if nested {
		switch top {
		case ".relgate", ".github", ".vscode":
			return true
		}
		return false
	}
	switch {
	case strings.HasPrefix(strings.ToUpper(top), "README"):
		return true
	case top == ".gitignore", top == ".gitattributes", top == ".editorconfig":
		return true
	}
	return false
}

// governedPaths checks every path a change touches against the one table of
// who may change what (README, "Every path and who may change it"): links
// and submodules are refused, documents must be where their kind goes,
// reports/ is the bot's alone, and a path no rule covers is refused.
func governedPaths(pol *policy.Policy, prov Provenance, head *loader.Snapshot, changed []string) ([]string, error) {
	var out []string
	for _, p := range changed {
		e, err := head.Tree.Stat(p)
		deleted := false
		switch {
		case errors.Is(err, source.ErrNotRegular):
			out = append(out, p+": symlinks and submodules are not allowed in a release repository")
			continue
		case errors.Is(err, fs.ErrNotExist):
			deleted = true
		case err != nil:
			return nil, err
		}
		top, _, _ := strings.Cut(p, "/")
		switch {
		case p == document.PolicyPath:
			// gate policy-change
		case top == document.ReportsDir:
			ok, err := madeByBot(pol, prov, p, e.ID, deleted)
			if err != nil {
				return nil, err
			}
			if !ok {
				what := "this content comes from a commit the bot did not make"
				if deleted {
					what = "a change may not delete it"
				}
				out = append(out, fmt.Sprintf("%s: reports/ is written by relgate reconcile (the bot %s); %s (R-5.1.11)", p, pol.Bot.Email, what))
			}
		case top == document.ChangesDir, top == document.CMDBDir, top == document.ReleasesDir, top == document.ReviewsDir, top == document.ApprovalsDir:
			if _, ok := document.Locate(p); !ok && !deleted {
				out = append(out, p+": relgate does not read a file here; see the repository layout (documents end in .yaml)")
			}
		case Free(p):
		default:
			out = append(out, p+": no rule of relgate covers this path, so nobody may change it; release documents go in releases/<id>/ (see the README's path table)")
		}
	}
	return out, nil
}

// madeByBot reports whether the bot's authenticated commit gave p its
// content (or deleted it).
func madeByBot(pol *policy.Policy, prov Provenance, p string, blob source.BlobID, deleted bool) (bool, error) {
	if deleted {
		changes, err := prov.Changes(p)
		if err != nil || len(changes) == 0 {
			return false, err
		}
		last := changes[len(changes)-1]
		return last.Deleted && ByBot(pol, last.Commit), nil
	}
	o, err := prov.Origin(p, blob)
	if err != nil || o.Problem != "" {
		return false, err
	}
	for _, c := range o.Commits {
		if ByBot(pol, c) {
			return true, nil
		}
	}
	return false, nil
}

// allByBot reports whether the bot made every one of paths as head has them.
func allByBot(pol *policy.Policy, prov Provenance, head *loader.Snapshot, paths []string) (bool, error) {
	for _, p := range paths {
		e, err := head.Tree.Stat(p)
		deleted := errors.Is(err, fs.ErrNotExist)
		if err != nil && !deleted {
			return false, nil
		}
		ok, err := madeByBot(pol, prov, p, e.ID, deleted)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

var _ Provenance = (*provenance.Ledger)(nil)
