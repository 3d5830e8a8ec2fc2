package history_test

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/history"
)

var dev = gitrepotest.Person{Name: "dev", Email: "dev@example.cn"}

// build makes a history that touches every kind of path: releases,
// approvals, CMDB items, the policy, reports, deletions, a merge.
func build(t *testing.T, prefix string) (*gitrepotest.Repo, []string) {
	t.Helper()
	r := gitrepotest.New(t)
	p := func(s string) string {
		if prefix == "" {
			return s
		}
		return prefix + "/" + s
	}
	var commits []string
	c := func(msg string) { commits = append(commits, r.Commit(msg, dev)) }
	r.Write("README.md", "outside the release repository\n")
	r.Write(p("relgate.yaml"), "kind: Policy\n")
	for i := 0; i < 160; i++ { // a releases folder large enough for the bulk compare (over 4 KiB)
		r.Write(p("releases/REL-2026-"+pad(i)+"/release.yaml"), "id: "+pad(i)+"\n")
	}
	r.Write(p("cmdb/a.yaml"), "a\n")
	c("root")
	r.Write(p("releases/REL-2026-0150/plan.yaml"), "plan\n")
	c("plan of 150")
	r.Write(p("releases/REL-2026-0000/approvals/plan-review.x.yaml"), "approval\n")
	r.Write(p("releases/REL-2026-0159/release.yaml"), "id: changed\n")
	c("first and last release")
	r.Write(p("relgate.yaml"), "kind: Policy\nchanged: true\n")
	r.Write(p("approvals/policy-change.y.yaml"), "approve\n")
	c("policy")
	r.Write(p("cmdb/b.yaml"), "b\n")
	r.Write(p("reports/releases/REL-2026-0001.md"), "report\n")
	c("cmdb and a report")
	r.Remove(p("releases/REL-2026-0007"))
	c("delete a release")
	r.Write("README.md", "only outside\n")
	c("outside the prefix")
	r.Checkout("pr", true)
	r.Write(p("releases/REL-2026-0300/release.yaml"), "new\n")
	c("new release on a branch")
	r.Checkout("main", false)
	r.Write(p("releases/REL-2026-0042/plan.yaml"), "plan\n")
	c("plan of 42 on main")
	r.GitCLI("-c", "user.name=m", "-c", "user.email=m@example.cn", "merge", "--no-ff", "-q", "-m", "merge pr", "pr")
	commits = append(commits, strings.TrimSpace(r.GitCLI("rev-parse", "HEAD")))
	return r, commits
}

