// Package audit rebuilds the audit trail of a release repository from git
// history alone: the timeline of one release — every commit that
// touched its documents or the CMDB records of the items it names,
// who authored, committed and signed it, which
// documents and fields changed, and what each approval counted for — and
// `verify`, which re-evaluates every commit of a protected branch against
// its parent's policy and lists every violation: a state reached without its
// gate, an approval stale or unauthenticated when merged, a policy change
// without the process approver. It reads commits through the
// history index, never a path-limited log.
package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/writeback"
	"github.com/relgate/relgate/controller/yamldoc"
)

// Signature states of a commit.
const (
	SigUnsigned = "unsigned"
	// SigVerified: signed by a key the parent's policy lists for the author.
	SigVerified = "verified"
	// SigBad: the author is a policy person with keys, and the signature does not verify with them.
	SigBad = "bad-signature"
	// SigUnverifiable: signed, but the parent's policy lists no key for the author.
	SigUnverifiable = "signed-unverifiable"
)

// Timeline is the audit trail of one release; its JSON shape is stable.
type Timeline struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Release    string  `json:"release"`
	Tip        string  `json:"tip"`
	Events     []Event `json:"events"`
}

// Person is a commit's author or committer, with the policy login when known.
type Person struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Login string `json:"login,omitempty"`
	Time  string `json:"time"`
}

// Event is one commit that touched the release.
type Event struct {
	Commit    string   `json:"commit"`
	Parents   []string `json:"parents"`
	Subject   string   `json:"subject"`
	Author    Person   `json:"author"`
	Committer Person   `json:"committer"`
	Signature string   `json:"signature"`
	// SignedBy is the policy login whose key verified the signature.
	SignedBy string   `json:"signedBy,omitempty"`
	Changes  []Change `json:"changes"`
	// Approvals are the approvals whose standing this commit set or changed.
	Approvals []ApprovalState `json:"approvals"`
	// State is the release's lifecycle state after the commit ("" when it cannot be evaluated).
	State string `json:"state,omitempty"`
	// Deployments are the deployment decisions the commit logged (the
	// bot's deployment log, reports/deployments/<release>.yaml).
	Deployments []writeback.LoggedDecision `json:"deployments,omitempty"`
}

// Change is one file of the release changed by a commit.
type Change struct {
	Path   string        `json:"path"`
	Kind   document.Kind `json:"kind,omitempty"`
	Action string        `json:"action"` // added, modified, deleted
	// Fields are the top-level fields whose values differ.
	Fields []string `json:"fields"`
	// Gate and Person are what an approval file's name says.
	Gate   string `json:"gate,omitempty"`
	Person string `json:"person,omitempty"`
}

// ApprovalState is an approval's standing at a commit.
type ApprovalState struct {
	Path   string `json:"path"`
	Gate   string `json:"gate"`
	Person string `json:"person"`
	// Status is counted, rejection, stale, not-in-role, self-approval,
	// unauthenticated, wrong-release, not-required, not-evaluated or removed.
	Status string `json:"status"`
	// Before is the status at the parent ("" when the file was added).
	Before  string `json:"before,omitempty"`
	Message string `json:"message,omitempty"`
}

// Build returns the timeline of release rel as of tip, from the index.
func Build(r *gitrepo.Repo, ix *history.Index, rel string, tip plumbing.Hash) (*Timeline, error) {
	return newAuditor(r, ix).timeline(rel, tip)
}

// Trails builds the trails of many releases as of one tip (the dashboard's
// release pages), sharing the commits and policies they have in common. A
// trail is the timeline without the release re-evaluated at each commit
// (that is Build, `relgate audit REL`): every commit that touched the
// release or the CMDB records of its items, who authored, committed and
// signed it, the files it changed, and the deployment decisions it logged.
// Which gate each approval counts for is the tip's evaluation.
type Trails struct {
	a   *auditor
	tip plumbing.Hash
}

