package cli_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestValidateCache: a warm run from the decode cache reports exactly what a
// cold run reports, at a revision and in the work tree, and a corrupt cache
// file is ignored and rewritten.
func TestValidateCache(t *testing.T) {
	r := exampleRepo(t)
	r.Edit("releases/REL-2026-0043/plan.yaml", "pointInTime:", "pointInTme:")
	r.Commit("break", gitrepoPerson)
	cache := filepath.Join(r.Dir, ".git", "relgate", "decode-cache")
	for _, args := range [][]string{{"--rev", "HEAD"}, nil} {
		_, cold, _ := run(t, append([]string{"validate", r.Dir, "--no-cache", "--format", "json"}, args...)...)
		os.Remove(cache)
		_, first, _ := run(t, append([]string{"validate", r.Dir, "--format", "json"}, args...)...)
		if _, err := os.Stat(cache); err != nil {
			t.Fatalf("no cache written: %v", err)
		}
		_, warm, _ := run(t, append([]string{"validate", r.Dir, "--format", "json"}, args...)...)
		if first != cold || warm != cold {
			t.Errorf("%v: cached results differ:\ncold %s\nfirst %s\nwarm %s", args, cold, first, warm)
		}
		if err := os.WriteFile(cache, []byte("not a cache"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, corrupt, _ := run(t, append([]string{"validate", r.Dir, "--format", "json"}, args...)...)
		if corrupt != cold {
			t.Errorf("%v: with a corrupt cache:\n%s", args, corrupt)
		}
	}
}
