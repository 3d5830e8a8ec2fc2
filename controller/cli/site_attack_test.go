package cli_test

// Adversarial tests of `relgate site` (issue 14): an attacker who can write
// documents into the release repository (a pull request author, anyone whose
// commits reach main), and a careless user. A failing test is an attack that
// works; a passing one proves the defence.

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/cli"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/present"
)

// evil is markup an attacker writes into every text field: a tag, both
// quotes and an ampersand, so that text, attribute and option contexts
// are all tried.
const evil = `<x-evil a="1" b='2'>&amp`

// siteFiles reads every file of a site folder, by slash path.
func siteFiles(t *testing.T, out string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// itemPage is the path of a configuration item's page in lang, found from
// the CMDB list's link (the layout of the cmdb folder is the site's).
func itemPage(t *testing.T, files map[string]string, lang, id string) string {
	t.Helper()
	re := regexp.MustCompile(`href="([^"]*/)?` + regexp.QuoteMeta(id) + `\.html"`)
	for p, s := range files {
		if !strings.HasPrefix(p, lang+"/cmdb/index") {
			continue
		}
		if m := re.FindStringSubmatch(s); m != nil {
			return path.Clean(path.Join(path.Dir(p), m[1], id+".html"))
		}
	}
	t.Fatalf("the %s CMDB list links no page of %s", lang, id)
	return ""
}

// buildSite runs relgate site into a new folder and returns it.
func buildSite(t *testing.T, r *gitrepotest.Repo, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "site")
	if code, stdout, errs := run(t, append([]string{"site", out, "--repo", r.Dir}, extra...)...); code != 0 {
		t.Fatalf("site: exit %d\n%s%s", code, stdout, errs)
	}
	return out
}

// dangerousLink finds a link or source whose scheme runs code or leaves
// the site for a host the documents chose (a scheme-relative //host); the
// empty data:, of the page's own icon is not one.
var dangerousLink = regexp.MustCompile(`(?i)(href|src|action|formaction)\s*=\s*["']?\s*(javascript:|data:[^,]|vbscript:|//)`)

// injectedAttr finds an attribute a value broke out to write.
var injectedAttr = regexp.MustCompile(`(?i)["']\s+on[a-z]+\s*=`)

