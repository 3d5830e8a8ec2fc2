package docschema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/yamldoc"
	"github.com/relgate/relgate/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const examples = "../../examples/release-repo/"

const approval = `apiVersion: relgate.dev/v1
kind: Approval
release: REL-2026-0041
gate: plan-review
person: zhangwei
role: release-owner
decision: approve
digest: sha256:e12adff11a2f2b284ccb2ca8dc095fc16538ce1a2b885067f9ffc8112237daff
at: "2026-10-18T09:30:00+08:00"
`

const review = `apiVersion: relgate.dev/v1
kind: Review
quarter: 2026Q4
heldAt: "2026-11-10T22:00:00+08:00"
participants:
  - wangfang
  - sunlei
retrospectives: []
actions:
  - id: A1
    description: 前置机升级前核对厂站通道参数
    owner: sunlei
    due: 2027-01-31
    status: open
`

// edit returns base with old replaced by new; old must occur exactly once.
func edit(t *testing.T, base, old, new string) string {
	t.Helper()
	if strings.HasPrefix(base, "@") {
		data, err := os.ReadFile(examples + base[1:])
		if err != nil {
			t.Fatal(err)
		}
		base = string(data)
	}
	if n := strings.Count(base, old); n != 1 {
		t.Fatalf("%q occurs %d times in the base document", old, n)
	}
	return strings.Replace(base, old, new, 1)
}

const (
	rel    = "@releases/REL-2026-0041/release.yaml"
	dep    = "@releases/REL-2026-0041/deployment.yaml"
	golive = "@releases/REL-2026-0041/golive.yaml"
	pol    = "@relgate.yaml"
	cmdb   = "@cmdb/d5000-scada-frontend.yaml"
	tr     = "@releases/REL-2026-0041/test-report.yaml"
)

type messageCase struct {
	name string
	kind document.Kind
	doc  func(t *testing.T) string
	code string // the kind of problem the document has, and its only one
}

