package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// hw writes a page's HTML: the release pages, which are most of a site's
// pages, are written by Go rather than html/template (forty times faster:
// a site of 10,000 releases has 20,000 of them). Everything from documents
// goes through text or attr; links to elsewhere through safeURL.
type hw struct {
	b bytes.Buffer
	p *page
}

func (w *hw) raw(s string) { w.b.WriteString(s) }

// text writes s escaped for HTML text and attribute values, clipped at
// maxText bytes: no field of a document needs more on a page, and a page
// stays small whatever a document holds.
func (w *hw) text(s string) { w.b.WriteString(html.EscapeString(clip(s))) }

// maxText bounds one text on a page; maxRows one table of a document.
const (
	maxText = 4000
	maxRows = 100
	// maxVotes bounds the approvals table (each row says why it counts),
	// maxMissing what a gate lists as missing (a rejection each).
	maxVotes   = 50
	maxMissing = 20
)

// clip cuts s at maxText bytes, at a character's start, saying so.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	i := maxText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + " …"
}

// more writes, under a table cut at maxRows, how many rows the page leaves
// out and where they are.
func (w *hw) more(total int, where string) { w.moreThan(total, maxRows, where) }

func (w *hw) moreThan(total, shown int, where string) {
	if total <= shown {
		return
	}
	w.raw(`<p class="muted">`)
	w.text(w.p.L.Sprintf("%s more not shown here; see %s", fmt.Sprint(total-shown), where))
	w.raw("</p>\n")
}

// t writes the page language's text, escaped.
func (w *hw) t(en, zh string) { w.text(w.p.L.T(en, zh)) }

// tag writes <name attrs>text</name> with text escaped.
func (w *hw) tag(open, text, close string) {
	w.raw(open)
	w.text(text)
	w.raw(close)
}

// link writes <a href>text</a>; href is already safe (relative, or checked).
func (w *hw) link(href, text string) {
	if href == "" {
		w.text(text)
		return
	}
	w.raw(`<a href="`)
	w.text(href)
	w.raw(`">`)
	w.text(text)
	w.raw(`</a>`)
}

// code writes a short id in <code> with the whole one as its title.
func (w *hw) code(full, class string) {
	if full == "" {
		return
	}
	w.raw(`<code`)
	if class != "" {
		w.raw(` class="` + class + `"`)
	}
	w.raw(` title="`)
	w.text(full)
	w.raw(`">`)
	w.text(shortHash(full))
	w.raw(`</code>`)
}

// fact writes one <dt>/<dd> pair with text escaped.
func (w *hw) fact(en, zh, value string) {
	w.raw("<dt>")
	w.t(en, zh)
	w.raw("</dt><dd>")
	w.text(value)
	w.raw("</dd>\n")
}

// th writes a table head row of translated headers.
func (w *hw) th(pairs ...string) {
	w.raw("<thead><tr>")
	for i := 0; i+1 < len(pairs); i += 2 {
		w.raw(`<th scope="col">`)
		w.t(pairs[i], pairs[i+1])
		w.raw("</th>")
	}
	w.raw("</tr></thead>\n")
}

func (w *hw) td(s string) {
	w.raw("<td>")
	w.text(s)
	w.raw("</td>")
}

func (w *hw) itoa(n int) string { return strconv.Itoa(n) }

// safeURL is u when it is an absolute http(s) address, else "": a document
// may hold any text where a link is expected.
func safeURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return ""
	}
	return u
}

// Head is the start of every page: the header with the navigation and the
// language link, and the opening of main.
func (p *page) Head() template.HTML {
	w := &hw{p: p}
	w.head()
	return template.HTML(w.b.String())
}

// Foot is the end of every page.
func (p *page) Foot() template.HTML {
	w := &hw{p: p}
	w.foot()
	return template.HTML(w.b.String())
}

