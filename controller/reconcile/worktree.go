package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"

	"github.com/relgate/relgate/controller/gitrepo"
)

// Bringing the work tree along after relgate committed on the checked-out
// branch is done so that, whatever fails (a full disk, a crash), the index
// and the work tree match either the old tip with the branch not moved, or
// the new tip. Every file and the new index are first written beside their
// place; then a journal is written; then the branch moves; then the files
// and the index are renamed into place (renames need no space) and the
// journal removed. A run that finds a journal finishes (or undoes) the sync
// before anything else.

// syncJournal is the journal of a sync in progress, in the git directory.
type syncJournal struct {
	Branch string   `json:"branch"`
	Old    string   `json:"old"`
	New    string   `json:"new"`
	Paths  []string `json:"paths"` // relative to the work tree's root
}

const (
	journalFile = "relgate-sync.json"
	tmpSuffix   = ".relgate-tmp"
)

func journalPath(r *gitrepo.Repo) string { return filepath.Join(r.GitDir(), journalFile) }

// syncPlan is a prepared sync: every file written beside its place, the new
// index beside the index.
type syncPlan struct {
	renames [][2]string // temporary, final
	removes []string
	index   [2]string
}

func tmpName(full string) string {
	return filepath.Join(filepath.Dir(full), "."+filepath.Base(full)+tmpSuffix)
}

// prepareSync writes what the work tree and index must hold at commit for
// paths, without touching either. On error, everything it wrote is gone.
func prepareSync(r *gitrepo.Repo, commit plumbing.Hash, paths []string) (plan *syncPlan, err error) {
	plan = &syncPlan{}
	defer func() {
		if err != nil {
			plan.abort()
			plan = nil
		}
	}()
	tree, err := r.TreeAt(commit, "")
	if err != nil {
		return plan, err
	}
	idx, err := r.Git.Storer.Index()
	if err != nil {
		return plan, fmt.Errorf("read the index: %w", err)
	}
	for _, p := range paths {
		full := filepath.Join(r.WorkDir, filepath.FromSlash(p))
		if err := confined(r.WorkDir, full); err != nil {
			return plan, err
		}
		e, serr := tree.Stat(p)
		if errors.Is(serr, fs.ErrNotExist) {
			plan.removes = append(plan.removes, full)
			idx.Remove(p)
			continue
		}
		if serr != nil {
			return plan, serr
		}
		content, err := tree.Read(p)
		if err != nil {
			return plan, err
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return plan, err
		}
		tmp := tmpName(full)
		plan.renames = append(plan.renames, [2]string{tmp, full})
		info, err := writeSynced(tmp, content)
		if err != nil {
			return plan, fmt.Errorf("write %s: %w", p, err)
		}
		ie, err := idx.Entry(p)
		if err != nil {
			ie = idx.Add(p)
		}
		*ie = index.Entry{Name: p, Hash: plumbing.Hash(e.ID), Mode: filemode.Regular,
			Size: uint32(info.Size()), ModifiedAt: info.ModTime(), CreatedAt: info.ModTime()}
		fillStat(ie, info)
	}
	// The cached trees name the old content; git rebuilds them.
	idx.Cache = nil
	idx.ResolveUndo = nil
	idx.EndOfIndexEntry = nil
	sort.SliceStable(idx.Entries, func(i, j int) bool {
		a, b := idx.Entries[i], idx.Entries[j]
		return a.Name < b.Name || a.Name == b.Name && a.Stage < b.Stage
	})
	var buf bytes.Buffer
	if err := index.NewEncoder(&buf).Encode(idx); err != nil {
		return plan, fmt.Errorf("encode the index: %w", err)
	}
	final := filepath.Join(r.GitDir(), "index")
	plan.index = [2]string{final + tmpSuffix, final}
	if _, err := writeSynced(plan.index[0], buf.Bytes()); err != nil {
		return plan, fmt.Errorf("write the index: %w", err)
	}
	return plan, nil
}

// writeSynced writes a file and flushes it to disk, so that a rename of it
// after a crash never names an empty file.
func writeSynced(name string, data []byte) (os.FileInfo, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return nil, err
	}
	return os.Stat(name)
}

