package cli

import (
	"flag"
	"io"

	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/validate"
)

type validateOptions struct {
	repoFlags
	format  string
	workers int
	noCache bool
}

func runValidate(args []string, stdout, stderr io.Writer) error {
	var o validateOptions
	fs := flag.NewFlagSet("relgate validate", flag.ContinueOnError)
	o.register(fs, true)
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json or github (workflow annotations)")
	fs.IntVar(&o.workers, "workers", 0, "parse on `N` goroutines (default: one per CPU)")
	fs.BoolVar(&o.noCache, "no-cache", false, "do not use or update the decode cache in the git directory")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := oneOf("format", o.format, "text", "json", "github"); err != nil {
		return err
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
	snap, err := loadAll(dir, tree, o.noCache, o.workers, stderr)
	if err != nil {
		return err
	}
	fs2, err := validate.Check(snap)
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		err = finding.WriteJSON(stdout, fs2, tree.Name())
	case "github":
		err = finding.WriteGitHub(stdout, fs2, dir)
	default:
		err = finding.WriteText(stdout, fs2, dir+" at "+tree.Name())
	}
	if err != nil {
		return err
	}
	if finding.Errors(fs2) > 0 {
		return errFailed
	}
	return nil
}
