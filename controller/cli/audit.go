package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
)

type auditOptions struct {
	repoFlags
	rev, branch, since string
	format             string
	index              string
	stats              bool
}

// runAudit implements `relgate audit REL [DIR]` (a release's timeline from
// git history, R-3.2) and `relgate audit verify [DIR]` (every commit of a
// branch re-evaluated against its parent's policy).
func runAudit(args []string, stdout, stderr io.Writer) error {
	var o auditOptions
	fs := flag.NewFlagSet("relgate audit", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.rev, "rev", "HEAD", "audit REL: the history up to this `REV`")
	fs.StringVar(&o.branch, "branch", "HEAD", "audit verify: the protected `BRANCH` (or any revision) whose first-parent history is walked")
	fs.StringVar(&o.since, "since", "", "audit verify: start after this `REV` (default: the first commit)")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json or md")
	fs.StringVar(&o.index, "index", "", "history index cache `FILE` (default: <git dir>/relgate/index-v1; - for none)")
	fs.BoolVar(&o.stats, "index-stats", false, "print what the history index did to standard error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate audit REL [DIR] [--rev REV] [--format text|json|md]\n       relgate audit verify [DIR] [--branch B] [--since REV] [--format text|json|md]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := oneOf("format", o.format, audit.Formats...); err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("audit needs a release id or verify")
	}
	what := pos[0]
	if what != "verify" && !document.ReleaseIDPattern.MatchString(what) {
		return usagef("audit %q: want a release id (REL-2026-0042) or verify", what)
	}
	dir, err := o.dir(pos[1:])
	if err != nil {
		return err
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		return err
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		return err
	}
	tipRev := o.rev
	if what == "verify" {
		tipRev = o.branch
	}
	tip, err := r.Resolve(tipRev)
	if err != nil {
		return err
	}
	ix, st, err := history.Open(r, prefix, []plumbing.Hash{tip}, history.Options{CachePath: o.index})
	if err != nil {
		return err
	}
	if o.stats {
		fmt.Fprintf(stderr, "history index: %d commits, %d scanned, loaded=%v rebuilt=%q saved=%v %s\n",
			st.Total, st.Scanned, st.Loaded, st.Rebuilt, st.Saved, st.Path)
	}
	if st.SaveError != "" {
		fmt.Fprintf(stderr, "relgate: warning: the history index was not kept: %s\n", st.SaveError)
	}
	if what != "verify" {
		tl, err := audit.Build(r, ix, what, tip)
		if err != nil {
			return err
		}
		if len(tl.Events) == 0 {
			return usagef("no commit up to %s touched %s", tipRev, document.ReleaseDir(what))
		}
		return audit.WriteTimeline(stdout, tl, o.format)
	}
	var since plumbing.Hash
	if o.since != "" {
		if since, err = r.Resolve(o.since); err != nil {
			return err
		}
	}
	rep, err := audit.Verify(r, ix, tip, since)
	if err != nil {
		return err
	}
	if err := audit.WriteVerify(stdout, rep, o.format); err != nil {
		return err
	}
	if !rep.Passed {
		return errFailed
	}
	return nil
}
