// Replay: the lawful history of a release repository. relgate counts an
// approval only when the commit that gave the file its current content is
// signed by a key the policy lists for its person or, with trustCommitAuthor,
// authored by them; the example repository copied in as one commit by one
// person passes almost no gate. relgate's own tests and the README's demo
// therefore start from the history Replay makes of examples/release-repo:
// what a careful team would have committed, oldest first.
//
//   - The root commit on main: relgate.yaml and every file relgate does not
//     govern (README.md, .relgate/schemas), by the process approver.
//   - Then pull requests, each a branch off main merged by the policy's bot
//     with a merge commit (first parent main, second the branch tip), as
//     GitHub merges one.
//   - cmdb/: the items, then approvals/cmdb-change.<login>.yaml by a
//     configuration manager who did not commit them.
//   - Each change request: the file by its requester, then
//     approvals/change-record.<login>.yaml by a change manager.
//   - Each release, one pull request per lifecycle stage it has documents
//     or approvals for (plan, test, go-live, deployment, closure): the
//     stage's documents, each by the person its author field names
//     (release.yaml, which names none, by a release manager who approves
//     nothing of the release), then its approvals, each by its person (by the
//     bot when recorded from a forge review). A team's own gate goes with the gate it comes before;
//     closed-release-change and unknown gates with the closure.
//   - Each quarterly review: the file, then
//     approvals/review-change.<login>.yaml by a release owner who did not
//     commit it.
//   - reports/, by the bot straight on main: a release's report after its
//     deployment stage, any other report last.
//
// Pull requests are merged in the order of the times their documents state
// (approvedAt, createdAt, preparedAt, testedTo, an approval's at, ...), a
// release's stages in lifecycle order and after the change requests and
// CMDB items it cites. Commit times only grow: a minute after the commit
// before, or a minute after the latest time the content states, whichever is
// later. Without signing keys the same files give the same commit ids.
//
// Replay refuses what it cannot place: approvals/ at the root of the source
// (it writes those itself), files in relgate's folders that are not
// documents, documents that do not decode, a policy without a process
// approver or a bot. Files are committed in their final content only: a CMDB
// item whose history records later write-backs is committed as it stands.

package gen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
)

// DefaultReplayStart is the time of a replayed history's first commit.
var DefaultReplayStart = time.Date(2026, 9, 1, 9, 0, 0, 0, cst)

// ReplayOptions adjust Replay.
type ReplayOptions struct {
	// Sign maps a login to the OpenPGP key that person's commits are signed
	// with; the bot's merges are signed with the key of its login. Commits of
	// people without a key are not signed.
	Sign map[string]*openpgp.Entity
	// Start is the time of the first commit; zero means DefaultReplayStart.
	Start time.Time
}

// Replay commits the files of the release repository src into repoDir, an
// empty git repository with a work tree, as the lawful history a careful
// team would have made (described at the top of replay.go): a root commit
// by the process approver, then one pull request per step merged by the
// bot, every document committed by its author and every approval by its
// approver. Afterwards HEAD is main, the work tree is clean and holds exactly
// the files of src plus the root approvals Replay wrote.
func Replay(src, repoDir string, opts ReplayOptions) error {
	if opts.Start.IsZero() {
		opts.Start = DefaultReplayStart
	}
	files, err := sourceFiles(src)
	if err != nil {
		return err
	}
	snap, err := loader.LoadAll(source.Dir{Root: src}, loader.Options{})
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	if snap.Policy == nil {
		return fmt.Errorf("replay %s: %s is missing or does not decode; run relgate validate", src, document.PolicyPath)
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		return fmt.Errorf("replay %s: %s: %w", src, document.PolicyPath, err)
	}
	p := &replayPlanner{snap: snap, pol: pol}
	if err := p.plan(files); err != nil {
		return fmt.Errorf("replay %s: %w", src, err)
	}
	order, err := p.order()
	if err != nil {
		return fmt.Errorf("replay %s: %w", src, err)
	}
	x, err := newReplayer(src, repoDir, pol, opts)
	if err != nil {
		return err
	}
	for _, i := range order {
		if err := x.run(p.steps[i]); err != nil {
			return fmt.Errorf("replay %s into %s: %s: %w", src, repoDir, p.steps[i].branch, err)
		}
	}
	return nil
}

