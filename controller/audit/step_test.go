package audit_test

import (
	"encoding/json"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/history"
)

// verifyJSON runs audit verify over dir's HEAD with opts and returns its
// JSON report.
func verifyJSON(t *testing.T, dir string, opts audit.VerifyOptions) (*audit.VerifyReport, string) {
	t.Helper()
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := history.Open(r, "", []plumbing.Hash{head}, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyWith(r, ix, head, opts)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return rep, string(data)
}

// TestStepSameAsEngine: the walk that carries each commit's bookings to
// the next (and patches the touched releases) reports exactly what
// evaluating every commit from scratch through engine.EvaluateChange
// reports — every rule, commit and message — on generated histories with
// each kind of planted bypass, on a lawful one with many merges, and on a
// merge whose reviews the bot records after it; and at every commit the
// bookings it carried are those a fresh read of the commit gives.
func TestStepSameAsEngine(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts gen.Options
	}{
		{"every injection class", gen.Options{Releases: 100, Commits: 800, Inject: len(gen.InjectionClasses), Seed: 1}},
		{"lawful, merges", gen.Options{Releases: 40, Commits: 500, Seed: 7}},
		{"more injections", gen.Options{Releases: 60, Commits: 500, Inject: 15, Seed: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res, err := gen.Generate(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			old, want := verifyJSON(t, dir, audit.EngineOnly(audit.VerifyOptions{}))
			_, got := verifyJSON(t, dir, audit.VerifyOptions{})
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("carried vs engine-only report (-engine +carried):\n%s", d)
			}
			_, checked := verifyJSON(t, dir, audit.CheckBookings(audit.VerifyOptions{}))
			if d := cmp.Diff(want, checked); d != "" {
				t.Errorf("with the bookings checked at every commit (-engine +checked):\n%s", d)
			}
			if len(res.Injections) > 0 && len(old.Violations) < len(res.Injections) {
				t.Errorf("%d violations for %d injections: the comparison proves little", len(old.Violations), len(res.Injections))
			}
			if old.Checked < res.FirstParent/2 {
				t.Errorf("%d commits evaluated of %d", old.Checked, res.FirstParent)
			}
		})
	}
	t.Run("review records", func(t *testing.T) {
		r := resumeHistory(t)
		old, want := verifyJSON(t, r.Dir, audit.EngineOnly(audit.VerifyOptions{}))
		_, got := verifyJSON(t, r.Dir, audit.CheckBookings(audit.VerifyOptions{}))
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-engine +carried):\n%s", d)
		}
		if len(old.Violations) == 0 {
			t.Error("no violations: the history should break a gate")
		}
	})
}
