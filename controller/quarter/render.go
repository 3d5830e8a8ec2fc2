package quarter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"path"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
)

// Languages and Formats the report is rendered in.
var (
	Languages = []string{"zh", "en"}
	Formats   = []string{"md", "json", "html", "svg"}
)

// Render computes the report of q from snap and renders it. The same
// snapshot, quarter and options give the same bytes.
func Render(snap *loader.Snapshot, q Quarter, lang, format string, opts Options) ([]byte, error) {
	rep, err := Compute(snap, q, opts)
	if err != nil {
		return nil, err
	}
	return Write(rep, lang, format)
}

// Write renders a computed report.
func Write(rep *Report, lang, format string) ([]byte, error) {
	m, ok := messages[lang]
	if !ok {
		return nil, fmt.Errorf("language %q: want zh or en", lang)
	}
	switch format {
	case "json":
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	case "md":
		return []byte(markdown(rep, m, lang)), nil
	case "html":
		return []byte(htmlPage(rep, m, lang)), nil
	case "svg":
		return []byte(Chart(rep.Trend, rep.Target, m)), nil
	}
	return nil, fmt.Errorf("format %q: want md, json, html or svg", format)
}

// msg holds the report's sentences in one language.
type msg struct {
	title, org, tz, revision, workTree, asOf, provisional, placement, success                                                       string
	successDef                                                                                                                      map[string]string
	summary, releases, successful, successRate, target, gap, noTarget, none, scheduled                                              string
	byType, bySystem, byMonth, state, outcome, at, basis, yes, no                                                                   string
	basisName                                                                                                                       map[string]string
	failed, problem, solution, retrospective, leadTime, leadDef, waits, waitDef                                                     string
	count, median, mean, maxi, hours, days, gateCol, missingRetro, missingRetroDef, overdueSec                                      string
	review, id, description, owner, due, trend, quarter, chartTitle, chartCount, chartRate                                          string
	warnings, chartAlt, chartTarget, noReleases, releaseCol, titleCol, typeCol, systemCol, monthCol, colon, period, unauth, sep, pp string
	// releaseList heads the list of the quarter's releases; successCol is its yes/no column.
	releaseList, successCol string
	// emergency heads the emergency releases' row; retroOverdue and
	// retroOverdueDef the list of their overdue retrospective approvals.
	emergency, emergencyDef, retroOverdue, retroOverdueDef string
}

