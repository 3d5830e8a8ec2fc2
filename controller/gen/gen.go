// Package gen generates synthetic release repositories for tests and
// benchmarks at scale: a git repository with the lawful history a careful
// team would have made of valid relgate documents (policy, change requests,
// CMDB items, releases in every state), which `relgate audit verify` passes,
// optionally with bypasses injected at random commits (see Injection).
//
// The history (run.go) starts with a root commit holding only relgate.yaml,
// then the CMDB inventory as a pull request approved by a configuration
// manager who did not commit it. Every lifecycle step of a release is a pull
// request: a short branch off main, merged by the policy's bot with a merge
// commit (first parent main). Its documents are committed by their authors,
// its approvals each by its person, in role, distinct from everyone who
// authored or committed a document the gate covers. Commits straight on
// main assert nothing new: opening a release (release.yaml and a draft plan
// by the release manager who plans it, who is not the one who confirms its
// deployment), revising its plan before the review, and the bot's
// write-back after a confirmed deployment (the CMDB items, with a history
// entry naming the release, then the release report). A change request is
// committed by its requester and approved by a change manager in the same
// pull request: with the release that implements it when it opens, or a few
// at a time when no release cites it. The policy trusts commit authorship
// (trustCommitAuthor), so nothing is signed.
//
// A lawful history costs commits: 18 to 25 for a release from its opening
// to its closure. Options.Commits therefore decides how far releases get:
// every release is opened, then as many as the budget allows go as far as
// the fate drawn for them (most to deployment), and what is left revises
// plans.
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
	"github.com/relgate/relgate/controller/policy"
)

// Options size the generated repository.
type Options struct {
	// Releases is the number of release folders (at least 1).
	Releases int
	// Commits is the length of history to aim for; 0 means as many as the
	// releases need to reach the fates drawn for them (about 18 a release).
	// Every release is at least opened, so the result has at least about one
	// commit a release; within that, Commits decides how many releases get
	// past their opening, and what is left over revises plans.
	Commits int
	// CMDBItems is the number of configuration items; 0 means Releases/20,
	// at least 20 and at most 500.
	CMDBItems int
	// Changes is the number of change requests kept in changes/; 0 means one
	// for about half the releases that get past their opening (the others
	// cite a change kept in an external service desk), and Releases/50
	// registered that no release cites. Releases that stay at their opening
	// cite only external changes.
	Changes int
	Seed    int64
	// Inject adds this many bypasses of the procedure at random commits (see
	// Injection); 0 keeps the history lawful.
	Inject int
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

	// Commits counts every commit (branch commits and merges); Merges the
	// pull requests merged; FirstParent the commits on main's first-parent
	// history, which `audit verify` evaluates.
	Commits     int
	Merges      int
	FirstParent int
	Releases    int // release folders
	Deployed    int // releases with a deployment record
	RolledBack  int // of those, rolled back
	Closed      int // releases closed
	// States counts the releases by the lifecycle state their lawful
	// history leaves them in (plan-review, testing, go-live-approval,
	// ready-to-deploy, confirmed, closed).
	States    map[string]int
	Changes   int
	CMDBItems int
	// Files are the paths of every file at HEAD, sorted.
	Files []string
	// ReleaseIDs are the release ids in creation order.
	ReleaseIDs []string
	// Injections are the bypasses Options.Inject asked for, in history order.
	Injections []Injection
}

// ErrNotEmpty is returned when the target directory already has content.
var ErrNotEmpty = errors.New("directory is not empty")

// cst is the time zone of every timestamp.
var cst = time.FixedZone("CST", 8*3600)

func (o *Options) normalize() error {
	if o.Releases < 1 {
		return fmt.Errorf("releases must be at least 1, not %d", o.Releases)
	}
	if o.Commits < 0 || o.CMDBItems < 0 || o.Changes < 0 || o.Inject < 0 {
		return errors.New("commits, CMDB items, changes and injections cannot be negative")
	}
	if o.CMDBItems == 0 {
		o.CMDBItems = min(500, max(20, o.Releases/20))
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
	g, err := newGenerator(opts)
	if err != nil {
		return nil, err
	}
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
		Merges: g.merges, FirstParent: g.firstParent, Releases: len(g.releases), Changes: len(g.changes),
		CMDBItems: len(g.items), Files: files, States: map[string]int{}, Injections: g.injections}
	for _, r := range g.releases {
		res.ReleaseIDs = append(res.ReleaseIDs, r.id)
		res.States[r.state()]++
		if r.fate >= fateDeployed {
			res.Deployed++
			if r.outcome == document.OutcomeRolledBack {
				res.RolledBack++
			}
		}
		if r.fate == fateClosed {
			res.Closed++
		}
	}
	return res, nil
}

