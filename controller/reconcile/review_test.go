package reconcile_test

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/reconcile"
)

// TestRemoteCredentialsStayOutOfErrors: a remote URL may carry a token, as
// GitHub accepts it (https://TOKEN@github.com/..., or
// https://x-access-token:TOKEN@...). reconcile redacts the URL it prints
// itself, but wraps go-git's error unredacted, and that error repeats the
// request URL: net/http strips only the password, go-git's own redaction
// only the password too, so a token in the user part reaches the error that
// `relgate reconcile` prints and `relgate serve` logs ("work failed").
func TestRemoteCredentialsStayOutOfErrors(t *testing.T) {
	const token = "ghp_S3cretT0kenValue"
	tr := gitrepotest.New(t)
	if err := gen.Replay("../../examples/release-repo", tr.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := gitrepo.Open(tr.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// A git host answering 502 (a proxy in trouble), and one that is down.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()

	for _, host := range []string{srv.Listener.Addr().String(), down} {
		for _, remote := range []string{
			"http://" + token + "@" + host + "/grid-it/releases.git",
			"http://x-access-token:" + token + "@" + host + "/grid-it/releases.git",
		} {
			_, err := reconcile.Run(context.Background(), r, "", reconcile.Options{Push: true, Remote: remote, Branch: "main", MaxAttempts: 1})
			if err == nil {
				t.Fatalf("push to %s: no error", host)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the error shows the token:\n%v", err)
			}
		}
	}
}

// TestReconcileNeverWritesThroughASymlink: regression. A release repository
// whose work tree has reports/ as a link to a folder outside (never
// committed), and one where the link is committed: reconcile writes its
// reports neither through the link on disk nor through it in the tree.
func TestReconcileNeverWritesThroughASymlink(t *testing.T) {
	for _, committed := range []bool{false, true} {
		tr := gitrepotest.New(t)
		tr.CopyDir("../../examples/release-repo")
		outside := t.TempDir()
		if err := os.Symlink(outside, filepath.Join(tr.Dir, "reports")); err != nil {
			t.Fatal(err)
		}
		if !committed {
			tr.Write(".gitignore", "reports\n")
		}
		tr.Commit("init", gitrepotest.Person{Name: "t", Email: "t@example.cn"})
		r, err := gitrepo.Open(tr.Dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = reconcile.Run(context.Background(), r, "", reconcile.Options{Branch: "main"})
		t.Logf("committed link %v: %v", committed, err)
		r.Close()
		if err == nil {
			t.Errorf("committed link %v: reconcile wrote its reports without an error", committed)
		}
		var leaked []string
		filepath.WalkDir(outside, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				leaked = append(leaked, p)
			}
			return nil
		})
		if len(leaked) > 0 {
			t.Errorf("committed link %v: written outside the repository: %v", committed, leaked)
		}
	}
}
