package gen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/cli"
	"github.com/relgate/relgate/controller/document"
)

// verifyReport is the part of `relgate audit verify --format json` the
// tests read.
type verifyReport struct {
	Commits    int  `json:"commits"`
	Checked    int  `json:"checked"`
	Passed     bool `json:"passed"`
	Violations []struct {
		Commit, Subject, Rule, Release, Message string
	} `json:"violations"`
}

// auditVerify runs `relgate audit verify DIR --branch main --state -
// --format json` through the CLI's entry point: relgate's own judgment of
// every first-parent commit of main.
func auditVerify(t *testing.T, dir string) (verifyReport, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main([]string{"audit", "verify", dir, "--branch", "main", "--state", "-", "--format", "json"}, &out, &errb)
	var rep verifyReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("relgate audit verify: exit %d, %v\n%s%s", code, err, out.String(), errb.String())
	}
	return rep, code
}

// checkLawful runs audit verify on a generated repository and fails on any
// violation: the generated history is what a careful team would have made.
func checkLawful(t *testing.T, res *Result) {
	t.Helper()
	rep, code := auditVerify(t, res.Dir)
	for _, v := range rep.Violations {
		t.Errorf("relgate audit verify: commit %.12s %q: %s: %s", v.Commit, v.Subject, v.Rule, v.Message)
	}
	if code != 0 || !rep.Passed {
		t.Errorf("relgate audit verify: exit %d, passed %v", code, rep.Passed)
	}
	if rep.Commits != res.FirstParent || rep.Checked != res.FirstParent {
		t.Errorf("relgate audit verify walked %d commits and evaluated %d; main's first-parent history has %d", rep.Commits, rep.Checked, res.FirstParent)
	}
}

// TestLawfulHistory: a small generation on a tight budget (three commits a
// release) passes audit verify with no violation, and holds pull requests
// merged by the bot, deployments with the bot's write-back, and closures.
func TestLawfulHistory(t *testing.T) {
	res := generate(t, Options{Releases: 50, Commits: 150, Seed: 3})
	if res.Merges == 0 || res.Deployed == 0 || res.Closed == 0 {
		t.Errorf("%d merges, %d deployed, %d closed: want some of each", res.Merges, res.Deployed, res.Closed)
	}
	checkLawful(t, res)
	checkShape(t, res)
}

// TestLawfulLifecycle: with no commit budget every release gets as far as
// the fate drawn for it: every lifecycle state, rollbacks and a rejected
// test, and the history still passes audit verify.
func TestLawfulLifecycle(t *testing.T) {
	res := generate(t, Options{Releases: 60, Seed: 4})
	var states []string
	for s, n := range res.States {
		if n > 0 {
			states = append(states, s)
		}
	}
	sort.Strings(states)
	if d := cmp.Diff([]string{"closed", "confirmed", "go-live-approval", "plan-review", "ready-to-deploy", "testing"}, states); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
	if res.RolledBack == 0 {
		t.Error("no deployment rolled back")
	}
	if !strings.Contains(runGit(t, res.Dir, "grep", "-l", "decision: reject", "HEAD", "--", "releases"), "test-acceptance.") {
		t.Error("no test rejected by the customer representative")
	}
	checkLawful(t, res)
	checkShape(t, res)
}

// checkShape checks who made what: main's first-parent history is the root
// commit, the bot's merges of branches that left main at the commit before,
// and direct commits; every approval at HEAD was committed by its person
// every file of cmdb/ last changed and every file of reports/
// written by the bot, every closure by the implementer it names.
func checkShape(t *testing.T, res *Result) {
	t.Helper()
	dir := res.Dir
	bot := buildPolicy().Bot.Email
	lines := strings.Split(strings.TrimSpace(runGit(t, dir, "log", "--first-parent", "--reverse", "--format=%H %ae %P", "main")), "\n")
	merges := 0
	for i, l := range lines {
		f := strings.Fields(l)
		switch parents := f[2:]; {
		case i == 0 && len(parents) != 0:
			t.Errorf("root commit %s has parents", f[0])
		case len(parents) == 2:
			merges++
			if f[1] != bot {
				t.Errorf("merge %s by %s, want the bot", f[0], f[1])
			}
			if mb := strings.TrimSpace(runGit(t, dir, "merge-base", parents[0], parents[1])); mb != parents[0] {
				t.Errorf("merge %s: its branch left main at %s, not at the commit before the merge", f[0], mb)
			}
		case i > 0 && len(parents) != 1:
			t.Errorf("commit %s has %d parents", f[0], len(parents))
		}
		if i > 0 && strings.Fields(lines[i-1])[0] != f[2] {
			t.Errorf("commit %s does not follow %s", f[0], strings.Fields(lines[i-1])[0])
		}
	}
	if merges != res.Merges {
		t.Errorf("%d merges on main, Result.Merges %d", merges, res.Merges)
	}
	emails := map[string]string{}
	for _, p := range buildPolicy().People {
		emails[p.Login] = p.Email
	}
	// The author of the commit that last gave each file its content.
	last := map[string]string{}
	log := runGit(t, dir, "log", "--no-merges", "--format=%x00%ae", "--name-only", "main")
	for _, c := range strings.Split(log, "\x00")[1:] {
		f := strings.Fields(c)
		for _, p := range f[1:] {
			if _, seen := last[p]; !seen {
				last[p] = f[0]
			}
		}
	}
	for _, p := range res.Files {
		loc, _ := document.Locate(p)
		var want string
		switch {
		case loc.Kind == document.KindApproval:
			want = emails[loc.Person]
		case strings.HasPrefix(p, document.ReportsDir+"/"):
			want = bot
		case loc.Kind == document.KindCMDBItem && strings.Contains(readFile(t, dir, p), "release: REL-"):
			want = bot
		case strings.HasSuffix(p, "/closure.yaml"):
			for _, l := range strings.Split(readFile(t, dir, p), "\n") {
				if by, ok := strings.CutPrefix(l, "closedBy: "); ok {
					want = emails[by]
				}
			}
		default:
			continue
		}
		if last[p] != want {
			t.Errorf("%s was last changed by %s, want %s", p, last[p], want)
		}
	}
}