// sourceFiles lists the regular files of src, slash-separated and sorted,
// leaving out a .git folder.
func sourceFiles(src string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file; a release repository holds no symlinks or devices", filepath.ToSlash(rel))
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", src, err)
	}
	sort.Strings(out)
	return out, nil
}

// replayStep is one pull request, or, when direct, commits made on main.
type replayStep struct {
	branch  string // the branch name; what the merge says it merged
	title   string
	direct  bool
	commits []replayCommit
	after   []int     // steps that must be merged first
	key     time.Time // when it happened: the earliest time its content states
}

// replayCommit adds files of src, or one approval of a repository gate.
type replayCommit struct {
	author  string // login; "" is the bot
	message string
	files   []string
	approve *repoApproval
	at      time.Time // the latest time the content states; zero for none
}

// repoApproval is an approval Replay writes to approvals/ at the root.
type repoApproval struct{ gate, person, role string }

// Release stages, in lifecycle order: the gate each ends with, its
// documents, and a name for branches and titles.
var replayStages = []struct {
	gate, name string
	files      []string
}{
	{policy.GatePlanReview, "plan", []string{"release.yaml", "plan.yaml"}},
	{policy.GateTestAcceptance, "test", []string{"test-report.yaml"}},
	{policy.GateGoLiveApproval, "go-live", []string{"golive.yaml", "communication.yaml"}},
	{policy.GateDeploymentConfirmation, "deployment", []string{"deployment.yaml"}},
	{policy.GateClosure, "closure", []string{"closure.yaml"}},
}

type replayPlanner struct {
	snap  *loader.Snapshot
	pol   *policy.Policy
	steps []replayStep
}

func (p *replayPlanner) add(s replayStep) int {
	p.steps = append(p.steps, s)
	return len(p.steps) - 1
}

// value returns the decoded document in file.
func (p *replayPlanner) value(file string) (any, error) {
	if d := p.snap.Doc(file); d != nil && d.Value != nil {
		return d.Value, nil
	}
	msg := "it does not decode"
	for _, f := range p.snap.Findings {
		if f.File == file {
			msg = f.String()
			break
		}
	}
	return nil, fmt.Errorf("%s: %s; run relgate validate and fix it first", file, msg)
}

