package finding_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/finding"
)

// TestWriteGitHubLimit: GitHub shows ten annotations of a severity per step
// and drops the rest silently; relgate writes ten of each and a notice that
// the job summary has them all, which WriteMarkdown lists.
func TestWriteGitHubLimit(t *testing.T) {
	for _, tc := range []struct {
		errors, warnings, wantErr, wantWarn int
		notice                              bool
	}{
		{errors: 3, warnings: 2, wantErr: 3, wantWarn: 2},
		{errors: 10, warnings: 10, wantErr: 10, wantWarn: 10},
		{errors: 26, warnings: 0, wantErr: 10, notice: true},
		{errors: 1, warnings: 12, wantErr: 1, wantWarn: 10, notice: true},
	} {
		t.Run(fmt.Sprintf("%d errors %d warnings", tc.errors, tc.warnings), func(t *testing.T) {
			var fs []finding.Finding
			for i := 0; i < tc.errors; i++ {
				fs = append(fs, finding.Finding{File: "releases/REL-2026-0042/plan.yaml", Line: i + 1, Severity: finding.Error, Rule: "schema", Field: "purpose", Message: fmt.Sprintf("problem %d | with a pipe", i)})
			}
			for i := 0; i < tc.warnings; i++ {
				fs = append(fs, finding.Finding{File: "relgate.yaml", Severity: finding.Warning, Rule: "policy", Message: fmt.Sprintf("warning %d", i)})
			}
			var gh, md strings.Builder
			if err := finding.WriteGitHub(&gh, fs, "repo"); err != nil {
				t.Fatal(err)
			}
			count := func(prefix string) int {
				n := 0
				for _, l := range strings.Split(gh.String(), "\n") {
					if strings.HasPrefix(l, prefix) {
						n++
					}
				}
				return n
			}
			if got := count("::error "); got != tc.wantErr {
				t.Errorf("%d error annotations, want %d", got, tc.wantErr)
			}
			if got := count("::warning "); got != tc.wantWarn {
				t.Errorf("%d warning annotations, want %d", got, tc.wantWarn)
			}
			if got := strings.Contains(gh.String(), "::notice title=relgate::"); got != tc.notice {
				t.Errorf("notice of the rest: %v, want %v\n%s", got, tc.notice, gh.String())
			}
			if !strings.Contains(gh.String(), "file=repo/releases/REL-2026-0042/plan.yaml,line=1,col=1") && tc.errors > 0 {
				t.Errorf("annotation lacks its file and line:\n%s", gh.String())
			}
			if err := finding.WriteMarkdown(&md, fs, "repo at HEAD"); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(md.String(), "\n| `"); got != len(fs) {
				t.Errorf("summary lists %d findings, want all %d\n%s", got, len(fs), md.String())
			}
			if strings.Contains(md.String(), "problem 0 | with") {
				t.Errorf("a pipe in a message breaks the table:\n%s", md.String())
			}
		})
	}
}
