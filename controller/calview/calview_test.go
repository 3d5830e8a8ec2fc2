package calview_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/calview"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture is a policy in America/New_York with a weekly window across both
// 2027 transitions, a monthly RRULE window, a system freeze, a blackout
// window and an unreadable freeze; and three releases: one across the
// spring transition with two conflicts the gate found, one outside the
// range, one whose window cannot be read.
func fixture(t *testing.T) (*engine.Board, *calendar.Calendar) {
	t.Helper()
	doc := &document.Policy{Timezone: "America/New_York", Language: "en",
		MaintenanceWindows: []document.MaintenanceWindow{
			{Name: "weekend", Systems: []string{"billing"}, Weekly: &document.WeeklyRecurrence{Days: []string{"sat"}, Start: "22:00"}, Duration: "6h"},
			{Name: "month-end", RRule: "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=23;BYMINUTE=30", Duration: "2h"},
			{Name: "broken", RRule: "FREQ=HOURLY;BYHOUR=1", Duration: "1h"},
		},
		Freezes: []document.Freeze{
			{Name: "tax-day", Reason: "filing deadline; no changes, please", Systems: []string{"billing"},
				Start: "2027-04-10T00:00:00-04:00", End: "2027-04-17T00:00:00-04:00"},
			{Name: "typo", Reason: "unreadable", Start: "soon", End: "later"},
		},
		BlackoutWindows: []document.Window{{Name: "new-year", Start: "2026-12-31T18:00:00-05:00", End: "2027-01-02T00:00:00-05:00"}},
	}
	pol, err := policy.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	cal, _ := calendar.FromPolicy(doc, pol.Location)
	rel := func(id, title, start, end string, systems ...string) *loader.Release {
		return &loader.Release{ID: id, Release: &document.Release{ID: id, Title: title, Type: "normal", Systems: systems,
			Items: []document.Item{{ID: "billing-api", Action: "update"}}, Window: document.Period{Start: start, End: end}}}
	}
	snap := &loader.Snapshot{Releases: map[string]*loader.Release{
		"REL-2027-0001": rel("REL-2027-0001", "Billing <v2> & \"tax\"", "2027-03-13T23:00:00-05:00", "2027-03-14T04:00:00-04:00", "billing"),
		"REL-2027-0002": rel("REL-2027-0002", "Later", "2028-01-01T00:00:00-05:00", "2028-01-01T02:00:00-05:00", "crm"),
		"REL-2027-0003": rel("REL-2027-0003", "No window", "tomorrow", "", "crm"),
	}}
	conflicts := gate.Result{Gate: policy.GateGoLiveApproval, Checks: []gate.Check{
		{Name: "calendar-conflict", Message: "outside maintenance window weekend of system billing"},
		{Name: "calendar-conflict", OK: true, Message: "inside freeze new-year"},
		{Name: "go-live-plan", OK: true, Message: "not a conflict"},
	}}
	b := &engine.Board{Policy: pol, Snapshot: snap, Time: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), Statuses: []gate.Status{
		{Release: "REL-2027-0001", Title: "Billing <v2> & \"tax\"", Type: "normal", State: gate.StateGoLiveApproval, Gates: []gate.Result{conflicts}},
		{Release: "REL-2027-0002", Title: "Later", Type: "normal", State: "plan-review"},
		{Release: "REL-2027-0003", Title: "No window", Type: "normal", State: "plan-review"},
	}}
	return b, cal
}

