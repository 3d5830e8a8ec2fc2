// Package gen generates synthetic release repositories: a git repository
// with a linear history of valid relgate documents (policy, change requests,
// CMDB items, releases in every state), for tests and benchmarks at scale.
//
// The same Options give the same commits: all randomness comes from Seed and
// all times from a clock that starts at a date derived from it.
//
// Objects are written with plumbing, never through a work tree: each commit
// encodes its blobs, the trees on the changed paths (every other subtree
// keeps its id) and the commit, straight into one pack (see pack.go). The
// work tree and its index are written once, at the end.
package gen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
)

// Options size the generated repository.
type Options struct {
	// Releases is the number of release folders (at least 1).
	Releases int
	// Commits is the length of history to aim for; 0 means 2 per release.
	// The result has about this many: at least the commits the releases'
	// documents need, and the commits that bring the CMDB up to date.
	Commits int
	// CMDBItems is the number of configuration items; 0 means Releases/20,
	// at least 20 and at most 500.
	CMDBItems int
	// Changes is the number of change requests kept in changes/; 0 means
	// Releases/2. Releases without one cite an external change.
	Changes int
	Seed    int64
}

// Branch is the branch the history is on; HEAD points at it.
const Branch = plumbing.ReferenceName("refs/heads/main")

// Result describes a generated repository.
type Result struct {
	Dir  string
	Head plumbing.Hash // the last commit, at refs/heads/main
	// Pack is the one pack file holding every object. Its large trees are
	// stored as deltas on their previous version (chains of at most 50,
	// like git's default), so `git repack -ad` reuses them.
	Pack    string
	Objects int

	Commits    int
	Releases   int // release folders
	Deployed   int // releases with a deployment record
	RolledBack int // of those, rolled back
	Changes    int
	CMDBItems  int
	// Files are the paths of every file at HEAD, sorted.
	Files []string
	// ReleaseIDs are the release ids in creation order.
	ReleaseIDs []string
}

// ErrNotEmpty is returned when the target directory already has content.
var ErrNotEmpty = errors.New("directory is not empty")

// cst is the time zone of every timestamp.
var cst = time.FixedZone("CST", 8*3600)

func (o *Options) normalize() error {
	if o.Releases < 1 {
		return fmt.Errorf("releases must be at least 1, not %d", o.Releases)
	}
	if o.Commits < 0 || o.CMDBItems < 0 || o.Changes < 0 {
		return errors.New("commits, CMDB items and changes cannot be negative")
	}
	if o.Commits == 0 {
		o.Commits = 2 * o.Releases
	}
	if o.CMDBItems == 0 {
		o.CMDBItems = min(500, max(20, o.Releases/20))
	}
	if o.Changes == 0 {
		o.Changes = max(1, o.Releases/2)
	}
	return nil
}

// Generate creates a repository with a work tree at dir, which must not
// exist or be empty.
func Generate(dir string, opts Options) (*Result, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("generate into %s: %w", dir, ErrNotEmpty)
	}
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: Branch}})
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	g := newGenerator(opts)
	g.plan()
	pw, err := newPackWriter(filepath.Join(dir, ".git", "objects", "pack"))
	if err != nil {
		return nil, fmt.Errorf("create pack in %s: %w", dir, err)
	}
	g.pack = pw
	if err := g.run(); err != nil {
		pw.abort()
		return nil, err
	}
	packPath, err := pw.finish()
	if err != nil {
		pw.abort()
		return nil, fmt.Errorf("finish pack: %w", err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(Branch, g.head)); err != nil {
		return nil, fmt.Errorf("update %s: %w", Branch, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, Branch)); err != nil {
		return nil, fmt.Errorf("update HEAD: %w", err)
	}
	files, err := writeWorkTree(dir, g.files, g.blobs)
	if err != nil {
		return nil, fmt.Errorf("check out %s: %w", dir, err)
	}
	res := &Result{Dir: dir, Head: g.head, Pack: packPath, Objects: int(pw.count), Commits: g.commits,
		Releases: len(g.releases), Changes: len(g.changes), CMDBItems: len(g.items), Files: files}
	for _, r := range g.releases {
		res.ReleaseIDs = append(res.ReleaseIDs, r.id)
		if r.stages == 4 {
			res.Deployed++
			if r.outcome == document.OutcomeRolledBack {
				res.RolledBack++
			}
		}
	}
	return res, nil
}

