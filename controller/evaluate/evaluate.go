// Package evaluate assembles the one decision every command shares: for a
// release (or a repository gate) at a revision, it computes each gate's
// digest, attributes every approval and document to the commits that made
// them (package provenance), authenticates those commits against the policy,
// collects who edited what for separation of duties, and hands the result to
// package gate, which decides. `status`, `gate`, `reconcile`, `audit`,
// `report` and `serve` all call Release or PullRequest.Evaluate; none of them
// counts an approval by any other rule.
package evaluate

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/digest"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/source"
)

// Provenance attributes a path's content to the commits that made it;
// *provenance.Ledger implements it.
type Provenance interface {
	Origin(path string, blob source.BlobID) (provenance.Origin, error)
	Changes(path string) ([]provenance.Change, error)
	// Since lists the changes to path that commit did not contain.
	Since(path, commit string) ([]provenance.Change, error)
}

// NoHistory is the provenance of documents outside any git repository:
// nothing is attributed, so no approval counts.
type NoHistory struct{}

// Origin implements Provenance.
func (NoHistory) Origin(p string, _ source.BlobID) (provenance.Origin, error) {
	return provenance.Origin{Path: p, Problem: "the documents are not in a git repository: an approval counts only through the commit that adds it"}, nil
}

// Changes implements Provenance.
func (NoHistory) Changes(string) ([]provenance.Change, error) { return nil, nil }

// Since implements Provenance.
func (NoHistory) Since(string, string) ([]provenance.Change, error) { return nil, nil }

// Authenticate says whether the commits that gave a document its content
// vouch for the person it speaks for: a commit signed by a key the policy
// lists for them, or, when the policy trusts commit authorship, authored with
// their email. forge marks an approval the bot recorded from a forge review:
// the bot's authenticated commit vouches for it. via names the means; problem
// says why nothing vouches (empty when something does).
func Authenticate(pol *policy.Policy, o provenance.Origin, login string, forge bool) (via, problem string) {
	if o.Problem != "" {
		return "", o.Problem
	}
	if len(o.Commits) == 0 {
		return "", "no commit vouches for it"
	}
	person, known := pol.Person(login)
	if forge {
		for _, c := range o.Commits {
			if ByBot(pol, c) {
				return "forge", ""
			}
		}
		return "", fmt.Sprintf("it says the bot recorded it from a forge review, but commit %s is not an authenticated commit of the bot %s", o.Commits[0].Short(), pol.Bot.Email)
	}
	if !known {
		return "", fmt.Sprintf("%s is not a person of the policy", login)
	}
	for _, c := range o.Commits {
		if len(person.SigningKeys) > 0 && c.VerifiedBy(person.SigningKeys) {
			return "signature", ""
		}
		if pol.TrustCommitAuthor && strings.EqualFold(c.AuthorEmail, person.Email) {
			return "commit-author", ""
		}
	}
	c := o.Commits[0]
	if pol.TrustCommitAuthor {
		return "", fmt.Sprintf("commit %s that added it was authored by %s, not by %s <%s>", c.Short(), c.AuthorEmail, person.Login, person.Email)
	}
	if len(person.SigningKeys) == 0 {
		return "", fmt.Sprintf("the policy lists no signing key for %s, and approvals must be signed (trustCommitAuthor is off)", person.Login)
	}
	return "", fmt.Sprintf("commit %s that added it carries no valid signature by a key the policy lists for %s", c.Short(), person.Login)
}

// ByBot reports whether the policy's bot made a commit: signed by a key the
// policy lists for the bot person, or, when the policy trusts commit
// authorship, authored with the bot's email.
func ByBot(pol *policy.Policy, c *provenance.Commit) bool {
	if c == nil || pol.Bot.Email == "" || !strings.EqualFold(c.AuthorEmail, pol.Bot.Email) {
		return false
	}
	if bot, ok := pol.PersonByEmail(pol.Bot.Email); ok && len(bot.SigningKeys) > 0 {
		return c.VerifiedBy(bot.SigningKeys)
	}
	return pol.TrustCommitAuthor
}

// Digest computes the digest of a gate of a release as it is in t.
func Digest(t source.Tree, release string, g policy.Gate) (string, string, error) {
	if g.Repository {
		return digest.Compute(t, "", "", g.ID, g.Covers)
	}
	covers := g.Covers
	if len(covers) == 0 {
		covers = allReleaseFiles()
	}
	return digest.Compute(t, release, document.ReleaseDir(release), g.ID, covers)
}

func coveredFiles(g policy.Gate) []string {
	if len(g.Covers) > 0 {
		return g.Covers
	}
	return allReleaseFiles()
}

