package loader_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
)

// TestOversizedBlobReported: a document over the 1 MiB limit, in a commit,
// is a finding naming the file and is never read: the load allocates far
// less than the blob (its size comes from the object header).
func TestOversizedBlobReported(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		packed bool
	}{
		{"50 MB loose", 50 << 20, false},
		{"50 MB packed", 50 << 20, true},
		{"3.5 MiB packed, between the document and the blob limit", 7 << 19, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gitrepotest.New(t)
			r.CopyDir("../../examples/release-repo")
			r.Commit("example", gitrepotest.Person{Name: "t", Email: "t@example.com"})
			const big = "changes/CHG-2026-0999.yaml"
			if err := os.WriteFile(filepath.Join(r.Dir, big), []byte(strings.Repeat("a: b\n", tc.size/5)), 0o644); err != nil {
				t.Fatal(err)
			}
			r.GitCLI("add", "-A")
			r.GitCLI("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "big")
			if tc.packed {
				r.GitCLI("gc", "-q")
			}
			repo, err := gitrepo.Open(r.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			// What a load allocates without the blob (HEAD~1) is the yardstick.
			load := func(rev string) (*loader.Snapshot, uint64) {
				h, err := repo.Resolve(rev)
				if err != nil {
					t.Fatal(err)
				}
				tree, err := repo.TreeAt(h, "")
				if err != nil {
					t.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				snap, err := loader.LoadAll(tree, loader.Options{Workers: 1, Lang: "en"})
				runtime.ReadMemStats(&after)
				if err != nil {
					t.Fatal(err)
				}
				return snap, after.TotalAlloc - before.TotalAlloc
			}
			_, without := load("HEAD~1")
			snap, with := load("HEAD")
			if with > without+uint64(tc.size)/2 {
				t.Errorf("the load allocated %d bytes, %d without the blob: the %d-byte blob was read", with, without, tc.size)
			}
			var got []finding.Finding
			for _, f := range snap.Findings {
				if f.File == big {
					got = append(got, f)
				}
			}
			want := []finding.Finding{{File: big, Rule: "yaml", Severity: finding.Error,
				Message: "file is too large; the limit is 1048576 bytes"}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("findings for %s (-want +got):\n%s", big, d)
			}
			if snap.Doc(big) != nil {
				t.Errorf("%s was decoded", big)
			}
		})
	}
}
