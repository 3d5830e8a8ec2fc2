package site

import (
	"github.com/relgate/relgate/controller/document"
)

// documents writes the release's documents, readably, each under the name
// the procedure gives it.
func (w *hw) documents(rw *row) {
	rl := rw.Rel
	w.docHead("plan", "Release plan", "发布方案", "plan.yaml · R-5.1.1")
	if pl := rl.Plan; pl != nil {
		w.plan(pl)
	} else {
		w.notYet("Not written yet.", "尚未编写。")
	}
	w.docHead("test", "Test report and acceptance", "发布测试报告与验收", "test-report.yaml · R-5.1.4")
	if tr := rl.TestReport; tr != nil {
		w.testReport(tr)
	} else {
		w.notYet("Not written yet.", "尚未编写。")
	}
	w.docHead("golive", "Go-live plan", "上线规划", "golive.yaml · R-5.1.5")
	if g := rl.GoLive; g != nil {
		w.goLive(g)
	} else {
		w.notYet("Not written yet.", "尚未编写。")
	}
	w.docHead("communication", "Communication and training", "沟通和培训", "communication.yaml · R-5.1.7")
	if c := rl.Communication; c != nil {
		w.communication(c)
	} else {
		w.notYet("Not written yet.", "尚未编写。")
	}
	w.docHead("deployment", "Deployment and confirmation", "分发部署与确认", "deployment.yaml · R-5.1.8")
	if d := rl.Deployment; d != nil {
		w.deployment(d)
	} else {
		w.notYet("Not deployed yet.", "尚未部署。")
	}
	w.docHead("closure", "Closure", "发布关闭", "closure.yaml · R-5.1.10")
	if c := rl.Closure; c != nil {
		w.raw(`<dl class="facts">`)
		w.fact("Closed by", "关闭人", w.p.Person(c.ClosedBy))
		w.fact("Closed", "关闭时间", short16(c.ClosedAt))
		w.fact("Archived", "归档", w.p.Join(c.Archived))
		if c.Comment != "" {
			w.fact("Comment", "备注", c.Comment)
		}
		w.raw("</dl>\n")
	} else {
		w.notYet("Not closed yet.", "尚未关闭。")
	}
}

func (w *hw) docHead(id, en, zh, file string) {
	w.raw(`<h2 id="` + id + `">`)
	w.t(en, zh)
	w.tag(` <span class="muted">`, file, "</span></h2>\n")
}

func (w *hw) h3(en, zh string) {
	w.raw("<h3>")
	w.t(en, zh)
	w.raw("</h3>\n")
}

func (w *hw) notYet(en, zh string) { w.tag(`<p class="muted">`, w.p.T(en, zh), "</p>\n") }

func (w *hw) list(tag string, items []string) {
	if len(items) == 0 {
		return
	}
	w.raw("<" + tag + ` class="tight">`)
	for _, it := range items {
		w.tag("<li>", it, "</li>")
	}
	w.raw("</" + tag + ">\n")
}

// versions writes artifacts, one per line, with their digests.
func (w *hw) versions(vs []document.VersionRef) {
	for _, v := range vs {
		w.raw("<div>")
		w.text(v.Item + " " + v.Version)
		if v.Digest != "" {
			w.raw(" ")
			w.code(v.Digest, "muted")
		}
		w.raw("</div>")
	}
}

func (w *hw) verdict(v string) {
	if v == "pass" {
		w.tag(`<span class="ok">✔ `, w.p.T("pass", "通过"), "</span>")
	} else {
		w.tag(`<span class="bad">✘ `, v, "</span>")
	}
}

