package validate_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/validate"
)

// TestTypeRuleFindings: a release type rule that names what the policy does
// not have, or waives what must be recorded, is an error at its file, line
// and field, in the reader's language; the everyday rules are not (R-5.1,
//
func TestTypeRuleFindings(t *testing.T) {
	const last = "  reminders: \"0 9 * * 1-5\"\n"
	lawful := "typeRules:\n  minor:\n    kind: standard\n    waive:\n      - test-acceptance\n    requires:\n      go-live-approval:\n        - role: release-manager\n" +
		"  emergency:\n    kind: emergency\n    approver: process-approver\n    retrospectiveDays: 3\nexceptionRole: process-approver\n"
	tests := []struct {
		name, rules, lang string
		want              []string
	}{
		{"lawful: a standard and an emergency rule", lawful, "en", nil},
		{"a rule for a type the policy does not list", "typeRules:\n  hotfix:\n    kind: emergency\n", "en",
			[]string{"relgate.yaml:117:3: error: typeRules.hotfix: type hotfix is not one of the policy's release types [normal minor emergency] [R-5.1]"}},
		{"closure is never waived", "typeRules:\n  minor:\n    kind: standard\n    waive:\n      - closure\n", "en",
			[]string{"relgate.yaml:120:9: error: typeRules.minor.waive[0]: gate closure records what happened and is never waived [R-5.1]"}},
		{"the go-live is not retrospective", "typeRules:\n  emergency:\n    kind: emergency\n    retrospective:\n      - go-live-approval\n", "zh",
			[]string{"relgate.yaml:120:9: error: typeRules.emergency.retrospective[0]: 关口 go-live-approval 在上线之时或之后；只有上线之前的关口可以事后补批 [R-5.1]"}},
		{"an approver role the policy does not define", "typeRules:\n  emergency:\n    kind: emergency\n    approver: on-duty-manager\n", "en",
			[]string{"relgate.yaml:119:15: error: typeRules.emergency.approver: role on-duty-manager is not defined in roles [R-5.1]"}},
		{"emergency fields on a standard type", "typeRules:\n  minor:\n    kind: standard\n    approver: process-approver\n", "en",
			[]string{"relgate.yaml:118:11: error: typeRules.minor.kind: approver, retrospective and retrospectiveDays are for emergency types; a standard type follows its own rule [R-5.1]"}},
		{"an exception role the policy does not define", "exceptionRole: duty-officer\n", "en",
			[]string{"relgate.yaml:116:16: error: exceptionRole: role duty-officer is not defined in roles [R-5.1.6]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The rules under test where the example's are, right after its
			// schedules (the line numbers below count from there).
			dir := exampleWith(t, map[string][2]string{document.PolicyPath: {last + exampleWindows + exampleTypeRules, last + tt.rules + exampleWindows}})
			var got []string
			for _, f := range check(t, dir, loader.Options{Lang: tt.lang}, validate.Options{}) {
				if f.File == document.PolicyPath && f.Severity == "error" {
					got = append(got, f.String())
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
