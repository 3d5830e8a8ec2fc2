package present

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./controller/present -run %s -update):\n%s", file, t.Name(), got)
	}
}

func msg(key string, args ...any) (string, *i18n.Message) {
	m := i18n.M(key, args...)
	return m.String(), &m
}

// report is a change to a release that records one approval of each
// effect, and a release it touches that needs no gate.
func report() *evaluate.GateReport {
	missing, missingT := msg("%s is missing", "golive.yaml")
	stale, staleT := msg("approved %s, but the covered documents now digest to %s: they changed after the approval; %s must review the change and approve again", "aaaa", "bbbb", "hejun")
	return &evaluate.GateReport{Base: "main", Head: "pr", Passed: false,
		Releases: []evaluate.ReleaseGates{
			{Release: "REL-2026-0043", State: "plan-review", Required: []string{"plan-review"},
				Changed: []evaluate.FileChange{{Path: "releases/REL-2026-0043/golive.yaml", Change: "deleted"}, {Path: "releases/REL-2026-0043/plan.yaml", Change: "modified"}},
				Approvals: []evaluate.AddedApproval{
					{File: "a", Gate: "plan-review", Person: "hejun", Role: "department-head", Effect: "not-counted", Reason: "stale", Message: stale, Text: staleT},
					{File: "b", Gate: "plan-review", Person: "maxiaodong", Effect: "invalid"},
					{File: "c", Gate: "my-gate", Person: "zhangwei", Role: "release-owner", Effect: "unevaluated"},
				},
				Gates: []gate.Result{{Gate: "plan-review", Clause: "R-5.1.3", Prerequisites: []string{"my-gate"},
					Requirements: []gate.Requirement{{Role: "department-head", Department: "dispatch-automation", Need: 1, Missing: 1, Eligible: []string{}, Approved: []string{},
						Excluded: []gate.Exclusion{{Person: "xuhui", Reason: "they opened the change under review", Text: &i18n.Message{Key: "they opened the change under review"}}}}},
					Checks:     []gate.Check{{Name: "document", Message: missing, Text: missingT}},
					Rejections: []gate.Rejection{{Person: "zhangwei", Role: "release-owner", Comment: "回退时间点不对"}},
				}}},
			{Release: "REL-2026-0044", State: "testing", Passed: true, Required: []string{}},
		}}
}

func TestGateTextLanguages(t *testing.T) {
	for _, l := range i18n.Langs {
		var text, md bytes.Buffer
		if err := WriteGateTextIn(&text, l, report()); err != nil {
			t.Fatal(err)
		}
		if err := WriteGateMarkdownIn(&md, l, report()); err != nil {
			t.Fatal(err)
		}
		golden(t, "testdata/gate."+string(l)+".txt", text.String())
		golden(t, "testdata/gate."+string(l)+".md", md.String())
	}
}

// TestGateTextAfterJSON: a report read back from its JSON has lost the
// translations; it is still rendered, in English words where it must be.
func TestGateTextAfterJSON(t *testing.T) {
	var js bytes.Buffer
	if err := WriteGateJSON(&js, report()); err != nil {
		t.Fatal(err)
	}
	var back evaluate.GateReport
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	var zh, en bytes.Buffer
	if err := WriteGateTextIn(&zh, i18n.Chinese, &back); err != nil {
		t.Fatal(err)
	}
	if err := WriteGateText(&en, report()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"golive.yaml is missing", "they opened the change under review", "关卡 发布方案评审 (plan-review)"} {
		if !strings.Contains(zh.String(), want) {
			t.Errorf("zh from JSON lacks %q:\n%s", want, zh.String())
		}
	}
	var en2 bytes.Buffer
	if err := WriteGateText(&en2, &back); err != nil {
		t.Fatal(err)
	}
	if en.String() != en2.String() {
		t.Errorf("English differs after a JSON round trip:\n%s\n----\n%s", en.String(), en2.String())
	}
}
