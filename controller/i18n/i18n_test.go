package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	tests := []struct {
		name, flag, lcAll, lang, policy string
		want                            Lang
	}{
		{"flag wins", "en", "zh_CN.UTF-8", "zh_CN.UTF-8", "zh", English},
		{"LC_ALL before LANG", "", "en_US.UTF-8", "zh_CN.UTF-8", "zh", English},
		{"LANG", "", "", "zh_CN.UTF-8", "en", Chinese},
		{"LC_ALL neither zh nor en falls to LANG", "", "C.UTF-8", "en_GB.UTF-8", "zh", English},
		{"policy en", "", "C", "C.UTF-8", "en", English},
		{"policy zh", "", "", "", "zh", Chinese},
		{"default zh (the procedure's language)", "", "", "", "", Chinese},
		{"a bad flag is not a choice", "fr", "", "", "en", English},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"LC_ALL": tc.lcAll, "LANG": tc.lang}
			if got := SelectEnv(tc.flag, tc.policy, func(k string) string { return env[k] }); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := Parse("fr"); err == nil {
		t.Error("Parse(fr) accepted")
	}
}

func TestSprintf(t *testing.T) {
	m := M("%s approval(s) of %s missing%s", "1", Role("release-owner"), "; who may give it: zhangwei")
	if got, want := m.String(), "1 approval(s) of release-owner missing; who may give it: zhangwei"; got != want {
		t.Errorf("en: %q, want %q", got, want)
	}
	if got, want := m.In(Chinese), "缺少 1 个发布负责人的审批; who may give it: zhangwei"; got != want {
		t.Errorf("zh: %q, want %q", got, want)
	}
	if got, want := M("test categories not covered: %s", List{Test("performance"), Test("functional")}).In(Chinese), "未覆盖的测试内容：性能方面、功能方面"; got != want {
		t.Errorf("zh list: %q, want %q", got, want)
	}
	if got, want := Gate("my-gate").Labelled(Chinese), "my-gate"; got != want {
		t.Errorf("a policy's own gate: %q, want %q", got, want)
	}
	if got, want := Gate("plan-review").Labelled(Chinese), "发布方案评审 (plan-review)"; got != want {
		t.Errorf("labelled: %q, want %q", got, want)
	}
}

// TestCatalogueCoversSource: every message the presenters and the gate
// format (i18n.M, and Sprintf/Fprintf on anything but fmt with a literal
// format) has a Chinese translation, with as many verbs as the English.
func TestCatalogueCoversSource(t *testing.T) {
	var files []string
	// Packages whose messages people read, and the files of others that build Messages.
	only := map[string]string{"../writeback": "report.go", "../evaluate": "pullrequest.go"}
	for _, dir := range []string{"../gate", "../present", "../quarter", "../writeback", "../evaluate"} {
		fs, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if !strings.HasSuffix(f, "_test.go") && (only[dir] == "" || filepath.Base(f) == only[dir]) {
				files = append(files, f)
			}
		}
	}
	keys := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			recv, _ := sel.X.(*ast.Ident)
			arg := -1
			switch {
			case recv != nil && recv.Name == "i18n" && sel.Sel.Name == "M":
				arg = 0
			case recv != nil && recv.Name == "fmt":
			case sel.Sel.Name == "Sprintf":
				arg = 0
			case sel.Sel.Name == "Fprintf":
				arg = 1
			}
			if arg < 0 || len(call.Args) <= arg {
				return true
			}
			lit, ok := call.Args[arg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			k, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			keys[k] = fset.Position(lit.Pos()).String()
			return true
		})
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d message keys: the walk is broken", len(keys))
	}
	for k, at := range keys {
		v, ok := zh[k]
		if !ok {
			t.Errorf("%s: no Chinese for %q", at, k)
			continue
		}
		if a, b := verbs(k), verbs(v); a != b {
			t.Errorf("%s: %q has %d verbs, its Chinese %d", at, k, a, b)
		}
	}
	for k, v := range zh {
		if strings.TrimSpace(v) == "" {
			t.Errorf("empty Chinese for %q", k)
		}
	}
}

// verbs counts the arguments a format uses.
func verbs(f string) int {
	f = strings.ReplaceAll(f, "%%", "")
	return strings.Count(f, "%")
}

func TestVocabulary(t *testing.T) {
	for _, id := range []string{"plan-review", "test-acceptance", "go-live-approval", "deployment-confirmation", "closure", "policy-change"} {
		if Gate(id).In(Chinese) == id {
			t.Errorf("gate %s has no Chinese", id)
		}
	}
	for _, id := range []string{"release-owner", "release-manager", "release-tester", "implementer", "customer-representative",
		"configuration-manager", "change-manager", "process-approver", "department-head"} {
		if Role(id).In(Chinese) == id {
			t.Errorf("role %s has no Chinese", id)
		}
	}
	if got := State("closed").In(English); got != "closed" {
		t.Errorf("English is the id: %q", got)
	}
}
