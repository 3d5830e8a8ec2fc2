package calview

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/i18n"
)

// JSON writes the model with stable field names and RFC 3339 times in the
// policy's timezone.
func (m *Model) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// agendaEntry is one line of the agenda: a release window, a maintenance
// window's occurrence or a freeze.
type agendaEntry struct {
	Start, End time.Time
	Kind       string // release, window, freeze
	Label      string
	Detail     []string
	Alert      bool
	Link       string
	order      int
}

// agenda is every entry in order of start.
func (m *Model) agenda() []agendaEntry {
	l := i18n.Lang(m.Lang)
	var out []agendaEntry
	for _, r := range m.Releases {
		e := agendaEntry{Start: r.Start, End: r.End, Kind: l.T("release", "发布"), Link: r.Link, order: 0,
			Label: fmt.Sprintf("%s [%s] %s", r.ID, i18n.State(r.State).In(l), r.Title)}
		e.Detail = append(e.Detail, fmt.Sprintf("%s%s · %s%s · %s%s", l.T("type ", "类型 "), i18n.Type(r.Type).In(l),
			l.T("systems ", "系统 "), listOr(r.Systems, l.T("none", "无")), l.T("items ", "配置项 "), listOr(r.Items, l.T("none", "无"))))
		for _, c := range r.Conflicts {
			e.Detail = append(e.Detail, conflictLine(c, l))
			if !c.OK {
				e.Alert = true
			}
		}
		out = append(out, e)
	}
	for _, f := range m.Freezes {
		lab := f.Name
		if f.Unreadable {
			lab = l.T("[unreadable: freezes all time] ", "[无法读取：始终冻结] ") + lab
		}
		out = append(out, agendaEntry{Start: f.Start, End: f.End, Kind: l.T("freeze", "冻结"), Label: lab, Alert: true, order: 1,
			Detail: []string{l.T("reason ", "原因 ") + f.Reason + " · " + l.T("systems ", "系统 ") + list(f.Systems, l)}})
	}
	for _, w := range m.Windows {
		for _, o := range w.Occurrences {
			out = append(out, agendaEntry{Start: o.Start, End: o.End, Kind: l.T("window", "窗口"), order: 2,
				Label: w.Name + " · " + list(w.Systems, l)})
		}
	}
	slices.SortStableFunc(out, func(a, b agendaEntry) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return a.order - b.order
	})
	return out
}

var zhWeekdays = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

func weekday(t time.Time, l i18n.Lang) string {
	if l == i18n.Chinese {
		return zhWeekdays[t.Weekday()]
	}
	return t.Weekday().String()
}

// spanText is "22:00–05:00 EDT" on one day, or with the end's date when it
// ends another day; times in the policy's timezone with its abbreviation.
func spanText(a, b time.Time, loc *time.Location) string {
	a, b = a.In(loc), b.In(loc)
	end := b.Format("15:04 MST")
	if a.Format(time.DateOnly) != b.Format(time.DateOnly) {
		end = b.Format("01-02 15:04 MST")
	}
	return a.Format("15:04 MST") + " – " + end
}