var messages = map[string]msg{
	"en": {
		title: "Release management quarterly report %s", org: "Organization", tz: "Timezone",
		revision: "Computed from commit %s.", workTree: "Computed from the work tree (no commit).",
		asOf: "As of", provisional: "Provisional: the quarter ends on %s; figures are as of %s.",
		placement: "A release belongs to the quarter in which its deployment finished (deployment.yaml `finishedAt`); a release without a deployment record belongs to the quarter its window starts in (release.yaml `window.start`). Quarters are taken in the policy's timezone.",
		success:   "Release success rate = successful releases / releases × 100 %% (R-10). A release is successful when %s (policy `kpi.success: %s`).",
		successDef: map[string]string{
			SuccessDeployed:  "its deployment outcome is succeeded",
			SuccessConfirmed: "its deployment outcome is succeeded and the deployment-confirmation gate passed",
			SuccessClosed:    "its deployment outcome is succeeded and the release is closed",
		},
		summary: "Summary", releases: "Releases", successful: "Successful", successRate: "Success rate", target: "Target",
		gap: "Gap to target", noTarget: "no target set (kpi.successRateTarget)", none: "none", scheduled: "Scheduled later in the quarter (not counted yet)",
		byType: "By release type", bySystem: "By system", byMonth: "By month", state: "State", outcome: "Outcome", at: "Date", basis: "Placed by",
		yes: "yes", no: "no", basisName: map[string]string{BasisDeployment: "deployment finished", BasisWindow: "window start"},
		failed: "Failed releases: problems and solutions (R-3.5, R-5.1.11)", problem: "Problem", solution: "Solution",
		retrospective: "Retrospective", leadTime: "Lead times", leadDef: "From release.yaml `createdAt` to deployment `finishedAt`, deployed releases of the quarter.",
		waits: "Approval waiting times", waitDef: "Per gate: from the previous gate's last counting approval (the release's `createdAt` for the first gate) to this gate's last counting approval.",
		count: "Releases", median: "Median", mean: "Mean", maxi: "Max", hours: "h", days: "d", gateCol: "Gate",
		missingRetro: "Failed releases without a retrospective", missingRetroDef: "Failed releases of the quarter that reviews/%s.yaml has no retrospective for (R-3.5).",
		overdueSec: "Overdue improvement actions (R-8)", review: "Review", id: "Id", description: "Description", owner: "Owner", due: "Due",
		trend: "Trend", quarter: "Quarter", chartTitle: "Release count and success rate", chartCount: "Releases", chartRate: "Success rate (%)",
		warnings: "Warning", chartAlt: "Chart: release count and success rate over the last four quarters", chartTarget: "Target",
		noReleases: "No release falls in this quarter.", colon: ": ", period: ".", sep: " ", pp: "pp", unauth: "the policy trusts commit authorship (trustCommitAuthor): approvals are not authenticated by signatures", releaseCol: "Release", titleCol: "Title", typeCol: "Type", systemCol: "System", monthCol: "Month",
		releaseList: "Releases of the quarter", successCol: "Successful",
		emergency: "Emergency releases", emergencyDef: "Releases whose type the policy treats as emergency (typeRules) went live on a shorter procedure; they are counted in the figures above and here apart (R-10).",
		retroOverdue: "Emergency releases with overdue retrospective approvals", retroOverdueDef: "Gates an emergency release of the quarter went live without and had not passed by their due date, as of the report (R-5.1).",
	},
	"zh": {
		title: "发布管理季度报告 %s", org: "单位", tz: "时区",
		revision: "根据提交 %s 计算。", workTree: "根据工作区计算（非提交）。",
		asOf: "截至", provisional: "临时报告：本季度于 %s 结束，数据截至 %s。",
		placement: "发布按部署完成时间（deployment.yaml 的 `finishedAt`）归入季度；尚无部署记录的发布按发布窗口开始时间（release.yaml 的 `window.start`）归入季度。季度按策略时区计算。",
		success:   "发布成功率 = 成功发布数 / 发布数 × 100 %%（R-10）。成功发布指%s（策略 `kpi.success: %s`）。",
		successDef: map[string]string{
			SuccessDeployed:  "部署结果为成功",
			SuccessConfirmed: "部署结果为成功且部署确认关卡已通过",
			SuccessClosed:    "部署结果为成功且发布已关闭",
		},
		summary: "概况", releases: "发布数", successful: "成功数", successRate: "成功率", target: "目标",
		gap: "与目标差距", noTarget: "未设目标（kpi.successRateTarget）", none: "无", scheduled: "本季度稍后安排的发布（暂不计入）",
		byType: "按发布类型", bySystem: "按系统", byMonth: "按月份", state: "状态", outcome: "部署结果", at: "归季时间", basis: "依据",
		yes: "是", no: "否", basisName: map[string]string{BasisDeployment: "部署完成", BasisWindow: "窗口开始"},
		failed: "失败发布：遇到的问题及解决办法（R-3.5、R-5.1.11）", problem: "问题", solution: "解决办法",
		retrospective: "回顾", leadTime: "前置时间", leadDef: "从 release.yaml 的 `createdAt` 到部署 `finishedAt`，统计本季度已部署的发布。",
		waits: "审批等待时间", waitDef: "按关卡：从上一关卡最后一个有效审批（第一个关卡从发布的 `createdAt`）到本关卡最后一个有效审批。",
		count: "发布数", median: "中位数", mean: "平均", maxi: "最长", hours: "小时", days: "天", gateCol: "关卡",
		missingRetro: "缺少回顾的失败发布", missingRetroDef: "reviews/%s.yaml 中没有回顾记录的本季度失败发布（R-3.5）。",
		overdueSec: "逾期的改进措施（R-8）", review: "回顾", id: "编号", description: "内容", owner: "负责人", due: "期限",
		trend: "趋势", quarter: "季度", chartTitle: "发布数与发布成功率", chartCount: "发布数", chartRate: "成功率（%）",
		warnings: "警告", chartAlt: "图：最近四个季度的发布数与发布成功率", chartTarget: "目标",
		noReleases: "本季度没有发布。", colon: "：", period: "。", sep: "", pp: "个百分点", unauth: "策略信任提交作者（trustCommitAuthor）：审批未经签名认证", releaseCol: "发布", titleCol: "标题", typeCol: "类型", systemCol: "系统", monthCol: "月份",
		releaseList: "本季度发布清单", successCol: "是否成功",
		emergency: "紧急发布", emergencyDef: "策略按紧急发布处理的类型（typeRules）走简化程序上线；它们已计入上表，此处单独统计（R-10）。",
		retroOverdue: "事后审批逾期的紧急发布", retroOverdueDef: "本季度紧急发布上线时未经、截至本报告仍未在期限内通过的关卡（R-5.1）。",
	},
}

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", *p)
}