func allReleaseFiles() []string {
	var out []string
	for n := range document.ReleaseFiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Options adjust one evaluation.
type Options struct {
	// Provenance attributes content to commits; nil attributes nothing, so
	// no approval counts.
	Provenance Provenance
	// Authors count as authors of every covered document (a pull request's author).
	Authors []string
	// Extra votes, from the forge, by gate id.
	Extra map[string][]gate.Vote
	// MergeAt is when the change under evaluation would merge (gate.Input).
	MergeAt time.Time
}

func (o Options) prov() Provenance {
	if o.Provenance == nil {
		return NoHistory{}
	}
	return o.Provenance
}

// Release evaluates one release of snap under the policy pol (which, for a
// pull request, comes from the base branch). It is the decision: every
// command that says what state a release is in, or whether an approval
// counts, calls it.
func Release(pol *policy.Policy, snap *loader.Snapshot, id string, opts Options) (gate.Status, error) {
	r := snap.Releases[id]
	if r == nil {
		r = &loader.Release{ID: id, Files: map[string]*loader.Doc{}}
	}
	prov := opts.prov()
	in := gate.Input{Policy: pol, Release: r, Digests: map[string]string{}, Votes: map[string][]gate.Vote{},
		Lookup: snap, Authors: opts.Authors, Bookings: snap, MergeAt: opts.MergeAt}
	tree := seeded(snap.Tree, r)
	for _, g := range pol.Gates() {
		if g.Repository {
			continue
		}
		d, _, err := Digest(tree, id, g)
		if err != nil {
			return gate.Status{}, err
		}
		in.Digests[g.ID] = d
	}
	for _, a := range r.Approvals {
		if a.Approval == nil {
			continue // invalid: validate reports it
		}
		v, err := Vote(pol, prov, a)
		if err != nil {
			return gate.Status{}, err
		}
		if g, ok := pol.Gate(a.FileGate); ok && v.Commit != "" && v.Digest != in.Digests[g.ID] {
			// Which covered document changed since the approval, for the
			// message of a stale approval.
			for _, f := range coveredFiles(g) {
				later, err := prov.Since(document.ReleaseDir(id)+"/"+f, v.Commit)
				if err != nil {
					return gate.Status{}, err
				}
				if len(later) > 0 {
					v.ChangedSince = append(v.ChangedSince, f+" in "+later[len(later)-1].Commit.Short())
				}
			}
		}
		in.Votes[a.FileGate] = append(in.Votes[a.FileGate], v)
	}
	for g, vs := range opts.Extra {
		in.Votes[g] = append(in.Votes[g], vs...)
	}
	var err error
	if in.Edits, in.Unattributed, err = Edits(pol, prov, r); err != nil {
		return gate.Status{}, err
	}
	if r.Closure != nil {
		// The implementer named in closure.yaml closes the release, and the
		// commit that wrote it must be theirs.
		d := r.Files["closure.yaml"]
		o, err := prov.Origin(d.Path, d.ID)
		if err != nil {
			return gate.Status{}, err
		}
		if _, problem := Authenticate(pol, o, r.Closure.ClosedBy, false); problem != "" {
			in.ClosureProblem = problem
		} else if len(o.Commits) > 0 {
			in.ClosureProblem = afterCommit("closure.yaml", r.Closure.ClosedAt, o.Commits[0])
		}
	}
	if _, in.ReceiptProblem, err = botReceipt(pol, prov, r); err != nil {
		return gate.Status{}, err
	}
	if in.ReceiptAllowed, err = receiptAllowed(pol, prov, tree, r); err != nil {
		return gate.Status{}, err
	}
	rep, err := tree.Stat(gate.ReportPath(id))
	switch {
	case err == nil:
		// The release report is the bot's: one written by anyone else is no
		// report.
		byBot, err := madeByBot(pol, prov, rep.Path, rep.ID, false)
		if err != nil {
			return gate.Status{}, err
		}
		in.ReportPresent = byBot
		if !byBot {
			in.ReportProblem = "the release report " + rep.Path + " was not written by relgate (the bot " + pol.Bot.Email + "); relgate reconcile writes it"
		}
	case !errors.Is(err, fs.ErrNotExist):
		return gate.Status{}, err
	}
	return gate.Evaluate(in)
}

// BotLogin is the login of the person the policy's bot identity is (the
// person whose email is bot.email); ok is false when the policy names none.
func BotLogin(pol *policy.Policy) (string, bool) {
	if pol.Bot.Email == "" {
		return "", false
	}
	p, ok := pol.PersonByEmail(pol.Bot.Email)
	if !ok {
		return "", false
	}
	return p.Login, true
}

// botReceipt judges a deployment record that says the bot recorded it: only
// the bot's authenticated commit may have given deployment.yaml that content
// or anyone could file a record in the bot's name. ok says the
// record is a receipt the bot wrote; problem says why a record in the bot's
// name does not count (empty when it does, or when a person recorded it).
func botReceipt(pol *policy.Policy, prov Provenance, r *loader.Release) (ok bool, problem string, err error) {
	d, f := r.Deployment, r.Files["deployment.yaml"]
	login, known := BotLogin(pol)
	if d == nil || f == nil || !known || d.RecordedBy != login {
		return false, "", nil
	}
	byBot, err := madeByBot(pol, prov, f.Path, f.ID, false)
	if err != nil {
		return false, "", err
	}
	if !byBot {
		return false, fmt.Sprintf("deployment.yaml says the bot %s recorded it from the pipeline's report, but no authenticated commit of the bot (%s) gave it this content; "+
			"the bot writes receipts itself: to record or complete a deployment by hand, set recordedBy to your own login (an implementer)", login, pol.Bot.Email), nil
	}
	return d.Receipt != nil, "", nil
}

// receiptAllowed judges a receipt of a forge deployment against the
// deployment gate's own record: the bot's deployment log must hold an
// allowed decision for that deployment, in that environment, naming what
// the receipt says was deployed. A deployment the gate refused, or never
// saw, that reports success is a deployment nobody authorized, even
// with the tested artifacts. "" when it holds, or when the record is no forge
// receipt (a CI receipt or a record typed by hand is judged on its artifacts).
func receiptAllowed(pol *policy.Policy, prov Provenance, t source.Tree, r *loader.Release) (string, error) {
	d := r.Deployment
	if d == nil || d.Receipt == nil || d.Receipt.Source != document.ReceiptGitHubDeployment {
		return "", nil
	}
	rc := d.Receipt
	p := document.DeploymentLogPath(r.ID)
	none := fmt.Sprintf("the deployment gate never allowed deployment %d of %s to %s: %s holds no allowed decision for it; "+
		"a deployment relgate did not allow reached %s (R-3.1): report it, do not confirm it", rc.DeploymentID, r.ID, rc.Environment, p, rc.Environment)
	if rc.DeploymentID == 0 {
		return fmt.Sprintf("the receipt names no forge deployment id, so no decision of the deployment gate can be found for it; a deployment relgate did not allow is an R-3.1 violation (%s)", p), nil
	}
	e, err := t.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return none, nil
	case err != nil:
		return "", err
	case e.Size > document.MaxDeploymentLog:
		return fmt.Sprintf("%s is %d bytes, more than relgate reads (%d): the deployment gate's decisions cannot be checked", p, e.Size, document.MaxDeploymentLog), nil
	}
	// The log counts only as the bot wrote it: anyone else could log an
	// allowed decision that was never made.
	byBot, err := madeByBot(pol, prov, p, e.ID, false)
	if err != nil {
		return "", err
	}
	if !byBot {
		return fmt.Sprintf("%s was not written by relgate (the bot %s), so it proves no decision of the deployment gate (R-3.1)", p, pol.Bot.Email), nil
	}
	data, err := t.Read(p)
	if err != nil {
		return "", err
	}
	log, err := document.ParseDeploymentLog(data)
	if err != nil {
		return fmt.Sprintf("%s cannot be read (%v): the deployment gate's decisions cannot be checked", p, err), nil
	}
	for _, ld := range log.Decisions {
		if !ld.Allowed || ld.DeploymentID != rc.DeploymentID || ld.Environment != rc.Environment {
			continue
		}
		var extra []string
		for _, v := range d.Deployed {
			if !slices.Contains(ld.Artifacts, v) { // an allowed decision names what it allowed
				extra = append(extra, v.Item+" "+v.Version)
			}
		}
		if len(extra) == 0 {
			return "", nil
		}
		return fmt.Sprintf("deployment %d was allowed for other artifacts than it reports deployed (%s; see %s): what reached %s is not what the gate allowed (R-3.1)",
			rc.DeploymentID, strings.Join(extra, ", "), p, rc.Environment), nil
	}
	return none, nil
}

