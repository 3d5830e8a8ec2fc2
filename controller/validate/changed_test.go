package validate_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/validate"
)

// TestChangedMatchesFull: for each kind of change on a generated
// repository, validating the change gives exactly the findings a full
// validation gives the files in its scope, and the scope holds what the
// change involves (the finding the change causes is among them).
func TestChangedMatchesFull(t *testing.T) {
	gitrepotest.Isolate(t)
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := gen.Generate(dir, gen.Options{Releases: 40, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	base := git("rev-parse", "HEAD")
	// Pick what the cases change from the generated documents.
	snap := loadAt(t, dir, base)
	var citer, cited, updater, updated string
	for _, id := range snap.ReleaseIDs() {
		rel := snap.Releases[id].Release
		for _, c := range rel.Changes {
			if _, ok := snap.Changes()[c.ID]; ok && !c.External && cited == "" {
				citer, cited = id, c.ID
			}
		}
		for _, it := range rel.Items {
			if it.Action == "update" && updated == "" {
				updater, updated = id, it.ID
			}
		}
	}
	if cited == "" || updated == "" {
		t.Fatal("the generated repository has no cited change request or updated item")
	}
	some := snap.ReleaseIDs()[3]
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	owner := snap.Releases[some].Release.People.Owner
	for _, tc := range []struct {
		name string
		edit func()
		// want is a finding the change causes: file and part of its message.
		wantFile, wantMsg string
		all               bool
	}{
		{"a release's owner is no person of the policy", func() {
			p := document.ReleaseDir(some) + "/release.yaml"
			write(p, strings.Replace(read(p), "owner: "+owner, "owner: nobody-here", 1))
		}, document.ReleaseDir(some) + "/release.yaml", "nobody-here is not a person", false},
		{"a change request a release cites is deleted", func() {
			os.Remove(filepath.Join(dir, document.ChangePath(cited)))
		}, document.ReleaseDir(citer) + "/release.yaml", "change " + cited + " does not exist", false},
		{"a configuration item a release updates is deleted", func() {
			os.Remove(filepath.Join(dir, document.CMDBPath(updated)))
		}, document.ReleaseDir(updater) + "/release.yaml", "configuration item " + updated + " does not exist", false},
		{"a configuration item is added under another item's id", func() {
			write(document.CMDBPath("zz-new-item"), strings.Replace(read(document.CMDBPath(updated)), "owner:", "owner: nobody-here\n#", 1))
		}, document.CMDBPath("zz-new-item"), "does not match the file name", false},
		{"a new release folder copied from another, with a misplaced file", func() {
			src := document.ReleaseDir(some)
			dst := document.ReleaseDir("REL-2030-0001")
			entries, _ := os.ReadDir(filepath.Join(dir, src))
			for _, e := range entries {
				if !e.IsDir() {
					write(dst+"/"+e.Name(), read(src+"/"+e.Name()))
				}
			}
			write(dst+"/notes/extra.yaml", "a: b\n")
		}, document.ReleaseDir("REL-2030-0001") + "/release.yaml", "does not match the folder", false},
		{"an approval of a release is broken", func() {
			write(document.ReleaseDir(some)+"/approvals/plan-review.nobody.yaml", "apiVersion: relgate.dev/v1\nkind: Approval\n")
		}, document.ReleaseDir(some) + "/approvals/plan-review.nobody.yaml", "", false},
		{"a misplaced policy file and a new change request", func() {
			write("relgate.yml", "a: b\n")
			write(document.ChangePath("CHG-2030-0001"), strings.Replace(read(document.ChangePath(cited)), "id: "+cited, "id: CHG-2030-0002", 1))
		}, document.ChangePath("CHG-2030-0001"), "does not match the file name", false},
		{"the policy changes", func() {
			write(document.PolicyPath, read(document.PolicyPath)+"\n# a comment\n")
		}, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			git("checkout", "-q", "-f", "-B", "case", base)
			git("clean", "-qfdx")
			tc.edit()
			git("add", "-A")
			git("commit", "-qm", tc.name)
			head := git("rev-parse", "HEAD")
			r, err := gitrepo.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			bh, _ := r.Resolve(base)
			hh, _ := r.Resolve(head)
			mb, err := r.MergeBase(hh, bh)
			if err != nil || mb != bh {
				t.Fatalf("merge base %s, %v; want %s", mb, err, bh)
			}
			changed, err := r.ChangedPaths(mb, hh, "")
			if err != nil {
				t.Fatal(err)
			}
			ht, _ := r.TreeAt(hh, "")
			bt, _ := r.TreeAt(mb, "")
			got, scope, err := validate.Changed(ht, bt, changed, loader.Options{})
			if err != nil {
				t.Fatal(err)
			}
			full, err := validate.Check(loadAt(t, dir, head))
			if err != nil {
				t.Fatal(err)
			}
			var want []finding.Finding
			for _, f := range full {
				if scope.Covers(f.File) {
					want = append(want, f)
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("--changed findings differ from the full run's in its scope (-full +changed):\n%s", d)
			}
			if scope.All != tc.all {
				t.Errorf("scope.All = %v, want %v", scope.All, tc.all)
			}
			for _, p := range changed {
				if !scope.Covers(p) {
					t.Errorf("the changed file %s is outside the scope", p)
				}
			}
			if tc.wantFile != "" && !hasFinding(got, tc.wantFile, tc.wantMsg) {
				t.Errorf("no finding at %s saying %q in %v", tc.wantFile, tc.wantMsg, got)
			}
			if !tc.all && len(scope.Releases) > 5 {
				t.Errorf("the scope reads %d releases of 40: %v", len(scope.Releases), scope.Releases)
			}
		})
	}
}

func hasFinding(fs []finding.Finding, file, msg string) bool {
	for _, f := range fs {
		if f.File == file && strings.Contains(f.Message, msg) && f.Severity == finding.Error {
			return true
		}
	}
	return false
}

func loadAt(t *testing.T, dir, rev string) *loader.Snapshot {
	t.Helper()
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	h, err := r.Resolve(rev)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := r.TreeAt(h, "")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}
