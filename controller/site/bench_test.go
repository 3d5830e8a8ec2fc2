package site_test

import (
	"testing"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/site"
)

// BenchmarkBuild builds the site of the generated repository's HEAD
// (gen.BenchRepo: 10,000 releases) in memory, with a warm decode cache, as
// `relgate serve` rebuilds it after a push. bench/site.sh measures the
// whole command, cold and warm, beside `validate --rev HEAD`.
func BenchmarkBuild(b *testing.B) {
	dir := gen.BenchRepo(b)
	r, err := gitrepo.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	tip, err := r.Resolve("HEAD")
	if err != nil {
		b.Fatal(err)
	}
	cache := loader.NewMemoryCache()
	if _, err := site.Build(r, "", tip, site.Options{Cache: cache}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var pages int
	for b.Loop() {
		s, err := site.Build(r, "", tip, site.Options{Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		pages = len(s.Paths())
	}
	b.ReportMetric(float64(pages), "files")
}