// itemState is a configuration item as the CMDB currently records it.
type itemState struct {
	doc                 document.CMDBItem
	major, minor, patch int // the last version a release proposed
	dirty               bool
	dirtySince          int // deployment count when it became dirty
}

type change struct {
	id         string
	created    time.Time
	approvedAt time.Time
	status     string
	typ        string
	title      string
	requester  string
	approvedBy string
	rel        *release // nil when no release cites it
}

type release struct {
	n        int
	id       string
	typ      string
	feature  string
	itemIdx  []int
	systems  []string
	change   *change
	external string

	owner, manager, customer string
	testers, implementers    []string
	depts                    []string

	stages   int // 1 plan, 2 test report, 3 go-live plan, 4 deployment
	outcome  string
	testFail bool

	created, prepared, openAt        time.Time
	testedFrom, testedTo, testAt     time.Time
	goLiveAt, goLive, windowEnd      time.Time
	deployStart, deployEnd, deployAt time.Time
	groups                           [][]byte              // later documents: 'T', 'G', 'D', grouped by commit
	revisions                        int                   // commits that revise the plan
	items                            []document.Item       // set when the release opens
	restore                          []document.VersionRef // CMDB versions when the release opened
}

type unitKind int

const (
	unitOpen     unitKind = iota // release.yaml and plan.yaml (and its change)
	unitStage                    // later documents of a release
	unitRevision                 // a revised plan
	unitChanges                  // change requests no release cites
)

// unit is one planned commit.
type unit struct {
	at      time.Time
	seq     int
	kind    unitKind
	rel     *release
	stages  []byte
	rev     int
	changes []*change
}

type generator struct {
	opts     Options
	rng      *rand.Rand
	start    time.Time
	items    []*itemState
	releases []*release
	changes  []*change
	units    []unit
	systems  int // systems in use: items k and k+systems belong to the same one
	every    int // a CMDB update commit after every this many deployments; 0 for none

	pack     *packWriter
	root     dirNode
	files    map[string]plumbing.Hash // HEAD: path -> blob
	blobs    map[string][]byte        // HEAD: path -> content
	err      error
	head     plumbing.Hash
	last     time.Time
	commits  int
	deployed int
}

func newGenerator(opts Options) *generator {
	seed := uint64(opts.Seed)
	start := time.Date(2022, 1, 3, 9, 0, 0, 0, cst).AddDate(0, 0, int(seed%90))
	return &generator{opts: opts, rng: rand.New(rand.NewPCG(seed, 0x72656c67617465)), start: start,
		files: map[string]plumbing.Hash{}, blobs: map[string][]byte{}}
}

// between returns a duration in [lo, hi), whole minutes.
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	d := lo + time.Duration(r.Int64N(int64(hi-lo)))
	return d.Truncate(time.Minute)
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// pickN returns n distinct elements of s in their order in s.
func pickN[T any](r *rand.Rand, s []T, n int) []T {
	idx := r.Perm(len(s))[:min(n, len(s))]
	sort.Ints(idx)
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = s[j]
	}
	return out
}

func (g *generator) plan() {
	g.planItems()
	g.planReleases()
	g.planChanges()
	g.planCommits()
}

