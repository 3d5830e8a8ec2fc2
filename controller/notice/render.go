package notice

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/notify"
)

// The texts: one template per event and language; the first line is the
// subject, the rest the body.
//
//go:embed templates/zh/*.tmpl templates/en/*.tmpl
var templateFS embed.FS

var templates = func() map[i18n.Lang]*template.Template {
	out := map[i18n.Lang]*template.Template{}
	for _, l := range i18n.Langs {
		out[l] = template.Must(template.New(string(l)).Option("missingkey=zero").
			ParseFS(templateFS, "templates/"+string(l)+"/*.tmpl"))
	}
	return out
}()

// maxText bounds a notice's body: robots refuse long messages (WeCom at
// 4,096 bytes), and a list of hundreds of held releases helps nobody.
const maxText = 3500

// render writes an event's subject and text in lang.
func render(lang i18n.Lang, event string, data map[string]any) (subject, text string) {
	var b bytes.Buffer
	if err := templates[lang].ExecuteTemplate(&b, event+".tmpl", data); err != nil {
		// The templates are ours and tested for every event; should one
		// still fail, the notice goes out plainly rather than not at all.
		return event + " " + fmt.Sprint(data["Release"]), err.Error()
	}
	s := strings.TrimSpace(b.String())
	subject, text, _ = strings.Cut(s, "\n")
	text = strings.TrimSpace(text)
	if len(text) > maxText {
		cut := maxText
		for cut > 0 && !utf8Start(text[cut]) {
			cut--
		}
		text = text[:cut] + " …"
	}
	return strings.TrimSpace(subject), text
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// view is what the templates read: the event's data with times in the
// policy's timezone, gates and roles in the language and people by name.
func (d *decider) view(lang i18n.Lang, e event, m notify.Message) map[string]any {
	v := map[string]any{"Link": m.Link, "Zone": d.loc.String()}
	for k, x := range e.data {
		switch x := x.(type) {
		case time.Time:
			v[k] = x.In(d.loc).Format("2006-01-02 15:04")
		case []string:
			v[k] = strings.Join(x, lang.T(", ", "、"))
		default:
			v[k] = x
		}
	}
	if g, ok := e.data["Gate"].(string); ok {
		v["Gate"] = i18n.Gate(g).Labelled(lang)
	}
	if missing, ok := e.data["Missing"].([]gate.Requirement); ok {
		var lines []string
		for _, q := range missing {
			role := i18n.Role(q.Role).In(lang)
			if q.Department != "" {
				role += " (" + q.Department + ")"
			}
			who := d.names(lang, q.Eligible)
			if who == "" {
				who = lang.T("nobody who may give it is left", "已无可审批的人")
			}
			lines = append(lines, lang.T(fmt.Sprintf("- %s: %d missing; who may give it: %s", role, q.Missing, who),
				fmt.Sprintf("- %s：缺 %d 份；可审批人：%s", role, q.Missing, who)))
		}
		v["Missing"] = strings.Join(lines, "\n")
	}
	if o, ok := e.data["Outcome"].(string); ok {
		v["Outcome"] = i18n.Outcome(o).In(lang)
	}
	if s, ok := e.data["State"].(string); ok {
		v["State"] = i18n.State(s).In(lang)
	}
	if o, ok := e.data["Owner"].(string); ok {
		v["Owner"] = d.names(lang, []string{o})
	}
	v["To"] = d.names(lang, loginsOf(m.Recipients))
	return v
}

func loginsOf(rs []notify.Recipient) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Login
	}
	return out
}

// names are people as "张伟 (zhangwei)", unknown logins as they are.
func (d *decider) names(lang i18n.Lang, logins []string) string {
	var out []string
	for _, l := range logins {
		if p, ok := d.pol.Person(l); ok && p.Name != "" && p.Name != l {
			out = append(out, p.Name+" ("+l+")")
		} else if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, lang.T(", ", "、"))
}
