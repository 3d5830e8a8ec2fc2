package site

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/quarter"
)

// model is everything the pages show, gathered once.
type model struct {
	board   *engine.Board
	now     time.Time
	lang    string
	forge   string
	rows    []*row
	byID    map[string]*row
	items   []*itemView
	changes []*changeView
	// changePage is the list page each change request is on.
	changePage map[string]string
	// oddReleases are release folders whose names are no release id.
	oddReleases []string
	// quarters are the quarterly reports, newest first.
	quarters []*quarter.Report
	trails   *audit.Trails
}

// row is one release as the board shows it.
type row struct {
	St      gate.Status
	Rel     *loader.Release
	ID      string
	Title   string
	Type    string
	State   string
	Systems []string
	Items   []string
	Window  document.Period
	Quarter string
	// People are everyone the release names or who may supply what it
	// waits for: the board's person filter.
	People  []string
	Blocked bool
	// Overdue says the go-live window began without a deployment record
	// (engine.Overdue).
	Overdue bool
	// RetroOverdue are the retrospective gates an emergency release went
	// live without and has not passed by their due date as of the site's
	// now: a flag of its own, since the release is live and
	// what it lacks is approvals, not a deployment record.
	RetroOverdue []gate.Retrospective
	// Waiting is the gate the release waits for, when it waits for one.
	Waiting *gate.Result
	Votes   []voteView
}

// voteView is one approval file with how it was authenticated and what it
// counts for.
// Attention says whether the board lists the release among those needing
// attention: blocked, its window overdue, or a retrospective overdue.
func (rw *row) Attention() bool { return rw.Blocked || rw.Overdue || len(rw.RetroOverdue) > 0 }

type voteView struct {
	Ap     *loader.Approval
	Vote   gate.Vote
	Status string
	// Ignored is why it does not count, when it does not.
	Ignored *gate.Ignored
}

type itemView struct {
	Item *document.CMDBItem
	// Releases are those whose release.yaml names the item.
	Releases []string
}

type changeView struct {
	Change   *document.Change
	Releases []string
}