// NewTrails returns the trails of the releases at tip, whose policy in
// force is pol: it names the people of unsigned commits (a signed one is
// checked, as by Build, against the policy in force at its parent).
func NewTrails(r *gitrepo.Repo, ix *history.Index, tip plumbing.Hash, pol *policy.Policy) *Trails {
	a := newAuditor(r, ix)
	a.light, a.names = true, pol
	return &Trails{a: a, tip: tip}
}

// Of is the trail of release rel, whose release.yaml at the tip names the
// configuration items items.
func (t *Trails) Of(rel string, items []string) (*Timeline, error) {
	return t.a.timeline(rel, t.tip, items)
}

func (a *auditor) timeline(rel string, tip plumbing.Hash, known ...[]string) (*Timeline, error) {
	ix := a.ix
	if !document.ReleaseIDPattern.MatchString(rel) {
		return nil, fmt.Errorf("release id %q: want the form REL-2026-0042", rel)
	}
	// What tip reaches is computed once for every key (and, in Trails,
	// every release) asked about.
	if a.reach == nil || a.reachTip != tip {
		var err error
		if a.reach, err = ix.Reachable(tip); err != nil {
			return nil, err
		}
		a.reachTip = tip
	}
	commits := a.reach.Touching(document.ReleaseDir(rel))
	tl := &Timeline{APIVersion: document.APIVersion, Kind: "AuditTimeline", Release: rel, Tip: tip.String(), Events: []Event{}}
	if len(commits) == 0 {
		return tl, nil
	}
	// The configuration items the release names at tip: their CMDB records
	// change with it, so their commits belong to its trail.
	var items []string
	if len(known) > 0 {
		items = known[0]
	} else {
		var err error
		if items, err = a.items(tip, rel); err != nil {
			return nil, err
		}
	}
	seen := map[plumbing.Hash]bool{}
	for _, h := range commits {
		seen[h] = true
	}
	logged := a.reach.Touching(document.DeploymentLogPath(rel))
	for _, h := range logged {
		seen[h] = true
	}
	for _, it := range items {
		more := a.reach.Touching(document.CMDBPath(it))
		for _, h := range more {
			seen[h] = true
		}
	}
	ordered, err := ix.Order(seen)
	if err != nil {
		return nil, err
	}
	for _, h := range ordered {
		ev, err := a.event(h, rel, items)
		if err != nil {
			return nil, err
		}
		tl.Events = append(tl.Events, ev)
	}
	return tl, nil
}

