package gen

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/validate"
)

// runGit runs the git CLI in dir, isolated from the machine's configuration.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	home := t.TempDir()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func generate(t testing.TB, opts Options) *Result {
	t.Helper()
	res, err := Generate(filepath.Join(t.TempDir(), "repo"), opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return res
}

func TestGenerate(t *testing.T) {
	opts := Options{Releases: 50, Commits: 120, Seed: 7}
	res := generate(t, opts)
	dir := res.Dir

	runGit(t, dir, "fsck", "--strict", "--no-dangling")
	if got := strings.Count(runGit(t, dir, "log", "--oneline"), "\n"); got != res.Commits {
		t.Errorf("git log shows %d commits, Result.Commits is %d", got, res.Commits)
	}
	if res.Commits < opts.Commits*9/10 || res.Commits > opts.Commits*11/10 {
		t.Errorf("%d commits, want about %d", res.Commits, opts.Commits)
	}
	if st := runGit(t, dir, "status", "--porcelain"); st != "" {
		t.Errorf("work tree differs from HEAD:\n%s", st)
	}
	if head := strings.TrimSpace(runGit(t, dir, "rev-parse", "HEAD")); head != res.Head.String() {
		t.Errorf("HEAD is %s, Result.Head %s", head, res.Head)
	}
	if ref := strings.TrimSpace(runGit(t, dir, "symbolic-ref", "HEAD")); ref != string(Branch) {
		t.Errorf("HEAD points at %s, want %s", ref, Branch)
	}
	tracked := strings.Fields(runGit(t, dir, "ls-files"))
	if len(tracked) != len(res.Files) {
		t.Errorf("%d files tracked, Result.Files has %d", len(tracked), len(res.Files))
	}
	if len(res.ReleaseIDs) != opts.Releases {
		t.Errorf("%d releases, want %d", len(res.ReleaseIDs), opts.Releases)
	}

	// Every commit but the merges changes one to three files, except the
	// CMDB inventory.
	log := runGit(t, dir, "log", "--no-merges", "--format=@%H %s", "--name-only")
	commits := strings.Split(log, "@")[1:]
	if want := res.Commits - res.Merges; len(commits) != want {
		t.Errorf("%d commits that are not merges, want %d", len(commits), want)
	}
	for _, c := range commits {
		head, body, _ := strings.Cut(c, "\n")
		files := strings.Fields(body)
		if !strings.Contains(head, "CMDB: the inventory") && (len(files) < 1 || len(files) > 3) {
			t.Errorf("commit %s changes %d files", head, len(files))
		}
	}

	checkDocuments(t, dir, res.Files)
}

