package calview_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apognu/gocal"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/calview"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/policy"
)

// parseGocal reads an ICS with github.com/apognu/gocal, a parser written
// independently of the library that wrote it, expanding recurrences over
// [from, to).
func parseGocal(t *testing.T, data []byte, from, to time.Time) []gocal.Event {
	t.Helper()
	p := gocal.NewParser(bytes.NewReader(data))
	p.Start, p.End = &from, &to
	if err := p.Parse(); err != nil {
		t.Fatalf("gocal refuses the feed: %v\n%s", err, data)
	}
	return p.Events
}

// TestICSReadByGocal_R9: the events, their instants through TZID, and the
// weekly window's recurrence expanded by gocal agree with package calendar
// — across the 2027-03-14 and 2027-11-07 transitions in America/New_York.
func TestICSReadByGocal_R9(t *testing.T) {
	m := model(t, i18n.English)
	var buf bytes.Buffer
	if err := m.ICS(&buf); err != nil {
		t.Fatal(err)
	}
	from, to := rangeOf(t)
	events := parseGocal(t, buf.Bytes(), from.Add(-24*time.Hour), to)
	byUID := map[string][]gocal.Event{}
	for _, e := range events {
		byUID[e.Uid] = append(byUID[e.Uid], e)
	}
	// The release across the spring transition: 23:00 EST to 04:00 EDT.
	rel := byUID["REL-2027-0001@relgate"]
	if len(rel) != 1 {
		t.Fatalf("release events: %d", len(rel))
	}
	if want := time.Date(2027, 3, 14, 4, 0, 0, 0, time.UTC); !rel[0].Start.Equal(want) {
		t.Errorf("release starts at %s, want %s", rel[0].Start.UTC(), want)
	}
	if want := time.Date(2027, 3, 14, 8, 0, 0, 0, time.UTC); !rel[0].End.Equal(want) {
		t.Errorf("release ends at %s, want %s", rel[0].End.UTC(), want)
	}
	if !strings.HasPrefix(rel[0].Summary, "[go-live-approval] REL-2027-0001 ") {
		t.Errorf("summary %q", rel[0].Summary)
	}
	if !strings.Contains(rel[0].Description, "outside maintenance window weekend of system billing") {
		t.Errorf("the conflict is not in the description: %q", rel[0].Description)
	}
	// The freeze: its reason, its instants.
	fz := byUID["freeze-tax-day@relgate"]
	if len(fz) != 1 || !fz[0].Start.Equal(time.Date(2027, 4, 10, 4, 0, 0, 0, time.UTC)) || !strings.Contains(fz[0].Description, "filing deadline; no changes, please") {
		t.Errorf("freeze: %+v", fz)
	}
	// The weekly window, expanded by gocal, against calendar.Occurrences.
	_, cal := fixture(t)
	want := cal.Windows[0].Occurrences(from, to)
	got := byUID["maintenance-weekend@relgate"]
	if len(got) != len(want) {
		t.Fatalf("gocal expands %d occurrences of the weekly window, calendar has %d", len(got), len(want))
	}
	slices.SortFunc(got, func(a, b gocal.Event) int { return a.Start.Compare(*b.Start) })
	crossed := 0
	for i, o := range want {
		if !got[i].Start.Equal(o.Start) {
			t.Errorf("occurrence %d starts at %s by gocal, %s by calendar", i, got[i].Start, o.Start)
		}
		// Across a transition the window lasts its exact duration: the
		// feed writes those nights out (RECURRENCE-ID) so a reader that
		// adds durations to the wall clock ends it right too.
		if !got[i].End.Equal(o.End) {
			t.Errorf("occurrence %d ends at %s by gocal, %s by calendar", i, got[i].End, o.End)
		}
		if _, a := o.Start.Zone(); a != offsetAt(o.End) {
			crossed++
		}
	}
	if crossed != 2 {
		t.Errorf("%d occurrences cross a transition; the fixture has 2 (2027-03-14, 2027-11-07)", crossed)
	}
	// Only the release is in a freeze-or-release category set by gocal's
	// reading (it keeps the last CATEGORIES line).
	if len(rel[0].Categories) == 0 {
		t.Errorf("no categories")
	}
}