func signedPct(p *float64, m msg) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%+.1f %s", *p, m.pp)
}

func hoursDays(h float64, m msg) string {
	return fmt.Sprintf("%.1f %s (%.1f %s)", h, m.hours, h/24, m.days)
}

func cell(s string) string {
	return strings.ReplaceAll(trimLine(s), "|", `\|`)
}

// markdown renders the report as GitHub-flavoured Markdown; the chart is the
// SVG file beside it (Path(q, lang, "svg")).
func markdown(rep *Report, m msg, lang string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	row := func(cells ...string) {
		for i := range cells {
			cells[i] = cell(cells[i])
		}
		w("| %s |\n", strings.Join(cells, " | "))
	}
	w("# "+m.title+"\n\n", rep.Quarter)
	if rep.Organization != "" {
		w("%s%s%s · %s%s%s\n\n", m.org, m.colon, rep.Organization, m.tz, m.colon, rep.Timezone)
	} else {
		w("%s%s%s\n\n", m.tz, m.colon, rep.Timezone)
	}
	if rep.Revision != "" {
		w(m.revision+m.sep, "`"+rep.Revision+"`")
	} else {
		w("%s%s", m.workTree, m.sep)
	}
	w("%s %s%s\n\n", m.asOf, rep.AsOf, m.period)
	if rep.Provisional {
		w("> "+m.provisional+"\n\n", lastDay(mustParse(rep.Quarter)), rep.AsOf)
	}
	w("%s\n\n", m.placement)
	w(m.success+"\n\n", m.successDef[rep.Success], rep.Success)
	if rep.Unauthenticated {
		w("> **%s**%s%s\n\n", m.warnings, m.colon, m.unauth)
	}
	for _, wn := range rep.Warnings {
		w("> **%s**%s%s\n\n", m.warnings, m.colon, wn)
	}

	w("## %s\n\n", m.summary)
	row(m.releases, m.successful, m.successRate, m.target, m.gap)
	w("|---:|---:|---:|---:|---:|\n")
	target, gap := m.noTarget, "–"
	if rep.Target != nil {
		target = fmt.Sprintf("%.1f %%", *rep.Target)
		gap = signedPct(rep.Gap, m)
	}
	row(fmt.Sprint(rep.Releases), fmt.Sprint(rep.Successful), pct(rep.SuccessRate), target, gap)
	w("\n")
	w("%s%s%s\n\n", m.emergency, m.colon, m.emergencyDef)
	row(m.releases, m.successful, m.successRate)
	w("|---:|---:|---:|\n")
	row(fmt.Sprint(rep.Emergency.Releases), fmt.Sprint(rep.Emergency.Successful), pct(rep.Emergency.Rate))
	w("\n")
	if len(rep.Scheduled) > 0 {
		w("%s%s%s\n\n", m.scheduled, m.colon, strings.Join(rep.Scheduled, ", "))
	}
	w("![%s](%s)\n\n", m.chartAlt, path.Base(Path(mustParse(rep.Quarter), lang, "svg")))

	l := i18n.Lang(lang)
	groupTable := func(title, col string, gs []Group, word func(string) string) {
		w("## %s\n\n", title)
		row(col, m.releases, m.successful, m.successRate)
		w("|---|---:|---:|---:|\n")
		for _, g := range gs {
			row(word(g.Key), fmt.Sprint(g.Releases), fmt.Sprint(g.Successful), pct(g.Rate))
		}
		w("\n")
	}
	same := func(s string) string { return s }
	groupTable(m.byType, m.typeCol, rep.ByType, typeWord(l))
	groupTable(m.bySystem, m.systemCol, rep.BySystem, same)
	groupTable(m.byMonth, m.monthCol, rep.ByMonth, same)

	w("## %s\n\n", m.releaseList)
	if len(rep.Entries) == 0 {
		w("%s\n\n", m.noReleases)
	} else {
		row(m.releaseCol, m.titleCol, m.typeCol, m.basis, m.at, m.state, m.outcome, m.successCol)
		w("|---|---|---|---|---|---|---|---|\n")
		for _, e := range rep.Entries {
			row(e.Release, e.Title, i18n.Type(e.Type).In(l), m.basisName[e.Basis], e.At, i18n.State(e.State).In(l), outcomeWord(l, e.Outcome), yesNo(e.Successful, m))
		}
		w("\n")
	}

	w("## %s\n\n", m.failed)
	if len(rep.Failed) == 0 {
		w("%s\n\n", m.none)
	}
	for _, f := range rep.Failed {
		w("### %s %s\n\n", f.Release, cell(f.Title))
		w("%s%s%s · %s · %s%s%s\n\n", m.outcome, m.colon, outcomeWord(l, f.Outcome), f.FinishedAt, m.retrospective, m.colon, yesNo(f.Retrospective, m))
		if len(f.Problems) > 0 {
			row(m.problem, m.solution)
			w("|---|---|\n")
			for _, p := range f.Problems {
				row(p.Description, p.Solution)
			}
			w("\n")
		}
	}

	w("## %s\n\n%s\n\n", m.leadTime, m.leadDef)
	row(m.count, m.median, m.mean, m.maxi)
	w("|---:|---:|---:|---:|\n")
	row(fmt.Sprint(rep.LeadTime.Count), hoursDays(rep.LeadTime.Median, m), hoursDays(rep.LeadTime.Mean, m), hoursDays(rep.LeadTime.Max, m))
	w("\n## %s\n\n%s\n\n", m.waits, m.waitDef)
	if len(rep.ApprovalWaits) == 0 {
		w("%s\n\n", m.none)
	} else {
		row(m.gateCol, m.count, m.median, m.mean, m.maxi)
		w("|---|---:|---:|---:|---:|\n")
		for _, g := range rep.ApprovalWaits {
			row(i18n.Gate(g.Gate).In(l), fmt.Sprint(g.Count), hoursDays(g.Median, m), hoursDays(g.Mean, m), hoursDays(g.Max, m))
		}
		w("\n")
	}

	w("## %s\n\n", m.missingRetro)
	w(m.missingRetroDef+"\n\n", rep.Quarter)
	if len(rep.MissingRetrospectives) == 0 {
		w("%s\n\n", m.none)
	} else {
		for _, id := range rep.MissingRetrospectives {
			w("- %s\n", id)
		}
		w("\n")
	}
	w("## %s\n\n", m.retroOverdue)
	w("%s\n\n", m.retroOverdueDef)
	if len(rep.OverdueRetrospectives) == 0 {
		w("%s\n\n", m.none)
	} else {
		row(m.releaseCol, m.titleCol, m.gateCol, m.due)
		w("|---|---|---|---|\n")
		for _, o := range rep.OverdueRetrospectives {
			row(o.Release, o.Title, i18n.Gate(o.Gate).In(l), o.Due)
		}
		w("\n")
	}
	w("## %s\n\n", m.overdueSec)
	if len(rep.OverdueActions) == 0 {
		w("%s\n\n", m.none)
	} else {
		row(m.review, m.id, m.description, m.owner, m.due)
		w("|---|---|---|---|---|\n")
		for _, a := range rep.OverdueActions {
			row(a.Review, a.ID, a.Description, a.Owner, a.Due)
		}
		w("\n")
	}
	w("## %s\n\n", m.trend)
	row(m.quarter, m.releases, m.successful, m.successRate)
	w("|---|---:|---:|---:|\n")
	for _, p := range rep.Trend {
		row(p.Quarter, fmt.Sprint(p.Releases), fmt.Sprint(p.Successful), pct(p.Rate))
	}
	return b.String()
}

