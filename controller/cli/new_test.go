package cli_test

import (
	"strings"
	"testing"
)

// TestNewRelease: the templates carry the schema modeline, land where the
// layout says, and validate points at every value left to fill in.
func TestNewRelease(t *testing.T) {
	r := exampleRepo(t)
	code, out, errs := run(t, "new", "release", "REL-2026-0050", "--repo", r.Dir, "--title", "测试发布", "--owner", "zhangwei", "--manager", "wangfang", "--now", "2026-11-25T09:00:00+08:00")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	rel := r.Read("releases/REL-2026-0050/release.yaml")
	if !strings.HasPrefix(rel, "# yaml-language-server: $schema=../../.relgate/schemas/release.schema.json") {
		t.Errorf("no modeline:\n%s", rel)
	}
	r.Read(".relgate/schemas/plan.schema.json")
	code, out, _ = run(t, "validate", r.Dir)
	if code != 1 {
		t.Fatalf("a fresh template validates: exit %d", code)
	}
	for _, want := range []string{"releases/REL-2026-0050/plan.yaml:", "rollback.pointInTime", "releases/REL-2026-0050/release.yaml:"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	// A second `new` of the same id never overwrites.
	if code, _, errs := run(t, "new", "release", "REL-2026-0050", "--repo", r.Dir); code != 2 || !strings.Contains(errs, "already exists") {
		t.Errorf("second new: exit %d, %s", code, errs)
	}
	for _, args := range [][]string{{"new", "change", "CHG-2026-0200", "--repo", r.Dir}, {"new", "cmdb-item", "new-item", "--repo", r.Dir}} {
		if code, _, errs := run(t, args...); code != 0 {
			t.Errorf("%v: exit %d %s", args, code, errs)
		}
	}
	if code, _, _ := run(t, "new", "release", "../../etc", "--repo", r.Dir); code != 2 {
		t.Errorf("a path as id: exit %d, want 2", code)
	}
}
