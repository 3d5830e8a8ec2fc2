package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/cli"
)

// readSite reads a file relgate site wrote.
func readSite(t *testing.T, out, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
	if err != nil {
		t.Fatalf("the site has no %s: %v", p, err)
	}
	return string(data)
}

// row is the approvals table row of one approval file on a release page:
// from its gate cell to the end of the row.
func approvalRow(t *testing.T, page, gateWord, person string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<tr>\s*<td>` + regexp.QuoteMeta(gateWord) + `</td>\s*<td>` + regexp.QuoteMeta(person) + `.*?</tr>`)
	m := re.FindString(page)
	if m == "" {
		t.Fatalf("the release page has no approval row of %s for %s", person, gateWord)
	}
	return m
}

// TestSiteShowsWhyApprovalsDoNotCount: the release page names every
// approval recorded for a gate and, for each that does not count, the
// reason the gate's one decision gave: not in role,
// stale with the document that changed and its commit, self-approval, and
// unauthenticated — in both languages — while a lawful approval shows as
// counting, with the commit that gave it in the trail.
func TestSiteShowsWhyApprovalsDoNotCount(t *testing.T) {
	r := exampleRepo(t)
	plan := rel43 + "/plan.yaml"
	// Self-approval: the release owner edits the plan, then approves it.
	r.Write(plan, strings.Replace(r.Read(plan), "purpose:", "# 负责人补充\npurpose:", 1))
	selfEdit := r.Commit("plan: owner's addition", who("zhangwei"))
	// Stale: hejun approved the plan in the example; its author changes it.
	r.Write(plan, strings.Replace(r.Read(plan), "purpose:", "# 评审意见已处理\npurpose:", 1))
	edit := r.Commit("plan: address the review", who("wangfang"))
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--force")
	// Unauthenticated: maxiaodong's approval file committed by someone else.
	if code, out, errs := run(t, "approve", "REL-2026-0043", "plan-review", "--repo", r.Dir, "--as", "maxiaodong", "--now", "2026-11-25T10:00:00+08:00"); code != 0 {
		t.Fatalf("approve without --commit: %s%s", out, errs)
	}
	r.Commit("add maxiaodong's approval", who("wangfang"))
	// Not in role: lina holds no role plan-review needs (approve refuses to
	// write it; she writes the file herself).
	_, digest, errs := run(t, "digest", "REL-2026-0043", "plan-review", "--repo", r.Dir)
	if !strings.HasPrefix(strings.TrimSpace(digest), "sha256:") {
		t.Fatalf("digest: %q %s", digest, errs)
	}
	r.Write(rel43+"/approvals/plan-review.lina.yaml", "apiVersion: relgate.dev/v1\nkind: Approval\nrelease: REL-2026-0043\ngate: plan-review\n"+
		"person: lina\nrole: release-owner\ndecision: approve\ndigest: "+strings.TrimSpace(digest)+"\nat: \"2026-11-25T10:00:00+08:00\"\n")
	r.Commit("lina approves plan-review", who("lina"))

	out := filepath.Join(t.TempDir(), "site")
	if code, stdout, errs := run(t, "site", out, "--repo", r.Dir, "--forge-url", "https://github.example/grid/releases"); code != 0 {
		t.Fatalf("site: exit %d\n%s%s", code, stdout, errs)
	}
	for _, tc := range []struct {
		lang, gate                             string
		counts, notInRole, stale, self, unauth string
	}{
		{lang: "en", gate: "plan-review", counts: "counts", notInRole: "not-in-role", stale: "stale", self: "self-approval", unauth: "unauthenticated"},
		{lang: "zh", gate: "发布方案评审", counts: "有效", notInRole: "不具备角色", stale: "已过期", self: "自我审批", unauth: "未经认证"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			page := readSite(t, out, tc.lang+"/releases/REL-2026-0043.html")
			if !strings.Contains(page, `<html lang="`+tc.lang+`">`) {
				t.Errorf("the page is not marked %s", tc.lang)
			}
			if row := approvalRow(t, page, tc.gate, "李娜 (lina)"); !strings.Contains(row, tc.notInRole) {
				t.Errorf("lina's approval does not show %q:\n%s", tc.notInRole, row)
			}
			if row := approvalRow(t, page, tc.gate, "何军 (hejun)"); !strings.Contains(row, tc.stale) ||
				!strings.Contains(row, "plan.yaml") || !strings.Contains(row, short12(edit)) {
				t.Errorf("hejun's approval does not show stale with plan.yaml in %s:\n%s", short12(edit), row)
			}
			if row := approvalRow(t, page, tc.gate, "张伟 (zhangwei)"); !strings.Contains(row, tc.self) || !strings.Contains(row, short12(selfEdit)) {
				t.Errorf("zhangwei's approval does not show %q with the commit %s:\n%s", tc.self, short12(selfEdit), row)
			}
			if row := approvalRow(t, page, tc.gate, "马晓东 (maxiaodong)"); !strings.Contains(row, tc.unauth) {
				t.Errorf("maxiaodong's approval does not show %q:\n%s", tc.unauth, row)
			}
			// A confirmed release: its approvals count, and the trail links
			// the commits that gave them to the forge.
			done := readSite(t, out, tc.lang+"/releases/REL-2026-0041.html")
			if row := approvalRow(t, done, tc.gate, "何军 (hejun)"); !strings.Contains(row, tc.counts) {
				t.Errorf("REL-2026-0041: hejun's plan review does not show as counting:\n%s", row)
			}
			if !strings.Contains(done, `href="https://github.example/grid/releases/commit/`) {
				t.Errorf("REL-2026-0041: the trail does not link commits to the forge")
			}
		})
	}
	// The board says who may still supply the plan review.
	board := readSite(t, out, "en/index.html")
	if !strings.Contains(board, "REL-2026-0043") || !strings.Contains(board, "who may give it") {
		t.Errorf("the board does not show what REL-2026-0043 waits for and who may give it:\n%s", board)
	}
}

