package audit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
	"github.com/relgate/relgate/controller/loader"
)

// BenchmarkVerify walks the whole first-parent history of the generated
// repository (audit verify with no earlier run: --state -), the history
// index warm, beside `git log --name-only` over the same history, which
// also diffs every commit (issue 13's goal: at most 10×).
func BenchmarkVerify(b *testing.B) {
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
	ix, _, err := history.Open(r, "", []plumbing.Hash{head}, history.Options{CachePath: filepath.Join(b.TempDir(), "index")})
	if err != nil {
		b.Fatal(err)
	}
	var relgate, gitLog time.Duration
	checked := 0
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rep, err := audit.Verify(r, ix, head, plumbing.ZeroHash)
		if err != nil {
			b.Fatal(err)
		}
		relgate += time.Since(start)
		if !rep.Passed {
			b.Fatalf("the generated history has violations: %+v", rep.Violations[0])
		}
		checked = rep.Checked
		b.StopTimer()
		start = time.Now()
		git(b, dir, "log", "--name-only", "--format=%H", "HEAD")
		gitLog += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(relgate.Seconds()/float64(b.N), "relgate-s/op")
	b.ReportMetric(gitLog.Seconds()/float64(b.N), "git-log-name-only-s/op")
	b.ReportMetric(relgate.Seconds()/gitLog.Seconds(), "ratio")
	b.ReportMetric(float64(checked), "commits-evaluated")
}

// BenchmarkVerifyOneCommit is audit verify after one new commit (an edit of
// one release's plan on top of the generated history), resuming from what
// a full walk verified: open the warm index (extended by the commit) and
// evaluate the one commit (issue 13's goal: at most 1 s whole-process).
func BenchmarkVerifyOneCommit(b *testing.B) {
	src := gen.BenchRepo(b)
	dir := filepath.Join(b.TempDir(), "repo")
	// A copy, the new commit written there only (not a clone --shared:
	// go-git reads a pack index again at each lookup through alternates).
	if out, err := exec.Command("cp", "-a", src, dir).CombinedOutput(); err != nil {
		b.Fatalf("copy %s: %v\n%s", src, err, out)
	}
	os.RemoveAll(filepath.Join(dir, ".git", "relgate"))
	r, err := gitrepo.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	old, err := r.Resolve("HEAD")
	if err != nil {
		b.Fatal(err)
	}
	cache := filepath.Join(b.TempDir(), "index")
	ix, _, err := history.Open(r, "", []plumbing.Hash{old}, history.Options{CachePath: cache})
	if err != nil {
		b.Fatal(err)
	}
	decoded := filepath.Join(b.TempDir(), "decode-cache")
	dc := decodeCache(b, decoded)
	full, err := audit.VerifyWith(r, ix, old, audit.VerifyOptions{Cache: dc})
	if err != nil {
		b.Fatal(err)
	}
	if dc != nil {
		if err := dc.Save(); err != nil {
			b.Fatal(err)
		}
		dc.Close()
	}
	r.Close()
	plan := ""
	for _, f := range strings.Fields(gitEnv(b, dir, "ls-tree", "-r", "--name-only", "HEAD", "releases/")) {
		if strings.HasSuffix(f, "/plan.yaml") {
			plan = f
			break
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, plan), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	f.WriteString("# one more commit\n")
	f.Close()
	gitEnv(b, dir, "-c", "user.name=bench", "-c", "user.email=bench@example.cn", "commit", "-qam", "bench: edit "+plan)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := gitrepo.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		tip, err := r.Resolve("HEAD")
		if err != nil {
			b.Fatal(err)
		}
		ix, _, err := history.Open(r, "", []plumbing.Hash{tip}, history.Options{CachePath: cache})
		if err != nil {
			b.Fatal(err)
		}
		dc := decodeCache(b, decoded)
		rep, err := audit.VerifyWith(r, ix, tip, audit.VerifyOptions{Resume: full.Progress(), Cache: dc})
		if err != nil {
			b.Fatal(err)
		}
		if dc != nil {
			dc.Close()
		}
		if rep.Resumed == "" || rep.Checked != full.Checked+1 {
			b.Fatalf("resumed %q, %d evaluated after %d", rep.Resumed, rep.Checked, full.Checked)
		}
		r.Close()
	}
}

// decodeCache is the decode cache at p when RELGATE_BENCH_DECODE_CACHE is
// set (as the CLI would pass the repository's), else nil (one in memory).
func decodeCache(b *testing.B, p string) *loader.Cache {
	if os.Getenv("RELGATE_BENCH_DECODE_CACHE") == "" {
		return nil
	}
	return loader.OpenCache(p)
}

// gitEnv runs git isolated from the machine's configuration.
func gitEnv(b *testing.B, dir string, args ...string) string {
	b.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}
