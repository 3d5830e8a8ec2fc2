package site_test

// Tests of how the dashboard shows an emergency release's retrospective
// approvals (issue 15; ): a release of the policy's type
// emergency goes live on one approval of the process approver, and its
// plan review and test acceptance are due five days after the deployment
// finished. The board and the release page say, as of the site's now,
// which are passed, owed or overdue; the rule of overdue is the gate's
// (gate.Status.At), the site only shows it. The repository is the example
// replayed as a lawful history with REL-2026-0043 made an emergency
// release, its go-live approved and deployed through relgate's own
// commands; the assertions read the HTML a person reads.

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/net/html"

	"github.com/relgate/relgate/controller/cli"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/site"
)

const (
	emergencyID  = "REL-2026-0043"
	emergencyDir = "releases/" + emergencyID
	// deployedAt is when REL-2026-0043's deployment finished (T); its
	// retrospectives are due at retroDue, T + 5 days.
	deployedAt = "2026-11-28T23:40:00+08:00"
	retroDue   = "2026-12-03 23:40"
)

// emergencyDeployment records REL-2026-0043's deployment, finished at T.
const emergencyDeployment = `apiVersion: relgate.dev/v1
kind: Deployment
release: REL-2026-0043
recordedBy: sunlei
startedAt: "2026-11-28T22:10:00+08:00"
finishedAt: "` + deployedAt + `"
outcome: succeeded
problems: []
deployed:
  - item: oracle-db-dispatch
    version: "19.32.0"
    digest: sha256:6c596ff568ca36749cd18b7ec767ec78a0675a5f1629bad17ec783f1aefcbcba
`

// emergencyRepo replays the example with a policy of release types normal
// and emergency and REL-2026-0043 of type emergency, then gives its
// go-live the process approver's approval alone and records its
// deployment at T. With planReviewed, the plan review is then given after
// the fact, on time.
func emergencyRepo(t *testing.T, planReviewed bool) *gitrepotest.Repo {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	if err := os.CopyFS(src, os.DirFS(filepath.Join("..", "..", "examples", "release-repo"))); err != nil {
		t.Fatal(err)
	}
	editFile(t, filepath.Join(src, "relgate.yaml"), "releaseTypes:\n  - normal\n  - minor\n  - emergency\n", "releaseTypes:\n  - normal\n  - emergency\n")
	editFile(t, filepath.Join(src, emergencyDir, "release.yaml"), "type: normal", "type: emergency")
	r := gitrepotest.New(t)
	if err := gen.Replay(src, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"golive.yaml", "communication.yaml"} {
		r.Write(emergencyDir+"/"+f, strings.ReplaceAll(r.Read("releases/REL-2026-0041/"+f), "REL-2026-0041", emergencyID))
	}
	commitAt(t, r, "zhouhao", "2026-11-26T09:00:00+08:00", emergencyID+": emergency go-live plan")
	approve(t, r, "go-live-approval", "liuzhiqiang", "2026-11-26T10:00:00+08:00")
	r.Write(emergencyDir+"/deployment.yaml", emergencyDeployment)
	commitAt(t, r, "sunlei", "2026-11-29T00:10:00+08:00", emergencyID+": deployed")
	if planReviewed {
		for _, login := range []string{"hejun", "maxiaodong", "zhangwei"} {
			approve(t, r, "plan-review", login, "2026-12-01T15:00:00+08:00")
		}
	}
	return r
}

func editFile(t *testing.T, p, old, new string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", p, old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commitAt commits every change of the work tree as login at when.
func commitAt(t *testing.T, r *gitrepotest.Repo, login, when, msg string) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, when)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Git.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: login, Email: login + "@grid-it.example.cn", When: at}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}
}

