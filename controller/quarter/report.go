package quarter

import (
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
)

// Definitions of a successful release, as policy kpi.success names them.
const (
	SuccessDeployed  = "deployed"  // the deployment outcome is succeeded
	SuccessConfirmed = "confirmed" // and the deployment-confirmation gate passed (the default)
	SuccessClosed    = "closed"    // and the release is closed
)

// Bases say which date placed a release in its quarter.
const (
	BasisDeployment = "deployment" // deployment.yaml finishedAt
	BasisWindow     = "window"     // release.yaml window.start: no deployment recorded
)

// TrendQuarters is how many quarters the chart shows, ending with the report's.
const TrendQuarters = 4

// Options adjust a report.
type Options struct {
	// Now is the time the report is as of; the zero time means the quarter's
	// end. A later time is capped at the quarter's end, so a completed
	// quarter's report does not depend on when it is made.
	Now time.Time
	// Revision names the commit the documents were read from; empty means
	// the snapshot's tree name when it is a commit, none for a work tree.
	Revision string
	// Provenance attributes the documents to the commits that made them;
	// without it no approval counts, so no release has passed a gate.
	Provenance evaluate.Provenance
	// Policy is the policy in force (engine.PolicyInForce); nil means the
	// snapshot's relgate.yaml.
	Policy *policy.Policy
	// Statuses, when set, are the releases already evaluated under Policy
	// with Provenance (engine.LoadBoard): the report uses them rather than
	// evaluating again.
	Statuses map[string]gate.Status
}

// Report is the quarterly report's content; its JSON shape is stable.
type Report struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Quarter    string `json:"quarter"`
	Timezone   string `json:"timezone"`
	Revision   string `json:"revision,omitempty"`
	// AsOf is the end of the quarter, or the earlier time the report was made at.
	AsOf         string `json:"asOf"`
	Provisional  bool   `json:"provisional"`
	Organization string `json:"organization,omitempty"`
	// Success is the definition of a successful release (policy kpi.success).
	Success     string   `json:"success"`
	Releases    int      `json:"releases"`
	Successful  int      `json:"successful"`
	SuccessRate *float64 `json:"successRate"`
	// Target is policy kpi.successRateTarget; Gap is SuccessRate - Target, in
	// percentage points (negative: below target).
	Target *float64 `json:"target,omitempty"`
	Gap    *float64 `json:"gap,omitempty"`
	// Emergency counts the releases of the quarter whose type the policy
	// treats as emergency (typeRules), apart from the others: they went
	// through a shorter procedure. They are in Releases too.
	Emergency Group `json:"emergency"`
	// OverdueRetrospectives are the retrospective approvals the quarter's
	// emergency releases owe past their due date, as of AsOf.
	OverdueRetrospectives []OverdueRetrospective `json:"overdueRetrospectives"`
	// Scheduled are releases of the quarter not deployed whose window starts after AsOf.
	Scheduled []string  `json:"scheduled"`
	ByType    []Group   `json:"byType"`
	BySystem  []Group   `json:"bySystem"`
	ByMonth   []Group   `json:"byMonth"`
	Entries   []Entry   `json:"entries"`
	Failed    []Failure `json:"failed"`
	// LeadTime is from release.yaml createdAt to deployment finishedAt.
	LeadTime Durations `json:"leadTime"`
	// ApprovalWaits are per gate: from the previous gate's last counting
	// approval (the release's createdAt for the first gate) to this gate's
	// last counting approval.
	ApprovalWaits         []GateWait `json:"approvalWaits"`
	MissingRetrospectives []string   `json:"missingRetrospectives"`
	OverdueActions        []Overdue  `json:"overdueActions"`
	Trend                 []Point    `json:"trend"`
	// Unauthenticated says the policy trusts commit authorship (trustCommitAuthor).
	Unauthenticated bool     `json:"unauthenticated"`
	Warnings        []string `json:"warnings"`
}

// Group is the count and success rate of the releases sharing a key.
type Group struct {
	Key        string   `json:"key"`
	Releases   int      `json:"releases"`
	Successful int      `json:"successful"`
	Rate       *float64 `json:"rate"`
}

// Entry is one release counted in the quarter.
type Entry struct {
	Release    string   `json:"release"`
	Title      string   `json:"title"`
	Type       string   `json:"type"`
	Systems    []string `json:"systems"`
	Basis      string   `json:"basis"`
	At         string   `json:"at"`
	State      string   `json:"state"`
	Outcome    string   `json:"outcome,omitempty"`
	Successful bool     `json:"successful"`
}

// Failure is a release whose deployment failed or was rolled back, with the
// problems met and their solutions.
type Failure struct {
	Release       string             `json:"release"`
	Title         string             `json:"title"`
	Outcome       string             `json:"outcome"`
	FinishedAt    string             `json:"finishedAt"`
	Problems      []document.Problem `json:"problems"`
	Retrospective bool               `json:"retrospective"`
}

