package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/quarter"
)

//go:embed templates/*.html assets/*
var files embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"join":    func(s []string) string { return strings.Join(s, " ") },
	"add":     func(a, b int) int { return a + b },
	"short16": short16,
}).ParseFS(files, "templates/*.html"))

// short16 shows an RFC 3339 time to the minute ("2026-11-03T22:00").
func short16(s string) string {
	if len(s) >= 16 {
		return strings.Replace(s[:16], "T", " ", 1)
	}
	return s
}

// With is the page showing other data (a template's part).
func (p *page) With(data any) *page {
	q := *p
	q.Data = data
	return &q
}

// FilterForm is the filter form over rows.
func (p *page) FilterForm(f filters, count int) filterForm {
	return filterForm{P: p, filters: f, Count: count}
}

type filterForm struct {
	P *page
	filters
	Count int
}

// perPage bounds the rows of one list page: every page stays small (the
// issue's 200 KB) however many releases the repository holds.
const perPage = 200

// boardPreview is how many releases of a state the board itself lists.
const boardPreview = 25

// page is what every template sees: the language, where the page is, and
// helpers for links and words.
type page struct {
	L     i18n.Lang
	Path  string
	Title string
	m     *model
	Data  any
}

// T picks the text of the page's language.
func (p *page) T(en, zh string) string { return p.L.T(en, zh) }

// Lang is the page's language code.
func (p *page) Lang() string { return string(p.L) }

// Href links to a page of the same language, given relative to the
// language's folder ("releases/REL-2026-0001.html").
func (p *page) Href(to string) string { return rel(p.Path, string(p.L)+"/"+to) }

// Asset links to a file shared by both languages.
func (p *page) Asset(name string) string { return rel(p.Path, "assets/"+name) }

// Other is the same page in the other language.
func (p *page) Other() string {
	_, rest, _ := strings.Cut(p.Path, "/")
	return rel(p.Path, string(p.other())+"/"+rest)
}

func (p *page) other() i18n.Lang {
	if p.L == i18n.Chinese {
		return i18n.English
	}
	return i18n.Chinese
}

// OtherName is the other language's name, in itself.
func (p *page) OtherName() string {
	if p.other() == i18n.Chinese {
		return "中文"
	}
	return "English"
}

// Commit is the commit the site shows.
func (p *page) Commit() string { return p.m.board.Commit.String() }

// AsOf is the time the pages are as of, in the policy's timezone.
func (p *page) AsOf() string {
	return p.m.now.In(p.m.board.Policy.Location).Format("2006-01-02 15:04 MST")
}

// CommitURL links a commit to the forge; empty without a forge URL.
func (p *page) CommitURL(id string) string {
	if p.m.forge == "" || id == "" {
		return ""
	}
	return p.m.forge + "/commit/" + id
}

// PullURL links a pull request to the forge; empty without a forge URL.
func (p *page) PullURL(n int) string {
	if p.m.forge == "" || n <= 0 {
		return ""
	}
	return fmt.Sprintf("%s/pull/%d", p.m.forge, n)
}

// Short is a commit id's first 12 characters.
func (p *page) Short(s string) string { return shortHash(s) }

// Words of the procedure's vocabulary in the page's language.
func (p *page) State(id string) string   { return i18n.State(id).In(p.L) }
func (p *page) Gate(id string) string    { return i18n.Gate(id).In(p.L) }
func (p *page) Role(id string) string    { return i18n.Role(id).In(p.L) }
func (p *page) Reason(id string) string  { return i18n.Reason(id).In(p.L) }
func (p *page) Outcome(id string) string { return i18n.Outcome(id).In(p.L) }
func (p *page) Type(id string) string    { return i18n.Type(id).In(p.L) }
func (p *page) Test(id string) string    { return i18n.Test(id).In(p.L) }

// Missing is what keeps a gate from passing, one line each.
func (p *page) Missing(r gate.Result) []string { return r.MissingIn(p.L) }

// Ignored is why an approval does not count.
func (p *page) Ignored(ig gate.Ignored) string { return ig.MessageIn(p.L) }

// Violations are the release's documents present ahead of their gate.
func (p *page) Violations(st gate.Status) []string {
	if len(st.ViolationTexts) == len(st.Violations) {
		out := make([]string, len(st.ViolationTexts))
		for i, v := range st.ViolationTexts {
			out[i] = v.In(p.L)
		}
		return out
	}
	return st.Violations
}