// plan sorts the files into steps, in canonical order: root, CMDB, change
// requests, releases, reviews, reports.
func (p *replayPlanner) plan(files []string) error {
	var rootFiles, cmdbFiles, changeFiles, reviewFiles, reportFiles []string
	releases := map[string]bool{}
	for _, f := range files {
		top, _, nested := strings.Cut(f, "/")
		loc, managed := document.Locate(f)
		switch {
		case f == document.PolicyPath:
			rootFiles = append(rootFiles, f)
		case nested && top == document.ApprovalsDir:
			return fmt.Errorf("%s: approvals at the root are written by Replay for the steps it makes; remove them from the source", f)
		case nested && top == document.ReportsDir:
			reportFiles = append(reportFiles, f)
		case managed && loc.Kind == document.KindChange:
			changeFiles = append(changeFiles, f)
		case managed && loc.Kind == document.KindCMDBItem:
			cmdbFiles = append(cmdbFiles, f)
		case managed && loc.Kind == document.KindReview:
			reviewFiles = append(reviewFiles, f)
		case managed && loc.Release != "" && loc.Kind != "":
			releases[loc.Release] = true
		case nested && (top == document.ChangesDir || top == document.CMDBDir || top == document.ReleasesDir || top == document.ReviewsDir):
			return fmt.Errorf("%s: not a document, and Replay does not know when it was written; move it out of %s/", f, top)
		default:
			rootFiles = append(rootFiles, f)
		}
	}
	if !slices.Contains(rootFiles, document.PolicyPath) {
		return fmt.Errorf("%s is missing", document.PolicyPath)
	}
	approvers := p.pol.Roles[policy.RoleProcessApprover]
	if len(approvers) == 0 {
		return fmt.Errorf("%s: roles.%s is empty: nobody may commit the policy", document.PolicyPath, policy.RoleProcessApprover)
	}
	if p.pol.Bot.Email == "" {
		return fmt.Errorf("%s: bot.email is missing: nobody merges the pull requests", document.PolicyPath)
	}
	root := p.add(replayStep{branch: "main", title: "the release repository", direct: true, commits: []replayCommit{{
		author: approvers[0], files: rootFiles,
		message: "Start the release repository: " + document.PolicyPath + " and the files relgate does not govern"}}})

	cmdb := -1
	if len(cmdbFiles) > 0 {
		s, err := p.repoStep(root, "cmdb", "CMDB: the configuration items", policy.GateCMDBChange, policy.RoleConfigurationManager,
			cmdbFiles, p.pol.Roles[policy.RoleConfigurationManager], "CMDB: "+fmt.Sprint(len(cmdbFiles))+" configuration items")
		if err != nil {
			return err
		}
		cmdb = p.add(s)
	}

	changes := map[string]int{}
	for _, f := range changeFiles {
		v, err := p.value(f)
		if err != nil {
			return err
		}
		c := v.(*document.Change)
		id := strings.TrimSuffix(path.Base(f), ".yaml")
		s, err := p.repoStep(root, "change/"+id, id+": "+c.Title, policy.GateChangeRecord, policy.RoleChangeManager,
			[]string{f}, []string{c.Requester}, id+": change request "+c.Title)
		if err != nil {
			return err
		}
		changes[id] = p.add(s)
	}

	ids := make([]string, 0, len(releases))
	for id := range releases {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	last := map[string]int{}
	reports := map[string]bool{}
	for _, f := range reportFiles {
		reports[f] = true
	}
	for _, id := range ids {
		after := []int{root}
		if cmdb >= 0 {
			after = append(after, cmdb)
		}
		if rel := p.snap.Releases[id]; rel != nil && rel.Release != nil {
			for _, c := range rel.Release.Changes {
				if i, ok := changes[c.ID]; ok && !c.External {
					after = append(after, i)
				}
			}
		}
		prev, err := p.release(id, after, reports)
		if err != nil {
			return err
		}
		last[id] = prev
	}

	for _, f := range reviewFiles {
		v, err := p.value(f)
		if err != nil {
			return err
		}
		rv := v.(*document.Review)
		q := strings.TrimSuffix(path.Base(f), ".yaml")
		s, err := p.repoStep(root, "review/"+q, "Quarterly review "+q, policy.GateReviewChange, policy.RoleReleaseOwner,
			[]string{f}, p.pol.Roles[policy.RoleReleaseOwner], "Quarterly review "+q)
		if err != nil {
			return err
		}
		for _, r := range rv.Retrospectives {
			if i, ok := last[r.Release]; ok {
				s.after = append(s.after, i)
			}
		}
		p.add(s)
	}

	var rest []string
	for _, f := range reportFiles {
		if reports[f] {
			rest = append(rest, f)
		}
	}
	if len(rest) > 0 {
		all := make([]int, len(p.steps))
		for i := range all {
			all[i] = i
		}
		p.add(replayStep{branch: "main", title: "reports", direct: true, after: all,
			commits: []replayCommit{{files: rest, message: "reports: written by relgate"}}})
	}
	p.keys()
	return nil
}

// repoStep is a pull request of a repository-wide folder: the files by the
// first of authors (then the holders of role, then the release managers)
// for whom another holder of role exists, then that holder's approval.
func (p *replayPlanner) repoStep(root int, branch, title, gateID, role string, files, authors []string, message string) (replayStep, error) {
	if _, ok := p.pol.Gate(gateID); !ok {
		return replayStep{}, fmt.Errorf("the policy has no gate %s", gateID)
	}
	holders := p.pol.Roles[role]
	candidates := slices.Concat(authors, holders, p.pol.Roles[policy.RoleReleaseManager])
	author, approver := "", ""
	for _, c := range candidates {
		if pp, ok := p.pol.Person(c); !ok || pp.Bot {
			continue
		}
		if i := slices.IndexFunc(holders, func(h string) bool { return h != c }); i >= 0 {
			author, approver = c, holders[i]
			break
		}
	}
	if author == "" {
		return replayStep{}, fmt.Errorf("%s: nobody holds roles.%s who could approve it without approving their own commit", files[0], role)
	}
	var at time.Time
	for _, f := range files {
		v, err := p.value(f)
		if err != nil {
			return replayStep{}, err
		}
		t, err := statedTime(v)
		if err != nil {
			return replayStep{}, fmt.Errorf("%s: %w", f, err)
		}
		if t.After(at) {
			at = t
		}
	}
	return replayStep{branch: branch, title: title, after: []int{root}, commits: []replayCommit{
		{author: author, files: files, at: at, message: message},
		{author: approver, approve: &repoApproval{gate: gateID, person: approver, role: role},
			message: fmt.Sprintf("%s: approved by %s (%s)", gateID, approver, role)},
	}}, nil
}

// release adds one step per lifecycle stage of a release and returns the
// last; a release report (reports/releases/<id>.md) is committed by the bot
// on main before the closure stage.
func (p *replayPlanner) release(id string, after []int, reports map[string]bool) (int, error) {
	rel := p.snap.Releases[id]
	if rel == nil {
		return 0, fmt.Errorf("%s: no document of the release decodes; run relgate validate", document.ReleaseDir(id))
	}
	stages := make([][]replayCommit, len(replayStages))
	for si, st := range replayStages {
		for _, name := range st.files {
			f := document.ReleaseDir(id) + "/" + name
			if rel.Files[name] == nil {
				continue
			}
			v, err := p.value(f)
			if err != nil {
				return 0, err
			}
			at, err := statedTime(v)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", f, err)
			}
			author, field := p.documentAuthor(rel, v)
			if pp, ok := p.pol.Person(author); !ok || pp.Bot {
				if field == "release.yaml" {
					return 0, fmt.Errorf("%s: everyone of the policy approves a gate that covers it, so nobody can commit it without approving their own document", f)
				}
				return 0, fmt.Errorf("%s: %s %q is not a person of the policy, so nobody can commit it", f, field, author)
			}
			stages[si] = append(stages[si], replayCommit{author: author, files: []string{f}, at: at,
				message: fmt.Sprintf("%s: %s", id, name)})
		}
	}
	approvals := slices.Clone(rel.Approvals)
	stageOf := func(a *loader.Approval) (int, bool) {
		g, ok := p.pol.Gate(a.FileGate)
		if ok && g.Before != "" {
			g, ok = p.pol.Gate(g.Before)
		}
		for si, st := range replayStages {
			if ok && st.gate == g.ID {
				return si, g.ID != a.FileGate
			}
		}
		return len(replayStages) - 1, false
	}
	times := map[*loader.Approval]time.Time{}
	for _, a := range approvals {
		if a.Approval == nil {
			_, err := p.value(a.Doc.Path)
			return 0, err
		}
		t, err := statedTime(a.Approval)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", a.Doc.Path, err)
		}
		times[a] = t
	}
	// A team's own gate before the built-in one it precedes; then by time.
	sort.SliceStable(approvals, func(i, j int) bool {
		si, ti := stageOf(approvals[i])
		sj, tj := stageOf(approvals[j])
		if si != sj {
			return si < sj
		}
		if ti != tj {
			return ti
		}
		if !times[approvals[i]].Equal(times[approvals[j]]) {
			return times[approvals[i]].Before(times[approvals[j]])
		}
		return approvals[i].Doc.Path < approvals[j].Doc.Path
	})
	for _, a := range approvals {
		si, _ := stageOf(a)
		author := a.FilePerson
		if pp, ok := p.pol.Person(author); !ok || pp.Bot {
			return 0, fmt.Errorf("%s: %s is not a person of the policy, so nobody can commit the approval", a.Doc.Path, author)
		}
		if a.Forge != nil {
			author = "" // recorded by the bot from a forge review
		}
		verb := "approved"
		if a.Decision == document.DecisionReject {
			verb = "rejected"
		}
		stages[si] = append(stages[si], replayCommit{author: author, files: []string{a.Doc.Path}, at: times[a],
			message: fmt.Sprintf("%s: %s %s by %s (%s)", id, a.FileGate, verb, a.FilePerson, a.Role)})
	}
	prev := -1
	for si, st := range replayStages {
		if report := gate.ReportPath(id); si == len(replayStages)-1 && reports[report] {
			delete(reports, report)
			prev = p.add(replayStep{branch: "main", title: id + " release report", direct: true,
				after: append(slices.Clone(after), prev), commits: []replayCommit{{files: []string{report},
					message: fmt.Sprintf("%s: the release report, written by relgate", id)}}})
		}
		if len(stages[si]) == 0 {
			continue
		}
		deps := slices.Clone(after)
		if prev >= 0 {
			deps = append(deps, prev)
		}
		prev = p.add(replayStep{branch: id + "/" + st.name, title: fmt.Sprintf("%s: %s", id, st.name),
			after: deps, commits: stages[si]})
	}
	return prev, nil
}

