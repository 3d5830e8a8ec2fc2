package loader_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const closureDoc = "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: REL-2026-0041\nclosedBy: sunlei\nclosedAt: \"2026-10-20T10:00:00+08:00\"\narchived:\n  - 方案\n"

// TestStageMessages: the problems of the YAML stage and of the header, told
// in English and Chinese (testdata/stages.<lang>.golden), each a file's only
// problem, and a file's problems of every stage together.
func TestStageMessages(t *testing.T) {
	set, err := docschema.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc string
		n         int // problems expected
	}{
		{"anchor without an alias", closureDoc + "comment: &c x\n", 1},
		{"anchor and its aliases", "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: REL-2026-0041\nclosedBy: &who sunlei\nclosedAt: \"2026-10-20T10:00:00+08:00\"\narchived:\n  - *who\ncomment: *who\n", 1},
		{"duplicate key", closureDoc + "closedBy: sunlei\n", 1},
		{"merge key", closureDoc + "<<: {comment: x}\n", 1},
		{"custom tag", closureDoc + "comment: !secret x\n", 1},
		{"syntax", closureDoc + "comment: [x\n", 1},
		{"empty", "\n", 1},
		{"second document", closureDoc + "---\na: 1\n", 1},
		{"not a mapping", "- a\n", 1},
		{"apiVersion missing", "kind: Closure\n", 1},
		{"apiVersion unsupported", "apiVersion: relgate.dev/v2\nkind: Closure\n", 1},
		{"kind missing", "apiVersion: relgate.dev/v1\n", 1},
		{"kind of another place", "apiVersion: relgate.dev/v1\nkind: Plan\n", 1},
		{"every stage at once", "apiVersion: relgate.dev/v1\nkind: Closure\nrelease: REL-2026-0041\nclosedBy: &who sunlei\nclosedBy: sunlei\nclosedAt: \"2026-10-20T10:00:00\"\narchived: []\ncoment: *who\n", 5},
	}
	golden := map[string]*bytes.Buffer{"en": {}, "zh": {}}
	for _, tc := range tests {
		v, partial, probs := loader.DecodeAll(set, document.KindClosure, []byte(tc.doc))
		if v != nil || len(probs) != tc.n {
			t.Errorf("%s: value %v, %d problems, want %d: %+v", tc.name, v != nil, len(probs), tc.n, probs)
		}
		if tc.n > 1 && partial == nil {
			t.Errorf("%s: nothing decoded of a file that parses", tc.name)
		}
		for lang, b := range golden {
			fmt.Fprintf(b, "## %s\n", tc.name)
			for _, p := range probs {
				fmt.Fprintf(b, "%d:%d: %s: %s: %s\n", p.Line, p.Column, p.Rule, p.Field, docschema.Render(p.Problem, docschema.Hints{Lang: lang}))
			}
		}
	}
	for lang, b := range golden {
		file := filepath.Join("testdata", "stages."+lang+".golden")
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
			t.Errorf("%s (-want +got; -update rewrites):\n%s", file, diff)
		}
	}
}

// TestLayoutMessages: what is wrong with the repository's layout, in the
// language asked for (here no policy says one: zh, the procedure's).
func TestLayoutMessages(t *testing.T) {
	dir := t.TempDir()
	for p, data := range map[string]string{
		"changes/CHG-2026-0001.yml":           "id: x\n",
		"releases/REL-2026-0001/notes.yaml":   "a: 1\n",
		"releases/REL-2026-0001/closure.yaml": closureDoc,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("closure.yaml", filepath.Join(dir, "releases/REL-2026-0001/plan.yaml")); err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"", []string{
			"changes/CHG-2026-0001.yml: error: 此文件不在 relgate 读取文档的位置；请参阅 README 中的仓库结构（文件以 .yaml 结尾）",
			"releases/REL-2026-0001/closure.yaml:3:10: error: release: 发布编号 REL-2026-0041 与目录 REL-2026-0001 不一致",
			"releases/REL-2026-0001/notes.yaml: error: 发布目录中的未知文件；应为 closure.yaml, communication.yaml, deployment.yaml, golive.yaml, plan.yaml, release.yaml, test-report.yaml 之一，或 approvals/<关口>.<人员>.yaml",
			"releases/REL-2026-0001/plan.yaml: error: 发布仓库中不允许使用符号链接和子模块；请替换为实际的文件或目录",
			"releases/REL-2026-0001/release.yaml: error: 发布目录中没有 release.yaml；请运行 relgate new release REL-2026-0001 [R-3.3]",
			"relgate.yaml: error: 仓库根目录缺少策略文件 relgate.yaml",
		}},
		{"en", []string{
			"changes/CHG-2026-0001.yml: error: file is not where relgate expects documents; see the repository layout in the README (files end in .yaml)",
			"releases/REL-2026-0001/closure.yaml:3:10: error: release: release REL-2026-0041 does not match the folder REL-2026-0001",
			"releases/REL-2026-0001/notes.yaml: error: unknown file in a release folder; expected one of closure.yaml, communication.yaml, deployment.yaml, golive.yaml, plan.yaml, release.yaml, test-report.yaml or approvals/<gate>.<person>.yaml",
			"releases/REL-2026-0001/plan.yaml: error: symlinks and submodules are not allowed in a release repository; replace it with the file or folder",
			"releases/REL-2026-0001/release.yaml: error: the release folder has no release.yaml; run relgate new release REL-2026-0001 [R-3.3]",
			"relgate.yaml: error: the policy file relgate.yaml is missing at the repository root",
		}},
	} {
		snap, err := loader.LoadAll(source.Dir{Root: dir}, loader.Options{Lang: tc.lang})
		if err != nil {
			t.Fatal(err)
		}
		fs, err := validate.Check(snap)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range fs {
			if f.Rule != "layout" && f.Rule != "id-mismatch" {
				continue
			}
			got = append(got, f.String())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("lang %q (-want +got):\n%s", tc.lang, diff)
		}
	}
}
