// Package notice decides which notices and reminders are due at an instant:
// from the board of a commit (every release's gates), the policy's change
// calendar and its notice channels, it returns the messages to send, each
// written in its channel's language with a key that is the same on every
// run, so the ledger of package notify sends each once. It does no I/O:
// "now" and the time each approval was requested are passed in.
package notice

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/notify"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/site"
)

// The events, in the order messages of one channel are listed.
const (
	ApprovalMissing      = "approval-missing"
	WindowStarting       = "window-starting"
	FreezeStarting       = "freeze-starting"
	DeploymentConfirmed  = "deployment-confirmed"
	DeploymentRolledBack = "deployment-rolled-back"
	PhaseStarting        = "phase-starting"
	ActionOverdue        = "action-overdue"
	RetrospectiveOverdue = "retrospective-overdue"
)

// Events lists every event.
var Events = []string{ApprovalMissing, WindowStarting, FreezeStarting, DeploymentConfirmed,
	DeploymentRolledBack, PhaseStarting, ActionOverdue, RetrospectiveOverdue}

// Defaults of the policy's notices.
const (
	DefaultReminderHours = 24
	DefaultLeadHours     = 24
	// Recent is how long after a deployment finished it is still told: a
	// channel added to a repository with years of history must not be
	// flooded with every deployment ever made on its first run.
	Recent = 7 * 24 * time.Hour
)

// RequestedFunc says when the approvals of a release's gate were
// requested: when the documents the gate covers last changed. False when
// it cannot be told.
type RequestedFunc func(release string, g gate.Result) (time.Time, bool)

// Input is everything one decision needs.
type Input struct {
	Board *engine.Board
	// Calendar is the policy's; nil reads it from the board's policy.
	Calendar *calendar.Calendar
	// Requested tells when approvals were requested; nil (or false) takes
	// the board's commit time.
	Requested RequestedFunc
	Now       time.Time
	// BaseURL is the dashboard's address for links ("" for none).
	BaseURL string
}

// event is one notice before it is written for a channel.
type event struct {
	key, id    string
	release    string
	at         time.Time
	recipients []string // logins of the policy
	data       map[string]any
}

// Due returns the messages due at in.Now for every channel of the policy,
// in channel order, then by event and key.
func Due(in Input) []notify.Message {
	b := in.Board
	if b == nil || b.Policy == nil || b.Policy.Notices == nil || len(b.Policy.Notices.Channels) == 0 {
		return nil
	}
	d := decider{in: in, pol: b.Policy, loc: b.Policy.Location}
	if d.loc == nil {
		d.loc = time.UTC
	}
	d.reminder = hours(b.Policy.Notices.ApprovalReminderHours, DefaultReminderHours)
	d.lead = hours(b.Policy.Notices.LeadHours, DefaultLeadHours)
	cal := in.Calendar
	if cal == nil {
		cal, _ = calendar.FromPolicy(b.Policy.Policy, d.loc)
	}
	var evs []event
	for _, st := range b.Statuses {
		r := d.release(st.Release)
		if r == nil || r.Release == nil {
			continue
		}
		evs = append(evs, d.approval(st, r)...)
		evs = append(evs, d.window(st, r)...)
		evs = append(evs, d.deployment(st, r)...)
		evs = append(evs, d.phases(st, r)...)
		evs = append(evs, d.retrospectives(st, r)...)
	}
	if cal != nil {
		evs = append(evs, d.freezes(cal)...)
	}
	evs = append(evs, d.actions()...)
	order := map[string]int{}
	for i, e := range Events {
		order[e] = i
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].id != evs[j].id {
			return order[evs[i].id] < order[evs[j].id]
		}
		return evs[i].key < evs[j].key
	})
	var out []notify.Message
	for _, ch := range b.Policy.Notices.Channels {
		lang := Lang(ch, b.Policy.Policy)
		for _, e := range evs {
			if len(ch.Events) > 0 && !contains(ch.Events, e.id) {
				continue
			}
			out = append(out, d.message(ch.Name, lang, e))
		}
	}
	return out
}

