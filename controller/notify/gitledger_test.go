package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/notify/notifytest"
)

// glClock is a clock the test moves.
type glClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *glClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *glClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func glGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// glRemote makes a bare release repository whose protected branch main holds
// one commit, and returns its path and main's commit.
func glRemote(t *testing.T) (string, string) {
	t.Helper()
	gitrepotest.Isolate(t)
	root := t.TempDir()
	bare := filepath.Join(root, "release.git")
	glGit(t, root, "init", "-q", "--bare", "-b", "main", bare)
	work := filepath.Join(root, "work")
	glGit(t, root, "init", "-q", "-b", "main", work)
	if err := os.WriteFile(filepath.Join(work, "relgate.yaml"), []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	glGit(t, work, "add", ".")
	glGit(t, work, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "policy")
	glGit(t, work, "push", "-q", bare, "main")
	return bare, glGit(t, bare, "rev-parse", "main")
}

func glNew(t *testing.T, remote, owner string, clock *glClock, edit ...func(*GitLedgerOptions)) *GitLedger {
	t.Helper()
	o := GitLedgerOptions{
		Remote: remote, Dir: filepath.Join(t.TempDir(), "mirror"), Owner: owner, Protected: []string{"main"},
		Author: gitrepo.Author{Name: "relgate", Email: "relgate@example.com"}, Clock: clock.Now, Timeout: 20 * time.Second,
	}
	for _, e := range edit {
		e(&o)
	}
	l, err := NewGitLedger(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func glStart() *glClock {
	return &glClock{now: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
}

// The lawful flow, step by step over two replicas: a claim is exclusive, a
// sent notice is never claimed again, an abandoned claim is free again, and
// a replica cannot give back another's claim.
func TestGitLedgerRoundTrip(t *testing.T) {
	remote, _ := glRemote(t)
	clock := glStart()
	ls := map[string]*GitLedger{"a": glNew(t, remote, "replica-a", clock), "b": glNew(t, remote, "replica-b", clock)}
	steps := []struct {
		who, op, key string
		want         bool // for claim
	}{
		{"a", "claim", "REL-1/approval-missing/2026-11-26", true},
		{"b", "claim", "REL-1/approval-missing/2026-11-26", false}, // held by a
		{"a", "claim", "REL-1/approval-missing/2026-11-26", false}, // held, by a itself: no second send
		{"b", "abandon", "REL-1/approval-missing/2026-11-26", false},
		{"b", "claim", "REL-1/approval-missing/2026-11-26", false}, // b could not give back a's claim
		{"a", "sent", "REL-1/approval-missing/2026-11-26", false},
		{"b", "claim", "REL-1/approval-missing/2026-11-26", false}, // sent
		{"a", "abandon", "REL-1/approval-missing/2026-11-26", false},
		{"a", "claim", "REL-1/approval-missing/2026-11-26", false}, // still sent: abandon does not unsend
		{"b", "claim", "window-starting/W-7 中文", true},
		{"b", "abandon", "window-starting/W-7 中文", false},
		{"a", "claim", "window-starting/W-7 中文", true}, // abandoned: free again
		{"a", "sent", "window-starting/W-7 中文", false},
		{"b", "sent", "window-starting/W-7 中文", false}, // sent twice: recorded once
	}
	ctx := context.Background()
	for i, s := range steps {
		l := ls[s.who]
		var err error
		switch s.op {
		case "claim":
			var got bool
			got, err = l.Claim(ctx, s.key, time.Hour)
			if err == nil && got != s.want {
				t.Fatalf("step %d: %s claims %q = %v, want %v", i, s.who, s.key, got, s.want)
			}
		case "sent":
			err = l.Sent(ctx, s.key)
		case "abandon":
			err = l.Abandon(ctx, s.key)
		}
		if err != nil {
			t.Fatalf("step %d: %s %s %q: %v", i, s.who, s.op, s.key, err)
		}
		clock.Add(time.Minute)
	}
	// What an admin reads with git: one file per notice, its state, and one
	// commit per change (no commit for the steps that changed nothing).
	show := glGit(t, remote, "show", "relgate/notices:"+glPath("window-starting/W-7 中文"))
	for _, want := range []string{"key: window-starting/W-7 中文", "state: sent", "owner: replica-a", "at: \"2026-11-26T09:12:00Z\""} {
		if !strings.Contains(show, want) {
			t.Errorf("the entry lacks %q:\n%s", want, show)
		}
	}
	log := strings.Split(glGit(t, remote, "log", "--format=%s", "relgate/notices"), "\n")
	wantLog := []string{
		"notices: replica-a sent 1", "notices: replica-a claims 1", "notices: replica-b gives back a claim", "notices: replica-b claims 1",
		"notices: replica-a sent 1", "notices: replica-a claims 1",
	}
	if d := cmp.Diff(wantLog, log); d != "" {
		t.Errorf("git log relgate/notices (-want +got):\n%s", d)
	}
}

// A restart on a fresh disk (a new container) sees what was sent and what is
// claimed: nothing is sent twice.
func TestGitLedgerRestartSeesTheRemote(t *testing.T) {
	remote, _ := glRemote(t)
	clock := glStart()
	ctx := context.Background()
	a := glNew(t, remote, "replica-a", clock)
	won, err := a.ClaimAll(ctx, []string{"k1", "k2", "k3"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]bool{"k1": true, "k2": true, "k3": true}, won); d != "" {
		t.Fatalf("ClaimAll (-want +got):\n%s", d)
	}
	if err := a.SentAll(ctx, []string{"k1", "k2"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	clock.Add(2 * time.Hour) // k3's claim has expired: the crashed replica never sent it
	again := glNew(t, remote, "replica-a", clock)
	won, err = again.ClaimAll(ctx, []string{"k1", "k2", "k3", "k4"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]bool{"k1": false, "k2": false, "k3": true, "k4": true}, won); d != "" {
		t.Errorf("after a restart on a fresh mirror (-want +got):\n%s", d)
	}
}

// Two replicas on two mirrors race for the same 50 notices: each is won
// exactly once, claimed one by one or in batches.
func TestGitLedgerRaceEachKeyWonOnce(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			remote, _ := glRemote(t)
			clock := glStart()
			more := func(o *GitLedgerOptions) { o.MaxAttempts = 200 }
			ls := []*GitLedger{glNew(t, remote, "replica-a", clock, more), glNew(t, remote, "replica-b", clock, more)}
			var keys []string
			for i := range 50 {
				keys = append(keys, fmt.Sprintf("REL-%d/reminder", i))
			}
			var mu sync.Mutex
			wins := map[string][]string{}
			var errs []error
			var wg sync.WaitGroup
			record := func(owner string, won map[string]bool, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				for k, ok := range won {
					if ok {
						wins[k] = append(wins[k], owner)
					}
				}
			}
			for _, l := range ls {
				if batch {
					for _, part := range [][]string{keys[:25], keys[25:], keys[10:40]} {
						wg.Go(func() {
							won, err := l.ClaimAll(context.Background(), part, time.Hour)
							record(l.o.Owner, won, err)
						})
					}
					continue
				}
				for _, k := range keys {
					wg.Go(func() {
						ok, err := l.Claim(context.Background(), k, time.Hour)
						record(l.o.Owner, map[string]bool{k: ok}, err)
					})
				}
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("%d claims failed, the first: %v", len(errs), errs[0])
			}
			for _, k := range keys {
				if len(wins[k]) != 1 {
					t.Errorf("%s won by %v, want exactly one replica", k, wins[k])
				}
			}
			glGit(t, remote, "fsck", "--strict", "--no-dangling")
		})
	}
}

// An expired claim (a replica that died while sending) can be taken over;
// an unexpired one cannot; the old holder can no longer give it back.
func TestGitLedgerLease(t *testing.T) {
	remote, _ := glRemote(t)
	clock := glStart()
	ctx := context.Background()
	a, b := glNew(t, remote, "replica-a", clock), glNew(t, remote, "replica-b", clock)
	if ok, err := a.Claim(ctx, "k", 10*time.Minute); err != nil || !ok {
		t.Fatalf("a claims: %v, %v", ok, err)
	}
	cases := []struct {
		after time.Duration
		want  bool
	}{
		{time.Minute, false},
		{9*time.Minute - time.Second, false}, // 1 s before the lease ends
		{time.Second, true},                  // at leaseUntil: expired
	}
	for _, c := range cases {
		clock.Add(c.after)
		got, err := b.Claim(ctx, "k", 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Fatalf("b claims at %s = %v, want %v", clock.Now().Format(time.TimeOnly), got, c.want)
		}
	}
	if err := a.Abandon(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Claim(ctx, "k", time.Minute); err != nil || got {
		t.Fatalf("a's abandon after the takeover freed b's claim: %v, %v", got, err)
	}
	if got := glGit(t, remote, "show", "relgate/notices:"+glPath("k")); !strings.Contains(got, "owner: replica-b") {
		t.Errorf("the entry after the takeover:\n%s", got)
	}
}

// A remote that cannot be reached, stalls, or refuses is never a claim, and
// its errors never show the credentials.
func TestGitLedgerUnreachableIsNoClaim(t *testing.T) {
	gitrepotest.Isolate(t)
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers nothing until the client gives up
	}))
	defer stall.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	// Advertises only main, then streams progress without end on a push.
	streaming := gitrepotest.NewStallingRemote(t, strings.Repeat("1", 40))
	withUser := func(u string) string { return strings.Replace(u, "http://", "http://x-token:s3cr3t-token@", 1) }
	cases := []struct {
		name, remote string
		auth         func(context.Context) (transport.AuthMethod, error)
	}{
		{"no such path", filepath.Join(t.TempDir(), "missing.git"), nil},
		{"silent server", withUser(stall.URL) + "/r.git", nil},
		{"server error", withUser(broken.URL) + "/r.git", nil},
		{"push streams without end", streaming.URL + "/r.git", func(context.Context) (transport.AuthMethod, error) {
			return &githttp.BasicAuth{Username: "x", Password: "s3cr3t-token"}, nil
		}},
		{"no credentials", withUser(broken.URL) + "/r.git", func(context.Context) (transport.AuthMethod, error) {
			return nil, errors.New("token endpoint down")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := glNew(t, c.remote, "replica-a", glStart(), func(o *GitLedgerOptions) {
				o.Timeout = 300 * time.Millisecond
				o.Auth = c.auth
			})
			ok, err := l.Claim(context.Background(), "k", time.Hour)
			if err == nil || ok {
				t.Fatalf("Claim = %v, %v; want false and an error", ok, err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error shows the credentials: %v", err)
			}
			won, err := l.ClaimAll(context.Background(), []string{"k", "j"}, time.Hour)
			if err == nil || won["k"] || won["j"] {
				t.Errorf("ClaimAll = %v, %v; want nothing won and an error", won, err)
			}
		})
	}
}

// The ledger never is, and never touches, the protected branch.
func TestGitLedgerProtectedBranch(t *testing.T) {
	remote, mainTip := glRemote(t)
	clock := glStart()
	for _, branch := range []string{"main", "refs/heads/main"} {
		_, err := NewGitLedger(GitLedgerOptions{Remote: remote, Dir: t.TempDir(), Owner: "a", Branch: strings.TrimPrefix(branch, "refs/heads/"),
			Protected: []string{branch}, Author: gitrepo.Author{Name: "r", Email: "r@example.com"}})
		if err == nil || !strings.Contains(err.Error(), "protected") {
			t.Errorf("a ledger on %s: %v, want a refusal", branch, err)
		}
	}
	for _, bad := range []string{"-x", "a..b", "a b", "notices.lock/x"} {
		if _, err := NewGitLedger(GitLedgerOptions{Remote: remote, Dir: t.TempDir(), Owner: "a", Branch: bad,
			Author: gitrepo.Author{Name: "r", Email: "r@example.com"}}); err == nil {
			t.Errorf("branch %q accepted", bad)
		}
	}
	l := glNew(t, remote, "replica-a", clock)
	ctx := context.Background()
	if _, err := l.ClaimAll(ctx, []string{"a", "b"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := l.Sent(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := l.Abandon(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got := glGit(t, remote, "rev-parse", "main"); got != mainTip {
		t.Errorf("main moved from %s to %s", mainTip, got)
	}
	refs := glGit(t, remote, "for-each-ref", "--format=%(refname)")
	if d := cmp.Diff("refs/heads/main\nrefs/heads/relgate/notices", refs); d != "" {
		t.Errorf("the remote's refs (-want +got):\n%s", d)
	}
	// The ledger's branch shares no history with main.
	if out, err := exec.Command("git", "-C", remote, "merge-base", "main", "relgate/notices").CombinedOutput(); err == nil {
		t.Errorf("relgate/notices shares history with main: %s", out)
	}
}

// The remote stays a repository git itself reads: fsck is clean, the log
// and the files are readable, the README explains the branch.
func TestGitLedgerGitInterop(t *testing.T) {
	remote, _ := glRemote(t)
	clock := glStart()
	l := glNew(t, remote, "replica-a", clock)
	ctx := context.Background()
	for i := range 5 {
		k := fmt.Sprintf("k%d", i)
		if ok, err := l.Claim(ctx, k, time.Hour); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", k, ok, err)
		}
		if err := l.Sent(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Abandon(ctx, "k0"); err != nil { // sent: nothing to remove
		t.Fatal(err)
	}
	glGit(t, remote, "fsck", "--strict", "--no-dangling")
	if n := glGit(t, remote, "rev-list", "--count", "relgate/notices"); n != "10" {
		t.Errorf("%s commits on relgate/notices, want 10", n)
	}
	files := strings.Split(glGit(t, remote, "ls-tree", "-r", "--name-only", "relgate/notices"), "\n")
	if len(files) != 6 || files[0] != "README.md" || !strings.HasPrefix(files[1], "notices/") {
		t.Errorf("files on relgate/notices: %v", files)
	}
	body := glGit(t, remote, "log", "-1", "--format=%an <%ae>%n%B", "relgate/notices")
	if !strings.Contains(body, "relgate <relgate@example.com>") || !strings.Contains(body, "通知台账：replica-a 已发送 1 条") {
		t.Errorf("the last commit:\n%s", body)
	}
}

// An entry that cannot be read (edited by hand, or forged on the branch) is
// an error, never a free key.
func TestGitLedgerUnreadableEntryIsNoClaim(t *testing.T) {
	cases := []struct{ name, content, wantErr string }{
		{"not yaml", "key: [\n", "yaml"},
		{"unknown state", "key: k\nstate: maybe\nowner: x\nat: \"2026-11-26T09:00:00Z\"\n", "field state"},
		{"another key", "key: other\nstate: sent\nowner: x\nat: \"2026-11-26T09:00:00Z\"\n", "field key"},
		{"bad time", "key: k\nstate: claimed\nowner: x\nat: \"2026-11-26T09:00:00Z\"\nleaseUntil: tomorrow\n", "field leaseUntil"},
		{"unknown field", "key: k\nstate: sent\nowner: x\nat: \"2026-11-26T09:00:00Z\"\nsent: false\n", "sent"},
		{"too large", "key: k\n#" + strings.Repeat("x", maxLedgerEntry) + "\n", "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			remote, _ := glRemote(t)
			clock := glStart()
			l := glNew(t, remote, "replica-a", clock)
			ctx := context.Background()
			if ok, err := l.Claim(ctx, "seed", time.Hour); err != nil || !ok {
				t.Fatal(ok, err)
			}
			// A person edits the ledger's branch with git.
			work := filepath.Join(t.TempDir(), "w")
			glGit(t, filepath.Dir(work), "clone", "-q", "-b", "relgate/notices", remote, work)
			p := filepath.Join(work, filepath.FromSlash(glPath("k")))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			glGit(t, work, "add", ".")
			glGit(t, work, "-c", "user.name=P", "-c", "user.email=p@example.com", "commit", "-q", "-m", "edit")
			glGit(t, work, "push", "-q", "origin", "relgate/notices")
			ok, err := l.Claim(ctx, "k", time.Hour)
			if err == nil || ok {
				t.Fatalf("Claim = %v, %v; want false and an error", ok, err)
			}
			if !strings.Contains(err.Error(), glPath("k")) || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("the error names neither the file nor %q: %v", c.wantErr, err)
			}
			// Other keys are not held up by it.
			if ok, err := l.Claim(ctx, "fine", time.Hour); err != nil || !ok {
				t.Errorf("another key: %v %v", ok, err)
			}
		})
	}
}

// Entries past the retention leave the branch in a commit the ledger makes
// anyway, or by Prune; younger ones and unreadable ones stay.
func TestGitLedgerPrune(t *testing.T) {
	remote, _ := glRemote(t)
	clock := glStart()
	ctx := context.Background()
	l := glNew(t, remote, "replica-a", clock)
	if _, err := l.ClaimAll(ctx, []string{"old-sent", "old-claim"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := l.Sent(ctx, "old-sent"); err != nil {
		t.Fatal(err)
	}
	clock.Add(60 * 24 * time.Hour)
	if err := l.SentAll(ctx, []string{"young"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(31 * 24 * time.Hour) // old-* are 91 days old, young 31
	if ok, err := l.Claim(ctx, "new", time.Hour); err != nil || !ok {
		t.Fatal(ok, err)
	}
	got := glGit(t, remote, "ls-tree", "-r", "--name-only", "relgate/notices")
	want := strings.Join([]string{"README.md", glPath("new"), glPath("young")}, "\n")
	if glPath("new") > glPath("young") {
		want = strings.Join([]string{"README.md", glPath("young"), glPath("new")}, "\n")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("after 91 days (-want +got):\n%s", d)
	}
	if n := glGit(t, remote, "rev-list", "--count", "relgate/notices"); n != "4" {
		t.Errorf("%s commits, want 4: the pruning rode on the claim's commit", n)
	}
	// A pruned key may be claimed again: the retention is the ledger's memory.
	if ok, err := l.Claim(ctx, "old-sent", time.Hour); err != nil || !ok {
		t.Errorf("a key pruned after the retention: %v %v", ok, err)
	}
	clock.Add(100 * 24 * time.Hour)
	n, err := l.Prune(ctx)
	if err != nil || n != 3 {
		t.Errorf("Prune = %d, %v; want 3", n, err)
	}
	if got := glGit(t, remote, "ls-tree", "-r", "--name-only", "relgate/notices"); got != "README.md" {
		t.Errorf("after Prune: %s", got)
	}
	glGit(t, remote, "fsck", "--strict", "--no-dangling")
}

// Options a ledger cannot work with are refused before anything connects.
func TestGitLedgerOptionsRefused(t *testing.T) {
	remote, _ := glRemote(t)
	inRepo := t.TempDir()
	glGit(t, inRepo, "init", "-q")
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "notes.txt"), []byte("x"), 0o644)
	ok := GitLedgerOptions{Remote: remote, Dir: filepath.Join(t.TempDir(), "m"), Owner: "a", Author: gitrepo.Author{Name: "r", Email: "r@example.com"}}
	cases := []struct {
		name string
		edit func(*GitLedgerOptions)
		want string
	}{
		{"ext transport", func(o *GitLedgerOptions) { o.Remote = "ext::sh -c touch% /tmp/pwned" }, "transport helper"},
		{"file url", func(o *GitLedgerOptions) { o.Remote = "file://" + remote }, "file://"},
		{"no owner", func(o *GitLedgerOptions) { o.Owner = "" }, "owner"},
		{"owner with newline", func(o *GitLedgerOptions) { o.Owner = "a\nstate: sent" }, "owner"},
		{"no author", func(o *GitLedgerOptions) { o.Author.Email = "" }, "author"},
		{"work tree as mirror", func(o *GitLedgerOptions) { o.Dir = inRepo }, "work tree"},
		{"folder with files", func(o *GitLedgerOptions) { o.Dir = full }, "not a bare repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			_, err := NewGitLedger(o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewGitLedger: %v, want an error about %q", err, c.want)
			}
		})
	}
	l, err := NewGitLedger(ok)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, k := range []string{"", strings.Repeat("k", MaxNoticeKeyLen+1), "a\x00b", "\xff"} {
		if got, err := l.Claim(context.Background(), k, time.Hour); err == nil || got {
			t.Errorf("key %q: %v %v, want an error", k, got, err)
		}
	}
	if _, err := l.Claim(context.Background(), "k", 0); err == nil {
		t.Error("a zero lease accepted")
	}
	if _, err := l.ClaimAll(context.Background(), make([]string, MaxClaimBatch+1), time.Hour); err == nil {
		t.Error("an oversized batch accepted")
	}
}

// glHistory gives the remote's ledger branch n commits of one entry each
// (written by git fast-import, as a year of notices would leave it).
func glHistory(b *testing.B, remote string, n int) {
	b.Helper()
	var in strings.Builder
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fmt.Fprintf(&in, "blob\nmark :1\ndata %d\n%s", len(glReadme), glReadme)
	for i := range n {
		key := fmt.Sprintf("history/%d", i)
		body := fmt.Sprintf("key: %s\nstate: sent\nowner: old\nat: \"%s\"\n", key, at.Format(time.RFC3339))
		msg := "notices: old sent 1\n"
		fmt.Fprintf(&in, "commit refs/heads/relgate/notices\ncommitter r <r@example.com> %d +0000\ndata %d\n%s", at.Unix()+int64(i), len(msg), msg)
		if i == 0 {
			in.WriteString("M 100644 :1 README.md\n")
		}
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", glPath(key), len(body), body)
	}
	cmd := exec.Command("git", "-C", remote, "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v\n%s", err, out)
	}
}

// BenchmarkGitLedgerClaim is one Claim (a fetch and a push) on a local
// remote whose ledger branch holds the given history; the batch case claims
// 50 keys in one call.
func BenchmarkGitLedgerClaim(b *testing.B) {
	for _, c := range []struct {
		history, batch, compact int
	}{{0, 1, 0}, {5000, 1, 0}, {20000, 1, 0}, {5000, 50, 0}, {20000, 1, 1}} {
		b.Run(fmt.Sprintf("history=%d/batch=%d/compactEvery=%d", c.history, c.batch, c.compact), func(b *testing.B) {
			gitrepotest.Isolate(b)
			root := b.TempDir()
			remote := filepath.Join(root, "r.git")
			if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", remote).CombinedOutput(); err != nil {
				b.Fatalf("%v %s", err, out)
			}
			if c.history > 0 {
				glHistory(b, remote, c.history)
			}
			clock := glStart()
			l, err := NewGitLedger(GitLedgerOptions{Remote: remote, Dir: filepath.Join(root, "m"), Owner: "a", Clock: clock.Now, CompactEvery: c.compact,
				Author: gitrepo.Author{Name: "r", Email: "r@example.com"}})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			if _, err := l.Claim(ctx, "warm", time.Hour); err != nil { // the first fetch brings the history
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				keys := make([]string, c.batch)
				for j := range keys {
					keys[j] = fmt.Sprintf("k%d-%d", i, j)
				}
				won, err := l.ClaimAll(ctx, keys, time.Hour)
				if err != nil || !won[keys[0]] {
					b.Fatal(won, err)
				}
			}
			b.StopTimer()
			var size int64
			filepath.WalkDir(filepath.Join(root, "m", "objects"), func(p string, d os.DirEntry, err error) error {
				if info, e := d.Info(); err == nil && e == nil && !d.IsDir() {
					size += info.Size()
				}
				return nil
			})
			b.ReportMetric(float64(size)/1e6, "mirror-MB")
		})
	}
}

// Over smart HTTP with credentials: claims work, a push whose answer is lost
// but that landed counts (read back from the remote), wrong credentials are
// an error that does not show them.
func TestGitLedgerOverHTTP(t *testing.T) {
	bare, _ := glRemote(t)
	srv := notifytest.ServeHTTP(t, bare, "x", "s3cr3t-pw")
	url := srv.URL
	clock := glStart()
	auth := func(pw string) func(o *GitLedgerOptions) {
		return func(o *GitLedgerOptions) {
			o.Auth = func(context.Context) (transport.AuthMethod, error) {
				return &githttp.BasicAuth{Username: "x", Password: pw}, nil
			}
		}
	}
	a, b := glNew(t, url, "replica-a", clock, auth("s3cr3t-pw")), glNew(t, url, "replica-b", clock, auth("s3cr3t-pw"))
	ctx := context.Background()
	if ok, err := a.Claim(ctx, "k1", time.Hour); err != nil || !ok {
		t.Fatalf("claim over http: %v %v", ok, err)
	}
	if ok, err := b.Claim(ctx, "k1", time.Hour); err != nil || ok {
		t.Fatalf("b claims a's key over http: %v %v", ok, err)
	}
	srv.LoseAnswers.Store(true)
	if ok, err := b.Claim(ctx, "k2", time.Hour); err != nil || !ok {
		t.Fatalf("a claim whose push landed but whose answer was lost: %v %v", ok, err)
	}
	srv.LoseAnswers.Store(false)
	if ok, err := a.Claim(ctx, "k2", time.Hour); err != nil || ok {
		t.Fatalf("a claims the key b won with a lost answer: %v %v", ok, err)
	}
	wrong := glNew(t, url, "replica-c", clock, auth("wrong-pw"))
	ok, err := wrong.Claim(ctx, "k3", time.Hour)
	if err == nil || ok {
		t.Fatalf("wrong credentials: %v %v", ok, err)
	}
	if strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("the error shows the password: %v", err)
	}
	glGit(t, bare, "fsck", "--strict", "--no-dangling")
}

// A remote that refuses the push (a hook, a branch protection rule) is an
// error carrying what the remote said, never a claim.
func TestGitLedgerRefusedPushIsNoClaim(t *testing.T) {
	bare, _ := glRemote(t)
	hook := filepath.Join(bare, "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/relgate/notices.'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := glNew(t, bare, "replica-a", glStart())
	ok, err := l.Claim(context.Background(), "k", time.Hour)
	if err == nil || ok {
		t.Fatalf("Claim = %v, %v; want false and an error", ok, err)
	}
	if !strings.Contains(err.Error(), "GH006") {
		t.Errorf("the error lacks the remote's words: %v", err)
	}
	if out, err := exec.Command("git", "-C", bare, "rev-parse", "--verify", "-q", "relgate/notices").CombinedOutput(); err == nil {
		t.Errorf("the refused branch exists: %s", out)
	}
}

func glLoose(t testing.TB, dir string) int {
	n := 0
	ds, _ := filepath.Glob(filepath.Join(dir, "objects", "[0-9a-f][0-9a-f]"))
	for _, d := range ds {
		fs, _ := os.ReadDir(d)
		n += len(fs)
	}
	return n
}

// The mirror does not pile up loose objects: every CompactEvery commits it
// is packed, and it still reads and writes afterwards.
func TestGitLedgerMirrorCompacted(t *testing.T) {
	remote, _ := glRemote(t)
	clock := glStart()
	dir := filepath.Join(t.TempDir(), "mirror")
	l := glNew(t, remote, "replica-a", clock, func(o *GitLedgerOptions) { o.Dir, o.CompactEvery = dir, 4 })
	ctx := context.Background()
	for i := range 14 {
		k := fmt.Sprintf("k%d", i)
		if ok, err := l.Claim(ctx, k, time.Hour); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", k, ok, err)
		}
		if got := glLoose(t, dir); got > 4*6 {
			t.Fatalf("after %d commits the mirror holds %d loose objects, want at most %d", i+1, got, 4*6)
		}
	}
	if ok, err := l.Claim(ctx, "k3", time.Hour); err != nil || ok {
		t.Fatalf("a claimed key after packing: %v %v", ok, err)
	}
	glGit(t, dir, "fsck", "--strict", "--no-dangling")
	if packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack")); len(packs) != 1 {
		t.Errorf("%d packs in the mirror, want 1", len(packs))
	}
}
