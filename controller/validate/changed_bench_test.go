package validate_test

import (
	"testing"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/validate"
)

// BenchmarkChanged validates the last commit of the generated repository
// as `validate --changed HEAD~1` does: open, merge base, changed paths, load
// and check what they involve.
func BenchmarkChanged(b *testing.B) {
	dir := gen.BenchRepo(b)
	for i := 0; i < b.N; i++ {
		r, err := gitrepo.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		base, err := r.Resolve("HEAD~1")
		if err != nil {
			b.Fatal(err)
		}
		head, err := r.Resolve("HEAD")
		if err != nil {
			b.Fatal(err)
		}
		mb, err := r.MergeBase(base, head)
		if err != nil {
			b.Fatal(err)
		}
		changed, err := r.ChangedPaths(mb, head, "")
		if err != nil {
			b.Fatal(err)
		}
		ht, err := r.TreeAt(head, "")
		if err != nil {
			b.Fatal(err)
		}
		bt, err := r.TreeAt(mb, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := validate.Changed(ht, bt, changed, loader.Options{}); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
