package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/relgate/relgate/controller/scaffold"
)

type newOptions struct {
	repoFlags
	title, typ, owner, manager string
	now                        string
}

func runNew(args []string, stdout, stderr io.Writer) error {
	var o newOptions
	fs := flag.NewFlagSet("relgate new", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.title, "title", "", "title of the release, change or item")
	fs.StringVar(&o.typ, "type", "normal", "release `TYPE`")
	fs.StringVar(&o.owner, "owner", "", "release owner (or change requester, item owner) `LOGIN`")
	fs.StringVar(&o.manager, "manager", "", "release manager `LOGIN`, the plan's author")
	fs.StringVar(&o.now, "now", "", "creation time, RFC 3339 (default: now)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate new release|change|cmdb-item ID [flags] [--repo DIR]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return usagef("new needs what to create and its id")
	}
	dir, err := o.dir(nil)
	if err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	v := scaffold.Values{ID: pos[1], Title: o.title, Type: o.typ, Owner: o.owner, Manager: o.manager, Now: now.Format(time.RFC3339)}
	var files []scaffold.File
	switch pos[0] {
	case "release":
		files, err = scaffold.Release(v)
	case "change":
		files, err = scaffold.Change(v)
	case "cmdb-item":
		files, err = scaffold.CMDBItem(v)
	default:
		return usagef("new %s: want release, change or cmdb-item", pos[0])
	}
	if err != nil {
		return usagef("%v", err)
	}
	if err := scaffold.Write(dir, files, false); err != nil {
		return err
	}
	schemaFiles, err := scaffold.SchemaFiles()
	if err != nil {
		return err
	}
	if err := scaffold.Write(dir, schemaFiles, true); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "created %s\n", f.Path)
	}
	fmt.Fprintln(stdout, "fill in the empty values, then run: relgate validate")
	return nil
}

func runSchemas(args []string, stdout, stderr io.Writer) error {
	var o repoFlags
	fs := flag.NewFlagSet("relgate schemas", flag.ContinueOnError)
	o.register(fs, false)
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	files, err := scaffold.SchemaFiles()
	if err != nil {
		return err
	}
	if err := scaffold.Write(dir, files, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d schemas to %s/%s\n", len(files), dir, scaffold.SchemaDir)
	return nil
}