func (g *generator) planItems() {
	// About four items a system or more, in up to twelve systems.
	g.systems = min(len(systems), max(1, (g.opts.CMDBItems+3)/4))
	for k := 0; k < g.opts.CMDBItems; k++ {
		sys := systems[k%g.systems]
		comp := components[(k/g.systems)%len(components)]
		id := sys.id + "-" + comp.id
		if round := k / (g.systems * len(components)); round > 0 {
			id += "-" + strconv.Itoa(round+1)
		}
		st := &itemState{major: 1 + g.rng.IntN(3), minor: g.rng.IntN(10), patch: g.rng.IntN(6)}
		version := fmt.Sprintf("%d.%d.%d", st.major, st.minor, st.patch)
		st.doc = document.CMDBItem{
			Header:      document.Header{APIVersion: document.APIVersion, Kind: document.KindCMDBItem},
			ID:          id,
			Name:        sys.title + " " + comp.title,
			Type:        comp.typ,
			System:      sys.id,
			Owner:       pick(g.rng, holders("configuration-manager")),
			Environment: "production",
			Status:      "active",
			Version:     version,
			Digest:      digest(id, version),
			History: []document.HistoryEntry{{At: stamp(g.start), Action: "add", Version: version,
				Digest: digest(id, version), Note: "initial inventory"}},
		}
		g.items = append(g.items, st)
	}
}

func (g *generator) planReleases() {
	r := g.rng
	created := g.start.Add(24 * time.Hour)
	perYear := map[int]int{}
	busy := make([]time.Time, len(g.items))     // when the last release changing each item ends
	deployed := make([]time.Time, len(g.items)) // when it was last deployed
	for n := 0; n < g.opts.Releases; n++ {
		created = created.Add(between(r, time.Hour, 5*time.Hour))
		rel := &release{n: n, created: created}
		perYear[created.Year()]++
		rel.id = fmt.Sprintf("REL-%d-%06d", created.Year(), perYear[created.Year()])
		switch u := r.Float64(); {
		case u < 0.80:
			rel.typ = "normal"
		case u < 0.95:
			rel.typ = "minor"
		default:
			rel.typ = "emergency"
		}
		rel.feature = pick(r, features)

		rel.owner = pick(r, holders("release-owner"))
		rel.manager = pick(r, holders("release-manager"))
		rel.customer = pick(r, holders("customer-representative"))
		rel.testers = pickN(r, holders("release-tester"), 1+r.IntN(2))
		rel.implementers = pickN(r, holders("implementer"), 1+r.IntN(2))
		var depts []string
		for _, d := range departments {
			depts = append(depts, d.id)
		}
		rel.depts = pickN(r, depts, 1+r.IntN(3))

		switch u := r.Float64(); {
		case u < 0.05:
			rel.stages = 1
		case u < 0.10:
			rel.stages = 2
			rel.testFail = r.Float64() < 0.5
		case u < 0.15:
			rel.stages = 3
		default:
			rel.stages = 4
			rel.outcome = document.OutcomeSucceeded
			if r.Float64() < 0.05 {
				rel.outcome = document.OutcomeRolledBack
			}
		}
		// Items: one, then maybe a sibling in the same system, maybe one
		// elsewhere; preferably items no release in flight is changing, so
		// that versions reach the CMDB in order.
		count := 1
		if u := r.Float64(); u < 0.15 {
			count = 3
		} else if u < 0.50 {
			count = 2
		}
		free := func(i int) bool { return !busy[i].After(rel.created) && !containsInt(rel.itemIdx, i) }
		for len(rel.itemIdx) < min(count, len(g.items)) {
			var next int
			for try := 0; try < 20; try++ {
				next = r.IntN(len(g.items))
				if len(rel.itemIdx) == 1 && try < 10 {
					// A sibling: same system.
					next = (rel.itemIdx[0] + g.systems*(1+r.IntN(4))) % len(g.items)
				}
				if free(next) {
					break
				}
			}
			if !containsInt(rel.itemIdx, next) {
				rel.itemIdx = append(rel.itemIdx, next)
			}
		}
		for _, i := range rel.itemIdx {
			if s := g.items[i].doc.System; !containsString(rel.systems, s) {
				rel.systems = append(rel.systems, s)
			}
		}

		// Versions are proposed in creation order.
		for _, i := range rel.itemIdx {
			st := g.items[i]
			if rel.typ == "normal" {
				st.minor, st.patch = st.minor+1, 0
			} else {
				st.patch++
			}
			v := fmt.Sprintf("%d.%d.%d", st.major, st.minor, st.patch)
			rel.items = append(rel.items, document.Item{ID: st.doc.ID, Action: "update", Version: v, Digest: digest(st.doc.ID, v)})
		}

		rel.prepared = created.Add(between(r, 20*time.Minute, 3*time.Hour))
		rel.openAt = rel.prepared.Add(between(r, 5*time.Minute, 40*time.Minute))
		rel.testedFrom = rel.openAt.Add(between(r, 4*time.Hour, 30*time.Hour))
		rel.testedTo = rel.testedFrom.Add(between(r, 6*time.Hour, 48*time.Hour))
		rel.testAt = rel.testedTo.Add(between(r, 30*time.Minute, 3*time.Hour))
		rel.goLiveAt = rel.testAt.Add(between(r, time.Hour, 24*time.Hour))
		rel.goLive = rel.goLiveAt.Add(between(r, 12*time.Hour, 72*time.Hour))
		// A release goes live after the last one on the same items, so
		// their versions reach production, and the CMDB, in order.
		for _, i := range rel.itemIdx {
			if after := deployed[i].Add(2 * time.Hour); rel.goLive.Before(after) {
				rel.goLive = after
			}
		}
		rel.goLive = rel.goLive.Add(time.Hour - time.Minute).Truncate(time.Hour)
		rel.windowEnd = rel.goLive.Add(between(r, 2*time.Hour, 6*time.Hour)).Truncate(time.Hour)
		rel.deployStart = rel.goLive.Add(between(r, 0, 15*time.Minute))
		rel.deployEnd = rel.deployStart.Add(between(r, 30*time.Minute, rel.windowEnd.Sub(rel.deployStart)))
		rel.deployAt = rel.deployEnd.Add(10 * time.Minute)

		end := rel.stageAt("RTGD"[rel.stages-1])
		for _, i := range rel.itemIdx {
			if end.After(busy[i]) {
				busy[i] = end
			}
			if rel.stages == 4 {
				deployed[i] = rel.deployEnd
			}
		}
		g.releases = append(g.releases, rel)
	}
}

