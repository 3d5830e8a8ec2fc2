package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/present"
)

type gateOptions struct {
	repoFlags
	base, head string
	format     string
	authors    string
	summary    string
	lang       string
	now        string
}

func runGate(args []string, stdout, stderr io.Writer) error {
	var o gateOptions
	fs := flag.NewFlagSet("relgate gate", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.base, "base", "", "the protected branch's `REV` the change merges into (policy comes from here)")
	fs.StringVar(&o.head, "head", "HEAD", "the change's `REV`")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json, markdown or github")
	fs.StringVar(&o.authors, "author", "", "comma-separated `LOGINS` of the pull request's authors (separation of duties)")
	fs.StringVar(&o.now, "now", "", "the change merges at this RFC 3339 `TIME`, for the freezes then in effect (default: the head commit's time; CI should pass the clock)")
	langFlag(fs, &o.lang)
	fs.StringVar(&o.summary, "summary", "", "also append the whole result as Markdown to `FILE` (a GitHub job summary: $GITHUB_STEP_SUMMARY)")
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
	ml, err := messageLang(o.lang)
	if err != nil {
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
	var mergeAt time.Time
	if o.now != "" {
		if mergeAt, err = parseNow(o.now); err != nil {
			return err
		}
	}
	rep, err := engine.EvaluateChange(r, prefix, base, head, engine.ChangeOptions{Authors: splitList(o.authors), Lang: ml, MergeAt: mergeAt})
	if err != nil {
		return err
	}
	l := i18n.Select(ml, rep.Language)
	switch o.format {
	case "json":
		err = present.WriteGateJSON(stdout, rep)
	case "markdown":
		err = present.WriteGateMarkdownIn(stdout, l, rep)
	case "github":
		// Annotations, then the readable report for the log: one run.
		if err = present.WriteGateGitHubIn(stdout, l, rep, dir); err == nil {
			err = present.WriteGateTextIn(stdout, l, rep)
		}
	default:
		err = present.WriteGateTextIn(stdout, l, rep)
	}
	if err != nil {
		return err
	}
	if o.summary != "" {
		if err := appendTo(o.summary, func(w io.Writer) error { return present.WriteGateMarkdownIn(w, l, rep) }); err != nil {
			return err
		}
	}
	if !rep.Passed {
		return errFailed
	}
	return nil
}

// appendTo appends what write writes to the file at p (a job summary).
func appendTo(p string, write func(io.Writer) error) error {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("--summary: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("--summary %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--summary %s: %w", p, err)
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
