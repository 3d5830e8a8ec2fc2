package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/quarter"
)

type reportOptions struct {
	repoFlags
	lang, format, out, now string
	noCache                bool
}

// runReport implements `relgate report quarter QUARTER [DIR]`: the quarterly
// release management report.
func runReport(args []string, stdout, stderr io.Writer) error {
	var o reportOptions
	fs := flag.NewFlagSet("relgate report", flag.ContinueOnError)
	o.register(fs, true)
	fs.StringVar(&o.lang, "lang", "", "report `LANGUAGE`: zh or en (default: the policy's language, else en)")
	fs.StringVar(&o.format, "format", "md", "output `FORMAT`: md, json, html or svg (the chart alone)")
	fs.StringVar(&o.out, "out", "", "write to `FILE` instead of standard output; with md, the chart is written beside it")
	fs.BoolVar(&o.noCache, "no-cache", false, "do not use or update the decode cache in the git directory")
	fs.StringVar(&o.now, "now", "", "report as of this RFC 3339 `TIME` (default: now); a completed quarter is always as of its end")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate report quarter 2026Q4 [DIR] [--rev REV] [--lang zh|en] [--format md|json|html|svg] [--out FILE]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) < 2 || pos[0] != "quarter" {
		fs.Usage()
		return usagef("report needs: quarter 2026Q4")
	}
	q, err := quarter.Parse(pos[1])
	if err != nil {
		return usagef("%v", err)
	}
	if err := oneOf("format", o.format, quarter.Formats...); err != nil {
		return err
	}
	if o.lang != "" {
		if err := oneOf("lang", o.lang, quarter.Languages...); err != nil {
			return err
		}
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	dir, err := o.dir(pos[2:])
	if err != nil {
		return err
	}
	tree, closeTree, err := o.openTree(dir)
	if err != nil {
		return err
	}
	defer closeTree()
	snap, err := loadAll(dir, tree, o.noCache, 0, stderr)
	if err != nil {
		return err
	}
	if _, err := policyOf(snap); err != nil {
		return err
	}
	lang := o.lang
	if lang == "" {
		lang = "en"
		if slices.Contains(quarter.Languages, snap.Policy.Language) {
			lang = snap.Policy.Language
		}
	}
	opts := quarter.Options{Now: now}
	if gt, ok := tree.(*gitrepo.Tree); ok {
		opts.Revision = gt.Commit().String()
	}
	gh, err := openHistory(dir, tree)
	if err != nil {
		return err
	}
	defer gh.close()
	opts.Provenance, opts.Policy = gh.prov, gh.pol
	rep, err := quarter.Compute(snap, q, opts)
	if err != nil {
		return err
	}
	data, err := quarter.Write(rep, lang, o.format)
	if err != nil {
		return err
	}
	if o.out == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(o.out, data, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if o.format == "md" {
		chart, err := quarter.Write(rep, lang, "svg")
		if err != nil {
			return err
		}
		p := filepath.Join(filepath.Dir(o.out), path.Base(quarter.Path(q, lang, "svg")))
		if err := os.WriteFile(p, chart, 0o644); err != nil {
			return fmt.Errorf("write chart: %w", err)
		}
	}
	return nil
}
