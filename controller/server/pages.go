// This file serves the result page a commit status or check run links to:
// the whole reason, where GitHub's 140-character description holds only
// its start. The link carries a token derived from the webhook secret, so
// the page is for whoever GitHub showed the status to.

package server

import (
	"crypto/subtle"
	"fmt"
	"html"
	"net/http"
	"strings"
)

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sub := subject{head: q.Get("head"), base: q.Get("base")}
	if len(sub.head) != 40 || sub.base == "" || len(sub.base) > 255 ||
		subtle.ConstantTimeCompare([]byte(q.Get("t")), []byte(s.resultToken(sub))) != 1 {
		http.Error(w, "no such result / 没有这个结果", http.StatusNotFound)
		return
	}
	rs := s.group(sub)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	title := fmt.Sprintf("relgate/%s @ %s", sub.base, sub.head[:12])
	fmt.Fprintf(&b, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#f6f8fa;padding:.75rem;border-radius:6px}.passed{color:#1a7f37}.blocked,.error{color:#cf222e}.pending{color:#9a6700}</style></head><body>
<h1>%s</h1>`, html.EscapeString(title), html.EscapeString(title))
	if len(rs) == 0 {
		b.WriteString("<p>Not evaluated since this server started; the next event or the resync job evaluates it. / 本服务启动后尚未评估此提交；下一个事件或定时同步会评估它。</p>")
	} else {
		worst := strictest(rs)
		fmt.Fprintf(&b, `<p>Result / 结果: <strong class="%s">%s</strong></p>`, worst.out, html.EscapeString(worst.title))
		for _, pr := range rs {
			fmt.Fprintf(&b, `<h2>#%d · %s · <span class="%s">%s</span></h2>`, pr.pr.Number, html.EscapeString(pr.pr.Author), pr.out, pr.out)
			fmt.Fprintf(&b, "<p>evaluated / 评估于 %s</p><pre>%s</pre>", pr.at.UTC().Format("2006-01-02 15:04:05Z"), html.EscapeString(pr.summary))
		}
	}
	b.WriteString("</body></html>\n")
	w.Write([]byte(b.String()))
}