// TestICSDaylightSavingNights is the DST table: a window that opens in the
// spring gap (02:30 opens at 03:00 EDT, package calendar's rule) is named
// by an RDATE; one that opens in the repeated hour in autumn (01:30) is
// its first occurrence; a release at the second 01:30 is written in UTC so
// no reader takes the first.
func TestICSDaylightSavingNights(t *testing.T) {
	loc := ny(t)
	doc := &document.Policy{Timezone: "America/New_York",
		MaintenanceWindows: []document.MaintenanceWindow{
			{Name: "night", RRule: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", Duration: "1h"},
			{Name: "early", RRule: "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", Duration: "1h"},
		}}
	pol, err := policy.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	cal, errs := calendar.FromPolicy(doc, pol.Location)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	b := &engine.Board{Policy: pol}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		has      []string
		hasNot   []string
	}{
		{"spring gap", time.Date(2027, 3, 13, 0, 0, 0, 0, loc), time.Date(2027, 3, 16, 0, 0, 0, 0, loc),
			[]string{"DTSTART;TZID=America/New_York:20270313T023000", "RDATE;TZID=America/New_York:20270314T030000",
				"EXDATE;TZID=America/New_York:20270314T023000"}, nil},
		{"autumn repeat", time.Date(2027, 11, 6, 0, 0, 0, 0, loc), time.Date(2027, 11, 9, 0, 0, 0, 0, loc),
			[]string{"DTSTART;TZID=America/New_York:20271106T013000", "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500"}, []string{"RDATE", "EXDATE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := calview.Build(b, cal, tc.from, tc.to, i18n.English)
			var buf bytes.Buffer
			if err := m.ICS(&buf); err != nil {
				t.Fatal(err)
			}
			s := buf.String()
			for _, h := range tc.has {
				if !strings.Contains(s, h) {
					t.Errorf("no %q in\n%s", h, s)
				}
			}
			for _, h := range tc.hasNot {
				if strings.Contains(s, h) {
					t.Errorf("%q in\n%s", h, s)
				}
			}
		})
	}
	// A release at the second 01:30 of 2027-11-07 (EST) is written in UTC.
	second := time.Date(2027, 11, 7, 6, 30, 0, 0, time.UTC)
	if v := calview.StampIn(second, loc); v != "20271107T063000Z" {
		t.Errorf("the second 01:30 is written %q", v)
	}
	if v := calview.StampIn(second.Add(-time.Hour), loc); v != "20271107T013000" {
		t.Errorf("the first 01:30 is written %q", v)
	}
}