// documentAuthor names who writes a release document, and the field that says so.
func (p *replayPlanner) documentAuthor(rel *loader.Release, v any) (login, field string) {
	switch d := v.(type) {
	case *document.Release:
		return p.releaseAuthor(rel, d), "release.yaml"
	case *document.Plan:
		return d.Author, "author"
	case *document.TestReport:
		return d.Author, "author"
	case *document.GoLive:
		return d.Author, "author"
	case *document.Communication:
		return d.Author, "author"
	case *document.Deployment:
		return d.RecordedBy, "recordedBy"
	case *document.Closure:
		return d.ClosedBy, "closedBy"
	}
	return "", "author"
}

// releaseAuthor picks who commits release.yaml. It names no author, and
// every gate of the release covers it: whoever commits it may approve none
// of them (separation of duties over the document's whole history). So not
// the release's owner, manager (who confirms the deployment), customer
// representative or department heads, nor anyone who approved a gate
// covering it; of the rest the plan's author, then the release managers, the
// release's implementers and testers, then anyone, in the policy's order.
func (p *replayPlanner) releaseAuthor(rel *loader.Release, d *document.Release) string {
	excluded := map[string]bool{d.People.Owner: true, d.People.Manager: true, d.People.CustomerRepresentative: true}
	for _, dept := range d.Departments {
		if h, ok := p.pol.HeadOf(dept); ok {
			excluded[h] = true
		}
	}
	for _, a := range rel.Approvals {
		if g, ok := p.pol.Gate(a.FileGate); !ok || len(g.Covers) == 0 || slices.Contains(g.Covers, "release.yaml") {
			excluded[a.FilePerson] = true
		}
	}
	var candidates []string
	if rel.Plan != nil {
		candidates = append(candidates, rel.Plan.Author)
	}
	candidates = slices.Concat(candidates, p.pol.Roles[policy.RoleReleaseManager], d.People.Implementers, d.People.Testers)
	for _, pp := range p.pol.People {
		candidates = append(candidates, pp.Login)
	}
	for _, c := range candidates {
		if pp, ok := p.pol.Person(c); ok && !pp.Bot && !excluded[c] {
			return c
		}
	}
	return ""
}

