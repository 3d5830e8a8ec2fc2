package cli_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/scaffold"
)

// TestNewRelease: the templates carry the schema modeline, land where the
// layout says, and validate points at every value left to fill in.
func TestNewRelease(t *testing.T) {
	r := exampleRepo(t)
	code, out, errs := run(t, "new", "release", "REL-2026-0050", "--repo", r.Dir, "--title", "测试发布", "--owner", "zhangwei", "--manager", "wangfang", "--now", "2026-11-25T09:00:00+08:00")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	rel := r.Read("releases/REL-2026-0050/release.yaml")
	if !strings.HasPrefix(rel, "# yaml-language-server: $schema=../../.relgate/schemas/release.schema.json") {
		t.Errorf("no modeline:\n%s", rel)
	}
	r.Read(".relgate/schemas/plan.schema.json")
	code, out, _ = run(t, "validate", r.Dir)
	if code != 1 {
		t.Fatalf("a fresh template validates: exit %d", code)
	}
	for _, want := range []string{"releases/REL-2026-0050/plan.yaml:", "rollback.pointInTime", "releases/REL-2026-0050/release.yaml:"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	// A second `new` of the same id never overwrites.
	if code, _, errs := run(t, "new", "release", "REL-2026-0050", "--repo", r.Dir); code != 2 || !strings.Contains(errs, "already exists") {
		t.Errorf("second new: exit %d, %s", code, errs)
	}
	for _, args := range [][]string{{"new", "change", "CHG-2026-0200", "--repo", r.Dir}, {"new", "cmdb-item", "new-item", "--repo", r.Dir}} {
		if code, _, errs := run(t, args...); code != 0 {
			t.Errorf("%v: exit %d %s", args, code, errs)
		}
	}
	if code, _, _ := run(t, "new", "release", "../../etc", "--repo", r.Dir); code != 2 {
		t.Errorf("a path as id: exit %d, want 2", code)
	}
}

// TestNewRefusals: what new cannot write is a usage error naming the fix.
func TestNewRefusals(t *testing.T) {
	r := exampleRepo(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown kind", []string{"new", "golive-plan", "REL-2026-0043"}, "want one of cmdb-item, change, release"},
		{"release document before its release", []string{"new", "test-report", "REL-2026-0099"}, "releases/REL-2026-0099/release.yaml is missing"},
		{"existing document", []string{"new", "plan", "REL-2026-0043"}, "releases/REL-2026-0043/plan.yaml already exists"},
		{"bad quarter", []string{"new", "review", "2026Q5"}, "want the form 2026Q4"},
		{"unknown department", []string{"new", "release", "REL-2026-0060", "--department", "nowhere"}, "--department nowhere: not a department"},
		{"time without a date", []string{"new", "release", "REL-2026-0060", "--start", "22:00"}, "--start \"22:00\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := run(t, append(tc.args, "--repo", r.Dir)...)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", code, tc.want, errs)
			}
		})
	}
}

// markedLine matches a value a person writes: `key: ""  # ✎ ...` or
// `- ""  # ✎ ...`, or a flag they turn on.
var markedLine = regexp.MustCompile(`^(\s*(?:- )?)(?:([A-Za-z]+): )?(""|false)(  # ` + scaffold.Mark + ` .*)$`)

// fill writes what the comments of a template ask for, and nothing else:
// each marked value gets vals[key], or a sentence naming its key; a marked
// false becomes true. It fails the test on a marked line it cannot read.
func fill(t *testing.T, r *gitrepotest.Repo, path string, vals map[string]string) {
	t.Helper()
	lines := strings.Split(r.Read(path), "\n")
	n := 0
	for i, l := range lines {
		if !strings.Contains(l, "# "+scaffold.Mark) || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		m := markedLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s:%d: a marked line the test cannot fill: %s", path, i+1, l)
		}
		v := "true"
		if m[3] == `""` {
			s, ok := vals[m[2]]
			if !ok {
				s = "填写 filled: " + m[2]
			}
			b, _ := json.Marshal(s)
			v = string(b)
		}
		key := ""
		if m[2] != "" {
			key = m[2] + ": "
		}
		lines[i] = m[1] + key + v + m[4]
		n++
	}
	if n == 0 {
		t.Fatalf("%s: nothing marked to fill", path)
	}
	r.Write(path, strings.Join(lines, "\n"))
}

