package quarter_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/quarter"
	"github.com/relgate/relgate/controller/source"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const examples = "../../examples/release-repo"

// now is the example repository's "today": REL-2026-0043 is in plan review
// with its window on 2026-11-28.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseAndOf(t *testing.T) {
	loc := shanghai(t)
	tests := []struct {
		name string
		at   string
		want string
	}{
		{"R-10 a release finishing 23:30 on 31 December in Shanghai is Q4", "2026-12-31T23:30:00+08:00", "2026Q4"},
		{"R-10 ten past midnight on 1 January in Shanghai is the next year's Q1", "2027-01-01T00:10:00+08:00", "2027Q1"},
		{"the same instant written in UTC is still Q1 in Shanghai", "2026-12-31T16:10:00Z", "2027Q1"},
		{"first instant of Q2", "2026-04-01T00:00:00+08:00", "2026Q2"},
		{"last second of Q3", "2026-09-30T23:59:59+08:00", "2026Q3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := quarter.Of(at, loc).String(); got != tc.want {
				t.Errorf("Of(%s) = %s, want %s", tc.at, got, tc.want)
			}
		})
	}
	q, err := quarter.Parse("2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	if q.Previous().String() != "2026Q3" || q.Next().String() != "2027Q1" || (quarter.Quarter{Year: 2026, Q: 1}).Previous().String() != "2025Q4" {
		t.Errorf("Previous/Next of %s: %s %s", q, q.Previous(), q.Next())
	}
	if got := q.Start(loc).Format(time.RFC3339) + " " + q.End(loc).Format(time.RFC3339); got != "2026-10-01T00:00:00+08:00 2027-01-01T00:00:00+08:00" {
		t.Errorf("bounds: %s", got)
	}
	for _, bad := range []string{"2026Q5", "2026q4", "26Q4", "2026Q0", "", "2026Q4 "} {
		if _, err := quarter.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	paths := []string{quarter.Path(q, "zh", "md"), quarter.Path(q, "en", "html"), quarter.Path(q, "zh", "svg"), quarter.Path(q, "en", "json")}
	want := []string{"reports/quarterly/2026Q4.zh.md", "reports/quarterly/2026Q4.en.html", "reports/quarterly/2026Q4.zh.svg", "reports/quarterly/2026Q4.json"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("Path (-want +got):\n%s", diff)
	}
}

// fixture is a repository loaded for a report: its snapshot and the
// provenance that attributes its approvals.
type fixture struct {
	snap *loader.Snapshot
	prov evaluate.Provenance
	rev  string
}

func (f fixture) opts(now time.Time) quarter.Options {
	return quarter.Options{Now: now, Provenance: f.prov, Revision: f.rev}
}