// TestSiteAttackInjection: markup written into every document field the
// pages show, into commit subjects, author names and file names, and into
// the URLs documents hold, reaches the written HTML only escaped; no link
// runs script.
func TestSiteAttackInjection(t *testing.T) {
	r := exampleRepo(t)
	// The policy (lawfully changed, so it is in force): a person's name.
	r.Edit("relgate.yaml", "name: 何军", "name: 何军"+evil)
	commitPolicy(t, r)
	// Release fields: title, a system (data-system, <option>), an
	// external change request whose link is script, another that tries to
	// leave its attribute.
	r.Edit(rel43+"/release.yaml", "title: 调度管理", "title: 调度管理"+evil)
	r.Edit(rel43+"/release.yaml", "  - OMS 调度运行管理系统\n", "  - OMS 调度运行管理系统\n  - \"SYS"+strings.ReplaceAll(evil, `"`, `\"`)+"\"\n")
	r.Edit(rel43+"/release.yaml", "  - id: CHG-2026-0104\n", "  - id: CHG-2026-0104\n"+
		"  - id: EXT-1\n    external: true\n    url: \"javascript:alert(1)\"\n"+
		"  - id: EXT-2\n    external: true\n    url: \"https://ok.example/\\\" onmouseover=\\\"alert(2)\"\n"+
		"  - id: EXT-4\n    external: true\n    url: \"data:text/html,<script>alert(4)</script>\"\n")
	// Plan: purpose and a step name.
	r.Edit(plan43, "purpose: ", "purpose: "+strings.ReplaceAll(evil, "'", "")+" ")
	r.Edit(plan43, "  - name: 开工会", "  - name: \"STEP"+strings.ReplaceAll(evil, `"`, `\"`)+"\"\n    owner: wangfang\n    people: [wangfang]\n    start: \"2026-11-28T22:00:00+08:00\"\n    end: \"2026-11-28T22:10:00+08:00\"\n  - name: 开工会")
	// A CMDB item's name and history note; a change request's title.
	r.Edit("cmdb/payment-interface.yaml", "name: 电费结算", "name: \"ITEM"+strings.ReplaceAll(evil, `"`, `\"`)+"\"\n# name: 电费结算")
	r.Edit("cmdb/payment-interface.yaml", "note: 配置基线导入", "note: \"NOTE"+strings.ReplaceAll(evil, `"`, `\"`)+"\"\n    # ")
	r.Edit("changes/CHG-2026-0101.yaml", "title: D5000", "title: \"CHANGE"+strings.ReplaceAll(evil, `"`, `\"`)+"\"\n# title: D5000")
	// A commit subject and an author name the policy does not know (git
	// refuses < and > in names: quotes and ampersands instead).
	r.Commit("SUBJECT"+evil, gitrepotest.Person{Name: `Mallory "x' & y`, Email: "mallory@vendor.example.com"})
	// Pipeline receipts whose run is script, or another host without a
	// scheme (a change request's url must be absolute: the schema refuses
	// //host there).
	dep41 := "releases/REL-2026-0041/deployment.yaml"
	r.Edit(dep41, "outcome: succeeded\n", "outcome: succeeded\nreceipt:\n  source: ci\n  run: \"javascript:alert(5)\"\n  environment: \"ENV"+strings.ReplaceAll(evil, `"`, `\"`)+"\"\n")
	r.Edit("releases/REL-2026-0042/deployment.yaml", "outcome: ", "receipt:\n  source: ci\n  run: \"//evil.example/run\"\n  environment: production\noutcome: ")
	r.Commit("receipts", who("sunlei"))
	// An approval comment (through the CLI), an approval file whose name
	// is markup (a release folder whose name is markup:
	// TestSiteAttackOddReleaseFolder).
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--comment", "COMMENT"+evil)
	r.Write(rel43+"/approvals/plan-review.<x-evil a=\"1\">.yaml", r.Read(rel43+"/approvals/plan-review.hejun.yaml"))
	r.Commit("odd names", who("wangfang"))

	if code, stdout, _ := run(t, "validate", r.Dir); code != 1 || strings.Contains(stdout, "release.yaml") {
		t.Logf("validate (only the odd approval file name should be a finding): exit %d\n%s", code, stdout)
	}
	out := buildSite(t, r, "--forge-url", `https://github.example/grid/releases" onmouseover="alert(6)`)
	files := siteFiles(t, out)
	for p, s := range files {
		if !strings.HasSuffix(p, ".html") && !strings.HasSuffix(p, ".svg") {
			continue
		}
		if i := strings.Index(s, "<x-evil"); i >= 0 {
			t.Errorf("%s: markup from a document reached the page unescaped: …%s…", p, s[max(0, i-120):min(len(s), i+80)])
		}
		if m := dangerousLink.FindStringIndex(s); m != nil {
			t.Errorf("%s: a link runs script or leaves for a host a document chose: …%s…", p, s[max(0, m[0]-80):min(len(s), m[1]+80)])
		}
		if m := injectedAttr.FindStringIndex(s); m != nil {
			t.Errorf("%s: a value broke out of its attribute: …%s…", p, s[max(0, m[0]-120):min(len(s), m[1]+80)])
		}
	}
	// Each field was shown (escaped): a field the schema dropped would
	// prove nothing.
	esc := "&lt;x-evil a=&#34;1&#34; b=&#39;2&#39;&gt;&amp;amp"
	for _, tc := range []struct{ page, marker string }{
		{"en/releases/REL-2026-0043.html", "调度管理" + esc},
		{"en/releases/REL-2026-0043.html", "SYS" + esc},
		{"en/releases/REL-2026-0043.html", "STEP" + esc},
		{"en/releases/REL-2026-0043.html", "COMMENT" + esc},
		{"en/releases/REL-2026-0043.html", "SUBJECT" + esc},
		{"en/releases/REL-2026-0043.html", "何军" + esc},
		{"en/releases/REL-2026-0043.html", "plan-review.&lt;x-evil"},
		{"en/releases/REL-2026-0041.html", "ENV" + esc},
		{"en/releases/REL-2026-0042.html", "ci · production"},
		{"en/index.html", "SYS" + esc},
		{itemPage(t, files, "en", "payment-interface"), "ITEM" + esc},
		{itemPage(t, files, "en", "payment-interface"), "NOTE" + esc},
		{"en/changes.html", "CHANGE" + esc},
		{"en/policy.html", "何军" + esc},
	} {
		if !strings.Contains(files[tc.page], tc.marker) {
			t.Errorf("%s does not show %q escaped: the attack was not tried", tc.page, tc.marker)
		}
	}
	// The forge URL was taken (escaped) and the script links were dropped.
	if !strings.Contains(files["en/releases/REL-2026-0041.html"], `href="https://github.example/grid/releases&#34; onmouseover=&#34;alert(6)/commit/`) {
		t.Errorf("the forge URL is not linked escaped")
	}
	if p := files["en/releases/REL-2026-0043.html"]; !strings.Contains(p, "EXT-1") || strings.Contains(p, "alert(1)") {
		t.Errorf("the external change request with a javascript: link is missing or linked")
	}
}

