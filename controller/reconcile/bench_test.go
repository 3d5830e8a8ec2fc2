package reconcile_test

import (
	"fmt"
	"github.com/relgate/relgate/controller/gen"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/gitrepo"
)

// BenchmarkCommit writes one commit of a three-file change on a generated
// repository of 10,000 releases and 20,000 commits, the way reconcile does
// (objects only, then a compare-and-swap of the branch), and in the same run
// the same change with `git add` and `git commit` in a clone sharing the
// objects.
func BenchmarkCommit(b *testing.B) {
	src := gen.BenchRepo(b)
	dir := filepath.Join(b.TempDir(), "clone")
	sh(b, "", "git", "clone", "-q", "--shared", src, dir)
	sh(b, dir, "git", "config", "user.name", "bench")
	sh(b, dir, "git", "config", "user.email", "bench@example.cn")
	files := []string{"cmdb/bench-a.yaml", "cmdb/bench-b.yaml", "reports/releases/bench.md"}
	var cli, relgate time.Duration
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			p := filepath.Join(dir, f)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(fmt.Sprintf("n: %d\n", i)), 0o644)
		}
		start := time.Now()
		sh(b, dir, "git", "add", files[0], files[1], files[2])
		sh(b, dir, "git", "commit", "-q", "-m", "bench")
		cli += time.Since(start)
		sh(b, dir, "git", "reset", "-q", "--hard", "HEAD~1")

		start = time.Now()
		r, err := gitrepo.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		tip, err := r.Resolve("refs/heads/main")
		if err != nil {
			b.Fatal(err)
		}
		var changes []gitrepo.Change
		for _, f := range files {
			changes = append(changes, gitrepo.Change{Path: f, Content: []byte(fmt.Sprintf("n: %d\n", i))})
		}
		h, err := r.CommitFiles(tip, "", changes, "bench\n", gitrepo.Author{Name: "bot", Email: "bot@example.cn", When: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.SetBranch("main", tip, h); err != nil {
			b.Fatal(err)
		}
		r.Close()
		relgate += time.Since(start)
		sh(b, dir, "git", "update-ref", "refs/heads/main", tip.String())
	}
	b.ReportMetric(float64(cli.Microseconds())/float64(b.N)/1000, "git-ms")
	b.ReportMetric(float64(relgate.Microseconds())/float64(b.N)/1000, "relgate-ms")
	b.ReportMetric(float64(relgate)/float64(cli), "x-git")
}

func sh(b *testing.B, dir string, args ...string) {
	b.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %v\n%s", args, err, out)
	}
}
