package cli_test

import (
	"strings"
	"testing"
)

// TestAuditInChinese: the audit trail and verify report in the policy's
// language (zh for the example) when nothing else asks, and in English with
// --lang en; the JSON is the same in both.
func TestAuditInChinese(t *testing.T) {
	r := exampleRepo(t)
	t.Setenv("LC_ALL", "")
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{args: []string{"audit", "REL-2026-0042", r.Dir}, want: []string{"REL-2026-0042 的审计轨迹", "  作者：", "  签名：    未签名", "  状态：", "新增 releases/REL-2026-0042/plan.yaml"}, not: []string{"author:"}},
		{args: []string{"audit", "REL-2026-0042", r.Dir, "--lang", "en"}, want: []string{"audit trail of REL-2026-0042", "  author:", "added releases/REL-2026-0042/plan.yaml"}, not: []string{"作者"}},
		{args: []string{"audit", "verify", r.Dir, "--state", "-"}, want: []string{"relgate 历史核验，截至", "：通过（"}},
		{args: []string{"audit", "verify", r.Dir, "--state", "-", "--format", "md"}, want: []string{"# relgate 历史核验：通过"}},
	} {
		code, out, errs := run(t, tc.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("%v has %q:\n%s", tc.args, n, out)
			}
		}
	}
}