// TestSiteAttackOddReleaseFolder: a release folder whose name is not a
// release id (a typo, or markup) is a validation finding; it must not
// take the whole dashboard down (a commit on main would blank the
// published site and leave serve on its last pages), and its page, if it
// gets one, stays in releases/ and shows the name escaped.
func TestSiteAttackOddReleaseFolder(t *testing.T) {
	for _, name := range []string{"rel-2026-0044", `REL-2026-0099<x-evil a="1" b='2'>`} {
		t.Run(name, func(t *testing.T) {
			r := exampleRepo(t)
			r.Write("releases/"+name+"/release.yaml", strings.ReplaceAll(r.Read(rel43+"/release.yaml"), "REL-2026-0043", "REL-2026-0099"))
			r.Commit("a release folder with an odd name", who("wangfang"))
			statusCode, _, statusErr := run(t, "status", r.Dir, "--rev", "HEAD", "--format", "json")
			out := filepath.Join(t.TempDir(), "site")
			code, stdout, errs := run(t, "site", out, "--repo", r.Dir)
			if code != 0 {
				t.Fatalf("site: exit %d (status: exit %d %s)\n%s%s", code, statusCode, statusErr, stdout, errs)
			}
			for p, s := range siteFiles(t, out) {
				if strings.Contains(s, "<x-evil") {
					t.Errorf("%s shows the folder name unescaped", p)
				}
				if strings.Contains(p, "x-evil") && !strings.HasPrefix(p, "en/releases/") && !strings.HasPrefix(p, "zh/releases/") {
					t.Errorf("the odd folder wrote %s outside releases/", p)
				}
			}
		})
	}
}

// TestSiteAttackCMDBFileNameLies: a CMDB file whose id is another item's
// (cmdb/zz-fake.yaml saying id: payment-interface) is a validation
// finding; the site must not let it replace the real item's page or the
// "CMDB now" a release page shows.
func TestSiteAttackCMDBFileNameLies(t *testing.T) {
	r := exampleRepo(t)
	fake := strings.Replace(r.Read("cmdb/payment-interface.yaml"), `version: "3.1.4"`, `version: "9.9.9-FAKE"`, 1)
	r.Write("cmdb/zz-fake.yaml", fake)
	r.Commit("a CMDB file that says it is another item", who("wangfang"))
	out := buildSite(t, r)
	files := siteFiles(t, out)
	for p, s := range files {
		if strings.Contains(s, "9.9.9-FAKE") && !strings.Contains(p, "zz-fake") {
			t.Errorf("%s shows the version of cmdb/zz-fake.yaml as payment-interface's", p)
		}
	}
	if !strings.Contains(files[itemPage(t, files, "en", "payment-interface")], "3.1.4") {
		t.Errorf("payment-interface's page does not show its own version 3.1.4")
	}
}

// siteManifestFile is the list relgate site keeps of what it wrote.
const siteManifestFile = ".relgate-site"

// TestSiteAttackManifest: the manifest of a site folder is a file anyone
// with write access to the folder (a shared publish folder, a checkout of
// the gh-pages branch) could have edited. A rerun must delete nothing
// outside the folder — not through .., an absolute path, or a symlink
// inside it — and must not write through a symlink to a file elsewhere.
func TestSiteAttackManifest(t *testing.T) {
	r := exampleRepo(t)
	tests := []struct {
		name string
		// plant prepares the folder holding a previous site; it returns
		// the file outside the folder that must survive unchanged.
		plant func(t *testing.T, out, outside string) string
	}{
		{name: "a manifest entry with ..", plant: func(t *testing.T, out, outside string) string {
			appendManifest(t, out, "../victim.txt", "zh/../../victim.txt")
			return filepath.Join(filepath.Dir(out), "victim.txt")
		}},
		{name: "an absolute manifest entry", plant: func(t *testing.T, out, outside string) string {
			appendManifest(t, out, filepath.Join(outside, "victim.txt"))
			return filepath.Join(outside, "victim.txt")
		}},
		{name: "a manifest entry through a symlinked folder inside the site", plant: func(t *testing.T, out, outside string) string {
			if err := os.Symlink(outside, filepath.Join(out, "link")); err != nil {
				t.Fatal(err)
			}
			// Only the file: listing link too would remove the symlink first.
			appendManifest(t, out, "link/victim.txt")
			return filepath.Join(outside, "victim.txt")
		}},
		{name: "a page replaced by a symlink to a file elsewhere", plant: func(t *testing.T, out, outside string) string {
			page := filepath.Join(out, "en", "index.html")
			if err := os.Remove(page); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(outside, "victim.txt"), page); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(outside, "victim.txt")
		}},
		{name: "a language folder replaced by a symlink to a folder elsewhere", plant: func(t *testing.T, out, outside string) string {
			if err := os.RemoveAll(filepath.Join(out, "zh")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "index.html"), []byte("victim"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(out, "zh")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(outside, "index.html")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, outside := filepath.Join(dir, "site"), filepath.Join(dir, "outside")
			if err := os.MkdirAll(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "victim.txt"), []byte("victim"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "victim.txt"), []byte("victim"), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, stdout, errs := run(t, "site", out, "--repo", r.Dir); code != 0 {
				t.Fatalf("site: exit %d\n%s%s", code, stdout, errs)
			}
			victim := tc.plant(t, out, outside)
			code, stdout, errs := run(t, "site", out, "--repo", r.Dir)
			data, err := os.ReadFile(victim)
			if err != nil || string(data) != "victim" {
				t.Errorf("the rerun (exit %d) removed or overwrote %s outside the site folder: %q %v\n%s%s", code, victim, data[:min(len(data), 60)], err, stdout, errs)
			}
		})
	}
}

