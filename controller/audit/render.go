package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/writeback"
)

// Formats the audit commands write.
var Formats = []string{"text", "json", "md"}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func shortID(s string) string { return short(s) }

func who(p Person) string {
	s := fmt.Sprintf("%s <%s>", p.Name, p.Email)
	if p.Login != "" {
		s += " (" + p.Login + ")"
	}
	return s
}

func sig(l i18n.Lang, ev Event) string {
	name := l.T(ev.Signature, map[string]string{SigUnsigned: "未签名", SigVerified: "签名有效", SigBad: "签名无效", SigUnverifiable: "已签名但无法核验"}[ev.Signature])
	if name == "" {
		name = ev.Signature
	}
	if ev.SignedBy != "" {
		return name + l.T(" by ", "，签名人 ") + ev.SignedBy
	}
	return name
}

func changeLine(l i18n.Lang, c Change) string {
	action := l.T(c.Action, map[string]string{"added": "新增", "modified": "修改", "deleted": "删除"}[c.Action])
	if action == "" {
		action = c.Action
	}
	s := fmt.Sprintf("%s %s", action, c.Path)
	if c.Kind != "" {
		s += " (" + string(c.Kind) + ")"
	}
	if c.Gate != "" {
		s += l.T(fmt.Sprintf(" approval of %s by %s", c.Gate, c.Person), fmt.Sprintf("：%s 对 %s 的审批", c.Person, i18n.Gate(c.Gate).In(l)))
	}
	if len(c.Fields) > 0 && c.Action == "modified" {
		s += ": " + strings.Join(c.Fields, ", ")
	}
	return s
}

func approvalLine(l i18n.Lang, a ApprovalState) string {
	status := func(st string) string {
		if l == i18n.English {
			return st
		}
		if zh := map[string]string{"counted": "计入", "rejection": "否决", "removed": "已删除", "not-evaluated": "未评估"}[st]; zh != "" {
			return zh
		}
		return i18n.Reason(st).In(l)
	}
	s := l.T(fmt.Sprintf("%s by %s: %s", a.Gate, a.Person, a.Status), fmt.Sprintf("%s 的 %s：%s", a.Person, i18n.Gate(a.Gate).In(l), status(a.Status)))
	if a.Before != "" {
		s += l.T(" (was "+a.Before+")", "（此前："+status(a.Before)+"）")
	}
	if a.Message != "" {
		s += ": " + a.Message
	}
	return s
}

