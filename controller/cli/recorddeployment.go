package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/scaffold"
	"github.com/relgate/relgate/controller/writeback"
)

type recordDeploymentOptions struct {
	repoFlags
	artifacts, problems listFlag
	outcome, recordedBy string
	started, finished   string
	run, env            string
	commit              bool
	signKey             string
}

// Bounds of what one command line records.
const (
	maxRecordArtifacts = 200
	maxRecordProblems  = 100
)

// runRecordDeployment writes a pipeline's report of a finished deployment as
// the release's deployment.yaml, for people to confirm, in any CI:
// the receipt the server writes from GitHub's deployment_status. It never
// replaces a record: exit 0 when written (or when exactly this record is
// there already), 1 when the release has a different one or the receipt is
// refused, 2 on a usage error.
func runRecordDeployment(args []string, stdout, stderr io.Writer) error {
	var o recordDeploymentOptions
	fs := flag.NewFlagSet("relgate record-deployment", flag.ContinueOnError)
	o.register(fs, false)
	fs.Var(&o.artifacts, "artifact", "an artifact the deployment installed, `ITEM=VERSION@sha256:DIGEST` (repeat for each)")
	fs.StringVar(&o.outcome, "outcome", "", "how it ended: succeeded, failed or rolled-back")
	fs.Var(&o.problems, "problem", "a problem met and its solution, `\"DESCRIPTION => SOLUTION\"` (repeat for each)")
	fs.StringVar(&o.recordedBy, "recorded-by", "", "the implementer who records it, a policy `LOGIN`")
	fs.StringVar(&o.started, "started", "", "when the deployment started, RFC 3339 (default: --finished)")
	fs.StringVar(&o.finished, "finished", "", "when it finished, RFC 3339 (default: now)")
	fs.StringVar(&o.run, "run", "", "the `URL` of the pipeline run")
	fs.StringVar(&o.env, "env", "production", "the `ENVIRONMENT` deployed to")
	fs.BoolVar(&o.commit, "commit", false, "commit deployment.yaml (authored by --recorded-by)")
	fs.StringVar(&o.signKey, "sign-key", "", "sign the commit with the armored OpenPGP or OpenSSH private key in `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate record-deployment REL [DIR] --artifact ITEM=VERSION@sha256:HEX ... --outcome succeeded|failed|rolled-back --recorded-by LOGIN [flags]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("record-deployment needs a release")
	}
	rel := pos[0]
	if !document.ReleaseIDPattern.MatchString(rel) {
		return usagef("release id %q: want the form REL-2026-0042", rel)
	}
	rc, err := o.receipt(rel)
	if err != nil {
		return err
	}
	if o.signKey != "" && !o.commit {
		return usagef("--sign-key signs a commit: add --commit")
	}
	dir, err := o.dir(pos[1:])
	if err != nil {
		return err
	}
	tree, closeTree, err := o.openTree(dir)
	if err != nil {
		return err
	}
	defer closeTree()
	snap, err := loader.LoadReleases(tree, []string{rel})
	if err != nil {
		return err
	}
	pol, _, err := loadPolicy(snap)
	if err != nil {
		return err
	}
	if _, ok := pol.Person(rc.RecordedBy); !ok {
		return usagef("--recorded-by %s: not a person of the policy", rc.RecordedBy)
	}
	w, ok, err := writeback.ReceiptWrite(snap, pol, rc)
	switch {
	case errors.Is(err, writeback.ErrInvalidReceipt):
		return usagef("%v", err)
	case err != nil:
		fmt.Fprintf(stderr, "relgate: refused: %v\n", err)
		return errFailed
	}
	p := writeback.DeploymentPath(rel)
	if ok {
		if err := scaffold.Write(dir, []scaffold.File{{Path: p, Content: w.Files[0].Content}}, false); err != nil {
			if errors.Is(err, scaffold.ErrExists) {
				// Written between the read and the write: never replaced.
				fmt.Fprintf(stderr, "relgate: refused: %s exists\n", p)
				return errFailed
			}
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%s to %s, %d artifacts)\n", p, rc.Outcome, rc.Environment, len(rc.Deployed))
	} else {
		fmt.Fprintf(stdout, "%s already records this deployment\n", p)
	}
	if !o.commit {
		return nil
	}
	if !ok {
		// A replay commits the record the work tree holds if HEAD lacks it.
		if w, err = o.uncommitted(dir, snap, p, rc); err != nil || w.Subject == "" {
			return err
		}
	}
	person, _ := pol.Person(rc.RecordedBy)
	ao := approveOptions{signKey: o.signKey}
	hash, err := ao.commitFile(dir, p, person, w.Message(), time.Now().Truncate(time.Second).In(pol.Location))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "committed %s\n", hash)
	return nil
}

