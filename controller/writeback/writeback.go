// Package writeback decides what relgate records back into the release
// repository: CMDB updates once a deployment is confirmed,
// the release report of every deployed or failed release and
// approval records from the forge. It computes each write from the current
// state only, so a write already made is never due again: running it twice,
// or after a crash, makes no second commit. It does no I/O beyond reading the
// snapshot's tree; package reconcile commits and pushes.
package writeback

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// File is one file to write, relative to the release repository. Content nil deletes it.
type File struct {
	Path    string
	Content []byte
}

// Write is one commit's worth of work.
type Write struct {
	// Kind is cmdb-update, release-report, approval-record or quarterly-report.
	Kind    string
	Release string
	// Subject is the commit message's first line; Body explains.
	Subject string
	Body    string
	Files   []File
}

// OperationID names the write's effect; it goes into the commit's trailers so
// that history shows which operation a commit performed, and is the same for
// the same effect whoever computes it.
func (w Write) OperationID() string {
	h := sha256.New()
	for _, f := range w.Files {
		fmt.Fprintf(h, "%s\x00%x\x00", f.Path, sha256.Sum256(f.Content))
	}
	return w.Kind + "/" + orRepo(w.Release) + "/" + hex.EncodeToString(h.Sum(nil))[:16]
}

// Message is the full commit message with its trailers.
func (w Write) Message() string {
	var b strings.Builder
	b.WriteString(w.Subject + "\n")
	if w.Body != "" {
		b.WriteString("\n" + strings.TrimRight(w.Body, "\n") + "\n")
	}
	b.WriteString("\n")
	if w.Release != "" {
		b.WriteString("Release-Id: " + w.Release + "\n")
	}
	b.WriteString("Relgate-Operation: " + w.OperationID() + "\n")
	return b.String()
}

func orRepo(s string) string {
	if s == "" {
		return "repository"
	}
	return s
}

// Options adjust planning.
type Options struct {
	// Lang of the release reports: zh or en; empty means the policy's language (zh by default).
	Lang string
	// Now decides which quarters are complete; zero writes no quarterly report.
	Now time.Time
	// Provenance attributes the documents to the commits that made them:
	// nothing is written for a release whose approvals do not count.
	Provenance evaluate.Provenance
}

// Plan computes every write the repository's state calls for, in a stable
// order. snap must be a full load (loader.LoadAll).
func Plan(snap *loader.Snapshot, pol *policy.Policy, opts Options) ([]Write, error) {
	lang := opts.Lang
	if lang == "" {
		lang = pol.Language
	}
	if lang != "en" {
		lang = "zh"
	}
	var out []Write
	// Writes are committed one after another; later ones must see the files
	// earlier ones changed (several releases update one CMDB item).
	ov := &overlay{snap: snap, files: map[string][]byte{}}
	for _, id := range snap.ReleaseIDs() {
		r := snap.Releases[id]
		if r.Release == nil || r.Deployment == nil {
			continue
		}
		st, err := evaluate.Release(pol, snap, id, evaluate.Options{Provenance: opts.Provenance})
		if err != nil {
			return nil, err
		}
		if _, passed := passedGate(st, policy.GateDeploymentConfirmation); passed {
			w, err := cmdbWrite(ov, r)
			if err != nil {
				return nil, err
			}
			if w != nil {
				out = append(out, *w)
				for _, f := range w.Files {
					ov.files[f.Path] = f.Content
				}
			}
		}
		rep, err := releaseReport(snap, pol, r, st, lang)
		if err != nil {
			return nil, err
		}
		if rep != nil {
			out = append(out, *rep)
		}
	}
	if !opts.Now.IsZero() {
		qs, err := quarterlyWrites(snap, pol, lang, opts.Now, opts.Provenance)
		if err != nil {
			return nil, err
		}
		out = append(out, qs...)
	}
	return out, nil
}

func passedGate(st gate.Status, id string) (gate.Result, bool) {
	g, ok := st.Gate(id)
	return g, ok && g.Passed
}

// changed returns a File if content differs from what the tree holds at p.
func changed(snap *loader.Snapshot, p string, content []byte) (*File, error) {
	old, err := snap.Tree.Read(p)
	if err == nil && string(old) == string(content) {
		return nil, nil
	}
	return &File{Path: p, Content: content}, nil
}

func sortFiles(fs []File) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
}

// ApprovalRecord is an approval the forge authenticated (a GitHub review),
// to be kept in the repository so that it alone proves who approved what.
type ApprovalRecord struct {
	Release, Gate, Person, Role, Decision, Digest, At, Comment string
	Forge                                                      document.ForgeReview
}

// ApprovalWrites returns the writes that record forge approvals, skipping
// those whose file already holds the same decision and digest.
func ApprovalWrites(snap *loader.Snapshot, recs []ApprovalRecord) ([]Write, error) {
	var out []Write
	for _, rec := range recs {
		p := document.ApprovalPath(rec.Release, rec.Gate, rec.Person)
		if d := snap.Doc(p); d != nil {
			a, ok := d.Value.(*document.Approval)
			if ok && a.Digest == rec.Digest && a.Decision == rec.Decision {
				continue
			}
			// A record computed at merge time may arrive late: it never
			// replaces a later decision, and never lifts a rejection (only
			// its author does, R-3.2).
			if ok && a.Decision == document.DecisionReject && rec.Decision != document.DecisionReject {
				continue
			}
			if ok && later(a.At, rec.At) {
				continue
			}
		}
		forge := rec.Forge
		a := document.Approval{Header: document.Header{APIVersion: document.APIVersion, Kind: document.KindApproval},
			Release: rec.Release, Gate: rec.Gate, Person: rec.Person, Role: rec.Role, Decision: rec.Decision,
			Digest: rec.Digest, At: rec.At, Comment: rec.Comment, Forge: &forge}
		content, err := approvalYAML(p, a)
		if err != nil {
			return nil, err
		}
		out = append(out, Write{Kind: "approval-record", Release: rec.Release,
			Subject: fmt.Sprintf("%s: record %s's %s of %s", orRepo(rec.Release), rec.Person, rec.Decision, rec.Gate),
			Body: fmt.Sprintf("From review %d on %s#%d at %s, as %s, digest %s.", rec.Forge.ReviewID, rec.Forge.Repository,
				rec.Forge.PullNumber, short(rec.Forge.HeadCommit), rec.Role, rec.Digest),
			Files: []File{{Path: p, Content: content}}})
	}
	return out, nil
}

// later reports whether time a is after time b (unreadable times are not).
func later(a, b string) bool {
	ta, err1 := document.ParseTime(a)
	tb, err2 := document.ParseTime(b)
	return err1 == nil && err2 == nil && ta.After(tb)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func schemaLine(p, file string) string {
	return "# yaml-language-server: $schema=" + strings.Repeat("../", strings.Count(p, "/")) + ".relgate/schemas/" + file + "\n"
}
