package validate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/validate"
)

const examples = "../../examples/release-repo"

// exampleWith copies the example repository and applies edits: path ->
// {old, new} replacements, or a whole new file when old is empty.
func exampleWith(t *testing.T, edits map[string][2]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	for p, e := range edits {
		file := filepath.Join(dir, p)
		if e[0] == "" {
			if err := os.WriteFile(file, []byte(e[1]), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(data), e[0]) != 1 {
			t.Fatalf("%s: %q is not there once", p, e[0])
		}
		if err := os.WriteFile(file, []byte(strings.Replace(string(data), e[0], e[1], 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func check(t *testing.T, dir string, opts loader.Options, vopts validate.Options) []finding.Finding {
	t.Helper()
	snap, err := loader.LoadAll(source.Dir{Root: dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := validate.Check(snap, vopts)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

const closure = `apiVersion: relgate.dev/v1
kind: Closure
release: REL-2026-0041
closedBy: sunlei
closedAt: "2026-10-20T10:00:00+08:00"
archived:
  - 发布方案、测试报告、上线规划、部署记录
`

// TestDateWarnings: dates out of order with each other or with now are
// warnings at the field, each with a lawful counterpart that gives none.
func TestDateWarnings(t *testing.T) {
	const (
		acceptance   = "releases/REL-2026-0041/approvals/test-acceptance.tangjing.yaml"
		confirmation = "releases/REL-2026-0041/approvals/deployment-confirmation.wangfang.yaml"
		closureFile  = "releases/REL-2026-0041/closure.yaml"
	)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		edits map[string][2]string
		want  []string // the date findings, in English
	}{
		{"R-5.1.4 acceptance before testing ended", map[string][2]string{
			acceptance: {`at: "2026-10-15T16:00:00+08:00"`, `at: "2026-10-12T17:59:00+08:00"`}},
			[]string{acceptance + ":10:5: warning: at: the test acceptance is dated 2026-10-12T17:59:00+08:00, before testing ended (testedTo 2026-10-12T18:00:00+08:00 in test-report.yaml); accept after the results are in, or correct the dates [R-5.1.4]"}},
		{"R-5.1.4 acceptance the moment testing ended", map[string][2]string{
			acceptance: {`at: "2026-10-15T16:00:00+08:00"`, `at: "2026-10-12T10:00:00Z"`}}, nil},
		{"R-5.1.8 confirmation before the deployment finished", map[string][2]string{
			confirmation: {`at: "2026-10-18T09:00:00+08:00"`, `at: "2026-10-18T02:39:59+08:00"`}},
			[]string{confirmation + ":10:5: warning: at: the deployment is confirmed at 2026-10-18T02:39:59+08:00, before it finished (finishedAt 2026-10-18T02:40:00+08:00 in deployment.yaml); confirm after the deployment, or correct the dates [R-5.1.8]"}},
		{"R-5.1.8 confirmation after the deployment finished", map[string][2]string{
			confirmation: {`at: "2026-10-18T09:00:00+08:00"`, `at: "2026-10-18T02:40:00+08:00"`}}, nil},
		{"R-5.1.10 closure in the future", map[string][2]string{
			closureFile: {"", strings.Replace(closure, "2026-10-20T10:00:00+08:00", "2026-11-01T20:00:01+08:00", 1)}},
			[]string{closureFile + ":5:11: warning: closedAt: the release is closed at 2026-11-01T20:00:01+08:00, which is in the future (now 2026-11-01T20:00:00+08:00); write the time it was closed [R-5.1.10]"}},
		{"R-5.1.10 closure now", map[string][2]string{
			closureFile: {"", strings.Replace(closure, "2026-10-20T10:00:00+08:00", "2026-11-01T20:00:00+08:00", 1)}}, nil},
		{"R-5.1.8 a deployment that finishes before it starts is an error", map[string][2]string{
			"releases/REL-2026-0041/deployment.yaml": {`finishedAt: "2026-10-18T02:40:00+08:00"`, `finishedAt: "2026-10-17T22:04:00+08:00"`}},
			[]string{"releases/REL-2026-0041/deployment.yaml:7:13: error: finishedAt: deployment finishes before it starts [R-5.1.8]"}},
		{"a window that ends before it starts is an error", map[string][2]string{
			"releases/REL-2026-0041/release.yaml": {`end: "2026-10-18T04:00:00+08:00"`, `end: "2026-10-17T21:00:00+08:00"`}},
			[]string{"releases/REL-2026-0041/release.yaml:38:8: error: window.end: the window ends before it starts"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := exampleWith(t, tc.edits)
			var got []string
			for _, f := range check(t, dir, loader.Options{Lang: "en"}, validate.Options{Now: now}) {
				if f.Rule == "dates" {
					got = append(got, f.String())
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("date findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDateWarningsInChinese: the policy's language, zh, is the default.
func TestDateWarningsInChinese(t *testing.T) {
	dir := exampleWith(t, map[string][2]string{"releases/REL-2026-0041/closure.yaml": {"", closure}})
	fs := check(t, dir, loader.Options{}, validate.Options{Now: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
	var got []string
	for _, f := range fs {
		if f.Rule == "dates" {
			got = append(got, f.Message)
		}
	}
	want := []string{"发布关闭时间 2026-10-20T10:00:00+08:00 晚于当前时间（现在为 2026-10-01T08:00:00+08:00）；请填写实际关闭时间"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCrossDocumentChecksOfAnInvalidFile: a file with a schema problem still
// gets its cross-document findings in the same run.
func TestCrossDocumentChecksOfAnInvalidFile(t *testing.T) {
	dir := exampleWith(t, map[string][2]string{
		"releases/REL-2026-0041/approvals/test-acceptance.tangjing.yaml": {"person: tangjing\n", "person: tangjing\nperson: nobody\ncomment2: x\n"},
		"releases/REL-2026-0041/plan.yaml":                               {"author: wangfang", "author: zhangwei\nauthr: x"},
	})
	var got []string
	for _, f := range check(t, dir, loader.Options{Lang: "en"}, validate.Options{}) {
		if f.Severity == finding.Error {
			got = append(got, f.String())
		}
	}
	want := []string{
		`releases/REL-2026-0041/approvals/test-acceptance.tangjing.yaml:7:1: error: person: duplicate key "person" (first on line 6)`,
		`releases/REL-2026-0041/approvals/test-acceptance.tangjing.yaml:8:1: error: comment2: unknown field "comment2"; did you mean comment? (allowed here: apiVersion, at, comment, decision, digest, forge, gate, kind, person, release, role)`,
		`releases/REL-2026-0041/plan.yaml:5:9: error: author: zhangwei does not hold the role release-manager in the policy [R-4.2]`,
		`releases/REL-2026-0041/plan.yaml:6:1: error: authr: unknown field "authr"; did you mean author? (allowed here: apiVersion, author, backup, impact, kind, postDeployment, preparedAt, purpose, release, risks, rollback, steps)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
