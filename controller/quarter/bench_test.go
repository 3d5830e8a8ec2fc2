package quarter_test

import (
	"github.com/relgate/relgate/controller/gen"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/quarter"
)

// benchSnapshot opens the generated repository (RELGATE_BENCH_REPO, default
// /tmp/gen10k, made by relgate-gen -releases 10000 -commits 20000) at HEAD;
// the benchmarks skip without it. The quarter is the last complete one
// before HEAD's commit.
func benchTree(b *testing.B) (string, *gitrepo.Repo, *gitrepo.Tree, quarter.Quarter) {
	dir := gen.BenchRepo(b)
	r, err := gitrepo.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	head, err := r.Resolve("HEAD")
	if err != nil {
		b.Fatal(err)
	}
	c, err := r.Git.CommitObject(head)
	if err != nil {
		b.Fatal(err)
	}
	tree, err := r.TreeAt(head, "")
	if err != nil {
		b.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return dir, r, tree, quarter.Of(c.Committer.When, loc).Previous()
}

// gitReadAll is the reading limit beside the report: every blob at HEAD
// through git cat-file --batch.
func gitReadAll(b *testing.B, dir string) time.Duration {
	cmd := exec.Command("sh", "-c", "git ls-tree -r --object-only HEAD | git cat-file --batch > /dev/null")
	cmd.Dir = dir
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git: %v %s", err, out)
	}
	return time.Since(start)
}

// BenchmarkQuarterReport computes and renders one quarter's report (Markdown
// and chart) from a loaded snapshot: what reconcile does after loading.
func BenchmarkQuarterReport(b *testing.B) {
	dir, _, tree, q := benchTree(b)
	start := time.Now()
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	git := gitReadAll(b, dir)
	releases := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := quarter.Compute(snap, q, quarter.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range []string{"md", "svg"} {
			if _, err := quarter.Write(rep, "zh", f); err != nil {
				b.Fatal(err)
			}
		}
		releases = rep.Releases
	}
	b.StopTimer()
	b.ReportMetric(float64(releases), "releases-in-"+q.String())
	b.ReportMetric(load.Seconds(), "load-snapshot-s")
	b.ReportMetric(git.Seconds(), "git-cat-file-all-s")
}

// BenchmarkQuarterReportFromCommit is the whole `relgate report quarter
// --rev HEAD`: read and validate every document at the commit, then compute
// and render; cold, and with the loader's decode cache warm (what a second
// run finds in the git directory).
func BenchmarkQuarterReportFromCommit(b *testing.B) {
	b.Run("cold", func(b *testing.B) { benchFromCommit(b, "") })
	b.Run("warm-decode-cache", func(b *testing.B) { benchFromCommit(b, filepath.Join(b.TempDir(), "decode-cache")) })
}

// benchFromCommit runs the report from HEAD; with cachePath, the decode
// cache file is written once and opened from disk on every run, as the CLI does.
func benchFromCommit(b *testing.B, cachePath string) {
	dir, r, tree, q := benchTree(b)
	head, _ := r.Resolve("HEAD")
	if cachePath != "" {
		cache := loader.OpenCache(cachePath)
		if _, err := loader.LoadAll(tree, loader.Options{Cache: cache}); err != nil {
			b.Fatal(err)
		}
		if err := cache.Save(); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
	}
	var git time.Duration
	for i := 0; i < b.N; i++ {
		var cache *loader.Cache
		if cachePath != "" {
			cache = loader.OpenCache(cachePath)
		}
		tree, err := r.TreeAt(head, "")
		if err != nil {
			b.Fatal(err)
		}
		snap, err := loader.LoadAll(tree, loader.Options{Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := quarter.Render(snap, q, "zh", "md", quarter.Options{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		git += gitReadAll(b, dir)
		b.StartTimer()
	}
	b.ReportMetric(git.Seconds()/float64(b.N), "git-cat-file-all-s/op")
}
