package i18n

// Kinds of the procedure's terms.
const (
	KindState   = "state"
	KindGate    = "gate"
	KindRole    = "role"
	KindOutcome = "outcome"
	KindType    = "type"
	KindReason  = "reason"
	KindTest    = "test"
)

// Term is a word of the procedure's vocabulary: a lifecycle state, gate,
// role, deployment outcome, release type, reason an approval does not count,
// or test category. In English it is its id (what people type); in Chinese
// the procedure's word, or the id when the policy defines its own.
type Term struct {
	Kind, ID string
}

// Terms of each kind.
func State(id string) Term   { return Term{KindState, id} }
func Gate(id string) Term    { return Term{KindGate, id} }
func Role(id string) Term    { return Term{KindRole, id} }
func Outcome(id string) Term { return Term{KindOutcome, id} }
func Type(id string) Term    { return Term{KindType, id} }
func Reason(id string) Term  { return Term{KindReason, id} }
func Test(id string) Term    { return Term{KindTest, id} }

func (t Term) String() string { return t.ID }

// In is the term's word in l.
func (t Term) In(l Lang) string {
	if l == Chinese {
		if w, ok := vocabulary[t.Kind][t.ID]; ok {
			return w
		}
	}
	return t.ID
}

// Labelled is the word with the id beside it in Chinese ("发布方案评审
// (plan-review)"), where people need the id to type it; the id in English.
func (t Term) Labelled(l Lang) string {
	w := t.In(l)
	if w == t.ID {
		return w
	}
	return w + " (" + t.ID + ")"
}

// vocabulary is the procedure's words (发布管理程序 TFDL-ITSS-1507).
var vocabulary = map[string]map[string]string{
	KindState: {
		"plan-review":      "方案评审",
		"testing":          "测试与验收",
		"go-live-approval": "上线审批",
		"ready-to-deploy":  "待部署",
		"deployed":         "已部署",
		"confirmed":        "已确认",
		"closed":           "已关闭",
	},
	KindGate: {
		"plan-review":             "发布方案评审",
		"test-acceptance":         "测试验收",
		"go-live-approval":        "上线审批",
		"deployment-confirmation": "部署确认",
		"closure":                 "发布关闭",
		"policy-change":           "流程变更",
		"closed-release-change":   "已关闭发布的变更",
		"change-record":           "变更请求登记",
		"cmdb-change":             "配置库变更",
		"review-change":           "季度回顾变更",
	},
	KindRole: {
		"release-owner":           "发布负责人",
		"release-manager":         "发布管理员",
		"release-tester":          "发布测试员",
		"implementer":             "发布实施人员",
		"customer-representative": "客户代表",
		"configuration-manager":   "配置管理员",
		"change-manager":          "变更经理",
		"process-approver":        "流程审批人",
		"department-head":         "部门负责人",
	},
	KindOutcome: {
		"succeeded":   "成功",
		"failed":      "失败",
		"rolled-back": "已回退",
	},
	KindType: {
		"normal":    "常规",
		"minor":     "小型",
		"standard":  "标准",
		"emergency": "紧急",
	},
	KindReason: {
		"stale":           "已过期",
		"not-in-role":     "不具备角色",
		"self-approval":   "自我审批",
		"unauthenticated": "未经认证",
		"misdated":        "日期不实",
		"wrong-release":   "不属于本发布",
		"not-required":    "无需此审批",
	},
	KindTest: {
		"technical":             "技术操作",
		"functional":            "功能方面",
		"operational":           "运营方面",
		"performance":           "性能方面",
		"compatibility":         "与IT基础设施其他部分的兼容性",
		"installation-rollback": "发布单元的安装顺序、回滚程序和管理程序的变更",
	},
}
