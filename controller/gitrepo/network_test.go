package gitrepo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/config"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/remote"
)

// TestNetDeadline: a remote that streams side-band progress for ever is
// stopped at the deadline, for a fetch and for a push, with an error that
// says so.
func TestNetDeadline(t *testing.T) {
	tr := gitrepotest.New(t)
	tr.Write("a.yaml", "a: 1\n")
	old := tr.Commit("one", gitrepotest.Person{Name: "t", Email: "t@example.cn"})
	tr.Write("a.yaml", "a: 2\n")
	tip := tr.Commit("two", gitrepotest.Person{Name: "t", Email: "t@example.cn"})
	r, err := gitrepo.Open(tr.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		name string
		run  func(url string) error
	}{
		{"fetch", func(url string) error {
			return r.Fetch(context.Background(), gitrepo.Net{URL: url, Timeout: 300 * time.Millisecond},
				[]config.RefSpec{"+refs/heads/main:refs/remotes/stall/main"})
		}},
		{"push", func(url string) error {
			return r.Push(context.Background(), gitrepo.Net{URL: url, Timeout: 300 * time.Millisecond}, tip, old, "refs/heads/main")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// For a fetch, the remote's tip must be new to us.
			adv := old
			if tc.name == "fetch" {
				adv = strings.Repeat("ab", 20)
			}
			srv := gitrepotest.NewStallingRemote(t, adv)
			done := make(chan error, 1)
			go func() { done <- tc.run(srv.URL + "/r.git") }()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatal("still running a minute after a 300ms deadline")
			}
			if !errors.Is(err, gitrepo.ErrDeadline) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stopped after 300ms") {
				t.Fatalf("err = %v", err)
			}
			if srv.Streams.Load() != 1 {
				t.Errorf("the remote streamed %d times, want 1 (the deadline must cover the stream)", srv.Streams.Load())
			}
		})
	}
}

// TestNetRefusesBeforeConnecting: a remote off the allow-list is refused
// with no connection made.
func TestNetRefusesBeforeConnecting(t *testing.T) {
	tr := gitrepotest.New(t)
	r, err := gitrepo.Open(tr.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, url := range []string{"file://" + t.TempDir(), "ext::sh -c true", "http://192.0.2.1/r.git", "-oProxyCommand=x"} {
		err := r.Fetch(context.Background(), gitrepo.Net{URL: url}, []config.RefSpec{"+refs/heads/main:refs/x"})
		if !errors.Is(err, remote.ErrRefused) {
			t.Errorf("fetch %q: %v", url, err)
		}
		if err := r.Push(context.Background(), gitrepo.Net{URL: url}, strings.Repeat("1", 40), strings.Repeat("2", 40), "refs/heads/main"); !errors.Is(err, remote.ErrRefused) {
			t.Errorf("push %q: %v", url, err)
		}
	}
}

// TestRemoteMessagesBounded: a remote that talks without end keeps the last
// lines only, each cut short, without control characters or progress.
func TestRemoteMessagesBounded(t *testing.T) {
	var m gitrepo.RemoteMessages
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&m, "Counting objects: %d%%\r", i%100)
	}
	fmt.Fprintf(&m, "remote: line \x1b[31mred\x1b[0m %s\n", strings.Repeat("x", 5000))
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&m, "hook says %d\n", i)
	}
	fmt.Fprint(&m, "Resolving deltas: 100% (3/3), done.\n")
	fmt.Fprint(&m, "GH006: Protected branch update failed for refs/heads/main.")
	lines := m.Lines()
	if len(lines) != 20 || lines[19] != "GH006: Protected branch update failed for refs/heads/main." || lines[0] != "hook says 81" {
		t.Fatalf("lines = %q", lines)
	}
	var long gitrepo.RemoteMessages
	fmt.Fprintf(&long, "remote: a \x1b[31mred\x1b[0m %s\n", strings.Repeat("x", 5000))
	got := long.Lines()
	if len(got) != 1 || len(got[0]) > 300 || strings.ContainsRune(got[0], '\x1b') || !strings.HasPrefix(got[0], "a [31mred") {
		t.Errorf("long line = %q", got)
	}
}
