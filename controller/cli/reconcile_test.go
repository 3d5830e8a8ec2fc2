package cli_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/present"
)

// TestReconcileExamples: the examples' succeeded and failed releases get
// their CMDB updates and reports as commits; a second run makes none; git
// reads the history and fsck is clean; the work tree stays clean.
func TestReconcileExamples(t *testing.T) {
	r := exampleRepo(t)
	start := commitCount(t, r.Dir)
	code, out, errs := run(t, "reconcile", r.Dir, "--dry-run")
	if code != 0 || !strings.Contains(out, "would commit: REL-2026-0041: update the CMDB") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	if n := commitCount(t, r.Dir); n != start {
		t.Fatalf("dry run committed: %d commits, want %d", n, start)
	}
	code, out, errs = run(t, "reconcile", r.Dir)
	if code != 0 || !strings.Contains(out, "4 commit(s)") {
		t.Fatalf("reconcile: exit %d\n%s%s", code, out, errs)
	}
	r.GitCLI("fsck", "--strict")
	if st := r.GitCLI("status", "--porcelain"); st != "" {
		t.Errorf("work tree not clean after reconcile:\n%s", st)
	}
	log := r.GitCLI("log", "--format=%an|%s|%(trailers:key=Release-Id,valueonly,separator=)", "-4")
	for _, want := range []string{
		"relgate-bot|REL-2026-0041: update the CMDB after the succeeded deployment|REL-2026-0041",
		"relgate-bot|REL-2026-0042: update the CMDB after the rolled-back deployment|REL-2026-0042",
		"relgate-bot|REL-2026-0042: write the release report (rolled-back)|REL-2026-0042",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("git log lacks %q:\n%s", want, log)
		}
	}
	// the CMDB shows the deployed versions, and the restored ones after the rollback.
	if s := r.Read("cmdb/d5000-scada-frontend.yaml"); !strings.Contains(s, "version: \"4.4.0\"") || !strings.Contains(s, "release: REL-2026-0041") {
		t.Errorf("d5000-scada-frontend not updated:\n%s", s)
	}
	if s := r.Read("cmdb/payment-interface.yaml"); !strings.Contains(s, "version: \"3.1.4\"") || !strings.Contains(s, "action: restore") {
		t.Errorf("payment-interface does not show the restore:\n%s", s)
	}
	if s := r.Read("reports/releases/REL-2026-0042.md"); !strings.Contains(s, "发布报告 REL-2026-0042") || !strings.Contains(s, "失败并已回退") {
		t.Errorf("report:\n%s", s)
	}
	if code, _, _ := run(t, "validate", r.Dir); code != 0 {
		t.Errorf("repository invalid after reconcile")
	}
	// The README links these files: they are what reconcile writes for the examples.
	for _, f := range []string{"reports/releases/REL-2026-0041.md", "reports/releases/REL-2026-0042.md", "reports/releases/REL-2026-0042.json"} {
		golden(t, filepath.Join("../../docs/reconcile-example", filepath.Base(f)), r.Read(f))
	}
	golden(t, "../../docs/reconcile-example/cmdb.diff", r.GitCLI("diff", "HEAD~4", "HEAD", "--", "cmdb"))
	code, out, _ = run(t, "reconcile", r.Dir)
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	if n := commitCount(t, r.Dir); n != start+4 {
		t.Errorf("second run committed: %d commits, want %d", n, start+4)
	}
	// Closure now misses only closure.yaml itself.
	_, js, _ := run(t, "status", r.Dir, "REL-2026-0041", "--format", "json")
	var rep present.StatusReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	closure, _ := rep.Releases[0].Gate("closure")
	if got := closure.Missing(); len(got) != 1 || got[0] != "closure.yaml is missing" {
		t.Errorf("closure misses %v", got)
	}
	// English reports on request.
	r2 := exampleRepo(t)
	run(t, "reconcile", r2.Dir, "--lang", "en")
	if s := r2.Read("reports/releases/REL-2026-0041.md"); !strings.Contains(s, "# Release report REL-2026-0041") {
		t.Errorf("english report:\n%s", s)
	}
}

// TestReconcileRefusesDirtyFiles: uncommitted edits of a file relgate would
// write are never overwritten.
func TestReconcileRefusesDirtyFiles(t *testing.T) {
	r := exampleRepo(t)
	start := commitCount(t, r.Dir)
	r.Edit("cmdb/oms-workflow.yaml", "environment: production", "environment: production # 本地修改")
	code, _, errs := run(t, "reconcile", r.Dir)
	if code != 2 || !strings.Contains(errs, "cmdb/oms-workflow.yaml has uncommitted changes") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if n := commitCount(t, r.Dir); n != start {
		t.Errorf("committed despite the refusal: %d commits, want %d", n, start)
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with a golden file, rewriting it with -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from what relgate writes now (go test ./controller/cli -run %s -update):\n%s", file, t.Name(), got)
	}
}

// TestReconcileSigned: with --sign-key every commit relgate makes carries an
// OpenPGP signature that verifies with the bot's public key.
func TestReconcileSigned(t *testing.T) {
	key, pub := gitrepotest.NewKey(t, "relgate-bot", "relgate-bot@grid-it.example.cn")
	r := exampleRepo(t)
	start, err := r.Git.Head()
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "reconcile", r.Dir, "--sign-key", writeKey(t, key)); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	head, err := r.Git.Head()
	if err != nil {
		t.Fatal(err)
	}
	iter, err := r.Git.Log(&git.LogOptions{From: head.Hash()})
	if err != nil {
		t.Fatal(err)
	}
	signed := 0
	iter.ForEach(func(c *object.Commit) error {
		if c.Hash == start.Hash() {
			return storer.ErrStop // the replayed history before reconcile
		}
		if c.Author.Email != "relgate-bot@grid-it.example.cn" {
			return nil
		}
		if _, err := c.Verify(pub); err != nil {
			t.Errorf("commit %s %q: %v", c.Hash, c.Message, err)
		}
		signed++
		return nil
	})
	if signed != 4 {
		t.Errorf("%d signed commits, want 4", signed)
	}
	r.GitCLI("fsck", "--strict")
	r.GitCLI("cat-file", "-p", "HEAD")
}

// TestReconcileQuarterlyReport: once a quarter is complete, reconcile writes
// its report to a fixed path, once.
func TestReconcileQuarterlyReport(t *testing.T) {
	r := exampleRepo(t)
	if code, out, _ := run(t, "reconcile", r.Dir, "--now", "2026-12-31T23:00:00+08:00"); code != 0 || strings.Contains(out, "2026Q4") {
		t.Fatalf("during the quarter: exit %d\n%s", code, out)
	}
	code, out, errs := run(t, "reconcile", r.Dir, "--now", "2027-01-01T00:30:00+08:00")
	if code != 0 || !strings.Contains(out, "reports: the release management report of 2026Q4") {
		t.Fatalf("after the quarter: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{"reports/quarterly/2026Q4.zh.md", "reports/quarterly/2026Q4.zh.svg", "reports/quarterly/2026Q4.json"} {
		if s := r.Read(f); len(s) == 0 {
			t.Errorf("%s is empty", f)
		}
	}
	if code, out, _ := run(t, "reconcile", r.Dir, "--now", "2027-02-01T00:00:00+08:00"); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	r.GitCLI("fsck", "--strict")
}

// commitCount is the number of commits reachable from HEAD, as git counts them.
func commitCount(t *testing.T, dir string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(gitCmd(t, dir, "rev-list", "--count", "HEAD")))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
