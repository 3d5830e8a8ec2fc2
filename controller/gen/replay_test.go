package gen

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/cli"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/validate"
)

const exampleRepo = "../../examples/release-repo"

func replay(t *testing.T, src string, opts ReplayOptions) *gitrepotest.Repo {
	t.Helper()
	r := gitrepotest.New(t)
	if err := Replay(src, r.Dir, opts); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return r
}

// TestReplayExample: the example repository as a lawful history (R-3.2:
// every approval committed by its approver: the repository
// gates approved by someone other than who made the change).
func TestReplayExample(t *testing.T) {
	r := replay(t, exampleRepo, ReplayOptions{})

	// One pull request per step, merged by the bot, in the order the
	// documents' times give.
	var subjects []string
	lines := strings.Split(strings.TrimSpace(r.GitCLI("log", "--first-parent", "--reverse", "--format=%H%x09%an%x09%P%x09%s", "main")), "\n")
	prev := ""
	for i, l := range lines {
		f := strings.Split(l, "\t")
		parents := strings.Fields(f[2])
		switch {
		case i == 0 && (f[1] != "刘志强" || len(parents) != 0):
			t.Errorf("root commit %q: want one by the process approver 刘志强 without parents", l)
		case i > 0 && (f[1] != "relgate-bot" || len(parents) != 2 || parents[0] != prev):
			t.Errorf("first-parent commit %q: want a merge by relgate-bot of main (%s) and the branch", l, prev)
		}
		prev = f[0]
		subjects = append(subjects, f[3])
	}
	want := []string{
		"Start the release repository: relgate.yaml and the files relgate does not govern",
		"Merge pull request #1 from cmdb",
		"Merge pull request #2 from change/CHG-2026-0101",
		"Merge pull request #3 from change/CHG-2026-0102",
		"Merge pull request #4 from REL-2026-0041/plan",
		"Merge pull request #5 from REL-2026-0041/test",
		"Merge pull request #6 from REL-2026-0041/go-live",
		"Merge pull request #7 from REL-2026-0041/deployment",
		"Merge pull request #8 from change/CHG-2026-0103",
		"Merge pull request #9 from REL-2026-0042/plan",
		"Merge pull request #10 from REL-2026-0042/test",
		"Merge pull request #11 from REL-2026-0042/go-live",
		"Merge pull request #12 from REL-2026-0042/deployment",
		"Merge pull request #13 from change/CHG-2026-0104",
		"Merge pull request #14 from change/CHG-2026-0105",
		"Merge pull request #15 from REL-2026-0043/plan",
	}
	if d := cmp.Diff(want, subjects); d != "" {
		t.Errorf("first-parent history (-want +got):\n%s", d)
	}
	checkReplay(t, r, exampleRepo, []string{"approvals/change-record.hejun.yaml", "approvals/cmdb-change.zhouhao.yaml"})

	// The README's example states, now from history.
	var out, errb bytes.Buffer
	if code := cli.Main([]string{"status", "--format", "json", r.Dir}, &out, &errb); code != 0 {
		t.Fatalf("relgate status: exit %d\n%s%s", code, out.String(), errb.String())
	}
	var st struct {
		Releases []struct {
			Release string   `json:"release"`
			State   string   `json:"state"`
			Passed  []string `json:"passed"`
		} `json:"releases"`
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rel := range st.Releases {
		got[rel.Release] = rel.State + " " + strings.Join(rel.Passed, ",")
	}
	all := "plan-review,test-acceptance,go-live-approval,deployment-confirmation"
	if d := cmp.Diff(map[string]string{"REL-2026-0041": "confirmed " + all, "REL-2026-0042": "confirmed " + all,
		"REL-2026-0043": "plan-review "}, got); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
}

// checkReplay checks what every replay promises: a well-formed history whose
// commits move forward in time, the files of src byte for byte plus the root
// approvals Replay wrote, a clean work tree, every approval committed by its
// person no earlier than it says it was made, no validation errors, and a
// history `relgate audit verify` passes.
func checkReplay(t *testing.T, r *gitrepotest.Repo, src string, added []string) {
	t.Helper()
	if out := r.GitCLI("fsck", "--strict", "--no-progress", "--no-dangling"); strings.TrimSpace(out) != "" {
		t.Errorf("git fsck --strict: %s", out)
	}
	if got := r.GitCLI("symbolic-ref", "HEAD"); strings.TrimSpace(got) != "refs/heads/main" {
		t.Errorf("HEAD is %s, want refs/heads/main", got)
	}
	if got := strings.TrimSpace(r.GitCLI("branch", "--format=%(refname:short)")); got != "main" {
		t.Errorf("branches %q, want only main", got)
	}
	if got := r.GitCLI("status", "--porcelain", "--untracked-files=all"); got != "" {
		t.Errorf("git status is not clean:\n%s", got)
	}

	// Each commit is later than its parents; no two share a time.
	times := map[string]int64{}
	parents := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.GitCLI("log", "--format=%H %ct %P", "main")), "\n") {
		f := strings.Fields(l)
		ct, _ := strconv.ParseInt(f[1], 10, 64)
		times[f[0]], parents[f[0]] = ct, f[2:]
	}
	seen := map[int64]string{}
	for h, ct := range times {
		for _, p := range parents[h] {
			if times[p] >= ct {
				t.Errorf("commit %s is dated no later than its parent %s", h, p)
			}
		}
		if o, dup := seen[ct]; dup {
			t.Errorf("commits %s and %s have the same time", h, o)
		}
		seen[ct] = h
	}

	// The files of src, byte for byte, plus the root approvals.
	srcFiles, err := sourceFiles(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range srcFiles {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		want[f] = source.HashBlob(data).String()
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.GitCLI("ls-tree", "-r", "HEAD")), "\n") {
		meta, p, _ := strings.Cut(l, "\t")
		got[p] = strings.Fields(meta)[2]
	}
	for _, p := range added {
		if got[p] == "" {
			t.Errorf("%s is missing at HEAD", p)
		}
		want[p] = got[p]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("files at HEAD (-want +got):\n%s", d)
	}

	// Every approval by its person, no earlier than its time; every file no
	// earlier than the time it states.
	snap, err := loader.LoadAll(source.Dir{Root: r.Dir}, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := validate.Check(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Severity == finding.Error {
			t.Errorf("validate: %s", f)
		}
	}
	people := map[string]string{}
	for _, p := range snap.Policy.People {
		people[p.Login] = p.Email
	}
	approvals := slices.Clone(snap.PolicyApprovals)
	for _, id := range snap.ReleaseIDs() {
		approvals = append(approvals, snap.Releases[id].Approvals...)
	}
	if len(approvals) == 0 {
		t.Fatal("no approvals")
	}
	for _, a := range approvals {
		email := people[a.FilePerson]
		if a.Approval != nil && a.Forge != nil {
			email = snap.Policy.Bot.Email
		}
		if got := strings.TrimSpace(r.GitCLI("log", "--diff-filter=A", "--format=%ae", "main", "--", a.Doc.Path)); got != email {
			t.Errorf("%s was added by %q, want %s", a.Doc.Path, got, email)
		}
		for _, e := range strings.Fields(r.GitCLI("log", "--no-merges", "--format=%ae", "main", "--", a.Doc.Path)) {
			if e != email {
				t.Errorf("%s was changed by %s, want only %s", a.Doc.Path, e, email)
			}
		}
	}
	for _, f := range srcFiles {
		d := snap.Doc(f)
		if d == nil {
			continue
		}
		stated, err := statedTime(d.Value)
		if err != nil {
			t.Fatal(err)
		}
		ct, _ := strconv.ParseInt(strings.TrimSpace(r.GitCLI("log", "-1", "--no-merges", "--format=%ct", "main", "--", f)), 10, 64)
		if time.Unix(ct, 0).Before(stated) {
			t.Errorf("%s is committed at %s, before the %s it states", f, time.Unix(ct, 0), stated)
		}
	}

	// relgate's own judgment of the history: every commit lawful.
	var out, errb bytes.Buffer
	code := cli.Main([]string{"audit", "verify", "--format", "json", r.Dir}, &out, &errb)
	var rep struct {
		Checked    int `json:"checked"`
		Violations []struct {
			Commit, Rule, Message string
		} `json:"violations"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("relgate audit verify: exit %d, %v\n%s%s", code, err, out.String(), errb.String())
	}
	for _, v := range rep.Violations {
		t.Errorf("relgate audit verify: commit %.12s: %s: %s", v.Commit, v.Rule, v.Message)
	}
	if rep.Checked == 0 || code != 0 {
		t.Errorf("relgate audit verify: exit %d, %d commits evaluated\n%s", code, rep.Checked, errb.String())
	}
}

func TestReplayDeterministic(t *testing.T) {
	a := strings.TrimSpace(replay(t, exampleRepo, ReplayOptions{}).GitCLI("rev-parse", "HEAD"))
	b := strings.TrimSpace(replay(t, exampleRepo, ReplayOptions{}).GitCLI("rev-parse", "HEAD"))
	if a != b {
		t.Errorf("two replays: HEAD %s and %s", a, b)
	}
	start := time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)
	c := replay(t, exampleRepo, ReplayOptions{Start: start})
	if got := strings.TrimSpace(c.GitCLI("log", "--reverse", "--format=%aI", "main")); !strings.HasPrefix(got, "2026-08-01T17:00:00+08:00") {
		t.Errorf("first commit at %.25s, want Start 2026-08-01T17:00:00+08:00", got)
	}
}

// TestReplaySigned: with keys, the commits of the people who have one are
// signed with it (R-3.2: approvals authenticated by signature), the others not.
func TestReplaySigned(t *testing.T) {
	gitrepotest.Isolate(t)
	hejun, hejunPub := gitrepotest.NewKey(t, "何军", "hejun@grid-it.example.cn")
	bot, botPub := gitrepotest.NewKey(t, "relgate-bot", "relgate-bot@grid-it.example.cn")
	r := replay(t, exampleRepo, ReplayOptions{Sign: map[string]*openpgp.Entity{"hejun": hejun, "relgate-bot": bot}})
	repo, err := git.PlainOpen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.Log(&git.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	signed := map[string]int{}
	err = iter.ForEach(func(c *object.Commit) error {
		var key string
		switch c.Author.Email {
		case "hejun@grid-it.example.cn":
			key = hejunPub
		case "relgate-bot@grid-it.example.cn":
			key = botPub
		default:
			if c.PGPSignature != "" {
				t.Errorf("commit %s by %s is signed; they have no key", c.Hash, c.Author.Email)
			}
			return nil
		}
		if _, err := c.Verify(key); err != nil {
			t.Errorf("commit %s by %s: %v", c.Hash, c.Author.Email, err)
		}
		signed[c.Author.Email]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// hejun: 3 plan reviews and 5 change-record approvals; the bot: 15 merges.
	if d := cmp.Diff(map[string]int{"hejun@grid-it.example.cn": 8, "relgate-bot@grid-it.example.cn": 15}, signed); d != "" {
		t.Errorf("signed commits (-want +got):\n%s", d)
	}
}

// TestReplayReviewsAndReports: a quarterly review by the release manager
// approved by the release owner, and reports committed by the bot on
// main, the release report after the deployment stage.
func TestReplayReviewsAndReports(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	copyTree(t, exampleRepo, src)
	writeSrc(t, src, "reviews/2026Q4.yaml", `apiVersion: relgate.dev/v1
kind: Review
quarter: 2026Q4
heldAt: "2026-12-20T10:00:00+08:00"
participants:
  - zhangwei
  - wangfang
retrospectives:
  - release: REL-2026-0042
    summary: 违约金舍入缺陷，整体回退
    rootCause: 测试用例未覆盖违约金舍入边界
    lessons: 结算类改造增加边界值测试
actions: []
`)
	writeSrc(t, src, "reports/releases/REL-2026-0041.md", "# REL-2026-0041\n")
	writeSrc(t, src, "reports/quarterly/2026Q4.md", "# 2026Q4\n")
	r := replay(t, src, ReplayOptions{})
	checkReplay(t, r, src, []string{"approvals/change-record.hejun.yaml", "approvals/cmdb-change.zhouhao.yaml",
		"approvals/review-change.zhangwei.yaml"})

	log := r.GitCLI("log", "--first-parent", "--reverse", "--format=%an %s", "main")
	for _, w := range []string{
		"relgate-bot Merge pull request #7 from REL-2026-0041/deployment\nrelgate-bot REL-2026-0041: the release report, written by relgate\n",
		"relgate-bot Merge pull request #16 from review/2026Q4\nrelgate-bot reports: written by relgate\n",
	} {
		if !strings.Contains(log, w) {
			t.Errorf("first-parent history lacks\n%s\nin\n%s", w, log)
		}
	}
	if got := r.GitCLI("log", "--format=%an", "main", "--", "reviews/2026Q4.yaml"); got != "王芳\n" {
		t.Errorf("reviews/2026Q4.yaml committed by %q, want the release manager 王芳", got)
	}
}

func TestReplayRefuses(t *testing.T) {
	withApprovals := filepath.Join(t.TempDir(), "src")
	copyTree(t, exampleRepo, withApprovals)
	writeSrc(t, withApprovals, "approvals/policy-change.liuzhiqiang.yaml", "x: 1\n")
	for _, tc := range []struct {
		name, src string
		prepare   func(r *gitrepotest.Repo)
		want      string
	}{
		{"work tree not empty", exampleRepo, func(r *gitrepotest.Repo) { r.Write("notes.txt", "x") }, "not empty"},
		{"repository has commits", exampleRepo, func(r *gitrepotest.Repo) {
			r.Write("notes.txt", "x")
			r.Commit("notes", gitrepotest.Person{Name: "a", Email: "a@example.cn"})
		}, "not empty"},
		{"root approvals in the source", withApprovals, func(*gitrepotest.Repo) {}, "approvals at the root are written by Replay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gitrepotest.New(t)
			tc.prepare(r)
			err := Replay(tc.src, r.Dir, ReplayOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Replay: %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(tc.want, "not empty") && !errors.Is(err, ErrNotEmpty) {
				t.Errorf("Replay: %v, want ErrNotEmpty", err)
			}
		})
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	files, err := sourceFiles(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			t.Fatal(err)
		}
		writeSrc(t, to, f, string(data))
	}
}

func writeSrc(t *testing.T, dir, p, content string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
