package writeback_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/validate"
	"github.com/relgate/relgate/controller/writeback"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const rel41 = "REL-2026-0041"

// tested41 are the artifacts REL-2026-0041's test report tested.
var tested41 = []document.VersionRef{
	{Item: "d5000-scada-frontend", Version: "4.4.0", Digest: "sha256:937b235105d87f76707b8693468068df455b663d3e52e739f9fb934f3a0c23ca"},
	{Item: "oms-workflow", Version: "2.8.0", Digest: "sha256:e92d19c84617aa08828dfc2dbf42b90d3319aedf2e774d60586c62f42a5b9e1c"},
}

// undeployed is the example repository with REL-2026-0041 ready to deploy:
// its deployment record and confirmations removed.
func undeployed(t *testing.T) string {
	t.Helper()
	dir := copyExamples(t)
	for _, p := range []string{"deployment.yaml", "approvals/deployment-confirmation.tangjing.yaml", "approvals/deployment-confirmation.wangfang.yaml"} {
		if err := os.Remove(filepath.Join(dir, "releases", rel41, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, dir string) (*loader.Snapshot, *policy.Policy) {
	t.Helper()
	snap, err := loader.LoadAll(source.Dir{Root: dir}, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		t.Fatal(err)
	}
	return snap, pol
}

func receipt41() writeback.Receipt {
	return writeback.Receipt{Release: rel41, Environment: "production", Outcome: document.OutcomeSucceeded,
		Deployed:  tested41,
		StartedAt: time.Date(2026, 10, 17, 14, 5, 0, 0, time.UTC), FinishedAt: time.Date(2026, 10, 17, 18, 40, 0, 0, time.UTC),
		Source: document.ReceiptGitHubDeployment, Run: "https://github.com/grid-it/d5000/actions/runs/4242", DeploymentID: 17,
		Problems: []document.Problem{{Description: "6 个厂站 104 通道反复退出", Solution: "t1 改回 15 秒并重投"}}}
}

func writeFile(t *testing.T, dir string, f writeback.File) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReceiptWrite: a pipeline's report becomes deployment.yaml:
// the bytes are the golden file's, in the policy's timezone, the same for the
// same receipt, and the record is a valid document (the bot may record a
// receipt, an implementer anything). Each case's golden file is its name.
func TestReceiptWrite(t *testing.T) {
	failed := receipt41()
	failed.Outcome, failed.Deployed, failed.Source, failed.DeploymentID = document.OutcomeFailed, tested41[:1], document.ReceiptCI, 0
	rolled := receipt41()
	rolled.Outcome, rolled.RecordedBy, rolled.Problems = document.OutcomeRolledBack, "sunlei", nil
	for _, tc := range []struct {
		name string
		rc   writeback.Receipt
	}{
		{"receipt-succeeded-bot", receipt41()},
		{"receipt-failed-ci", failed},
		{"receipt-rolled-back-implementer", rolled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := undeployed(t)
			snap, pol := load(t, dir)
			w, ok, err := writeback.ReceiptWrite(snap, pol, tc.rc)
			if err != nil || !ok {
				t.Fatalf("ReceiptWrite: ok %v, %v", ok, err)
			}
			if w.Kind != "deployment-receipt" || w.Release != rel41 || len(w.Files) != 1 || w.Files[0].Path != "releases/"+rel41+"/deployment.yaml" {
				t.Fatalf("write: %+v", w)
			}
			again, _, _ := writeback.ReceiptWrite(snap, pol, tc.rc)
			if diff := cmp.Diff(string(w.Files[0].Content), string(again.Files[0].Content)); diff != "" {
				t.Errorf("the same receipt gave other bytes (-first +second):\n%s", diff)
			}
			golden(t, filepath.Join("testdata", tc.name+".yaml"), w.Files[0].Content)
			if !strings.Contains(string(w.Files[0].Content), "+08:00") {
				t.Errorf("times are not in the policy's timezone (Asia/Shanghai):\n%s", w.Files[0].Content)
			}
			writeFile(t, dir, w.Files[0])
			snap, _ = load(t, dir)
			fs, err := validate.Check(snap)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.Severity == finding.Error {
					t.Errorf("the written record is not valid: %s", f)
				}
			}
			d := snap.Releases[rel41].Deployment
			if d == nil || d.Receipt == nil || d.Receipt.Run != tc.rc.Run || d.Receipt.Environment != "production" {
				t.Fatalf("record read back: %+v", d)
			}
		})
	}
}

// TestReceiptWriteNeverOverwrites: a replayed event writes nothing, even
// after people completed the record; a different receipt, or one for a
// release that has a record typed by hand, is refused and nothing changes;
// a receipt for a release that does not exist is refused.
func TestReceiptWriteNeverOverwrites(t *testing.T) {
	dir := undeployed(t)
	snap, pol := load(t, dir)
	first, ok, err := writeback.ReceiptWrite(snap, pol, receipt41())
	if err != nil || !ok {
		t.Fatalf("first receipt: ok %v, %v", ok, err)
	}
	writeFile(t, dir, first.Files[0])
	snap, _ = load(t, dir)

	if _, ok, err := writeback.ReceiptWrite(snap, pol, receipt41()); err != nil || ok {
		t.Errorf("replay: ok %v, %v; want nothing to write", ok, err)
	}
	other := receipt41()
	other.Run, other.DeploymentID = "https://github.com/grid-it/d5000/actions/runs/4243", 18
	if _, ok, err := writeback.ReceiptWrite(snap, pol, other); !errors.Is(err, writeback.ErrRecordExists) || ok {
		t.Errorf("a different receipt: ok %v, %v; want ErrRecordExists", ok, err)
	}

	// The same run reporting other artifacts is another report, not a replay.
	swapped := receipt41()
	swapped.Deployed = tested41[:1]
	swapped.Outcome = document.OutcomeFailed
	if _, ok, err := writeback.ReceiptWrite(snap, pol, swapped); !errors.Is(err, writeback.ErrRecordExists) || ok {
		t.Errorf("the same run with other artifacts: ok %v, %v; want ErrRecordExists", ok, err)
	}

	// People complete the record (a problem added); the event replayed
	// later is still the same deployment.
	p := filepath.Join(dir, "releases", rel41, "deployment.yaml")
	data, _ := os.ReadFile(p)
	edited := strings.Replace(string(data), "problems:\n", "problems:\n  - description: 补记\n    solution: 已处理\n", 1)
	if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, _ = load(t, dir)
	if _, ok, err := writeback.ReceiptWrite(snap, pol, receipt41()); err != nil || ok {
		t.Errorf("replay after people completed the record: ok %v, %v; want nothing to write", ok, err)
	}

	// A record typed by hand is never replaced by a receipt.
	hand := copyExamples(t)
	hsnap, hpol := load(t, hand)
	if _, ok, err := writeback.ReceiptWrite(hsnap, hpol, receipt41()); !errors.Is(err, writeback.ErrRecordExists) || ok {
		t.Errorf("over a record typed by hand: ok %v, %v; want ErrRecordExists", ok, err)
	}

	missing := receipt41()
	missing.Release = "REL-2026-0099"
	if _, ok, err := writeback.ReceiptWrite(snap, pol, missing); err == nil || ok || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("unknown release: ok %v, %v", ok, err)
	}
}

