package cli_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDigestRecomputableWithGit: the digest an approval binds to is what the
// README's recipe computes with git and sha256sum alone.
func TestDigestRecomputableWithGit(t *testing.T) {
	r := exampleRepo(t)
	code, out, errs := run(t, "digest", "REL-2026-0041", "plan-review", r.Dir, "--rev", "HEAD")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recipe := `{ printf 'relgate-digest/v1\nrelease %s\ngate %s\n' REL-2026-0041 plan-review
  git ls-tree HEAD releases/REL-2026-0041/plan.yaml releases/REL-2026-0041/release.yaml |
    awk '{split($4,p,"/"); print $3, p[3]}' | sort -k2; } | sha256sum`
	cmd := exec.Command("sh", "-c", recipe)
	cmd.Dir = r.Dir
	sum, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "sha256:" + strings.Fields(string(sum))[0]
	if strings.TrimSpace(out) != want {
		t.Errorf("relgate digest %s, git recipe %s", strings.TrimSpace(out), want)
	}
	// The approval in the example repository binds to exactly this digest.
	if a := r.Read("releases/REL-2026-0041/approvals/plan-review.zhangwei.yaml"); !strings.Contains(a, "digest: "+want) {
		t.Errorf("example approval does not carry %s", want)
	}
	// And the work tree gives the same digest as the commit.
	if _, wt, _ := run(t, "digest", "REL-2026-0041", "plan-review", r.Dir); wt != out {
		t.Errorf("work tree digest %s, commit digest %s", wt, out)
	}
}