func (g *generator) planChanges() {
	r := g.rng
	internal := min(g.opts.Changes, g.opts.Releases)
	cited := r.Perm(len(g.releases))[:internal]
	sort.Ints(cited)
	for _, i := range cited {
		rel := g.releases[i]
		c := &change{rel: rel, typ: "normal", status: "approved", title: rel.feature,
			requester:  pick(r, append(holders("customer-representative"), holders("release-owner")...)),
			approvedBy: pick(r, holders("change-manager"))}
		if rel.typ == "emergency" {
			c.typ = "emergency"
		} else if rel.typ == "minor" && r.Float64() < 0.5 {
			c.typ = "standard"
		}
		c.created = rel.created.Add(-between(r, 48*time.Hour, 240*time.Hour))
		c.approvedAt = c.created.Add(between(r, 2*time.Hour, 30*time.Hour))
		rel.change = c
		g.changes = append(g.changes, c)
	}
	last := g.releases[len(g.releases)-1].created
	for k := internal; k < g.opts.Changes; k++ {
		c := &change{typ: "normal", title: pick(r, features),
			requester: pick(r, append(holders("customer-representative"), holders("release-owner")...))}
		c.created = g.start.Add(time.Duration(r.Int64N(int64(last.Sub(g.start))))).Truncate(time.Minute)
		switch u := r.Float64(); {
		case u < 0.5:
			c.status = "submitted"
		case u < 0.8:
			c.status = "rejected"
		default:
			c.status = "approved"
			c.approvedBy = pick(r, holders("change-manager"))
			c.approvedAt = c.created.Add(between(r, 2*time.Hour, 30*time.Hour))
		}
		g.changes = append(g.changes, c)
	}
	sort.SliceStable(g.changes, func(i, j int) bool { return g.changes[i].created.Before(g.changes[j].created) })
	perYear := map[int]int{}
	for _, c := range g.changes {
		perYear[c.created.Year()]++
		c.id = fmt.Sprintf("CHG-%d-%06d", c.created.Year(), perYear[c.created.Year()])
	}
	for _, rel := range g.releases {
		if rel.change == nil || r.Float64() < 0.15 {
			// Kept in the service desk, outside this repository; numbered
			// apart from the repository's own.
			rel.external = fmt.Sprintf("CHG-%d-%06d", rel.created.Year(), 500000+rel.n%500000)
		}
	}
}

