package site

import (
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
)

// releasePage writes a release's page: its facts, gates, every approval
// and what it counts for, its documents, its CMDB items and its trail.
func (w *hw) releasePage(d releaseData) {
	p, rw := w.p, d.Row
	w.head()
	w.raw("<h1>")
	w.text(rw.ID + " " + rw.Title)
	w.raw("</h1>\n<p>")
	cls := "badge"
	if rw.State == "closed" {
		cls += " ok"
	}
	w.tag(`<span class="`+cls+`">`, p.State(rw.State), "</span>")
	if rw.Blocked {
		w.tag(` <span class="badge bad">`, p.T("blocked", "受阻"), "</span>")
	}
	if rw.Overdue {
		w.tag(` <span class="badge warn">`, p.T("overdue: the window began without a deployment record", "逾期：发布窗口已开始但没有部署记录"), "</span>")
	}
	if len(rw.RetroOverdue) > 0 {
		w.tag(` <span class="badge bad">`, p.RetroOverdue(rw), "</span>")
	}
	if rw.Waiting != nil {
		w.raw(" · ")
		w.t("waits for", "等待")
		w.raw(" ")
		w.text(p.Gate(rw.Waiting.Gate))
	}
	w.raw("</p>\n")
	if rl := rw.Rel.Release; rl != nil {
		w.raw(`<dl class="facts">` + "\n")
		w.fact("Type", "发布类型", p.Type(rl.Type))
		w.fact("Systems", "涉及系统", p.Join(rl.Systems))
		w.fact("Window", "发布窗口", short16(rl.Window.Start)+" – "+short16(rl.Window.End))
		w.fact("Owner", "发布负责人", p.Person(rl.People.Owner))
		w.fact("Manager", "发布经理", p.Person(rl.People.Manager))
		w.fact("Testers", "测试人员", p.joinPeople(rl.People.Testers))
		w.fact("Implementers", "实施人员", p.joinPeople(rl.People.Implementers))
		w.fact("Customer representative", "客户代表", p.Person(rl.People.CustomerRepresentative))
		w.fact("Departments", "涉及部门", p.Join(rl.Departments))
		w.raw("<dt>")
		w.t("Change requests", "变更请求")
		w.raw("</dt><dd>")
		for i, c := range rl.Changes {
			if i > 0 {
				w.raw(", ")
			}
			if u := safeURL(c.URL); u != "" {
				w.link(u, c.ID)
			} else {
				w.link(p.changeHref(c.ID), c.ID)
			}
		}
		w.raw("</dd>\n")
		w.fact("Created", "创建时间", short16(rl.CreatedAt))
		if len(d.Pulls) > 0 {
			w.raw("<dt>")
			w.t("Pull requests", "合并请求")
			w.raw("</dt><dd>")
			for i, n := range d.Pulls {
				if i > 0 {
					w.raw(", ")
				}
				w.link(p.PullURL(n), "#"+w.itoa(n))
			}
			w.raw("</dd>\n")
		}
		w.raw("</dl>\n")
	} else {
		w.tag(`<p class="bad">`, p.T("release.yaml is missing or invalid.", "release.yaml 缺失或无效。"), "</p>\n")
	}
	if vs := p.Violations(rw.St); len(vs) > 0 {
		w.raw(`<div class="warnings" role="note"><strong>`)
		w.t("Documents ahead of their gate:", "在审批通过前出现的文件：")
		w.raw(`</strong><ul class="tight">`)
		for _, v := range vs {
			w.tag("<li>", v, "</li>")
		}
		w.raw("</ul></div>\n")
	}
	w.gates(rw)
	w.retrospectives(rw)
	w.votes(rw)
	w.documents(rw)
	w.items(d)
	w.trail(d)
	w.foot()
}

// changeHref links a change request known to the repository.
func (p *page) changeHref(id string) string {
	name, ok := p.m.changePage[id]
	if !ok {
		return ""
	}
	return p.Href(name) + "#" + id
}