func appendManifest(t *testing.T, out string, lines ...string) {
	t.Helper()
	p := filepath.Join(out, siteManifestFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(data, []byte(strings.Join(lines, "\n")+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSiteAttackManifestInRepository: an attacker commits a .relgate-site
// to the release repository listing the repository's own files; a careless
// user then runs `relgate site` with the repository's work tree as OUTDIR.
// The folder is not a site relgate wrote: it must be refused, and nothing
// deleted (certainly not .git).
func TestSiteAttackManifestInRepository(t *testing.T) {
	r := exampleRepo(t)
	r.Write(siteManifestFile, "index.html\nrelgate.yaml\n.git/HEAD\n.git/config\nreleases/REL-2026-0043/plan.yaml\n")
	r.Commit("docs", who("wangfang"))
	r.Write("notes.txt", "untracked work of the user\n")
	code, stdout, errs := run(t, "site", r.Dir, "--repo", r.Dir)
	for _, f := range []string{".git/HEAD", ".git/config", "relgate.yaml", "releases/REL-2026-0043/plan.yaml", "notes.txt"} {
		if _, err := os.Stat(filepath.Join(r.Dir, filepath.FromSlash(f))); err != nil {
			t.Errorf("relgate site into the repository (exit %d) deleted %s: %v", code, f, err)
		}
	}
	if code != cli.ExitProblem {
		t.Errorf("relgate site into the repository's work tree: exit %d, want %d (refused)\n%s%s", code, cli.ExitProblem, stdout, errs)
	}
}

// TestSiteAttackManifestListsFolder: a manifest entry naming a folder the
// new site still fills (en) must not fail every later run.
func TestSiteAttackManifestListsFolder(t *testing.T) {
	r := exampleRepo(t)
	out := buildSite(t, r)
	appendManifest(t, out, "en", "en/releases")
	for i := range 2 {
		if code, stdout, errs := run(t, "site", out, "--repo", r.Dir); code != 0 {
			t.Errorf("rerun %d after a manifest entry naming a folder: exit %d\n%s%s", i+1, code, stdout, errs)
		}
	}
}

// TestSiteAttackCLIMisuse: OUTDIR a file, the repository itself, the
// current folder holding other files, a folder holding a previous site and
// other files, a read-only folder: each is a clear error with exit 2 and
// leaves what was there.
func TestSiteAttackCLIMisuse(t *testing.T) {
	r := exampleRepo(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file.html")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	mixed := buildSite(t, r)
	if err := os.WriteFile(filepath.Join(mixed, "CNAME"), []byte("releases.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cwd := filepath.Join(dir, "cwd")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cwd, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	for _, tc := range []struct {
		name, out, want string
	}{
		{"OUTDIR is a file", file, file},
		{"OUTDIR is the repository", r.Dir, r.Dir},
		{"OUTDIR is . holding other files", ".", "."},
		{"--lang with markup", filepath.Join(dir, "new"), "--lang"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"site", tc.out, "--repo", r.Dir}
			if tc.want == "--lang" {
				args = append(args, "--lang", `en"><x-evil>`)
			}
			code, _, errs := run(t, args...)
			if code != cli.ExitProblem || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, cli.ExitProblem, tc.want, errs)
			}
		})
	}
	if data, _ := os.ReadFile(file); string(data) != "mine" {
		t.Error("the file named as OUTDIR was changed")
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 1 {
		t.Errorf("site . wrote into the current folder: %d entries", len(entries))
	}
	// A previous site plus a file the user added (GitHub Pages' CNAME): the
	// rerun keeps the file.
	if code, stdout, errs := run(t, "site", mixed, "--repo", r.Dir); code != 0 {
		t.Errorf("rerun into a site with a CNAME: exit %d\n%s%s", code, stdout, errs)
	}
	if data, err := os.ReadFile(filepath.Join(mixed, "CNAME")); err != nil || string(data) != "releases.example\n" {
		t.Errorf("the rerun removed a file the user added: %v", err)
	}
	t.Run("a read-only folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into read-only folders")
		}
		ro := filepath.Join(dir, "ro")
		if err := os.MkdirAll(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		code, _, errs := run(t, "site", ro, "--repo", r.Dir)
		if code != cli.ExitProblem || !strings.Contains(errs, ro) {
			t.Errorf("exit %d, want %d naming %s:\n%s", code, cli.ExitProblem, ro, errs)
		}
	})
}

var (
	pageState    = regexp.MustCompile(`</h1>\n<p><span class="badge(?: ok)?">([a-z-]+)</span>`)
	pageGateRow  = regexp.MustCompile(`<tr><td>([a-z-]+)(?: <span class="muted">[^<]*</span>)?(?:<br><code[^>]*>[^<]*</code>)?</td><td[^>]*><span class="(ok|warn)">`)
	pageVoteRow  = regexp.MustCompile(`(?s)<tr>\n<td>([a-z-]+)</td>\n<td>([^<]*)(?: <span[^>]*>[^<]*</span>)?</td>.*?</tr>`)
	pageLoginEnd = regexp.MustCompile(`\(([A-Za-z0-9-]+)\)$`)
)

// siteAgreesWithStatus compares every English release page of the site in
// out with `relgate status --rev rev --format json`: the state, whether it
// is blocked, each gate passed or not, and each approval shown as counting
// or blocking must be one status counts or holds as a rejection.
func siteAgreesWithStatus(t *testing.T, r *gitrepotest.Repo, rev, out string) {
	t.Helper()
	code, js, errs := run(t, "status", r.Dir, "--rev", rev, "--format", "json")
	if code != 0 {
		t.Fatalf("status --rev %s: exit %d: %s", rev, code, errs)
	}
	var rep present.StatusReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(r.GitCLI("rev-parse", rev))
	if board := readSite(t, out, "en/index.html"); !strings.Contains(board, `title="`+commit+`"`) {
		t.Errorf("the board does not show commit %s (%s)", commit[:12], rev)
	}
	for _, st := range rep.Releases {
		page := readSite(t, out, "en/releases/"+st.Release+".html")
		if m := pageState.FindStringSubmatch(page); m == nil || m[1] != st.State {
			t.Errorf("%s: the page shows state %v, status %s", st.Release, m, st.State)
		}
		blocked := len(st.Violations) > 0
		counted, rejected := map[string]bool{}, map[string]bool{}
		passed := map[string]bool{}
		for _, g := range st.Gates {
			passed[g.Gate] = g.Passed
			blocked = blocked || len(g.Rejections) > 0
			for _, q := range g.Requirements {
				for _, p := range q.Approved {
					counted[g.Gate+"/"+p] = true
				}
			}
			for _, j := range g.Rejections {
				rejected[g.Gate+"/"+j.Person] = true
			}
		}
		if got := strings.Contains(page, `<span class="badge bad">blocked</span>`); got != blocked {
			t.Errorf("%s: the page shows blocked=%v, status has rejections or violations=%v", st.Release, got, blocked)
		}
		shown := map[string]bool{}
		_, gates, _ := strings.Cut(page, `id="gates"`)
		gates, _, _ = strings.Cut(gates, `id="approvals"`)
		for _, m := range pageGateRow.FindAllStringSubmatch(gates, -1) {
			shown[m[1]] = true
			if want, ok := passed[m[1]]; !ok || want != (m[2] == "ok") {
				t.Errorf("%s: the page shows gate %s passed=%v, status %v (known %v)", st.Release, m[1], m[2] == "ok", want, ok)
			}
		}
		for g := range passed {
			if !shown[g] {
				t.Errorf("%s: the page has no row of gate %s:\n%.600s", st.Release, g, gates)
			}
		}
		_, votes, _ := strings.Cut(page, `id="approvals"`)
		votes, _, _ = strings.Cut(votes, "</table>")
		pageCounts, pageRejects := 0, 0
		for _, m := range pageVoteRow.FindAllStringSubmatch(votes, -1) {
			login := m[2]
			if l := pageLoginEnd.FindStringSubmatch(m[2]); l != nil {
				login = l[1]
			}
			key := m[1] + "/" + login
			switch {
			case strings.Contains(m[0], "✔ counts"):
				pageCounts++
				if !counted[key] {
					t.Errorf("%s: the page shows %s's approval of %s as counting; status does not count it", st.Release, login, m[1])
				}
			case strings.Contains(m[0], "blocks the gate"):
				pageRejects++
				if !rejected[key] {
					t.Errorf("%s: the page shows %s's rejection of %s as blocking; status has no such rejection", st.Release, login, m[1])
				}
			}
		}
		if pageCounts != len(counted) || pageRejects != len(rejected) {
			t.Errorf("%s: the page shows %d counting approvals and %d rejections, status %d and %d", st.Release, pageCounts, pageRejects, len(counted), len(rejected))
		}
	}
}

// TestSiteAttackAgreesWithStatus: across the ways an approval fails to
// count — stale, self-approval, unauthenticated, not in role, a policy
// pushed without its approval, a rejection, a withdrawn approval — and at
// an older commit with --rev, the pages show what status decides: no
// approval counts on a page that status does not count, no release is in
// a later state, no rejection is hidden.
func TestSiteAttackAgreesWithStatus(t *testing.T) {
	r := exampleRepo(t)
	start := strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))
	// Stale: the plan changes after hejun's approval.
	r.Edit(plan43, "purpose:", "# 评审意见已处理\npurpose:")
	r.Commit("plan: address the review", who("wangfang"))
	// Self-approval: the owner edits the plan, then approves.
	r.Edit(plan43, "purpose:", "# 负责人补充\npurpose:")
	r.Commit("plan: owner's addition", who("zhangwei"))
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--force")
	// Unauthenticated: maxiaodong's file committed by someone else.
	if code, out, errs := run(t, "approve", "REL-2026-0043", "plan-review", "--repo", r.Dir, "--as", "maxiaodong", "--now", "2026-11-25T10:00:00+08:00"); code != 0 {
		t.Fatalf("approve: %s%s", out, errs)
	}
	r.Commit("add maxiaodong's approval", who("wangfang"))
	middle := strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))
	// A policy pushed without its policy-change approval makes lina a
	// release owner; her approval must not count under it.
	r.Edit("relgate.yaml", "  release-owner:\n", "  release-owner:\n    - lina\n")
	r.Commit("policy: lina owns releases (pushed, not approved)", who("lina"))
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "lina", "--role", "release-owner", "--force")
	// A rejection of REL-2026-0042's go-live approval, and a withdrawn
	// approval: xuhui rejects the plan of REL-2026-0041 after approving it.
	approve(t, r, "REL-2026-0041", "plan-review", "--as", "xuhui", "--reject", "--comment", "回退方案未经演练", "--force")
	for _, rev := range []string{"HEAD", middle, start} {
		t.Run(rev[:min(len(rev), 12)], func(t *testing.T) {
			out := buildSite(t, r, "--rev", rev)
			siteAgreesWithStatus(t, r, rev, out)
		})
	}
}

