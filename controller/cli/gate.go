package cli

import (
	"flag"
	"io"
	"strings"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/present"
)

type gateOptions struct {
	repoFlags
	base, head string
	format     string
	authors    string
}

func runGate(args []string, stdout, stderr io.Writer) error {
	var o gateOptions
	fs := flag.NewFlagSet("relgate gate", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.base, "base", "", "the protected branch's `REV` the change merges into (policy comes from here)")
	fs.StringVar(&o.head, "head", "HEAD", "the change's `REV`")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json, markdown or github")
	fs.StringVar(&o.authors, "author", "", "comma-separated `LOGINS` of the pull request's authors (separation of duties)")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if o.base == "" {
		return usagef("gate needs --base REV (the branch the change merges into)")
	}
	if err := oneOf("format", o.format, "text", "json", "markdown", "github"); err != nil {
		return err
	}
	dir, err := o.dir(pos)
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
	base, err := r.Resolve(o.base)
	if err != nil {
		return err
	}
	head, err := r.Resolve(o.head)
	if err != nil {
		return err
	}
	rep, err := engine.EvaluateChange(r, prefix, base, head, engine.ChangeOptions{Authors: splitList(o.authors)})
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		err = present.WriteGateJSON(stdout, rep)
	case "markdown":
		err = present.WriteGateMarkdown(stdout, rep)
	case "github":
		err = present.WriteGateGitHub(stdout, rep, dir)
	default:
		err = present.WriteGateText(stdout, rep)
	}
	if err != nil {
		return err
	}
	if !rep.Passed {
		return errFailed
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