// TestReceiptRefused: a receipt the schema or the policy would refuse is an
// error naming what is wrong, never a record.
func TestReceiptRefused(t *testing.T) {
	dir := undeployed(t)
	snap, pol := load(t, dir)
	for _, tc := range []struct {
		name string
		edit func(*writeback.Receipt)
		want string
	}{
		{"not a release id", func(r *writeback.Receipt) { r.Release = "../x" }, "not a release id"},
		{"unknown outcome", func(r *writeback.Receipt) { r.Outcome = "partial" }, "outcome"},
		{"unknown source", func(r *writeback.Receipt) { r.Source = "jenkins" }, "source"},
		{"no environment", func(r *writeback.Receipt) { r.Environment = "" }, "environment"},
		{"run URL too long", func(r *writeback.Receipt) { r.Run = "https://x/" + strings.Repeat("a", 2048) }, "run URL"},
		{"negative deployment id", func(r *writeback.Receipt) { r.DeploymentID = -1 }, "negative"},
		{"no start", func(r *writeback.Receipt) { r.StartedAt = time.Time{} }, "start"},
		{"finishes before it starts", func(r *writeback.Receipt) { r.FinishedAt = r.StartedAt.Add(-time.Minute) }, "before it starts"},
		{"artifact without version", func(r *writeback.Receipt) { r.Deployed = []document.VersionRef{{Item: "oms-workflow"}} }, "deployed[0]"},
		{"problem without solution", func(r *writeback.Receipt) { r.Problems = []document.Problem{{Description: "x"}} }, "problems[0]"},
		{"R-5.1.8: recorded by someone who is not an implementer", func(r *writeback.Receipt) { r.RecordedBy = "wangfang" }, "implementer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := receipt41()
			tc.edit(&rc)
			if _, ok, err := writeback.ReceiptWrite(snap, pol, rc); err == nil || ok || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ok %v, err %v; want an error about %q", ok, err, tc.want)
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