// statedTime is the latest time a document says something had happened by
// when it was written: a change's approval, a plan's preparation, the end of
// testing, the last briefing, the end of a deployment. Times it plans (a
// go-live time, a window) do not count. Zero when it states none.
func statedTime(v any) (time.Time, error) {
	var ts []string
	switch d := v.(type) {
	case *document.Change:
		ts = append(ts, d.ApprovedAt)
	case *document.CMDBItem:
		for _, h := range d.History {
			ts = append(ts, h.At)
		}
	case *document.Release:
		ts = append(ts, d.CreatedAt)
	case *document.Plan:
		ts = append(ts, d.PreparedAt)
	case *document.TestReport:
		ts = append(ts, d.TestedTo)
	case *document.Communication:
		for _, s := range slices.Concat(d.Briefings, d.Training) {
			ts = append(ts, s.At)
		}
		for _, n := range d.CustomerNotifications {
			ts = append(ts, n.NotifiedAt)
		}
	case *document.Deployment:
		ts = append(ts, d.FinishedAt)
		for _, pr := range d.Problems {
			ts = append(ts, pr.At)
		}
		if d.Rollback != nil {
			ts = append(ts, d.Rollback.CompletedAt)
		}
	case *document.Closure:
		ts = append(ts, d.ClosedAt)
	case *document.Approval:
		ts = append(ts, d.At)
	case *document.Review:
		ts = append(ts, d.HeldAt)
		for _, a := range d.Actions {
			ts = append(ts, a.DoneAt)
		}
	}
	var out time.Time
	for _, s := range ts {
		if s == "" {
			continue
		}
		t, err := document.ParseTime(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		if t.After(out) {
			out = t
		}
	}
	return out, nil
}

// keys dates each step by the earliest time its content states; a step that
// states none follows the one before it in canonical order.
func (p *replayPlanner) keys() {
	for i := range p.steps {
		s := &p.steps[i]
		for _, c := range s.commits {
			if !c.at.IsZero() && (s.key.IsZero() || c.at.Before(s.key)) {
				s.key = c.at
			}
		}
		if s.key.IsZero() && i > 0 {
			s.key = p.steps[i-1].key
		}
	}
}

// order returns the steps in the order they are merged: of the steps whose
// prerequisites are merged, the earliest, and of equals the first in
// canonical order.
func (p *replayPlanner) order() ([]int, error) {
	done := make([]bool, len(p.steps))
	out := make([]int, 0, len(p.steps))
	for len(out) < len(p.steps) {
		best := -1
		for i, s := range p.steps {
			if done[i] || slices.ContainsFunc(s.after, func(j int) bool { return j >= 0 && !done[j] }) {
				continue
			}
			if best < 0 || s.key.Before(p.steps[best].key) {
				best = i
			}
		}
		if best < 0 {
			return nil, errors.New("the steps depend on each other in a circle")
		}
		done[best] = true
		out = append(out, best)
	}
	return out, nil
}

// replayer makes the commits.
type replayer struct {
	src, dir string
	repo     *git.Repository
	wt       *git.Worktree
	pol      *policy.Policy
	opts     ReplayOptions
	botLogin string
	clock    time.Time
	started  bool
	pulls    int
}

func newReplayer(src, dir string, pol *policy.Policy, opts ReplayOptions) (*replayer, error) {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if _, err := repo.Head(); !errors.Is(err, plumbing.ErrReferenceNotFound) {
		if err == nil {
			return nil, fmt.Errorf("replay into %s: it has commits: %w", dir, ErrNotEmpty)
		}
		return nil, fmt.Errorf("read HEAD of %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.Name() != ".git" {
			return nil, fmt.Errorf("replay into %s: its work tree has %s: %w", dir, e.Name(), ErrNotEmpty)
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open the work tree of %s: %w", dir, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, Branch)); err != nil {
		return nil, err
	}
	x := &replayer{src: src, dir: dir, repo: repo, wt: wt, pol: pol, opts: opts}
	if bot, ok := pol.PersonByEmail(pol.Bot.Email); ok {
		x.botLogin = bot.Login
	}
	return x, nil
}

// tick moves the clock to the next commit: a minute on, or a minute after
// what the content states. The first commit is at Start.
func (x *replayer) tick(stated time.Time) time.Time {
	if !x.started {
		x.started = true
		x.clock = x.opts.Start
		if stated.Add(time.Minute).After(x.clock) {
			x.clock = stated.Add(time.Minute)
		}
		return x.clock.In(x.pol.Location)
	}
	t := x.clock.Add(time.Minute)
	if !stated.IsZero() && stated.Add(time.Minute).After(t) {
		t = stated.Add(time.Minute)
	}
	x.clock = t
	return t.In(x.pol.Location)
}

// signature is who commits as login ("" for the bot) at t, with their key.
func (x *replayer) signature(login string, t time.Time) (*object.Signature, *openpgp.Entity) {
	if login == "" {
		return &object.Signature{Name: x.pol.Bot.Name, Email: x.pol.Bot.Email, When: t}, x.opts.Sign[x.botLogin]
	}
	pp, _ := x.pol.Person(login)
	return &object.Signature{Name: pp.Name, Email: pp.Email, When: t}, x.opts.Sign[login]
}

func (x *replayer) run(s replayStep) error {
	if s.direct {
		for _, c := range s.commits {
			if err := x.commit(c); err != nil {
				return err
			}
		}
		return nil
	}
	st := x.repo.Storer
	main, err := x.repo.Reference(Branch, true)
	if err != nil {
		return fmt.Errorf("read %s: %w", Branch, err)
	}
	// The branch starts at main, whose tree the work tree already holds:
	// moving HEAD needs no checkout.
	branch := plumbing.NewBranchReferenceName(s.branch)
	if err := st.SetReference(plumbing.NewHashReference(branch, main.Hash())); err != nil {
		return err
	}
	if err := st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, branch)); err != nil {
		return err
	}
	for _, c := range s.commits {
		if err := x.commit(c); err != nil {
			return err
		}
	}
	tip, err := x.repo.Reference(branch, true)
	if err != nil {
		return err
	}
	// The merge's tree is the branch tip's, which the index holds.
	if err := st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, Branch)); err != nil {
		return err
	}
	x.pulls++
	sig, key := x.signature("", x.tick(time.Time{}))
	msg := fmt.Sprintf("Merge pull request #%d from %s\n\n%s\n", x.pulls, s.branch, s.title)
	if _, err := x.wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, SignKey: key,
		Parents: []plumbing.Hash{main.Hash(), tip.Hash()}}); err != nil {
		return fmt.Errorf("merge %s: %w", s.branch, err)
	}
	return st.RemoveReference(branch)
}

