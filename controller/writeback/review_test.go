package writeback_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/writeback"
)

func copyExamples(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rr")
	if out, err := exec.Command("cp", "-r", "../../examples/release-repo", dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return dir
}

// TestApprovalRecordNeverReplacesALaterDecision: the server records the
// GitHub reviews that gated a merge as approval files, retrying a failed
// write-back later (30 s, 2 min, 5 min) with the records computed at the
// merge. Meanwhile the same person may have decided again on the branch: a
// rejection committed in a later pull request ("a rejection stands until
// its author replaces it; nobody else can delete it"), or a newer approval
// of a newer digest. ApprovalWrites only skips a file holding the same
// decision and digest, so the late record of the older review overwrites
// the newer decision: the bot erases a rejection.
func TestApprovalRecordNeverReplacesALaterDecision(t *testing.T) {
	dir := copyExamples(t)
	p := document.ApprovalPath("REL-2026-0043", "plan-review", "hejun")
	// hejun's later decision on the branch: a rejection, a day after the review below.
	later := `# yaml-language-server: $schema=../../../.relgate/schemas/approval.schema.json
apiVersion: relgate.dev/v1
kind: Approval
release: REL-2026-0043
gate: plan-review
person: hejun
role: department-head
decision: reject
digest: sha256:23a0a510b95b5fdc2c0dc59c3a52ec3e8cd90ac13b37666eacaec33e35ae949d
at: "2026-11-25T10:00:00+08:00"
comment: the rollback plan misses the interface configuration
`
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte(later), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := loader.LoadAll(source.Dir{Root: dir}, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := snap.Doc(p); d == nil {
		t.Fatalf("%s not loaded", p)
	} else if a, ok := d.Value.(*document.Approval); !ok || a.Decision != "reject" {
		t.Fatalf("%s: %+v", p, d.Value)
	}
	// The record of hejun's earlier GitHub approval, written late.
	rec := writeback.ApprovalRecord{Release: "REL-2026-0043", Gate: "plan-review", Person: "hejun", Role: "department-head",
		Decision: "approve", Digest: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
		At: "2026-11-24T09:00:00+08:00", Comment: "GitHub review 7 on pull request #3",
		Forge: document.ForgeReview{Provider: "github", Repository: "grid-it/releases", PullNumber: 3, ReviewID: 7,
			HeadCommit: "1111111111111111111111111111111111111111"}}
	writes, err := writeback.ApprovalWrites(snap, []writeback.ApprovalRecord{rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		for _, f := range w.Files {
			if f.Path == p {
				t.Errorf("the record of an earlier review replaces hejun's later rejection:\n%s", f.Content)
			}
		}
	}
}