func pad(i int) string {
	s := "000" + itoa(i)
	return s[len(s)-4:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// gitKeys derives a commit's keys from git's own diff against its first parent.
func gitKeys(t *testing.T, r *gitrepotest.Repo, commit, prefix string) []string {
	args := []string{"diff-tree", "-r", "--name-only", "--no-commit-id", "--root", commit}
	if parents := strings.Fields(r.GitCLI("rev-list", "--parents", "-n1", commit))[1:]; len(parents) > 0 {
		args = []string{"diff-tree", "-r", "--name-only", "--no-commit-id", parents[0], commit}
	}
	seen := map[string]bool{}
	for _, f := range strings.Fields(r.GitCLI(args...)) {
		if prefix != "" {
			if !strings.HasPrefix(f, prefix+"/") {
				continue
			}
			f = strings.TrimPrefix(f, prefix+"/")
		}
		parts := strings.Split(f, "/")
		k := parts[0]
		switch parts[0] {
		case "releases", "changes", "cmdb", "reviews", "approvals":
			if len(parts) > 1 {
				k = parts[0] + "/" + parts[1]
			}
		case "reports": // a report per release in one folder: keys one level deeper
			k = strings.Join(parts[:min(len(parts), 3)], "/")
		}
		seen[k] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func open(t *testing.T, r *gitrepotest.Repo, prefix, cache string) (*history.Index, history.Stats, *gitrepo.Repo) {
	t.Helper()
	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	head, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ix, st, err := history.Open(repo, prefix, []plumbing.Hash{head}, history.Options{CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	return ix, st, repo
}

// TestIndexMatchesGit: every commit's keys equal what git diff-tree reports
// against the first parent, at the root and in a subfolder.
func TestIndexMatchesGit(t *testing.T) {
	for _, prefix := range []string{"", "ops/releases-repo"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			r, commits := build(t, prefix)
			ix, st, _ := open(t, r, prefix, "-")
			if st.Scanned != len(commits) || ix.Len() != len(commits) {
				t.Fatalf("scanned %d, indexed %d, want %d", st.Scanned, ix.Len(), len(commits))
			}
			for _, c := range commits {
				got, ok := ix.Lookup(plumbing.NewHash(c))
				if !ok {
					t.Fatalf("commit %s not indexed", c)
				}
				want := gitKeys(t, r, c, prefix)
				if diff := cmp.Diff(want, got.Keys, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })); diff != "" {
					t.Errorf("commit %s keys (-git +index):\n%s", c[:12], diff)
				}
			}
		})
	}
}

// TestIndexFromPacks: the same keys when every object is in a pack with
// deltas (git repack), read by the bulk pack reader.
func TestIndexFromPacks(t *testing.T) {
	defer history.SetBulkForTest(0)()
	r, commits := build(t, "")
	r.GitCLI("repack", "-adq", "--depth=50", "--window=50")
	r.Write("releases/REL-2026-0003/plan.yaml", "a loose object after the pack\n")
	r.GitCLI("add", "-A")
	r.GitCLI("-c", "user.name=dev", "-c", "user.email=dev@example.cn", "commit", "-qm", "loose")
	commits = append(commits, strings.TrimSpace(r.GitCLI("rev-parse", "HEAD")))
	ix, st, _ := open(t, r, "", "-")
	if st.Scanned != len(commits) {
		t.Fatalf("scanned %d, want %d", st.Scanned, len(commits))
	}
	for _, c := range commits {
		got, _ := ix.Lookup(plumbing.NewHash(c))
		if want := gitKeys(t, r, c, ""); strings.Join(want, ",") != strings.Join(got.Keys, ",") {
			t.Errorf("commit %s: index %v, git %v", c[:12], got.Keys, want)
		}
	}
}

func TestIndexQueries(t *testing.T) {
	r, commits := build(t, "")
	ix, _, _ := open(t, r, "", "-")
	head := plumbing.NewHash(commits[len(commits)-1])
	got, err := ix.Touching(head, "releases/REL-2026-0150")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != commits[0] || got[1].String() != commits[1] {
		t.Errorf("touching REL-2026-0150: %v", got)
	}
	// From main before the merge, the branch's commit is not reachable.
	before, err := ix.Touching(plumbing.NewHash(commits[len(commits)-2]), "releases/REL-2026-0300")
	if err != nil || len(before) != 0 {
		t.Errorf("unreachable commit returned: %v %v", before, err)
	}
	after, _ := ix.Touching(head, "releases/REL-2026-0300")
	if len(after) != 2 { // the branch commit and the merge that lands it
		t.Errorf("touching REL-2026-0300 from the merge: %d commits", len(after))
	}
	chain, err := ix.FirstParents(head, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != len(commits)-1 || chain[0].Hash.String() != commits[0] { // the branch commit is off the first-parent chain
		t.Errorf("first-parent chain: %d commits", len(chain))
	}
	since, _ := ix.FirstParents(head, plumbing.NewHash(commits[3]))
	if len(since) != 5 {
		t.Errorf("chain since commit 3: %d commits, want 5", len(since))
	}
}

// TestIndexCache: the cache is extended with new commits only, and rebuilt
// when deleted, corrupt, truncated or lying.
func TestIndexCache(t *testing.T) {
	r, commits := build(t, "")
	cache := filepath.Join(t.TempDir(), "index-v1")
	_, st, _ := open(t, r, "", cache)
	if st.Scanned != len(commits) || st.Rebuilt != "missing" || !st.Saved {
		t.Fatalf("cold: %+v", st)
	}
	_, st, _ = open(t, r, "", cache)
	if st.Scanned != 0 || !st.Loaded || st.Saved {
		t.Fatalf("warm: %+v", st)
	}
	r.Write("releases/REL-2026-0001/plan.yaml", "plan\n")
	c1 := r.Commit("one more", dev)
	r.Write("releases/REL-2026-0002/plan.yaml", "plan\n")
	r.Commit("two more", dev)
	ix, st, _ := open(t, r, "", cache)
	if st.Scanned != 2 || !st.Loaded || st.Total != len(commits)+2 {
		t.Fatalf("incremental: %+v", st)
	}
	if got, _ := ix.Touching(plumbing.NewHash(strings.TrimSpace(r.GitCLI("rev-parse", "HEAD"))), "releases/REL-2026-0001"); len(got) != 2 || got[1].String() != c1 {
		t.Errorf("new commit not found: %v", got)
	}
	want := mustRead(t, cache)

	flip := append([]byte(nil), want...)
	flip[len(flip)/2] ^= 0xff
	lying := forge(t, want)
	tests := []struct {
		name    string
		content []byte // nil: delete
		reason  string
	}{
		{"deleted", nil, "missing"},
		{"a flipped byte", flip, "corrupt: checksum mismatch"},
		{"truncated", want[:len(want)/3], "corrupt"},
		{"not an index", []byte("hello"), "corrupt"},
		{"a forged file with a valid checksum", lying, "spot check failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.content == nil {
				os.Remove(cache)
			} else if err := os.WriteFile(cache, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, st, _ := open(t, r, "", cache)
			if !strings.HasPrefix(st.Rebuilt, tc.reason) || st.Loaded || st.Scanned != len(commits)+2 {
				t.Errorf("%+v, want rebuilt %q", st, tc.reason)
			}
			if got := mustRead(t, cache); string(got) != string(want) {
				t.Error("the rebuilt cache differs from the original")
			}
		})
	}
}

// forge rewrites every key name in a cache file (same lengths) and fixes the
// checksum: only the spot check can tell.
func forge(t *testing.T, data []byte) []byte {
	t.Helper()
	body := []byte(strings.ReplaceAll(string(data[:len(data)-32]), "REL-2026-0150", "REL-2026-0151"))
	return append(body, sha(body)...)
}

func sha(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDiffDir(t *testing.T) {
	r, commits := build(t, "")
	_, _, repo := open(t, r, "", "-")
	got, err := history.DiffDir(repo, "", plumbing.NewHash(commits[1]), plumbing.NewHash(commits[2]), "releases/REL-2026-0000")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path != "releases/REL-2026-0000/approvals/plan-review.x.yaml" || !got[0].Old.IsZero() || got[0].New.IsZero() {
		t.Errorf("DiffDir: %+v", got)
	}
	del, err := history.DiffDir(repo, "", plumbing.NewHash(commits[4]), plumbing.NewHash(commits[5]), "releases/REL-2026-0007")
	if err != nil || len(del) != 1 || !del[0].New.IsZero() {
		t.Errorf("deleted release: %+v %v", del, err)
	}
}

// FuzzDecodeCache: a cache file is input like any other; decoding never panics.
func FuzzDecodeCache(f *testing.F) {
	f.Add([]byte("relgate-history-index/v1\n"))
	body := []byte("relgate-history-index/v1\n\x00\x01\x03abc\x01")
	f.Add(append(body, sha(body)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		history.DecodeForTest(data) // must not panic
	})
}