// approve records login's approval of REL-2026-0043's gate at when, as
// `relgate approve --commit` does.
func approve(t *testing.T, r *gitrepotest.Repo, gateID, login, when string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Main([]string{"approve", emergencyID, gateID, "--repo", r.Dir, "--as", login, "--commit", "--now", when}, &out, &errb); code != 0 {
		t.Fatalf("relgate approve %s %s --as %s: exit %d\n%s%s", emergencyID, gateID, login, code, out.String(), errb.String())
	}
}

// buildNow builds r's site at HEAD as of now.
func buildNow(t *testing.T, r *gitrepotest.Repo, now string) *site.Site {
	t.Helper()
	at, err := time.Parse(time.RFC3339, now)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	tip, err := g.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	s, err := site.Build(g, "", tip, site.Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parsePage parses the site's page p.
func parsePage(t *testing.T, s *site.Site, p string) *html.Node {
	t.Helper()
	b, ok := s.File(p)
	if !ok {
		t.Fatalf("the site has no %s", p)
	}
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return doc
}

// find is every element under n that match says yes to, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return slices.Contains(strings.Fields(v), class)
}

// badges are the texts of the badges of class (bad, warn) under n.
func badges(n *html.Node, class string) []string {
	var out []string
	for _, b := range find(n, func(n *html.Node) bool { return hasClass(n, "badge") && hasClass(n, class) }) {
		out = append(out, text(b))
	}
	return out
}

// boardRow is the board row of release id in the section labelled by
// section ("attention", "s-deployed"); nil when the section does not list
// it.
func boardRow(t *testing.T, s *site.Site, lang, section, id string) *html.Node {
	t.Helper()
	doc := parsePage(t, s, site.BoardPath(lang))
	for _, sec := range find(doc, func(n *html.Node) bool {
		v, _ := attr(n, "aria-labelledby")
		return n.Data == "section" && v == section
	}) {
		for _, tr := range find(sec, func(n *html.Node) bool { return n.Data == "tr" }) {
			if td := find(tr, func(n *html.Node) bool { v, _ := attr(n, "data-sort"); return n.Data == "td" && v == id }); len(td) > 0 {
				return tr
			}
		}
	}
	return nil
}

// releaseView is what REL-2026-0043's page shows of its retrospectives.
type releaseView struct {
	// stateBad are the red badges beside the release's state.
	stateBad []string
	// retro is each retrospective gate's due date and standing, as the
	// section's table shows them; heading the section's heading.
	retro   map[string][2]string
	heading string
	// overdueBadges are the table's red badges.
	overdueBadges []string
}

func releasePage(t *testing.T, s *site.Site, lang string) releaseView {
	t.Helper()
	doc := parsePage(t, s, site.ReleasePath(lang, emergencyID))
	var v releaseView
	h1 := find(doc, func(n *html.Node) bool { return n.Data == "h1" })
	if len(h1) != 1 {
		t.Fatalf("%s: %d h1", lang, len(h1))
	}
	state := h1[0].NextSibling
	for state != nil && state.Type != html.ElementNode {
		state = state.NextSibling
	}
	if state == nil || state.Data != "p" {
		t.Fatalf("%s: no state paragraph after the h1", lang)
	}
	v.stateBad = badges(state, "bad")
	if h := find(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return n.Data == "h2" && id == "retrospectives" }); len(h) == 1 {
		v.heading = text(h[0])
	}
	v.retro = map[string][2]string{}
	for _, tbl := range find(doc, func(n *html.Node) bool { return n.Data == "table" && hasClass(n, "retrospectives") }) {
		for _, tr := range find(tbl, func(n *html.Node) bool { return n.Data == "tr" }) {
			tds := find(tr, func(n *html.Node) bool { return n.Data == "td" })
			if len(tds) != 3 {
				continue
			}
			v.retro[text(tds[0])] = [2]string{text(tds[1]), text(tds[2])}
		}
		v.overdueBadges = append(v.overdueBadges, badges(tbl, "bad")...)
	}
	return v
}

// words are what each language's pages say.
type words struct {
	planReview, testAcceptance   string
	passed, owed, overdue        string
	heading, flagPrefix, listSep string
}

