package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
)

// TestStatusSeededDigests (issue 13): status evaluates each release with the
// content ids the loader read (no second read and hash of the work tree), so
// on a generated repository with a lawful history the output must be the
// same with the decode cache cold and warm, text and JSON, and every gate's
// digest must equal the digest computed from the work tree itself.
func TestStatusSeededDigests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := gen.Generate(dir, gen.Options{Releases: 40, Commits: 120, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	// An uncommitted edit: the work tree's content, not HEAD's, is judged.
	edited := ""
	matches, _ := filepath.Glob(filepath.Join(dir, "releases", "*", "plan.yaml"))
	if len(matches) > 0 {
		edited = matches[0]
		data, err := os.ReadFile(edited)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(edited, append(data, "# edited\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Main(append([]string{"status", "--repo", dir, "--now", "2027-01-01T00:00:00Z"}, args...), &out, &errb); code != 0 && code != 1 {
			t.Fatalf("status %v exited %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	cache := filepath.Join(dir, ".git", "relgate", "decode-cache")
	os.Remove(cache)
	coldText := run()
	os.Remove(cache)
	coldJSON := run("--format", "json")
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no decode cache was written: %v", err)
	}
	if warm := run(); warm != coldText {
		t.Errorf("status text differs warm and cold:\ncold:\n%s\nwarm:\n%s", coldText, warm)
	}
	if warm := run("--format", "json"); warm != coldJSON {
		t.Errorf("status json differs warm and cold")
	}

	tree := source.Dir{Root: dir}
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := openHistory(dir, tree)
	if err != nil {
		t.Fatal(err)
	}
	defer gh.close()
	pol, _, err := gh.policy(snap)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range snap.ReleaseIDs() {
		st, err := evaluate.Release(pol, snap, id, evaluate.Options{Provenance: gh.prov})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range st.Gates {
			pg, ok := pol.Gate(g.Gate)
			if !ok || pg.Repository {
				continue
			}
			want, _, err := evaluate.Digest(tree, id, pg) // read and hashed from disk
			if err != nil {
				t.Fatal(err)
			}
			if g.Digest != "" && g.Digest != want {
				t.Errorf("%s gate %s: digest %s, the work tree's is %s", id, g.Gate, g.Digest, want)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no gate digest was compared")
	}
}
