package calview_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/calview"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// BenchmarkFeed is what /calendar.ics does per build beside loading the
// board: 1,000 release windows, ten weekly windows and ten freezes over
// 90 days, as a model and as ICS.
func BenchmarkFeed(b *testing.B) {
	doc := &document.Policy{Timezone: "America/New_York"}
	for i := 0; i < 10; i++ {
		doc.MaintenanceWindows = append(doc.MaintenanceWindows, document.MaintenanceWindow{Name: fmt.Sprint("w", i), Systems: []string{fmt.Sprint("s", i)},
			Weekly: &document.WeeklyRecurrence{Days: []string{"fri", "sat"}, Start: "22:00"}, Duration: "6h"})
		doc.Freezes = append(doc.Freezes, document.Freeze{Name: fmt.Sprint("f", i), Reason: "r", Start: fmt.Sprintf("2027-%02d-01T00:00:00-05:00", i+1), End: fmt.Sprintf("2027-%02d-05T00:00:00-05:00", i+1)})
	}
	pol, err := policy.New(doc)
	if err != nil {
		b.Fatal(err)
	}
	cal, _ := calendar.FromPolicy(doc, pol.Location)
	board := &engine.Board{Policy: pol, Snapshot: &loader.Snapshot{Releases: map[string]*loader.Release{}}}
	from := time.Date(2027, 3, 1, 0, 0, 0, 0, pol.Location)
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("REL-2027-%04d", i)
		s := from.Add(time.Duration(i) * 2 * time.Hour)
		board.Snapshot.Releases[id] = &loader.Release{ID: id, Release: &document.Release{ID: id, Systems: []string{"s1"},
			Window: document.Period{Start: s.Format(time.RFC3339), End: s.Add(3 * time.Hour).Format(time.RFC3339)}}}
		board.Statuses = append(board.Statuses, gate.Status{Release: id, Title: "a release", State: "plan-review"})
	}
	b.ReportAllocs()
	for b.Loop() {
		m := calview.Build(board, cal, from, from.AddDate(0, 0, 90), i18n.English)
		if err := m.ICS(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