func (x *replayer) commit(c replayCommit) error {
	stated := c.at
	paths := c.files
	for _, f := range c.files {
		if err := x.copyFile(f); err != nil {
			return err
		}
	}
	if a := c.approve; a != nil {
		// Decided a minute on, committed a minute after that.
		stated = x.clock.Add(time.Minute)
		p, err := x.writeApproval(a, stated.In(x.pol.Location))
		if err != nil {
			return err
		}
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := x.wt.AddWithOptions(&git.AddOptions{Path: p, SkipStatus: true}); err != nil {
			return fmt.Errorf("add %s: %w", p, err)
		}
	}
	sig, key := x.signature(c.author, x.tick(stated))
	if _, err := x.wt.Commit(c.message+"\n", &git.CommitOptions{Author: sig, Committer: sig, SignKey: key}); err != nil {
		return fmt.Errorf("commit %s: %w", strings.Join(paths, ", "), err)
	}
	return nil
}

// copyFile writes a file of src into the work tree, byte for byte.
func (x *replayer) copyFile(p string) error {
	from := filepath.Join(x.src, filepath.FromSlash(p))
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	info, err := os.Stat(from)
	if err != nil {
		return err
	}
	to := filepath.Join(x.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, info.Mode().Perm()&0o755|0o644)
}

// writeApproval writes approvals/<gate>.<person>.yaml, bound to the digest of
// what the gate guards as the work tree holds it now.
func (x *replayer) writeApproval(a *repoApproval, at time.Time) (string, error) {
	g, _ := x.pol.Gate(a.gate)
	d, _, err := evaluate.Digest(source.Dir{Root: x.dir}, "", g)
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", a.gate, err)
	}
	p := document.ApprovalPath("", a.gate, a.person)
	text := "# yaml-language-server: $schema=../.relgate/schemas/approval.schema.json\n" +
		"apiVersion: " + document.APIVersion + "\n" +
		"kind: " + string(document.KindApproval) + "\n" +
		"gate: " + a.gate + "\n" +
		"person: " + a.person + "\n" +
		"role: " + a.role + "\n" +
		"decision: " + document.DecisionApprove + "\n" +
		"digest: " + d + "\n" +
		"at: \"" + at.Format(time.RFC3339) + "\"\n"
	full := filepath.Join(x.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return "", err
	}
	return p, os.WriteFile(full, []byte(text), 0o644)
}
