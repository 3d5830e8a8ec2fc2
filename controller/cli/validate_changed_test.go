package cli_test

import (
	"strings"
	"testing"
)

// TestValidateChanged: `validate --changed BASE` reports what a branch
// breaks since it parted from BASE, ignores what is broken only outside
// it, and refuses a BASE that does not resolve.
func TestValidateChanged(t *testing.T) {
	r := exampleRepo(t)
	r.GitCLI("branch", "-f", "base", "HEAD")
	// Broken on the branch: a release cites a change request that is gone.
	r.Checkout("broken", true)
	r.Remove("changes/CHG-2026-0101.yaml")
	r.Commit("drop a change request", gitrepoPerson)
	// Broken on base after the branch parted: not the branch's doing.
	r.Checkout("base", false)
	r.Write("cmdb/zz-junk.yaml", "apiVersion: relgate.dev/v1\nkind: CMDBItem\n")
	r.Commit("junk on base", gitrepoPerson)
	r.Checkout("broken", false)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		want     string // in stdout
		wantErr  string // in stderr
		notInOut string
	}{
		{"the branch's break is found, base's own is not", []string{"validate", "--changed", "base", r.Dir}, 1,
			"change CHG-2026-0101 does not exist", "", "zz-junk"},
		{"json, at --rev", []string{"validate", "--changed", "base", "--rev", "broken", "--format", "json", r.Dir}, 1,
			"CHG-2026-0101", "", "zz-junk"},
		{"no change: valid", []string{"validate", "--changed", "broken", r.Dir}, 0, "valid", "", "CHG-2026-0101"},
		{"a BASE that does not resolve", []string{"validate", "--changed", "origin/nope", r.Dir}, 2,
			"", "--changed origin/nope: not a commit, branch or tag", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("stdout lacks %q:\n%s", tc.want, out)
			}
			if !strings.Contains(errs, tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errs)
			}
			if tc.notInOut != "" && strings.Contains(out, tc.notInOut) {
				t.Errorf("stdout names %q, which the change does not touch:\n%s", tc.notInOut, out)
			}
		})
	}
}