// Check is a check's message.
func (p *page) Check(c gate.Check) string { return c.MessageIn(p.L) }

// Join joins words with the language's separator.
func (p *page) Join(s []string) string {
	if p.L == i18n.Chinese {
		return strings.Join(s, "、")
	}
	return strings.Join(s, ", ")
}

// Pct formats a percentage; a dash when there is none.
func (p *page) Pct(f *float64) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", *f)
}

// Person is a login with the person's name when the policy knows it.
func (p *page) Person(login string) string {
	if pp, ok := p.m.board.Policy.Person(login); ok && pp.Name != "" && pp.Name != login {
		return pp.Name + " (" + login + ")"
	}
	return login
}

// Quarters are the quarters that have a page, newest first.
func (p *page) Quarters() []string {
	out := make([]string, len(p.m.quarters))
	for i, q := range p.m.quarters {
		out[i] = q.Quarter
	}
	return out
}

// States are the lifecycle states in order.
var states = []string{gate.StatePlanReview, gate.StateTesting, gate.StateGoLiveApproval, gate.StateReadyToDeploy,
	gate.StateDeployed, gate.StateConfirmed, gate.StateClosed}

// render builds every page of both languages.
func render(m *model, sink func(p string, data []byte) error) (*Site, error) {
	out := &output{sink: sink, mem: map[string][]byte{}}
	for _, name := range []string{"site.css", "site.js"} {
		b, err := files.ReadFile("assets/" + name)
		if err != nil {
			return nil, err
		}
		out.put("assets/"+name, b)
	}
	root := fmt.Sprintf(`<!DOCTYPE html>
<html lang="%[1]s"><head><meta charset="utf-8"><title>relgate</title>
<meta http-equiv="refresh" content="0; url=%[1]s/index.html">
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>relgate</h1><p><a href="zh/index.html">发布看板（中文）</a> · <a href="en/index.html">Release board (English)</a></p></body></html>
`, m.lang)
	out.put("index.html", []byte(root))
	for _, l := range i18n.Langs {
		r := &renderer{m: m, l: l, out: out}
		if err := r.all(); err != nil {
			return nil, err
		}
	}
	if err := m.releases(out); err != nil {
		return nil, err
	}
	if out.err != nil {
		return nil, out.err
	}
	sort.Strings(out.paths)
	return &Site{commit: m.board.Commit, lang: m.lang, files: out.mem, paths: out.paths}, nil
}

// output receives a site's files as they are rendered: into memory, or,
// with a sink, straight out (a site of 10,000 releases is 300 MB of pages).
type output struct {
	mu    sync.Mutex
	sink  func(p string, data []byte) error
	mem   map[string][]byte
	paths []string
	err   error
}

func (f *output) put(p string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = append(f.paths, p)
	if f.sink == nil {
		f.mem[p] = data
		return
	}
	if f.err == nil {
		f.err = f.sink(p, data)
	}
}

// releases renders every release's pages into out: one goroutine reads
// the trails from git (the history reader is not shared), the others
// render both languages' pages of each release as its trail arrives.
func (m *model) releases(out *output) error {
	type job struct {
		rw *row
		tl []audit.Event
	}
	jobs := make(chan job, 64)
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))
	errs := make(chan error, workers+1)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var once sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				// A panic rendering a page fails the build, not the
				// process (serve builds in the background of the gate).
				if v := recover(); v != nil {
					errs <- errorf("rendering a release page: %v", v)
					once.Do(func() { close(stop) })
					for range jobs {
					}
				}
			}()
			var rs []*renderer
			for _, l := range i18n.Langs {
				rs = append(rs, &renderer{m: m, l: l, out: out})
			}
			for j := range jobs {
				for _, r := range rs {
					if err := r.release(j.rw, j.tl); err != nil {
						errs <- err
						once.Do(func() { close(stop) })
						for range jobs {
						}
						return
					}
				}
			}
		}()
	}
	var readErr error