// TestSiteCommand: the same commit gives the same bytes; a second run into
// the folder replaces the site and removes pages that are gone; a folder
// with other content is refused; usage errors exit 2.
func TestSiteCommand(t *testing.T) {
	r := exampleRepo(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, out := range []string{a, b} {
		if code, stdout, errs := run(t, "site", out, "--repo", r.Dir); code != 0 {
			t.Fatalf("site: exit %d\n%s%s", code, stdout, errs)
		}
	}
	files := map[string]bool{}
	err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		files[rel] = true
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of one commit", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"index.html", "zh/index.html", "en/index.html", "zh/releases/REL-2026-0041.html", "en/cmdb/index.html",
		"zh/changes.html", "en/quarters/index.html", "zh/policy.html", "assets/site.css", "assets/site.js"} {
		if !files[filepath.FromSlash(want)] {
			t.Errorf("the site has no %s", want)
		}
	}
	// The root opens the policy's language (zh); --lang en opens English.
	if root := readSite(t, a, "index.html"); !strings.Contains(root, `url=zh/index.html`) {
		t.Errorf("the root does not open the policy's language:\n%s", root)
	}
	// A release that is gone at a later commit loses its page on the next run.
	r.GitCLI("rm", "-q", "-r", rel43)
	r.Commit("drop REL-2026-0043 (a test of the site, not a lawful change)", who("wangfang"))
	if code, stdout, errs := run(t, "site", a, "--repo", r.Dir, "--lang", "en"); code != 0 {
		t.Fatalf("site again: exit %d\n%s%s", code, stdout, errs)
	}
	if _, err := os.Stat(filepath.Join(a, "zh", "releases", "REL-2026-0043.html")); !os.IsNotExist(err) {
		t.Errorf("the page of a release that is gone is still there: %v", err)
	}
	if root := readSite(t, a, "index.html"); !strings.Contains(root, `url=en/index.html`) {
		t.Errorf("--lang en: the root does not open English:\n%s", root)
	}
	// --rev shows an older commit.
	c := filepath.Join(dir, "c")
	if code, _, errs := run(t, "site", c, "--repo", r.Dir, "--rev", "HEAD~1"); code != 0 {
		t.Fatalf("site --rev HEAD~1: %s", errs)
	}
	readSite(t, c, "en/releases/REL-2026-0043.html")

	foreign := filepath.Join(dir, "foreign")
	if err := os.MkdirAll(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"site", foreign, "--repo", r.Dir}, "holds no site relgate wrote"},
		{[]string{"site", "--repo", r.Dir}, "name the folder"},
		{[]string{"site", filepath.Join(dir, "d"), "--repo", r.Dir, "--lang", "fr"}, "--lang"},
		{[]string{"site", filepath.Join(dir, "d"), "--repo", r.Dir, "--forge-url", "javascript:alert(1)"}, "--forge-url"},
	} {
		code, _, errs := run(t, tc.args...)
		if code != cli.ExitProblem || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, code, cli.ExitProblem, tc.want, errs)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(foreign, "notes.txt")); string(data) != "mine" {
		t.Error("the refused folder was changed")
	}
}

