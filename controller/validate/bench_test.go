package validate_test

import (
	"github.com/relgate/relgate/controller/gen"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/validate"
)

// BenchmarkValidateRev validates every document at HEAD and reports, from the
// same run, the time of `git ls-tree -r HEAD | git cat-file --batch` (the
// reading limit) and the ratio of the two.
func BenchmarkValidateRev(b *testing.B) { benchValidate(b, false) }

// BenchmarkValidateRevWarm is the same with the decode cache filled by a first run.
func BenchmarkValidateRevWarm(b *testing.B) { benchValidate(b, true) }

func benchValidate(b *testing.B, warm bool) {
	dir := gen.BenchRepo(b)
	cachePath := filepath.Join(b.TempDir(), "cache")
	limit := gitReadingLimit(b, dir)
	load := func(t *gitrepo.Tree) (*loader.Snapshot, error) {
		if !warm {
			return loader.LoadAll(t, loader.Options{})
		}
		c := loader.OpenCache(cachePath)
		snap, err := loader.LoadAll(t, loader.Options{Cache: c})
		if err == nil {
			err = c.Save()
		}
		return snap, err
	}
	if warm {
		r, _ := gitrepo.Open(dir)
		h, _ := r.Resolve("HEAD")
		t, _ := r.TreeAt(h, "")
		if _, err := load(t); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r, err := gitrepo.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		h, err := r.Resolve("HEAD")
		if err != nil {
			b.Fatal(err)
		}
		t, err := r.TreeAt(h, "")
		if err != nil {
			b.Fatal(err)
		}
		snap, err := load(t)
		if err != nil {
			b.Fatal(err)
		}
		fs, err := validate.Check(snap)
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
		total += time.Since(start)
		if len(snap.Releases) < 1000 || len(fs) > 10 {
			b.Fatalf("%d releases, %d findings", len(snap.Releases), len(fs))
		}
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(limit.Seconds(), "git-s")
	b.ReportMetric(per.Seconds(), "relgate-s")
	b.ReportMetric(per.Seconds()/limit.Seconds(), "x-git")
}

func gitReadingLimit(b *testing.B, dir string) time.Duration {
	best := time.Hour
	for i := 0; i < 3; i++ {
		start := time.Now()
		cmd := exec.Command("sh", "-c", "git ls-tree -r --object-only HEAD | git cat-file --batch > /dev/null")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		best = min(best, time.Since(start))
	}
	return best
}
