package gitrepo_test

import (
	"os"
	"testing"

	"github.com/relgate/relgate/controller/gitrepo"
)

// BenchmarkVerify measures the integrity checks on the repository named by
// RELGATE_BENCH_REPO (for example one from relgate-gen); it is skipped
// without one.
func BenchmarkVerify(b *testing.B) {
	dir := os.Getenv("RELGATE_BENCH_REPO")
	if dir == "" {
		b.Skip("set RELGATE_BENCH_REPO to a repository")
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.Run("CheckPacks", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := r.CheckPacks(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := r.Verify(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