// itemState is a configuration item as the CMDB currently records it.
type itemState struct {
	doc                 document.CMDBItem
	major, minor, patch int // the last version a release proposed
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

// Fates: how far a release's lawful history takes it. Each includes the
// steps of the ones before.
const (
	fateOpened   = iota // release.yaml and a draft plan: waiting for plan review
	fateReviewed        // plan review passed: testing
	fateTested          // test report, accepted (or, failed, rejected)
	fateApproved        // go-live plan, communication, go-live approval: ready to deploy
	fateDeployed        // deployment record and its confirmation, the bot's write-back
	fateClosed          // closure by an implementer
)

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
	planner                  string // the release manager who opens it and writes the plan
	closer                   string // the implementer who closes it
	testers, implementers    []string
	depts                    []string

	want        int // the fate drawn for it
	fate        int // the fate the commit budget allows
	wantsChange bool
	outcome     string
	testFail    bool

	created, prepared, openAt, reviewAt time.Time
	testedFrom, testedTo, testAt        time.Time
	goLiveAt, goLive, windowEnd         time.Time
	deployStart, deployEnd, deployAt    time.Time
	closeAt                             time.Time
	revisions                           int                   // commits that revise the plan
	items                               []document.Item       // set when the release opens
	restore                             []document.VersionRef // what its items run before it deploys

	approvals []*document.Approval // every decision committed, in order

	pending  int  // planned units not yet applied
	reported bool // the bot wrote its release report
	injected bool // an injection used it; no other may
}

// state is the lifecycle state the lawful history leaves the release in.
func (rel *release) state() string {
	switch rel.fate {
	case fateOpened:
		return "plan-review"
	case fateReviewed:
		return "testing"
	case fateTested:
		if rel.testFail {
			return "testing"
		}
		return "go-live-approval"
	case fateApproved:
		return "ready-to-deploy"
	case fateDeployed:
		return "confirmed"
	}
	return "closed"
}

// cites reports whether the release cites a change request of changes/.
func (rel *release) cites() bool { return rel.wantsChange && rel.fate > fateOpened }

// cost is the number of commits the release's history takes at fate f,
// citing a change request of changes/ or not.
func (rel *release) cost(f int, cites bool) int {
	c := 1 // release.yaml and the draft plan
	if cites && f > fateOpened {
		c += 3 // the change request and its approval, then the merge
	}
	if f >= fateReviewed {
		c += len(rel.depts) + 2 // department heads, the owner, the merge
	}
	if f >= fateTested {
		c += 3 // the test report, its acceptance, the merge
	}
	if f >= fateApproved {
		c += 3 // go-live plan and communication, the approval, the merge
	}
	if f >= fateDeployed {
		c += 4 + 2 // the record, two confirmations, the merge; the CMDB and the report
		if cites && rel.outcome == document.OutcomeSucceeded {
			c += 2 // the change marked implemented, and its approval
		}
	}
	if f >= fateClosed {
		c += 2 // closure.yaml, the merge
	}
	return c
}

type unitKind int

const (
	unitChanges  unitKind = iota // change requests no release cites
	unitOpen                     // release.yaml and plan.yaml (and its change)
	unitRevision                 // a revised plan
	unitReview                   // plan review
	unitTest                     // test report and acceptance
	unitGoLive                   // go-live plan, communication and approval
	unitDeploy                   // deployment record, confirmation, write-back
	unitClose                    // closure
	unitInject                   // a bypass (inject.go)
)

// unit is one planned step: a pull request or commits on main.
type unit struct {
	at      time.Time
	seq     int
	kind    unitKind
	rel     *release
	rev     int
	changes []*change
}

type generator struct {
	opts     Options
	rng      *rand.Rand
	start    time.Time
	pol      *policy.Policy
	policy   *document.Policy
	items    []*itemState
	releases []*release
	changes  []*change
	units    []unit
	systems  int // systems in use: items k and k+systems belong to the same one

	pack        *packWriter
	root        dirNode
	files       map[string]plumbing.Hash // HEAD: path -> blob
	blobs       map[string][]byte        // HEAD: path -> content
	head        plumbing.Hash            // main
	tip         plumbing.Hash            // the branch of the pull request being written; head otherwise
	last        time.Time
	commits     int
	merges      int
	firstParent int
	pulls       int
	injections  []Injection
	injectRng   *rand.Rand
	injectOrder []string
	injected    int
}