func ny(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// rangeOf is 2027-03-01 to 2027-12-01 in New York: both transitions.
func rangeOf(t *testing.T) (time.Time, time.Time) {
	loc := ny(t)
	return time.Date(2027, 3, 1, 0, 0, 0, 0, loc), time.Date(2027, 12, 1, 0, 0, 0, 0, loc)
}

func model(t *testing.T, lang i18n.Lang) calview.Model {
	b, cal := fixture(t)
	from, to := rangeOf(t)
	m := calview.Build(b, cal, from, to, lang)
	m.WithLinks("https://relgate.example/")
	return m
}

// TestBuild_R9 checks what the model holds: the releases overlapping the
// range with the gate's conflicts, the windows and their
// occurrences from package calendar, the freezes overlapping it.
func TestBuild_R9(t *testing.T) {
	m := model(t, i18n.English)
	var ids []string
	for _, r := range m.Releases {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"REL-2027-0001"}, ids); diff != "" {
		t.Errorf("releases in range (-want +got):\n%s", diff)
	}
	want := []calview.Conflict{{Message: "outside maintenance window weekend of system billing"}, {Message: "inside freeze new-year", OK: true}}
	if diff := cmp.Diff(want, m.Releases[0].Conflicts); diff != "" {
		t.Errorf("conflicts are the gate's calendar-conflict checks (-want +got):\n%s", diff)
	}
	if got := m.Releases[0].Link; got != "https://relgate.example/en/releases/REL-2027-0001.html" {
		t.Errorf("link %q", got)
	}
	if len(m.Unscheduled) != 1 || m.Unscheduled[0].ID != "REL-2027-0003" {
		t.Errorf("a release whose window cannot be read is not listed as unscheduled: %+v", m.Unscheduled)
	}
	b, cal := fixture(t)
	from, to := rangeOf(t)
	for i, w := range m.Windows {
		occ := cal.Windows[i].Occurrences(from, to)
		if len(occ) != len(w.Occurrences) {
			t.Errorf("window %s: %d occurrences, calendar says %d", w.Name, len(w.Occurrences), len(occ))
		}
	}
	if m.Windows[2].Readable || len(m.Windows[2].Occurrences) != 0 {
		t.Errorf("an unreadable window opens: %+v", m.Windows[2])
	}
	var fz []string
	for _, f := range m.Freezes {
		fz = append(fz, f.Name)
	}
	// The blackout of new year is before the range; the unreadable freeze
	// freezes all time, so it is there, spanning the range.
	if diff := cmp.Diff([]string{"typo", "tax-day"}, fz); diff != "" {
		t.Errorf("freezes (-want +got):\n%s", diff)
	}
	// A range over MaxRange is cut.
	long := calview.Build(b, cal, from, from.AddDate(5, 0, 0), i18n.English)
	if long.To.Sub(long.From) != calview.MaxRange {
		t.Errorf("range not bounded: %s", long.To.Sub(long.From))
	}
	// Links only to http(s) roots.
	m2 := calview.Build(b, cal, from, to, i18n.English)
	for _, base := range []string{"javascript:alert(1)", "https://u:p@x.example/", "https://x.example/?q=1", "//x.example"} {
		m2.WithLinks(base)
		if m2.Releases[0].Link != "" {
			t.Errorf("WithLinks(%q) linked %q", base, m2.Releases[0].Link)
		}
	}
}

// TestGolden renders each format in both languages and compares it with
// testdata/ (refresh with -update).
func TestGolden(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.English, i18n.Chinese} {
		m := model(t, lang)
		for _, f := range []struct {
			ext    string
			render func(*calview.Model, *bytes.Buffer) error
		}{
			{"txt", func(m *calview.Model, b *bytes.Buffer) error { return m.Text(b) }},
			{"json", func(m *calview.Model, b *bytes.Buffer) error { return m.JSON(b) }},
			{"html", func(m *calview.Model, b *bytes.Buffer) error { return m.HTML(b) }},
			{"ics", func(m *calview.Model, b *bytes.Buffer) error { return m.ICS(b) }},
		} {
			t.Run(string(lang)+"."+f.ext, func(t *testing.T) {
				var a, b bytes.Buffer
				if err := f.render(&m, &a); err != nil {
					t.Fatal(err)
				}
				if err := f.render(&m, &b); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Fatalf("two renderings differ (%v)", err)
				}
				golden := filepath.Join("testdata", "calendar."+string(lang)+"."+f.ext)
				if *update {
					if err := os.WriteFile(golden, a.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), a.String()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", golden, diff)
				}
			})
		}
	}
}

// TestHTMLEscapesAndRequestsNothing: a title with markup is text, and the
// page loads nothing from elsewhere.
func TestHTMLEscapesAndRequestsNothing(t *testing.T) {
	m := model(t, i18n.English)
	var b bytes.Buffer
	if err := m.HTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<v2>") || !strings.Contains(page, "&lt;v2&gt;") {
		t.Errorf("the title is not escaped")
	}
	for _, bad := range []string{"<script", "src=\"http", "href=\"http://", "@import", "url(http"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has %q", bad)
		}
	}
	if !strings.Contains(page, `href="https://relgate.example/en/releases/REL-2027-0001.html"`) {
		t.Errorf("the release page is not linked")
	}
}
