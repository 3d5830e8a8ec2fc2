package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
)

type auditOptions struct {
	repoFlags
	rev, branch, since string
	baseline, state    string
	format             string
	index              string
	stats              bool
	lang               string
	now                string
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
	fs.StringVar(&o.baseline, "baseline", "", "audit verify: a commit `REV` the auditor trusts (the import of an older process): it and the history before it are not evaluated")
	fs.StringVar(&o.state, "state", "", "audit verify: the `FILE` that keeps the tip verified, to find a rewritten branch (default: <git dir>/relgate/verified-<id>; - for none)")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json or md")
	fs.StringVar(&o.index, "index", "", "history index cache `FILE` (default: <git dir>/relgate/index-v1; - for none)")
	fs.BoolVar(&o.stats, "index-stats", false, "print what the history index did to standard error")
	fs.StringVar(&o.now, "now", "", "audit verify: judge emergency releases' retrospective approvals overdue at this RFC 3339 `TIME` (default: the clock)")
	langFlag(fs, &o.lang)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate audit REL [DIR] [--rev REV] [--format text|json|md]\n       relgate audit verify [DIR] [--branch B] [--since REV] [--baseline REV] [--state FILE|-] [--format text|json|md]")
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
	ml, err := messageLang(o.lang)
	if err != nil {
		return err
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
	lang := i18n.Select(ml, policyLanguage(r, prefix, tip))
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
		return audit.WriteTimelineIn(stdout, lang, tl, o.format)
	}
	var vo audit.VerifyOptions
	if vo.Now, err = parseNow(o.now); err != nil {
		return err
	}
	if o.since != "" {
		if vo.Since, err = r.Resolve(o.since); err != nil {
			return err
		}
	}
	if o.baseline != "" {
		if vo.Baseline, err = r.Resolve(o.baseline); err != nil {
			return err
		}
	}
	state := o.state
	if state == "" {
		// A fixed revision (a commit id, main~2) cannot be rewritten: there
		// is nothing to keep for it.
		if ref := followedRef(r, o.branch); ref != "" {
			state = audit.StatePath(r.GitDir(), ix.Prefix(), ref)
		}
	}
	if state == "-" {
		state = ""
	}
	build := ""
	if state != "" {
		if vo.Previous, err = audit.ReadState(state); err != nil {
			return err
		}
		vo.State = state
		// What the last run verified, so only the commits after it are
		// evaluated (a rewritten branch no longer has it: all are).
		build = audit.BuildID()
		vo.Resume = audit.ReadProgress(audit.ProgressPath(state), build)
	}
	rep, err := audit.VerifyWith(r, ix, tip, vo)
	if err != nil {
		return err
	}
	if o.stats && rep.Resumed != "" {
		fmt.Fprintf(stderr, "audit verify: resumed after %s\n", rep.Resumed)
	}
	if state != "" {
		if err := audit.WriteProgress(audit.ProgressPath(state), build, rep.Progress()); err != nil {
			fmt.Fprintf(stderr, "relgate: warning: %v\n", err)
		}
	}
	// The record names the last tip verified, whatever the verdict: a branch
	// rewritten after a failed run must still be found, and a failed run
	// does not make its commits any less verified. It is not moved past a
	// rewrite, though: the rewrite stays reported on every run until the
	// auditor, having accounted for it, deletes the record.
	if state != "" && !rewritten(rep) && vo.Previous != tip {
		if err := audit.WriteState(state, tip); err != nil {
			fmt.Fprintf(stderr, "relgate: warning: the verified tip was not recorded, so a later rewrite of the branch cannot be found: %v\n", err)
		}
	}
	if err := audit.WriteVerifyIn(stdout, lang, rep, o.format); err != nil {
		return err
	}
	if !rep.Passed {
		return errFailed
	}
	return nil
}

func rewritten(rep *audit.VerifyReport) bool {
	for _, v := range rep.Violations {
		if v.Rule == audit.RuleHistoryRewritten {
			return true
		}
	}
	return false
}

// followedRef names the reference a revision follows, as git resolves a
// name (HEAD to its branch; then refs/, tags, branches, remotes), so the
// verified tip is kept per branch however it is spelled; "" for a revision
// that is no reference (a commit id, main~2, a detached HEAD).
func followedRef(r *gitrepo.Repo, rev string) string {
	if rev == "HEAD" {
		ref, err := r.Git.Reference(plumbing.HEAD, false)
		if err != nil || ref.Type() != plumbing.SymbolicReference {
			return ""
		}
		return ref.Target().String()
	}
	for _, name := range []string{rev, "refs/" + rev, "refs/tags/" + rev, "refs/heads/" + rev, "refs/remotes/" + rev, "refs/remotes/" + rev + "/HEAD"} {
		if !strings.HasPrefix(name, "refs/") {
			continue
		}
		if _, err := r.Git.Reference(plumbing.ReferenceName(name), true); err == nil {
			return name
		}
	}
	return ""
}

// policyLanguage is the language relgate.yaml names at commit h, or "" when
// it cannot be read (the messages are then Chinese, the procedure's).
func policyLanguage(r *gitrepo.Repo, prefix string, h plumbing.Hash) string {
	tree, err := r.TreeAt(h, prefix)
	if err != nil {
		return ""
	}
	snap, err := loader.LoadReleases(tree, nil)
	if err != nil || snap.Policy == nil {
		return ""
	}
	return snap.Policy.Language
}