func (w *hw) gates(rw *row) {
	p := w.p
	w.raw(`<h2 id="gates">`)
	w.t("Gates and approvals", "关卡与审批")
	w.raw("</h2>\n<div class=\"wide\"><table>\n")
	w.th("Gate", "关卡", "Result", "结果", "Approved by", "已审批", "Still needed", "仍需要")
	w.raw("<tbody>")
	for _, g := range rw.St.Gates {
		w.raw("<tr><td>")
		w.text(p.Gate(g.Gate))
		if g.Clause != "" {
			w.tag(` <span class="muted">`, g.Clause, "</span>")
		}
		if g.Digest != "" {
			w.raw("<br>")
			w.code(g.Digest, "muted")
		}
		w.raw(`</td><td class="nowrap">`)
		if g.Passed {
			w.tag(`<span class="ok">✔ `, p.T("passed", "通过"), "</span>")
		} else {
			w.tag(`<span class="warn">… `, p.T("not passed", "未通过"), "</span>")
		}
		w.raw("</td><td>")
		for _, q := range g.Requirements {
			if len(q.Approved) == 0 {
				continue
			}
			w.raw("<div>")
			role := p.Role(q.Role)
			if q.Department != "" {
				role += " (" + q.Department + ")"
			}
			w.text(role + ": " + p.joinPeople(q.Approved))
			w.raw("</div>")
		}
		w.raw("</td><td>")
		if ms := p.Missing(g); len(ms) > 0 {
			w.raw(`<ul class="tight">`)
			for _, m := range ms[:min(len(ms), maxMissing)] {
				w.tag("<li>", m, "</li>")
			}
			w.raw("</ul>")
			w.moreThan(len(ms), maxMissing, "relgate status "+rw.ID)
		} else {
			w.raw("—")
		}
		w.raw("</td></tr>\n")
	}
	w.raw("</tbody></table></div>\n")
}

func (w *hw) votes(rw *row) {
	p := w.p
	w.raw(`<h3 id="approvals">`)
	w.t("Every approval recorded, and what it counts for", "全部审批记录及其效力")
	w.raw("</h3>\n")
	if len(rw.Votes) == 0 {
		w.tag(`<p class="muted">`, p.T("No approval is recorded yet.", "尚无审批记录。"), "</p>\n")
		return
	}
	w.raw("<div class=\"wide\"><table>\n")
	w.th("Gate", "关卡", "Person", "审批人", "Decision", "决定", "Given", "时间", "Authenticated by", "认证方式", "Commit", "提交", "Counts?", "是否有效")
	w.raw("<tbody>")
	for _, v := range rw.Votes[:min(len(rw.Votes), maxVotes)] {
		w.raw("<tr>\n<td>")
		w.text(p.Gate(v.Ap.FileGate))
		w.raw("</td>\n<td>")
		w.text(p.Person(v.Ap.FilePerson))
		if v.Vote.Role != "" {
			w.tag(` <span class="muted">(`, p.Role(v.Vote.Role), ")</span>")
		}
		w.raw("</td>\n<td>")
		switch v.Vote.Decision {
		case document.DecisionReject:
			w.tag(`<span class="bad">`, p.T("rejects", "否决"), "</span>")
		case "":
		default:
			w.t("approves", "同意")
		}
		if v.Vote.Comment != "" {
			w.tag(`<br><span class="muted">`, v.Vote.Comment, "</span>")
		}
		w.raw("</td>\n<td>")
		w.text(short16(v.Vote.At))
		w.raw("</td>\n<td>")
		if v.Vote.AuthVia != "" {
			w.text(p.Via(v.Vote.AuthVia))
		} else {
			w.tag(`<span class="bad">`, p.T("not authenticated", "未认证"), "</span>")
		}
		if v.Vote.AuthProblem != "" {
			w.tag(`<br><span class="muted">`, v.Vote.AuthProblem, "</span>")
		}
		w.raw("</td>\n<td>")
		if c := v.Vote.Commit; c != "" {
			if u := p.CommitURL(c); u != "" {
				w.raw(`<a href="`)
				w.text(u)
				w.raw(`">`)
				w.code(c, "")
				w.raw("</a>")
			} else {
				w.code(c, "")
			}
		}
		w.raw("</td>\n<td>")
		switch v.Status {
		case "counted":
			w.tag(`<span class="ok">✔ `, p.T("counts", "有效"), "</span>")
		case "rejection":
			w.tag(`<span class="bad">✘ `, p.T("blocks the gate", "阻止该关卡"), "</span>")
		default:
			w.tag(`<span class="warn">✘ `, p.Reason(v.Status), "</span>")
			if v.Ignored != nil {
				w.raw("<br>")
				w.text(p.Ignored(*v.Ignored))
			}
			if len(v.Vote.ChangedSince) > 0 {
				w.raw("<br>")
				w.text(p.T("changed since:", "此后变更：") + " " + p.Join(v.Vote.ChangedSince))
			}
		}
		w.raw("</td>\n</tr>\n")
	}
	w.raw("</tbody></table></div>\n")
	w.moreThan(len(rw.Votes), maxVotes, "relgate status "+rw.ID)
}

