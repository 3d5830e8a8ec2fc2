package engine_test

import (
	"github.com/relgate/relgate/controller/gen"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gitrepo"
)

// BenchmarkEvaluateChange gates the last commit of a generated repository of
// 10,000 releases (a change to one release), the way `relgate gate` does,
// opening the repository each time. The aim is under 100 ms whatever the
// number of releases: only the touched release is read.
func BenchmarkEvaluateChange(b *testing.B) {
	dir := gen.BenchRepo(b)
	var rep *evaluate.GateReport
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
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
		rep, err = engine.EvaluateChange(r, "", base, head, engine.ChangeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
		total += time.Since(start)
	}
	if len(rep.Releases) > 3 {
		b.Fatalf("the change touched %d releases", len(rep.Releases))
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/gate")
}