func readFile(t *testing.T, dir, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkInjections runs audit verify on a history with injections: the
// commits it reports are exactly the injected ones, and at each it reports
// the rule the injection names.
func checkInjections(t *testing.T, res *Result) {
	t.Helper()
	rep, code := auditVerify(t, res.Dir)
	if code != 1 {
		t.Errorf("relgate audit verify: exit %d, want 1", code)
	}
	rules := map[string][]string{}
	for _, v := range rep.Violations {
		rules[v.Commit] = append(rules[v.Commit], v.Rule)
	}
	injected := map[string]Injection{}
	for _, in := range res.Injections {
		injected[in.Commit] = in
		if !slices.Contains(rules[in.Commit], in.Rule) {
			t.Errorf("injection %s (%s %s, %s) at %.12s: verify reports %v, want %s", in.Class, in.Release, in.Path, in.Summary, in.Commit, rules[in.Commit], in.Rule)
		}
	}
	for _, v := range rep.Violations {
		if _, ok := injected[v.Commit]; !ok {
			t.Errorf("not injected: commit %.12s %q: %s: %s", v.Commit, v.Subject, v.Rule, v.Message)
		}
	}
	if len(injected) != len(res.Injections) {
		t.Errorf("%d injected commits for %d injections", len(injected), len(res.Injections))
	}
}

// TestInjectEveryClass: one injection of each class, in a small history;
// audit verify reports exactly the injected commits, each with its rule.
func TestInjectEveryClass(t *testing.T) {
	res := generate(t, Options{Releases: 100, Commits: 800, Inject: len(InjectionClasses), Seed: 1})
	var got, want []string
	for _, in := range res.Injections {
		got = append(got, in.Class)
	}
	for _, c := range InjectionClasses {
		want = append(want, c.Class)
	}
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("injected classes (-want +got):\n%s", d)
	}
	checkInjections(t, res)
}

// TestInject is the case: 25 bypasses in a history of 1,000
// releases and 3,000 commits. It takes about half a minute on 2 cores
// (mostly audit verify), so -short skips it, and so does the race
// detector, under which it takes minutes (TestInjectEveryClass covers the
// same there).
func TestInject(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: audit verify of 3,000 commits takes about half a minute")
	}
	if raceDetector {
		t.Skip("-race: audit verify of 3,000 commits takes minutes; TestInjectEveryClass covers it")
	}
	res := generate(t, Options{Releases: 1000, Commits: 3000, Inject: 25, Seed: 1})
	if len(res.Injections) != 25 {
		t.Fatalf("%d injections, want 25", len(res.Injections))
	}
	checkInjections(t, res)
}

// TestInjectDeterministic: the same options inject the same bypasses at the
// same commits, and the injections file says so.
func TestInjectDeterministic(t *testing.T) {
	opts := Options{Releases: 60, Commits: 240, Inject: 4, Seed: 8}
	a, b := generate(t, opts), generate(t, opts)
	if a.Head != b.Head || !cmp.Equal(a.Injections, b.Injections) {
		t.Errorf("same options: heads %s and %s, injections\n%v\n%v", a.Head, b.Head, a.Injections, b.Injections)
	}
	p := filepath.Join(t.TempDir(), "inj.json")
	if err := WriteInjections(p, opts.Seed, a); err != nil {
		t.Fatal(err)
	}
	var f InjectionFile
	if err := json.Unmarshal([]byte(readFile(t, filepath.Dir(p), filepath.Base(p))), &f); err != nil {
		t.Fatal(err)
	}
	if f.Head != a.Head.String() || !cmp.Equal(f.Injections, a.Injections) {
		t.Errorf("the injections file says head %s, %v; want %s, %v", f.Head, f.Injections, a.Head, a.Injections)
	}
}