func newGenerator(opts Options) (*generator, error) {
	seed := uint64(opts.Seed)
	start := time.Date(2022, 1, 3, 9, 0, 0, 0, cst).AddDate(0, 0, int(seed%90))
	doc := buildPolicy()
	pol, err := policy.New(doc)
	if err != nil {
		return nil, fmt.Errorf("the generated policy: %w", err)
	}
	return &generator{opts: opts, rng: rand.New(rand.NewPCG(seed, 0x72656c67617465)), start: start,
		pol: pol, policy: doc, files: map[string]plumbing.Hash{}, blobs: map[string][]byte{},
		injectRng: rand.New(rand.NewPCG(seed, 0x696e6a656374))}, nil
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
	g.drawReleases()
	loose := g.allocate()
	g.planTimes()
	g.planClosures()
	g.planChanges(loose)
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

// drawReleases draws what each release is: its type, people, departments
// and the fate it would reach with commits enough.
func (g *generator) drawReleases() {
	r := g.rng
	created := g.start.Add(24 * time.Hour)
	perYear := map[int]int{}
	var depts []string
	for _, d := range departments {
		depts = append(depts, d.id)
	}
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
		// Whoever commits release.yaml may approve no gate that covers it,
		// so the release is opened and planned by another release manager
		// than the one who confirms its deployment.
		var planners []string
		for _, m := range holders("release-manager") {
			if m != rel.manager {
				planners = append(planners, m)
			}
		}
		rel.planner = pick(r, planners)
		rel.customer = pick(r, holders("customer-representative"))
		rel.testers = pickN(r, holders("release-tester"), 1+r.IntN(2))
		rel.implementers = pickN(r, holders("implementer"), 1+r.IntN(2))
		rel.closer = pick(r, rel.implementers)
		rel.depts = pickN(r, depts, 1+r.IntN(3))

		switch u := r.Float64(); {
		case u < 0.05:
			rel.want = fateOpened
		case u < 0.08:
			rel.want = fateReviewed
		case u < 0.12:
			rel.want = fateTested
			rel.testFail = r.Float64() < 0.5
		case u < 0.15:
			rel.want = fateApproved
		default:
			rel.want = fateDeployed
			if r.Float64() < 0.6 {
				rel.want = fateClosed
			}
		}
		rel.outcome = document.OutcomeSucceeded
		if r.Float64() < 0.05 {
			rel.outcome = document.OutcomeRolledBack
		}
		rel.wantsChange = r.Float64() < 0.5
		g.releases = append(g.releases, rel)
	}
}

// looseCost is about the commits of n change requests no release cites,
// registered up to three a pull request.
func looseCost(n int) int { return (n*11 + 4) / 5 }

// allocate decides each release's fate within the commit budget: every
// release is opened; then, in a random order, each goes as far as the fate
// drawn for it, or as far as the rest of the budget allows. It returns the
// number of change requests no release cites.
func (g *generator) allocate() int {
	order := g.rng.Perm(len(g.releases))
	wants := make([]bool, len(g.releases))
	for i, rel := range g.releases {
		wants[i] = rel.wantsChange
	}
	if g.opts.Changes == 0 {
		loose := max(1, len(g.releases)/50)
		g.allocateWith(order, wants, loose)
		return loose
	}
	// Change requests no release cites take commits too: plan again with
	// them set aside until their number settles.
	loose := 0
	for try := 0; ; try++ {
		next := max(0, g.opts.Changes-g.allocateWith(order, wants, loose))
		if next == loose || try == 2 {
			return next
		}
		loose = next
	}
}

// allocateWith allocates fates with the commits of loose change requests
// set aside and returns how many releases cite a change request of changes/.
func (g *generator) allocateWith(order []int, wants []bool, loose int) int {
	unlimited := g.opts.Commits == 0
	budget := g.opts.Commits - 1 - 3 - looseCost(loose) // the root commit, the CMDB inventory
	for i, rel := range g.releases {
		rel.fate, rel.wantsChange = fateOpened, wants[i]
		budget -= rel.cost(fateOpened, false)
	}
	cited := 0
	for _, i := range order {
		rel := g.releases[i]
		cites := rel.wantsChange && (g.opts.Changes == 0 || cited < g.opts.Changes)
		for f := rel.want; f > fateOpened; f-- {
			if c := rel.cost(f, cites) - rel.cost(fateOpened, false); unlimited || c <= budget {
				rel.fate = f
				budget -= c
				break
			}
		}
		rel.wantsChange = cites && rel.fate > fateOpened
		if rel.wantsChange {
			cited++
		}
	}
	return cited
}

