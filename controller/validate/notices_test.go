package validate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/validate"
)

// exampleNotices are notice channels for the example's relgate.yaml
// (issue 15), appended after its last line (line 115), so the channels
// start at line 117.
const exampleNotices = `notices:
  channels:
    - name: ops-wecom
      kind: wecom
      urlEnv: RELGATE_WECOM_URL
    - name: ops-dingtalk
      kind: dingtalk
      urlEnv: RELGATE_DINGTALK_URL
      secretEnv: RELGATE_DINGTALK_SECRET
      language: zh
    - name: mail
      kind: email
      secretEnv: RELGATE_SMTP_PASSWORD
      smtp:
        address: smtp.grid-it.example.cn:587
        from: relgate@grid-it.example.cn
        username: relgate
      language: en
      events:
        - approval-missing
`

func withNotices(t *testing.T, old, new string) string {
	t.Helper()
	if strings.Count(exampleNotices, old) != 1 {
		t.Fatalf("%q is not in exampleNotices once", old)
	}
	const last = "  reminders: \"0 9 * * 1-5\"\n"
	return exampleWith(t, map[string][2]string{document.PolicyPath: {last, last + strings.Replace(exampleNotices, old, new, 1)}})
}

// TestNoticeFindings: a notice channel that could not be delivered to is
// an error at its file, line and field, in the reader's language
//
func TestNoticeFindings(t *testing.T) {
	const (
		wecom    = "      urlEnv: RELGATE_WECOM_URL\n"
		dingName = "    - name: ops-dingtalk\n"
		dingSec  = "      secretEnv: RELGATE_DINGTALK_SECRET\n"
		smtp     = "      smtp:\n        address: smtp.grid-it.example.cn:587\n        from: relgate@grid-it.example.cn\n        username: relgate\n"
		mailPass = "      secretEnv: RELGATE_SMTP_PASSWORD\n"
	)
	many := "  channels:\n"
	for i := range 21 {
		many += fmt.Sprintf("    - name: c%d\n      kind: webhook\n      urlEnv: HOOK_%d\n", i, i)
	}
	tests := []struct {
		name     string
		old, new string
		lang     string
		want     []string
	}{
		{"the channels are valid", wecom, wecom, "en", nil},
		{"a robot without its URL variable cannot be sent to", wecom, "", "en",
			[]string{"relgate.yaml:118:7: error: notices.channels[0].urlEnv: a wecom channel needs urlEnv: the environment variable that holds its URL (never the URL itself: a robot's URL carries its key) [R-5.1.2, R-5.1.7, R-8]"}},
		{"in Chinese", wecom, "", "zh",
			[]string{"relgate.yaml:118:7: error: notices.channels[0].urlEnv: wecom 渠道须填写 urlEnv：保存其地址的环境变量名（不要写地址本身：机器人地址含密钥） [R-5.1.2, R-5.1.7, R-8]"}},
		{"attack: a DingTalk robot without signing is refused", dingSec, "", "en",
			[]string{"relgate.yaml:121:7: error: notices.channels[1].secretEnv: a dingtalk channel needs secretEnv: the variable holding the robot's signing secret (SEC…); turn on signing (加签) for the robot, since a robot without it takes messages from anyone who learns its URL [R-5.1.2, R-5.1.7, R-8]"}},
		{"two channels of one name: the ledger would confuse them", dingName, "    - name: ops-wecom\n", "en",
			[]string{"relgate.yaml:121:13: error: notices.channels[1].name: channel ops-wecom is listed twice (also notices.channels[0]); the notice ledger keys by the name, so give each channel a name of its own [R-5.1.2, R-5.1.7, R-8]"}},
		{"an email channel without its mail server", smtp, "", "en",
			[]string{"relgate.yaml:126:7: error: notices.channels[2].smtp: an email channel needs smtp: the mail server's address and the sender (from) [R-5.1.2, R-5.1.7, R-8]"}},
		{"an SMTP user without a password variable", mailPass, "", "zh",
			[]string{"relgate.yaml:126:7: error: notices.channels[2].secretEnv: 已填写 smtp.username 但没有 secretEnv：请写明保存 SMTP 密码的环境变量名 [R-5.1.2, R-5.1.7, R-8]"}},
		{"smtp on a robot", wecom, wecom + "      smtp:\n        address: a.example:587\n        from: a@b.example\n", "en",
			[]string{"relgate.yaml:121:7: error: notices.channels[0].smtp: smtp is for email channels only; remove it from this wecom channel [R-5.1.2, R-5.1.7, R-8]"}},
		{"more than 20 channels", "  channels:\n    - name: ops-wecom\n      kind: wecom\n" + wecom, many + "    - name: ops-wecom\n      kind: wecom\n" + wecom, "en",
			[]string{"relgate.yaml:117:3: error: notices.channels: 24 notice channels are more than 20; send several events to one channel with its events list [R-5.1.2, R-5.1.7, R-8]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := withNotices(t, tt.old, tt.new)
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
