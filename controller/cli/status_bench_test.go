package cli

import (
	"io"
	"testing"

	"github.com/relgate/relgate/controller/gen"
)

// BenchmarkStatusWarm runs `relgate status` of every release of the
// generated repository's work tree (RELGATE_BENCH_REPO, default /tmp/gen10k;
// skipped without it) with the decode cache and the history index warm: the
// goal of issue 13 is 0.5 s at 10,000 releases. The benchmark writes the
// decode cache and the index into the repository's .git/relgate: give it a
// copy (cp -a).
//
//	RELGATE_BENCH_REPO=/tmp/copy go test ./controller/cli -run '^$' -bench StatusWarm -benchtime 3x
func BenchmarkStatusWarm(b *testing.B) {
	dir := gen.BenchRepo(b)
	args := []string{"status", "--repo", dir, "--now", "2027-01-01T00:00:00Z"}
	if code := Main(args, io.Discard, io.Discard); code != 0 { // warms the caches
		b.Fatalf("status exited %d", code)
	}
	b.ResetTimer()
	for range b.N {
		if code := Main(args, io.Discard, io.Discard); code != 0 {
			b.Fatalf("status exited %d", code)
		}
	}
}