// TestSiteAfterAnInvalidPolicyInHistory: a commit on main once made
// relgate.yaml invalid and a later one restored it. The invalid file
// governs nothing: the policy in force is the one before it, so status,
// the dashboard and a later policy change are judged under it — and
// neither status nor the site stays broken for good.
func TestSiteAfterAnInvalidPolicyInHistory(t *testing.T) {
	r := exampleRepo(t)
	good := r.Read("relgate.yaml")
	r.Write("relgate.yaml", good+"\nnot: [valid\n")
	r.Commit("break the policy (pushed)", who("wangfang"))
	r.Write("relgate.yaml", good)
	r.Commit("restore the policy", who("wangfang"))
	code, out, errs := run(t, "status", r.Dir, "--rev", "HEAD")
	if code != 0 || !strings.Contains(out, "REL-2026-0043") {
		t.Fatalf("status after an invalid policy in history: exit %d\n%s%s", code, out, errs)
	}
	site := filepath.Join(t.TempDir(), "site")
	if code, stdout, errs := run(t, "site", site, "--repo", r.Dir); code != 0 {
		t.Fatalf("site after an invalid policy in history: exit %d\n%s%s", code, stdout, errs)
	}
	readSite(t, site, "en/releases/REL-2026-0043.html")
}

// TestPolicyPushedAfterAnInvalidOneDoesNotVouch: the attack on that rule —
// break relgate.yaml with one direct push, then push a policy of one's
// own (wangfang made release owner) without the process approver. The
// invalid file in between gives no way round gate policy-change: the
// pushed policy is not in force, so status keeps the policy before both.
func TestPolicyPushedAfterAnInvalidOneDoesNotVouch(t *testing.T) {
	r := exampleRepo(t)
	good := r.Read("relgate.yaml")
	r.Write("relgate.yaml", good+"\nnot: [valid\n")
	r.Commit("break the policy (pushed)", who("wangfang"))
	mine := strings.Replace(good, "  release-owner:\n    - zhangwei\n", "  release-owner:\n    - zhangwei\n    - wangfang\n", 1)
	if mine == good {
		t.Fatal("the example policy has no release-owner role to change")
	}
	r.Write("relgate.yaml", mine)
	r.Commit("a policy of my own (pushed, no policy-change approval)", who("wangfang"))
	code, out, errs := run(t, "status", "REL-2026-0043", r.Dir, "--rev", "HEAD")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "without gate policy-change") {
		t.Errorf("status does not say the pushed policy is not in force:\n%s", out)
	}
	if !strings.Contains(out, "approval(s) of release-owner missing; who may give it: zhangwei\n") {
		t.Errorf("status treats wangfang as release owner under a policy pushed past its gate:\n%s", out)
	}
}
