package writeback

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// ReportPath is where a release's report lives; JSONReportPath its machine-readable twin.
func ReportPath(id string) string { return gate.ReportPath(id) }
func JSONReportPath(id string) string {
	return strings.TrimSuffix(gate.ReportPath(id), ".md") + ".json"
}

// ReleaseReport is the content of 发布报告, as JSON beside the Markdown.
type ReleaseReport struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Release    string                `json:"release"`
	Title      string                `json:"title"`
	Type       string                `json:"type"`
	Systems    []string              `json:"systems"`
	Changes    []string              `json:"changes"`
	Outcome    string                `json:"outcome"`
	Timeline   []Event               `json:"timeline"`
	Approvals  []ReportApproval      `json:"approvals"`
	Deployed   []document.VersionRef `json:"deployed"`
	Restored   []document.VersionRef `json:"restored,omitempty"`
	Problems   []document.Problem    `json:"problems"`
}

// Event is one dated step of a release.
type Event struct {
	At   string `json:"at"`
	What string `json:"what"`
}

// ReportApproval is an approval that counted for a gate.
type ReportApproval struct {
	Gate   string `json:"gate"`
	Person string `json:"person"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	At     string `json:"at"`
}

type texts struct {
	title, release, typ, outcome, state, systems, changes, timeline, approvals, gate, person, role, at,
	deployed, restored, problems, problem, solution, none, item, version, digest, generated string
	events   map[string]string
	outcomes map[string]string
}

var lang = map[string]texts{
	"en": {title: "Release report", release: "Release", typ: "Type", outcome: "Outcome", state: "State", systems: "Systems",
		changes: "Change requests", timeline: "Timeline", approvals: "Approvals", gate: "Gate", person: "Person", role: "Role",
		at: "Time", deployed: "Versions deployed", restored: "Versions restored by the rollback", problems: "Problems and solutions",
		problem: "Problem", solution: "Solution", none: "none", item: "Item", version: "Version", digest: "Digest",
		generated: "Written by relgate from the release's documents (R-5.1.11). Do not edit: it is rewritten when they change.",
		events: map[string]string{"created": "release created", "plan": "release plan prepared", "tested": "testing finished",
			"golive": "go-live time", "started": "deployment started", "finished": "deployment finished", "rollback": "rollback completed",
			"approved": "%s approved by %s (%s)"},
		outcomes: map[string]string{"succeeded": "succeeded", "failed": "failed", "rolled-back": "failed and rolled back"}},
	"zh": {title: "发布报告", release: "发布", typ: "发布类型", outcome: "发布结果", state: "状态", systems: "涉及系统",
		changes: "变更请求", timeline: "时间线", approvals: "审批", gate: "关卡", person: "人员", role: "角色",
		at: "时间", deployed: "已部署版本", restored: "回退恢复的版本", problems: "遇到的问题及解决办法",
		problem: "问题", solution: "解决办法", none: "无", item: "配置项", version: "版本", digest: "摘要",
		generated: "本报告由 relgate 根据发布文档生成（R-5.1.11），请勿手工修改：文档变化时会重新生成。",
		events: map[string]string{"created": "创建发布", "plan": "完成发布方案", "tested": "测试完成",
			"golive": "计划上线时间", "started": "开始部署", "finished": "部署结束", "rollback": "回退完成",
			"approved": "%s：%s（%s）审批通过"},
		outcomes: map[string]string{"succeeded": "成功", "failed": "失败", "rolled-back": "失败并已回退"}},
}

// releaseReport returns the write of a release's report when its content differs.
func releaseReport(snap *loader.Snapshot, pol *policy.Policy, r *loader.Release, st gate.Status, l string) (*Write, error) {
	rep := buildReport(pol, r, st)
	md := renderMarkdown(rep, l)
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	js = append(js, '\n')
	var files []File
	for _, f := range []File{{ReportPath(r.ID), md}, {JSONReportPath(r.ID), js}} {
		c, err := changed(snap, f.Path, f.Content)
		if err != nil {
			return nil, err
		}
		if c != nil {
			files = append(files, *c)
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	return &Write{Kind: "release-report", Release: r.ID, Files: files,
		Subject: fmt.Sprintf("%s: write the release report (%s)", r.ID, r.Deployment.Outcome),
		Body:    "R-5.1.11: problems met and their solutions, approvals, timeline, outcome."}, nil
}

func buildReport(pol *policy.Policy, r *loader.Release, st gate.Status) ReleaseReport {
	rel, d := r.Release, r.Deployment
	rep := ReleaseReport{APIVersion: document.APIVersion, Kind: "ReleaseReport", Release: r.ID, Title: rel.Title, Type: rel.Type,
		Systems: rel.Systems, Outcome: d.Outcome, Deployed: d.Deployed, Problems: d.Problems,
		Changes: []string{}, Timeline: []Event{}, Approvals: []ReportApproval{}}
	if rep.Problems == nil {
		rep.Problems = []document.Problem{}
	}
	if rep.Deployed == nil {
		rep.Deployed = []document.VersionRef{}
	}
	for _, c := range rel.Changes {
		rep.Changes = append(rep.Changes, c.ID)
	}
	add := func(at, what string) {
		if at != "" {
			rep.Timeline = append(rep.Timeline, Event{At: at, What: what})
		}
	}
	add(rel.CreatedAt, "created")
	if r.Plan != nil {
		add(r.Plan.PreparedAt, "plan")
	}
	if r.TestReport != nil {
		add(r.TestReport.TestedTo, "tested")
	}
	if r.GoLive != nil {
		add(r.GoLive.GoLiveTime, "golive")
	}
	add(d.StartedAt, "started")
	add(d.FinishedAt, "finished")
	if d.Rollback != nil {
		add(d.Rollback.CompletedAt, "rollback")
		rep.Restored = d.Rollback.Restored
	}
	times := map[string]string{}
	for _, a := range r.Approvals {
		if a.Approval != nil {
			times[a.FileGate+"/"+a.FilePerson] = a.At
		}
	}
	for _, g := range st.Gates {
		for _, q := range g.Requirements {
			for _, p := range q.Approved {
				name := p
				if pp, ok := pol.Person(p); ok {
					name = pp.Name
				}
				rep.Approvals = append(rep.Approvals, ReportApproval{Gate: g.Gate, Person: p, Name: name, Role: q.Role, At: times[g.Gate+"/"+p]})
			}
		}
	}
	sort.SliceStable(rep.Timeline, func(i, j int) bool { return rep.Timeline[i].At < rep.Timeline[j].At })
	return rep
}

func renderMarkdown(rep ReleaseReport, l string) []byte {
	t := lang[l]
	// The procedure's words for types, gates and roles (R-5.1.11 counts per type).
	word := func(term i18n.Term) string { return term.In(i18n.Lang(l)) }
	var b strings.Builder
	fmt.Fprintf(&b, "# %s %s\n\n", t.title, rep.Release)
	fmt.Fprintf(&b, "> %s\n\n", t.generated)
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	b.WriteString("| | |\n|---|---|\n")
	row(t.release, rep.Release+" "+rep.Title)
	row(t.typ, word(i18n.Type(rep.Type)))
	row(t.outcome, t.outcomes[rep.Outcome])
	row(t.systems, orNone(strings.Join(rep.Systems, "、"), t.none))
	row(t.changes, orNone(strings.Join(rep.Changes, ", "), t.none))
	fmt.Fprintf(&b, "\n## %s\n\n", t.timeline)
	for _, e := range rep.Timeline {
		fmt.Fprintf(&b, "- %s %s\n", e.At, t.events[e.What])
	}
	fmt.Fprintf(&b, "\n## %s\n\n| %s | %s | %s | %s |\n|---|---|---|---|\n", t.approvals, t.gate, t.person, t.role, t.at)
	for _, a := range rep.Approvals {
		fmt.Fprintf(&b, "| %s | %s (%s) | %s | %s |\n", word(i18n.Gate(a.Gate)), a.Name, a.Person, word(i18n.Role(a.Role)), a.At)
	}
	versions := func(title string, vs []document.VersionRef) {
		fmt.Fprintf(&b, "\n## %s\n\n| %s | %s | %s |\n|---|---|---|\n", title, t.item, t.version, t.digest)
		for _, v := range vs {
			fmt.Fprintf(&b, "| %s | %s | `%s` |\n", v.Item, v.Version, v.Digest)
		}
	}
	versions(t.deployed, rep.Deployed)
	if rep.Restored != nil {
		versions(t.restored, rep.Restored)
	}
	fmt.Fprintf(&b, "\n## %s\n\n", t.problems)
	if len(rep.Problems) == 0 {
		b.WriteString(t.none + "\n")
	}
	for i, p := range rep.Problems {
		fmt.Fprintf(&b, "%d. **%s**：%s\n   **%s**：%s\n", i+1, t.problem, p.Description, t.solution, p.Solution)
	}
	return []byte(b.String())
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