// TestSiteAttackDeterminism: the same commit gives the same bytes whatever
// the builder's timezone and locale (TZ, time.Local, LANG, LC_ALL).
func TestSiteAttackDeterminism(t *testing.T) {
	r := exampleRepo(t)
	// A rejection and a pending release: pages with times in every table.
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--reject", "--comment", "需补充回退演练记录")
	build := func(tz *time.Location, env ...string) map[string]string {
		old := time.Local
		time.Local = tz
		defer func() { time.Local = old }()
		for i := 0; i+1 < len(env); i += 2 {
			t.Setenv(env[i], env[i+1])
		}
		return siteFiles(t, buildSite(t, r))
	}
	a := build(time.UTC, "TZ", "UTC", "LANG", "C", "LC_ALL", "C")
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	b := build(ny, "TZ", "America/New_York", "LANG", "zh_CN.UTF-8", "LC_ALL", "en_US.UTF-8")
	c := build(time.FixedZone("X", 13*3600+45*60), "TZ", "Pacific/Chatham", "LANG", "de_DE.UTF-8", "LC_ALL", "")
	for name, other := range map[string]map[string]string{"New York, zh_CN": b, "+13:45, de_DE": c} {
		if len(other) != len(a) {
			t.Errorf("%s: %d files, UTC/C %d", name, len(other), len(a))
		}
		for p, x := range a {
			if y, ok := other[p]; !ok || x != y {
				t.Errorf("%s: %s differs from the UTC/C build", name, p)
			}
		}
	}
}