// planTimes chooses the items of each release and dates its steps, in
// creation order, so that versions reach production and the CMDB in order.
func (g *generator) planTimes() {
	r := g.rng
	busy := make([]time.Time, len(g.items))     // when the last release changing each item ends
	deployed := make([]time.Time, len(g.items)) // when it was last deployed
	// What each item runs before the next release on it deploys: the version
	// the one before installed. A plan's rollback restores it.
	installed := make([]document.VersionRef, len(g.items))
	for i, st := range g.items {
		installed[i] = document.VersionRef{Item: st.doc.ID, Version: st.doc.Version, Digest: st.doc.Digest}
	}
	sysBusy := map[string]time.Time{}
	for _, rel := range g.releases {
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

		// Versions are proposed in creation order, and deployed in it.
		for _, i := range rel.itemIdx {
			rel.restore = append(rel.restore, installed[i])
			st := g.items[i]
			if rel.typ == "normal" {
				st.minor, st.patch = st.minor+1, 0
			} else {
				st.patch++
			}
			v := fmt.Sprintf("%d.%d.%d", st.major, st.minor, st.patch)
			rel.items = append(rel.items, document.Item{ID: st.doc.ID, Action: "update", Version: v, Digest: digest(st.doc.ID, v)})
			if rel.fate >= fateDeployed && rel.outcome == document.OutcomeSucceeded {
				installed[i] = document.VersionRef{Item: st.doc.ID, Version: v, Digest: digest(st.doc.ID, v)}
			}
		}

		rel.prepared = rel.created.Add(between(r, 20*time.Minute, 3*time.Hour))
		rel.openAt = rel.prepared.Add(between(r, 5*time.Minute, 40*time.Minute))
		rel.reviewAt = rel.openAt.Add(between(r, 3*time.Hour, 20*time.Hour))
		rel.testedFrom = rel.reviewAt.Add(between(r, 4*time.Hour, 12*time.Hour))
		rel.testedTo = rel.testedFrom.Add(between(r, 6*time.Hour, 48*time.Hour))
		rel.testAt = rel.testedTo.Add(between(r, 30*time.Minute, 3*time.Hour))
		rel.goLiveAt = rel.testAt.Add(between(r, 4*time.Hour, 24*time.Hour))
		rel.goLive = rel.goLiveAt.Add(between(r, 12*time.Hour, 72*time.Hour))
		// A release goes live half a day after the last one on the same
		// items, so their versions reach production, and the CMDB, in order,
		// and the one before can close in between.
		for _, i := range rel.itemIdx {
			if after := deployed[i].Add(12 * time.Hour); rel.goLive.Before(after) {
				rel.goLive = after
			}
		}
		// Windows on one system never overlap: an overlap is a calendar
		// conflict that needs the exception approver, which the
		// lawful history does not give.
		for _, s := range rel.systems {
			if rel.goLive.Before(sysBusy[s]) {
				rel.goLive = sysBusy[s]
			}
		}
		rel.goLive = rel.goLive.Add(time.Hour - time.Minute).Truncate(time.Hour)
		rel.windowEnd = rel.goLive.Add(between(r, 2*time.Hour, 6*time.Hour)).Truncate(time.Hour)
		for _, s := range rel.systems {
			sysBusy[s] = rel.windowEnd
		}
		rel.deployStart = rel.goLive.Add(between(r, 0, 15*time.Minute))
		rel.deployEnd = rel.deployStart.Add(between(r, 30*time.Minute, rel.windowEnd.Sub(rel.deployStart)))
		rel.deployAt = rel.deployEnd.Add(10 * time.Minute)
		rel.closeAt = rel.deployAt.Add(between(r, 6*time.Hour, 7*24*time.Hour))

		end := rel.lastAt()
		for _, i := range rel.itemIdx {
			if end.After(busy[i]) {
				busy[i] = end
			}
			if rel.fate >= fateDeployed {
				deployed[i] = rel.deployEnd
			}
		}
	}
}

// lastAt is when the last planned step of the release starts.
func (rel *release) lastAt() time.Time {
	switch rel.fate {
	case fateOpened:
		return rel.openAt
	case fateReviewed:
		return rel.reviewAt
	case fateTested:
		return rel.testAt
	case fateApproved:
		return rel.goLiveAt
	case fateDeployed:
		return rel.deployAt
	}
	return rel.closeAt
}