func gather(r *gitrepo.Repo, prefix string, tip plumbing.Hash, opts Options) (*model, error) {
	b, err := engine.LoadBoard(r, prefix, tip, engine.BoardOptions{Cache: opts.Cache, Workers: opts.Workers})
	if err != nil {
		return nil, err
	}
	forge, err := forgeURL(opts.ForgeURL)
	if err != nil {
		return nil, err
	}
	m := &model{board: b, now: opts.Now, forge: forge, byID: map[string]*row{},
		trails: audit.NewTrails(r, b.Provenance.Index(), tip, b.Policy)}
	if m.now.IsZero() {
		m.now = b.Time
	}
	// The policy's language, not the builder's locale: a commit's site is
	// the same whoever builds it.
	m.lang = opts.Lang
	if m.lang == "" {
		m.lang = string(i18n.Chinese)
		if l, err := i18n.Parse(b.Policy.Language); err == nil && b.Policy.Language != "" {
			m.lang = string(l)
		}
	}
	snap := b.Snapshot
	loc := b.Policy.Location
	var odd []string
	for _, st := range b.Statuses {
		if !document.ReleaseIDPattern.MatchString(st.Release) {
			// A folder whose name is no release id gets no page (its name
			// would be a file name and a link); the board names it, and
			// validate reports it.
			odd = append(odd, st.Release)
			continue
		}
		rl := snap.Releases[st.Release]
		// As of the site's now: each retrospective says whether it is
		// overdue, by the gate's one rule.
		st = st.At(m.now)
		rw := &row{St: st, Rel: rl, ID: st.Release, Title: st.Title, Type: st.Type, State: st.State}
		if d := rl.Release; d != nil {
			rw.Systems = d.Systems
			rw.Window = d.Window
			for _, it := range d.Items {
				rw.Items = append(rw.Items, it.ID)
			}
			ps := d.People
			rw.People = append(rw.People, ps.Owner, ps.Manager, ps.CustomerRepresentative)
			rw.People = append(rw.People, ps.Testers...)
			rw.People = append(rw.People, ps.Implementers...)
			if t, err := time.Parse(time.RFC3339, d.Window.Start); err == nil {
				rw.Quarter = quarter.Of(t, loc).String()
			}
		}
		rw.Blocked = len(st.Violations) > 0
		for i := range st.Gates {
			g := &st.Gates[i]
			if len(g.Rejections) > 0 {
				rw.Blocked = true
			}
			if g.Gate == st.Next {
				rw.Waiting = g
				for _, q := range g.Requirements {
					if q.Missing > 0 {
						rw.People = append(rw.People, q.Eligible...)
					}
				}
			}
		}
		rw.Overdue = engine.Overdue(st, rl, m.now)
		rw.RetroOverdue = st.OverdueRetrospectives(m.now)
		rw.People = compact(rw.People)
		for _, ap := range rl.Approvals {
			v := voteView{Ap: ap}
			if ap.Approval != nil {
				if v.Vote, err = evaluate.Vote(b.Policy, b.Provenance, ap); err != nil {
					return nil, err
				}
			}
			v.Status, _ = st.Standing(ap)
			if res, ok := st.Gate(ap.FileGate); ok {
				for i := range res.Ignored {
					if res.Ignored[i].File == ap.Doc.Path {
						v.Ignored = &res.Ignored[i]
					}
				}
			}
			rw.Votes = append(rw.Votes, v)
		}
		m.rows = append(m.rows, rw)
		m.byID[st.Release] = rw
	}
	if len(odd) > 0 {
		m.oddReleases = odd
	}
	// A CMDB item is the file it is in (cmdb/<id>.yaml): a file whose id
	// field names another item does not stand for it (validate reports it).
	for _, id := range sortedKeys(snap.CMDBItems()) {
		it := *snap.CMDBItems()[id]
		if it.ID != id {
			// Shown as what it is, with nothing it claims.
			it = document.CMDBItem{ID: id, Name: "(" + id + ".yaml names another item, " + it.ID + "; run relgate validate)"}
		}
		if len(it.History) > maxRows {
			it.History = it.History[len(it.History)-maxRows:] // the latest
		}
		iv := &itemView{Item: &it}
		for _, rw := range m.rows {
			if slices.Contains(rw.Items, id) {
				iv.Releases = append(iv.Releases, rw.ID)
			}
		}
		m.items = append(m.items, iv)
	}
	m.changePage = map[string]string{}
	names := pageNames("changes", len(snap.Changes()))
	for i, id := range sortedKeys(snap.Changes()) {
		cv := &changeView{Change: snap.Changes()[id]}
		m.changes = append(m.changes, cv)
		m.changePage[id] = names[i/perPage]
	}
	byChange := map[string]*changeView{}
	for _, cv := range m.changes {
		byChange[cv.Change.ID] = cv
	}
	for _, rw := range m.rows {
		if rw.Rel.Release == nil {
			continue
		}
		for _, c := range rw.Rel.Release.Changes {
			if cv := byChange[c.ID]; cv != nil && !slices.Contains(cv.Releases, rw.ID) {
				cv.Releases = append(cv.Releases, rw.ID)
			}
		}
	}
	if err := m.gatherQuarters(); err != nil {
		return nil, err
	}
	return m, nil
}

// gatherQuarters computes the report of every quarter a release or a
// review falls in, from the board's evaluations.
func (m *model) gatherQuarters() error {
	b := m.board
	loc := b.Policy.Location
	qs := map[string]bool{}
	for _, rw := range m.rows {
		if rw.Quarter != "" {
			qs[rw.Quarter] = true
		}
		if d := rw.Rel.Deployment; d != nil {
			if t, err := time.Parse(time.RFC3339, d.FinishedAt); err == nil {
				qs[quarter.Of(t, loc).String()] = true
			}
		}
	}
	for q := range b.Snapshot.Reviews() {
		if _, err := quarter.Parse(q); err == nil {
			qs[q] = true
		}
	}
	statuses := make(map[string]gate.Status, len(b.Statuses))
	for _, st := range b.Statuses {
		statuses[st.Release] = st
	}
	keys := sortedKeys(qs)
	slices.Reverse(keys)
	for _, k := range keys {
		q, _ := quarter.Parse(k)
		rep, err := quarter.Compute(b.Snapshot, q, quarter.Options{Now: m.now, Revision: b.Commit.String(), Provenance: b.Provenance,
			Policy: b.Policy, Statuses: statuses})
		if err != nil {
			return err
		}
		m.quarters = append(m.quarters, rep)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func compact(s []string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// forgeURL checks the forge's web address the pages link to: an absolute
// http(s) address without credentials, query or fragment (it is published
// on every page).
func forgeURL(u string) (string, error) {
	if u == "" {
		return "", nil
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return "", errorf("forge URL %q: want an address such as https://github.com/OWNER/NAME", u)
	}
	if pu.User != nil || pu.RawQuery != "" || pu.Fragment != "" {
		return "", errorf("forge URL %q: no credentials, query or fragment (every page publishes it)", pu.Redacted())
	}
	return strings.TrimSuffix(u, "/"), nil
}