// largestPages are the n largest files of a site, for the log.
func largestPages(files map[string]string, n int) []string {
	type f struct {
		p    string
		size int
	}
	var all []f
	for p, s := range files {
		all = append(all, f{p, len(s)})
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[j].size > all[i].size {
				all[i], all[j] = all[j], all[i]
			}
		}
		if i+1 >= n {
			break
		}
	}
	var out []string
	for i := 0; i < n && i < len(all); i++ {
		out = append(out, all[i].p+" "+strconvItoa(all[i].size/1024)+" KB")
	}
	return out
}

func strconvItoa(n int) string {
	var b bytes.Buffer
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	b.Write(d)
	return b.String()
}

func fixed(pages ...string) func(*testing.T, map[string]string) []string {
	return func(*testing.T, map[string]string) []string { return pages }
}

// TestSiteAttackSizeBombs: documents an attacker can commit within the
// loader's bounds (1 MiB a file, no bound on how many files) must not make
// a page go far over the 200 KB. Each case logs the build time and
// the largest pages.
func TestSiteAttackSizeBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds large repositories")
	}
	const limit = 200 << 10
	tests := []struct {
		name string
		bomb func(r *gitrepotest.Repo)
		// pages are where the bomb shows.
		pages func(t *testing.T, files map[string]string) []string
	}{
		{name: "a release with 2,000 approval files",
			bomb: func(r *gitrepotest.Repo) {
				ap := r.Read(rel43 + "/approvals/plan-review.hejun.yaml")
				for i := range 2000 {
					login := "user" + strconvItoa(10000+i)
					r.Write(rel43+"/approvals/plan-review."+login+".yaml", strings.ReplaceAll(ap, "hejun", login))
				}
			},
			pages: fixed("en/releases/REL-2026-0043.html", "zh/releases/REL-2026-0043.html")},
		{name: "a CMDB item with 6,000 history entries (the loader allows 50,000 YAML nodes a file)",
			bomb: func(r *gitrepotest.Repo) {
				var b strings.Builder
				b.WriteString(r.Read("cmdb/payment-interface.yaml"))
				for i := range 6000 {
					b.WriteString("  - {at: \"2026-01-01T00:00:00+08:00\", action: update, version: \"" + strconvItoa(i) + "\"}\n")
				}
				r.Write("cmdb/payment-interface.yaml", b.String())
			},
			pages: func(t *testing.T, files map[string]string) []string {
				return []string{itemPage(t, files, "en", "payment-interface"), itemPage(t, files, "zh", "payment-interface")}
			}},
		{name: "a plan with a 1 MB purpose",
			bomb: func(r *gitrepotest.Repo) {
				r.Edit(plan43, "purpose: ", "purpose: "+strings.Repeat("长", 300_000)+" ")
			},
			pages: fixed("en/releases/REL-2026-0043.html")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exampleRepo(t)
			tc.bomb(r)
			r.Commit("bomb", who("wangfang"))
			begin := time.Now()
			out := buildSite(t, r)
			took := time.Since(begin)
			files := siteFiles(t, out)
			t.Logf("built in %v; largest: %v", took.Round(time.Millisecond), largestPages(files, 3))
			for _, p := range tc.pages(t, files) {
				if _, ok := files[p]; !ok {
					t.Errorf("the site has no %s: the bomb was not tried", p)
				}
			}
			for p, s := range files {
				if strings.HasSuffix(p, ".html") && len(s) > limit {
					t.Errorf("%s is %d KB, over the issue's 200 KB a page", p, len(s)>>10)
				}
			}
		})
	}
}

