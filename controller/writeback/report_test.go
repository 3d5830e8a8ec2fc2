package writeback

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/document"
)

// updating is the -update flag, which receipt_test.go defines for the package's tests.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestReleaseReportLanguages: the release report in Chinese uses
// the procedure's words for the release type, gates, roles and outcome; in
// English their ids.
func TestReleaseReportLanguages(t *testing.T) {
	rep := ReleaseReport{Release: "REL-2026-0042", Title: "营销系统电费结算接口改造", Type: "normal",
		Systems: []string{"营销业务应用系统"}, Changes: []string{"CHG-2026-0103"}, Outcome: document.OutcomeRolledBack,
		Timeline: []Event{{At: "2026-10-22T09:30:00+08:00", What: "created"}, {At: "2026-11-15T04:50:00+08:00", What: "finished"}},
		Approvals: []ReportApproval{
			{Gate: "plan-review", Person: "hejun", Name: "何军", Role: "department-head", At: "2026-11-03T11:00:00+08:00"},
			{Gate: "test-acceptance", Person: "huangli", Name: "黄丽", Role: "customer-representative", At: "2026-11-11T16:00:00+08:00"},
			{Gate: "deployment-confirmation", Person: "lina", Name: "李娜", Role: "release-manager", At: "2026-11-15T12:00:00+08:00"},
		},
		Deployed: []document.VersionRef{{Item: "payment-interface", Version: "3.2.0", Digest: "sha256:6cad"}},
		Restored: []document.VersionRef{{Item: "payment-interface", Version: "3.1.4", Digest: "sha256:f8cc"}},
		Problems: []document.Problem{{Description: "对账文件校验和不一致", Solution: "暂时输出 V2 格式"}},
	}
	for _, l := range []string{"zh", "en"} {
		got := string(renderMarkdown(rep, l))
		file := "testdata/report." + l + ".md"
		if updating() {
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs (go test ./controller/writeback -run %s -update):\n%s", file, t.Name(), got)
		}
		if l == "zh" {
			for _, en := range []string{"normal", "plan-review", "department-head", "rolled-back", "release-manager"} {
				if strings.Contains(got, en) {
					t.Errorf("the Chinese report still says %q", en)
				}
			}
		}
	}
}