// Durations summarise a set of durations, in hours rounded to 0.1.
type Durations struct {
	Count  int     `json:"count"`
	Median float64 `json:"medianHours"`
	Mean   float64 `json:"meanHours"`
	Max    float64 `json:"maxHours"`
}

// GateWait is the approval waiting time of one gate.
type GateWait struct {
	Gate string `json:"gate"`
	Durations
}

// Overdue is an open improvement action past its due date.
type Overdue struct {
	Review      string `json:"review"`
	ID          string `json:"id"`
	Description string `json:"description"`
	Owner       string `json:"owner"`
	Due         string `json:"due"`
}

// OverdueRetrospective is a gate an emergency release went live without
// and has not passed by its due date.
type OverdueRetrospective struct {
	Release string `json:"release"`
	Title   string `json:"title"`
	Gate    string `json:"gate"`
	Due     string `json:"due"`
}

// Point is one quarter of the trend.
type Point struct {
	Quarter    string   `json:"quarter"`
	Releases   int      `json:"releases"`
	Successful int      `json:"successful"`
	Rate       *float64 `json:"rate"`
}

// placed is a release with the time that places it in a quarter.
type placed struct {
	r     *loader.Release
	at    time.Time
	basis string
}

type computer struct {
	snap   *loader.Snapshot
	pol    *policy.Policy
	loc    *time.Location
	status map[string]gate.Status
	prov   evaluate.Provenance
}