feed:
	for _, rw := range m.rows {
		tl, err := m.trails.Of(rw.ID, rw.Items)
		if err != nil {
			readErr = err
			break
		}
		select {
		case jobs <- job{rw, tl.Events}:
		case <-stop:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	select {
	case err := <-errs:
		return err
	default:
	}
	return nil
}

type renderer struct {
	m   *model
	l   i18n.Lang
	out *output
}

func (r *renderer) put(name, tmpl, title string, data any) error {
	p := &page{L: r.l, Path: string(r.l) + "/" + name, Title: title, m: r.m, Data: data}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, tmpl, p); err != nil {
		return errorf("%s: %v", p.Path, err)
	}
	r.out.put(p.Path, b.Bytes())
	return nil
}

func (r *renderer) all() error {
	l := r.l
	if err := r.board(); err != nil {
		return err
	}
	if err := r.cmdb(); err != nil {
		return err
	}
	if err := r.changes(); err != nil {
		return err
	}
	if err := r.quarters(); err != nil {
		return err
	}
	return r.put("policy.html", "policy", l.T("Policy", "发布策略"), r.m.board)
}

// listing is one page of a list of releases.
type listing struct {
	Heading string
	Rows    []*row
	// Pages link every page of the list; Current is this one's number.
	Pages   []string
	Current int
	Filters filters
}

// filters are the values the board's filter controls offer.
type filters struct {
	Systems, Types, Quarters, People []string
}

func filtersOf(rows []*row) filters {
	var f filters
	for _, rw := range rows {
		f.Systems = append(f.Systems, rw.Systems...)
		f.Types = append(f.Types, rw.Type)
		f.Quarters = append(f.Quarters, rw.Quarter)
		f.People = append(f.People, rw.People...)
	}
	f.Systems, f.Types, f.People = compact(f.Systems), compact(f.Types), compact(f.People)
	f.Quarters = compact(f.Quarters)
	slices.Reverse(f.Quarters)
	return f
}

// attentionFirst orders releases as the board lists them: blocked, then
// live emergency releases with an overdue retrospective (they went live on
// the short procedure and still lack its approvals), then overdue windows,
// then by window start, then id.
func attentionFirst(rows []*row) []*row {
	out := slices.Clone(rows)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Blocked != b.Blocked {
			return a.Blocked
		}
		if ra, rb := len(a.RetroOverdue) > 0, len(b.RetroOverdue) > 0; ra != rb {
			return ra
		}
		if a.Overdue != b.Overdue {
			return a.Overdue
		}
		if a.Window.Start != b.Window.Start {
			return a.Window.Start < b.Window.Start
		}
		return a.ID < b.ID
	})
	return out
}

// boardData is the board: counts per state, the releases needing
// attention, and the first releases of each state.
type boardData struct {
	Counts    []stateCount
	Total     int
	Attention listing
	// AttentionCount is how many releases are blocked, overdue or owe an
	// overdue retrospective; the board shows the first of them.
	AttentionCount int
	Sections       []section
	Warnings       []string
	Filters        filters
}

type stateCount struct {
	State string
	Count int
}

type section struct {
	State string
	Rows  []*row
	Count int
	// More links the full list when the board shows only its start.
	More string
}

func (r *renderer) board() error {
	l := r.l
	byState := map[string][]*row{}
	var attention []*row
	for _, rw := range r.m.rows {
		byState[rw.State] = append(byState[rw.State], rw)
		if rw.Attention() {
			attention = append(attention, rw)
		}
	}
	d := boardData{Total: len(r.m.rows), Warnings: slices.Clone(r.m.board.Warnings)}
	if odd := r.m.oddReleases; len(odd) > 0 {
		d.Warnings = append(d.Warnings, l.T("release folders whose names are no release id are not shown (run relgate validate): ",
			"以下发布文件夹的名称不是发布编号，未予显示（请运行 relgate validate）：")+strings.Join(odd, ", "))
	}
	attention = attentionFirst(attention)
	d.Attention = listing{Heading: l.T("Blocked and overdue", "受阻和逾期"), Rows: attention[:min(len(attention), 2*boardPreview)]}
	d.AttentionCount = len(attention)
	if len(attention) > len(d.Attention.Rows) {
		if err := r.list("attention", d.Attention.Heading, attention); err != nil {
			return err
		}
		d.Attention.Pages = pageNames("attention", len(attention))
	}
	shown := slices.Clone(d.Attention.Rows)
	for _, st := range states {
		rows := attentionFirst(byState[st])
		d.Counts = append(d.Counts, stateCount{State: st, Count: len(rows)})
		if len(rows) == 0 {
			continue
		}
		sec := section{State: st, Count: len(rows), Rows: rows[:min(len(rows), boardPreview)]}
		if st == gate.StateClosed {
			sec.Rows = nil // closed releases are listed on their own page
		}
		if len(sec.Rows) < len(rows) {
			sec.More = "state/" + st + ".html"
		}
		shown = append(shown, sec.Rows...)
		d.Sections = append(d.Sections, sec)
		if err := r.list("state/"+st, r.l.T("State: ", "状态：")+i18n.State(st).In(l), rows); err != nil {
			return err
		}
	}
	d.Filters = filtersOf(shown)
	return r.put("index.html", "board", l.T("Release board", "发布看板"), d)
}

