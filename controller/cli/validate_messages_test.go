package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/finding"
)

// fiveProblems is an approval with five different mistakes: a YAML anchor
// (used once), a duplicate key, a time without its offset, a misspelt field
// and a value that is not one of the allowed ones.
const fiveProblems = `apiVersion: relgate.dev/v1
kind: Approval
release: REL-2026-0041
gate: test-acceptance
person: &who tangjing
role: customer-representative
role: customer-representative
decision: aprove
digest: sha256:ab949a3bc91f9468dc923495ecdbcf52821b70dbbe51caeb4759e05b990234b8
at: "2026-10-15T16:00:00"
coment: *who
`

// TestValidateFiveProblemsOneRun: every problem of a file in one run (issue
// 12): YAML, schema and date problems together, each once, in the policy's
// language, compared with testdata/messages/five.<lang>.golden.
func TestValidateFiveProblemsOneRun(t *testing.T) {
	// The language comes from the policy here, not from the machine's locale.
	t.Setenv("LANG", "")
	t.Setenv("LC_ALL", "")
	const file = "releases/REL-2026-0041/approvals/test-acceptance.tangjing.yaml"
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(examples)); err != nil {
				t.Fatal(err)
			}
			pol := filepath.Join(dir, "relgate.yaml")
			data, err := os.ReadFile(pol)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), "\nlanguage: zh\n", "\nlanguage: "+lang+"\n", 1))
			if err := os.WriteFile(pol, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, file), []byte(fiveProblems), 0o644); err != nil {
				t.Fatal(err)
			}

			code, out, errs := run(t, "validate", dir, "--format", "json")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
			}
			var rep finding.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				if f.File == file {
					got = append(got, f.String())
				}
			}
			if len(got) != 5 {
				t.Errorf("%d findings for %s in one run, want 5:\n%s", len(got), file, strings.Join(got, "\n"))
			}
			golden := filepath.Join("testdata", "messages", "five."+lang+".golden")
			text := strings.Join(got, "\n") + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), text); diff != "" {
				t.Errorf("findings differ from %s (-want +got; -update rewrites):\n%s", golden, diff)
			}
		})
	}
}
