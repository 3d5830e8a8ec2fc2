package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/scaffold"
)

// initRoles are the roles a new policy needs someone in: every built-in
// role but department-head, which the departments' heads hold.
var initRoles = []string{policy.RoleReleaseOwner, policy.RoleReleaseManager, policy.RoleReleaseTester,
	policy.RoleImplementer, policy.RoleCustomerRepresentative, policy.RoleConfigurationManager,
	policy.RoleChangeManager, policy.RoleProcessApprover}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type initOptions struct {
	org, timezone, lang, botName, botEmail string
	people, departments, roles             listFlag
	trustCommitAuthor                      bool
	// in, when set, is a terminal to ask for what the flags leave out.
	in     *bufio.Reader
	prompt io.Writer
}

func runInit(args []string, stdout, stderr io.Writer) error {
	var in io.Reader
	if stdinIsTerminal() {
		in = os.Stdin
	}
	return initRepo(args, in, stdout, stderr)
}

// stdinIsTerminal reports whether a person can answer prompts: standard
// input is a character device other than /dev/null (what CI and `< /dev/null`
// give). It needs no terminal library: a wrong yes only means prompts that
// read end of input and then name the missing flags.
func stdinIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// initRepo is init with the terminal to ask on (nil: none).
func initRepo(args []string, in io.Reader, stdout, stderr io.Writer) error {
	var o initOptions
	fs := flag.NewFlagSet("relgate init", flag.ContinueOnError)
	fs.StringVar(&o.org, "org", "", "the `ORGANIZATION` that runs the procedure")
	fs.StringVar(&o.timezone, "timezone", policy.DefaultTimezone, "IANA time `ZONE` of windows, schedules and quarters")
	fs.StringVar(&o.lang, "lang", "zh", "language of the policy's comments, README and messages: zh or en")
	fs.StringVar(&o.botName, "bot-name", "relgate-bot", "`LOGIN` and name of relgate's own commits")
	fs.StringVar(&o.botEmail, "bot-email", "", "`EMAIL` of relgate's own commits")
	fs.Var(&o.people, "person", "a person, `LOGIN:NAME:EMAIL` (repeat for each)")
	fs.Var(&o.departments, "department", "a department, `ID:NAME:HEAD` (HEAD is a login; repeat for each)")
	fs.Var(&o.roles, "role", "role holders, `ROLE=LOGIN,LOGIN` (repeat for each role)")
	fs.BoolVar(&o.trustCommitAuthor, "trust-commit-author", false, "for trials: count unsigned approvals committed by the approver (trustCommitAuthor)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate init [DIR] --org ORG --bot-email EMAIL --person LOGIN:NAME:EMAIL... --department ID:NAME:HEAD... --role ROLE=LOGIN,...")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	dir := "."
	switch len(pos) {
	case 0:
	case 1:
		dir = pos[0]
	default:
		return usagef("too many arguments: %v", pos)
	}
	if in != nil {
		o.in, o.prompt = bufio.NewReader(in), stderr
	}
	s, err := o.setup()
	if err != nil {
		return err
	}
	files, err := scaffold.Init(s)
	if err != nil {
		return err
	}
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return usagef("%s is not a directory", dir)
	}
	if existing := scaffold.Existing(dir, files); len(existing) > 0 {
		return usagef("init writes nothing over existing files; these are in %s already: %s", dir, strings.Join(existing, ", "))
	}
	if err := scaffold.Write(dir, files, false); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s\n", msg(s.Lang, "已创建发布仓库", "created a release repository in"), dir)
	for _, f := range files {
		if !strings.HasPrefix(f.Path, scaffold.SchemaDir+"/") {
			fmt.Fprintf(stdout, "  %s\n", f.Path)
		}
	}
	fmt.Fprintf(stdout, "  %s/ (%d)\n", scaffold.SchemaDir, len(files)-len(scaffold.InitDirs)-3)
	fmt.Fprintln(stdout, msg(s.Lang, "下一步：relgate validate，然后提交；用 relgate new 编写文档。", "next: relgate validate, then commit; write documents with relgate new."))
	return nil
}