// footerCommit finds the commit a page says it shows.
var footerCommit = regexp.MustCompile(`<footer>.*?<code title="([0-9a-f]{40})">`)

// TestSiteAttackFailedRerunLeavesOneCommit: a rerun that fails midway (a
// write refused: the disk full, a permission; here a folder where a page
// was) must leave the folder showing one commit — the previous site, or
// the new one — not the new board beside the old release pages.
func TestSiteAttackFailedRerunLeavesOneCommit(t *testing.T) {
	r := exampleRepo(t)
	out := buildSite(t, r)
	r.Edit(rel43+"/release.yaml", "title: 调度管理", "title: 新标题 调度管理")
	r.Commit("a new title", who("wangfang"))
	// zh/policy.html is written after zh's board and before en's pages and
	// every release page.
	blocker := filepath.Join(out, "zh", "policy.html")
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "site", out, "--repo", r.Dir)
	if code == 0 {
		t.Fatalf("the rerun did not fail: the test proves nothing")
	}
	commits := map[string][]string{}
	for p, s := range siteFiles(t, out) {
		if m := footerCommit.FindStringSubmatch(s); m != nil {
			commits[m[1]] = append(commits[m[1]], p)
		}
	}
	if len(commits) != 1 {
		for c, ps := range commits {
			t.Errorf("after a rerun that exited %d (%s), %d pages show commit %s, e.g. %s", code, strings.TrimSpace(errs), len(ps), c[:12], ps[0])
		}
	}
}