func (w *hw) plan(pl *document.Plan) {
	p := w.p
	w.raw(`<dl class="facts">` + "\n")
	w.fact("Author", "编写人", p.Person(pl.Author))
	w.fact("Prepared", "编写时间", short16(pl.PreparedAt))
	w.fact("Purpose", "发布目的", pl.Purpose)
	w.fact("Impact", "影响范围", pl.Impact)
	w.fact("Backup: data", "备份：数据", pl.Backup.Data)
	w.fact("Backup: configuration", "备份：配置", pl.Backup.Configuration)
	w.fact("Backup: applications", "备份：应用", pl.Backup.Applications)
	w.raw("</dl>\n")
	w.h3("Steps", "发布步骤")
	w.raw("<div class=\"wide\"><table>")
	w.raw(`<thead><tr><th scope="col">#</th>`)
	for _, h := range [][2]string{{"Step", "步骤"}, {"Owner", "负责人"}, {"People", "参与人员"}, {"From", "开始"}, {"To", "结束"}} {
		w.raw(`<th scope="col">`)
		w.t(h[0], h[1])
		w.raw("</th>")
	}
	w.raw("</tr></thead>\n<tbody>")
	for i, s := range pl.Steps[:min(len(pl.Steps), maxRows)] {
		w.raw(`<tr><td class="num">` + w.itoa(i+1) + "</td>")
		w.td(s.Name)
		w.td(p.Person(s.Owner))
		w.td(p.Join(s.People))
		w.td(short16(s.Start))
		w.td(short16(s.End))
		w.raw("</tr>\n")
	}
	w.raw("</tbody></table></div>\n")
	rb := pl.Rollback
	w.raw("<h3>")
	w.t("Rollback plan", "回退方案")
	w.raw(` <span class="muted">R-5.1.2</span></h3>` + "\n")
	w.raw(`<dl class="facts">` + "\n")
	w.fact("Systems", "涉及系统", p.Join(rb.Systems))
	w.fact("Restore to", "回退时间点", short16(rb.PointInTime))
	w.fact("Data objects", "数据对象", p.Join(rb.DataObjects))
	w.fact("Configuration", "配置", p.Join(rb.Configuration))
	w.raw("<dt>")
	w.t("Versions restored", "恢复版本")
	w.raw("</dt><dd>")
	w.versions(rb.RestoreVersions)
	w.raw("</dd>\n")
	w.fact("Notify", "通知周边系统", p.Join(rb.Notify))
	w.raw("</dl>\n")
	w.list("ol", rb.Steps)
	w.h3("Risks and solutions", "风险及对策")
	if len(pl.Risks) == 0 {
		w.notYet("None.", "无。")
	} else {
		w.raw("<table>")
		w.th("Problem", "问题", "Solution", "解决方案")
		w.raw("<tbody>")
		for _, r := range pl.Risks[:min(len(pl.Risks), maxRows)] {
			w.raw("<tr>")
			w.td(r.Problem)
			w.td(r.Solution)
			w.raw("</tr>")
		}
		w.raw("</tbody></table>\n")
	}
	if len(pl.PostDeployment) > 0 {
		w.h3("After deployment", "部署后工作")
		w.list("ul", pl.PostDeployment)
	}
}

func (w *hw) testReport(tr *document.TestReport) {
	p := w.p
	w.raw(`<dl class="facts">` + "\n")
	w.fact("Author", "编写人", p.Person(tr.Author))
	w.fact("Tested", "测试时间", short16(tr.TestedFrom)+" – "+short16(tr.TestedTo))
	w.fact("Environment", "测试环境", tr.Environment.Name+" "+tr.Environment.Description)
	w.raw("<dt>")
	w.t("Verdict", "结论")
	w.raw("</dt><dd>")
	w.verdict(tr.Verdict)
	w.raw(" ")
	w.text(tr.Summary)
	w.raw("</dd>\n<dt>")
	w.t("Artifacts tested", "测试的制品")
	w.raw("</dt><dd>")
	w.versions(tr.Artifacts)
	w.raw("</dd>\n</dl>\n<table>")
	w.th("Category", "测试类别", "Verdict", "结论", "Cases", "用例", "Failed", "失败", "Summary", "摘要")
	w.raw("<tbody>")
	for _, r := range tr.Results {
		w.raw("<tr>")
		w.td(p.Test(r.Category))
		w.raw("<td>")
		w.verdict(r.Verdict)
		w.raw(`</td><td class="num">` + w.itoa(r.Cases) + `</td><td class="num">` + w.itoa(r.Failed) + "</td>")
		w.td(r.Summary)
		w.raw("</tr>\n")
	}
	w.raw("</tbody></table>\n")
}

func (w *hw) goLive(g *document.GoLive) {
	p := w.p
	w.raw(`<dl class="facts">` + "\n")
	w.fact("Go-live time", "上线时间", short16(g.GoLiveTime))
	mode := p.T("all at once", "一次性")
	if g.RolloutMode == "phased" {
		mode = p.T("phased", "分阶段")
	}
	w.fact("Rollout", "上线方式", mode)
	w.fact("Resources", "资源", g.Resources)
	w.fact("Procurement", "采购", g.Procurement)
	w.fact("Storage", "存储", g.Storage)
	w.fact("Business impact told to the customer", "告知客户的业务影响", g.CustomerCommunication.BusinessImpact+" ("+g.CustomerCommunication.Channel+")")
	w.raw("</dl>\n")
	w.h3("Schedule", "进度安排")
	w.raw("<table>")
	w.th("Task", "任务", "Owner", "负责人", "From", "开始", "To", "结束")
	w.raw("<tbody>")
	for _, t := range g.Schedule {
		w.raw("<tr>")
		w.td(t.Task)
		w.td(p.Person(t.Owner))
		w.td(short16(t.Start))
		w.td(short16(t.End))
		w.raw("</tr>\n")
	}
	w.raw("</tbody></table>\n")
	if len(g.Phases) > 0 {
		w.h3("Phases", "分阶段上线")
		w.raw("<table>")
		w.th("Phase", "阶段", "Items", "配置项", "At", "时间")
		w.raw("<tbody>")
		for _, ph := range g.Phases {
			w.raw("<tr>")
			w.td(ph.Name)
			w.td(p.Join(ph.Items))
			w.td(short16(ph.At))
			w.raw("</tr>\n")
		}
		w.raw("</tbody></table>\n")
	}
	w.h3("Work arrangement", "人员安排")
	duties := make([]string, len(g.WorkArrangement))
	for i, d := range g.WorkArrangement {
		duties[i] = p.Person(d.Person) + ": " + d.Duty
	}
	w.list("ul", duties)
	if len(g.Workflow) > 0 {
		w.h3("Workflow", "工作流程")
		w.list("ol", g.Workflow)
	}
	if len(g.Rollback) > 0 {
		w.h3("Rollback on the day", "上线回退")
		w.list("ol", g.Rollback)
	}
}