func msg(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// setup checks the flags, asks for what is missing when a person can
// answer, and otherwise names every missing flag at once.
func (o *initOptions) setup() (scaffold.Setup, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if err := oneOf("lang", o.lang, "zh", "en"); err != nil {
		return scaffold.Setup{}, err
	}
	if _, err := time.LoadLocation(o.timezone); err != nil || o.timezone == "" {
		bad("--timezone %q: not an IANA time zone, e.g. Asia/Shanghai", o.timezone)
	}
	if !document.LoginPattern.MatchString(o.botName) {
		bad("--bot-name %q: a login (letters, digits and dashes), e.g. relgate-bot", o.botName)
	}
	o.ask(&o.org, "organization (--org)", "组织名称（--org）")
	o.ask(&o.botEmail, "bot email (--bot-email)", "机器人邮箱（--bot-email）")
	o.askList(&o.people, "person LOGIN:NAME:EMAIL (--person), empty line to end", "人员 登录名:姓名:邮箱（--person），空行结束")
	o.askList(&o.departments, "department ID:NAME:HEAD (--department), empty line to end", "部门 编号:名称:负责人登录名（--department），空行结束")

	s := scaffold.Setup{Organization: strings.TrimSpace(o.org), Timezone: o.timezone, Lang: o.lang,
		Bot:   document.Person{Login: o.botName, Name: o.botName, Email: strings.TrimSpace(o.botEmail), Bot: true},
		Roles: map[string][]string{}, RoleOrder: initRoles, TrustCommitAuthor: o.trustCommitAuthor}
	logins := map[string]bool{}
	for _, p := range o.people {
		f := strings.Split(p, ":")
		if len(f) != 3 || !document.LoginPattern.MatchString(f[0]) || strings.TrimSpace(f[1]) == "" || !strings.Contains(f[2], "@") {
			bad("--person %q: want LOGIN:NAME:EMAIL, e.g. zhangwei:张伟:zhangwei@example.cn", p)
			continue
		}
		if logins[f[0]] || f[0] == o.botName {
			bad("--person %q: login %s is given twice", p, f[0])
			continue
		}
		logins[f[0]] = true
		s.People = append(s.People, document.Person{Login: f[0], Name: strings.TrimSpace(f[1]), Email: strings.TrimSpace(f[2])})
	}
	known := func(flag, l string) {
		if !logins[l] {
			bad("%s: %s is not a person; add --person %s:NAME:EMAIL", flag, l, l)
		}
	}
	depts := map[string]bool{}
	for _, d := range o.departments {
		f := strings.Split(d, ":")
		if len(f) != 3 || !document.ItemIDPattern.MatchString(f[0]) || strings.TrimSpace(f[1]) == "" {
			bad("--department %q: want ID:NAME:HEAD with a lower-case id, e.g. it-operations:信息运维中心:hejun", d)
			continue
		}
		if depts[f[0]] {
			bad("--department %q: id %s is given twice", d, f[0])
			continue
		}
		depts[f[0]] = true
		known("--department "+f[0], f[2])
		s.Departments = append(s.Departments, document.Department{ID: f[0], Name: strings.TrimSpace(f[1]), Head: f[2]})
	}
	for _, r := range o.roles {
		name, list, ok := strings.Cut(r, "=")
		if !ok || !document.GateIDPattern.MatchString(name) || name == policy.RoleDepartmentHead || name == "true" || name == "false" || name == "null" {
			bad("--role %q: want ROLE=LOGIN,LOGIN, e.g. release-owner=zhangwei (department-head comes from --department)", r)
			continue
		}
		for _, l := range strings.Split(list, ",") {
			if l = strings.TrimSpace(l); l == "" {
				continue
			}
			known("--role "+name, l)
			if !slices.Contains(s.Roles[name], l) {
				s.Roles[name] = append(s.Roles[name], l)
			}
		}
	}
	for _, r := range initRoles {
		if len(s.Roles[r]) > 0 || o.in == nil {
			continue
		}
		var line string
		o.ask(&line, "logins holding "+r+", comma-separated (--role "+r+"=...)", r+" 的担任者登录名，逗号分隔（--role "+r+"=...）")
		for _, l := range strings.Split(line, ",") {
			if l = strings.TrimSpace(l); l != "" {
				known("--role "+r, l)
				s.Roles[r] = append(s.Roles[r], l)
			}
		}
	}
	for _, t := range []struct{ flag, v string }{{"--org", s.Organization}, {"--bot-email", s.Bot.Email}} {
		if strings.ContainsAny(t.v, "\r\n") || len(t.v) > maxAnswer {
			bad("%s: one line of at most %d bytes", t.flag, maxAnswer)
		}
	}
	for _, p := range s.People {
		if strings.ContainsAny(p.Name+p.Email, "\r\n") {
			bad("--person %s: the name and email are one line each", p.Login)
		}
	}
	var missing []string
	if s.Organization == "" {
		missing = append(missing, "--org ORGANIZATION")
	}
	if s.Bot.Email == "" {
		missing = append(missing, "--bot-email EMAIL")
	}
	if len(o.people) == 0 {
		missing = append(missing, "--person LOGIN:NAME:EMAIL")
	}
	if len(o.departments) == 0 {
		missing = append(missing, "--department ID:NAME:HEAD")
	}
	for _, r := range initRoles {
		if len(s.Roles[r]) == 0 {
			missing = append(missing, "--role "+r+"=LOGIN")
		}
	}
	if len(missing) > 0 {
		problems = append([]string{"missing: " + strings.Join(missing, ", ")}, problems...)
	}
	if len(problems) > 0 {
		return s, usagef("init:\n  %s", strings.Join(problems, "\n  "))
	}
	return s, nil
}

// ask reads one line for an empty value when a person can answer.
func (o *initOptions) ask(v *string, en, zh string) {
	if o.in == nil || strings.TrimSpace(*v) != "" {
		return
	}
	fmt.Fprint(o.prompt, msg(o.lang, zh, en)+": ")
	*v = strings.TrimSpace(readLine(o.in))
}

// maxAnswer bounds one answer: a name, an email or a list of logins.
const maxAnswer = 4096

// readLine reads one line of at most maxAnswer bytes; the rest of a longer
// line is dropped, and end of input is an empty answer.
func readLine(r *bufio.Reader) string {
	var b []byte
	for {
		chunk, more, err := r.ReadLine()
		if len(b) < maxAnswer {
			b = append(b, chunk[:min(len(chunk), maxAnswer-len(b))]...)
		}
		if err != nil || !more {
			return string(b)
		}
	}
}

// askList reads lines until an empty one for an empty list.
func (o *initOptions) askList(l *listFlag, en, zh string) {
	if o.in == nil || len(*l) > 0 {
		return
	}
	for {
		var v string
		o.ask(&v, en, zh)
		if v == "" {
			return
		}
		*l = append(*l, v)
	}
}