// list writes a list of releases over as many pages as it needs:
// base.html, base-2.html, …
func (r *renderer) list(base, heading string, rows []*row) error {
	names := pageNames(base, len(rows))
	for i, name := range names {
		chunk := rows[i*perPage : min(len(rows), (i+1)*perPage)]
		title := heading
		if len(names) > 1 {
			title = fmt.Sprintf("%s (%d/%d)", heading, i+1, len(names))
		}
		if err := r.put(name, "list", title, listing{Heading: title, Rows: chunk, Pages: names, Current: i, Filters: filtersOf(chunk)}); err != nil {
			return err
		}
	}
	return nil
}

func pageNames(base string, n int) []string {
	count := max(1, (n+perPage-1)/perPage)
	out := make([]string, count)
	for i := range out {
		if i == 0 {
			out[i] = base + ".html"
		} else {
			out[i] = fmt.Sprintf("%s-%d.html", base, i+1)
		}
	}
	return out
}

// Depth-independent link to a page named by pageNames, from a list page.
func (p *page) PageHref(name string) string { return p.Href(name) }

func (r *renderer) cmdb() error {
	l := r.l
	names := pageNames("cmdb/index", len(r.m.items))
	for i, name := range names {
		chunk := r.m.items[i*perPage : min(len(r.m.items), (i+1)*perPage)]
		if err := r.put(name, "cmdb", l.T("Configuration items (CMDB)", "配置项（CMDB）"), cmdbData{Items: chunk, Pages: names, Current: i}); err != nil {
			return err
		}
	}
	for _, it := range r.m.items {
		if err := r.put("cmdb/items/"+it.Item.ID+".html", "item", l.T("Configuration item ", "配置项 ")+it.Item.ID, it); err != nil {
			return err
		}
	}
	return nil
}

type cmdbData struct {
	Items   []*itemView
	Pages   []string
	Current int
}

type changesData struct {
	Changes []*changeView
	Pages   []string
	Current int
}

func (r *renderer) changes() error {
	l := r.l
	names := pageNames("changes", len(r.m.changes))
	for i, name := range names {
		chunk := r.m.changes[i*perPage : min(len(r.m.changes), (i+1)*perPage)]
		if err := r.put(name, "changes", l.T("Change requests", "变更请求"), changesData{Changes: chunk, Pages: names, Current: i}); err != nil {
			return err
		}
	}
	return nil
}

type quarterData struct {
	Report *quarter.Report
	Chart  string
	// Reviews are the quarter's retrospectives and actions, when reviewed.
	Review any
}

func (r *renderer) quarters() error {
	l := r.l
	if err := r.put("quarters/index.html", "quarters", l.T("Quarters", "季度评估"), r.m.quarters); err != nil {
		return err
	}
	for _, rep := range r.m.quarters {
		svg, err := quarter.Write(rep, string(l), "svg")
		if err != nil {
			return err
		}
		chart := "quarters/" + rep.Quarter + ".svg"
		r.out.put(string(l)+"/"+chart, svg)
		d := quarterData{Report: rep, Chart: path.Base(chart)}
		if rv, ok := r.m.board.Snapshot.Reviews()[rep.Quarter]; ok {
			d.Review = rv
		}
		if err := r.put("quarters/"+rep.Quarter+".html", "quarter", l.T("Quarter ", "季度 ")+rep.Quarter, d); err != nil {
			return err
		}
	}
	return nil
}