func cases() []messageCase {
	e := func(base, old, new string) func(t *testing.T) string {
		return func(t *testing.T) string { return edit(t, base, old, new) }
	}
	return []messageCase{
		{"required", document.KindApproval, e(approval, "role: release-owner\n", ""), "required"},
		{"required-if-then release gate names its release", document.KindApproval, e(approval, "release: REL-2026-0041\n", ""), "required"},
		{"required-if-then item version", document.KindRelease, e(rel, "    version: \"4.4.0\"\n", ""), "required"},
		{"required-if-then cmdb history version", document.KindCMDBItem, e(cmdb, "    version: \"4.3.2\"\n", ""), "required"},
		{"required-if-then external change url", document.KindRelease, e("@releases/REL-2026-0042/release.yaml", "    url: https://itsm.grid-it.example.cn/change/CHG-2026-10388\n", ""), "required"},
		{"required-if-then done action doneAt", document.KindReview, e(review, "status: open", "status: done"), "required"},
		{"required-if-then phased rollout phases", document.KindGoLive, e(golive, "rolloutMode: all-at-once", "rolloutMode: phased"), "required"},
		{"unknown field misspelt", document.KindApproval, e(approval, "decision:", "decison:"), "unknown"},
		{"unknown field case", document.KindDeployment, e(dep, "recordedBy:", "recordedby:"), "unknown"},
		{"unknown field nothing close", document.KindApproval, e(approval, "at:", "weather: fine\nat:"), "unknown"},
		{"type number for text", document.KindRelease, e(rel, `version: "4.4.0"`, "version: 4.40"), "type"},
		{"type text for boolean", document.KindRelease, e("@releases/REL-2026-0042/release.yaml", "external: true", "external: yes"), "type"},
		{"type text for list", document.KindRelease, e(rel, "testers:\n    - lina\n    - chenjie", "testers: lina"), "type"},
		{"empty text", document.KindRelease, e(rel, "title: D5000 调度系统前置机升级及 OMS 检修申请工作流优化", `title: ""`), "empty"},
		{"max-length", document.KindDeployment, e(dep, "outcome: succeeded", "outcome: succeeded\nreceipt:\n  source: ci\n  run: https://ci.example.cn/run/1\n  environment: "+strings.Repeat("e", 256)), "max-length"},
		{"pattern login closest", document.KindApproval, e(approval, "person: zhangwei", "person: Zhang_wei"), "pattern"},
		{"pattern login empty", document.KindApproval, e(approval, "person: zhangwei", `person: ""`), "pattern"},
		{"pattern login nobody close", document.KindApproval, e(approval, "person: zhangwei", "person: 张伟"), "pattern"},
		{"pattern release id", document.KindApproval, e(approval, "release: REL-2026-0041", "release: rel-2026-41"), "pattern"},
		{"pattern change id fixable", document.KindRelease, e(rel, "id: CHG-2026-0101", "id: chg-2026-101"), "pattern"},
		{"pattern approval digest", document.KindApproval, e(approval, "digest: sha256:e12adff11a2f2b284ccb2ca8dc095fc16538ce1a2b885067f9ffc8112237daff", "digest: e12adff1"), "pattern"},
		{"pattern artifact digest", document.KindRelease, e(rel, "sha256:937b235105d87f76707b8693468068df455b663d3e52e739f9fb934f3a0c23ca", "SHA256:937B235105D87F76707B8693468068DF455B663D3E52E739F9FB934F3A0C23CA"), "pattern"},
		{"pattern item id", document.KindRelease, e(rel, "  - id: oms-workflow", "  - id: OMS_Workflow"), "pattern"},
		{"pattern release type", document.KindRelease, e(rel, "type: normal", "type: Normal"), "pattern"},
		{"pattern gate", document.KindApproval, e(approval, "gate: plan-review", "gate: plan_review"), "pattern"},
		{"pattern quarter", document.KindReview, e(review, "quarter: 2026Q4", "quarter: 2026-q4"), "pattern"},
		{"pattern signing key", document.KindPolicy, e(pol, "    email: lina@grid-it.example.cn", "    email: lina@grid-it.example.cn\n    signingKeys:\n      - not a key"), "pattern"},
		{"pattern environment", document.KindPolicy, e(pol, "kpi:", "deployments:\n  environments:\n    - -prod\nkpi:"), "pattern"},
		{"min-items", document.KindRelease, e(rel, "testers:\n    - lina\n    - chenjie", "testers: []"), "min-items"},
		{"unique-items", document.KindRelease, e(rel, "  - it-operations\n", "  - it-operations\n  - dispatch-automation\n"), "unique-items"},
		{"const rolled-back executed", document.KindDeployment, e(dep, "outcome: succeeded", "outcome: rolled-back\nrollback:\n  executed: false\n  completedAt: \"2026-10-18T03:00:00+08:00\"\n  restored: []\n  surroundingSystemsNotified: true\n  notifiedSystems: []"), "const"},
		{"enum closest", document.KindApproval, e(approval, "decision: approve", "decision: aprove"), "enum"},
		{"enum nothing close", document.KindApproval, e(approval, "decision: approve", "decision: 同意"), "enum"},
		{"minimum", document.KindPolicy, e(pol, "maxChangesPerRelease: 3", "maxChangesPerRelease: 0"), "minimum"},
		{"maximum", document.KindPolicy, e(pol, "successRateTarget: 95", "successRateTarget: 195"), "maximum"},
		{"min-properties", document.KindPolicy, e(pol, "roles:\n", "roles: {}\nrolesWere:\n"), ""},
		{"property-name", document.KindPolicy, e(pol, "  release-owner:\n", "  Release_Owner:\n"), "property-name"},
		{"date-time without offset", document.KindApproval, e(approval, `at: "2026-10-18T09:30:00+08:00"`, `at: "2026-12-12T22:00:00"`), "date-time"},
		{"date-time without offset in summer", document.KindApproval, e(approval, `at: "2026-10-18T09:30:00+08:00"`, `at: 2026-07-01T08:00`), "date-time"},
		{"date-time with a space", document.KindApproval, e(approval, `at: "2026-10-18T09:30:00+08:00"`, `at: "2026-12-12 22:00:00+08:00"`), "date-time"},
		{"date-time date only", document.KindApproval, e(approval, `at: "2026-10-18T09:30:00+08:00"`, `at: 2026-12-12`), "date-time"},
		{"date-time not a time", document.KindApproval, e(approval, `at: "2026-10-18T09:30:00+08:00"`, `at: tomorrow night`), "date-time"},
		{"date", document.KindReview, e(review, "due: 2027-01-31", "due: 31.01.2027"), "date"},
		{"email", document.KindPolicy, e(pol, "email: lina@grid-it.example.cn", "email: lina at grid-it"), "email"},
		{"uri", document.KindRelease, e("@releases/REL-2026-0042/release.yaml", "url: https://itsm.grid-it.example.cn/change/CHG-2026-10388", "url: itsm change 10388"), "uri"},
	}
}

