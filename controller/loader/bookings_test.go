package loader_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
)

// TestBookingsFrom: a change's head answers the calendar's overlaps
// from base's bookings with its touched releases read again, and that is
// exactly what reading every release.yaml at head gives — a moved window, a
// new release, a deleted one, and one whose release.yaml is broken (fail
// closed: a booking with a problem).
func TestBookingsFrom(t *testing.T) {
	r := gitrepotest.New(t)
	r.CopyDir("../../examples/release-repo")
	who := gitrepotest.Person{Name: "t", Email: "t@example.com"}
	base := r.Commit("example", who)
	r.Edit("releases/REL-2026-0043/release.yaml", `start: "2026-11-28T22:00:00+08:00"`, `start: "2026-11-27T22:00:00+08:00"`)
	r.Write("releases/REL-2026-0044/release.yaml", r.Read("releases/REL-2026-0043/release.yaml"))
	r.Edit("releases/REL-2026-0044/release.yaml", "id: REL-2026-0043", "id: REL-2026-0044")
	r.Write("releases/REL-2026-0042/release.yaml", "apiVersion: relgate.dev/v1\nkind: Release\nid: [\n")
	r.Remove("releases/REL-2026-0041")
	head := r.Commit("change", who)
	touched := []string{"REL-2026-0041", "REL-2026-0042", "REL-2026-0043", "REL-2026-0044"}

	g, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	at := func(rev string, ids []string) *loader.Snapshot {
		h, err := g.Resolve(rev)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := g.TreeAt(h, "")
		if err != nil {
			t.Fatal(err)
		}
		s, err := loader.LoadReleases(tree, ids)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want, err := at(head, nil).Bookings()
	if err != nil {
		t.Fatal(err)
	}
	hs := at(head, touched)
	hs.BookingsFrom(at(base, touched), touched)
	got, err := hs.Bookings()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("head's bookings from base's (-all read at head +patched):\n%s", diff)
	}
	if len(got) != 3 || got[0].Release != "REL-2026-0042" || got[0].Problem == "" || got[1].Start != "2026-11-27T22:00:00+08:00" {
		t.Errorf("bookings: %+v", got)
	}
}