// releaseData is one release's page.
type releaseData struct {
	Row   *row
	Items []itemChange
	Trail []trailEvent
	// Pulls are the pull requests approvals were given on.
	Pulls []int
}

// itemChange is a configuration item the release changes, before and after.
type itemChange struct {
	ID, Action, Version, Digest string
	// Before is the version and digest the CMDB recorded before this
	// release; Recorded says the CMDB has this release's entry.
	BeforeVersion, BeforeDigest string
	Recorded                    bool
	Item                        *itemView
}

// trailEvent is one commit of the release's trail, with the approvals
// that count whose content it gave.
type trailEvent struct {
	Event  audit.Event
	Counts []voteView
}

func (r *renderer) release(rw *row, tl []audit.Event) error {
	l := r.l
	d := releaseData{Row: rw}
	if rl := rw.Rel.Release; rl != nil {
		for _, it := range rl.Items {
			ic := itemChange{ID: it.ID, Action: it.Action, Version: it.Version, Digest: it.Digest}
			for _, iv := range r.m.items {
				if iv.Item.ID != it.ID {
					continue
				}
				ic.Item = iv
				prev := document.HistoryEntry{Version: iv.Item.Version, Digest: iv.Item.Digest}
				for i, h := range iv.Item.History {
					if h.Release == rw.ID {
						ic.Recorded = true
						prev = document.HistoryEntry{}
						if i > 0 {
							prev = iv.Item.History[i-1]
						}
						break
					}
				}
				ic.BeforeVersion, ic.BeforeDigest = prev.Version, prev.Digest
			}
			d.Items = append(d.Items, ic)
		}
	}
	for _, ev := range tl {
		te := trailEvent{Event: ev}
		for _, v := range rw.Votes {
			if v.Status == "counted" && v.Vote.Commit == ev.Commit {
				te.Counts = append(te.Counts, v)
			}
		}
		d.Trail = append(d.Trail, te)
	}
	for _, v := range rw.Votes {
		if v.Ap.Approval != nil && v.Ap.Forge != nil && !slices.Contains(d.Pulls, v.Ap.Forge.PullNumber) {
			d.Pulls = append(d.Pulls, v.Ap.Forge.PullNumber)
		}
	}
	sort.Ints(d.Pulls)
	title := rw.ID
	if rw.Title != "" {
		title += " " + rw.Title
	}
	p := &page{L: l, Path: string(l) + "/releases/" + rw.ID + ".html", Title: title, m: r.m, Data: d}
	w := &hw{p: p}
	w.releasePage(d)
	r.out.put(p.Path, w.b.Bytes())
	return nil
}

// Via says what authenticated an approval.
func (p *page) Via(v string) string {
	switch v {
	case "signature":
		return p.T("signed commit", "签名提交")
	case "commit-author":
		return p.T("commit author (unauthenticated policy)", "提交作者（策略未要求认证）")
	case "forge":
		return p.T("forge review", "代码平台评审")
	case "base":
		return p.T("already on the protected branch", "已在受保护分支上")
	}
	return v
}

// Signature says a commit's signature state.
func (p *page) Signature(s string) string {
	switch s {
	case audit.SigVerified:
		return "✔ " + p.T("verified", "已验证")
	case audit.SigBad:
		return "✘ " + p.T("does not verify", "验证失败")
	case audit.SigUnverifiable:
		return p.T("signed, no key to check", "已签名，无可核对的公钥")
	}
	return p.T("unsigned", "未签名")
}

// Action says what a commit did to a file.
func (p *page) Action(a string) string {
	switch a {
	case "added":
		return p.T("added", "新增")
	case "deleted":
		return p.T("deleted", "删除")
	}
	return p.T("modified", "修改")
}

// HasRelease says whether the repository has release id (a CMDB entry may
// name one that is gone).
func (p *page) HasRelease(id string) bool { return p.m.byID[id] != nil }

// ChangeStatus says a change request's status.
func (p *page) ChangeStatus(s string) string {
	zh := map[string]string{"submitted": "已提交", "approved": "已批准", "rejected": "已驳回", "implemented": "已实施", "closed": "已关闭"}
	if p.L == i18n.Chinese && zh[s] != "" {
		return zh[s]
	}
	return s
}

// Known is a sentence written elsewhere (a warning) in the page's language
// when the catalogue has it.
func (p *page) Known(s string) string { return p.L.Known(s) }
