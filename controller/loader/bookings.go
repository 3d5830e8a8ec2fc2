package loader

import (
	"path"
	"slices"
	"sort"

	"github.com/relgate/relgate/controller/document"
)

// Booking is one release's claim on the change calendar: its window and the
// systems and items it changes.
type Booking struct {
	Release string
	Systems []string
	Items   []string
	Start   string
	End     string
	// Type is the release type (release.yaml type), for what its type's
	// rule decides (typeRules).
	Type string
	// Problem says why the release's release.yaml cannot be read; such a
	// booking may overlap anything (fail closed).
	Problem string
}

// Bookings returns the booking of every release at the snapshot's revision
// that has a release.yaml, in release id order. A snapshot loaded for some
// releases reads the other release.yaml files (through the decode cache)
// without adding them to what it holds; the answer is computed once.
func (s *Snapshot) Bookings() ([]Booking, error) {
	s.mu.Lock()
	done, out, base, touched := s.bookingsDone, s.bookings, s.bookingsBase, s.bookingsTouched
	s.mu.Unlock()
	if done {
		return out, nil
	}
	if base != nil {
		out, err := s.patchedBookings(base, touched)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.bookings, s.bookingsDone = out, true
		s.mu.Unlock()
		return out, nil
	}
	releases := s.Releases
	if !s.full {
		entries, err := s.Tree.List(document.ReleasesDir)
		if err != nil {
			return nil, err
		}
		t, err := newSnapshot(s.Tree)
		if err != nil {
			return nil, err
		}
		t.cache, t.lang = s.cache, s.lang
		var want = entries[:0:0]
		for _, e := range entries {
			if loc, ok := document.Locate(e.Path); ok && loc.Kind == document.KindRelease && path.Base(e.Path) == "release.yaml" {
				want = append(want, e)
			}
		}
		if err := t.readAll(want, 0); err != nil {
			return nil, err
		}
		releases = t.Releases
	}
	for id, r := range releases {
		if r.Files["release.yaml"] == nil {
			continue
		}
		out = append(out, bookingOf(id, r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Release < out[j].Release })
	s.mu.Lock()
	s.bookings, s.bookingsDone = out, true
	s.mu.Unlock()
	return out, nil
}

// BookingsFrom makes s answer Bookings with base's bookings, except for
// the releases in touched, which s holds (a change's head: every other
// release.yaml is as on base, so it is not read twice). A touched release s
// does not hold (deleted) has no booking. Nothing is read until asked.
func (s *Snapshot) BookingsFrom(base *Snapshot, touched []string) {
	s.mu.Lock()
	s.bookingsBase, s.bookingsTouched = base, slices.Clone(touched)
	s.mu.Unlock()
}

// patchedBookings are base's bookings with the touched releases' from s.
func (s *Snapshot) patchedBookings(base *Snapshot, touched []string) ([]Booking, error) {
	books, err := base.Bookings()
	if err != nil {
		return nil, err
	}
	out := make([]Booking, 0, len(books)+len(touched))
	for _, b := range books {
		if !slices.Contains(touched, b.Release) {
			out = append(out, b)
		}
	}
	for _, id := range touched {
		if r := s.Releases[id]; r != nil && r.Files["release.yaml"] != nil {
			out = append(out, bookingOf(id, r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Release < out[j].Release })
	return out, nil
}

// bookingOf is the booking of a release that has a release.yaml.
func bookingOf(id string, r *Release) Booking {
	b := Booking{Release: id}
	switch rel := r.Release; {
	case rel == nil:
		b.Problem = "its release.yaml is invalid"
	case rel.ID != id:
		b.Problem = "its release.yaml names another release"
	default:
		b.Start, b.End, b.Type = rel.Window.Start, rel.Window.End, rel.Type
		b.Systems = rel.Systems
		for _, it := range rel.Items {
			b.Items = append(b.Items, it.ID)
		}
	}
	return b
}
