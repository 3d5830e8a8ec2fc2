package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/source"
)

// repoFlags are the flags every command shares to name a release repository
// and, optionally, a revision of it.
type repoFlags struct {
	repo string
	rev  string
}

func (f *repoFlags) register(fs *flag.FlagSet, withRev bool) {
	fs.StringVar(&f.repo, "repo", "", "release repository `DIR` (default: DIR argument or the current directory)")
	if withRev {
		fs.StringVar(&f.rev, "rev", "", "read documents at this git `REV` (commit, branch, tag) instead of the work tree")
	}
}

// dir picks the repository directory from --repo or the one positional argument.
func (f *repoFlags) dir(pos []string) (string, error) {
	switch {
	case len(pos) > 1:
		return "", usagef("too many arguments: %v", pos)
	case len(pos) == 1 && f.repo != "" && pos[0] != f.repo:
		return "", usagef("give the repository once: --repo %s or %s", f.repo, pos[0])
	case len(pos) == 1:
		return pos[0], nil
	case f.repo != "":
		return f.repo, nil
	}
	return ".", nil
}

// openTree returns the release repository at --rev, or its work tree. close
// releases what was opened.
func (f *repoFlags) openTree(dir string) (t source.Tree, close func(), err error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("release repository %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, nil, usagef("%s is not a directory", dir)
	}
	if f.rev == "" {
		return source.Dir{Root: dir}, func() {}, nil
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	prefix, err := r.Prefix(dir)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	commit, err := r.Resolve(f.rev)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	tree, err := r.TreeAt(commit, prefix)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return tree, func() { r.Close() }, nil
}

// openRevision opens the git repository holding dir and resolves rev
// (default HEAD) in it, for the commands that read committed state only
// (site, calendar, notify); prefix is the release repository's folder
// inside it. The caller closes r.
func openRevision(cmd, dir, rev string) (r *gitrepo.Repo, prefix string, tip plumbing.Hash, err error) {
	r, err = gitrepo.Open(dir)
	if err != nil {
		return nil, "", plumbing.ZeroHash, fmt.Errorf("relgate %s reads a git repository's commits: %w", cmd, err)
	}
	if prefix, err = r.Prefix(dir); err == nil {
		if rev == "" {
			rev = "HEAD"
		}
		tip, err = r.Resolve(rev)
	}
	if err != nil {
		r.Close()
		return nil, "", plumbing.ZeroHash, err
	}
	return r, prefix, tip, nil
}

// loadAll reads every document of tree, through the decode cache of the git
// repository holding dir unless noCache is set.
func loadAll(dir string, tree source.Tree, noCache bool, workers int, stderr io.Writer, lang ...string) (*loader.Snapshot, error) {
	var cache *loader.Cache
	if !noCache {
		cache = openCache(dir)
	}
	opts := loader.Options{Workers: workers, Cache: cache}
	if len(lang) > 0 {
		opts.Lang = lang[0]
	}
	snap, err := loader.LoadAll(tree, opts)
	if err != nil {
		return nil, err
	}
	if err := cache.Save(); err != nil {
		fmt.Fprintf(stderr, "relgate: warning: the decode cache was not saved: %v\n", err)
	}
	return snap, nil
}

// openCache opens the decode cache of the git repository holding dir, if any:
// results keyed by blob id, kept in the git directory, never committed.
func openCache(dir string) *loader.Cache {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return nil
	}
	defer r.Close()
	gd := r.GitDir()
	if gd == "" {
		return nil
	}
	return loader.OpenCache(filepath.Join(gd, "relgate", "decode-cache"))
}

// langFlag registers --lang, the language of the messages people read.
func langFlag(fs *flag.FlagSet, v *string) {
	fs.StringVar(v, "lang", "", "language of the messages: zh or en (default: $LC_ALL or $LANG when they name one, then the policy's language)")
}

// messageLang is the language --lang or the environment asks for, or ""
// to let the policy's language decide (the loader's and reports' rule).
func messageLang(flagLang string) (string, error) {
	if flagLang != "" {
		l, err := i18n.Parse(flagLang)
		if err != nil {
			return "", usagef("--lang: %v", err)
		}
		return string(l), nil
	}
	if envNamesLang() {
		return string(i18n.Select("", "")), nil
	}
	return "", nil
}

// envNamesLang reports whether $LC_ALL or $LANG names zh or en.
func envNamesLang() bool {
	for _, k := range []string{"LC_ALL", "LANG"} {
		if v := os.Getenv(k); strings.HasPrefix(v, "zh") || strings.HasPrefix(v, "en") {
			return true
		}
	}
	return false
}

// parseNow reads a --now flag: RFC 3339, or empty for the clock.
func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("--now: %v", err)
	}
	return t, nil
}

// gitHistory is what a command that reads documents learns from git: who made
// them (provenance) and which policy is in force.
type gitHistory struct {
	prov evaluate.Provenance
	// pol is the policy in force at the commit read (nil: none could be
	// found, so the snapshot's relgate.yaml applies, with nothing attributed).
	pol      *policy.Policy
	warnings []string
	close    func()
}

// openHistory attributes the documents of tree, read from dir, to the
// commits that made them: the history up to tree's commit, or up to HEAD for
// a work tree (whose uncommitted files no commit vouches for), and finds the
// policy in force there (engine.PolicyInForce). Outside a git repository,
// or before its first commit, nothing is attributed.
func openHistory(dir string, tree source.Tree) (*gitHistory, error) {
	none := &gitHistory{prov: evaluate.NoHistory{}, close: func() {}}
	r, err := gitrepo.Open(dir)
	if err != nil {
		return none, nil
	}
	prefix, err := r.Prefix(dir)
	if err != nil {
		r.Close()
		return nil, err
	}
	var tip plumbing.Hash
	if gt, ok := tree.(*gitrepo.Tree); ok {
		tip = gt.Commit()
	} else if tip, err = r.Resolve("HEAD"); err != nil {
		r.Close()
		return none, nil
	}
	led, err := provenance.Open(r, prefix, tip)
	if err != nil {
		r.Close()
		return nil, err
	}
	h := &gitHistory{prov: led, close: func() { r.Close() }}
	if t, err := r.TreeAt(tip, prefix); err == nil {
		if _, err := t.Stat(document.PolicyPath); err == nil {
			if h.pol, h.warnings, err = engine.PolicyInForce(r, prefix, led.Index(), tip); err != nil {
				r.Close()
				return nil, err
			}
		}
	}
	return h, nil
}

// policy is the policy in force, or the snapshot's when none was found,
// with the warnings to show.
func (h *gitHistory) policy(snap *loader.Snapshot) (*policy.Policy, []string, error) {
	pol, warnings, err := loadPolicy(snap)
	if err != nil || h.pol == nil {
		return pol, warnings, err
	}
	warnings = nil
	if h.pol.TrustCommitAuthor {
		warnings = append(warnings, "the policy trusts commit authorship (trustCommitAuthor): approvals are unauthenticated")
	}
	return h.pol, append(warnings, h.warnings...), nil
}