// Compute builds the report of quarter q from a snapshot loaded with
// loader.LoadAll. It reads nothing but the snapshot's tree (for digests).
func Compute(snap *loader.Snapshot, q Quarter, opts Options) (*Report, error) {
	if snap.Policy == nil {
		return nil, fmt.Errorf("%s at %s is missing or invalid; run relgate validate", document.PolicyPath, snap.Tree.Name())
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", document.PolicyPath, snap.Tree.Name(), err)
	}
	if opts.Policy != nil {
		pol = opts.Policy
	}
	c := &computer{snap: snap, pol: pol, loc: pol.Location, status: map[string]gate.Status{}, prov: opts.Provenance}
	for id, st := range opts.Statuses {
		c.status[id] = st
	}
	success := pol.KPI.Success
	if success == "" {
		success = SuccessConfirmed
	}
	switch success {
	case SuccessDeployed, SuccessConfirmed, SuccessClosed:
	default:
		return nil, fmt.Errorf("%s: kpi.success %q: want deployed, confirmed or closed", document.PolicyPath, success)
	}
	end := q.End(c.loc)
	asOf := end
	if !opts.Now.IsZero() && opts.Now.Before(end) {
		asOf = opts.Now
	}
	rev := opts.Revision
	if _, isDir := snap.Tree.(source.Dir); rev == "" && !isDir {
		rev = snap.Tree.Name()
	}
	rep := &Report{APIVersion: document.APIVersion, Kind: "QuarterlyReport", Quarter: q.String(), Timezone: c.loc.String(),
		Revision: rev, AsOf: asOf.In(c.loc).Format(time.RFC3339), Provisional: asOf.Before(end),
		Organization: snap.Policy.Organization, Success: success,
		Scheduled: []string{}, ByType: []Group{}, BySystem: []Group{}, ByMonth: []Group{}, Entries: []Entry{},
		Failed: []Failure{}, ApprovalWaits: []GateWait{}, MissingRetrospectives: []string{}, OverdueActions: []Overdue{},
		Emergency: Group{Key: document.TypeEmergency}, OverdueRetrospectives: []OverdueRetrospective{},
		Trend: []Point{}, Warnings: []string{}}
	rep.Unauthenticated = pol.TrustCommitAuthor

	var all []placed
	for _, id := range snap.ReleaseIDs() {
		r := snap.Releases[id]
		p, ok := place(r)
		if !ok {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: no valid deployment finishedAt or window.start; it is in no quarter", document.ReleaseDir(id)))
			continue
		}
		all = append(all, p)
	}

	// The trend: the quarters up to q, each as of its end (or asOf for q).
	first := q
	for i := 1; i < TrendQuarters; i++ {
		first = first.Previous()
	}
	for k := first; ; k = k.Next() {
		kAsOf := k.End(c.loc)
		if asOf.Before(kAsOf) {
			kAsOf = asOf
		}
		counted, _ := c.inQuarter(all, k, kAsOf)
		pt := Point{Quarter: k.String(), Releases: len(counted)}
		for _, p := range counted {
			ok, err := c.successful(p.r, success)
			if err != nil {
				return nil, err
			}
			if ok {
				pt.Successful++
			}
		}
		pt.Rate = rate(pt.Successful, pt.Releases)
		rep.Trend = append(rep.Trend, pt)
		if k == q {
			break
		}
	}

	counted, scheduled := c.inQuarter(all, q, asOf)
	for _, p := range scheduled {
		rep.Scheduled = append(rep.Scheduled, p.r.ID)
	}
	byType, bySystem, byMonth := map[string]*Group{}, map[string]*Group{}, map[string]*Group{}
	for _, m := range q.Months() {
		k := fmt.Sprintf("%04d-%02d", q.Year, int(m))
		byMonth[k] = &Group{Key: k}
	}
	add := func(m map[string]*Group, key string, ok bool) {
		g := m[key]
		if g == nil {
			g = &Group{Key: key}
			m[key] = g
		}
		g.Releases++
		if ok {
			g.Successful++
		}
	}
	review := snap.Reviews()[q.String()]
	reviewPath := path.Join(document.ReviewsDir, q.String()+".yaml")
	if d := snap.Doc(reviewPath); d != nil && d.Value == nil {
		rep.Warnings = append(rep.Warnings, reviewPath+" is invalid and was not read; run relgate validate")
	}
	var leads []time.Duration
	waits := map[string][]time.Duration{}
	for _, p := range counted {
		ok, err := c.successful(p.r, success)
		if err != nil {
			return nil, err
		}
		st, err := c.evaluate(p.r.ID)
		if err != nil {
			return nil, err
		}
		rep.Releases++
		if ok {
			rep.Successful++
		}
		e := Entry{Release: p.r.ID, Basis: p.basis, At: p.at.In(c.loc).Format(time.RFC3339), State: st.State, Successful: ok,
			Systems: []string{}, Type: "-"}
		if rel := p.r.Release; rel != nil {
			e.Title, e.Type, e.Systems = rel.Title, rel.Type, sortedCopy(rel.Systems)
		}
		if d := p.r.Deployment; d != nil {
			e.Outcome = d.Outcome
		}
		rep.Entries = append(rep.Entries, e)
		add(byType, e.Type, ok)
		if p.r.Release != nil && pol.TypeRule(p.r.Release.Type).Kind == document.TypeEmergency {
			rep.Emergency.Releases++
			if ok {
				rep.Emergency.Successful++
			}
		}
		for _, rt := range st.OverdueRetrospectives(asOf) {
			rep.OverdueRetrospectives = append(rep.OverdueRetrospectives, OverdueRetrospective{Release: p.r.ID, Title: e.Title, Gate: rt.Gate, Due: rt.Due})
		}
		for _, s := range e.Systems {
			add(bySystem, s, ok)
		}
		add(byMonth, p.at.In(c.loc).Format("2006-01"), ok)

		if d := p.r.Deployment; d != nil && (d.Outcome == document.OutcomeFailed || d.Outcome == document.OutcomeRolledBack) {
			f := Failure{Release: p.r.ID, Title: e.Title, Outcome: d.Outcome, FinishedAt: d.FinishedAt,
				Problems: append([]document.Problem{}, d.Problems...), Retrospective: hasRetrospective(review, p.r.ID)}
			rep.Failed = append(rep.Failed, f)
			if !f.Retrospective {
				rep.MissingRetrospectives = append(rep.MissingRetrospectives, p.r.ID)
			}
		}
		created, cerr := createdAt(p.r)
		if p.basis == BasisDeployment && cerr == nil && !p.at.Before(created) {
			leads = append(leads, p.at.Sub(created))
		}
		if cerr == nil {
			c.approvalWaits(p.r, st, created, waits)
		}
	}
	rep.SuccessRate = rate(rep.Successful, rep.Releases)
	if t := pol.KPI.SuccessRateTarget; t > 0 {
		rep.Target = &t
		if rep.SuccessRate != nil {
			g := round1(*rep.SuccessRate - t)
			rep.Gap = &g
		}
	}
	rep.Emergency.Rate = rate(rep.Emergency.Successful, rep.Emergency.Releases)
	rep.ByType = groups(byType)
	rep.BySystem = groups(bySystem)
	rep.ByMonth = groups(byMonth)
	rep.LeadTime = summarize(leads)
	for _, g := range pol.Gates() {
		if ds, ok := waits[g.ID]; ok {
			rep.ApprovalWaits = append(rep.ApprovalWaits, GateWait{Gate: g.ID, Durations: summarize(ds)})
		}
	}
	rep.OverdueActions = overdue(snap.Reviews(), q, asOf, c.loc)
	return rep, nil
}

// place finds the time that puts a release in a quarter: when its deployment
// finished, or, with no deployment record, when its window starts.
func place(r *loader.Release) (placed, bool) {
	if d := r.Deployment; d != nil {
		if t, err := time.Parse(time.RFC3339, d.FinishedAt); err == nil {
			return placed{r: r, at: t, basis: BasisDeployment}, true
		}
	}
	if rel := r.Release; rel != nil && r.Files["deployment.yaml"] == nil {
		if t, err := time.Parse(time.RFC3339, rel.Window.Start); err == nil {
			return placed{r: r, at: t, basis: BasisWindow}, true
		}
	}
	return placed{}, false
}

