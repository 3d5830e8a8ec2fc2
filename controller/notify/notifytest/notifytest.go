// Package notifytest serves git repositories for the notice ledger's tests:
// a bare repository over smart HTTP (git http-backend) on loopback, behind
// basic authentication, as a forge's HTTPS remote is.
package notifytest

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// HTTPRemote is a bare repository served over smart HTTP.
type HTTPRemote struct {
	// URL is the repository's address (no credentials in it).
	URL string
	// LoseAnswers, when set, makes the remote drop the answer to every push
	// after the push has landed (a proxy that times out).
	LoseAnswers atomic.Bool
	// Refused counts the requests refused for want of the credentials.
	Refused atomic.Int32
}

// ServeHTTP serves bare (a bare repository; pushes are turned on in its
// config) over smart HTTP on loopback for user and password only; every
// other request gets 401. The server stops when the test ends. Call
// gitrepotest.Isolate first: the backend reads HOME and GIT_CONFIG_GLOBAL.
func ServeHTTP(t testing.TB, bare, user, password string) *HTTPRemote {
	t.Helper()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = bare
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("config", "http.receivepack", "true")
	backend := &cgi.Handler{Path: filepath.Join(git("--exec-path"), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(bare), "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + os.Getenv("HOME"), "GIT_CONFIG_GLOBAL=" + os.Getenv("GIT_CONFIG_GLOBAL")}}
	h := &HTTPRemote{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			h.Refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		if h.LoseAnswers.Load() && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			backend.ServeHTTP(httptest.NewRecorder(), r) // the push lands…
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return // …and its answer is lost
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/" + filepath.Base(bare)
	return h
}
