package gate

import (
	"slices"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
)

// Bookings lists every release's window, systems and items, for overlaps;
// *loader.Snapshot implements it.
type Bookings interface {
	Bookings() ([]loader.Booking, error)
}

// conflictCheck is the name of a calendar conflict's check on the go-live
// approval gate; the calendar and the board show them.
const conflictCheck = "calendar-conflict"

// ConflictCheck names the checks that report calendar conflicts of a
// release window; FreezeAtMergeCheck the check of a go-live approval that
// would merge during a freeze. Both need the exception approver.
const (
	ConflictCheck      = conflictCheck
	FreezeAtMergeCheck = "freeze-at-merge"
)

// calendarApplies says whether the release's window is judged against the
// change calendar: always when a change is to merge (MergeAt set), and in
// a status while the release has no deployment record. What was deployed
// is history: the merge gate and the deployment gate judged it then (and
// audit verify re-runs the merge gate at every commit), so a freeze or a
// window added later does not reopen a deployed release.
func (e *evaluator) calendarApplies() bool {
	return !e.in.MergeAt.IsZero() || e.in.Release.Files["deployment.yaml"] == nil
}

// conflicts are the conflicts of the release's window with the change
// calendar, one message each: outside a system's
// maintenance windows, inside a freeze, a go-live approval merged while a
// freeze is in effect, or overlapping another release on a system or CMDB
// item. It fails closed: a window it cannot read is a conflict, and so is
// another release it cannot read.
func (e *evaluator) conflicts() []i18n.Message {
	rel := e.in.Release.Release
	if rel == nil || !e.calendarApplies() {
		return nil
	}
	start, err1 := document.ParseTime(rel.Window.Start)
	end, err2 := document.ParseTime(rel.Window.End)
	if err1 != nil || err2 != nil || end.Before(start) {
		return []i18n.Message{i18n.M("the release window cannot be read, so it cannot be checked against the change calendar")}
	}
	if end.Equal(start) {
		end = start.Add(time.Nanosecond) // an instant still falls somewhere
	}
	iv := calendar.Interval{Start: start, End: end}
	cal := e.in.Policy.Calendar()
	var out []i18n.Message
	systems := e.systems()
	for _, sys := range calendar.Uncovered(cal.Windows, systems, iv) {
		var names []string
		for _, w := range cal.Windows {
			if w.For(sys) {
				names = append(names, w.Name)
			}
		}
		out = append(out, i18n.M("the window is outside every maintenance window of system %s (%s)", sys, strings.Join(names, ", ")))
	}
	for _, f := range calendar.Freezes(cal.Freezes, systems, iv) {
		out = append(out, freezeConflict(false, f))
	}
	if !e.in.MergeAt.IsZero() {
		for _, f := range calendar.FreezesAt(cal.Freezes, systems, e.in.MergeAt) {
			if !calendar.Overlaps(f.Interval, iv) {
				out = append(out, freezeConflict(true, f))
			}
		}
	}
	out = append(out, e.overlaps(iv)...)
	return out
}

func freezeConflict(merge bool, f calendar.Freeze) i18n.Message {
	switch {
	case f.Unreadable && merge:
		return i18n.M("the change would merge during freeze %s, whose times cannot be read", f.Name)
	case f.Unreadable:
		return i18n.M("the window falls in freeze %s, whose times cannot be read", f.Name)
	case f.Blackout && merge:
		return i18n.M("the change would merge during blackout window %s", f.Name)
	case f.Blackout:
		return i18n.M("the window falls in blackout window %s", f.Name)
	case f.Reason != "" && merge:
		return i18n.M("the change would merge during freeze %s: %s", f.Name, f.Reason)
	case f.Reason != "":
		return i18n.M("the window falls in freeze %s: %s", f.Name, f.Reason)
	case merge:
		return i18n.M("the change would merge during freeze %s", f.Name)
	}
	return i18n.M("the window falls in freeze %s", f.Name)
}