// Lang is the language of a channel's messages: its own, else the
// policy's; every language but English reads Chinese.
func Lang(ch document.NoticeChannel, p *document.Policy) i18n.Lang {
	l := ch.Language
	if l == "" && p != nil {
		l = p.Language
	}
	if l == string(i18n.English) {
		return i18n.English
	}
	return i18n.Chinese
}

type decider struct {
	in             Input
	pol            *policy.Policy
	loc            *time.Location
	reminder, lead time.Duration
}

func hours(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Hour
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (d *decider) release(id string) *loader.Release {
	if d.in.Board.Snapshot == nil {
		return nil
	}
	return d.in.Board.Snapshot.Releases[id]
}

// soon reports whether t lies after now and at most the lead time ahead.
func (d *decider) soon(t time.Time) bool {
	return t.After(d.in.Now) && !t.After(d.in.Now.Add(d.lead))
}

// base is the data every release's template reads.
func base(st gate.Status, r *loader.Release) map[string]any {
	return map[string]any{"Release": st.Release, "Title": r.Release.Title, "Systems": r.Release.Systems}
}

// approval: the approvals of the release's next gate still missing a
// reminder period after they were requested. A gate is
// requested once all it lacks is approvals: its documents and checks are
// complete, no earlier gate is open and nobody rejected it (a rejection is
// an answer, not a silence; its author is told by the review itself).
func (d *decider) approval(st gate.Status, r *loader.Release) []event {
	if st.Next == "" || st.State == gate.StateReadyToDeploy || st.State == gate.StateClosed {
		return nil
	}
	g, ok := st.Gate(st.Next)
	if !ok || len(g.Prerequisites) > 0 || len(g.Rejections) > 0 {
		return nil
	}
	for _, c := range g.Checks {
		if !c.OK {
			return nil
		}
	}
	var missing []gate.Requirement
	var who []string
	for _, q := range g.Requirements {
		if q.Missing > 0 {
			missing = append(missing, q)
			who = append(who, q.Eligible...)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	since := d.in.Board.Time
	if d.in.Requested != nil {
		if t, ok := d.in.Requested(st.Release, g); ok {
			since = t
		}
	}
	waited := d.in.Now.Sub(since)
	if waited < d.reminder {
		return nil
	}
	period := int(waited / d.reminder)
	digest := strings.TrimPrefix(g.Digest, "sha256:")
	if len(digest) > 16 {
		digest = digest[:16]
	}
	data := base(st, r)
	data["Gate"], data["Missing"], data["Since"], data["Period"] = g.Gate, missing, since, period
	return []event{{
		key: strings.Join([]string{ApprovalMissing, st.Release, g.Gate, digest, strconv.Itoa(period)}, "/"),
		id:  ApprovalMissing, release: st.Release, at: since.Add(time.Duration(period) * d.reminder),
		recipients: who, data: data,
	}}
}

// window: a release not yet deployed whose window starts within the lead
// time, to the people who carry it out.
func (d *decider) window(st gate.Status, r *loader.Release) []event {
	if r.Deployment != nil || st.State == gate.StateClosed {
		return nil
	}
	start, err := document.ParseTime(r.Release.Window.Start)
	if err != nil || !d.soon(start) {
		return nil
	}
	p := r.Release.People
	who := append([]string{p.Owner, p.Manager}, p.Implementers...)
	data := base(st, r)
	data["Start"] = start
	if end, err := document.ParseTime(r.Release.Window.End); err == nil {
		data["End"] = end
	}
	data["State"] = st.State
	return []event{{key: WindowStarting + "/" + st.Release + "/" + start.UTC().Format(time.RFC3339),
		id: WindowStarting, release: st.Release, at: start, recipients: who, data: data}}
}

// freezes: a freeze starting within the lead time. It is told to
// the owners and managers of the releases it holds up (not yet deployed,
// of a system it freezes): a group channel shows it to everyone anyway, and
// mailing every person of the policy about a freeze of a system they never
// touch would teach them to ignore the mail.
func (d *decider) freezes(cal *calendar.Calendar) []event {
	var out []event
	for _, f := range cal.Freezes {
		if f.Unreadable || !d.soon(f.Start) {
			continue
		}
		var who, held []string
		for _, st := range d.in.Board.Statuses {
			r := d.release(st.Release)
			if r == nil || r.Release == nil || r.Deployment != nil || st.State == gate.StateClosed || !f.For(r.Release.Systems) {
				continue
			}
			held = append(held, st.Release)
			who = append(who, r.Release.People.Owner, r.Release.People.Manager)
		}
		out = append(out, event{key: FreezeStarting + "/" + f.Name + "/" + f.Start.UTC().Format(time.RFC3339),
			id: FreezeStarting, at: f.Start, recipients: who,
			data: map[string]any{"Name": f.Name, "Reason": f.Reason, "Start": f.Start, "End": f.End, "Systems": f.Systems, "Held": held}})
	}
	return out
}

// deployment: a deployment confirmed or rolled back or failed
// once, to the people its rollback plan says to notify and its
// owner; only for deployments that finished within Recent.
func (d *decider) deployment(st gate.Status, r *loader.Release) []event {
	dep := r.Deployment
	if dep == nil {
		return nil
	}
	fin, err := document.ParseTime(dep.FinishedAt)
	if err != nil || fin.After(d.in.Now) || d.in.Now.Sub(fin) > Recent {
		return nil
	}
	var notifyList []string
	if r.Plan != nil {
		notifyList = r.Plan.Rollback.Notify
	}
	logins, systems := d.surrounding(notifyList)
	who := append([]string{r.Release.People.Owner}, logins...)
	data := base(st, r)
	data["Finished"], data["Outcome"], data["Notify"] = fin, dep.Outcome, systems
	var out []event
	if dep.Outcome == document.OutcomeRolledBack || dep.Outcome == document.OutcomeFailed {
		out = append(out, event{key: DeploymentRolledBack + "/" + st.Release + "/" + dep.Outcome,
			id: DeploymentRolledBack, release: st.Release, at: fin, recipients: who, data: data})
	}
	if contains(st.Passed, policy.GateDeploymentConfirmation) {
		out = append(out, event{key: DeploymentConfirmed + "/" + st.Release + "/" + dep.Outcome,
			id: DeploymentConfirmed, release: st.Release, at: fin, recipients: who, data: data})
	}
	return out
}

// surrounding maps a rollback plan's notify list to people: an entry that
// is a login of the policy is that person; one that names a system (or a
// configuration item) of the CMDB is the owners of its items. Entries that
// map to nobody are returned as names for the text, so the people reading
// it know whom to tell by hand.
func (d *decider) surrounding(names []string) (logins, unmapped []string) {
	var items map[string]*document.CMDBItem
	if d.in.Board.Snapshot != nil {
		items = d.in.Board.Snapshot.CMDBItems()
	}
	ids := make([]string, 0, len(items))
	for id := range items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, n := range names {
		if _, ok := d.pol.Person(n); ok {
			logins = append(logins, n)
			continue
		}
		found := false
		for _, id := range ids {
			it := items[id]
			if it != nil && (it.System == n || it.ID == n || it.Name == n) {
				if _, ok := d.pol.Person(it.Owner); ok {
					logins = append(logins, it.Owner)
					found = true
				}
			}
		}
		if !found {
			unmapped = append(unmapped, n)
		}
	}
	return logins, unmapped
}

// phases: a stage of a phased go-live starting within the lead time, to
// the release's customer representative. A release whose
// deployment failed or was rolled back goes live no further.
func (d *decider) phases(st gate.Status, r *loader.Release) []event {
	gl := r.GoLive
	if gl == nil || gl.RolloutMode != "phased" || st.State == gate.StateClosed {
		return nil
	}
	if r.Deployment != nil && r.Deployment.Outcome != document.OutcomeSucceeded {
		return nil
	}
	var out []event
	for i, ph := range gl.Phases {
		at, err := document.ParseTime(ph.At)
		if err != nil || !d.soon(at) {
			continue
		}
		data := base(st, r)
		data["Phase"], data["Number"], data["Of"], data["Start"], data["Items"] = ph.Name, i+1, len(gl.Phases), at, ph.Items
		out = append(out, event{key: PhaseStarting + "/" + st.Release + "/" + strconv.Itoa(i) + "/" + at.UTC().Format(time.RFC3339),
			id: PhaseStarting, release: st.Release, at: at, recipients: []string{r.Release.People.CustomerRepresentative}, data: data})
	}
	return out
}

// retrospectives: the gates an emergency release went live without and
// has not passed by their due date, to who may give them and
// the owner. Once per gate and due date.
func (d *decider) retrospectives(st gate.Status, r *loader.Release) []event {
	var out []event
	for _, rt := range st.OverdueRetrospectives(d.in.Now) {
		who := []string{r.Release.People.Owner}
		if g, ok := st.Gate(rt.Gate); ok {
			for _, q := range g.Requirements {
				if q.Missing > 0 {
					who = append(who, q.Eligible...)
				}
			}
		}
		data := base(st, r)
		data["Gate"] = rt.Gate
		due, err := document.ParseTime(rt.Due)
		if err == nil {
			data["Due"] = due
		}
		out = append(out, event{key: RetrospectiveOverdue + "/" + st.Release + "/" + rt.Gate + "/" + rt.Due,
			id: RetrospectiveOverdue, release: st.Release, at: due, recipients: who, data: data})
	}
	return out
}

// actions: open improvement actions of the quarterly reviews past their
// due date, the due day counting in full as in the quarterly
// report; once each, to its owner.
func (d *decider) actions() []event {
	if d.in.Board.Snapshot == nil {
		return nil
	}
	var out []event
	for q, rv := range d.in.Board.Snapshot.Reviews() {
		if rv == nil {
			continue
		}
		for _, a := range rv.Actions {
			if a.Status == "done" {
				continue
			}
			due, err := time.ParseInLocation("2006-01-02", a.Due, d.loc)
			if err != nil || d.in.Now.Before(due.AddDate(0, 0, 1)) {
				continue
			}
			out = append(out, event{key: ActionOverdue + "/" + q + "/" + a.ID + "/" + a.Due, id: ActionOverdue,
				at: due, recipients: []string{a.Owner},
				data: map[string]any{"Review": q, "ID": a.ID, "Description": a.Description, "Owner": a.Owner, "Due": a.Due}})
		}
	}
	return out
}

// recipients are the people of the logins, known to the policy, once
// each, by login; bots and unknown logins are left out.
func (d *decider) recipients(logins []string) []notify.Recipient {
	seen := map[string]bool{}
	var out []notify.Recipient
	for _, l := range logins {
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		p, ok := d.pol.Person(l)
		if !ok || p.Bot {
			continue
		}
		out = append(out, notify.Recipient{Login: p.Login, Name: p.Name, Email: p.Email})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out
}

func (d *decider) message(channel string, lang i18n.Lang, e event) notify.Message {
	m := notify.Message{Key: e.key, Event: e.id, Channel: channel, Lang: string(lang), Release: e.release,
		Recipients: d.recipients(e.recipients), At: e.at}
	if e.release != "" && d.in.BaseURL != "" {
		m.Link = strings.TrimRight(d.in.BaseURL, "/") + "/" + site.ReleasePath(string(lang), e.release)
	}
	m.Subject, m.Text = render(lang, e.id, d.view(lang, e, m))
	return m
}

// Requested is when the approvals of a release's gate were requested, by
// the board's history: the time of the last commit that changed a document
// the gate covers (a new version of them asks anew). It reads git objects
// through the board's provenance ledger, which is not safe for concurrent
// use: call Due with it from one goroutine.
func Requested(b *engine.Board) RequestedFunc {
	return func(release string, g gate.Result) (time.Time, bool) {
		if b == nil || b.Provenance == nil || b.Snapshot == nil || b.Policy == nil {
			return time.Time{}, false
		}
		r := b.Snapshot.Releases[release]
		spec, ok := b.Policy.Gate(g.Gate)
		if r == nil || !ok {
			return time.Time{}, false
		}
		var last time.Time
		names := make([]string, 0, len(r.Files))
		for name := range r.Files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if len(spec.Covers) > 0 && !spec.Guards(name) {
				continue
			}
			doc := r.Files[name]
			if doc == nil {
				continue
			}
			cs, err := b.Provenance.Changes(doc.Path)
			if err != nil || len(cs) == 0 {
				return time.Time{}, false // cannot be told: the caller takes the board's time
			}
			if w := cs[len(cs)-1].Commit.When; w.After(last) {
				last = w
			}
		}
		return last, !last.IsZero()
	}
}