// TestSiteAttackChangeLinkPaginated: with more change requests than fit
// one page, a release page's link to its change request must lead to the
// page that lists it.
func TestSiteAttackChangeLinkPaginated(t *testing.T) {
	r := exampleRepo(t)
	chg := r.Read("changes/CHG-2026-0104.yaml")
	for i := range 210 {
		id := "CHG-2026-" + strconvItoa(1000+i)
		r.Write("changes/"+id+".yaml", strings.ReplaceAll(chg, "CHG-2026-0104", id))
	}
	r.Edit(rel43+"/release.yaml", "  - id: CHG-2026-0104\n", "  - id: CHG-2026-0104\n  - id: CHG-2026-1209\n")
	r.Commit("many change requests", who("wangfang"))
	out := buildSite(t, r)
	page := readSite(t, out, "en/releases/REL-2026-0043.html")
	m := regexp.MustCompile(`<a href="([^"#]*)#CHG-2026-1209">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the release page does not link CHG-2026-1209")
	}
	target := filepath.Join(out, "en", "releases", filepath.FromSlash(m[1]))
	data, err := os.ReadFile(target)
	if err != nil || !strings.Contains(string(data), `id="CHG-2026-1209"`) {
		t.Errorf("the link to CHG-2026-1209 leads to %s, which does not list it (%v)", m[1], err)
	}
}

// TestSiteAttackSignedAgreesWithStatus: in a signed history (the policy
// lists everyone's keys, trustCommitAuthor off), an approval signed with
// another person's key, one committed unsigned, one by an author the
// policy does not know, and a lawful signed one: the pages show what
// status decides, and the trail does not call the forged commit verified.
func TestSiteAttackSignedAgreesWithStatus(t *testing.T) {
	r := trSignedRepo(t, nil)
	// Lawful: zhangwei, SSH-signed.
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei", "--sign-key", trSSH(t, "zhangwei"))
	// Forged: maxiaodong's approval signed with lina's key.
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--sign-key", trPGP(t, "lina"), "--force")
	forged := trRev(r, "HEAD")
	// Unsigned: xuhui's approval committed without a signature.
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "xuhui", "--force")
	// A signed rejection of another release's gate.
	approve(t, r, "REL-2026-0042", "go-live-approval", "--as", "zhangwei", "--reject", "--comment", "需复核", "--sign-key", trSSH(t, "zhangwei"), "--force")
	out := buildSite(t, r)
	siteAgreesWithStatus(t, r, "HEAD", out)
	page := readSite(t, out, "en/releases/REL-2026-0043.html")
	row := regexp.MustCompile(`(?s)<tr><td[^>]*>[^<]*</td>\s*<td><a href="[^"]*"><code title="` + forged + `".*?</tr>|<tr><td[^>]*>[^<]*</td><td><code title="` + forged + `".*?</tr>`).FindString(page)
	if row == "" {
		t.Fatalf("the trail has no row of the forged commit %s", forged[:12])
	}
	if strings.Contains(row, "✔ verified") {
		t.Errorf("the trail calls maxiaodong's commit signed with lina's key verified:\n%s", row)
	}
}

// TestSiteAttackItemNamedIndex: a configuration item may be called index
// (the id pattern allows it); its page must not replace the CMDB's list
// of items, nor index-2 the list's second page.
func TestSiteAttackItemNamedIndex(t *testing.T) {
	r := exampleRepo(t)
	r.Write("cmdb/index.yaml", strings.ReplaceAll(r.Read("cmdb/payment-interface.yaml"), "id: payment-interface", "id: index"))
	r.Commit("an item called index", who("wangfang"))
	if code, stdout, _ := run(t, "validate", r.Dir, "--rev", "HEAD"); code != 0 {
		t.Logf("validate: exit %d\n%s", code, stdout)
	}
	out := buildSite(t, r)
	list := readSite(t, out, "en/cmdb/index.html")
	for _, id := range []string{"payment-interface", "oms-workflow", "d5000-scada-frontend"} {
		if !strings.Contains(list, id+".html") {
			t.Errorf("en/cmdb/index.html does not list %s: the item called index replaced the list", id)
		}
	}
}

// TestSiteAttackForgeURLCredentials: a forge URL copied from a CI variable
// often carries a token (GitLab's CI_REPOSITORY_URL is
// https://gitlab-ci-token:TOKEN@host/…). It must not be published in every
// page: refuse it (exit 2) or strip the credentials.
func TestSiteAttackForgeURLCredentials(t *testing.T) {
	r := exampleRepo(t)
	out := filepath.Join(t.TempDir(), "site")
	code, _, errs := run(t, "site", out, "--repo", r.Dir, "--forge-url", "https://gitlab-ci-token:glcbt-SECRET123@gitlab.example/grid/releases")
	if code == cli.ExitProblem {
		if strings.Contains(errs, "SECRET123") {
			t.Errorf("the refusal repeats the token: %s", errs)
		}
		return
	}
	for p, s := range siteFiles(t, out) {
		if strings.Contains(s, "SECRET123") {
			t.Errorf("%s publishes the forge URL's token", p)
		}
	}
}
