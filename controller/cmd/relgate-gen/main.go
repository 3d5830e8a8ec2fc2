// Command relgate-gen generates a synthetic release repository for tests and
// benchmarks:
//
//	relgate-gen -releases 10000 -commits 20000 -seed 1 DIR
//
// DIR must not exist or be empty. The objects are written as one pack; run
// `git -C DIR repack -adq` for git's own delta choices and
// `git -C DIR commit-graph write --reachable --changed-paths` for fast
// path-limited logs.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/relgate/relgate/controller/gen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("relgate-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate-gen [flags] DIR")
		fs.PrintDefaults()
	}
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
