package validate

import (
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// zh translates the cross-document findings, keyed by the English format
// string: English needs no entry, and a sentence without one stays English
// rather than going missing. Arguments keep their order unless %[n] says.
var zh = map[string]string{
	"timezone is not a known IANA zone such as Asia/Shanghai": "timezone 不是已知的 IANA 时区（例如 Asia/Shanghai）",
	"person %s is listed twice":                               "人员 %s 重复列出",
	"not a public key relgate can read: an armored OpenPGP key or an SSH key line (ssh-ed25519 AAAA…)": "relgate 无法读取此公钥：请填写 ASCII 封装的 OpenPGP 公钥或一行 SSH 公钥（ssh-ed25519 AAAA…）",
	"department %s is listed twice":                                   "部门 %s 重复列出",
	"head %s is not a person of the policy":                           "部门负责人 %s 不是策略中的人员",
	"department heads come from departments[].head; remove this role": "部门负责人取自 departments[].head；请删除此角色",
	"%s is not a person of the policy":                                "%s 不是策略中的人员",
	"gate %s is listed twice":                                         "关口 %s 重复列出",
	"a team's own gate names the built-in gate it must pass before (before: go-live-approval, ...)": "团队自定义关口须写明它须在哪个内置关口之前通过（before: go-live-approval 等）",
	"a team's own gate requires at least one role":                                                  "团队自定义关口至少要求一个角色",
	"role %s is not defined in roles":                                                               "角色 %s 未在 roles 中定义",
	"%s is not a release document":                                                                  "%s 不是发布文档",
	"blackout window ends before it starts":                                                         "封网窗口的结束时间早于开始时间",
	"trustCommitAuthor is on: an approval counts when its commit's author is the approver, which anyone can forge; list signing keys and turn it off for production": "已开启 trustCommitAuthor：提交作者是审批人即计入审批，而提交作者任何人都能伪造；生产环境请登记签名密钥并关闭此项",
	"a time here cannot be read (a leap second?); write it as 2026-11-25T10:00:00+08:00":                                                                             "无法读取此处的时间（闰秒？）；请写成 2026-11-25T10:00:00+08:00",
	"id %s does not match the file name %s.yaml":                                           "编号 %s 与文件名 %s.yaml 不一致",
	"owner %s is not a person of the policy":                                               "负责人 %s 不是策略中的人员",
	"history entries are in time order, oldest first":                                      "历史记录须按时间顺序排列，最早的在前",
	"quarter %s does not match the file name %s.yaml":                                      "季度 %s 与文件名 %s.yaml 不一致",
	"%s does not hold the role %s in the policy":                                           "%s 在策略中不担任角色 %s",
	"release folder %s is not a release id (REL-2026-0042)":                                "发布目录 %s 不是发布编号（REL-2026-0042）",
	"the release folder has no release.yaml; run relgate new release %s":                   "发布目录中没有 release.yaml；请运行 relgate new release %s",
	"release %s does not match the folder %s":                                              "发布编号 %s 与目录 %s 不一致",
	"id %s does not match the folder %s":                                                   "编号 %s 与目录 %s 不一致",
	"step ends before it starts":                                                           "步骤的结束时间早于开始时间",
	"testing ends before it starts":                                                        "测试的结束时间早于开始时间",
	"category %s is reported twice":                                                        "测试类别 %s 重复报告",
	"task ends before it starts":                                                           "任务的结束时间早于开始时间",
	"deployment finishes before it starts":                                                 "部署的完成时间早于开始时间",
	"type %s is not one of the policy's release types %v":                                  "类型 %s 不是策略中的发布类型 %v 之一",
	"department %s is not defined in the policy":                                           "部门 %s 未在策略中定义",
	"the window ends before it starts":                                                     "发布窗口的结束时间早于开始时间",
	"the window starts before the release was created":                                     "发布窗口的开始时间早于发布创建时间",
	"change %s is cited twice":                                                             "变更 %s 重复引用",
	"change %s does not exist in changes/; add it, or mark it external: true with its url": "changes/ 中没有变更 %s；请添加，或标记 external: true 并填写其链接",
	"configuration item %s is listed twice":                                                "配置项 %s 重复列出",
	"configuration item %s does not exist in cmdb/; use action: add for a new item":        "cmdb/ 中没有配置项 %s；新配置项请用 action: add",
	"configuration item %s already exists in cmdb/; use action: update":                    "配置项 %s 已在 cmdb/ 中；请用 action: update",
	"configuration item %s is neither in release.yaml items nor in cmdb/":                  "配置项 %s 既不在 release.yaml 的 items 中，也不在 cmdb/ 中",
	"the file name says gate %s by %s, the content gate %s by %s; name it %s.%s.yaml":      "文件名表示 %s 关口、审批人 %s，内容却是 %s 关口、审批人 %s；请命名为 %s.%s.yaml",
	"gate %s is not a release gate of the policy":                                          "%s 不是策略中的发布关口",
	"gate %s does not require the role %s":                                                 "关口 %s 不要求角色 %s",
	"the file name says gate %s by %s, the content gate %s by %s":                          "文件名表示 %s 关口、审批人 %s，内容却是 %s 关口、审批人 %s",
	"approvals at the repository root are for the repository gates (policy-change, change-record, cmdb-change, review-change); release approvals go in releases/<id>/approvals/": "仓库根目录的审批用于仓库关口（policy-change、change-record、cmdb-change、review-change）；发布的审批请放在 releases/<编号>/approvals/",
	"an approval of a repository gate names no release":                                                     "仓库关口的审批不填写发布编号",
	"waive and requires are for standard types; a %s type follows its own rule":                             "waive 和 requires 仅用于 standard 类型；%s 类型按其自身规则执行",
	"approver, retrospective and retrospectiveDays are for emergency types; a %s type follows its own rule": "approver、retrospective 和 retrospectiveDays 仅用于 emergency 类型；%s 类型按其自身规则执行",
	"gate %s records what happened and is never waived":                                                     "关口 %s 记录实际发生的情况，不得免除",
	"gate %s comes at or after the go-live; only gates before it can be given after the fact":               "关口 %s 在上线之时或之后；只有上线之前的关口可以事后补批",
}

var printers = func() map[string]*message.Printer {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for en, cn := range zh {
		_ = b.SetString(language.Chinese, en, cn)
	}
	return map[string]*message.Printer{
		"en": message.NewPrinter(language.English, message.Catalog(b)),
		"zh": message.NewPrinter(language.Chinese, message.Catalog(b)),
	}
}()

// t formats a message in the checker's language.
func (c *checker) t(format string, args ...any) string {
	p, ok := printers[c.lang]
	if !ok {
		p = printers["zh"]
	}
	return p.Sprintf(format, args...)
}

// lit translates a message that has no arguments.
func (c *checker) lit(msg string) string {
	if c.lang == "en" {
		return msg
	}
	if cn, ok := zh[msg]; ok {
		return cn
	}
	return msg
}
