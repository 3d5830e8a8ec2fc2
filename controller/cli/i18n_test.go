package cli_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	gates "github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/present"
	"github.com/relgate/relgate/controller/provenance"
)

// ids are commit, tree and digest ids, which change with the replay's
// signatures; the goldens are about words.
var ids = regexp.MustCompile(`\b[0-9a-f]{12,64}\b`)

func normalIDs(s string) string { return ids.ReplaceAllString(s, "<id>") }

// statusOf evaluates every release at HEAD as relgate status does, in
// process: the translations ride on the results, not on the JSON.
func statusOf(t *testing.T, dir string) ([]string, []gates.Status) {
	t.Helper()
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := r.TreeAt(tip, prefix)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	led, err := provenance.Open(r, prefix, tip)
	if err != nil {
		t.Fatal(err)
	}
	pol, warnings, err := engine.PolicyInForce(r, prefix, led.Index(), tip)
	if err != nil {
		t.Fatal(err)
	}
	if pol.TrustCommitAuthor {
		warnings = append([]string{"the policy trusts commit authorship (trustCommitAuthor): approvals are unauthenticated"}, warnings...)
	}
	var out []gates.Status
	for _, id := range snap.ReleaseIDs() {
		st, err := evaluate.Release(pol, snap, id, evaluate.Options{Provenance: led})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return warnings, out
}

// TestI18nStatus: status in Chinese and English on the replayed example;
// the English is what `relgate status` prints.
func TestI18nStatus(t *testing.T) {
	r := exampleRepo(t)
	// An approval that does not count, so status says why: the plan of
	// REL-2026-0043 changes after zhangwei approved it.
	approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
	r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 补充说明。")
	r.Commit("edit plan after approval", who("wangfang"))
	warnings, st := statusOf(t, r.Dir)
	for _, l := range i18n.Langs {
		var b bytes.Buffer
		if err := present.WriteStatusTextIn(&b, l, warnings, st); err != nil {
			t.Fatal(err)
		}
		golden(t, "testdata/i18n/status."+string(l)+".txt", normalIDs(b.String()))
		if l == i18n.English {
			_, cli, errs := run(t, "status", r.Dir)
			if normalIDs(cli) != normalIDs(b.String()) {
				t.Errorf("relgate status differs from the English rendering:\n%s%s", cli, errs)
			}
		}
		if l == i18n.Chinese {
			for _, en := range []string{"plan-review,", "state:", "not counted", "missing;", "who may give it"} {
				if strings.Contains(b.String(), en) {
					t.Errorf("the Chinese status still says %q", en)
				}
			}
		}
	}
}

// TestI18nGate: the gate in Chinese and English, as text and Markdown: what
// the change touches, the approvals it records and whether they count, and
// why no gate is needed when none is.
func TestI18nGate(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, r *gitrepotest.Repo)
	}{
		{"stale", func(t *testing.T, r *gitrepotest.Repo) {
			approvePlan43(t, r)
			r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 临时加一个步骤。")
			addGoLive(r)
			r.Commit("edit plan after approval", who("wangfang"))
		}},
		{"no-gate", func(t *testing.T, r *gitrepotest.Repo) {
			r.Edit(rel43+"/plan.yaml", "purpose: ", "purpose: 补充说明。")
			r.Commit("edit plan", who("wangfang"))
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
		}},
		{"rejected", func(t *testing.T, r *gitrepotest.Repo) {
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "zhangwei")
			approve(t, r, "REL-2026-0043", "plan-review", "--as", "maxiaodong", "--reject", "--comment", "回退时间点不对")
			addGoLive(r)
			r.Commit("go-live plan", who("wangfang"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := prRepo(t, nil)
			tc.change(t, r)
			rep := gateOf(t, r)
			// Validation findings are validate's words (and language), not the gate's.
			rep.Findings = nil
			for _, l := range i18n.Langs {
				var text, md bytes.Buffer
				if err := present.WriteGateTextIn(&text, l, rep); err != nil {
					t.Fatal(err)
				}
				if err := present.WriteGateMarkdownIn(&md, l, rep); err != nil {
					t.Fatal(err)
				}
				golden(t, "testdata/i18n/gate-"+tc.name+"."+string(l)+".txt", normalIDs(text.String()))
				golden(t, "testdata/i18n/gate-"+tc.name+"."+string(l)+".md", normalIDs(md.String()))
			}
		})
	}
}

func gateOf(t *testing.T, r *gitrepotest.Repo) *evaluate.GateReport {
	t.Helper()
	g, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	prefix, err := g.Prefix(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	base, err := g.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	head, err := g.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := engine.EvaluateChange(g, prefix, base, head, engine.ChangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
