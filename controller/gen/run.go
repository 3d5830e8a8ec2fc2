package gen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	reldigest "github.com/relgate/relgate/controller/digest"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/writeback"
)

// fileWrite is one file a commit adds or replaces: a document to encode,
// or data as it is.
type fileWrite struct {
	path string
	doc  any
	data []byte
}

// run writes the history: the root commit, the CMDB inventory, then the
// planned units in time order.
func (g *generator) run() error {
	msg := "Start the release repository: " + document.PolicyPath + "\n"
	if err := g.direct(g.start, login(0), msg, fileWrite{path: document.PolicyPath, doc: g.policy}); err != nil {
		return err
	}
	if err := g.inventory(); err != nil {
		return err
	}
	for i := range g.units {
		u := &g.units[i]
		if err := g.apply(u); err != nil {
			if u.rel != nil {
				return fmt.Errorf("%s: %w", u.rel.id, err)
			}
			return err
		}
		if u.rel != nil && u.kind != unitInject {
			u.rel.pending--
		}
	}
	return nil
}

// stepRand is the random stream of one planned step, apart from the
// planner's, so that injections do not change the lawful steps.
func (g *generator) stepRand(key uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.opts.Seed)^0x73746570, key))
}

func (rel *release) rand(g *generator, k unitKind) *rand.Rand {
	return g.stepRand(uint64(rel.n)<<4 | uint64(k) | 1<<40)
}

// inventory adds the CMDB's items in a pull request: committed by one
// configuration manager, approved by the other (gate cmdb-change, R-3.4).
func (g *generator) inventory() error {
	cms := holders("configuration-manager")
	p := g.pull("cmdb/inventory", "CMDB: the configuration items", g.start.Add(time.Hour), g.stepRand(1))
	var writes []fileWrite
	for _, st := range g.items {
		writes = append(writes, fileWrite{path: document.CMDBPath(st.doc.ID), doc: &st.doc})
	}
	if err := p.commit(cms[0], fmt.Sprintf("CMDB: the inventory of %d configuration items\n", len(g.items)), writes...); err != nil {
		return err
	}
	if err := p.approveRepo(policy.GateCMDBChange, cms[1], policy.RoleConfigurationManager); err != nil {
		return err
	}
	return p.merge()
}