func (w *hw) sessions(ss []document.Session) {
	p := w.p
	if len(ss) == 0 {
		w.notYet("None.", "无。")
		return
	}
	w.raw(`<div class="wide"><table>`)
	w.th("Audience", "对象", "Topic", "主题", "At", "时间", "By", "主讲", "Attendees", "参加人员", "Feedback", "反馈")
	w.raw("<tbody>")
	for _, s := range ss {
		w.raw("<tr>")
		w.td(s.Audience)
		w.td(s.Topic)
		w.td(short16(s.At))
		w.td(p.Person(s.By))
		w.td(p.Join(s.Attendees))
		w.td(s.Feedback)
		w.raw("</tr>\n")
	}
	w.raw("</tbody></table></div>\n")
}

func (w *hw) communication(c *document.Communication) {
	p := w.p
	w.h3("Briefings", "发布说明会")
	w.sessions(c.Briefings)
	w.h3("Training", "培训")
	w.sessions(c.Training)
	w.h3("Responsibilities", "职责告知")
	w.raw("<table>")
	w.th("Person", "人员", "Responsibility", "职责", "Acknowledged", "已确认")
	w.raw("<tbody>")
	for _, r := range c.Responsibilities {
		w.raw("<tr>")
		w.td(p.Person(r.Person))
		w.td(r.Responsibility)
		if r.Acknowledged {
			w.raw(`<td><span class="ok">✔</span></td>`)
		} else {
			w.raw(`<td><span class="bad">✘</span></td>`)
		}
		w.raw("</tr>\n")
	}
	w.raw("</tbody></table>\n")
	if len(c.CustomerNotifications) > 0 {
		w.h3("Customer notifications", "客户通知")
		w.raw("<table>")
		w.th("Phase", "阶段", "Recipient", "接收人", "Notified", "通知时间", "Items", "配置项", "Goes live", "上线时间")
		w.raw("<tbody>")
		for _, n := range c.CustomerNotifications {
			w.raw("<tr>")
			w.td(n.Phase)
			w.td(n.Recipient)
			w.td(short16(n.NotifiedAt))
			w.td(p.Join(n.Items))
			w.td(short16(n.GoLiveAt))
			w.raw("</tr>\n")
		}
		w.raw("</tbody></table>\n")
	}
}

func (w *hw) deployment(d *document.Deployment) {
	p := w.p
	w.raw(`<dl class="facts">` + "\n<dt>")
	w.t("Outcome", "结果")
	w.raw("</dt><dd>")
	if d.Outcome == document.OutcomeSucceeded {
		w.tag(`<span class="ok">✔ `, p.Outcome(d.Outcome), "</span>")
	} else {
		w.tag(`<span class="bad">✘ `, p.Outcome(d.Outcome), "</span>")
	}
	w.raw("</dd>\n")
	w.fact("Recorded by", "记录人", p.Person(d.RecordedBy))
	w.fact("Started", "开始", short16(d.StartedAt))
	w.fact("Finished", "结束", short16(d.FinishedAt))
	w.raw("<dt>")
	w.t("Deployed", "部署的制品")
	w.raw("</dt><dd>")
	w.versions(d.Deployed)
	w.raw("</dd>\n")
	if rc := d.Receipt; rc != nil {
		w.raw("<dt>")
		w.t("Reported by the pipeline", "流水线回执")
		w.raw("</dt><dd>")
		w.text(rc.Source + " · " + rc.Environment)
		if u := safeURL(rc.Run); u != "" {
			w.raw(" · ")
			w.link(u, p.T("run", "运行记录"))
		}
		w.raw("</dd>\n")
	}
	w.raw("</dl>\n")
	if len(d.Problems) > 0 {
		w.h3("Problems and solutions", "问题及解决")
		w.raw("<table>")
		w.th("Problem", "问题", "Solution", "解决方案")
		w.raw("<tbody>")
		for _, pr := range d.Problems {
			w.raw("<tr>")
			w.td(pr.Description)
			w.td(pr.Solution)
			w.raw("</tr>\n")
		}
		w.raw("</tbody></table>\n")
	}
	if rb := d.Rollback; rb != nil {
		w.h3("Rollback carried out", "已执行回退")
		w.raw(`<dl class="facts">`)
		yes := func(b bool) string {
			if b {
				return "✔"
			}
			return "✘"
		}
		w.fact("Executed", "已执行", yes(rb.Executed))
		w.fact("Completed", "完成时间", short16(rb.CompletedAt))
		notified := yes(rb.SurroundingSystemsNotified)
		if rb.SurroundingSystemsNotified {
			notified += " " + p.Join(rb.NotifiedSystems)
		}
		w.fact("Surrounding systems notified", "已通知周边系统", notified)
		w.raw("</dl>\n")
	}
}
