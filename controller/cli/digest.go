package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

type digestOptions struct {
	repoFlags
	explain bool
}

func runDigest(args []string, stdout, stderr io.Writer) error {
	var o digestOptions
	fs := flag.NewFlagSet("relgate digest", flag.ContinueOnError)
	o.register(fs, true)
	fs.BoolVar(&o.explain, "explain", false, "also print the text that is hashed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate digest REL GATE [DIR] [--rev REV] [--explain]\n       relgate digest policy-change|change-record|cmdb-change|review-change [DIR] [--rev REV]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	var rel, gateID string
	switch {
	case len(pos) >= 1 && policy.IsRepositoryGate(pos[0]):
		gateID, pos = pos[0], pos[1:]
	case len(pos) >= 2:
		rel, gateID, pos = pos[0], pos[1], pos[2:]
		if !document.ReleaseIDPattern.MatchString(rel) {
			return usagef("release id %q: want the form REL-2026-0042", rel)
		}
	default:
		fs.Usage()
		return usagef("digest needs a release and a gate")
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	tree, closeTree, err := o.openTree(dir)
	if err != nil {
		return err
	}
	defer closeTree()
	snap, err := loader.LoadReleases(tree, nil)
	if err != nil {
		return err
	}
	pol, _, err := loadPolicy(snap)
	if err != nil {
		return err
	}
	g, ok := pol.Gate(gateID)
	if !ok {
		return usagef("gate %q is not defined by the policy", gateID)
	}
	if g.Repository != (rel == "") {
		return usagef("policy-change, change-record, cmdb-change and review-change belong to the repository; every other gate to a release")
	}
	d, input, err := evaluate.Digest(tree, rel, g)
	if err != nil {
		return err
	}
	if o.explain {
		fmt.Fprint(stdout, input)
	}
	fmt.Fprintln(stdout, d)
	return nil
}