// planClosures dates each closure before the next deployment of the
// release's items: closure checks that the CMDB shows what the release
// deployed, which the next deployment's write-back
// changes. A release with no room for it stays confirmed.
func (g *generator) planClosures() {
	next := map[*release]time.Time{}
	lastBy := make([]*release, len(g.items))
	for _, rel := range g.releases {
		if rel.fate < fateDeployed {
			continue
		}
		for _, i := range rel.itemIdx {
			if prev := lastBy[i]; prev != nil {
				if t, ok := next[prev]; !ok || rel.deployAt.Before(t) {
					next[prev] = rel.deployAt
				}
			}
			lastBy[i] = rel
		}
	}
	for _, rel := range g.releases {
		if rel.fate != fateClosed {
			continue
		}
		if t, ok := next[rel]; ok && !rel.closeAt.Before(t.Add(-time.Hour)) {
			rel.closeAt = t.Add(-time.Hour).Truncate(time.Minute)
			if rel.closeAt.Before(rel.deployAt.Add(5 * time.Hour)) {
				rel.fate = fateDeployed
			}
		}
	}
}

func (g *generator) planChanges(loose int) {
	r := g.rng
	for _, rel := range g.releases {
		if !rel.cites() {
			continue
		}
		c := &change{rel: rel, typ: "normal", status: "approved", title: rel.feature,
			requester: pick(r, append(holders("customer-representative"), holders("release-owner")...))}
		c.approvedBy = g.changeManagerOtherThan(r, c.requester)
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
	for k := 0; k < loose; k++ {
		c := &change{typ: "normal", title: pick(r, features),
			requester: pick(r, append(holders("customer-representative"), holders("release-owner")...))}
		c.created = g.start.Add(24*time.Hour + time.Duration(r.Int64N(int64(last.Sub(g.start))))).Truncate(time.Minute)
		switch u := r.Float64(); {
		case u < 0.5:
			c.status = "submitted"
		case u < 0.8:
			c.status = "rejected"
		default:
			c.status = "approved"
			c.approvedBy = g.changeManagerOtherThan(r, c.requester)
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
			rel.external = fmt.Sprintf("CHG-%d-%06d", rel.created.Year(), 500000+rel.n%400000)
		}
	}
}

// changeManagerOtherThan picks a change manager who is not login: nobody
// approves their own change request.
func (g *generator) changeManagerOtherThan(r *rand.Rand, login string) string {
	var out []string
	for _, m := range holders("change-manager") {
		if m != login {
			out = append(out, m)
		}
	}
	return pick(r, out)
}

// planCommits lays the steps of every release out in time order, spends
// what is left of the commit budget on plan revisions, and places the
// injections.
func (g *generator) planCommits() {
	r := g.rng
	seq := 0
	add := func(u unit) {
		u.seq = seq
		seq++
		g.units = append(g.units, u)
		if u.rel != nil {
			u.rel.pending++
		}
	}

	// Change requests no release cites arrive on their own, up to three a
	// pull request.
	var loose []*change
	for _, c := range g.changes {
		if c.rel == nil {
			loose = append(loose, c)
		}
	}
	used := 1 + 3
	for len(loose) > 0 {
		n := min(len(loose), 1+r.IntN(3))
		batch := loose[:n]
		loose = loose[n:]
		used += n + 2
		add(unit{kind: unitChanges, changes: batch, at: batch[n-1].created.Add(between(r, 10*time.Minute, 2*time.Hour))})
	}
	for _, rel := range g.releases {
		used += rel.cost(rel.fate, rel.cites())
	}
	if g.opts.Commits > used {
		for k := used; k < g.opts.Commits; k++ {
			g.releases[r.IntN(len(g.releases))].revisions++
		}
	}

	for _, rel := range g.releases {
		add(unit{kind: unitOpen, rel: rel, at: rel.openAt})
		// The plan is revised before it is reviewed.
		until := rel.openAt.Add(48 * time.Hour)
		if rel.fate > fateOpened {
			until = rel.reviewAt
		}
		for k := 1; k <= rel.revisions; k++ {
			step := until.Sub(rel.openAt) / time.Duration(rel.revisions+1)
			add(unit{kind: unitRevision, rel: rel, rev: k, at: rel.openAt.Add(step * time.Duration(k)).Truncate(time.Second)})
		}
		steps := []struct {
			kind unitKind
			at   time.Time
		}{{unitReview, rel.reviewAt}, {unitTest, rel.testAt}, {unitGoLive, rel.goLiveAt}, {unitDeploy, rel.deployAt}, {unitClose, rel.closeAt}}
		for f := fateReviewed; f <= rel.fate; f++ {
			add(unit{kind: steps[f-1].kind, rel: rel, at: steps[f-1].at})
		}
	}
	sort.SliceStable(g.units, func(i, j int) bool {
		if !g.units[i].at.Equal(g.units[j].at) {
			return g.units[i].at.Before(g.units[j].at)
		}
		return g.units[i].seq < g.units[j].seq
	})
	g.placeInjections()
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