// overlaps are the other releases whose windows overlap iv on a system or an
// item of this release.
func (e *evaluator) overlaps(iv calendar.Interval) []i18n.Message {
	// Until the go-live is planned (golive.yaml) the go-live gate cannot
	// pass whatever else holds, so the other releases, which take reading
	// every release.yaml, are not read before then.
	if e.in.Bookings == nil || e.in.Release.Files["golive.yaml"] == nil {
		return nil
	}
	all, err := e.in.Bookings.Bookings()
	if err != nil {
		e.fail(err)
		return nil
	}
	rel := e.in.Release.Release
	var items []string
	for _, it := range rel.Items {
		items = append(items, it.ID)
	}
	var out []i18n.Message
	for _, b := range all {
		if b.Release == e.in.Release.ID {
			continue
		}
		if b.Problem != "" {
			out = append(out, i18n.M("release %s may overlap the window: %s", b.Release, i18n.M(b.Problem)))
			continue
		}
		s, err1 := document.ParseTime(b.Start)
		en, err2 := document.ParseTime(b.End)
		if err1 != nil || err2 != nil {
			out = append(out, i18n.M("release %s may overlap the window: its window cannot be read", b.Release))
			continue
		}
		if en.Equal(s) {
			en = s.Add(time.Nanosecond)
		}
		if !calendar.Overlaps(iv, calendar.Interval{Start: s, End: en}) {
			continue
		}
		var shared []string
		for _, x := range e.systems() {
			if slices.ContainsFunc(b.Systems, func(y string) bool { return calendar.SameSystem(x, y) }) {
				shared = append(shared, x)
			}
		}
		var sharedItems []string
		for _, x := range items {
			if slices.Contains(b.Items, x) {
				sharedItems = append(sharedItems, x)
			}
		}
		switch {
		case len(shared) > 0:
			out = append(out, i18n.M("the window overlaps release %s (%s to %s) on system %s", b.Release, b.Start, b.End, strings.Join(shared, ", ")))
		case len(sharedItems) > 0:
			out = append(out, i18n.M("the window overlaps release %s (%s to %s) on CMDB item %s", b.Release, b.Start, b.End, strings.Join(sharedItems, ", ")))
		}
	}
	return out
}

// withConflicts adds to a go-live approval's requirements the exception the
// conflicts need: one approval of the policy's exception role, bound to the
// gate's digest like the others (a role the gate requires already approves
// the window it covers). Each conflict is a check that tells it.
func (e *evaluator) withConflicts(conflicts []i18n.Message, reqs []document.Requirement, res *Result) []document.Requirement {
	if len(conflicts) == 0 {
		return reqs
	}
	role := e.in.Policy.ExceptionRole()
	file := document.ReleaseDir(e.in.Release.ID) + "/release.yaml"
	for _, c := range conflicts {
		name := conflictCheck
		if strings.HasPrefix(c.Key, "the change would merge during") {
			name = FreezeAtMergeCheck
		}
		res.Checks = append(res.Checks, Check{Name: name, Clause: "R-5.1.5, R-5.1.6, R-9", File: file, Field: "window"}.with(
			i18n.M("%s; the exception needs the approval of %s", c, i18n.Role(role))))
	}
	if !slices.ContainsFunc(reqs, func(q document.Requirement) bool { return q.Role == role }) {
		reqs = append(reqs, document.Requirement{Role: role, Count: 1})
	}
	return reqs
}

// excepted marks each calendar conflict of a go-live result as resolved
// or not by the exception role's approval, once the approvals are counted,
// so what is missing says why the role is needed.
func (e *evaluator) excepted(res *Result) {
	role := e.in.Policy.ExceptionRole()
	ok := true
	for _, q := range res.Requirements {
		if q.Role == role && q.Missing > 0 {
			ok = false
		}
	}
	for i, c := range res.Checks {
		if c.Name == conflictCheck || c.Name == FreezeAtMergeCheck {
			res.Checks[i].OK = ok
		}
	}
}

// systems are the systems the release changes as the calendar sees them:
// those release.yaml names and those of the CMDB items it changes, so a
// system left out or misspelt in release.yaml still meets its windows and
// freezes.
func (e *evaluator) systems() []string {
	rel := e.in.Release.Release
	out := slices.Clone(rel.Systems)
	for _, it := range rel.Items {
		if e.in.Lookup == nil {
			break
		}
		item, ok, err := e.in.Lookup.CMDBItem(it.ID)
		if err != nil || !ok || item == nil || item.System == "" {
			continue
		}
		if !slices.ContainsFunc(out, func(s string) bool { return calendar.SameSystem(s, item.System) }) {
			out = append(out, item.System)
		}
	}
	return out
}
