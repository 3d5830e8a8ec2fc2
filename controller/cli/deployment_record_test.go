package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/present"
)

// TestDeploymentRecordRewritten: a pull request rewrites a confirmed
// deployment record so that it no longer says what happened, and the release
// manager and the customer representative confirm it again. No confirmation
// makes such a record right: the gate blocks the change with the check's
// message and clause, and the release is not confirmed at head (R-3.1,
// The assertions hold whether or not the confirmations count.
func TestDeploymentRecordRewritten(t *testing.T) {
	const (
		rel41 = "releases/REL-2026-0041"
		rel42 = "releases/REL-2026-0042"
		oms   = "  - item: oms-workflow\n    version: \"2.8.0\"\n    digest: sha256:e92d19c84617aa08828dfc2dbf42b90d3319aedf2e774d60586c62f42a5b9e1c\n"
	)
	tests := []struct {
		name       string
		release    string
		confirmers []string // release manager, customer representative
		edit       func(r *gitrepotest.Repo)
		check      string
		clause     string
		want       string // in the check's message and the text output
	}{
		{name: "attack R-5.1.8: succeeded with only one of the release's two items",
			release: "REL-2026-0041", confirmers: []string{"wangfang", "tangjing"},
			edit:  func(r *gitrepotest.Repo) { r.Edit(rel41+"/deployment.yaml", oms, "") },
			check: "deployed-complete", clause: "R-5.1.8, R-3.1",
			want: "outcome succeeded but deployed does not list oms-workflow 2.8.0"},
		{name: "attack R-5.1.8: succeeded with nothing deployed",
			release: "REL-2026-0041", confirmers: []string{"wangfang", "tangjing"},
			edit: func(r *gitrepotest.Repo) {
				d := r.Read(rel41 + "/deployment.yaml")
				start, end := strings.Index(d, "deployed:\n"), strings.Index(d, "problems:\n")
				r.Write(rel41+"/deployment.yaml", d[:start]+"deployed: []\n"+d[end:])
			},
			check: "deployed-complete", clause: "R-5.1.8, R-3.1",
			want: "outcome succeeded but deployed is empty"},
		{name: "attack R-3.1: rolled back after deploying an untested 9.9.9 with a wrong digest",
			release: "REL-2026-0042", confirmers: []string{"lina", "huangli"},
			edit: func(r *gitrepotest.Repo) {
				r.Edit(rel42+"/deployment.yaml",
					"    version: \"5.7.0\"\n    digest: sha256:9ea24af1be33fbbf6a5fdee7eb2121bb2d0bfb690f399c6faadf382206f5502d",
					"    version: \"9.9.9\"\n    digest: sha256:"+strings.Repeat("9", 64))
			},
			check: "deployed-as-tested", clause: "R-3.1",
			want: "marketing-app-server 9.9.9 (tested: 5.7.0)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := prRepo(t, nil)
			tc.edit(r)
			r.Commit("rewrite the deployment record", who("sunlei"))
			if code, out, errs := run(t, "validate", r.Dir); code != 0 {
				t.Fatalf("the rewritten record must be schema-valid for the attack to matter: exit %d\n%s%s", code, out, errs)
			}
			for _, p := range tc.confirmers {
				approve(t, r, tc.release, "deployment-confirmation", "--as", p)
			}

			// The record is judged as soon as it is written, whether or not
			// the confirmations count: the report names the check's message
			// and clause as a problem of the release, and the gate, when the
			// change requires it, fails that check.
			code, rep, text := gate(t, r)
			wantBlocked(t, code, text, tc.want, "("+tc.clause+")")
			problem := tc.release + "/deployment.yaml: "
			var named bool
			for _, rg := range rep.Releases {
				if rg.Release != tc.release {
					continue
				}
				for _, p := range rg.Problems {
					named = named || strings.Contains(p, problem) && strings.Contains(p, tc.want) && strings.HasSuffix(p, "("+tc.clause+")")
				}
				for _, g := range rg.Gates {
					for _, c := range g.Checks {
						if g.Gate == "deployment-confirmation" && c.Name == tc.check && (c.OK || c.Clause != tc.clause || !strings.Contains(c.Message, tc.want)) {
							t.Errorf("check %s: ok %v, clause %q, message %q; want failed, clause %q, message with %q", c.Name, c.OK, c.Clause, c.Message, tc.clause, tc.want)
						}
					}
				}
			}
			if !named {
				t.Errorf("no problem of %s names %q with clause %s:\n%s", tc.release, tc.want, tc.clause, text)
			}

			code, js, errs := run(t, "status", tc.release, r.Dir, "--format", "json")
			if code != 0 {
				t.Fatalf("status: exit %d: %s", code, errs)
			}
			var st present.StatusReport
			if err := json.Unmarshal([]byte(js), &st); err != nil || len(st.Releases) != 1 {
				t.Fatalf("status: %v\n%s", err, js)
			}
			if s := st.Releases[0].State; s == "confirmed" || s == "closed" {
				t.Errorf("status shows %s as %s after the record was rewritten", tc.release, s)
			}
		})
	}
}
