package audit_test

import (
	"bytes"
	"github.com/relgate/relgate/controller/gen"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
)

func git(b *testing.B, dir string, args ...string) string {
	b.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

// changedPathFilters makes sure the commit-graph has changed-path (Bloom)
// filters, the git baseline the issue compares with; it writes them when missing.
func changedPathFilters(b *testing.B, dir string) {
	b.Helper()
	data, _ := os.ReadFile(filepath.Join(dir, ".git", "objects", "info", "commit-graph"))
	if !bytes.Contains(data, []byte("BIDX")) {
		git(b, dir, "commit-graph", "write", "--reachable", "--changed-paths")
	}
}

// BenchmarkAuditRelease answers `relgate audit REL` with a warm index
// (open and check the cache, find the commits, read and evaluate each),
// beside `git log -- releases/REL` with changed-path filters.
func BenchmarkAuditRelease(b *testing.B) {
	dir := gen.BenchRepo(b)
	changedPathFilters(b, dir)
	ids := strings.Fields(git(b, dir, "ls-tree", "--name-only", "HEAD", "releases/"))
	if len(ids) == 0 {
		b.Skip("no releases")
	}
	relDir := ids[len(ids)/2]
	rel := strings.TrimPrefix(relDir, "releases/")
	cache := filepath.Join(b.TempDir(), "index-v1")
	r, err := gitrepo.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	head, err := r.Resolve("HEAD")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := history.Open(r, "", []plumbing.Hash{head}, history.Options{CachePath: cache}); err != nil {
		b.Fatal(err)
	}
	var relgate, gitDur time.Duration
	events, all := 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		ix, st, err := history.Open(r, "", []plumbing.Hash{head}, history.Options{CachePath: cache})
		if err != nil || !st.Loaded || st.Scanned != 0 {
			b.Fatalf("warm index: %+v %v", st, err)
		}
		tl, err := audit.Build(r, ix, rel, head)
		if err != nil {
			b.Fatal(err)
		}
		if err := audit.WriteTimeline(io.Discard, tl, "text"); err != nil {
			b.Fatal(err)
		}
		relgate += time.Since(start)
		all = len(tl.Events)
		events = 0 // the commits that touched the release folder (the rest touched its CMDB items)
		for _, ev := range tl.Events {
			for _, c := range ev.Changes {
				if strings.HasPrefix(c.Path, relDir+"/") {
					events++
					break
				}
			}
		}
		b.StopTimer()
		start = time.Now()
		n := len(strings.Fields(git(b, dir, "log", "--format=%H", "HEAD", "--", relDir)))
		gitDur += time.Since(start)
		if n != events {
			b.Fatalf("%s: git log lists %d commits, the timeline %d", rel, n, events)
		}
		b.StartTimer()
	}
	b.ReportMetric(relgate.Seconds()*1000/float64(b.N), "relgate-ms/op")
	b.ReportMetric(gitDur.Seconds()*1000/float64(b.N), "git-log-path-ms/op")
	b.ReportMetric(float64(events), "release-commits")
	b.ReportMetric(float64(all), "timeline-commits")
}
