package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gitrepo"
)

type deployCheckOptions struct {
	repoFlags
	env       string
	artifacts listFlag
	now       string
	format    string
	lang      string
}

// maxArtifacts bounds one request: a release installs a handful of items.
const maxArtifacts = 200

// runDeployCheck is the deployment gate for any CI (GitLab, Jenkins, an Argo
// CD PreSync hook): the same decision as the server's GitHub deployment
// protection rule, from the committed state of the protected branch. It
// fails closed: exit 0 only for an allowed deployment; 1 refused; 2 when the
// decision could not be made (which refuses too).
func runDeployCheck(args []string, stdout, stderr io.Writer) error {
	var o deployCheckOptions
	fs := flag.NewFlagSet("relgate deploy-check", flag.ContinueOnError)
	o.register(fs, true)
	fs.StringVar(&o.env, "env", "", "the deployment `ENVIRONMENT` (for example production)")
	fs.Var(&o.artifacts, "artifact", "an artifact the deployment installs, `ITEM=VERSION@sha256:DIGEST` (repeat for each)")
	fs.StringVar(&o.now, "now", "", "decide as of this RFC 3339 `TIME` (default: the clock)")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text or json")
	fs.StringVar(&o.lang, "lang", "", "language of the reasons: zh or en (default: the policy's)")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := oneOf("format", o.format, "text", "json"); err != nil {
		return err
	}
	if o.lang != "" {
		if err := oneOf("lang", o.lang, "zh", "en"); err != nil {
			return err
		}
	}
	var rel string
	for i, p := range pos {
		if document.ReleaseIDPattern.MatchString(p) {
			rel, pos = p, append(pos[:i:i], pos[i+1:]...)
			break
		}
	}
	if rel == "" {
		return usagef("deploy-check needs the release id, for example: relgate deploy-check REL-2026-0042 --env production --artifact payment-interface=3.2.0@sha256:…")
	}
	if o.env == "" {
		return usagef("deploy-check needs --env ENVIRONMENT (the environment deployed to, as relgate.yaml deployments.environments names it)")
	}
	if len(o.artifacts) > maxArtifacts {
		return usagef("--artifact given %d times; at most %d", len(o.artifacts), maxArtifacts)
	}
	req := deploy.Request{Release: rel, Environment: o.env, Lang: o.lang}
	for _, a := range o.artifacts {
		v, err := deploy.ParseArtifact(a)
		if err != nil {
			return usagef("--artifact: %v", err)
		}
		req.Artifacts = append(req.Artifacts, v)
	}
	if req.Now, err = parseNow(o.now); err != nil {
		return err
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	d, err := decideDeployment(dir, o.rev, req)
	if err != nil {
		// Fail closed, and say so in the form asked for.
		d = deploy.Refused(req, err)
		if o.format == "json" {
			if werr := writeDecisionJSON(stdout, d); werr != nil {
				return werr
			}
		}
		return err
	}
	if o.format == "json" {
		err = writeDecisionJSON(stdout, d)
	} else {
		err = writeDecisionText(stdout, d)
	}
	if err != nil {
		return err
	}
	if !d.Allowed {
		return errFailed
	}
	return nil
}

// decideDeployment reads the committed state at rev (default HEAD): the
// documents an approval binds to are in git, never in an uncommitted file.
func decideDeployment(dir, rev string, req deploy.Request) (deploy.Decision, error) {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return deploy.Decision{}, fmt.Errorf("%s: deploy-check reads the release repository's git history: %w", dir, err)
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		return deploy.Decision{}, err
	}
	if rev == "" {
		rev = "HEAD"
	}
	h, err := r.Resolve(rev)
	if err != nil {
		return deploy.Decision{}, err
	}
	return engine.DeployDecision(r, prefix, h, openCache(dir), req)
}

func writeDecisionJSON(w io.Writer, d deploy.Decision) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func writeDecisionText(w io.Writer, d deploy.Decision) error {
	zh := d.Lang == "zh"
	verdict := map[bool]string{true: "ALLOWED", false: "REFUSED"}[d.Allowed]
	if zh {
		verdict = map[bool]string{true: "放行", false: "拒绝"}[d.Allowed]
	}
	fmt.Fprintf(w, "%s %s → %s at %s (%s)\n", verdict, d.Release, d.Environment, d.Now, short12(d.Revision))
	for _, r := range d.Rules {
		mark := "✓"
		if !r.OK {
			mark = "✗"
		}
		clause := ""
		if r.Clause != "" {
			clause = " (" + r.Clause + ")"
		}
		fmt.Fprintf(w, "  %s %s%s: %s\n", mark, r.ID, clause, r.Message)
	}
	return nil
}

func short12(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