// checkDocuments decodes every file strictly into its document type and
// checks what the generator promises: headers, quoted versions, time stamps,
// and references that resolve.
func checkDocuments(t *testing.T, dir string, files []string) {
	t.Helper()
	docs := map[string]any{}
	quoted := regexp.MustCompile(`^\s*-?\s*version: "[0-9]+\.[0-9]+\.[0-9]+"$`)
	for _, p := range files {
		if strings.HasPrefix(p, document.ReportsDir+"/") {
			continue // written by the bot; not documents
		}
		loc, ok := document.Locate(p)
		if !ok || loc.Kind == "" {
			t.Errorf("%s: not a relgate document path", p)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		v := loader.New(loc.Kind)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s: decode as %s: %v", p, loc.Kind, err)
			continue
		}
		var h document.Header
		if err := yaml.Unmarshal(data, &h); err != nil || h.APIVersion != document.APIVersion || h.Kind != loc.Kind {
			t.Errorf("%s: header %+v, want %s %s", p, h, document.APIVersion, loc.Kind)
		}
		if !bytes.HasPrefix(data, []byte("apiVersion: "+document.APIVersion+"\nkind: "+string(loc.Kind)+"\n")) {
			t.Errorf("%s: does not start with apiVersion and kind", p)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "version:") && !strings.Contains(line, "apiVersion") && !quoted.MatchString(line) {
				t.Errorf("%s:%d: version not a quoted string: %s", p, i+1, line)
			}
		}
		checkTimes(t, p, data)
		docs[p] = v
	}

	pol := docs[document.PolicyPath].(*document.Policy)
	people := map[string]bool{}
	for _, pp := range pol.People {
		people[pp.Login] = true
	}
	holds := func(login, role string) bool {
		for _, l := range pol.Roles[role] {
			if l == login {
				return true
			}
		}
		return false
	}
	depts := map[string]bool{}
	for _, d := range pol.Departments {
		depts[d.ID] = true
		if !people[d.Head] {
			t.Errorf("department %s: head %s is not a person", d.ID, d.Head)
		}
	}
	if len(pol.People) != 20 || len(pol.Departments) != 4 || !pol.TrustCommitAuthor {
		t.Errorf("policy: %d people, %d departments, trustCommitAuthor %v", len(pol.People), len(pol.Departments), pol.TrustCommitAuthor)
	}
	for role, logins := range pol.Roles {
		for _, l := range logins {
			if !people[l] {
				t.Errorf("role %s: %s is not a person", role, l)
			}
		}
	}
	exists := func(p string) bool {
		_, ok := docs[p]
		return ok || slices.Contains(files, p)
	}
	var complete, rolledBack int
	for p, v := range docs {
		switch d := v.(type) {
		case *document.CMDBItem:
			if !people[d.Owner] {
				t.Errorf("%s: owner %s is not a person", p, d.Owner)
			}
			last := d.History[len(d.History)-1]
			for i := len(d.History) - 1; i >= 0; i-- {
				if d.History[i].Action != "restore" {
					last = d.History[i]
					break
				}
			}
			if last.Version != d.Version || last.Digest != d.Digest {
				t.Errorf("%s: version %s is not the last one its history records (%s)", p, d.Version, last.Version)
			}
		case *document.Release:
			dir := document.ReleaseDir(d.ID)
			if p != dir+"/release.yaml" {
				t.Errorf("%s: id %s", p, d.ID)
			}
			for _, it := range d.Items {
				if !exists(document.CMDBPath(it.ID)) {
					t.Errorf("%s: item %s not in cmdb/", p, it.ID)
				}
			}
			for _, c := range d.Changes {
				if !c.External && !exists(document.ChangePath(c.ID)) {
					t.Errorf("%s: change %s not in changes/", p, c.ID)
				}
			}
			for _, dep := range d.Departments {
				if !depts[dep] {
					t.Errorf("%s: department %s not in the policy", p, dep)
				}
			}
			rp := d.People
			if !holds(rp.Owner, "release-owner") || !holds(rp.Manager, "release-manager") ||
				!holds(rp.CustomerRepresentative, "customer-representative") {
				t.Errorf("%s: people do not hold their roles: %+v", p, rp)
			}
			if !exists(dir + "/plan.yaml") {
				t.Errorf("%s: no plan", dir)
			}
			if dep, ok := docs[dir+"/deployment.yaml"].(*document.Deployment); ok {
				complete++
				tr, _ := docs[dir+"/test-report.yaml"].(*document.TestReport)
				if tr == nil || !exists(dir+"/golive.yaml") {
					t.Errorf("%s: deployed without a test report or go-live plan", dir)
				} else if fmt.Sprint(tr.Artifacts) != fmt.Sprint(dep.Deployed) {
					t.Errorf("%s: deployed %v, tested %v", dir, dep.Deployed, tr.Artifacts)
				}
				if !exists(dir+"/communication.yaml") || !exists(gate.ReportPath(d.ID)) {
					t.Errorf("%s: deployed without a communication record or a release report", dir)
				}
				if !holds(dep.RecordedBy, "implementer") {
					t.Errorf("%s: recordedBy %s is not an implementer", dir, dep.RecordedBy)
				}
				if dep.Outcome == document.OutcomeRolledBack {
					rolledBack++
					if dep.Rollback == nil || !dep.Rollback.Executed {
						t.Errorf("%s: rolled back without a rollback record", dir)
					}
				}
			}
		case *document.Plan:
			for _, s := range d.Steps {
				if !people[s.Owner] {
					t.Errorf("%s: step owner %s is not a person", p, s.Owner)
				}
			}
		case *document.TestReport:
			if !holds(d.Author, "release-tester") {
				t.Errorf("%s: author %s is not a tester", p, d.Author)
			}
		}
	}
	if complete == 0 {
		t.Errorf("%d complete releases", complete)
	}
	t.Logf("%d files, %d releases deployed, %d rolled back", len(files), complete, rolledBack)
}

var stampRE = regexp.MustCompile(`"(\d{4}-\d\d-\d\dT[^"]*)"`)