// planCommits decides how the releases' documents are grouped into commits
// so that the history has about Options.Commits commits, and lays them out
// in time order.
func (g *generator) planCommits() {
	r := g.rng
	seq := 0
	add := func(u unit) {
		u.seq = seq
		seq++
		g.units = append(g.units, u)
	}

	// Change requests no release cites arrive on their own, up to three a commit.
	var loose []*change
	for _, c := range g.changes {
		if c.rel == nil {
			loose = append(loose, c)
		}
	}
	for len(loose) > 0 {
		n := min(len(loose), 1+r.IntN(3))
		batch := loose[:n]
		loose = loose[n:]
		add(unit{kind: unitChanges, changes: batch, at: batch[n-1].created.Add(between(r, 10*time.Minute, 2*time.Hour))})
	}
	fixed := 1 + len(g.units) // the bootstrap commit and the change commits

	// Each release opens in one commit; its later documents (up to test
	// report, go-live plan, deployment) take between one commit and one each.
	minimum, spare := 0, 0
	var slots []int
	deployed := 0
	touched := map[int]bool{}
	for _, rel := range g.releases {
		later := rel.stages - 1
		minimum += 1 + min(later, 1)
		for k := 1; k < later; k++ {
			slots = append(slots, rel.n)
		}
		if rel.stages == 4 {
			deployed++
			for _, i := range rel.itemIdx {
				touched[i] = true
			}
		}
	}
	spare = len(slots)
	flush := (len(touched) + 2) / 3
	avail := g.opts.Commits - fixed - minimum - flush
	syncs := 0
	if avail > 0 {
		syncs = min(avail/2, deployed)
	}
	extra := max(0, avail-syncs)
	if syncs > 0 {
		g.every = (deployed + syncs - 1) / syncs
	}
	split := map[int]int{}
	r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	for _, n := range slots[:min(extra, spare)] {
		split[n]++
	}
	for k := spare; k < extra; k++ {
		g.releases[r.IntN(len(g.releases))].revisions++
	}

	for _, rel := range g.releases {
		later := []byte("TGD")[:rel.stages-1]
		if len(later) > 0 {
			rel.groups = partition(r, later, 1+split[rel.n])
		}
		add(unit{kind: unitOpen, rel: rel, at: rel.openAt})
		for _, grp := range rel.groups {
			add(unit{kind: unitStage, rel: rel, stages: grp, at: rel.stageAt(grp[len(grp)-1])})
		}
		next := rel.openAt.Add(48 * time.Hour) // the plan is revised before testing
		if rel.stages > 1 {
			next = rel.testAt
		}
		for k := 1; k <= rel.revisions; k++ {
			step := next.Sub(rel.openAt) / time.Duration(rel.revisions+1)
			add(unit{kind: unitRevision, rel: rel, rev: k, at: rel.openAt.Add(step * time.Duration(k)).Truncate(time.Minute)})
		}
	}
	sort.SliceStable(g.units, func(i, j int) bool {
		if !g.units[i].at.Equal(g.units[j].at) {
			return g.units[i].at.Before(g.units[j].at)
		}
		return g.units[i].seq < g.units[j].seq
	})
}

// partition cuts s into k consecutive non-empty groups at random places.
func partition(r *rand.Rand, s []byte, k int) [][]byte {
	k = min(k, len(s))
	cuts := pickN(r, []int{1, 2}[:len(s)-1], k-1)
	var out [][]byte
	prev := 0
	for _, c := range append(cuts, len(s)) {
		out = append(out, s[prev:c])
		prev = c
	}
	return out
}

func (rel *release) stageAt(s byte) time.Time {
	switch s {
	case 'R':
		return rel.openAt
	case 'T':
		return rel.testAt
	case 'G':
		return rel.goLiveAt
	}
	return rel.deployAt
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
