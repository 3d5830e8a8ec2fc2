package scaffold_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/scaffold"
)

// TestExampleSchemasCurrent: the schemas committed beside the example
// repository for editors are the ones built into relgate.
func TestExampleSchemasCurrent(t *testing.T) {
	files, err := scaffold.SchemaFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join("../../examples/release-repo", f.Path))
		if err != nil {
			t.Fatalf("%v; run: go run ./controller/cmd/relgate schemas examples/release-repo", err)
		}
		if string(got) != string(f.Content) {
			t.Errorf("examples/release-repo/%s is out of date; run: go run ./controller/cmd/relgate schemas examples/release-repo", f.Path)
		}
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

// fixture is a release as the repository would know it.
func fixture(lang string) scaffold.Values {
	rel := &document.Release{ID: "REL-2026-0001", Title: "营销应用升级", Systems: []string{"营销系统"},
		Items:  []document.Item{{ID: "marketing-app", Action: "update", Version: "5.7.0", Digest: "sha256:" + strings.Repeat("2", 64)}},
		People: document.ReleasePeople{Owner: "zhangwei", Manager: "wangfang", Testers: []string{"chenjie"}, Implementers: []string{"sunlei"}, CustomerRepresentative: "huangli"},
		Window: document.Period{Start: "2026-11-20T22:00:00+08:00", End: "2026-11-21T02:00:00+08:00"}}
	plan := &document.Plan{Steps: []document.Step{{Name: "部署", Owner: "sunlei", People: []string{"sunlei"}, Start: rel.Window.Start, End: rel.Window.End}},
		Rollback: document.RollbackPlan{Systems: []string{"营销系统"}, Steps: []string{"恢复 5.6.2"}, Notify: []string{"电费结算系统"},
			RestoreVersions: []document.VersionRef{{Item: "marketing-app", Version: "5.6.2", Digest: "sha256:" + strings.Repeat("1", 64)}}}}
	return scaffold.Values{ID: "REL-2026-0001", Title: rel.Title, Type: "normal", Owner: "zhangwei", Manager: "wangfang",
		Now: "2026-11-03T09:00:00+08:00", Example: "2026-11-10T22:00:00+08:00", Lang: lang, Types: []string{"normal", "minor", "emergency"},
		Systems: rel.Systems, Changes: []string{"CHG-2026-0001"}, Depts: []string{"marketing-service"}, Items: rel.Items, Installs: rel.Items,
		Testers: rel.People.Testers, Implementers: rel.People.Implementers, CustomerRepresentative: "huangli",
		Start: rel.Window.Start, End: rel.Window.End, Categories: document.TestCategories,
		Choices: map[string][]string{"release-owner": {"zhangwei"}, "release-manager": {"wangfang", "lina"}, "change-manager": {"hejun"}},
		Release: rel, Plan: plan, Restore: plan.Rollback.RestoreVersions,
		Files: []string{"releases/REL-2026-0001/release.yaml"}, Participants: []string{"wangfang", "sunlei"}, Failed: []string{"REL-2026-0002"}}
}

// TestTemplatesGolden: every kind's template in each language, from a
// fixed release; each parses as YAML.
func TestTemplatesGolden(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		for _, kind := range scaffold.Kinds {
			t.Run(lang+"/"+kind, func(t *testing.T) {
				v := fixture(lang)
				var files []scaffold.File
				var err error
				switch kind {
				case "release":
					files, err = scaffold.Release(v)
				case "change":
					v.ID = "CHG-2026-0001"
					files, err = scaffold.Change(v)
				case "cmdb-item":
					v.ID = "marketing-app"
					files, err = scaffold.CMDBItem(v)
				case "review":
					v.ID = "2026Q4"
					files, err = scaffold.Review(v)
				default:
					files, err = scaffold.Document(kind, v)
				}
				if err != nil {
					t.Fatal(err)
				}
				f := files[0]
				var node yaml.Node
				if err := yaml.Unmarshal(f.Content, &node); err != nil {
					t.Fatalf("%s does not parse: %v\n%s", f.Path, err, f.Content)
				}
				p := filepath.Join("testdata", lang, kind+".yaml")
				if *update {
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, f.Content, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (go test ./controller/scaffold -update)", err)
				}
				if string(want) != string(f.Content) {
					t.Errorf("%s differs (go test ./controller/scaffold -run %s -update):\n%s", p, t.Name(), f.Content)
				}
			})
		}
	}
}

// TestTemplatesQuoteInput: what a person types into a flag stays one value:
// quotes, newlines and YAML syntax in a title never add a field.
func TestTemplatesQuoteInput(t *testing.T) {
	hostile := "x\"\nowner: mallory\n# ✎ ': - [ {"
	v := fixture("zh")
	v.Title = hostile
	v.Systems = []string{hostile}
	files, err := scaffold.Release(v)
	if err != nil {
		t.Fatal(err)
	}
	var rel document.Release
	if err := yaml.Unmarshal(files[0].Content, &rel); err != nil {
		t.Fatalf("%v\n%s", err, files[0].Content)
	}
	if rel.Title != hostile || len(rel.Systems) != 1 || rel.Systems[0] != hostile || rel.People.Owner != "zhangwei" {
		t.Errorf("the input changed the document: %+v", rel)
	}
}

// TestInitPolicyDecodes: the policy init writes decodes to what was asked.
func TestInitPolicyDecodes(t *testing.T) {
	s := scaffold.Setup{Organization: "示例\"公司", Timezone: "Asia/Shanghai", Lang: "en",
		Bot:         document.Person{Login: "relgate-bot", Name: "relgate-bot", Email: "bot@example.cn", Bot: true},
		People:      []document.Person{{Login: "zhangwei", Name: "张伟", Email: "zw@example.cn"}},
		Departments: []document.Department{{ID: "ops", Name: "运维", Head: "zhangwei"}},
		Roles:       map[string][]string{"release-owner": {"zhangwei"}, "auditor": {"zhangwei"}}, RoleOrder: []string{"release-owner"}}
	files, err := scaffold.Init(s)
	if err != nil {
		t.Fatal(err)
	}
	var pol document.Policy
	if err := yaml.Unmarshal(files[0].Content, &pol); err != nil {
		t.Fatalf("%v\n%s", err, files[0].Content)
	}
	if pol.Organization != s.Organization || len(pol.People) != 2 || !pol.People[1].Bot || pol.Roles["auditor"][0] != "zhangwei" || pol.TrustCommitAuthor {
		t.Errorf("decoded %+v", pol)
	}
}