func (w *hw) items(d releaseData) {
	p := w.p
	w.raw(`<h2 id="cmdb">`)
	w.t("Configuration items it changes", "本发布变更的配置项")
	w.raw("</h2>\n")
	if len(d.Items) == 0 {
		w.tag(`<p class="muted">`, p.T("None.", "无。"), "</p>\n")
		return
	}
	w.raw("<div class=\"wide\"><table>\n")
	w.th("Item", "配置项", "Action", "操作", "Before", "变更前", "After (this release)", "变更后（本发布）", "CMDB now", "CMDB 当前")
	w.raw("<tbody>")
	for _, it := range d.Items {
		w.raw("<tr><td>")
		if it.Item != nil {
			w.link(p.Href("cmdb/items/"+it.ID+".html"), it.ID)
		} else {
			w.text(it.ID)
			w.tag(` <span class="bad">`, p.T("(not in the CMDB)", "（CMDB 中没有）"), "</span>")
		}
		w.raw("</td>")
		w.td(it.Action)
		w.raw("<td>")
		w.text(it.BeforeVersion)
		if it.BeforeDigest != "" {
			w.raw("<br>")
			w.code(it.BeforeDigest, "muted")
		}
		w.raw("</td><td>")
		w.text(it.Version)
		if it.Digest != "" {
			w.raw("<br>")
			w.code(it.Digest, "muted")
		}
		w.raw("</td><td>")
		if it.Item != nil {
			w.text(it.Item.Item.Version)
			if it.Item.Item.Digest != "" {
				w.raw("<br>")
				w.code(it.Item.Item.Digest, "muted")
			}
		}
		if it.Recorded {
			w.tag(`<br><span class="ok">`, p.T("recorded for this release", "已记录本发布"), "</span>")
		} else {
			w.tag(`<br><span class="muted">`, p.T("not yet recorded (R-5.1.9)", "尚未记录（R-5.1.9）"), "</span>")
		}
		w.raw("</td></tr>\n")
	}
	w.raw("</tbody></table></div>\n")
}

func (w *hw) trail(d releaseData) {
	p := w.p
	w.raw(`<h2 id="trail">`)
	w.t("Trail in git history", "Git 历史中的轨迹")
	w.raw("</h2>\n")
	w.tag(`<p class="meta noprint">`, p.T("Every commit that touched the release or the CMDB records of its items (R-3.2). For its state at each commit: relgate audit ",
		"触及本发布或其配置项 CMDB 记录的每个提交（R-3.2）。每个提交时的状态见：relgate audit ")+d.Row.ID, "</p>\n")
	if len(d.Trail) == 0 {
		w.tag(`<p class="muted">`, p.T("No commit touched it yet.", "尚无提交。"), "</p>\n")
		return
	}
	w.raw("<div class=\"wide\"><table>\n")
	w.th("When", "时间", "Commit", "提交", "Author", "作者", "Signature", "签名", "Files", "文件", "Approvals it gave that count", "其中有效的审批")
	w.raw("<tbody>")
	trail := d.Trail
	if len(trail) > maxRows {
		trail = trail[len(trail)-maxRows:] // the latest
	}
	for _, te := range trail {
		ev := te.Event
		w.raw("<tr>")
		w.td(short16(ev.Author.Time))
		w.raw("<td>")
		if u := p.CommitURL(ev.Commit); u != "" {
			w.raw(`<a href="`)
			w.text(u)
			w.raw(`">`)
			w.code(ev.Commit, "")
			w.raw("</a>")
		} else {
			w.code(ev.Commit, "")
		}
		w.raw("<br>")
		w.text(ev.Subject)
		w.raw("</td><td>")
		if ev.Author.Login != "" {
			w.text(p.Person(ev.Author.Login))
		} else {
			w.text(ev.Author.Name)
		}
		if ev.Author.Email != ev.Committer.Email {
			by := ev.Committer.Name
			if ev.Committer.Login != "" {
				by = p.Person(ev.Committer.Login)
			}
			w.tag(`<br><span class="muted">`, p.T("committed by", "提交者")+" "+by, "</span>")
		}
		w.raw("</td>")
		w.td(p.Signature(ev.Signature))
		w.raw(`<td><ul class="tight">`)
		for _, c := range ev.Changes[:min(len(ev.Changes), maxMissing)] {
			w.raw("<li>")
			w.tag("<code>", c.Path, "</code> ")
			w.text(p.Action(c.Action))
			w.raw("</li>")
		}
		for _, dd := range ev.Deployments {
			w.raw("<li>")
			word := p.T("refused", "拒绝")
			if dd.Allowed {
				word = p.T("allowed", "允许")
			}
			w.text(p.T("deployment decision", "部署决定") + ": " + dd.Environment + " " + word)
			w.raw("</li>")
		}
		w.raw("</ul>")
		w.moreThan(len(ev.Changes), maxMissing, "git show "+shortHash(ev.Commit))
		w.raw("</td><td>")
		for _, v := range te.Counts[:min(len(te.Counts), maxMissing)] {
			w.tag("<div>", p.Gate(v.Ap.FileGate)+": "+p.Person(v.Ap.FilePerson), "</div>")
		}
		w.raw("</td></tr>\n")
	}
	w.raw("</tbody></table></div>\n")
	w.more(len(d.Trail), "relgate audit "+d.Row.ID)
}