func decisionLine(l i18n.Lang, d writeback.LoggedDecision) string {
	verdict := l.T("allowed", "放行")
	if !d.Allowed {
		verdict = l.T("refused", "拒绝")
	}
	s := l.T(fmt.Sprintf("deployment to %s %s at %s (requested by %s via %s", d.Environment, verdict, d.At, orDash(d.Requester), d.Source),
		fmt.Sprintf("部署到 %s：%s，%s（请求人 %s，来自 %s", d.Environment, verdict, d.At, orDash(d.Requester), d.Source))
	if d.Run != "" {
		s += l.T(", run ", "，运行 ") + d.Run
	}
	s += l.T(")", "）")
	for _, r := range d.Refused {
		s += "; " + r.ID + ": " + r.Message
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteTimeline renders a timeline as text, json or md, in English.
func WriteTimeline(w io.Writer, tl *Timeline, format string) error {
	return WriteTimelineIn(w, i18n.English, tl, format)
}

// WriteTimelineIn renders a timeline in language l (the JSON is the same in both).
func WriteTimelineIn(w io.Writer, l i18n.Lang, tl *Timeline, format string) error {
	if format == "json" {
		return writeJSON(w, tl)
	}
	var b strings.Builder
	md := format == "md"
	if md {
		b.WriteString(l.T(fmt.Sprintf("# Audit trail of %s\n\nFrom git history up to commit `%s`; %d commit(s).\n\n", tl.Release, tl.Tip, len(tl.Events)),
			fmt.Sprintf("# %s 的审计轨迹\n\n依据截至提交 `%s` 的 git 历史，共 %d 个提交。\n\n", tl.Release, tl.Tip, len(tl.Events))))
	} else {
		b.WriteString(l.T(fmt.Sprintf("audit trail of %s up to %s: %d commit(s)\n", tl.Release, shortID(tl.Tip), len(tl.Events)),
			fmt.Sprintf("%s 的审计轨迹，截至 %s：共 %d 个提交\n", tl.Release, shortID(tl.Tip), len(tl.Events))))
	}
	for _, ev := range tl.Events {
		if md {
			fmt.Fprintf(&b, "## `%s` %s\n\n", shortID(ev.Commit), mdText(ev.Subject))
			fmt.Fprintf(&b, l.T("- author: %s, %s\n- committer: %s, %s\n- signature: %s\n", "- 作者：%s，%s\n- 提交者：%s，%s\n- 签名：%s\n"), mdText(who(ev.Author)), ev.Author.Time,
				mdText(who(ev.Committer)), ev.Committer.Time, sig(l, ev))
			if len(ev.Parents) > 1 {
				fmt.Fprintf(&b, l.T("- merge of %d parents\n", "- 合并 %d 个父提交\n"), len(ev.Parents))
			}
			if ev.State != "" {
				fmt.Fprintf(&b, l.T("- state after: %s\n", "- 提交后状态：%s\n"), i18n.State(ev.State).In(l))
			}
			for _, c := range ev.Changes {
				fmt.Fprintf(&b, "- %s\n", mdText(changeLine(l, c)))
			}
			for _, a := range ev.Approvals {
				fmt.Fprintf(&b, l.T("- approval %s\n", "- 审批 %s\n"), mdText(approvalLine(l, a)))
			}
			for _, d := range ev.Deployments {
				fmt.Fprintf(&b, "- %s\n", mdText(decisionLine(l, d)))
			}
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, "\n%s %s  %s\n", shortID(ev.Commit), ev.Author.Time, ev.Subject)
		fmt.Fprintf(&b, l.T("  author:    %s\n", "  作者：    %s\n"), who(ev.Author))
		if ev.Committer.Email != ev.Author.Email || ev.Committer.Name != ev.Author.Name || ev.Committer.Time != ev.Author.Time {
			fmt.Fprintf(&b, l.T("  committer: %s %s\n", "  提交者：  %s %s\n"), who(ev.Committer), ev.Committer.Time)
		}
		fmt.Fprintf(&b, l.T("  signature: %s\n", "  签名：    %s\n"), sig(l, ev))
		if len(ev.Parents) > 1 {
			fmt.Fprintf(&b, l.T("  merge of:  %s\n", "  合并自：  %s\n"), strings.Join(shortAll(ev.Parents), ", "))
		}
		if ev.State != "" {
			fmt.Fprintf(&b, l.T("  state:     %s\n", "  状态：    %s\n"), i18n.State(ev.State).In(l))
		}
		for _, c := range ev.Changes {
			fmt.Fprintf(&b, "  %s\n", changeLine(l, c))
		}
		for _, a := range ev.Approvals {
			fmt.Fprintf(&b, l.T("  approval %s\n", "  审批 %s\n"), approvalLine(l, a))
		}
		for _, d := range ev.Deployments {
			fmt.Fprintf(&b, "  %s\n", decisionLine(l, d))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shortAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, s := range ids {
		out[i] = shortID(s)
	}
	return out
}

func mdText(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteVerify renders a verify report as text, json or md, in English.
func WriteVerify(w io.Writer, rep *VerifyReport, format string) error {
	return WriteVerifyIn(w, i18n.English, rep, format)
}

// WriteVerifyIn renders a verify report in language l; the violations'
// messages are those of the decision (English), their rule ids stable.
func WriteVerifyIn(w io.Writer, l i18n.Lang, rep *VerifyReport, format string) error {
	if format == "json" {
		return writeJSON(w, rep)
	}
	var b strings.Builder
	verdict := l.T("PASS", "通过")
	if !rep.Passed {
		verdict = l.T("VIOLATIONS", "有违规")
	}
	if format == "md" {
		fmt.Fprintf(&b, l.T("# relgate audit verify: %s\n\n%d commit(s) on the first-parent history up to `%s`, %d evaluated.\n\n",
			"# relgate 历史核验：%s\n\n截至 `%[3]s` 的第一父提交历史共 %[2]d 个提交，已评估 %[4]d 个。\n\n"),
			verdict, rep.Commits, rep.Tip, rep.Checked)
		if len(rep.Violations) > 0 {
			b.WriteString(l.T("| commit | rule | release | clause | violation |\n|---|---|---|---|---|\n", "| 提交 | 规则 | 发布 | 条款 | 违规 |\n|---|---|---|---|---|\n"))
			for _, v := range rep.Violations {
				fmt.Fprintf(&b, "| `%s` %s | %s | %s | %s | %s |\n", shortID(v.Commit), mdText(v.Subject), v.Rule, v.Release, v.Clause, mdText(v.Message))
			}
			b.WriteString("\n")
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, l.T("- note: `%s`: %s\n", "- 说明：`%s`：%s\n"), shortID(n.Commit), mdText(n.Message))
		}
	} else {
		fmt.Fprintf(&b, l.T("relgate audit verify up to %s: %s (%d commits, %d evaluated, %d violation(s))\n",
			"relgate 历史核验，截至 %s：%s（%d 个提交，已评估 %d 个，违规 %d 处）\n"),
			shortID(rep.Tip), verdict, rep.Commits, rep.Checked, len(rep.Violations))
		for _, v := range rep.Violations {
			clause := ""
			if v.Clause != "" {
				clause = " [" + v.Clause + "]"
			}
			fmt.Fprintf(&b, l.T("violation: commit %s (%s): %s%s: %s\n", "违规：提交 %s（%s）：%s%s：%s\n"), shortID(v.Commit), v.Subject, v.Rule, clause, v.Message)
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, l.T("note: commit %s: %s\n", "说明：提交 %s：%s\n"), shortID(n.Commit), n.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