// typeWord translates a release type; outcomeWord an outcome, or a dash.
func typeWord(l i18n.Lang) func(string) string {
	return func(id string) string { return i18n.Type(id).In(l) }
}

func outcomeWord(l i18n.Lang, id string) string {
	if id == "" {
		return "–"
	}
	return i18n.Outcome(id).In(l)
}

func yesNo(ok bool, m msg) string {
	if ok {
		return m.yes
	}
	return m.no
}

// lastDay is the quarter's last calendar day.
func lastDay(q Quarter) string {
	return q.Next().Start(time.UTC).AddDate(0, 0, -1).Format("2006-01-02")
}

func mustParse(s string) Quarter {
	q, _ := Parse(s)
	return q
}

// htmlPage renders a self-contained page with the chart inline.
func htmlPage(rep *Report, m msg, lang string) string {
	var b strings.Builder
	e := html.EscapeString
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	table := func(head []string, rows [][]string) {
		b.WriteString("<table>\n<tr>")
		for _, h := range head {
			w("<th>%s</th>", e(h))
		}
		b.WriteString("</tr>\n")
		for _, r := range rows {
			b.WriteString("<tr>")
			for _, c := range r {
				w("<td>%s</td>", e(trimLine(c)))
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	l := i18n.Lang(lang)
	title := fmt.Sprintf(m.title, rep.Quarter)
	w("<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", lang, e(title))
	b.WriteString("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}blockquote{color:#555;border-left:4px solid #ccc;margin:1em 0;padding-left:1em}</style>\n</head>\n<body>\n")
	w("<h1>%s</h1>\n", e(title))
	if rep.Organization != "" {
		w("<p>%s%s%s · %s%s%s</p>\n", e(m.org), e(m.colon), e(rep.Organization), e(m.tz), e(m.colon), e(rep.Timezone))
	}
	if rep.Revision != "" {
		w("<p>%s%s%s %s%s</p>\n", e(fmt.Sprintf(m.revision, rep.Revision)), e(m.sep), e(m.asOf), e(rep.AsOf), e(m.period))
	} else {
		w("<p>%s%s%s %s%s</p>\n", e(m.workTree), e(m.sep), e(m.asOf), e(rep.AsOf), e(m.period))
	}
	if rep.Provisional {
		w("<blockquote>%s</blockquote>\n", e(fmt.Sprintf(m.provisional, lastDay(mustParse(rep.Quarter)), rep.AsOf)))
	}
	w("<p>%s</p>\n<p>%s</p>\n", e(strings.ReplaceAll(m.placement, "`", "")), e(strings.ReplaceAll(fmt.Sprintf(m.success, m.successDef[rep.Success], rep.Success), "`", "")))
	if rep.Unauthenticated {
		w("<blockquote>%s%s%s</blockquote>\n", e(m.warnings), e(m.colon), e(m.unauth))
	}
	for _, wn := range rep.Warnings {
		w("<blockquote>%s%s%s</blockquote>\n", e(m.warnings), e(m.colon), e(wn))
	}
	w("<h2>%s</h2>\n", e(m.summary))
	target, gap := m.noTarget, "–"
	if rep.Target != nil {
		target, gap = fmt.Sprintf("%.1f %%", *rep.Target), signedPct(rep.Gap, m)
	}
	table([]string{m.releases, m.successful, m.successRate, m.target, m.gap},
		[][]string{{fmt.Sprint(rep.Releases), fmt.Sprint(rep.Successful), pct(rep.SuccessRate), target, gap}})
	w("<p>%s%s%s</p>\n", e(m.emergency), e(m.colon), e(m.emergencyDef))
	table([]string{m.releases, m.successful, m.successRate},
		[][]string{{fmt.Sprint(rep.Emergency.Releases), fmt.Sprint(rep.Emergency.Successful), pct(rep.Emergency.Rate)}})
	if len(rep.Scheduled) > 0 {
		w("<p>%s%s%s</p>\n", e(m.scheduled), e(m.colon), e(strings.Join(rep.Scheduled, ", ")))
	}
	b.WriteString(Chart(rep.Trend, rep.Target, m))
	same := func(s string) string { return s }
	for _, gt := range []struct {
		title, col string
		gs         []Group
		word       func(string) string
	}{{m.byType, m.typeCol, rep.ByType, typeWord(l)}, {m.bySystem, m.systemCol, rep.BySystem, same}, {m.byMonth, m.monthCol, rep.ByMonth, same}} {
		w("<h2>%s</h2>\n", e(gt.title))
		var rows [][]string
		for _, g := range gt.gs {
			rows = append(rows, []string{gt.word(g.Key), fmt.Sprint(g.Releases), fmt.Sprint(g.Successful), pct(g.Rate)})
		}
		table([]string{gt.col, m.releases, m.successful, m.successRate}, rows)
	}
	w("<h2>%s</h2>\n", e(m.releaseList))
	var rows [][]string
	for _, en := range rep.Entries {
		rows = append(rows, []string{en.Release, en.Title, i18n.Type(en.Type).In(l), m.basisName[en.Basis], en.At, i18n.State(en.State).In(l), outcomeWord(l, en.Outcome), yesNo(en.Successful, m)})
	}
	table([]string{m.releaseCol, m.titleCol, m.typeCol, m.basis, m.at, m.state, m.outcome, m.successCol}, rows)
	w("<h2>%s</h2>\n", e(m.failed))
	if len(rep.Failed) == 0 {
		w("<p>%s</p>\n", e(m.none))
	}
	for _, f := range rep.Failed {
		w("<h3>%s %s</h3>\n<p>%s%s%s · %s · %s%s%s</p>\n", e(f.Release), e(f.Title), e(m.outcome), e(m.colon), e(outcomeWord(l, f.Outcome)), e(f.FinishedAt), e(m.retrospective), e(m.colon), e(yesNo(f.Retrospective, m)))
		var rows [][]string
		for _, p := range f.Problems {
			rows = append(rows, []string{p.Description, p.Solution})
		}
		table([]string{m.problem, m.solution}, rows)
	}
	w("<h2>%s</h2>\n<p>%s</p>\n", e(m.leadTime), e(strings.ReplaceAll(m.leadDef, "`", "")))
	table([]string{m.count, m.median, m.mean, m.maxi}, [][]string{{fmt.Sprint(rep.LeadTime.Count), hoursDays(rep.LeadTime.Median, m), hoursDays(rep.LeadTime.Mean, m), hoursDays(rep.LeadTime.Max, m)}})
	w("<h2>%s</h2>\n<p>%s</p>\n", e(m.waits), e(strings.ReplaceAll(m.waitDef, "`", "")))
	rows = nil
	for _, g := range rep.ApprovalWaits {
		rows = append(rows, []string{i18n.Gate(g.Gate).In(l), fmt.Sprint(g.Count), hoursDays(g.Median, m), hoursDays(g.Mean, m), hoursDays(g.Max, m)})
	}
	table([]string{m.gateCol, m.count, m.median, m.mean, m.maxi}, rows)
	w("<h2>%s</h2>\n<p>%s</p>\n", e(m.missingRetro), e(fmt.Sprintf(m.missingRetroDef, rep.Quarter)))
	if len(rep.MissingRetrospectives) == 0 {
		w("<p>%s</p>\n", e(m.none))
	} else {
		w("<ul>\n")
		for _, id := range rep.MissingRetrospectives {
			w("<li>%s</li>\n", e(id))
		}
		w("</ul>\n")
	}
	w("<h2>%s</h2>\n<p>%s</p>\n", e(m.retroOverdue), e(m.retroOverdueDef))
	rows = nil
	for _, o := range rep.OverdueRetrospectives {
		rows = append(rows, []string{o.Release, o.Title, i18n.Gate(o.Gate).In(l), o.Due})
	}
	if len(rows) == 0 {
		w("<p>%s</p>\n", e(m.none))
	} else {
		table([]string{m.releaseCol, m.titleCol, m.gateCol, m.due}, rows)
	}
	w("<h2>%s</h2>\n", e(m.overdueSec))
	rows = nil
	for _, a := range rep.OverdueActions {
		rows = append(rows, []string{a.Review, a.ID, a.Description, a.Owner, a.Due})
	}
	if len(rows) == 0 {
		w("<p>%s</p>\n", e(m.none))
	} else {
		table([]string{m.review, m.id, m.description, m.owner, m.due}, rows)
	}
	w("<h2>%s</h2>\n", e(m.trend))
	rows = nil
	for _, p := range rep.Trend {
		rows = append(rows, []string{p.Quarter, fmt.Sprint(p.Releases), fmt.Sprint(p.Successful), pct(p.Rate)})
	}
	table([]string{m.quarter, m.releases, m.successful, m.successRate}, rows)
	b.WriteString("</body>\n</html>\n")
	return b.String()
}