// repo copies the example repository to a temporary directory, applies
// edits (path → function of the old content), replays it as the lawful
// history a team would have (gen.Replay) and loads it at HEAD. A copy that
// cannot be replayed (no policy) is loaded from disk, with no history.
func repo(t *testing.T, edits map[string]func(string) string, redigest ...string) fixture {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(examples, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(examples, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, f := range edits {
		full := filepath.Join(dir, filepath.FromSlash(p))
		old, _ := os.ReadFile(full)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if f == nil {
			os.Remove(full)
			continue
		}
		if err := os.WriteFile(full, []byte(f(string(old))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range redigest {
		redigestApprovals(t, dir, rel)
	}
	return load(t, dir)
}

// redigestApprovals binds every approval of rel to its gate's documents as
// they now are in dir, as its approvers would after an edit.
func redigestApprovals(t *testing.T, dir, rel string) {
	t.Helper()
	tree := source.Dir{Root: dir}
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Policy == nil {
		t.Fatal("the edited example's relgate.yaml is invalid")
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		t.Fatal(err)
	}
	apDir := filepath.Join(dir, "releases", rel, "approvals")
	entries, err := os.ReadDir(apDir)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^digest: .*$`)
	for _, e := range entries {
		id, _, _ := strings.Cut(e.Name(), ".")
		g, ok := pol.Gate(id)
		if !ok {
			t.Fatalf("%s: no gate %s", e.Name(), id)
		}
		d, _, err := evaluate.Digest(tree, rel, g)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(apDir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, re.ReplaceAll(data, []byte("digest: "+d)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// load replays dir into a new git repository and loads it at HEAD.
func load(t *testing.T, dir string) fixture {
	t.Helper()
	g := gitrepotest.New(t)
	if err := gen.Replay(dir, g.Dir, gen.ReplayOptions{}); err != nil {
		snap, err := loader.LoadAll(source.Dir{Root: dir}, loader.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return fixture{snap: snap}
	}
	r, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	head, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := r.TreeAt(head, "")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	led, err := provenance.Open(r, "", head)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{snap: snap, prov: led, rev: head.String()}
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func q4(t *testing.T) quarter.Quarter {
	q, err := quarter.Parse("2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestGolden renders the example repository's 2026Q4 report in every
// language and format and compares it with testdata/ (refresh with -update).
func TestGolden(t *testing.T) {
	f := load(t, examples)
	snap := f.snap
	for _, lang := range quarter.Languages {
		for _, format := range quarter.Formats {
			name := filepath.Base(quarter.Path(q4(t), lang, format))
			t.Run(name, func(t *testing.T) {
				got, err := quarter.Render(snap, q4(t), lang, format, f.opts(now))
				if err != nil {
					t.Fatal(err)
				}
				again, err := quarter.Render(snap, q4(t), lang, format, f.opts(now))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, again) {
					t.Fatal("two renderings of the same snapshot differ")
				}
				if lang == "zh" && (format == "md" || format == "html") {
					// The procedure's words, not relgate's ids (issue 12); 发布数 is a count, not the list.
					for _, en := range []string{"normal", "confirmed", "rolled-back", "succeeded", "plan-review"} {
						if bytes.Contains(got, []byte("| "+en+" |")) || bytes.Contains(got, []byte("<td>"+en+"</td>")) {
							t.Errorf("the Chinese report says %q", en)
						}
					}
					for _, en := range []string{"## 发布数", "<h2>发布数</h2>"} {
						if bytes.Contains(got, []byte(en)) {
							t.Errorf("the Chinese report says %q", en)
						}
					}
				}
				golden := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
				}
			})
		}
	}
}

func TestIndicators(t *testing.T) {
	review := `apiVersion: relgate.dev/v1
kind: Review
quarter: 2026Q4
heldAt: "2026-11-20T10:00:00+08:00"
participants: [zhangwei, lina, hejun]
retrospectives:
  - release: REL-2026-0042
    summary: 违约金舍入缺陷导致回退
    rootCause: 测试数据未覆盖分次结清
    lessons: 测试库补充全量脱敏数据
actions:
  - {id: A1, description: 补充测试数据, owner: chenjie, due: "2026-11-01", status: open}
  - {id: A2, description: 舍入规则评审, owner: lina, due: "2026-12-15", status: open}
  - {id: A3, description: 已完成的措施, owner: hejun, due: "2026-10-01", status: done, doneAt: "2026-10-01T10:00:00+08:00"}
`
	tests := []struct {
		name  string
		edits map[string]func(string) string
		// redigest are releases whose approvals are bound to their edited documents.
		redigest string
		now      time.Time
		check    func(t *testing.T, r *quarter.Report)
	}{
		{name: "R-10 default success is confirmed: REL-2026-0041 succeeded and was confirmed, REL-2026-0042 rolled back", now: now,
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "releases/successful/rate/gap", r.Releases, 2, r.Successful, 1, *r.SuccessRate, 50.0, *r.Gap, -45.0)
				want(t, "scheduled", strings.Join(r.Scheduled, ","), "REL-2026-0043", r.Provisional, true)
				want(t, "failed", len(r.Failed), 1, r.Failed[0].Release, "REL-2026-0042", len(r.Failed[0].Problems), 3)
				want(t, "missing retrospective", strings.Join(r.MissingRetrospectives, ","), "REL-2026-0042")
			}},
		{name: "a completed quarter is as of its end: the release not deployed counts and did not succeed",
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "releases/successful", r.Releases, 3, r.Successful, 1, r.Provisional, false, len(r.Scheduled), 0)
				want(t, "as of", r.AsOf, "2027-01-01T00:00:00+08:00")
			}},
		{name: "R-10 confirmed: without the customer's confirmation REL-2026-0041 is not successful", now: now,
			edits: map[string]func(string) string{"releases/REL-2026-0041/approvals/deployment-confirmation.tangjing.yaml": nil},
			check: func(t *testing.T, r *quarter.Report) { want(t, "successful", r.Successful, 0) }},
		{name: "R-10 deployed: the outcome alone decides", now: now,
			edits: map[string]func(string) string{
				"releases/REL-2026-0041/approvals/deployment-confirmation.tangjing.yaml": nil,
				"relgate.yaml": replace("successRateTarget: 95", "successRateTarget: 95\n  success: deployed")},
			check: func(t *testing.T, r *quarter.Report) { want(t, "successful", r.Successful, 1, r.Success, "deployed") }},
		{name: "R-10 closed: REL-2026-0041 is confirmed but not closed", now: now,
			edits: map[string]func(string) string{"relgate.yaml": replace("successRateTarget: 95", "successRateTarget: 95\n  success: closed")},
			check: func(t *testing.T, r *quarter.Report) { want(t, "successful", r.Successful, 0, *r.SuccessRate, 0.0) }},
		{name: "R-10 a release finishing 23:30 on 31 December counts in Q4",
			edits: map[string]func(string) string{"releases/REL-2026-0041/deployment.yaml": replace(`finishedAt: "2026-10-18T02:40:00+08:00"`, `finishedAt: "2026-12-31T23:30:00+08:00"`)},
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "releases", r.Releases, 3, r.ByMonth[2].Key, "2026-12", r.ByMonth[2].Releases, 1)
			}},
		{name: "R-10 a release finishing ten past midnight on 1 January counts in the next quarter",
			edits: map[string]func(string) string{"releases/REL-2026-0041/deployment.yaml": replace(`finishedAt: "2026-10-18T02:40:00+08:00"`, `finishedAt: "2027-01-01T00:10:00+08:00"`)},
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "releases", r.Releases, 2, r.Successful, 0)
				for _, e := range r.Entries {
					if e.Release == "REL-2026-0041" {
						t.Errorf("REL-2026-0041 counted in 2026Q4")
					}
				}
			}},
		{name: "R-3.5 R-8 retrospectives and overdue improvement actions", now: now,
			edits: map[string]func(string) string{"reviews/2026Q4.yaml": func(string) string { return review }},
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "missing retrospectives", len(r.MissingRetrospectives), 0, r.Failed[0].Retrospective, true)
				want(t, "overdue", len(r.OverdueActions), 1, r.OverdueActions[0].ID, "A1")
			}},
		{name: "R-8 as of the quarter's end, A2 (due 15 December) is overdue too",
			edits: map[string]func(string) string{"reviews/2026Q4.yaml": func(string) string { return review }},
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "overdue", len(r.OverdueActions), 2, r.OverdueActions[1].ID, "A2")
			}},
		{name: "R-10 an emergency release that followed the whole procedure is counted apart and owes nothing", now: now,
			edits: map[string]func(string) string{
				"relgate.yaml":                        emergencyRule,
				"releases/REL-2026-0041/release.yaml": replace("type: normal", "type: emergency")},
			redigest: "REL-2026-0041",
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "emergency", r.Emergency.Releases, 1, r.Emergency.Successful, 1, *r.Emergency.Rate, 100.0, r.Releases, 2)
				want(t, "overdue retrospectives", len(r.OverdueRetrospectives), 0)
			}},
		{name: "R-5.1 an emergency release live on the release owner's approval alone, plan review and test acceptance overdue", now: now,
			edits: emergencyEdits(), redigest: "REL-2026-0041",
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "emergency", r.Emergency.Releases, 1)
				want(t, "overdue retrospectives", r.OverdueRetrospectives, []quarter.OverdueRetrospective{
					{Release: "REL-2026-0041", Title: r.Entries[0].Title, Gate: "plan-review", Due: "2026-10-23T02:40:00+08:00"},
					{Release: "REL-2026-0041", Title: r.Entries[0].Title, Gate: "test-acceptance", Due: "2026-10-23T02:40:00+08:00"}})
			}},
		{name: "R-5.1 the same release as of the day after its deployment: owed, not overdue", now: time.Date(2026, 10, 19, 12, 0, 0, 0, shanghai(t)),
			edits: emergencyEdits(), redigest: "REL-2026-0041",
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "emergency", r.Emergency.Releases, 1, len(r.OverdueRetrospectives), 0)
			}},
		{name: "by type, by system, lead times and approval waits", now: now,
			check: func(t *testing.T, r *quarter.Report) {
				want(t, "types", len(r.ByType), 1, r.ByType[0].Key, "normal", r.ByType[0].Releases, 2)
				want(t, "systems", len(r.BySystem), 3)
				// REL-2026-0041: created 2026-09-28T10:00, finished 2026-10-18T02:40 = 472.7 h.
				want(t, "lead time", r.LeadTime.Count, 2, r.LeadTime.Max, 571.3)
				want(t, "first wait gate", r.ApprovalWaits[0].Gate, "plan-review", r.ApprovalWaits[0].Count, 2)
				want(t, "trend", len(r.Trend), 4, r.Trend[3].Quarter, "2026Q4", r.Trend[0].Quarter, "2026Q1")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var redo []string
			if tc.redigest != "" {
				redo = append(redo, tc.redigest)
			}
			f := repo(t, tc.edits, redo...)
			r, err := quarter.Compute(f.snap, q4(t), f.opts(tc.now))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
	t.Run("the next quarter", func(t *testing.T) {
		f := repo(t, map[string]func(string) string{"releases/REL-2026-0041/deployment.yaml": replace(`finishedAt: "2026-10-18T02:40:00+08:00"`, `finishedAt: "2027-01-01T00:10:00+08:00"`)})
		r, err := quarter.Compute(f.snap, quarter.Quarter{Year: 2027, Q: 1}, f.opts(time.Time{}))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "2027Q1", r.Releases, 1, r.Entries[0].Release, "REL-2026-0041", r.ByMonth[0].Key, "2027-01")
	})
}

// emergencyRule makes the example's emergency rule let a release go live
// on its release owner's approval (the example's go-live approval of
// REL-2026-0041 is one) instead of the process approver's.
func emergencyRule(s string) string {
	return strings.Replace(s, "    kind: emergency\n    approver: process-approver\n", "    kind: emergency\n    approver: release-owner\n", 1)
}

// emergencyEdits make REL-2026-0041 an emergency release that went live
// without its plan review and test acceptance.
func emergencyEdits() map[string]func(string) string {
	ap := "releases/REL-2026-0041/approvals/"
	return map[string]func(string) string{
		"relgate.yaml":                        emergencyRule,
		"releases/REL-2026-0041/release.yaml": replace("type: normal", "type: emergency"),
		ap + "plan-review.hejun.yaml":         nil, ap + "plan-review.maxiaodong.yaml": nil,
		ap + "plan-review.xuhui.yaml": nil, ap + "plan-review.zhangwei.yaml": nil,
		ap + "test-acceptance.tangjing.yaml": nil,
	}
}

// want compares pairs: got, want, got, want...
func want(t *testing.T, what string, pairs ...any) {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if diff := cmp.Diff(pairs[i+1], pairs[i]); diff != "" {
			t.Errorf("%s (#%d): (-want +got)\n%s", what, i/2, diff)
		}
	}
}

func TestErrors(t *testing.T) {
	snap := repo(t, map[string]func(string) string{"relgate.yaml": replace("successRateTarget: 95", "successRateTarget: 95\n  success: sometimes")}).snap
	if _, err := quarter.Compute(snap, q4(t), quarter.Options{}); err == nil || !strings.Contains(err.Error(), "relgate.yaml") {
		t.Errorf("invalid kpi.success: %v", err)
	}
	snap = repo(t, map[string]func(string) string{"relgate.yaml": nil}).snap
	if _, err := quarter.Compute(snap, q4(t), quarter.Options{}); err == nil || !strings.Contains(err.Error(), "relgate.yaml") {
		t.Errorf("no policy: %v", err)
	}
	good := repo(t, nil).snap
	if _, err := quarter.Render(good, q4(t), "fr", "md", quarter.Options{}); err == nil {
		t.Error("language fr accepted")
	}
	if _, err := quarter.Render(good, q4(t), "en", "pdf", quarter.Options{}); err == nil {
		t.Error("format pdf accepted")
	}
}

// TestDocsReports: the example report the README links (docs/reports/) is
// the golden rendering, so it cannot drift from what relgate writes.
func TestDocsReports(t *testing.T) {
	for _, lang := range quarter.Languages {
		for _, format := range []string{"md", "svg"} {
			name := filepath.Base(quarter.Path(q4(t), lang, format))
			doc := filepath.Join("..", "..", "docs", "reports", name)
			want, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(doc, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(doc)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from testdata/%s; run go test -update", doc, name)
			}
		}
	}
}

// FuzzParse: a quarter from the command line never panics and round-trips.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026Q4", "0000Q1", "9999Q4", "2026Q5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := quarter.Parse(s)
		if err == nil && q.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, q.String())
		}
	})
}