// RetroOverdue names the retrospective gates a release has not passed by
// their due date: "retrospective overdue: plan review, test acceptance".
func (p *page) RetroOverdue(rw *row) string {
	names := make([]string, len(rw.RetroOverdue))
	for i, r := range rw.RetroOverdue {
		names[i] = p.Gate(r.Gate)
	}
	return p.T("retrospective overdue: ", "事后审批逾期：") + p.Join(names)
}

// retrospectives lists the gates an emergency release went live without:
// each passed, owed by its due date, or overdue as of the site's now
// (R-5.1; the row's status is gate.Status.At that time).
func (w *hw) retrospectives(rw *row) {
	rs := rw.St.Retrospectives
	if len(rs) == 0 {
		return
	}
	p := w.p
	w.raw(`<h2 id="retrospectives">`)
	w.t("Retrospective approvals", "事后审批")
	w.raw("</h2>\n")
	w.tag(`<p class="meta">`, p.T("This emergency release went live on the short procedure; these gates are owed after the fact, each by a set number of days after its deployment (R-5.1).",
		"本紧急发布按简化程序上线；以下关卡须事后补齐，期限为部署完成后规定的天数内（R-5.1）。"), "</p>\n")
	w.raw("<div class=\"wide\"><table class=\"retrospectives\">\n")
	w.th("Gate", "关卡", "Due", "期限", "Standing", "状态")
	w.raw("<tbody>")
	for _, r := range rs {
		w.raw("<tr>")
		w.td(p.Gate(r.Gate))
		w.raw(`<td class="nowrap">`)
		w.text(p.due(r))
		w.raw(`</td><td class="nowrap">`)
		w.retroStanding(r)
		w.raw("</td></tr>\n")
	}
	w.raw("</tbody></table></div>\n")
}

// due is when a retrospective gate must have passed, to the minute.
func (p *page) due(r gate.Retrospective) string {
	if r.Due == "" {
		return p.T("counted from the deployment record, which is not there yet", "自部署记录起算，尚无部署记录")
	}
	if _, err := document.ParseTime(r.Due); err != nil {
		return p.T("the deployment's finishedAt cannot be read", "部署记录的 finishedAt 无法读取")
	}
	return short16(r.Due)
}

func (w *hw) retroStanding(r gate.Retrospective) {
	p := w.p
	switch {
	case r.Passed:
		w.tag(`<span class="ok">✔ `, p.T("passed", "已通过"), "</span>")
	case r.Overdue:
		w.tag(`<span class="badge bad">`, p.T("OVERDUE", "已逾期"), "</span>")
	default:
		w.tag(`<span class="warn">… `, p.T("owed", "待补"), "</span>")
	}
}
