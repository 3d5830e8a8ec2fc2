package i18n

// zh is the Chinese catalogue, keyed by the English format string. Every key
// a presenter or the gate formats must be here (TestCatalogueCoversSource).
// %[n]s puts arguments in Chinese word order.
var zh = map[string]string{
	// Identity: a sentence written elsewhere, passed through.
	"%s":   "%s",
	": %s": "：%s",

	// gate: documents
	"%s is missing":  "缺少 %s",
	"%s is complete": "%s 已完整",
	"%s is incomplete or invalid; run relgate validate": "%s 不完整或无效；请运行 relgate validate 查看",
	"%s is present but gate %s has not passed (%s)":     "已有 %[1]s，但关卡「%[2]s」尚未通过（%[3]s）",

	// gate: what is missing
	"gate %s must pass first":                   "须先通过关卡「%s」",
	"%s approval(s) of %s missing%s":            "缺少 %[1]s 个%[2]s的审批%[3]s",
	"; who may give it: %s":                     "；可审批人：%s",
	"; nobody holds this role for this release": "；本发布没有人担任此角色",
	"; nobody who may give it is left":          "；已没有可以审批的人",
	"; %s holds %s but is excluded: %s":         "；%[1]s 担任%[2]s，但不得审批：%[3]s",
	"rejected by %s (%s)":                       "%[1]s（%[2]s）已驳回",
	"%s; it blocks until they withdraw it":      "%s；在其本人撤回之前关卡不能通过",

	// gate: separation of duties
	"they opened the change under review": "审阅中的变更（拉取请求）是其本人提交的",
	"committed %s in %s":                  "在提交 %[2]s 中提交了 %[1]s",
	"authored %s in %s":                   "在提交 %[2]s 中编写了 %[1]s",
	"%s names them as its author":         "%s 写明其为作者",

	// gate: approvals that do not count
	"the approval is for %s, not %s: record it under the release it approves": "该审批针对 %[1]s，而非 %[2]s：请在其所审批的发布下记录",
	"%s; it counts once a commit authenticates %s: signed with a key the policy lists for them (relgate approve --commit signs it), or authored by them if the policy trusts commit authorship": "%[1]s；须由能证明 %[2]s 身份的提交添加才计入：用策略为其登记的密钥签名（relgate approve --commit 会签名），或在策略信任提交作者时由其本人作为作者提交",
	"%s; record the approval again with its true time":                                                                                      "%s；请按真实时间重新记录审批",
	"it confirms, at %s, a deployment that finished at %s: a deployment is confirmed after it finished (R-5.1.8)":                           "确认时间 %[1]s 早于部署结束时间 %[2]s：部署须在完成后确认（R-5.1.8）",
	"%s no longer holds %s for this release as release.yaml now reads; changing the release does not lift a rejection":                      "按 release.yaml 当前内容，%[1]s 已不再担任本发布的%[2]s；修改发布不能解除驳回",
	"gate %s does not require the role %s; approve with a role it requires (relgate approve --role)":                                        "关卡「%[1]s」不需要%[2]s的审批；请以该关卡要求的角色审批（relgate approve --role）",
	"%s does not hold %s in the base policy; the policy's roles say who may approve (a policy change adds them)":                            "在基准策略中 %[1]s 不担任%[2]s；可审批人由策略的角色决定（通过流程变更添加）",
	"%s holds %s, but release.yaml does not name them for it; name them in release.yaml people, or have the person it names approve":        "%[1]s 担任%[2]s，但 release.yaml 未指定其担任本发布的该角色；请在 release.yaml 的 people 中指定，或由指定的人审批",
	"%s may not approve what they wrote (separation of duties): %s; another holder of %s must approve":                                      "%[1]s 不得审批自己编写的内容（职责分离）：%[2]s；须由另一位%[3]s审批",
	"approved %s, but the covered documents now digest to %s: changed after the approval: %s; %s must review the change and approve again":  "审批的是 %[1]s，但所涵盖文档的摘要现为 %[2]s：审批后有修改：%[3]s；%[4]s 须审阅修改后重新审批",
	"approved %s, but the covered documents now digest to %s: they changed after the approval; %s must review the change and approve again": "审批的是 %[1]s，但所涵盖文档的摘要现为 %[2]s：审批后文档有修改；%[3]s 须审阅修改后重新审批",
	"%s already counts for this gate; a person counts once per gate":                                                                        "%s 已计入本关卡；同一人在一个关卡只计一次",

	// gate: plan review
	"change %s does not exist in changes/":                         "变更请求 %s 在 changes/ 中不存在",
	"change %s is invalid; run relgate validate":                   "变更请求 %s 无效；请运行 relgate validate 查看",
	"change %s is %s, not approved":                                "变更请求 %[1]s 的状态为 %[2]s，尚未批准",
	"the release implements no approved change request":            "本发布未实施任何已批准的变更请求",
	"the release bundles %s change requests; the policy allows %s": "本发布包含 %[1]s 个变更请求；策略最多允许 %[2]s 个",
	"implements approved change requests":                          "实施的是已批准的变更请求",

	// gate: testing and acceptance
	"written by release tester %s":                                            "由发布测试员 %s 编写",
	"the test report's author %s is not a release tester of this release":     "测试报告的作者 %s 不是本发布的发布测试员",
	"the tester is not the plan's author":                                     "测试人员不是发布方案的作者",
	"%s wrote both the plan and its test report; another tester must test it": "%s 既编写了发布方案又编写了测试报告；须由另一位测试员测试",
	"every test category of R-5.1.4 is covered":                               "R-5.1.4 的各项测试内容均已覆盖",
	"test categories not covered: %s":                                         "未覆盖的测试内容：%s",
	"results match expectations: verdict pass":                                "测试结果与预期一致：结论为通过",
	"verdict %s; failed categories: %s":                                       "结论为 %[1]s；未通过的测试内容：%[2]s",
	"every item's target version was tested":                                  "每个配置项的目标版本均已测试",
	"target versions not in the tested artifacts: %s":                         "以下目标版本不在已测试的制品中：%s",

	// gate: go-live approval
	"everyone acknowledged their responsibilities":                                      "每个人都已确认自己的职责",
	"responsibilities not acknowledged by: %s":                                          "以下人员尚未确认职责：%s",
	"no responsibilities were communicated":                                             "未传达任何职责",
	"the customer was told of every phase":                                              "每个阶段都已告知客户",
	"phases without a customer notification: %s":                                        "以下阶段未告知客户：%s",
	"the window falls in blackout window %s; the process approver must approve as well": "发布窗口落在封网期 %s 内；还须流程审批人审批",

	// gate: deployment confirmation
	"relgate wrote this record from the pipeline's report; people confirm it":                                                                                                                     "此记录由 relgate 根据流水线的报告写入；由相关人员确认",
	"the deployment gate allowed this deployment, with these artifacts":                                                                                                                           "部署关卡允许了此次部署及这些制品",
	"the rollback plan was carried out and the surrounding systems were told":                                                                                                                     "已执行回退方案并已通知周边关联系统",
	"a failed deployment records that the rollback plan was carried out (rollback.executed) and the surrounding systems were told (rollback.surroundingSystemsNotified)":                          "失败的部署须记录已执行回退方案（rollback.executed）并已通知周边关联系统（rollback.surroundingSystemsNotified）",
	"the rollback restored the versions its plan names":                                                                                                                                           "回退恢复的正是回退方案所列的版本",
	"the rollback restored versions its plan (plan.yaml rollback.restoreVersions) does not name: %s; restore what the reviewed rollback plan says, or record and report what was really restored": "回退恢复了回退方案（plan.yaml 的 rollback.restoreVersions）未列出的版本：%s；请按评审过的回退方案恢复，或如实记录并报告实际恢复的版本",
	"nothing was deployed": "未部署任何内容",
	"the release has no test report: nothing deployed was tested": "本发布没有测试报告：所部署的内容均未经测试",
	"the versions deployed are the versions tested":               "部署的版本即测试过的版本",
	"deployed versions that were not tested (test-report.yaml artifacts): %s; record exactly the item, version and digest that reached production: if an untested one did, that is an R-3.1 violation whatever the outcome and must be reported, not confirmed": "部署了未经测试的版本（对照 test-report.yaml 的 artifacts）：%s；请如实记录进入生产环境的配置项、版本和摘要：如果确有未经测试的版本进入生产，无论结果如何都违反 R-3.1，应报告而不是确认",
	"release.yaml is missing or invalid, so the deployment record cannot be checked against the release's items; run relgate validate":                                                                                                                          "release.yaml 缺失或无效，无法对照发布的配置项检查部署记录；请运行 relgate validate 查看",
	"deployed lists what release.yaml does not install at that version and digest: %s; a release deploys only its items at their target versions (R-3.1): correct the record, or record and report what really reached production":                              "deployed 列出了 release.yaml 未以该版本和摘要安装的内容：%s；发布只部署其配置项的目标版本（R-3.1）：请更正记录，或如实记录并报告实际进入生产环境的内容",
	"deployed lists only items of the release at their target versions; outcome %s says it may be partial":                                                                                                                                                      "deployed 只列出了本发布配置项的目标版本；部署结果为「%s」，说明可能只部署了一部分",
	"deployed lists every item the release installs": "deployed 列出了本发布安装的全部配置项",
	"outcome succeeded but deployed is empty: list every item the release installs with its version and digest (%s), or record outcome failed or rolled-back with the rollback if the deployment did not complete": "部署结果为成功，但 deployed 为空：请列出本发布安装的每个配置项及其版本和摘要（%s）；如果部署未完成，请记录结果为 failed 或 rolled-back 并记录回退",
	"outcome succeeded but deployed does not list %s: list every item the release installs with its version and digest, or record outcome failed or rolled-back with the rollback if the deployment was partial":   "部署结果为成功，但 deployed 未列出 %s：请列出本发布安装的每个配置项及其版本和摘要；如果只部署了一部分，请记录结果为 failed 或 rolled-back 并记录回退",

	// gate: closure
	"closed by implementer %s":                                              "由发布实施人员 %s 关闭",
	"%s is not an implementer of this release":                              "%s 不是本发布的发布实施人员",
	"closure.yaml was committed by %s":                                      "closure.yaml 由 %s 提交",
	"closure.yaml names %s, but the commit that wrote it is not theirs: %s": "closure.yaml 写明由 %[1]s 关闭，但写入它的提交不是其本人的：%[2]s",
	"the CMDB shows the deployed versions":                                  "配置库已记录部署的版本",
	"the CMDB shows the restored versions":                                  "配置库已记录回退恢复的版本",
	"CMDB items not showing the deployed versions with a history entry naming the release: %s; relgate reconcile writes them": "以下配置项尚未记录部署的版本及注明本发布的历史条目：%s；relgate reconcile 会写入",
	"CMDB items not showing the restored versions with a history entry naming the release: %s; relgate reconcile writes them": "以下配置项尚未记录回退恢复的版本及注明本发布的历史条目：%s；relgate reconcile 会写入",
	"the release report is present":                                 "发布报告已生成",
	"the release report %s is missing; relgate reconcile writes it": "缺少发布报告 %s；relgate reconcile 会生成",
	// present: status
	"warning: %s\n":                          "警告：%s\n",
	"  state:   %s":                          "  状态：    %s",
	" (deployment %s)":                       "（部署结果：%s）",
	"none":                                   "无",
	"  passed:  %s\n":                        "  已通过：  %s\n",
	"  next:    %s [%s]\n":                   "  下一关卡：%s [%s]\n",
	"  not counted: %s by %s (%s): %s: %s\n": "  未计入：「%[1]s」的审批，%[2]s（%[3]s）：%[4]s：%[5]s\n",
	"  violation: %s\n":                      "  违规：%s\n",

	// present: gate
	"PASS":                      "通过",
	"BLOCKED":                   "未通过",
	"relgate gate %s..%s: %s\n": "relgate 关卡检查 %s..%s：%s\n",
	"problem: %s\n":             "问题：%s\n",
	"\n%s (state %s): %s\n":     "\n%s（状态：%s）：%s\n",
	"  changes: %s\n":           "  本次修改：%s\n",
	"%s (added)":                "%s（新增）",
	"%s (deleted)":              "%s（删除）",
	"%s (modified)":             "%s（修改）",
	"  approvals it records:\n": "  本次记录的审批：\n",
	"%s by %s (%s): counts":     "%[2]s（%[3]s）对「%[1]s」的审批：计入",
	"%s by %s (%s): rejects; the gate is blocked until they withdraw it":                            "%[2]s（%[3]s）驳回了「%[1]s」：在其本人撤回之前关卡不能通过",
	"%s by %s (%s): does not count: %s: %s":                                                         "%[2]s（%[3]s）对「%[1]s」的审批不计入：%[4]s：%[5]s",
	"%s by %s: the file is invalid and does not count; run relgate validate":                        "%[2]s 对「%[1]s」的审批文件无效，不计入；请运行 relgate validate 查看",
	"%s by %s (%s): no gate of this release decides it":                                             "%[2]s（%[3]s）对「%[1]s」的审批：本发布没有关卡使用它",
	"no gate must pass for this change yet: it records no step past the one the release is in (%s)": "本次变更暂不需要通过任何关卡：它没有记录发布当前步骤（%s）之后的步骤",
	"no gate must pass for this change yet: %s belong to the step the release is in (%s); a gate must have passed only before a later step's documents are added (golive.yaml after plan-review, deployment.yaml after go-live-approval, closure.yaml after deployment-confirmation)": "本次变更暂不需要通过任何关卡：%[1]s 属于发布当前所处的步骤（%[2]s）；只有添加后续步骤的文档时才要求关卡已通过（发布方案评审通过后才能添加 golive.yaml，上线审批通过后才能添加 deployment.yaml，部署确认通过后才能添加 closure.yaml）",
	"  problem: %s\n":                                        "  问题：%s\n",
	"  gate %s [%s]: %s\n":                                   "  关卡 %s [%s]：%s\n",
	"    for %s\n":                                           "    针对 %s\n",
	"    approved: %s by %s\n":                               "    已审批：%s：%s\n",
	"    ok: %s\n":                                           "    满足：%s\n",
	"    missing: %s\n":                                      "    未满足：%s\n",
	"    not counted: %s (%s): %s: %s\n":                     "    未计入：%[1]s（%[2]s）：%[3]s：%[4]s\n",
	"Base `%s` → head `%s`. Policy from base.\n\n":           "基准 `%s` → 变更 `%s`。策略取自基准分支。\n\n",
	"### Validation\n\n":                                     "### 校验\n\n",
	"### relgate.yaml (policy change, R-7)\n\n":              "### relgate.yaml（流程变更，R-7）\n\n",
	"### changes/ (change requests, R-9)\n\n":                "### changes/（变更请求，R-9）\n\n",
	"### %s %s — state `%s`\n\n":                             "### %s %s — 状态：%s\n\n",
	"Changes: %s\n\n":                                        "本次修改：%s\n\n",
	"Approvals it records:\n\n":                              "本次记录的审批：\n\n",
	"| requirement | approved by | missing | may supply |\n": "| 审批要求 | 已审批 | 缺少 | 可审批人 |\n",
	"- ⛔ gate %s must pass first\n":                          "- ⛔ 须先通过关卡「%s」\n",
	"- ⛔ rejected by %s (%s): %s\n":                          "- ⛔ %[1]s（%[2]s）已驳回：%[3]s\n",
	"- ⚠️ not counted: %s (%s) — **%s**: %s\n":               "- ⚠️ 未计入：%[1]s（%[2]s）—— **%[3]s**：%[4]s\n",

	// Warnings and problems written elsewhere, known whole (Lang.Known).
	"the policy trusts commit authorship (trustCommitAuthor): approvals are unauthenticated":      "策略信任提交作者（trustCommitAuthor）：审批未经签名认证",
	"the base policy trusts commit authorship (trustCommitAuthor): approvals are unauthenticated": "基准策略信任提交作者（trustCommitAuthor）：审批未经签名认证",

	" (%s)":           "（%s）",
	"%s in commit %s": "%[1]s（提交 %[2]s）",
	"%s validation error(s) in the changed documents":                                     "修改的文档中有 %s 处校验错误",
	"%s: not authenticated: %s":                                                           "%[1]s：未经认证：%[2]s",
	"%s: the rejection by %s is deleted; only they withdraw it, by recording an approval": "%[1]s：%[2]s 的驳回被删除了；驳回只能由其本人通过记录一次审批来撤回",
	"%s: the approval of %s by %s that this change adds does not count (%s): %s":          "%[1]s：本次变更添加的 %[3]s 对「%[2]s」的审批不计入（%[4]s）：%[5]s",
	"the change deletes release %s; releases are never deleted (R-3.2)":                   "本次变更删除了发布 %s；发布永不删除（R-3.2）",
	"%s: %s (%s)": "%s：%s（%s）",
	"the change only records a rejection by its author, which is always allowed; the release waits for this gate again": "本次变更只记录了审批人本人的驳回，这总是允许的；发布重新等待此关卡",
}