// items are the configuration item ids release.yaml names at a commit.
func (a *auditor) items(h plumbing.Hash, rel string) ([]string, error) {
	tree, err := a.ix.TreeAt(a.r, h)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	snap, err := loader.LoadReleases(tree, []string{rel})
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", document.ReleaseDir(rel), h, err)
	}
	var out []string
	if r := snap.Releases[rel]; r != nil && r.Release != nil {
		for _, it := range r.Release.Items {
			if document.ItemIDPattern.MatchString(it.ID) && !slices.Contains(out, it.ID) {
				out = append(out, it.ID)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

type auditor struct {
	r      *gitrepo.Repo
	prefix string
	ix     *history.Index
	// head, in verify, is the commit a first-parent commit is evaluated up
	// to: itself, or the last of the bot's records of its reviews.
	head plumbing.Hash
	// clock, in verify, is the branch's time at the commit evaluated: the
	// latest committer date up to it (a date earlier than one before it on
	// the branch cannot be true), when a freeze in effect at merge is judged.
	clock time.Time
	// policies by commit, statuses by commit (of the one release audited).
	policies map[plumbing.Hash]*policy.Policy
	states   map[plumbing.Hash]releaseState
	// cache keeps decoded blobs across the commits verify evaluates.
	cache *loader.Cache
	// inForce remembers the policy in force at each commit asked about.
	inForce *engine.Policies
	// carry, in verify, is the last evaluation's head snapshot, whose
	// bookings the next commit's evaluation patches (evaluateStep); step
	// says how, in tests.
	carry carry
	step  stepMode
	// memo keeps what the ledgers found about single commits (verify makes
	// two at each commit).
	memo *provenance.Memo
	// light skips what only Build needs (Trails): the release's state at
	// each commit and the fields each change touched; names is then the
	// policy that names the people of unsigned commits.
	light bool
	names *policy.Policy
	// reach is what reachTip reaches.
	reach    *history.Reach
	reachTip plumbing.Hash
	// commits and sigs remember commits read and their signature state.
	commits map[plumbing.Hash]*object.Commit
	sigs    map[plumbing.Hash][2]string
}

type releaseState struct {
	state     string
	approvals map[string]ApprovalState
}

func newAuditor(r *gitrepo.Repo, ix *history.Index) *auditor {
	cache := loader.NewMemoryCache()
	return &auditor{r: r, prefix: ix.Prefix(), ix: ix, policies: map[plumbing.Hash]*policy.Policy{}, states: map[plumbing.Hash]releaseState{},
		cache: cache, inForce: engine.NewPolicies(r, ix.Prefix(), ix, cache),
		commits: map[plumbing.Hash]*object.Commit{}, sigs: map[plumbing.Hash][2]string{}, memo: provenance.NewMemo()}
}

// ledger attributes what the repository holds at h to the commits that made it.
func (a *auditor) ledger(h plumbing.Hash) (*provenance.Ledger, error) {
	return provenance.NewWith(a.r, a.ix, a.memo, h)
}

func (a *auditor) event(h plumbing.Hash, rel string, items []string) (Event, error) {
	c := a.commits[h]
	if c == nil {
		var err error
		if c, err = a.r.Git.CommitObject(h); err != nil {
			return Event{}, fmt.Errorf("read commit %s: %w", h, err)
		}
		a.commits[h] = c
	}
	ev := Event{Commit: h.String(), Parents: []string{}, Subject: subject(c.Message), Changes: []Change{}, Approvals: []ApprovalState{},
		Author:    Person{Name: c.Author.Name, Email: c.Author.Email, Time: c.Author.When.Format(time.RFC3339)},
		Committer: Person{Name: c.Committer.Name, Email: c.Committer.Email, Time: c.Committer.When.Format(time.RFC3339)}}
	var parent plumbing.Hash
	for i, p := range c.ParentHashes {
		ev.Parents = append(ev.Parents, p.String())
		if i == 0 {
			parent = p
		}
	}
	pol := a.names
	if !a.light || c.PGPSignature != "" {
		var err error
		if pol, err = a.policy(parent); err != nil {
			return Event{}, err
		}
	}
	if pol != nil {
		if p, ok := pol.PersonByEmail(c.Author.Email); ok {
			ev.Author.Login = p.Login
		}
		if p, ok := pol.PersonByEmail(c.Committer.Email); ok {
			ev.Committer.Login = p.Login
		}
	}
	sig, ok := a.sigs[h]
	if !ok {
		sig[0], sig[1] = signature(c, pol)
		a.sigs[h] = sig
	}
	ev.Signature, ev.SignedBy = sig[0], sig[1]

	changes, err := a.diff(parent, h, document.ReleaseDir(rel))
	if err != nil {
		return Event{}, err
	}
	var cmdb []history.FileChange
	for _, it := range items {
		fcs, err := a.diff(parent, h, document.CMDBPath(it))
		if err != nil {
			return Event{}, err
		}
		cmdb = append(cmdb, fcs...)
	}
	sort.Slice(cmdb, func(i, j int) bool { return cmdb[i].Path < cmdb[j].Path })
	changes = append(changes, cmdb...)
	if ev.Deployments, err = a.decisions(parent, h, rel); err != nil {
		return Event{}, err
	}
	for _, fc := range changes {
		ch, err := a.change(fc)
		if err != nil {
			return Event{}, fmt.Errorf("commit %s: %w", h, err)
		}
		ev.Changes = append(ev.Changes, ch)
	}
	if a.light {
		return ev, nil
	}
	after, err := a.state(h, rel)
	if err != nil {
		return Event{}, err
	}
	before := releaseState{approvals: map[string]ApprovalState{}}
	if !parent.IsZero() {
		if before, err = a.state(parent, rel); err != nil {
			return Event{}, err
		}
	}
	ev.State = after.state
	paths := map[string]bool{}
	for p := range after.approvals {
		paths[p] = true
	}
	for p := range before.approvals {
		paths[p] = true
	}
	for _, p := range sortedKeys(paths) {
		now, had := after.approvals[p], before.approvals[p]
		if now.Path == "" {
			now = had
			now.Status, now.Message = "removed", ""
		}
		now.Before = had.Status
		if now.Status != now.Before {
			ev.Approvals = append(ev.Approvals, now)
		}
	}
	return ev, nil
}

// diff lists what changed under key (an index key: a release folder, a
// CMDB record, a deployment log) from parent to h, through the index; a
// parent the index lacks (a shallow history) is read from the trees.
func (a *auditor) diff(parent, h plumbing.Hash, key string) ([]history.FileChange, error) {
	if _, ok := a.ix.Lookup(parent); ok || parent.IsZero() {
		return a.ix.DiffKey(a.r, parent, h, key)
	}
	fcs, err := history.DiffDir(a.r, a.prefix, parent, h, path.Dir(key))
	if err != nil {
		return nil, err
	}
	var out []history.FileChange
	for _, fc := range fcs {
		if fc.Path == key || strings.HasPrefix(fc.Path, key+"/") {
			out = append(out, fc)
		}
	}
	return out, nil
}

// decisions are the entries the commit added to the release's deployment
// log, as the bot wrote them.
func (a *auditor) decisions(parent, h plumbing.Hash, rel string) ([]writeback.LoggedDecision, error) {
	p := document.DeploymentLogPath(rel)
	fcs, err := a.diff(parent, h, p)
	if err != nil {
		return nil, err
	}
	for _, fc := range fcs {
		if fc.Path != p || fc.New.IsZero() {
			continue
		}
		read := func(id plumbing.Hash) (*writeback.DeploymentLog, error) {
			if id.IsZero() {
				return &writeback.DeploymentLog{}, nil
			}
			data, err := a.r.ReadBlobMax(source.BlobID(id), 8<<20)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", p, err)
			}
			log, err := writeback.ParseDeploymentLog(data)
			if err != nil {
				return &writeback.DeploymentLog{}, nil // not the bot's format: the change list shows it
			}
			return log, nil
		}
		before, err := read(fc.Old)
		if err != nil {
			return nil, err
		}
		after, err := read(fc.New)
		if err != nil {
			return nil, err
		}
		var out []writeback.LoggedDecision
		for _, e := range after.Decisions {
			if !slices.ContainsFunc(before.Decisions, func(b writeback.LoggedDecision) bool { return b.Key == e.Key }) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	return nil, nil
}

func subject(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return strings.TrimSpace(s)
}

// signature says whether a commit is signed and, when its author is a
// person of the parent's policy with keys, whether it verifies with them.
func signature(c *object.Commit, pol *policy.Policy) (string, string) {
	if c.PGPSignature == "" {
		return SigUnsigned, ""
	}
	if pol == nil {
		return SigUnverifiable, ""
	}
	p, ok := pol.PersonByEmailFold(c.Author.Email)
	if !ok || len(p.SigningKeys) == 0 {
		return SigUnverifiable, ""
	}
	// OpenPGP or SSH, whichever the commit carries: the same check that
	// authenticates approvals (gitrepo.VerifyCommit).
	if !gitrepo.VerifyCommit(c, p.SigningKeys) {
		return SigBad, ""
	}
	return SigVerified, p.Login
}

// policy is the valid policy at a commit, or nil (no commit, no valid relgate.yaml).
func (a *auditor) policy(h plumbing.Hash) (*policy.Policy, error) {
	if h.IsZero() {
		return nil, nil
	}
	if p, ok := a.policies[h]; ok {
		return p, nil
	}
	tree, err := a.ix.TreeAt(a.r, h)
	if errors.Is(err, fs.ErrNotExist) {
		a.policies[h] = nil // the release repository's folder is not there yet
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	snap, err := loader.LoadReleases(tree, nil, loader.Options{Cache: a.cache})
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", document.PolicyPath, h, err)
	}
	var pol *policy.Policy
	if snap.Policy != nil {
		if pol, err = policy.New(snap.Policy); err != nil {
			pol = nil // an unloadable timezone: treat as no valid policy
		}
	}
	if pol != nil {
		// The policy in force: one pushed past its gate vouches for nothing.
		if inForce, _, err := a.inForce.At(h); err == nil {
			pol = inForce
		} else if ioError(err) {
			return nil, err
		} else {
			pol = nil
		}
	}
	a.policies[h] = pol
	return pol, nil
}

// state evaluates the release at a commit with that commit's policy, trusting
// approvals as they stand on the branch (signatures are reported apart).
func (a *auditor) state(h plumbing.Hash, rel string) (releaseState, error) {
	if st, ok := a.states[h]; ok {
		return st, nil
	}
	out := releaseState{approvals: map[string]ApprovalState{}}
	tree, err := a.ix.TreeAt(a.r, h)
	if errors.Is(err, fs.ErrNotExist) {
		a.states[h] = out
		return out, nil
	}
	if err != nil {
		return out, err
	}
	snap, err := loader.LoadReleases(tree, []string{rel})
	if err != nil {
		return out, fmt.Errorf("read %s at %s: %w", document.ReleaseDir(rel), h, err)
	}
	r := snap.Releases[rel]
	if r == nil {
		a.states[h] = out
		return out, nil
	}
	var st gate.Status
	evaluated := false
	pol, err := a.policy(h)
	if err != nil {
		return out, err
	}
	if pol != nil {
		led, err := a.ledger(h)
		if err != nil {
			return out, err
		}
		if st, err = evaluate.Release(pol, snap, rel, evaluate.Options{Provenance: led}); err != nil {
			return out, fmt.Errorf("evaluate %s at %s: %w", rel, h, err)
		}
		evaluated = true
		out.state = st.State
	}
	for _, ap := range r.Approvals {
		as := ApprovalState{Path: ap.Doc.Path, Gate: ap.FileGate, Person: ap.FilePerson, Status: "not-evaluated"}
		if evaluated {
			as.Status, as.Message = standing(st, ap)
		}
		out.approvals[as.Path] = as
	}
	a.states[h] = out
	return out, nil
}

// standing finds what an approval counted for in a release's evaluation.
func standing(st gate.Status, ap *loader.Approval) (string, string) { return st.Standing(ap) }

func (a *auditor) change(fc history.FileChange) (Change, error) {
	ch := Change{Path: fc.Path, Fields: []string{}}
	loc, ok := document.Locate(fc.Path)
	if ok {
		ch.Kind, ch.Gate, ch.Person = loc.Kind, loc.Gate, loc.Person
	}
	switch {
	case fc.Old.IsZero():
		ch.Action = "added"
	case fc.New.IsZero():
		ch.Action = "deleted"
	default:
		ch.Action = "modified"
	}
	if a.light {
		return ch, nil
	}
	before, err := a.fields(fc.Old, fc.Path)
	if err != nil {
		return ch, err
	}
	after, err := a.fields(fc.New, fc.Path)
	if err != nil {
		return ch, err
	}
	if before == nil || after == nil {
		if before == nil && after == nil && !fc.Old.IsZero() && !fc.New.IsZero() {
			ch.Fields = append(ch.Fields, "(not valid YAML)")
		}
		return ch, nil
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		if !reflect.DeepEqual(before[k], after[k]) {
			ch.Fields = append(ch.Fields, k)
		}
	}
	return ch, nil
}

// fields decodes a blob's top-level fields with the safe parser; nil when
// the blob is absent or not a valid YAML mapping.
func (a *auditor) fields(id plumbing.Hash, p string) (map[string]any, error) {
	if id.IsZero() {
		return nil, nil
	}
	data, err := a.r.ReadBlob(source.BlobID(id))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	root, err := yamldoc.Parse(data)
	if err != nil {
		return nil, nil
	}
	v, err := yamldoc.Value(root)
	if err != nil {
		return nil, nil
	}
	m, _ := v.(map[string]any)
	return m, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
