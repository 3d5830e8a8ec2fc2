// Command relgate-gen generates a synthetic release repository for tests and
// benchmarks:
//
//	relgate-gen -releases 10000 -commits 20000 -seed 1 DIR
//
// The history is lawful: every step of every release a pull request merged by
// the bot, its documents committed by their authors and its approvals each by
// its person, in role, apart from whoever wrote what they approve; the bot's
// write-back after each confirmed deployment. `relgate audit verify DIR`
// passes it. -commits decides how far releases get: every release is opened,
// and as many as the budget allows go through plan review, testing, go-live
// approval, deployment and closure.
//
// With -inject N it adds N bypasses of the procedure at random commits (an
// approval committed by someone else, a deployment record pushed without the
// go-live approval, a hand-written report, ...; see gen.InjectionClasses) and
// writes what it injected, with the rule verify reports for each, as JSON to
// -inject-out (default DIR.injections.json beside DIR):
//
//	relgate-gen -releases 1000 -commits 3000 -inject 25 -inject-out inj.json DIR
//
// DIR must not exist or be empty. The objects are written as one pack; run
// `git -C DIR repack -adq` for git's own delta choices and
// `git -C DIR commit-graph write --reachable --changed-paths` for fast
// path-limited logs.
//
// With -example it replays a release repository's files instead (the
// example in examples/release-repo) as the lawful history a team would have
// made, one pull request per step, each approval committed by its approver
// (see gen.Replay):
//
//	relgate-gen -example examples/release-repo DIR
//
// DIR is created and initialised with branch main if it does not exist; an
// existing DIR must be empty or an empty git repository.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/gen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("relgate-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate-gen [flags] DIR\n       relgate-gen -example SRC DIR\n\n"+
			"Writes a synthetic release repository whose history is lawful (relgate audit verify DIR passes it);\n"+
			"-inject N adds N bypasses and writes them, with the rule verify reports for each, to -inject-out.")
		fs.PrintDefaults()
	}
	var example string
	fs.StringVar(&example, "example", "", "replay the release repository `SRC` into DIR as a lawful history (the other flags do not apply)")
	var opts gen.Options
	fs.IntVar(&opts.Releases, "releases", 10000, "release folders to generate")
	fs.IntVar(&opts.Commits, "commits", 0, "commits to aim for (0: as many as the releases' lifecycles need, about 18 a release); at least about 1 a release")
	fs.IntVar(&opts.CMDBItems, "cmdb", 0, "configuration items (0: releases/20, 20 to 500)")
	fs.IntVar(&opts.Changes, "changes", 0, "change requests kept in changes/ (0: one for about half the releases past their opening, and releases/50 more)")
	fs.Int64Var(&opts.Seed, "seed", 1, "random seed; the same seed gives the same repository")
	fs.IntVar(&opts.Inject, "inject", 0, "add `N` bypasses of the procedure at random commits, which relgate audit verify must report: "+gen.InjectionClassNames())
	var injectOut string
	fs.StringVar(&injectOut, "inject-out", "", "with -inject, write the injections (commit, class, release, path, rule) as JSON to `FILE` (default DIR.injections.json)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if example != "" {
		return replay(example, fs.Arg(0), stdout, stderr)
	}
	if opts.Releases < 1 || opts.Commits < 0 || opts.CMDBItems < 0 || opts.Changes < 0 || opts.Inject < 0 {
		fmt.Fprintln(stderr, "relgate-gen: -releases must be at least 1; -commits, -cmdb, -changes and -inject cannot be negative")
		return 2
	}
	if injectOut != "" && opts.Inject == 0 {
		fmt.Fprintln(stderr, "relgate-gen: -inject-out needs -inject N")
		return 2
	}
	start := time.Now()
	res, err := gen.Generate(fs.Arg(0), opts)
	if err != nil {
		fmt.Fprintf(stderr, "relgate-gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d releases (%d deployed, %d rolled back, %d closed), %d changes, %d CMDB items, %d files, %d commits (%d on main's first-parent history, %d merges), %d objects\n",
		res.Dir, res.Releases, res.Deployed, res.RolledBack, res.Closed, res.Changes, res.CMDBItems, len(res.Files), res.Commits, res.FirstParent, res.Merges, res.Objects)
	fmt.Fprintf(stdout, "releases by state: %s\n", states(res.States))
	if opts.Inject > 0 {
		if injectOut == "" {
			injectOut = filepath.Clean(fs.Arg(0)) + ".injections.json"
		}
		if err := gen.WriteInjections(injectOut, opts.Seed, res); err != nil {
			fmt.Fprintf(stderr, "relgate-gen: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%d injections written to %s\n", len(res.Injections), injectOut)
	}
	fmt.Fprintf(stdout, "head %s on %s, pack %s, %.1fs\n", res.Head, gen.Branch.Short(), res.Pack, time.Since(start).Seconds())
	return 0
}

// states lists release counts in lifecycle order.
func states(m map[string]int) string {
	var out []string
	for _, s := range []string{"plan-review", "testing", "go-live-approval", "ready-to-deploy", "confirmed", "closed"} {
		if m[s] > 0 {
			out = append(out, fmt.Sprintf("%s %d", s, m[s]))
		}
	}
	return strings.Join(out, ", ")
}

// replay runs gen.Replay into dst, initialising it first when it is absent
// or an empty folder.
func replay(src, dst string, stdout, stderr io.Writer) int {
	if err := initRepo(dst); err != nil {
		fmt.Fprintf(stderr, "relgate-gen: %v\n", err)
		return 1
	}
	if err := gen.Replay(src, dst, gen.ReplayOptions{}); err != nil {
		fmt.Fprintf(stderr, "relgate-gen: %v\n", err)
		return 1
	}
	r, err := git.PlainOpen(dst)
	if err != nil {
		fmt.Fprintf(stderr, "relgate-gen: %v\n", err)
		return 1
	}
	head, err := r.Head()
	if err != nil {
		fmt.Fprintf(stderr, "relgate-gen: read HEAD of %s: %v\n", dst, err)
		return 1
	}
	n := 0
	if iter, err := r.Log(&git.LogOptions{From: head.Hash()}); err == nil {
		_ = iter.ForEach(func(*object.Commit) error { n++; return nil })
	}
	fmt.Fprintf(stdout, "%s: %s replayed in %d commits, head %s on %s\n", dst, src, n, head.Hash(), gen.Branch.Short())
	return 0
}

// initRepo makes dst an empty repository on branch main unless it is one.
func initRepo(dst string) error {
	if _, err := os.Stat(filepath.Join(dst, ".git")); err == nil {
		return nil
	}
	if ents, err := os.ReadDir(dst); err == nil && len(ents) > 0 {
		return fmt.Errorf("replay into %s: %w", dst, gen.ErrNotEmpty)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	_, err := git.PlainInitWithOptions(dst, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: gen.Branch}})
	if err != nil {
		return fmt.Errorf("initialise %s: %w", dst, err)
	}
	return nil
}