// Text writes a readable agenda, day by day, in the model's language and
// the policy's timezone.
func (m *Model) Text(w io.Writer) error {
	l := i18n.Lang(m.Lang)
	loc := m.Location()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s – %s (%s)\n", l.T("Change calendar", "变更日历"), m.From.Format(time.DateOnly), m.To.Format(time.DateOnly), m.Timezone)
	fmt.Fprintf(&b, "%s: %d · %s: %d · %s: %d\n", l.T("release windows", "发布窗口"), len(m.Releases),
		l.T("maintenance windows", "维护窗口"), len(m.Windows), l.T("freezes", "冻结期"), len(m.Freezes))
	if len(m.Windows) > 0 {
		b.WriteString("\n" + l.T("Maintenance windows", "维护窗口") + "\n")
		for _, w := range m.Windows {
			rec := w.Recurrence
			if !w.Readable {
				rec += " — " + l.T("cannot be read: never opens, its systems stay restricted", "无法读取：永不开启，其系统仍受限制")
			}
			fmt.Fprintf(&b, "  %s · %s · %s · %s\n", w.Name, list(w.Systems, l), rec,
				fmt.Sprintf(l.T("%d occurrences in range", "范围内 %d 次"), len(w.Occurrences)))
		}
	}
	b.WriteString("\n" + l.T("Agenda", "日程") + "\n")
	entries := m.agenda()
	if len(entries) == 0 {
		b.WriteString("  " + l.T("nothing in this range", "此范围内没有安排") + "\n")
	}
	day := ""
	for _, e := range entries {
		d := e.Start.In(loc).Format(time.DateOnly)
		if d != day {
			day = d
			fmt.Fprintf(&b, "%s %s\n", d, weekday(e.Start.In(loc), l))
		}
		mark := " "
		if e.Alert {
			mark = "!"
		}
		fmt.Fprintf(&b, " %s %s  %-7s %s\n", mark, spanText(e.Start, e.End, loc), e.Kind, e.Label)
		for _, d := range e.Detail {
			fmt.Fprintf(&b, "      %s\n", d)
		}
		if e.Link != "" {
			fmt.Fprintf(&b, "      %s\n", e.Link)
		}
	}
	if len(m.Unscheduled) > 0 {
		b.WriteString("\n" + l.T("Releases without a readable window (on no day)", "窗口无法读取的发布（不在任何日期）") + "\n")
		for _, u := range m.Unscheduled {
			fmt.Fprintf(&b, "  %s [%s] %s\n", u.ID, i18n.State(u.State).In(l), u.Title)
		}
	}
	if m.Truncated {
		b.WriteString("\n" + l.T("The calendar was cut short by its bounds; narrow --from and --to.", "日历超出上限被截断；请缩小 --from 与 --to 的范围。") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// HTML writes one self-contained page: no script, no request elsewhere,
// every text escaped by html/template.
func (m *Model) HTML(w io.Writer) error {
	l := i18n.Lang(m.Lang)
	loc := m.Location()
	type row struct {
		Day, When, Kind, Label string
		Detail                 []string
		Alert                  bool
		Link                   template.URL
	}
	var rows []row
	for _, e := range m.agenda() {
		r := row{Day: e.Start.In(loc).Format(time.DateOnly) + " " + weekday(e.Start.In(loc), l), When: spanText(e.Start, e.End, loc),
			Kind: e.Kind, Label: e.Label, Detail: e.Detail, Alert: e.Alert}
		if e.Link != "" {
			r.Link = template.URL(e.Link) // WithLinks admits only http(s) roots
		}
		rows = append(rows, r)
	}
	data := map[string]any{
		"Lang":  m.Lang,
		"Title": fmt.Sprintf("%s %s – %s", l.T("Change calendar", "变更日历"), m.From.Format(time.DateOnly), m.To.Format(time.DateOnly)),
		"TZ":    m.Timezone, "Rows": rows, "M": m,
		"T": map[string]string{
			"when": l.T("When", "时间"), "what": l.T("What", "内容"), "kind": l.T("Kind", "类别"),
			"windows": l.T("Maintenance windows", "维护窗口"), "none": l.T("Nothing in this range.", "此范围内没有安排。"),
			"tz": l.T("Times in", "时区"), "unsched": l.T("Releases without a readable window", "窗口无法读取的发布"),
			"unreadable": l.T("cannot be read: never opens", "无法读取：永不开启"), "trunc": l.T("Cut short by the calendar's bounds.", "超出上限，已截断。"),
			"page": l.T("release page", "发布页面"),
		},
		"List": func(s []string) string { return list(s, l) },
	}
	return pageTmpl.Execute(w, data)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>{{.Title}}</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
tr.day td{background:#f4f4f4;font-weight:600}tr.alert td.what{color:#a00}
.detail{color:#555;font-size:.9em;margin:0}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.T.tz}} {{.TZ}}</p>
{{if .M.Windows}}<h2>{{.T.windows}}</h2>
<ul>{{range .M.Windows}}<li>{{.Name}} · {{call $.List .Systems}} · {{.Recurrence}}{{if not .Readable}} — {{$.T.unreadable}}{{end}}</li>{{end}}</ul>{{end}}
{{if .Rows}}<table>
<thead><tr><th>{{.T.when}}</th><th>{{.T.kind}}</th><th>{{.T.what}}</th></tr></thead>
<tbody>{{$day := ""}}{{range .Rows}}{{if ne .Day $day}}{{$day = .Day}}<tr class="day"><td colspan="3">{{.Day}}</td></tr>{{end}}
<tr{{if .Alert}} class="alert"{{end}}><td>{{.When}}</td><td>{{.Kind}}</td><td class="what">{{.Label}}{{range .Detail}}<p class="detail">{{.}}</p>{{end}}{{if .Link}}<p class="detail"><a href="{{.Link}}">{{$.T.page}}</a></p>{{end}}</td></tr>{{end}}
</tbody></table>{{else}}<p>{{.T.none}}</p>{{end}}
{{if .M.Unscheduled}}<h2>{{.T.unsched}}</h2><ul>{{range .M.Unscheduled}}<li>{{.ID}} {{.Title}}</li>{{end}}</ul>{{end}}
{{if .M.Truncated}}<p>{{.T.trunc}}</p>{{end}}
</body>
</html>
`))
