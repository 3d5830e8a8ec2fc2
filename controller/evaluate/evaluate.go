// Package evaluate assembles a gate evaluation from a loaded repository: it
// computes the digest of each gate's covered documents, turns approval files
// into votes with their authentication, and asks package gate to decide. It
// is the one place `status`, `gate`, `approve` and the server share.
package evaluate

import (
	"errors"
	"io/fs"
	"sort"

	"github.com/relgate/relgate/controller/digest"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
)

// Authenticator says how an approval file was authenticated: via names the
// means, problem says why it is not (empty when it is).
type Authenticator interface {
	Authenticate(a *loader.Approval) (via, problem string)
}

// OnBranch trusts every approval as it stands on a protected branch: it was
// authenticated by the gate that merged it (and `audit verify` re-checks).
type OnBranch struct{}

// Authenticate implements Authenticator.
func (OnBranch) Authenticate(*loader.Approval) (string, string) { return "base", "" }

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
	Auth Authenticator
	// Authors count as authors of every covered document (a pull request's author).
	Authors []string
	// FileAuthors edited a release file (by file name) in the change.
	FileAuthors map[string][]string
	// Extra votes, from the forge, by gate id.
	Extra map[string][]gate.Vote
}

// Release evaluates one release of snap under the policy pol (which, for a
// pull request, comes from the base branch).
func Release(pol *policy.Policy, snap *loader.Snapshot, id string, opts Options) (gate.Status, error) {
	r := snap.Releases[id]
	if r == nil {
		r = &loader.Release{ID: id, Files: map[string]*loader.Doc{}}
	}
	if opts.Auth == nil {
		opts.Auth = OnBranch{}
	}
	in := gate.Input{Policy: pol, Release: r, Digests: map[string]string{}, Votes: map[string][]gate.Vote{},
		Lookup: snap, Authors: opts.Authors, FileAuthors: opts.FileAuthors}
	for _, g := range pol.Gates() {
		if g.Repository {
			continue
		}
		d, _, err := Digest(snap.Tree, id, g)
		if err != nil {
			return gate.Status{}, err
		}
		in.Digests[g.ID] = d
	}
	for _, a := range r.Approvals {
		if a.Approval == nil {
			continue // invalid: validate reports it
		}
		in.Votes[a.FileGate] = append(in.Votes[a.FileGate], Vote(a, opts.Auth))
	}
	for g, vs := range opts.Extra {
		in.Votes[g] = append(in.Votes[g], vs...)
	}
	_, err := snap.Tree.Stat(gate.ReportPath(id))
	switch {
	case err == nil:
		in.ReportPresent = true
	case !errors.Is(err, fs.ErrNotExist):
		return gate.Status{}, err
	}
	return gate.Evaluate(in)
}

// Vote turns an approval file into a vote. The file name, not the content,
// decides which gate and person it is for: validate reports a mismatch, and
// the content's person must equal it to count.
func Vote(a *loader.Approval, auth Authenticator) gate.Vote {
	v := gate.Vote{Person: a.FilePerson, Role: a.Role, Decision: a.Decision, Digest: a.Digest, At: a.At,
		Comment: a.Comment, File: a.Doc.Path, Release: a.Release}
	if a.Person != a.FilePerson || a.Gate != a.FileGate {
		v.AuthProblem = "the file name and the content name different gates or people"
		return v
	}
	v.AuthVia, v.AuthProblem = auth.Authenticate(a)
	return v
}

// RepositoryGate evaluates a gate that guards repository-wide files in a
// change that edits them: relgate.yaml needs the process approver,
// changes/ the change manager. Approvals are approvals/<gate>.<person>.yaml
// in head, by people holding the role in the base policy, bound to the
// digest of the guarded files at head.
func RepositoryGate(pol *policy.Policy, head *loader.Snapshot, g policy.Gate, opts Options) (gate.Result, error) {
	d, _, err := Digest(head.Tree, "", g)
	if err != nil {
		return gate.Result{}, err
	}
	if opts.Auth == nil {
		opts.Auth = OnBranch{}
	}
	var votes []gate.Vote
	for _, a := range head.PolicyApprovals {
		if a.Approval != nil && a.FileGate == g.ID {
			votes = append(votes, Vote(a, opts.Auth))
		}
	}
	votes = append(votes, opts.Extra[g.ID]...)
	return gate.EvaluateRepositoryGate(pol, g, d, votes, opts.Authors), nil
}
