package gen

import (
	"os"
	"path/filepath"
	"testing"
)

// DefaultBenchRepo is where benchmarks look for the generated repository:
//
//	go run ./controller/cmd/relgate-gen -releases 10000 -commits 20000 -seed 1 /tmp/gen10k
const DefaultBenchRepo = "/tmp/gen10k"

// BenchRepo returns the generated repository benchmarks run on
// (RELGATE_BENCH_REPO, or DefaultBenchRepo), and skips the benchmark when it
// is absent, so `go test ./...` stays fast on a fresh machine.
func BenchRepo(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("RELGATE_BENCH_REPO")
	if dir == "" {
		dir = DefaultBenchRepo
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		tb.Skipf("no generated repository at %s (make it with relgate-gen, or set RELGATE_BENCH_REPO): %v", dir, err)
	}
	return dir
}