func (g *generator) apply(u *unit) error {
	rel := u.rel
	dir := func(name string) string { return document.ReleaseDir(rel.id) + "/" + name }
	switch u.kind {
	case unitChanges:
		return g.registerChanges(u)

	case unitOpen:
		draft := 0
		if rel.revisions > 0 {
			draft = 1
		}
		writes := []fileWrite{{path: dir("release.yaml"), doc: g.releaseDoc(rel)}, {path: dir("plan.yaml"), doc: g.planDoc(rel, draft)}}
		msg := rel.id + ": open the release with its plan\n"
		c := rel.change
		if c == nil {
			return g.direct(u.at, rel.planner, msg, writes...)
		}
		// The change request it implements comes with it, approved by a
		// change manager (gate change-record, R-3.3, R-9).
		p := g.pull(rel.id+"/open", rel.id+": "+rel.title(), u.at.Add(-30*time.Minute), rel.rand(g, unitOpen))
		if err := p.commit(c.requester, c.id+": change request "+c.title+"\n", fileWrite{path: document.ChangePath(c.id), doc: g.changeDoc(c)}); err != nil {
			return err
		}
		if err := p.approveRepo(policy.GateChangeRecord, c.approvedBy, policy.RoleChangeManager); err != nil {
			return err
		}
		p.next = maxTime(p.next, u.at)
		if err := p.commit(rel.planner, msg, writes...); err != nil {
			return err
		}
		return p.merge()

	case unitRevision:
		draft := u.rev + 1
		if u.rev == rel.revisions {
			draft = 0
		}
		return g.direct(u.at, rel.planner, rel.id+": revise the plan\n", fileWrite{path: dir("plan.yaml"), doc: g.planDoc(rel, draft)})

	case unitReview:
		// The head of every department involved and the release owner
		//
		p := g.pull(rel.id+"/plan-review", rel.id+": plan review", u.at, rel.rand(g, u.kind))
		for _, d := range rel.depts {
			head, _ := g.pol.HeadOf(d)
			if err := p.approve(rel, policy.GatePlanReview, head, policy.RoleDepartmentHead, ""); err != nil {
				return err
			}
		}
		if err := p.approve(rel, policy.GatePlanReview, rel.owner, policy.RoleReleaseOwner, ""); err != nil {
			return err
		}
		return p.merge()

	case unitTest:
		p := g.pull(rel.id+"/test", rel.id+": test report", u.at, rel.rand(g, u.kind))
		verdict := "passed"
		if rel.testFail {
			verdict = "failed"
		}
		if err := p.commit(rel.testers[0], rel.id+": the test report ("+verdict+")\n", fileWrite{path: dir("test-report.yaml"), doc: g.testReportDoc(rel)}); err != nil {
			return err
		}
		if rel.testFail {
			// The customer representative rejects it; it blocks until they
			// withdraw it.
			err := p.decide(rel, policy.GateTestAcceptance, rel.customer, policy.RoleCustomerRepresentative, document.DecisionReject,
				"Performance below target: fix and test again")
			if err != nil {
				return err
			}
		} else if err := p.approve(rel, policy.GateTestAcceptance, rel.customer, policy.RoleCustomerRepresentative, ""); err != nil {
			return err
		}
		return p.merge()

	case unitGoLive:
		p := g.pull(rel.id+"/go-live", rel.id+": go-live approval", u.at, rel.rand(g, u.kind))
		gl := g.goLiveDoc(rel)
		if err := p.commit(rel.manager, rel.id+": the go-live plan and the communication record\n",
			fileWrite{path: dir("golive.yaml"), doc: gl}, fileWrite{path: dir("communication.yaml"), doc: g.communicationDoc(rel, gl)}); err != nil {
			return err
		}
		if err := p.approve(rel, policy.GateGoLiveApproval, rel.owner, policy.RoleReleaseOwner, ""); err != nil {
			return err
		}
		return p.merge()

	case unitDeploy:
		p := g.pull(rel.id+"/deployment", rel.id+": deployment record", u.at, rel.rand(g, u.kind))
		if err := p.commit(rel.implementers[0], rel.id+": the deployment record ("+rel.outcome+")\n",
			fileWrite{path: dir("deployment.yaml"), doc: g.deploymentDoc(rel)}); err != nil {
			return err
		}
		if err := p.approve(rel, policy.GateDeploymentConfirmation, rel.manager, policy.RoleReleaseManager, ""); err != nil {
			return err
		}
		if err := p.approve(rel, policy.GateDeploymentConfirmation, rel.customer, policy.RoleCustomerRepresentative, ""); err != nil {
			return err
		}
		if c := rel.change; c != nil && rel.outcome == document.OutcomeSucceeded {
			c.status = "implemented"
			if err := p.commit(c.approvedBy, c.id+": implemented by "+rel.id+"\n", fileWrite{path: document.ChangePath(c.id), doc: g.changeDoc(c)}); err != nil {
				return err
			}
			if err := p.approveRepo(policy.GateChangeRecord, g.changeManagerOtherThan(p.r, c.approvedBy), policy.RoleChangeManager); err != nil {
				return err
			}
		}
		if err := p.merge(); err != nil {
			return err
		}
		return g.writeBack(rel, p.next)

	case unitClose:
		if why := g.cmdbBehind(rel); why != "" {
			return fmt.Errorf("internal error: closure planned while %s", why)
		}
		p := g.pull(rel.id+"/closure", rel.id+": closure", u.at, rel.rand(g, u.kind))
		t := p.time()
		if err := p.commit(rel.closer, rel.id+": close the release\n", fileWrite{path: dir("closure.yaml"), doc: g.closureDoc(rel, rel.closer, t)}); err != nil {
			return err
		}
		return p.merge()

	case unitInject:
		return g.inject(u)
	}
	return nil
}