// Vote turns an approval file into a vote, authenticated by the commits that
// gave the file its content. The file name, not the content, decides which
// gate and person it is for: validate reports a mismatch, and the content's
// person must equal it to count.
func Vote(pol *policy.Policy, prov Provenance, a *loader.Approval) (gate.Vote, error) {
	v := gate.Vote{Person: a.FilePerson, Role: a.Role, Decision: a.Decision, Digest: a.Digest, At: a.At,
		Comment: a.Comment, File: a.Doc.Path, Release: a.Release}
	if a.Person != a.FilePerson || a.Gate != a.FileGate {
		v.AuthProblem = "the file name and the content name different gates or people"
		return v, nil
	}
	o, err := prov.Origin(a.Doc.Path, a.Doc.ID)
	if err != nil {
		return v, err
	}
	v.AuthVia, v.AuthProblem = Authenticate(pol, o, a.FilePerson, a.Forge != nil)
	if len(o.Commits) > 0 {
		v.Commit = o.Commits[0].ID
		v.DateProblem = afterCommit("the approval", a.At, o.Commits[0])
	}
	return v, nil
}

// ClockSkew is how far a document's own date may run ahead of the commit
// that adds it (clocks differ) before it counts as dated in the future.
const ClockSkew = 15 * time.Minute

