// Command relgate-gen generates a synthetic release repository for tests and
// benchmarks:
//
//	relgate-gen -releases 10000 -commits 20000 -seed 1 DIR
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
		fmt.Fprintln(stderr, "usage: relgate-gen [flags] DIR\n       relgate-gen -example SRC DIR")
		fs.PrintDefaults()
	}
	var example string
	fs.StringVar(&example, "example", "", "replay the release repository `SRC` into DIR as a lawful history (the other flags do not apply)")
	var opts gen.Options
	fs.IntVar(&opts.Releases, "releases", 10000, "release folders to generate")
	fs.IntVar(&opts.Commits, "commits", 0, "commits to aim for (0: 2 per release)")
	fs.IntVar(&opts.CMDBItems, "cmdb", 0, "configuration items (0: releases/20, 20 to 500)")
	fs.IntVar(&opts.Changes, "changes", 0, "change requests kept in changes/ (0: releases/2)")
	fs.Int64Var(&opts.Seed, "seed", 1, "random seed; the same seed gives the same repository")
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
	if opts.Releases < 1 || opts.Commits < 0 || opts.CMDBItems < 0 || opts.Changes < 0 {
		fmt.Fprintln(stderr, "relgate-gen: -releases must be at least 1; -commits, -cmdb and -changes cannot be negative")
		return 2
	}
	start := time.Now()
	res, err := gen.Generate(fs.Arg(0), opts)
	if err != nil {
		fmt.Fprintf(stderr, "relgate-gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d releases (%d deployed, %d rolled back), %d changes, %d CMDB items, %d files, %d commits, %d objects\n",
		res.Dir, res.Releases, res.Deployed, res.RolledBack, res.Changes, res.CMDBItems, len(res.Files), res.Commits, res.Objects)
	fmt.Fprintf(stdout, "head %s on %s, pack %s, %.1fs\n", res.Head, gen.Branch.Short(), res.Pack, time.Since(start).Seconds())
	return 0
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