// TestICSImportedByIcalJS imports the feed with the npm package ical.js, a
// second independent reader, and checks its expansion of every window
// (monthly and daily rules too, which gocal does not expand) against
// package calendar. It needs Node and the npm registry: it runs only with
// RELGATE_ICALJS=1, installing ical.js into a temporary folder.
func TestICSImportedByIcalJS(t *testing.T) {
	if os.Getenv("RELGATE_ICALJS") != "1" {
		t.Skip("set RELGATE_ICALJS=1 to import the feed with ical.js (needs node and npm)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on this machine")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("no npm on this machine")
	}
	dir := t.TempDir()
	cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", dir, "ical.js@2")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install ical.js: %v\n%s", err, out)
	}
	expand := func(m calview.Model, from, to time.Time) map[string][]string {
		var buf bytes.Buffer
		if err := m.ICS(&buf); err != nil {
			t.Fatal(err)
		}
		feed := filepath.Join(dir, "feed.ics")
		if err := os.WriteFile(feed, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(dir, "expand.mjs")
		if err := os.WriteFile(script, []byte(icalJS), 0o644); err != nil {
			t.Fatal(err)
		}
		run := exec.Command(node, script, feed, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
		run.Dir = dir
		out, err := run.CombinedOutput()
		if err != nil {
			t.Fatalf("ical.js: %v\n%s", err, out)
		}
		got := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(line); len(f) == 3 {
				got[f[0]] = append(got[f[0]], f[1]+" "+f[2])
			}
		}
		return got
	}
	compare := func(got map[string][]string, windows []calendar.MaintenanceWindow, from, to time.Time) {
		for i, w := range windows {
			uid := "maintenance-" + w.Name + "@relgate"
			var want []string
			for _, o := range w.Occurrences(from, to) {
				want = append(want, o.Start.UTC().Format(time.RFC3339)+" "+o.End.UTC().Format(time.RFC3339))
			}
			if strings.Join(got[uid], "\n") != strings.Join(want, "\n") {
				t.Errorf("window %d (%s): ical.js expands\n%s\ncalendar says\n%s", i, w.Name, strings.Join(got[uid], "\n"), strings.Join(want, "\n"))
			}
		}
	}
	from, to := rangeOf(t)
	got := expand(model(t, i18n.English), from, to)
	_, cal := fixture(t)
	compare(got, cal.Windows[:2], from, to)
	if r := got["REL-2027-0001@relgate"]; len(r) != 1 || r[0] != "2027-03-14T04:00:00Z 2027-03-14T08:00:00Z" {
		t.Errorf("release by ical.js: %v", r)
	}
	// A daily window at 02:30: on 2027-03-14 it opens at 03:00 EDT.
	loc := ny(t)
	doc := &document.Policy{Timezone: "America/New_York", MaintenanceWindows: []document.MaintenanceWindow{
		{Name: "night", RRule: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", Duration: "1h"}}}
	pol, err := policy.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	gcal, _ := calendar.FromPolicy(doc, pol.Location)
	gfrom, gto := time.Date(2027, 3, 12, 0, 0, 0, 0, loc), time.Date(2027, 3, 17, 0, 0, 0, 0, loc)
	compare(expand(calview.Build(&engine.Board{Policy: pol}, gcal, gfrom, gto, i18n.English), gfrom, gto), gcal.Windows, gfrom, gto)
}

// icalJS prints "UID start end" (UTC) of every occurrence starting before
// the end of the range and ending after its start.
const icalJS = `
import fs from 'node:fs';
import ICAL from 'ical.js';
const [file, from, to] = process.argv.slice(2);
const lo = new Date(from), hi = new Date(to);
const comp = new ICAL.Component(ICAL.parse(fs.readFileSync(file, 'utf8')));
for (const tz of comp.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(tz));
const masters = new Map();
const vevents = comp.getAllSubcomponents('vevent');
for (const ve of vevents) if (!ve.hasProperty('recurrence-id')) masters.set(ve.getFirstPropertyValue('uid'), new ICAL.Event(ve));
for (const ve of vevents) if (ve.hasProperty('recurrence-id')) masters.get(ve.getFirstPropertyValue('uid')).relateException(new ICAL.Event(ve));
const iso = (t) => t.toJSDate().toISOString().replace('.000Z', 'Z');
for (const ev of masters.values()) {
  if (!ev.isRecurring()) { console.log(ev.uid, iso(ev.startDate), iso(ev.endDate)); continue; }
  const it = ev.iterator();
  for (let n = 0, next; (next = it.next()) && n < 2000; n++) {
    const d = ev.getOccurrenceDetails(next);
    if (d.startDate.toJSDate() >= hi) break;
    if (d.endDate.toJSDate() <= lo) continue;
    console.log(ev.uid, iso(d.startDate), iso(d.endDate));
  }
}
`

func offsetAt(t time.Time) int { _, o := t.Zone(); return o }