// onlyMarked: every error validate finds in files is on a line marked for a
// person to fill in.
func onlyMarked(t *testing.T, r *gitrepotest.Repo, files ...string) {
	t.Helper()
	_, out, errs := run(t, "validate", r.Dir, "--format", "json")
	var rep finding.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("validate --format json: %v\n%s%s", err, out, errs)
	}
	for _, f := range rep.Findings {
		if f.Severity != finding.Error {
			continue
		}
		mine := false
		for _, p := range files {
			mine = mine || f.File == p
		}
		if !mine {
			t.Errorf("a template breaks another file: %s", f)
			continue
		}
		lines := strings.Split(r.Read(f.File), "\n")
		if f.Line < 1 || f.Line > len(lines) || !strings.Contains(lines[f.Line-1], "# "+scaffold.Mark) {
			t.Errorf("a finding at an unmarked line: %s", f)
		}
	}
}

// lifecycle carries one release repository from `relgate init` in an empty
// directory to a closed release and a quarterly review: every document from
// `relgate new`, filled only where its comments ask, committed by its author
// on a pull request branch; every approval by `relgate approve --commit`;
// `relgate gate` passing on each branch before the bot merges it.
type lifecycle struct {
	t    *testing.T
	r    *gitrepotest.Repo
	lang string
	// signed: the policy lists everyone's OpenPGP key, every commit is
	// signed by its author and every approval with --sign-key.
	signed bool
}

