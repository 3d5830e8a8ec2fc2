package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/present"
)

type statusOptions struct {
	repoFlags
	format string
	lang   string
	now    string
}

func runStatus(args []string, stdout, stderr io.Writer) error {
	var o statusOptions
	fs := flag.NewFlagSet("relgate status", flag.ContinueOnError)
	o.register(fs, true)
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text or json")
	langFlag(fs, &o.lang)
	fs.StringVar(&o.now, "now", "", "judge overdue retrospectives at this RFC 3339 `TIME` (default: the clock)")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := oneOf("format", o.format, "text", "json"); err != nil {
		return err
	}
	ml, err := messageLang(o.lang)
	if err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	var rel string
	for i, p := range pos {
		if document.ReleaseIDPattern.MatchString(p) {
			rel, pos = p, append(pos[:i:i], pos[i+1:]...)
			break
		}
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
	var snap *loader.Snapshot
	if rel != "" {
		snap, err = loader.LoadReleases(tree, []string{rel})
	} else {
		snap, err = loadAll(dir, tree, false, 0, stderr)
	}
	if err != nil {
		return err
	}
	gh, err := openHistory(dir, tree)
	if err != nil {
		return err
	}
	defer gh.close()
	pol, warnings, err := gh.policy(snap)
	if err != nil {
		return err
	}
	ids := snap.ReleaseIDs()
	if rel != "" && snap.Releases[rel] == nil {
		return usagef("release %s does not exist at %s", rel, tree.Name())
	}
	var out []gate.Status
	for _, id := range ids {
		st, err := evaluate.Release(pol, snap, id, evaluate.Options{Provenance: gh.prov})
		if err != nil {
			return err
		}
		out = append(out, st.At(now))
	}
	if o.format == "json" {
		return present.WriteStatusJSON(stdout, tree.Name(), warnings, out)
	}
	return present.WriteStatusTextIn(stdout, i18n.Select(ml, pol.Language), warnings, out)
}

// loadPolicy builds the policy of a snapshot, failing with a clear message
// when relgate.yaml is missing or invalid.
func loadPolicy(snap *loader.Snapshot) (*policy.Policy, []string, error) {
	if snap.Policy == nil {
		return nil, nil, fmt.Errorf("%s at %s is missing or invalid; run relgate validate", document.PolicyPath, snap.Tree.Name())
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", document.PolicyPath, err)
	}
	var warnings []string
	if pol.TrustCommitAuthor {
		warnings = append(warnings, "the policy trusts commit authorship (trustCommitAuthor): approvals are unauthenticated")
	}
	return pol, warnings, nil
}

func policyOf(snap *loader.Snapshot) (*policy.Policy, error) {
	pol, _, err := loadPolicy(snap)
	return pol, err
}
