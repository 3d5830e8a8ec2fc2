package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/validate"
)

type validateOptions struct {
	repoFlags
	format  string
	workers int
	noCache bool
	changed string
	summary string
	lang    string
	now     string
	vopts   validate.Options
	msgLang string
}

func runValidate(args []string, stdout, stderr io.Writer) error {
	var o validateOptions
	fs := flag.NewFlagSet("relgate validate", flag.ContinueOnError)
	o.register(fs, true)
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json or github (workflow annotations)")
	fs.IntVar(&o.workers, "workers", 0, "parse on `N` goroutines (default: one per CPU)")
	fs.BoolVar(&o.noCache, "no-cache", false, "do not use or update the decode cache in the git directory")
	langFlag(fs, &o.lang)
	fs.StringVar(&o.now, "now", "", "compare dates with this RFC 3339 `TIME` instead of the clock (a closure in the future)")
	fs.StringVar(&o.summary, "summary", "", "also append every finding as Markdown to `FILE` (a GitHub job summary: $GITHUB_STEP_SUMMARY)")
	fs.StringVar(&o.changed, "changed", "", "validate only what the commits since `BASE` change (BASE...HEAD, or BASE...--rev) and the documents related to it")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := oneOf("format", o.format, "text", "json", "github"); err != nil {
		return err
	}
	if o.msgLang, err = messageLang(o.lang); err != nil {
		return err
	}
	if o.now != "" {
		if o.vopts.Now, err = parseNow(o.now); err != nil {
			return err
		}
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	var fs2 []finding.Finding
	var name string
	if o.changed != "" {
		fs2, name, err = o.validateChanged(dir)
	} else {
		fs2, name, err = o.validateAll(dir, stderr)
	}
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		err = finding.WriteJSON(stdout, fs2, name)
	case "github":
		// Annotations (GitHub shows the first ten), then every finding as
		// text for the log: one run.
		if err = finding.WriteGitHub(stdout, fs2, dir); err == nil {
			err = finding.WriteText(stdout, fs2, dir+" at "+name)
		}
	default:
		err = finding.WriteText(stdout, fs2, dir+" at "+name)
	}
	if err != nil {
		return err
	}
	if o.summary != "" {
		if err := appendTo(o.summary, func(w io.Writer) error { return finding.WriteMarkdown(w, fs2, dir+" at "+name) }); err != nil {
			return err
		}
	}
	if finding.Errors(fs2) > 0 {
		return errFailed
	}
	return nil
}

func (o *validateOptions) validateAll(dir string, stderr io.Writer) ([]finding.Finding, string, error) {
	tree, closeTree, err := o.openTree(dir)
	if err != nil {
		return nil, "", err
	}
	defer closeTree()
	snap, err := loadAll(dir, tree, o.noCache, o.workers, stderr, o.msgLang)
	if err != nil {
		return nil, "", err
	}
	fs, err := validate.Check(snap, o.vopts)
	return fs, tree.Name(), err
}

// validateChanged validates the change from the merge base of --changed and
// the head commit (--rev, or HEAD: a work tree's uncommitted edits are not
// part of a change) to the head commit.
func (o *validateOptions) validateChanged(dir string) ([]finding.Finding, string, error) {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return nil, "", fmt.Errorf("--changed compares commits: %w", err)
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		return nil, "", err
	}
	base, err := r.Resolve(o.changed)
	if err != nil {
		return nil, "", usagef("--changed %s: not a commit, branch or tag of this repository (in CI, fetch the base branch first): %v", o.changed, err)
	}
	rev := o.rev
	if rev == "" {
		rev = "HEAD"
	}
	head, err := r.Resolve(rev)
	if err != nil {
		return nil, "", err
	}
	mb, err := r.MergeBase(base, head)
	if errors.Is(err, gitrepo.ErrNoMergeBase) {
		return nil, "", fmt.Errorf("--changed %s: %s and %s share no history here; fetch it (actions/checkout with fetch-depth: 0) or validate everything without --changed", o.changed, o.changed, rev)
	}
	if err != nil {
		return nil, "", err
	}
	changed, err := r.ChangedPaths(mb, head, prefix)
	if err != nil {
		return nil, "", err
	}
	headTree, err := r.TreeAt(head, prefix)
	if err != nil {
		return nil, "", err
	}
	var baseTree source.Tree
	if bt, err := r.TreeAt(mb, prefix); err == nil {
		baseTree = bt
	} else {
		baseTree = nil // the folder did not exist at the base: everything in it is new
	}
	// No decode cache: it holds every blob of the repository, and loading it
	// would cost more than parsing the few documents a change involves.
	fs, _, err := validate.Changed(headTree, baseTree, changed, loader.Options{Workers: o.workers, Lang: o.msgLang}, o.vopts)
	if err != nil {
		return nil, "", err
	}
	return fs, headTree.Name(), nil
}