var languages = map[string]words{
	"en": {planReview: "plan-review", testAcceptance: "test-acceptance", passed: "✔ passed", owed: "… owed", overdue: "OVERDUE",
		heading: "Retrospective approvals", flagPrefix: "retrospective overdue: ", listSep: ", "},
	"zh": {planReview: "发布方案评审", testAcceptance: "测试验收", passed: "✔ 已通过", owed: "… 待补", overdue: "已逾期",
		heading: "事后审批", flagPrefix: "事后审批逾期：", listSep: "、"},
}

// T + 1 day and T + 6 days; the retrospectives are due at T + 5 days.
const onTime, late = "2026-11-29T23:40:00+08:00", "2026-12-04T23:40:00+08:00"

func TestEmergencyRetrospectivesOnSite(t *testing.T) {
	unreviewed := emergencyRepo(t, false)

	t.Run("R-5.1 lawful: a day after the deployment both are owed, nothing is flagged", func(t *testing.T) {
		s := buildNow(t, unreviewed, onTime)
		for lang, w := range languages {
			row := boardRow(t, s, lang, "s-deployed", emergencyID)
			if row == nil {
				t.Fatalf("%s: the board does not list %s among the deployed releases", lang, emergencyID)
			}
			if bad := badges(row, "bad"); len(bad) != 0 || strings.Contains(text(row), w.flagPrefix) {
				t.Errorf("%s: the row of a release whose retrospectives are not yet due is flagged %q:\n%s", lang, bad, text(row))
			}
			if row := boardRow(t, s, lang, "attention", emergencyID); row != nil {
				t.Errorf("%s: the board lists %s as needing attention before its retrospectives are due:\n%s", lang, emergencyID, text(row))
			}
			v := releasePage(t, s, lang)
			if v.heading != w.heading {
				t.Errorf("%s: retrospectives heading %q, want %q", lang, v.heading, w.heading)
			}
			want := map[string][2]string{w.planReview: {retroDue, w.owed}, w.testAcceptance: {retroDue, w.owed}}
			if !equalRetro(v.retro, want) {
				t.Errorf("%s: retrospectives %v, want %v", lang, v.retro, want)
			}
			if len(v.stateBad) != 0 || len(v.overdueBadges) != 0 {
				t.Errorf("%s: red badges on a release whose retrospectives are not due: %q %q", lang, v.stateBad, v.overdueBadges)
			}
		}
	})

	t.Run("R-5.1 attack: six days after the deployment neither was given; the board and the page flag both", func(t *testing.T) {
		s := buildNow(t, unreviewed, late)
		for lang, w := range languages {
			flag := w.flagPrefix + w.planReview + w.listSep + w.testAcceptance
			for _, sec := range []string{"attention", "s-deployed"} {
				row := boardRow(t, s, lang, sec, emergencyID)
				if row == nil {
					t.Errorf("%s: section %s of the board does not list %s", lang, sec, emergencyID)
					continue
				}
				if bad := badges(row, "bad"); !equalStrings(bad, []string{flag}) {
					t.Errorf("%s: section %s: the row's red badges are %q, want %q:\n%s", lang, sec, bad, flag, text(row))
				}
				// The window's "overdue" keeps its meaning: the release
				// has its deployment record.
				if warn := badges(row, "warn"); len(warn) != 0 {
					t.Errorf("%s: section %s: a deployed release's row says its window is overdue: %q", lang, sec, warn)
				}
			}
			v := releasePage(t, s, lang)
			if !equalStrings(v.stateBad, []string{flag}) {
				t.Errorf("%s: badges beside the state %q, want %q", lang, v.stateBad, flag)
			}
			want := map[string][2]string{w.planReview: {retroDue, w.overdue}, w.testAcceptance: {retroDue, w.overdue}}
			if !equalRetro(v.retro, want) {
				t.Errorf("%s: retrospectives %v, want %v", lang, v.retro, want)
			}
			if !equalStrings(v.overdueBadges, []string{w.overdue, w.overdue}) {
				t.Errorf("%s: the table's red badges %q, want both %q", lang, v.overdueBadges, w.overdue)
			}
		}
	})

	t.Run("R-5.1 lawful counterpart: the plan review given on time passes; only test acceptance is overdue", func(t *testing.T) {
		s := buildNow(t, emergencyRepo(t, true), late)
		for lang, w := range languages {
			flag := w.flagPrefix + w.testAcceptance
			row := boardRow(t, s, lang, "attention", emergencyID)
			if row == nil {
				t.Fatalf("%s: the board does not list %s as needing attention", lang, emergencyID)
			}
			if bad := badges(row, "bad"); !equalStrings(bad, []string{flag}) {
				t.Errorf("%s: the row's red badges are %q, want %q:\n%s", lang, bad, flag, text(row))
			}
			v := releasePage(t, s, lang)
			if !equalStrings(v.stateBad, []string{flag}) {
				t.Errorf("%s: badges beside the state %q, want %q", lang, v.stateBad, flag)
			}
			want := map[string][2]string{w.planReview: {retroDue, w.passed}, w.testAcceptance: {retroDue, w.overdue}}
			if !equalRetro(v.retro, want) {
				t.Errorf("%s: retrospectives %v, want %v", lang, v.retro, want)
			}
		}
	})
}