// registerChanges commits change requests no release cites, each by its
// requester, in one pull request a change manager approves.
func (g *generator) registerChanges(u *unit) error {
	r := g.stepRand(uint64(u.seq) | 2<<40)
	var ids, requesters []string
	for _, c := range u.changes {
		ids = append(ids, c.id)
		requesters = append(requesters, c.requester)
	}
	p := g.pull("changes/"+ids[0], "Change requests "+strings.Join(ids, ", "), u.at, r)
	for _, c := range u.changes {
		if err := p.commit(c.requester, c.id+": change request "+c.title+"\n", fileWrite{path: document.ChangePath(c.id), doc: g.changeDoc(c)}); err != nil {
			return err
		}
	}
	var cms []string
	for _, m := range holders("change-manager") {
		if !containsString(requesters, m) {
			cms = append(cms, m)
		}
	}
	if err := p.approveRepo(policy.GateChangeRecord, pick(r, cms), policy.RoleChangeManager); err != nil {
		return err
	}
	return p.merge()
}

// writeBack is the bot's write-back after a confirmed deployment, as
// relgate reconcile makes it, straight on main: each item the release
// deployed gets its version and a history entry naming the release (after a
// rollback, the restored version), then the release report (R-3.4, R-5.1.9,
//
func (g *generator) writeBack(rel *release, at time.Time) error {
	var files []writeback.File
	var lines []string
	for k, i := range rel.itemIdx {
		st := g.items[i]
		e := document.HistoryEntry{At: stamp(rel.deployEnd), Release: rel.id}
		if rel.outcome == document.OutcomeRolledBack {
			if r := rel.restore[k]; r.Version != st.doc.Version {
				return fmt.Errorf("internal error: the plan restores %s %s, the CMDB shows %s", r.Item, r.Version, st.doc.Version)
			}
			e.Action, e.Version, e.Digest, e.Note = "restore", st.doc.Version, st.doc.Digest, rel.id+" failed and was rolled back"
		} else {
			it := rel.items[k]
			st.doc.Version, st.doc.Digest = it.Version, it.Digest
			e.Action, e.Version, e.Digest, e.Note = "update", it.Version, it.Digest, "deployed by "+rel.id
		}
		st.doc.History = append(st.doc.History, e)
		data, err := marshal(&st.doc)
		if err != nil {
			return err
		}
		files = append(files, writeback.File{Path: document.CMDBPath(st.doc.ID), Content: data})
		lines = append(lines, fmt.Sprintf("- %s: %s %s", st.doc.ID, e.Action, e.Version))
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	w := writeback.Write{Kind: "cmdb-update", Release: rel.id, Files: files,
		Subject: fmt.Sprintf("%s: update the CMDB after the %s deployment", rel.id, rel.outcome),
		Body:    "R-3.4, R-5.1.9:\n" + strings.Join(lines, "\n")}
	if err := g.direct(at, "", w.Message(), rawWrites(w.Files)...); err != nil {
		return err
	}
	md, js, err := g.report(rel)
	if err != nil {
		return err
	}
	w = writeback.Write{Kind: "release-report", Release: rel.id,
		Files:   []writeback.File{{Path: gateReportPath(rel.id), Content: md}, {Path: writeback.JSONReportPath(rel.id), Content: js}},
		Subject: fmt.Sprintf("%s: write the release report (%s)", rel.id, rel.outcome),
		Body:    "R-5.1.11: problems met and their solutions, approvals, timeline, outcome."}
	if err := g.direct(g.last.Add(time.Minute), "", w.Message(), rawWrites(w.Files)...); err != nil {
		return err
	}
	rel.reported = true
	return nil
}

func rawWrites(fs []writeback.File) []fileWrite {
	out := make([]fileWrite, len(fs))
	for i, f := range fs {
		out[i] = fileWrite{path: f.Path, data: f.Content}
	}
	return out
}

func gateReportPath(id string) string { return gate.ReportPath(id) }

// report renders the release report as Markdown and JSON, from what the
// generator knows of the release.
func (g *generator) report(rel *release) ([]byte, []byte, error) {
	d := g.deploymentDoc(rel)
	rep := writeback.ReleaseReport{APIVersion: document.APIVersion, Kind: "ReleaseReport", Release: rel.id, Title: rel.title(),
		Type: rel.typ, Systems: rel.systems, Changes: []string{}, Outcome: rel.outcome, Deployed: d.Deployed, Problems: d.Problems,
		Approvals: []writeback.ReportApproval{}}
	if rel.change != nil {
		rep.Changes = append(rep.Changes, rel.change.id)
	}
	if rel.external != "" {
		rep.Changes = append(rep.Changes, rel.external)
	}
	if d.Rollback != nil {
		rep.Restored = d.Rollback.Restored
	}
	rep.Timeline = []writeback.Event{{At: stamp(rel.created), What: "release created"}, {At: stamp(rel.prepared), What: "release plan prepared"},
		{At: stamp(rel.testedTo), What: "testing finished"}, {At: stamp(rel.goLive), What: "go-live time"},
		{At: stamp(rel.deployStart), What: "deployment started"}, {At: stamp(rel.deployEnd), What: "deployment finished"}}
	for _, gid := range []string{policy.GatePlanReview, policy.GateTestAcceptance, policy.GateGoLiveApproval, policy.GateDeploymentConfirmation} {
		for _, a := range g.approvalsOf(rel, gid) {
			pp := person(a.Person)
			rep.Approvals = append(rep.Approvals, writeback.ReportApproval{Gate: gid, Person: a.Person, Name: pp.Name, Role: a.Role, At: a.At})
		}
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Release report: %s\n\n%s\n\n", rel.id, rep.Title)
	fmt.Fprintf(&b, "| Release | Type | Outcome | Systems |\n|---|---|---|---|\n| %s | %s | %s | %s |\n\n", rel.id, rel.typ, rel.outcome, strings.Join(rel.systems, ", "))
	b.WriteString("## Timeline\n\n")
	for _, e := range rep.Timeline {
		fmt.Fprintf(&b, "- %s: %s\n", e.At, e.What)
	}
	b.WriteString("\n## Approvals\n\n| Gate | Person | Role | Time |\n|---|---|---|---|\n")
	for _, a := range rep.Approvals {
		fmt.Fprintf(&b, "| %s | %s (%s) | %s | %s |\n", a.Gate, a.Name, a.Person, a.Role, a.At)
	}
	b.WriteString("\n## Versions deployed\n\n")
	for _, v := range rep.Deployed {
		fmt.Fprintf(&b, "- %s %s\n", v.Item, v.Version)
	}
	if len(rep.Restored) > 0 {
		b.WriteString("\n## Versions restored by the rollback\n\n")
		for _, v := range rep.Restored {
			fmt.Fprintf(&b, "- %s %s\n", v.Item, v.Version)
		}
	}
	b.WriteString("\n## Problems and solutions\n\n")
	if len(rep.Problems) == 0 {
		b.WriteString("none\n")
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "- %s: %s\n", p.Description, p.Solution)
	}
	b.WriteString("\nWritten by relgate from the release's documents (R-5.1.11). Do not edit: it is rewritten when they change.\n")
	return []byte(b.String()), append(js, '\n'), nil
}

// approvalsOf are the approvals of a gate of rel the history holds.
func (g *generator) approvalsOf(rel *release, gateID string) []*document.Approval {
	var out []*document.Approval
	for _, a := range rel.approvals {
		if a.Gate == gateID && a.Decision == document.DecisionApprove {
			out = append(out, a)
		}
	}
	return out
}

// cmdbBehind says why the CMDB no longer shows what rel deployed (or, after
// a rollback, restored), with a history entry naming it; "" when it does.
func (g *generator) cmdbBehind(rel *release) string {
	for k, i := range rel.itemIdx {
		st := g.items[i]
		names := false
		for _, h := range st.doc.History {
			names = names || h.Release == rel.id
		}
		want := rel.items[k].Version
		if rel.outcome == document.OutcomeRolledBack {
			want = ""
			for _, h := range st.doc.History {
				if h.Release == rel.id {
					want = h.Version
				}
			}
		}
		if !names || st.doc.Version != want {
			return fmt.Sprintf("cmdb/%s.yaml shows %s, not what %s deployed", st.doc.ID, st.doc.Version, rel.id)
		}
	}
	return ""
}

// pull is a pull request being written: a branch off main, its commits,
// then the bot's merge.
type pull struct {
	g      *generator
	branch string
	title  string
	next   time.Time // no commit before this
	r      *rand.Rand
}

// pull starts a pull request on a branch off main; its first commit is at
// at or later.
func (g *generator) pull(branch, title string, at time.Time, r *rand.Rand) *pull {
	g.tip = g.head
	return &pull{g: g, branch: branch, title: title, next: at, r: r}
}

// time is when the next commit of the pull request is made.
func (p *pull) time() time.Time { return p.g.after(p.next) }

func (p *pull) commit(author, msg string, writes ...fileWrite) error {
	t := p.time()
	if err := p.g.commit(t, author, msg, writes); err != nil {
		return err
	}
	p.next = t.Add(between(p.r, 5*time.Minute, 45*time.Minute))
	return nil
}

// approve commits person's approval of a gate of rel, bound to the digest
// of what the gate covers on the branch now.
func (p *pull) approve(rel *release, gateID, person, role, comment string) error {
	return p.decide(rel, gateID, person, role, document.DecisionApprove, comment)
}

func (p *pull) decide(rel *release, gateID, person, role, decision, comment string) error {
	t := p.time()
	a := approvalDoc(rel.id, gateID, person, role, decision, p.g.releaseDigest(rel.id, gateID), t, comment)
	verb := "approved"
	if decision == document.DecisionReject {
		verb = "rejected"
	}
	rel.approvals = append(rel.approvals, a)
	return p.commit(person, fmt.Sprintf("%s: %s %s by %s (%s)\n", rel.id, gateID, verb, person, role),
		fileWrite{path: document.ApprovalPath(rel.id, gateID, person), doc: a})
}

// approveRepo commits person's approval of a repository gate, bound to the
// digest of what it guards on the branch now.
func (p *pull) approveRepo(gateID, person, role string) error {
	t := p.time()
	a := approvalDoc("", gateID, person, role, document.DecisionApprove, p.g.repoDigest(gateID), t, "")
	return p.commit(person, fmt.Sprintf("%s: approved by %s (%s)\n", gateID, person, role),
		fileWrite{path: document.ApprovalPath("", gateID, person), doc: a})
}

// merge merges the branch into main with a merge commit by the bot, as
// GitHub merges a pull request: first parent main, second the branch, the
// branch's tree (main has not moved since the branch left it).
func (p *pull) merge() error {
	g := p.g
	t := g.after(p.next)
	g.pulls++
	msg := fmt.Sprintf("Merge pull request #%d from %s\n\n%s\n", g.pulls, p.branch, p.title)
	h, err := g.writeCommit(t, "", msg, g.root.hash, g.head, g.tip)
	if err != nil {
		return err
	}
	g.head, g.tip = h, h
	g.merges++
	g.firstParent++
	p.next = t.Add(between(p.r, 2*time.Minute, 10*time.Minute))
	return nil
}

// direct commits on main.
func (g *generator) direct(at time.Time, author, msg string, writes ...fileWrite) error {
	g.tip = g.head
	if err := g.commit(g.after(at), author, msg, writes); err != nil {
		return err
	}
	g.head = g.tip
	g.firstParent++
	return nil
}

// after is at, or a second after the last commit: commit times never go
// backwards, even when steps share a minute.
func (g *generator) after(at time.Time) time.Time {
	if !at.After(g.last) {
		return g.last.Add(time.Second)
	}
	return at
}

// releaseDigest is the digest of a gate of a release over the documents on
// the branch now (package digest).
func (g *generator) releaseDigest(rel, gateID string) string {
	gt, ok := g.pol.Gate(gateID)
	if !ok {
		panic("gen: no gate " + gateID) // the generated policy has every built-in gate
	}
	covers := gt.Covers
	if len(covers) == 0 {
		covers = sortedReleaseFiles
	}
	files := make(map[string]source.BlobID, len(covers))
	for _, name := range covers {
		files[name] = source.BlobID(g.files[document.ReleaseDir(rel)+"/"+name])
	}
	return reldigest.Of(reldigest.Input(rel, gateID, files))
}

var sortedReleaseFiles = func() []string {
	var out []string
	for n := range document.ReleaseFiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}()

// repoDigest is the digest of a repository gate over every file of the
// folders it guards.
func (g *generator) repoDigest(gateID string) string {
	gt, _ := g.pol.Gate(gateID)
	files := map[string]source.BlobID{}
	for _, c := range gt.Covers {
		if !strings.HasSuffix(c, "/") {
			files[c] = source.BlobID(g.files[c])
			continue
		}
		dir := strings.TrimSuffix(c, "/")
		if d := g.root.dir(dir); d != nil {
			for _, e := range d.entries {
				if e.sub == nil {
					files[dir+"/"+e.name] = source.BlobID(e.hash)
				}
			}
		}
	}
	return reldigest.Of(reldigest.Input("", gateID, files))
}

// commit writes the documents' blobs, the trees on their paths and a commit
// on top of the branch tip (main outside a pull request), by author ("" for
// the bot) as author and committer.
func (g *generator) commit(at time.Time, author, msg string, writes []fileWrite) error {
	for _, w := range writes {
		data := w.data
		if data == nil {
			var err error
			if data, err = marshal(w.doc); err != nil {
				return fmt.Errorf("%s: %w", w.path, err)
			}
		}
		h, _, err := g.pack.put(plumbing.BlobObject, data)
		if err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
		g.root.setFile(w.path, h)
		g.files[w.path] = h
		g.blobs[w.path] = data
	}
	tree, err := g.root.flush(g.pack)
	if err != nil {
		return fmt.Errorf("write trees: %w", err)
	}
	var parents []plumbing.Hash
	if !g.tip.IsZero() {
		parents = append(parents, g.tip)
	}
	h, err := g.writeCommit(at, author, msg, tree, parents...)
	if err != nil {
		return err
	}
	g.tip = h
	return nil
}

// writeCommit writes a commit object.
func (g *generator) writeCommit(at time.Time, author, msg string, tree plumbing.Hash, parents ...plumbing.Hash) (plumbing.Hash, error) {
	g.last = at
	name, email := g.policy.Bot.Name, g.policy.Bot.Email
	if author != "" {
		p := person(author)
		name, email = p.Name, p.Email
	}
	sig := fmt.Sprintf("%s <%s> %d %s", name, email, at.Unix(), at.Format("-0700"))
	b := make([]byte, 0, 256+len(msg))
	b = append(b, "tree "+tree.String()+"\n"...)
	for _, p := range parents {
		b = append(b, "parent "+p.String()+"\n"...)
	}
	b = append(b, "author "+sig+"\ncommitter "+sig+"\n\n"+msg...)
	h, _, err := g.pack.put(plumbing.CommitObject, b)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write commit: %w", err)
	}
	g.commits++
	return h, nil
}

var people = func() map[string]document.Person {
	m := map[string]document.Person{}
	for _, p := range buildPolicy().People {
		m[p.Login] = p
	}
	return m
}()

func person(login string) document.Person { return people[login] }

func stamp(t time.Time) string { return t.In(cst).Format(time.RFC3339) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
