package scaffold

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/relgate/relgate/controller/document"
)

// Setup is what `relgate init` asks for.
type Setup struct {
	Organization string
	Timezone     string
	Lang         string // zh or en
	Bot          document.Person
	People       []document.Person
	Departments  []document.Department
	// Roles maps a role to the logins holding it; RoleOrder is the order written.
	Roles             map[string][]string
	RoleOrder         []string
	TrustCommitAuthor bool
}

// InitDirs are the folders a new release repository starts with.
var InitDirs = []string{document.ReleasesDir, document.ChangesDir, document.CMDBDir}

// Init returns the files of a new release repository: the policy with
// comments in the chosen language, the schemas for editors, a README for
// its users, the CI workflow and the empty document folders.
func Init(s Setup) ([]File, error) {
	if s.Lang == "" {
		s.Lang = "zh"
	}
	var out []File
	for _, t := range []struct{ tmpl, dest string }{
		{"relgate.yaml.tmpl", document.PolicyPath},
		{"README." + s.Lang + ".md.tmpl", "README.md"},
	} {
		f, err := renderWith(t.tmpl, t.dest, s.Lang, policyData(s))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	wf, err := templates.ReadFile("templates/workflow.yml")
	if err != nil {
		return nil, err
	}
	out = append(out, File{Path: ".github/workflows/relgate.yml", Content: wf})
	schemaFiles, err := SchemaFiles()
	if err != nil {
		return nil, err
	}
	out = append(out, schemaFiles...)
	for _, d := range InitDirs {
		out = append(out, File{Path: path.Join(d, ".gitkeep")})
	}
	return out, nil
}

// roleNotes explain each built-in role in the policy's comments.
var roleNotes = map[string][2]string{
	"release-owner":           {"发布负责人（R-4.1）：评审发布方案、批准上线", "release owner (R-4.1): reviews the plan, approves go-live"},
	"release-manager":         {"发布管理员（R-4.2）：编写方案、组织上线、确认部署结果", "release manager (R-4.2): writes the plan, runs the go-live, confirms the deployment"},
	"release-tester":          {"发布测试员（R-4.3）：编写测试报告", "release tester (R-4.3): writes the test report"},
	"implementer":             {"发布实施人员（R-5.1.9、R-5.1.10）：部署、记录部署、关闭发布", "implementer (R-5.1.9, R-5.1.10): deploys, records the deployment, closes the release"},
	"customer-representative": {"客户代表（R-5.1.4、R-5.1.8）：验收测试、确认部署结果", "customer representative (R-5.1.4, R-5.1.8): accepts the tests, confirms the deployment"},
	"configuration-manager":   {"配置管理员（R-3.4）：批准 cmdb/ 的修改", "configuration manager (R-3.4): approves changes of cmdb/"},
	"change-manager":          {"变更经理（R-3.3、R-9）：批准 changes/ 的修改", "change manager (R-3.3, R-9): approves changes of changes/"},
	"process-approver":        {"流程修改审批人（R-7）：批准 relgate.yaml 的修改及已关闭发布的修改", "process approver (R-7): approves changes of relgate.yaml and of closed releases"},
}

type policyRole struct {
	Name, Note string
	Logins     []string
}

type policySetup struct {
	Setup
	RoleList []policyRole
	BotLogin string
}

func policyData(s Setup) policySetup {
	d := policySetup{Setup: s, BotLogin: s.Bot.Login}
	order := slices.Clone(s.RoleOrder)
	for r := range s.Roles {
		if !slices.Contains(order, r) {
			order = append(order, r)
		}
	}
	for _, r := range order {
		note := roleNotes[r][0]
		if s.Lang == "en" {
			note = roleNotes[r][1]
		}
		if note == "" {
			note = map[bool]string{true: "the team's own role", false: "团队自定义角色"}[s.Lang == "en"]
		}
		d.RoleList = append(d.RoleList, policyRole{Name: r, Note: note, Logins: s.Roles[r]})
	}
	return d
}

func renderWith(tmpl, dest, lang string, data any) (File, error) {
	t, err := newTemplate(tmpl, lang)
	if err != nil {
		return File{}, err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return File{}, fmt.Errorf("template %s: %w", tmpl, err)
	}
	return File{Path: dest, Content: []byte(b.String())}, nil
}