// inQuarter splits the releases of quarter k into those counted as of asOf
// and those scheduled later (not deployed, window after asOf).
func (c *computer) inQuarter(all []placed, k Quarter, asOf time.Time) (counted, scheduled []placed) {
	for _, p := range all {
		if !k.Contains(p.at, c.loc) {
			continue
		}
		if p.basis == BasisWindow && p.at.After(asOf) {
			scheduled = append(scheduled, p)
			continue
		}
		counted = append(counted, p)
	}
	return counted, scheduled
}

func (c *computer) evaluate(id string) (gate.Status, error) {
	if st, ok := c.status[id]; ok {
		return st, nil
	}
	st, err := evaluate.Release(c.pol, c.snap, id, evaluate.Options{Provenance: c.prov})
	if err != nil {
		return gate.Status{}, fmt.Errorf("evaluate %s at %s: %w", id, c.snap.Tree.Name(), err)
	}
	c.status[id] = st
	return st, nil
}

// successful applies the policy's definition of a successful release.
func (c *computer) successful(r *loader.Release, success string) (bool, error) {
	if r.Deployment == nil || r.Deployment.Outcome != document.OutcomeSucceeded {
		return false, nil
	}
	if success == SuccessDeployed {
		return true, nil
	}
	st, err := c.evaluate(r.ID)
	if err != nil {
		return false, err
	}
	if success == SuccessClosed {
		return st.State == gate.StateClosed, nil
	}
	return slices.Contains(st.Passed, policy.GateDeploymentConfirmation), nil
}

func createdAt(r *loader.Release) (time.Time, error) {
	if r.Release == nil {
		return time.Time{}, errors.New("no release.yaml")
	}
	return time.Parse(time.RFC3339, r.Release.CreatedAt)
}

// approvalWaits adds, for each gate passed in order, the time from the
// previous gate's last counting approval (createdAt for the first) to this
// gate's last counting approval. Gates passed without approvals (closure)
// are skipped; a wait that would be negative counts as zero.
func (c *computer) approvalWaits(r *loader.Release, st gate.Status, created time.Time, waits map[string][]time.Duration) {
	prev := created
	for _, res := range st.Gates {
		if !res.Passed {
			return
		}
		counted := map[string]bool{}
		for _, q := range res.Requirements {
			for _, p := range q.Approved {
				counted[p] = true
			}
		}
		var last time.Time
		for _, a := range r.Approvals {
			if a.Approval == nil || a.FileGate != res.Gate || !counted[a.FilePerson] {
				continue
			}
			if t, err := time.Parse(time.RFC3339, a.At); err == nil && t.After(last) {
				last = t
			}
		}
		if last.IsZero() {
			continue
		}
		w := last.Sub(prev)
		if w < 0 {
			w = 0
		}
		waits[res.Gate] = append(waits[res.Gate], w)
		prev = last
	}
}

func hasRetrospective(rv *document.Review, id string) bool {
	if rv == nil {
		return false
	}
	for _, r := range rv.Retrospectives {
		if r.Release == id {
			return true
		}
	}
	return false
}

// overdue lists open actions of the reviews up to quarter q whose due date
// has passed as of asOf (the due day counts in full).
func overdue(reviews map[string]*document.Review, q Quarter, asOf time.Time, loc *time.Location) []Overdue {
	out := []Overdue{}
	for key, rv := range reviews {
		if key > q.String() {
			continue
		}
		for _, a := range rv.Actions {
			if a.Status == "done" {
				continue
			}
			due, err := time.ParseInLocation("2006-01-02", a.Due, loc)
			if err != nil || asOf.Before(due.AddDate(0, 0, 1)) {
				continue
			}
			out = append(out, Overdue{Review: key, ID: a.ID, Description: a.Description, Owner: a.Owner, Due: a.Due})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Due != out[j].Due {
			return out[i].Due < out[j].Due
		}
		if out[i].Review != out[j].Review {
			return out[i].Review < out[j].Review
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func rate(ok, n int) *float64 {
	if n == 0 {
		return nil
	}
	r := round1(float64(ok) * 100 / float64(n))
	return &r
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func groups(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		g.Rate = rate(g.Successful, g.Releases)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func summarize(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	med := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		med = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	h := func(d time.Duration) float64 { return round1(d.Hours()) }
	return Durations{Count: len(ds), Median: h(med), Mean: h(sum / time.Duration(len(ds))), Max: h(ds[len(ds)-1])}
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// trimLine keeps a table cell on one line.
func trimLine(s string) string { return strings.Join(strings.Fields(s), " ") }
