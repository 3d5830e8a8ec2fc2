package gitrepotest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// StallingRemote is a loopback git smart-HTTP server that advertises a
// branch and then, for a fetch or a push, streams side-band progress
// messages without end: the remote a deadline must stop.
type StallingRemote struct {
	*httptest.Server
	// Streams counts the requests that began streaming; Ended those whose
	// client went away.
	Streams, Ended atomic.Int32
}

// NewStallingRemote starts a stalling remote whose refs/heads/main is at tip
// (a commit id the client has, for a push; any id, for a fetch).
func NewStallingRemote(t testing.TB, tip string) *StallingRemote {
	s := &StallingRemote{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		service := r.URL.Query().Get("service")
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs"):
			caps := "multi_ack_detailed side-band-64k ofs-delta no-progress"
			if service == "git-receive-pack" {
				caps = "report-status side-band-64k delete-refs ofs-delta"
			}
			w.Header().Set("Content-Type", "application/x-"+service+"-advertisement")
			fmt.Fprint(w, pkt("# service="+service+"\n")+"0000")
			fmt.Fprint(w, pkt(tip+" refs/heads/main\x00"+caps+"\n")+"0000")
		case r.Method == http.MethodPost:
			svc := strings.TrimPrefix(r.URL.Path[strings.LastIndex(r.URL.Path, "/"):], "/")
			w.Header().Set("Content-Type", "application/x-"+svc+"-result")
			if svc == "git-upload-pack" {
				fmt.Fprint(w, pkt("NAK\n"))
			}
			s.Streams.Add(1)
			for i := 0; ; i++ {
				if _, err := fmt.Fprint(w, pkt(fmt.Sprintf("\x02Counting objects: %d\r", i))); err != nil {
					s.Ended.Add(1)
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					s.Ended.Add(1)
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }
