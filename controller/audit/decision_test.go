package audit_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/audit"
	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/writeback"
)

// TestDeploymentDecisionsInTimeline: the bot's deployment log is part of the
// release's audit trail — every deployment that asked to proceed, allowed or
// refused, with the rules that refused it — and its commits
// pass verify (reports/ is the bot's). A person who writes the log is
// caught; a replayed decision adds nothing.
func TestDeploymentDecisionsInTimeline(t *testing.T) {
	r := gitrepotest.New(t)
	if err := gen.Replay(examples, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 14, 20, 1, 0, 0, time.FixedZone("CST", 8*3600))
	refused := deploy.Decision{Release: "REL-2026-0042", Environment: "production", Revision: "0123456789ab",
		Rules: []deploy.Rule{{ID: deploy.RuleWindow, Clause: "R-5.1.5", Message: "the release window has not begun"}}}
	allowed := deploy.Decision{Release: "REL-2026-0042", Environment: "production", Revision: "0123456789ab", Allowed: true,
		Artifacts: []document.VersionRef{{Item: "payment-interface", Version: "3.2.0", Digest: "sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6"}}}
	log := func(d deploy.Decision, key string, when time.Time) bool {
		repo, ix, head := open(t, r)
		tree, err := ix.TreeAt(repo, head)
		if err != nil {
			t.Fatal(err)
		}
		w, ok, err := writeback.DecisionWrite(tree, writeback.DecisionRecord{Decision: d, At: when, Source: "github",
			Run: "https://github.com/grid/releases/actions/runs/7", DeploymentID: 42, Requester: "sunlei", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			r.Write(w.Files[0].Path, string(w.Files[0].Content))
			r.Commit(w.Message(), who("relgate-bot"))
		}
		return ok
	}
	if !log(refused, "github/42/7a", at) || !log(allowed, "github/42/7b", at.Add(time.Hour)) {
		t.Fatal("a new decision must be written")
	}
	if log(allowed, "github/42/7b", at.Add(time.Hour)) {
		t.Error("a replayed decision (same key) was written again")
	}
	repo, ix, head := open(t, r)
	rep, err := audit.Verify(repo, ix, head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Errorf("the bot's deployment log fails verify: %+v", rep.Violations)
	}
	tl, err := audit.Build(repo, ix, "REL-2026-0042", head)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range tl.Events {
		for _, d := range ev.Deployments {
			got = append(got, d.Key+" "+map[bool]string{true: "allowed", false: "refused"}[d.Allowed])
		}
	}
	if strings.Join(got, "; ") != "github/42/7a refused; github/42/7b allowed" {
		t.Errorf("timeline decisions: %v", got)
	}
	var text bytes.Buffer
	if err := audit.WriteTimeline(&text, tl, "text"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"deployment to production refused at 2026-11-14T20:01:00+08:00 (requested by sunlei via github, run https://github.com/grid/releases/actions/runs/7); window: the release window has not begun",
		"deployment to production allowed at 2026-11-14T21:01:00+08:00"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("timeline text lacks %q:\n%s", want, text.String())
		}
	}

	// Attack: a person writes an "allowed" entry into the log.
	d := r.Read(document.DeploymentLogPath("REL-2026-0042"))
	r.Write(document.DeploymentLogPath("REL-2026-0042"), strings.Replace(d, "allowed: false", "allowed: true", 1))
	forged := r.Commit("fix log", who("sunlei"))
	repo, ix, head = open(t, r)
	rep, err = audit.Verify(repo, ix, head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Violations) != 1 || rep.Violations[0].Commit != forged {
		t.Errorf("a person's edit of the deployment log must be the one violation: %+v", rep.Violations)
	}
}