func (l *lifecycle) relgate(args ...string) string {
	l.t.Helper()
	code, out, errs := run(l.t, append(args, "--repo", l.r.Dir)...)
	if code != 0 {
		l.t.Fatalf("relgate %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// newDoc runs relgate new, checks the template fails only at its marks,
// and fills it.
func (l *lifecycle) newDoc(vals map[string]string, args ...string) []string {
	l.t.Helper()
	out := l.relgate(append([]string{"new"}, args...)...)
	var files []string
	for _, line := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(line, msgOf(l.lang, "已创建 ", "created ")); ok {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		l.t.Fatalf("new %v created nothing:\n%s", args, out)
	}
	onlyMarked(l.t, l.r, files...)
	for _, f := range files {
		// The header comment is in the policy's language.
		if head := strings.Split(l.r.Read(f), "\n")[1]; hasHan(head) != (l.lang == "zh") {
			l.t.Errorf("%s: header comment not in %s: %s", f, l.lang, head)
		}
		fill(l.t, l.r, f, vals)
	}
	return files
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func msgOf(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

func (l *lifecycle) approve(at string, args ...string) {
	l.t.Helper()
	if l.signed {
		args = append(args, "--sign-key", trPGP(l.t, args[len(args)-1]))
	}
	l.relgate(append([]string{"approve", "--commit", "--now", at}, args...)...)
}

// person is login as a commit author, with their key when signing.
func (l *lifecycle) person(login string) gitrepotest.Person {
	p := who(login)
	if l.signed {
		p.Key = trKeys(l.t)[login].pgp
	}
	return p
}

// listKeys does what the policy's comments ask before signed approvals:
// each person's signingKeys, the bot's too.
func (l *lifecycle) listKeys() {
	l.t.Helper()
	pol := l.r.Read("relgate.yaml")
	for login, k := range trKeys(l.t) {
		email := "    email: \"" + login + "@grid-it.example.cn\"\n"
		i := strings.Index(pol, email)
		if i < 0 {
			continue
		}
		rest := pol[i+len(email):]
		rest = strings.TrimPrefix(rest, "    # signingKeys:\n    #   - ssh-ed25519 AAAA...\n")
		pol = pol[:i] + email + "    signingKeys:\n      - |\n" + indent(k.pgpPub, "        ") + rest
	}
	l.r.Write("relgate.yaml", pol)
}

// pr makes branch off main, runs step on it, and merges it as the bot once
// relgate gate passes; then the release is in state (unless "").
func (l *lifecycle) pr(branch, state string, step func()) {
	l.t.Helper()
	l.r.Checkout("main", false)
	l.r.Checkout(branch, true)
	step()
	code, out, errs := run(l.t, "gate", "--base", "main", "--head", branch, l.r.Dir)
	if code != 0 {
		l.t.Fatalf("gate %s: exit %d\n%s%s", branch, code, out, errs)
	}
	l.t.Logf("gate %s:\n%s", branch, out)
	trMerge(l.t, l.r, branch)
	if state == "" {
		return
	}
	if got, text := trStatus(l.t, l.r, "REL-2026-0001"); got != state {
		l.t.Fatalf("after %s: state %s, want %s\n%s", branch, got, state, text)
	}
}

func (l *lifecycle) commit(msg, login string) { l.r.Commit(msg, l.person(login)) }

const lifeDigestOld = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
const lifeDigestNew = "sha256:2222222222222222222222222222222222222222222222222222222222222222"

// TestLifecycleFromInit is issue 12's "done when": from an empty directory,
// init with flags, new for every kind, a release carried through every gate,
// validate clean at the end; in Chinese and in English, with the policy init
// writes by default (signed approvals: the test lists everyone's OpenPGP key
// where the policy's comments say, signs every commit and approves with
// --sign-key) and with the trial policy of --trust-commit-author.
func TestLifecycleFromInit(t *testing.T) {
	for _, tc := range []struct {
		lang   string
		signed bool
	}{{"zh", true}, {"en", true}, {"zh", false}, {"en", false}} {
		name := tc.lang + map[bool]string{true: "-signed", false: "-trust-commit-author"}[tc.signed]
		t.Run(name, func(t *testing.T) {
			lang := tc.lang
			r := gitrepotest.New(t)
			l := &lifecycle{t: t, r: r, lang: lang, signed: tc.signed}
			args := append([]string{"init", r.Dir, "--lang", lang}, initFlags...)
			if !tc.signed {
				args = append(args, "--trust-commit-author")
			}
			if code, out, errs := run(t, args...); code != 0 {
				t.Fatalf("init: exit %d\n%s%s", code, out, errs)
			}
			if tc.signed {
				l.listKeys()
			}
			if code, out, _ := run(t, "validate", r.Dir); code != 0 {
				t.Fatalf("validate after init: exit %d\n%s", code, out)
			}
			l.commit("relgate init", "liuzhiqiang")
			rel := "REL-2026-0001"

			l.pr("cmdb", "", func() {
				l.newDoc(map[string]string{"system": "营销系统", "version": "5.6.2", "digest": lifeDigestOld},
					"cmdb-item", "marketing-app", "--title", "营销应用", "--owner", "sunlei", "--now", "2026-11-01T09:00:00+08:00")
				l.commit("cmdb: marketing-app", "sunlei")
				l.approve("2026-11-01T10:00:00+08:00", "cmdb-change", "--as", "zhouhao")
			})
			l.pr("change", "", func() {
				files := l.newDoc(nil, "change", "CHG-2026-0001", "--title", "营销应用升级", "--owner", "wangfang", "--now", "2026-11-02T09:00:00+08:00")
				// Change management's decision, as the template's comment says.
				r.Edit(files[0], "status: submitted", "status: approved")
				r.Edit(files[0], "# approvedBy:", "approvedBy:")
				r.Edit(files[0], "# approvedAt:", "approvedAt:")
				l.commit("change CHG-2026-0001", "wangfang")
				l.approve("2026-11-02T11:00:00+08:00", "change-record", "--as", "hejun")
			})
			l.pr("plan", "testing", func() {
				files := l.newDoc(map[string]string{"digest": lifeDigestNew}, "release", rel, "--title", "营销应用升级至 5.7.0", "--manager", "wangfang",
					"--item", "marketing-app=5.7.0", "--change", "CHG-2026-0001", "--department", "marketing-service",
					"--start", "2026-11-20T22:00", "--end", "2026-11-21T02:00", "--now", "2026-11-03T09:00:00+08:00")
				// The header by a release manager who approves nothing of the
				// release (wangfang confirms its deployment), the plan by its author.
				plan := r.Read(files[1])
				r.Remove(files[1])
				l.commit("REL-2026-0001: release header", "lina")
				r.Write(files[1], plan)
				l.commit("REL-2026-0001: plan", "wangfang")
				l.approve("2026-11-04T10:00:00+08:00", rel, "plan-review", "--as", "yangfan")
				l.approve("2026-11-04T11:00:00+08:00", rel, "plan-review", "--as", "zhangwei")
			})
			l.pr("test", "go-live-approval", func() {
				l.newDoc(map[string]string{"testedFrom": "2026-11-10T09:00:00+08:00", "testedTo": "2026-11-12T18:00:00+08:00", "verdict": "pass"},
					"test-report", rel, "--now", "2026-11-12T19:00:00+08:00")
				l.commit("REL-2026-0001: test report", "chenjie")
				l.approve("2026-11-13T10:00:00+08:00", rel, "test-acceptance", "--as", "huangli")
			})
			l.pr("go-live", "ready-to-deploy", func() {
				l.newDoc(nil, "golive", rel, "--now", "2026-11-14T09:00:00+08:00")
				l.newDoc(map[string]string{"at": "2026-11-16T15:00:00+08:00"}, "communication", rel, "--now", "2026-11-14T09:00:00+08:00")
				l.commit("REL-2026-0001: go-live plan", "wangfang")
				l.approve("2026-11-17T10:00:00+08:00", rel, "go-live-approval", "--as", "zhangwei")
			})
			l.pr("deployment", "confirmed", func() {
				l.newDoc(map[string]string{"startedAt": "2026-11-20T22:05:00+08:00", "finishedAt": "2026-11-21T01:30:00+08:00", "outcome": "succeeded"},
					"deployment", rel, "--now", "2026-11-21T01:40:00+08:00")
				l.commit("REL-2026-0001: deployed", "sunlei")
				l.approve("2026-11-21T02:00:00+08:00", rel, "deployment-confirmation", "--as", "wangfang")
				l.approve("2026-11-21T02:10:00+08:00", rel, "deployment-confirmation", "--as", "huangli")
			})
			// The bot writes the CMDB back and the release report.
			r.Checkout("main", false)
			if l.signed {
				l.relgate("reconcile", "--now", "2026-11-21T03:00:00+08:00", "--sign-key", trPGP(t, "relgate-bot"))
			} else {
				l.relgate("reconcile", "--now", "2026-11-21T03:00:00+08:00")
			}
			l.pr("closure", "closed", func() {
				l.newDoc(map[string]string{"closedAt": "2026-11-22T10:00:00+08:00"}, "closure", rel, "--now", "2026-11-22T10:00:00+08:00")
				l.commit("REL-2026-0001: closed", "sunlei")
			})
			l.pr("review", "closed", func() {
				l.newDoc(map[string]string{"heldAt": "2026-11-28T15:00:00+08:00"}, "review", "2026Q4", "--now", "2026-11-28T16:00:00+08:00")
				l.commit("review 2026Q4", "wangfang")
				l.approve("2026-11-28T17:00:00+08:00", "review-change", "--as", "zhangwei")
			})
			r.Checkout("main", false)
			if code, out, errs := run(t, "validate", r.Dir); code != 0 {
				t.Fatalf("validate at the end: exit %d\n%s%s", code, out, errs)
			}
			if state, text := trStatus(t, r, rel); state != "closed" {
				t.Errorf("state %s, want closed:\n%s", state, text)
			}
			if !strings.Contains(r.Read("cmdb/marketing-app.yaml"), "5.7.0") {
				t.Errorf("the CMDB was not written back:\n%s", r.Read("cmdb/marketing-app.yaml"))
			}
		})
	}
}

// initFlags are the people of a small team for init.
var initFlags = func() []string {
	people := [][2]string{{"liuzhiqiang", "刘志强"}, {"zhangwei", "张伟"}, {"wangfang", "王芳"}, {"lina", "李娜"}, {"chenjie", "陈杰"},
		{"sunlei", "孙磊"}, {"zhouhao", "周浩"}, {"hejun", "何军"}, {"yangfan", "杨帆"}, {"huangli", "黄丽"}}
	args := []string{"--org", "示例省电网信息技术有限公司", "--bot-email", "relgate-bot@grid-it.example.cn"}
	for _, p := range people {
		args = append(args, "--person", fmt.Sprintf("%s:%s:%s@grid-it.example.cn", p[0], p[1], p[0]))
	}
	return append(args,
		"--department", "marketing-service:营销服务部:yangfan", "--department", "it-operations:信息运维中心:hejun",
		"--role", "release-owner=zhangwei", "--role", "release-manager=wangfang,lina", "--role", "release-tester=chenjie",
		"--role", "implementer=sunlei", "--role", "customer-representative=huangli", "--role", "configuration-manager=zhouhao",
		"--role", "change-manager=hejun", "--role", "process-approver=liuzhiqiang")
}()

// TestNewBareTemplatesOnlyMarked: with nothing but ids (no flags, and a
// release header still unfilled) every template fails only at the values
// marked for a person, in both languages.
func TestNewBareTemplatesOnlyMarked(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			r := gitrepotest.New(t)
			if code, out, errs := run(t, append([]string{"init", r.Dir, "--lang", lang}, initFlags...)...); code != 0 {
				t.Fatalf("init: exit %d\n%s%s", code, out, errs)
			}
			var all []string
			for _, args := range [][]string{{"cmdb-item", "app"}, {"change", "CHG-2026-0001"}, {"release", "REL-2026-0001"},
				{"test-report", "REL-2026-0001"}, {"golive", "REL-2026-0001"}, {"communication", "REL-2026-0001"},
				{"deployment", "REL-2026-0001"}, {"closure", "REL-2026-0001"}, {"review", "2026Q4"}} {
				code, out, errs := run(t, append([]string{"new", "--repo", r.Dir, "--now", "2026-11-03T09:00:00+08:00"}, args...)...)
				if code != 0 {
					t.Fatalf("new %v: exit %d\n%s%s", args, code, out, errs)
				}
				for _, line := range strings.Split(out, "\n") {
					if f, ok := strings.CutPrefix(line, msgOf(lang, "已创建 ", "created ")); ok {
						all = append(all, f)
						if c := r.Read(f); strings.Contains(c, "Z\"") || !strings.Contains(c, "+08:00") {
							t.Errorf("%s: times not in the policy's timezone:\n%s", f, c)
						}
					}
				}
			}
			onlyMarked(t, r, all...)
			// The plan can be written again on its own.
			r.Remove("releases/REL-2026-0001/plan.yaml")
			if code, out, errs := run(t, "new", "plan", "REL-2026-0001", "--repo", r.Dir); code != 0 {
				t.Fatalf("new plan: exit %d\n%s%s", code, out, errs)
			}
			onlyMarked(t, r, all...)
		})
	}
}
