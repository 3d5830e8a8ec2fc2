package calendar_test

import (
	"testing"
	"time"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/document"
)

// BenchmarkGoLiveCheck is what a gate evaluation will ask of a policy with
// ten maintenance windows and ten freezes: read the calendar, then whether
// one release window of three systems is covered and unfrozen.
func BenchmarkGoLiveCheck(b *testing.B) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	p := &document.Policy{}
	systems := []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"}
	for i, s := range systems {
		p.MaintenanceWindows = append(p.MaintenanceWindows, document.MaintenanceWindow{Name: s, Systems: []string{s},
			RRule: "FREQ=WEEKLY;BYDAY=FR,SA,SU;BYHOUR=20,22", Duration: "8h"})
		p.Freezes = append(p.Freezes, document.Freeze{Name: s, Reason: "r", Systems: []string{s},
			Start: time.Date(2027, time.Month(i+1), 1, 0, 0, 0, 0, sh).Format(time.RFC3339),
			End:   time.Date(2027, time.Month(i+1), 8, 0, 0, 0, 0, sh).Format(time.RFC3339)})
	}
	iv := calendar.Interval{Start: time.Date(2027, 11, 13, 22, 0, 0, 0, sh), End: time.Date(2027, 11, 14, 4, 0, 0, 0, sh)}
	b.ReportAllocs()
	for b.Loop() {
		cal, errs := calendar.FromPolicy(p, sh)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		if u := calendar.Uncovered(cal.Windows, systems[:3], iv); len(u) > 0 {
			b.Fatal(u)
		}
		if fz := calendar.Freezes(cal.Freezes, systems[:3], iv); len(fz) > 0 {
			b.Fatal(fz)
		}
	}
}