// receipt turns the flags into a receipt; a usage error says which is wrong.
func (o *recordDeploymentOptions) receipt(rel string) (writeback.Receipt, error) {
	rc := writeback.Receipt{Release: rel, Environment: o.env, Outcome: o.outcome, RecordedBy: o.recordedBy,
		Source: document.ReceiptCI, Run: o.run, Deployed: []document.VersionRef{}}
	if err := oneOf("outcome", o.outcome, document.OutcomeSucceeded, document.OutcomeFailed, document.OutcomeRolledBack); err != nil {
		return rc, err
	}
	if o.recordedBy == "" {
		return rc, usagef("--recorded-by: name the implementer who records the deployment (R-5.1.8)")
	}
	if len(o.artifacts) > maxRecordArtifacts || len(o.problems) > maxRecordProblems {
		return rc, usagef("at most %d --artifact and %d --problem", maxRecordArtifacts, maxRecordProblems)
	}
	seen := map[string]bool{}
	for _, a := range o.artifacts {
		v, err := deploy.ParseArtifact(a)
		if err != nil {
			return rc, usagef("--artifact: %v", err)
		}
		if seen[v.Item] {
			return rc, usagef("--artifact: %s is given twice", v.Item)
		}
		seen[v.Item] = true
		rc.Deployed = append(rc.Deployed, v)
	}
	if len(rc.Deployed) == 0 && o.outcome == document.OutcomeSucceeded {
		return rc, usagef("--artifact: a succeeded deployment names what it installed")
	}
	for _, p := range o.problems {
		d, s, ok := strings.Cut(p, "=>")
		if !ok || strings.TrimSpace(d) == "" || strings.TrimSpace(s) == "" {
			return rc, usagef("--problem %q: write \"DESCRIPTION => SOLUTION\"", truncateFlag(p))
		}
		rc.Problems = append(rc.Problems, document.Problem{Description: strings.TrimSpace(d), Solution: strings.TrimSpace(s)})
	}
	var err error
	if rc.FinishedAt, err = parseTime("finished", o.finished); err != nil {
		return rc, err
	}
	rc.StartedAt = rc.FinishedAt
	if o.started != "" {
		if rc.StartedAt, err = parseTime("started", o.started); err != nil {
			return rc, err
		}
	}
	return rc, nil
}

func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Now().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("--%s %q: want RFC 3339 with offset, for example 2026-10-18T01:00:00+08:00", name, truncateFlag(s))
	}
	return t, nil
}

func truncateFlag(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// uncommitted is the write to commit when the work tree already holds the
// record: none (zero Subject) when HEAD has it too.
func (o *recordDeploymentOptions) uncommitted(dir string, snap *loader.Snapshot, p string, rc writeback.Receipt) (writeback.Write, error) {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return writeback.Write{}, err
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		return writeback.Write{}, err
	}
	disk, err := snap.Tree.Read(p)
	if err != nil {
		return writeback.Write{}, err
	}
	if head, err := r.Resolve("HEAD"); err == nil {
		t, err := r.TreeAt(head, prefix)
		if err != nil {
			return writeback.Write{}, err
		}
		committed, err := t.Read(p)
		switch {
		case err == nil && string(committed) == string(disk):
			return writeback.Write{}, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return writeback.Write{}, err
		}
	}
	return writeback.Write{Kind: "deployment-receipt", Release: rc.Release,
		Subject: fmt.Sprintf("%s: record the %s deployment to %s from the pipeline's report", rc.Release, rc.Outcome, rc.Environment),
		Files:   []writeback.File{{Path: p, Content: disk}}}, nil
}
