package cli

import (
	"flag"
	"io"
	"strings"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
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
	rep, err := EvaluateChange(r, dir, o.base, o.head, splitList(o.authors))
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

// EvaluateChange evaluates the change from base to head of the release
// repository at dir, reading only the releases the change touches.
func EvaluateChange(r *gitrepo.Repo, dir, baseRev, headRev string, authors []string) (*evaluate.GateReport, error) {
	prefix, err := r.Prefix(dir)
	if err != nil {
		return nil, err
	}
	base, err := r.Resolve(baseRev)
	if err != nil {
		return nil, err
	}
	head, err := r.Resolve(headRev)
	if err != nil {
		return nil, err
	}
	changed, err := r.ChangedPaths(base, head, prefix)
	if err != nil {
		return nil, err
	}
	touched := evaluate.TouchedReleases(changed)
	baseTree, err := r.TreeAt(base, prefix)
	if err != nil {
		return nil, err
	}
	headTree, err := r.TreeAt(head, prefix)
	if err != nil {
		return nil, err
	}
	baseSnap, err := loader.LoadReleases(baseTree, touched)
	if err != nil {
		return nil, err
	}
	headSnap, err := loader.LoadReleases(headTree, touched)
	if err != nil {
		return nil, err
	}
	if err := headSnap.Include(changed); err != nil {
		return nil, err
	}
	var approvalPaths []string
	for _, p := range changed {
		if strings.Contains(p, "/approvals/") || strings.HasPrefix(p, "approvals/") {
			approvalPaths = append(approvalPaths, p)
		}
	}
	intros, err := r.Introductions(base, head, prefix, approvalPaths)
	if err != nil {
		return nil, err
	}
	pr := evaluate.PullRequest{Base: baseSnap, Head: headSnap, Changed: changed, Authors: authors}
	if baseSnap.Policy != nil {
		pol, err := policyOf(baseSnap)
		if err != nil {
			return nil, err
		}
		h := evaluate.History{Policy: pol, Introduced: map[string]evaluate.Introduction{}}
		for p, i := range intros {
			h.Introduced[p] = i
		}
		pr.Auth = h
	}
	return pr.Evaluate()
}
