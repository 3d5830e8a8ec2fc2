package loader_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/validate"
)

// BenchmarkLoadAllCold reads and decodes every document at HEAD of the
// generated repository (RELGATE_BENCH_REPO) with an empty decode cache, which
// it saves, then runs the cross-document checks: the work of a cold
// `relgate validate --rev HEAD`.
// It reports the heap in use after the load (the snapshot retained) per document.
func BenchmarkLoadAllCold(b *testing.B) { benchLoadAll(b, false) }

// BenchmarkLoadAllWarm is the same through a decode cache filled by a first
// run and opened again from its file each time, as a second CLI run would.
func BenchmarkLoadAllWarm(b *testing.B) { benchLoadAll(b, true) }

func benchLoadAll(b *testing.B, warm bool) {
	dir := gen.BenchRepo(b)
	cachePath := filepath.Join(b.TempDir(), "decode-cache")
	run := func() (*loader.Snapshot, error) {
		r, err := gitrepo.Open(dir)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		h, err := r.Resolve("HEAD")
		if err != nil {
			return nil, err
		}
		t, err := r.TreeAt(h, "")
		if err != nil {
			return nil, err
		}
		if !warm {
			os.Remove(cachePath)
		}
		c := loader.OpenCache(cachePath)
		snap, err := loader.LoadAll(t, loader.Options{Cache: c})
		if err != nil {
			return nil, err
		}
		if err := c.Save(); err != nil {
			return nil, err
		}
		if _, err := validate.Check(snap); err != nil {
			return nil, err
		}
		return snap, nil
	}
	if warm {
		if _, err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var snap *loader.Snapshot
	for i := 0; i < b.N; i++ {
		var err error
		if snap, err = run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	docs := len(snap.Paths())
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(docs), "docs")
	b.ReportMetric(float64(ms.HeapAlloc)/float64(docs), "retained-B/doc")
	runtime.KeepAlive(snap)
}