// apply moves the prepared files and index into place.
func (p *syncPlan) apply() error {
	for _, rn := range p.renames {
		if err := os.Rename(rn[0], rn[1]); err != nil {
			return err
		}
	}
	for _, f := range p.removes {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if p.index[0] != "" {
		return os.Rename(p.index[0], p.index[1])
	}
	return nil
}

// abort removes what prepareSync wrote.
func (p *syncPlan) abort() {
	for _, rn := range p.renames {
		os.Remove(rn[0])
	}
	if p.index[0] != "" {
		os.Remove(p.index[0])
	}
}

func writeJournal(r *gitrepo.Repo, j syncJournal) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	tmp := journalPath(r) + tmpSuffix
	if _, err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, journalPath(r)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// syncPaths lists the paths a run writes, relative to the work tree's root.
func syncPaths(prefix string, commits []Commit) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range commits {
		for _, f := range c.Files {
			p := join(prefix, f)
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// restoreCommand is what a person runs to bring paths to the branch's tip
// by hand: index and work tree both, unlike "git checkout -- ." which copies
// the index (the old content) back.
func restoreCommand(r *gitrepo.Repo, tip plumbing.Hash, paths []string) string {
	tree, err := r.TreeAt(tip, "")
	var keep, gone []string
	for _, p := range paths {
		if err == nil {
			if _, serr := tree.Stat(p); errors.Is(serr, fs.ErrNotExist) {
				gone = append(gone, p)
				continue
			}
		}
		keep = append(keep, p)
	}
	var cmds []string
	if len(keep) > 0 {
		cmds = append(cmds, "git checkout HEAD -- "+shellJoin(keep))
	}
	if len(gone) > 0 {
		cmds = append(cmds, "git rm -q --cached --ignore-unmatch -- "+shellJoin(gone)+" && rm -f -- "+shellJoin(gone))
	}
	return strings.Join(cmds, " && ")
}

func shellJoin(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// recoverSync finishes a sync a previous run left (it died, or the disk
// filled, after the branch moved), or drops one whose branch never moved.
func recoverSync(r *gitrepo.Repo) error {
	data, err := os.ReadFile(journalPath(r))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", journalPath(r), err)
	}
	var j syncJournal
	if err := json.Unmarshal(data, &j); err != nil || j.Branch == "" || len(j.Paths) > 100000 {
		return fmt.Errorf("%s is damaged (%v); check git status, then remove it", journalPath(r), err)
	}
	for _, p := range j.Paths {
		if !fs.ValidPath(p) {
			return fmt.Errorf("%s names the path %q; check git status, then remove it", journalPath(r), p)
		}
	}
	tip, err := r.Resolve("refs/heads/" + j.Branch)
	if err != nil {
		return err
	}
	newTip, oldTip := plumbing.NewHash(j.New), plumbing.NewHash(j.Old)
	if tip != newTip {
		// The branch never moved (or someone moved it since): the work tree
		// was not touched; only leftovers go.
		for _, p := range j.Paths {
			full := filepath.Join(r.WorkDir, filepath.FromSlash(p))
			if confined(r.WorkDir, full) == nil {
				os.Remove(tmpName(full))
			}
		}
		os.Remove(filepath.Join(r.GitDir(), "index") + tmpSuffix)
		return os.Remove(journalPath(r))
	}
	// Never overwrite an edit made since: each file must hold the old or the new content.
	if err := unchangedSince(r, oldTip, newTip, j.Paths); err != nil {
		return err
	}
	plan, err := prepareSync(r, newTip, j.Paths)
	if err != nil {
		return fmt.Errorf("finish bringing the work tree to %s after an interrupted run: %w; free space and run relgate reconcile again, or run: %s",
			newTip.String()[:12], err, restoreCommand(r, newTip, j.Paths))
	}
	if err := plan.apply(); err != nil {
		return fmt.Errorf("finish bringing the work tree to %s: %w; run: %s", newTip.String()[:12], err, restoreCommand(r, newTip, j.Paths))
	}
	return os.Remove(journalPath(r))
}

// unchangedSince refuses when a path holds neither its content at old nor at new.
func unchangedSince(r *gitrepo.Repo, old, new plumbing.Hash, paths []string) error {
	var trees []*gitrepo.Tree
	for _, h := range []plumbing.Hash{old, new} {
		t, err := r.TreeAt(h, "")
		if err != nil {
			return err
		}
		trees = append(trees, t)
	}
	for _, p := range paths {
		disk, derr := os.ReadFile(filepath.Join(r.WorkDir, filepath.FromSlash(p)))
		ok := false
		for _, t := range trees {
			committed, cerr := t.Read(p)
			if (derr == nil) == (cerr == nil) && bytes.Equal(disk, committed) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("an interrupted relgate reconcile left %s to update, and it has been edited since; keep your edit or run: %s, then remove %s",
				p, restoreCommand(r, new, []string{p}), journalPath(r))
		}
	}
	return nil
}