// checkTimes checks that every time stamp is RFC 3339 in +08:00.
func checkTimes(t *testing.T, p string, data []byte) {
	for _, m := range stampRE.FindAllSubmatch(data, -1) {
		ts, err := time.Parse(time.RFC3339, string(m[1]))
		if err != nil || !strings.HasSuffix(string(m[1]), "+08:00") {
			t.Errorf("%s: time %s is not RFC 3339 in +08:00", p, m[1])
		}
		_ = ts
	}
}

// TestCommitTimes checks that commit times never go backwards and that each
// document's times come before the commit that adds it.
func TestCommitTimes(t *testing.T) {
	res := generate(t, Options{Releases: 30, Commits: 80, Seed: 3})
	var prev int64
	for _, line := range strings.Fields(runGit(t, res.Dir, "log", "--reverse", "--format=%at")) {
		at, _ := strconv.ParseInt(line, 10, 64)
		if at < prev {
			t.Fatalf("commit time %d before its parent's %d", at, prev)
		}
		prev = at
	}
	for _, id := range res.ReleaseIDs {
		p := document.ReleaseDir(id) + "/release.yaml"
		out := runGit(t, res.Dir, "log", "--diff-filter=A", "--format=%aI", "--", p)
		added, err := time.Parse(time.RFC3339, strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("%s: commit time %q: %v", p, out, err)
		}
		data, _ := os.ReadFile(filepath.Join(res.Dir, p))
		var rel document.Release
		if err := yaml.Unmarshal(data, &rel); err != nil {
			t.Fatal(err)
		}
		created, _ := time.Parse(time.RFC3339, rel.CreatedAt)
		if created.After(added) {
			t.Errorf("%s: created %s after the commit that adds it (%s)", p, created, added)
		}
	}
}

// TestValid runs relgate's own validation on the work tree: the generated
// repository has no error, only the warning that trustCommitAuthor is on.
func TestValid(t *testing.T) {
	res := generate(t, Options{Releases: 60, Commits: 150, Seed: 5})
	snap, err := loader.LoadAll(source.Dir{Root: res.Dir}, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := validate.Check(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Severity == finding.Error || f.Rule != "unauthenticated" {
			t.Errorf("%s:%d: %s: %s", f.File, f.Line, f.Severity, f.Message)
		}
	}
}

func TestDeterministic(t *testing.T) {
	opts := Options{Releases: 40, Commits: 100, Seed: 42}
	a, b := generate(t, opts), generate(t, opts)
	if a.Head != b.Head {
		t.Errorf("same seed, heads %s and %s", a.Head, b.Head)
	}
	opts.Seed = 43
	if c := generate(t, opts); c.Head == a.Head {
		t.Errorf("seeds 42 and 43 give the same head %s", c.Head)
	}
}

// TestCommitBudget checks that the history length follows Options.Commits,
// from the fewest commits a lawful history of the releases can have (every
// release opened, nothing more) to many plan revisions, and that the budget
// decides how far releases get.
func TestCommitBudget(t *testing.T) {
	deployed := -1
	for _, c := range []struct{ releases, commits, min, max int }{
		{20, 10, 24, 30},    // fewer than opening every release takes: as few as possible
		{20, 60, 57, 63},    // about three a release
		{20, 400, 390, 410}, // more than the lifecycles take: plan revisions
	} {
		res := generate(t, Options{Releases: c.releases, Commits: c.commits, Seed: 1})
		if res.Commits < c.min || res.Commits > c.max {
			t.Errorf("releases %d, commits %d: got %d commits, want %d to %d", c.releases, c.commits, res.Commits, c.min, c.max)
		}
		if res.Deployed < deployed || c.commits == 400 && res.Deployed <= deployed {
			t.Errorf("releases %d, commits %d: %d deployed, fewer than with fewer commits (%d)", c.releases, c.commits, res.Deployed, deployed)
		}
		deployed = res.Deployed
	}
	// Without a budget every release gets as far as the fate drawn for it.
	res := generate(t, Options{Releases: 40, Seed: 2})
	if res.States["plan-review"] > 10 || res.Deployed < 20 {
		t.Errorf("no budget: states %v, %d deployed; want most releases deployed", res.States, res.Deployed)
	}
}

func TestGenerateRejects(t *testing.T) {
	if _, err := Generate(t.TempDir(), Options{Releases: 0}); err == nil {
		t.Error("0 releases: no error")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir, Options{Releases: 1}); err == nil {
		t.Error("non-empty directory: no error")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		res := generate(b, Options{Releases: 1000, Commits: 2000, Seed: int64(i)})
		b.ReportMetric(float64(res.Commits), "commits")
	}
}
