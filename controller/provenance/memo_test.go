package provenance_test

import (
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/provenance"
)

// TestMemoSameAnswers: ledgers sharing a Memo along a history walk (two at
// each first-parent commit, as audit verify makes them) answer Changes,
// Origin and Since exactly as ledgers made from scratch, on a generated
// history with merges and planted bypasses.
func TestMemoSameAnswers(t *testing.T) {
	dir := t.TempDir()
	if _, err := gen.Generate(dir, gen.Options{Releases: 30, Commits: 300, Inject: 5, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := history.Open(r, "", []plumbing.Hash{head}, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ix.FirstParents(head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	memo := provenance.NewMemo()
	files := ix.Files(r)
	show := func(l *provenance.Ledger, p string, blob plumbing.Hash, since string) string {
		cs, err := l.Changes(p)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, c := range cs {
			out += fmt.Sprintf("%s %s %v %v %s %s\n", c.Commit.ID, c.Blob, c.Deleted, c.Shallow, c.Commit.AuthorEmail, c.Commit.Parents)
		}
		var b [20]byte
		copy(b[:], blob[:])
		o, err := l.Origin(p, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range o.Commits {
			out += "origin " + c.ID + "\n"
		}
		out += "problem " + o.Problem + "\n"
		later, err := l.Since(p, since)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range later {
			out += "since " + c.Commit.ID + "\n"
		}
		return out
	}
	asked := 0
	for _, c := range chain {
		if len(c.Parents) == 0 {
			continue
		}
		paths, err := ix.ChangedPaths(r, c.Parents[0], c.Hash)
		if err != nil {
			t.Fatal(err)
		}
		for _, tips := range [][]plumbing.Hash{{c.Parents[0], c.Hash}, {c.Parents[0]}} {
			plain, err := provenance.New(r, ix, tips...)
			if err != nil {
				t.Fatal(err)
			}
			shared, err := provenance.NewWith(r, ix, memo, tips...)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				e, err := files.At(c.Hash, p)
				if err != nil {
					t.Fatal(err)
				}
				want, got := show(plain, p, e.ID, c.Parents[0].String()), show(shared, p, e.ID, c.Parents[0].String())
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("commit %s, %s (-new +memo):\n%s", c.Hash, p, d)
				}
				asked++
			}
		}
	}
	if asked < 200 {
		t.Errorf("only %d paths asked about", asked)
	}
}