// hints are what the example repository's policy gives.
func hints(t *testing.T, lang string) docschema.Hints {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return docschema.Hints{Lang: lang, Location: loc,
		Logins: []string{"liuzhiqiang", "zhangwei", "wangfang", "lina", "chenjie", "sunlei", "zhouhao", "hejun", "maxiaodong", "yangfan", "xuhui", "huangli", "tangjing", "relgate-bot"},
		Names:  []string{"normal", "minor", "emergency", "plan-review", "test-acceptance", "go-live-approval", "release-owner", "release-manager"}}
}

// TestMessages: every kind of schema problem, told in English and Chinese
// with its fix (issue 12), compared with testdata/messages.<lang>.golden.
func TestMessages(t *testing.T) {
	set, err := docschema.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	golden := map[string]*bytes.Buffer{"en": {}, "zh": {}}
	for _, c := range cases() {
		doc := c.doc(t)
		root, err := yamldoc.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v, err := yamldoc.Value(root)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		probs := set.Validate(c.kind, root, v)
		if len(probs) == 0 {
			t.Errorf("%s: no problem", c.name)
			continue
		}
		if c.code != "" && (len(probs) != 1 || probs[0].Code != c.code) {
			var got []string
			for _, p := range probs {
				got = append(got, p.Code+": "+p.Field+": "+p.Message)
			}
			t.Errorf("%s: want one %s problem, got:\n%s", c.name, c.code, strings.Join(got, "\n"))
		}
		for lang, b := range golden {
			fmt.Fprintf(b, "## %s\n", c.name)
			for _, p := range probs {
				fmt.Fprintf(b, "%d: %s: %s [%s]\n", p.Line, p.Field, docschema.Render(p, hints(t, lang)), p.Clause)
			}
		}
	}
	for lang, b := range golden {
		file := filepath.Join("testdata", "messages."+lang+".golden")
		if *update {
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), b.String()); diff != "" {
			t.Errorf("%s messages differ from %s (-want +got; -update rewrites):\n%s", lang, file, diff)
		}
	}
}

// TestEveryKeywordHasAMessage: each validation keyword the schemas use is
// one the catalogue tells in a person's words, and a case above shows it;
// a schema that starts using another keyword fails here until it has one.
func TestEveryKeywordHasAMessage(t *testing.T) {
	told := map[string]string{ // keyword -> problem code
		"type": "type", "minLength": "empty", "maxLength": "max-length", "pattern": "pattern", "minItems": "min-items",
		"uniqueItems": "unique-items", "const": "const", "enum": "enum", "minimum": "minimum", "maximum": "maximum",
		"required": "required", "additionalProperties": "unknown", "minProperties": "min-properties", "propertyNames": "property-name",
		"format:date-time": "date-time", "format:date": "date", "format:email": "email", "format:uri": "uri",
	}
	// Keywords that never fail on their own: they apply others, or annotate.
	structural := map[string]bool{"$schema": true, "$id": true, "$defs": true, "$ref": true, "title": true, "description": true,
		"examples": true, "properties": true, "items": true, "allOf": true, "if": true, "then": true, "else": true, "not": true}
	used := map[string]bool{}
	var walk func(x any, parentIsMap bool)
	walk = func(x any, named bool) {
		switch v := x.(type) {
		case map[string]any:
			for k, c := range v {
				if named { // keys of properties / $defs are names, not keywords
					walk(c, false)
					continue
				}
				if k == "format" {
					used["format:"+fmt.Sprint(c)] = true
				} else {
					used[k] = true
				}
				walk(c, k == "properties" || k == "$defs")
			}
		case []any:
			for _, c := range v {
				walk(c, false)
			}
		}
	}
	names, _ := schemas.FS.ReadDir(".")
	for _, n := range names {
		if !strings.HasSuffix(n.Name(), ".schema.json") {
			continue
		}
		data, err := schemas.FS.ReadFile(n.Name())
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		walk(doc, false)
	}
	shown := map[string]bool{}
	set, _ := docschema.Embedded()
	for _, c := range cases() {
		root, _ := yamldoc.Parse([]byte(c.doc(t)))
		v, _ := yamldoc.Value(root)
		for _, p := range set.Validate(c.kind, root, v) {
			shown[p.Code] = true
		}
	}
	var missing []string
	for k := range used {
		if structural[k] {
			continue
		}
		code, ok := told[k]
		switch {
		case !ok:
			missing = append(missing, k+" (no message)")
		case !shown[code]:
			missing = append(missing, k+" (no case shows "+code+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("schema keywords without a golden message: %v", missing)
	}
}
