package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/scaffold"
	"github.com/relgate/relgate/controller/writeback"
)

type approveOptions struct {
	repoFlags
	as, role, comment string
	reject, commit    bool
	signKey           string
	now               string
}

func runApprove(args []string, stdout, stderr io.Writer) error {
	var o approveOptions
	fs := flag.NewFlagSet("relgate approve", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.as, "as", "", "approve as `LOGIN` (default: the policy person whose email is git's user.email)")
	fs.StringVar(&o.role, "role", "", "the `ROLE` you approve in (default: your only role this gate requires)")
	fs.StringVar(&o.comment, "comment", "", "a comment recorded with the approval")
	fs.BoolVar(&o.reject, "reject", false, "record a rejection, which blocks the gate until you withdraw it")
	fs.BoolVar(&o.commit, "commit", false, "commit the approval file (authored by you)")
	fs.StringVar(&o.signKey, "sign-key", "", "sign the commit with the armored OpenPGP private key in `FILE`")
	fs.StringVar(&o.now, "now", "", "approval time, RFC 3339 (default: now)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate approve REL GATE [DIR] [flags]\n       relgate approve policy-change|change-record|cmdb-change|review-change [DIR] [flags]")
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
		return usagef("approve needs a release and a gate")
	}
	if o.signKey != "" && !o.commit {
		return usagef("--sign-key signs a commit: add --commit")
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
	var ids []string
	if rel != "" {
		ids = []string{rel}
	}
	snap, err := loader.LoadReleases(tree, ids)
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
	if rel != "" && snap.Releases[rel] == nil {
		return usagef("release %s does not exist", rel)
	}
	login, err := o.identity(dir, pol)
	if err != nil {
		return err
	}
	role, err := chooseRole(pol, g, login, o.role)
	if err != nil {
		return err
	}
	d, _, err := evaluate.Digest(tree, rel, g)
	if err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	if pol.Location != nil {
		now = now.In(pol.Location)
	}
	decision := document.DecisionApprove
	if o.reject {
		decision = document.DecisionReject
	}
	a := document.Approval{Header: document.Header{APIVersion: document.APIVersion, Kind: document.KindApproval},
		Release: rel, Gate: g.ID, Person: login, Role: role, Decision: decision, Digest: d, At: now.Format(time.RFC3339), Comment: o.comment}
	p := document.ApprovalPath(rel, g.ID, login)
	content, err := writeback.ApprovalYAML(p, a)
	if err != nil {
		return err
	}
	if err := scaffold.Write(dir, []scaffold.File{{Path: p, Content: content}}, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s %s as %s, %s)\n", p, decision, g.ID, role, d)
	if !o.commit {
		return nil
	}
	person, _ := pol.Person(login)
	hash, err := o.commitFile(dir, p, person, fmt.Sprintf("%s: %s %s as %s\n\nRelease-Id: %s\nRelgate-Digest: %s\n", orRepo(rel), decision, g.ID, role, orRepo(rel), d), now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "committed %s\n", hash)
	return nil
}

func orRepo(rel string) string {
	if rel == "" {
		return "policy"
	}
	return rel
}

// identity is --as, or the policy person whose email is git's user.email.
func (o *approveOptions) identity(dir string, pol *policy.Policy) (string, error) {
	if o.as != "" {
		if _, ok := pol.Person(o.as); !ok {
			return "", usagef("--as %s: not a person of the policy", o.as)
		}
		return o.as, nil
	}
	email := ""
	if r, err := gitrepo.Open(dir); err == nil {
		if cfg, err := r.Git.ConfigScoped(config.GlobalScope); err == nil {
			email = cfg.User.Email
		}
		r.Close()
	}
	if email == "" {
		return "", usagef("who is approving? give --as LOGIN or set git's user.email")
	}
	p, ok := pol.PersonByEmail(email)
	if !ok {
		return "", usagef("git's user.email %s is not a person of the policy; give --as LOGIN", email)
	}
	return p.Login, nil
}

func chooseRole(pol *policy.Policy, g policy.Gate, login, role string) (string, error) {
	var candidates []string
	for _, q := range g.Requires {
		if pol.HasRole(login, q.Role) && !slices.Contains(candidates, q.Role) {
			candidates = append(candidates, q.Role)
		}
	}
	if g.ID == policy.GateGoLiveApproval && pol.HasRole(login, policy.RoleProcessApprover) {
		candidates = append(candidates, policy.RoleProcessApprover) // blackout exception
	}
	if role != "" {
		if !slices.Contains(candidates, role) {
			return "", usagef("%s does not hold %s, or gate %s does not require it", login, role, g.ID)
		}
		return role, nil
	}
	switch len(candidates) {
	case 0:
		return "", usagef("%s holds no role that gate %s requires", login, g.ID)
	case 1:
		return candidates[0], nil
	}
	return "", usagef("%s holds several roles gate %s requires (%v); choose one with --role", login, g.ID, candidates)
}

// commitFile commits one file of the work tree, authored by the approver.
func (o *approveOptions) commitFile(dir, p string, person *document.Person, msg string, when time.Time) (string, error) {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return "", err
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		return "", err
	}
	wt, err := r.Git.Worktree()
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", p, err)
	}
	full := p
	if prefix != "" {
		full = prefix + "/" + p
	}
	if err := wt.AddWithOptions(&git.AddOptions{Path: full, SkipStatus: true}); err != nil {
		return "", fmt.Errorf("stage %s: %w", p, err)
	}
	sig := &object.Signature{Name: person.Name, Email: person.Email, When: when}
	opts := &git.CommitOptions{Author: sig, Committer: sig}
	if o.signKey != "" {
		if signer, ok, err := readSSHSigningKey(o.signKey); err != nil {
			return "", err
		} else if ok {
			opts.Signer = signer
		} else {
			key, err := readSigningKey(o.signKey)
			if err != nil {
				return "", err
			}
			opts.SignKey = key
		}
	}
	h, err := wt.Commit(msg, opts)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", p, err)
	}
	return h.String(), nil
}

// readSSHSigningKey reads an OpenSSH private key (git's gpg.format=ssh);
// ok is false when the file holds another kind of key.
func readSSHSigningKey(file string) (git.Signer, bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, false, err
	}
	if !strings.Contains(string(data), "BEGIN OPENSSH PRIVATE KEY") {
		return nil, false, nil
	}
	key, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("read signing key %s: %w (relgate needs a key without a passphrase)", file, err)
	}
	return gitrepo.SSHSigner{Key: key}, true, nil
}

func readSigningKey(file string) (*openpgp.Entity, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ring, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil {
		return nil, fmt.Errorf("read signing key %s: %w", file, err)
	}
	if len(ring) == 0 || ring[0].PrivateKey == nil {
		return nil, fmt.Errorf("read signing key %s: %w", file, errors.New("no private key"))
	}
	if ring[0].PrivateKey.Encrypted {
		return nil, fmt.Errorf("signing key %s is protected by a passphrase; relgate needs an unlocked key", file)
	}
	return ring[0], nil
}