// afterCommit says what is wrong when a document claims a time later than
// the commit that adds it: nobody approves, confirms or closes after
// committing it, so the date is false, or the commit's is.
func afterCommit(what, at string, c *provenance.Commit) string {
	t, err := document.ParseTime(at)
	if err != nil || c.When.IsZero() || !t.After(c.When.Add(ClockSkew)) {
		return ""
	}
	return fmt.Sprintf("%s is dated %s, after commit %s that adds it (%s): it cannot have been given after it was committed",
		what, at, c.Short(), c.When.Format(time.RFC3339))
}

// Edits names, per release file, everyone who authored or committed a change
// to it since it was created, with the commit: nobody approves what they
// edited, whatever the document's author field says (separation of duties,
// A file whose last change was authored by someone the policy does not
// know cannot be approved until a person of the policy commits it again.
func Edits(pol *policy.Policy, prov Provenance, r *loader.Release) (map[string][]gate.Edit, map[string]string, error) {
	edits := map[string][]gate.Edit{}
	unattributed := map[string]string{}
	names := make([]string, 0, len(r.Files))
	for n := range r.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := document.ReleaseDir(r.ID) + "/" + n
		changes, err := prov.Changes(p)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range changes {
			author, ok := pol.PersonByEmailFold(c.Commit.AuthorEmail)
			if ok {
				edits[n] = appendEdit(edits[n], gate.Edit{Person: author.Login, Commit: c.Commit.ID, As: "authored"})
			}
			if committer, ok := pol.PersonByEmailFold(c.Commit.CommitterEmail); ok && (author == nil || committer.Login != author.Login) {
				edits[n] = appendEdit(edits[n], gate.Edit{Person: committer.Login, Commit: c.Commit.ID, As: "committed"})
			}
		}
		// Whoever made the present content must be someone the policy knows:
		// the commits that gave it, found by reachability (never by the
		// order history was read in).
		d := r.Files[n]
		if d == nil || len(changes) == 0 {
			continue
		}
		o, err := prov.Origin(p, d.ID)
		if err != nil {
			return nil, nil, err
		}
		if o.Problem != "" {
			unattributed[n] = fmt.Sprintf("%s cannot be attributed to a commit (%s); a person of the policy must commit it before it can be approved", n, o.Problem)
			continue
		}
		for _, c := range o.Commits {
			if _, ok := pol.PersonByEmailFold(c.AuthorEmail); !ok {
				unattributed[n] = fmt.Sprintf("%s was last changed by commit %s, whose author %s is not a person of the policy; a person of the policy must commit it before it can be approved",
					n, c.Short(), c.AuthorEmail)
			}
		}
	}
	return edits, unattributed, nil
}

func appendEdit(es []gate.Edit, e gate.Edit) []gate.Edit {
	if slices.ContainsFunc(es, func(x gate.Edit) bool { return x.Person == e.Person }) {
		return es // the first edit names the person well enough
	}
	return append(es, e)
}

// RepositoryGate evaluates a gate that guards repository-wide files in a
// change that edits them: relgate.yaml needs the process approver,
// changes/ the change manager, cmdb/ the configuration manager,
// reviews/ the release owner. Approvals are
// approvals/<gate>.<person>.yaml in head, by people holding the role in the
// base policy, bound to the digest of the guarded files at head.
func RepositoryGate(pol *policy.Policy, head *loader.Snapshot, g policy.Gate, opts Options) (gate.Result, error) {
	d, _, err := Digest(head.Tree, "", g)
	if err != nil {
		return gate.Result{}, err
	}
	var votes []gate.Vote
	for _, a := range head.PolicyApprovals {
		if a.Approval != nil && a.FileGate == g.ID {
			v, err := Vote(pol, opts.prov(), a)
			if err != nil {
				return gate.Result{}, err
			}
			votes = append(votes, v)
		}
	}
	votes = append(votes, opts.Extra[g.ID]...)
	return gate.EvaluateRepositoryGate(pol, g, d, votes, opts.Authors), nil
}