// attentionScript is what a reader sees of the board's attention section:
// whether it shows, and each visible row's release and red badges.
const attentionScript = `(() => {
  const sec = document.querySelector('section[aria-labelledby="attention"]');
  return {
    shown: !!sec && sec.getClientRects().length > 0,
    rows: sec ? Array.prototype.filter.call(sec.querySelectorAll("tbody tr"), r => r.getClientRects().length > 0).map(r => ({
      release: r.cells[0].getAttribute("data-sort") || "",
      bad: Array.prototype.map.call(r.querySelectorAll(".badge.bad"), b => b.textContent.trim()),
    })) : [],
  };
})()`

type attentionView struct {
	Shown bool `json:"shown"`
	Rows  []struct {
		Release string   `json:"release"`
		Bad     []string `json:"bad"`
	} `json:"rows"`
}

// TestEmergencyRetrospectiveInBrowser: in Chromium, the board filtered to
// emergency releases shows, in its attention section, the emergency
// release whose retrospectives are overdue, flagged.
func TestEmergencyRetrospectiveInBrowser(t *testing.T) {
	b := startBrowser(t)
	s := serveSite(t, t, "emergency", func(t *testing.T, _ string) (*site.Site, string, string) {
		r := emergencyRepo(t, false)
		return buildNow(t, r, late), "", r.Dir
	})
	for lang, w := range languages {
		tb := b.newTab(t)
		r := tb.load(s, site.BoardPath(lang))
		checkLoad(t, r)
		tb.choose(t, "type", "emergency")
		got, err := run(tb, chromedp.Evaluate[attentionView](attentionScript))
		if err != nil {
			t.Fatalf("%s: read the attention section: %v", lang, err)
		}
		flag := w.flagPrefix + w.planReview + w.listSep + w.testAcceptance
		if !got.Shown || len(got.Rows) != 1 || got.Rows[0].Release != emergencyID || !equalStrings(got.Rows[0].Bad, []string{flag}) {
			t.Errorf("%s: filtered to emergency releases, the attention section shows %+v; want %s alone, flagged %q", lang, got, emergencyID, flag)
		}
		// Filtered to normal releases, the emergency release is not shown.
		tb.choose(t, "type", "normal")
		if got, err = run(tb, chromedp.Evaluate[attentionView](attentionScript)); err != nil {
			t.Fatal(err)
		}
		for _, row := range got.Rows {
			if row.Release == emergencyID {
				t.Errorf("%s: filtered to normal releases, the attention section still shows %s", lang, emergencyID)
			}
		}
	}
}

func equalRetro(a, b map[string][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
