package history_test

import (
	"github.com/relgate/relgate/controller/gen"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
)

// gitTime runs a git command in dir with its output discarded and returns how long it took.
func gitTime(b *testing.B, dir string, args ...string) time.Duration {
	b.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil && len(out) > 0 {
		b.Fatalf("git %v: %v", args, err)
	}
	return time.Since(start)
}

// BenchmarkIndexCold builds the index of every commit from nothing, beside
// `git log --name-only` over the same history (which also diffs every
// commit with its parent).
func BenchmarkIndexCold(b *testing.B) {
	dir := gen.BenchRepo(b)
	r, err := gitrepo.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	head, err := r.Resolve("HEAD")
	if err != nil {
		b.Fatal(err)
	}
	var relgate, git time.Duration
	commits := 0
	for i := 0; i < b.N; i++ {
		cache := filepath.Join(b.TempDir(), "index-v1")
		start := time.Now()
		_, st, err := history.Open(r, "", []plumbing.Hash{head}, history.Options{CachePath: cache})
		if err != nil {
			b.Fatal(err)
		}
		relgate += time.Since(start)
		commits = st.Scanned
		b.StopTimer()
		git += gitTime(b, dir, "log", "--name-only", "--format=%H", "HEAD")
		b.StartTimer()
	}
	b.ReportMetric(relgate.Seconds()/float64(b.N), "relgate-s/op")
	b.ReportMetric(git.Seconds()/float64(b.N), "git-log-name-only-s/op")
	b.ReportMetric(float64(commits), "commits")
}