func (w *hw) head() {
	p := w.p
	other := string(p.other())
	w.raw("<!DOCTYPE html>\n<html lang=\"" + p.Lang() + "\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	w.text(p.Title)
	w.raw(" · relgate</title>\n<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"" + p.Asset("site.css") + "\">\n</head>\n<body>\n<header class=\"top\">\n")
	w.raw(`<a class="brand" href="` + p.Href("index.html") + `">relgate</a>` + "\n")
	w.raw(`<nav aria-label="`)
	w.t("Pages", "页面")
	w.raw(`">` + "\n")
	for _, n := range []struct{ to, en, zh string }{
		{"index.html", "Board", "发布看板"},
		{"cmdb/index.html", "CMDB", "配置管理数据库"},
		{"changes.html", "Changes", "变更请求"},
		{"quarters/index.html", "Quarters", "季度评估"},
		{"policy.html", "Policy", "发布策略"},
	} {
		w.link(p.Href(n.to), p.T(n.en, n.zh))
		w.raw("\n")
	}
	w.raw("</nav>\n")
	w.raw(`<a class="lang" href="` + p.Other() + `" hreflang="` + other + `" lang="` + other + `">` + p.OtherName() + "</a>\n</header>\n<main>\n")
}

func (w *hw) foot() {
	p := w.p
	w.raw("</main>\n<footer>")
	w.t("As of", "截至")
	w.raw(" ")
	w.text(p.AsOf())
	w.raw(" · ")
	w.t("commit", "提交")
	w.raw(" ")
	if u := p.CommitURL(p.Commit()); u != "" {
		w.raw(`<a href="`)
		w.text(u)
		w.raw(`">`)
		w.code(p.Commit(), "")
		w.raw("</a>")
	} else {
		w.code(p.Commit(), "")
	}
	w.raw(" · ")
	w.t("Generated by relgate from the release repository; what counts is decided by the policy in force at this commit.",
		"由 relgate 根据发布仓库生成；哪些审批有效由本提交时生效的发布策略决定。")
	w.raw("</footer>\n<script src=\"" + p.Asset("site.js") + "\"></script>\n</body>\n</html>\n")
}

// joinPeople is logins with their names, joined as the language joins.
func (p *page) joinPeople(logins []string) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = p.Person(l)
	}
	return p.Join(out)
}

// jsonList is a row's filter values as site.js reads them: a JSON list,
// so a value may hold spaces (system names do).
func jsonList(vs ...string) string {
	if len(vs) == 1 && vs[0] == "" {
		vs = nil
	}
	if vs == nil {
		vs = []string{}
	}
	b, _ := json.Marshal(vs)
	return string(b)
}

// Rows is the table of releases the board and the lists show; each row
// carries what the filters match (data-system, -type, -quarter, -people).
func (p *page) Rows(rows []*row) template.HTML {
	w := &hw{p: p}
	w.rows(rows)
	return template.HTML(w.b.String())
}

func (w *hw) rows(rows []*row) {
	p := w.p
	w.raw(`<div class="wide"><table class="rows sortable">` + "\n")
	w.th("Release", "发布", "Type", "类型", "Systems", "系统", "Window", "发布窗口", "State", "状态", "Waits for", "等待")
	w.raw("<tbody>\n")
	for _, rw := range rows {
		w.raw(`<tr data-system="`)
		w.text(jsonList(rw.Systems...))
		w.raw(`" data-type="`)
		w.text(jsonList(rw.Type))
		w.raw(`" data-quarter="`)
		w.text(jsonList(rw.Quarter))
		w.raw(`" data-people="`)
		w.text(jsonList(rw.People...))
		w.raw(`">` + "\n" + `<td data-sort="`)
		w.text(rw.ID)
		w.raw(`">`)
		w.link(p.Href("releases/"+rw.ID+".html"), rw.ID)
		w.raw(" ")
		w.text(rw.Title)
		if rw.Blocked {
			w.tag(` <span class="badge bad">`, p.T("blocked", "受阻"), "</span>")
		}
		if rw.Overdue {
			w.tag(` <span class="badge warn">`, p.T("overdue", "逾期"), "</span>")
		}
		if len(rw.RetroOverdue) > 0 {
			w.tag(` <span class="badge bad">`, p.RetroOverdue(rw), "</span>")
		}
		w.raw("</td>\n")
		w.td(p.Type(rw.Type))
		w.td(p.Join(rw.Systems))
		w.raw(`<td data-sort="`)
		w.text(rw.Window.Start)
		w.raw(`">`)
		w.text(short16(rw.Window.Start))
		if rw.Window.End != "" {
			w.text(" – " + short16(rw.Window.End))
		}
		w.raw("</td>\n")
		w.tag(`<td class="nowrap">`, p.State(rw.State), "</td>\n<td>")
		switch {
		case rw.Waiting != nil:
			w.text(p.Gate(rw.Waiting.Gate))
			if ms := p.Missing(*rw.Waiting); len(ms) > 0 {
				w.list("ul", ms)
			}
		case rw.State == "closed":
			w.raw("—")
		default:
			w.t("deployment record", "部署记录")
		}
		w.raw("</td>\n</tr>\n")
	}
	w.raw("</tbody></table></div>")
}
