package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/webhook"
)

// Hostile senders (issue 11): bodies with a wrong signature, bodies that
// trickle in, and the form-encoded deliveries a repository webhook sends by
// default.

const serverProcessEnv = "RELGATE_HOSTILE_SERVER"

// TestHostileServerProcess is the server of TestHostileBadSignatureMemory,
// run in a process of its own so that its peak memory is the server's
// alone: it prints its URL and serves until its standard input closes.
func TestHostileServerProcess(t *testing.T) {
	if os.Getenv(serverProcessEnv) == "" {
		t.Skip("the server side of TestHostileBadSignatureMemory")
	}
	e := newEnv(t, envOptions{checkRuns: true})
	fmt.Printf("URL %s\n", e.url)
	io.Copy(io.Discard, os.Stdin)
}

// serverProcess starts the test binary as a server and returns its URL and pid.
func serverProcess(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileServerProcess$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), serverProcessEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Error("the server process did not stop within 15s")
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
			go io.Copy(io.Discard, stdout)
			return u, cmd.Process.Pid
		}
	}
	t.Fatalf("the server process did not start:\n%s", stderr.String())
	return "", 0
}

// raceDetector reports whether the test binary was built with -race.
func raceDetector() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// vmHWMOf reads a process's peak resident memory in bytes.
func vmHWMOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

func post(t *testing.T, client *http.Client, u, event, id, contentType string, body []byte, sig string) (int, http.Header, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u+"/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", sig)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}

func formEncoded(json []byte) []byte { return []byte(url.Values{"payload": {string(json)}}.Encode()) }

// padded is a real push to main grown to about size bytes, as a push with
// many commits is.
func padded(t *testing.T, size int) []byte {
	return payload(t, "push.json", func(m map[string]any) {
		m["ref"] = "refs/heads/main"
		m["padding"] = strings.Repeat("x", size)
	})
}

// TestHostileBadSignatureMemory: 20 parallel 24 MiB bodies with a
// well-formed but wrong signature made the server hold them all before
// checking (peak 770-900 MB). The HMAC is now streamed and such bodies
// spool to disk, so the server process stays under 200 MiB, answers a small
// valid delivery meanwhile, and still accepts a valid 24 MiB one, JSON or
// form-encoded.
func TestHostileBadSignatureMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 500 MB over loopback")
	}
	if raceDetector() {
		t.Skip("under the race detector the peak memory is the detector's, not the server's")
	}
	u, pid := serverProcess(t)
	before := vmHWMOf(t, pid)
	big := padded(t, 24<<20)
	zeros := "sha256=" + strings.Repeat("0", 64)
	client := &http.Client{Timeout: 2 * time.Minute}
	var wg sync.WaitGroup
	codes := make([]int, 20)
	errs := make([]error, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, errs[i] = post(t, client, u, "push", fmt.Sprintf("bad-%d", i), "application/json", big, zeros)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	ping := payload(t, "ping.json", nil)
	if code, _, err := post(t, client, u, "ping", "ping-during", "application/json", ping, webhook.Sign(testSecret, ping)); err != nil || code != http.StatusOK {
		t.Errorf("a valid ping during the attack: %d %v, want 200", code, err)
	}
	wg.Wait()
	refused := map[int]int{}
	for i, c := range codes {
		switch {
		case errs[i] != nil:
			refused[-1]++ // the server may close on a refused body before it is all sent
		case c == http.StatusUnauthorized || c == http.StatusServiceUnavailable:
			refused[c]++
		default:
			t.Errorf("bad signature %d: %d, want 401 or 503", i, c)
		}
	}
	if refused[http.StatusUnauthorized] == 0 {
		t.Errorf("no bad body was read to its end and refused for its signature: %v", refused)
	}
	attack := vmHWMOf(t, pid)
	for _, tc := range []struct{ how, contentType string }{{"JSON", "application/json"}, {"form", "application/x-www-form-urlencoded"}} {
		b := big
		if tc.contentType != "application/json" {
			b = formEncoded(big)
		}
		code, _, err := post(t, client, u, "push", "valid-big-"+tc.how, tc.contentType, b, webhook.Sign(testSecret, b))
		if err != nil || code != http.StatusAccepted {
			t.Errorf("a valid %d MiB %s push: %d %v, want 202", len(b)>>20, tc.how, code, err)
		}
	}
	after := vmHWMOf(t, pid)
	t.Logf("server VmHWM: %.1f MiB at start, %.1f MiB after 20 parallel 24 MiB bad-signature bodies (%v refused by code; -1 = connection closed), %.1f MiB after valid 24 MiB JSON and form pushes",
		float64(before)/(1<<20), float64(attack)/(1<<20), refused, float64(after)/(1<<20))
	if attack > 200<<20 {
		t.Errorf("peak RSS %d MiB during the bad-signature attack, want under 200 MiB", attack>>20)
	}
}

// slowConn opens a raw connection, sends head at once and then the body a
// byte a second; it reports when the server cut it and what it answered.
func slowConn(t *testing.T, addr, head string, bodyLen int, cut chan<- string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		line, _ := bufio.NewReader(c).ReadString('\n')
		cut <- strings.TrimSpace(line)
	}()
	go func() {
		for i := 0; i < len(head); i++ {
			if _, err := c.Write([]byte{head[i]}); err != nil {
				return
			}
			if bodyLen == 0 {
				time.Sleep(time.Second) // the headers trickle too
			}
		}
		for i := 0; i < bodyLen; i++ {
			time.Sleep(time.Second)
			if _, err := c.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}()
	return c
}

// TestHostileSlowSenders: 16 connections sending their body a byte a second
// held every read slot, and a valid ping waited 28 s. Bodies are now
// admitted by bytes, so the ping is answered at once (under 1 s, a
// correctness bound); the trickling bodies are cut by the rate floor with
// 408, and connections trickling their headers by ReadHeaderTimeout.
func TestHostileSlowSenders(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	addr := strings.TrimPrefix(e.url, "http://")
	const bodies, headers = 16, 4
	cut := make(chan string, bodies+headers)
	for i := 0; i < bodies; i++ {
		head := fmt.Sprintf("POST /webhook HTTP/1.1\r\nHost: %s\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: slow-%d\r\n"+
			"X-Hub-Signature-256: sha256=%s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", addr, i, strings.Repeat("0", 64))
		slowConn(t, addr, head, 1000, cut)
	}
	for i := 0; i < headers; i++ {
		slowConn(t, addr, "POST /webhook HTTP/1.1\r\nHost: "+addr+"\r\nX-GitHub-Event: ping\r\n", 0, cut)
	}
	time.Sleep(200 * time.Millisecond) // every slow body is being read
	ping := payload(t, "ping.json", nil)
	t0 := time.Now()
	code, _, err := post(t, http.DefaultClient, e.url, "ping", "ping-while-slow", "application/json", ping, webhook.Sign(testSecret, ping))
	took := time.Since(t0)
	if err != nil || code != http.StatusOK {
		t.Fatalf("valid ping among slow senders: %d %v", code, err)
	}
	if took > time.Second {
		t.Errorf("valid ping among %d slow senders answered after %s, want under 1s", bodies, took)
	}
	answers := map[string]int{}
	deadline := time.After(30 * time.Second)
	for i := 0; i < bodies+headers; i++ {
		select {
		case a := <-cut:
			answers[a]++
		case <-deadline:
			t.Fatalf("after 30s only %d of %d slow connections were cut: %v", i, bodies+headers, answers)
		}
	}
	allCut := time.Since(t0)
	if n := answers["HTTP/1.1 408 Request Timeout"]; n != bodies {
		t.Errorf("answers to the slow connections %v, want %d × 408", answers, bodies)
	}
	t.Logf("ping answered in %s among %d slow bodies and %d slow headers; all slow connections cut %s after it, answered %v",
		took.Round(time.Microsecond), bodies, headers, allCut.Round(time.Millisecond), answers)
}

// TestHostileFormDelivery: a repository webhook's default content type is
// application/x-www-form-urlencoded (payload=<url-encoded JSON>); GitHub
// signs the form as sent. Such a delivery is evaluated like its JSON twin,
// and one signed over the JSON inside is refused.
func TestHostileFormDelivery(t *testing.T) {
	e := newEnv(t, envOptions{checkRuns: true})
	head := e.openPR(3, "wangfang", addGoLive)
	js := prEvent(t, "opened", 3, head)
	form := formEncoded(js)
	const ct = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name string
		sig  string
		want int
	}{
		{"attack: signature over the JSON, not the form sent", webhook.Sign(testSecret, js), http.StatusUnauthorized},
		{"form-encoded, signed as sent", webhook.Sign(testSecret, form), http.StatusAccepted},
	} {
		code, _, err := post(t, http.DefaultClient, e.url, "pull_request", "form-"+strconv.Itoa(tc.want), ct, form, tc.sig)
		if err != nil || code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, err, tc.want)
		}
	}
	if cr := e.checkRun(head); cr.Conclusion == "" {
		t.Errorf("no conclusion on the form-encoded pull request: %+v", cr)
	}
}

// TestHostileSpoolFull: eleven senders that send 23 MiB of a 24 MiB body
// and stop hold the spool (each up to the body timeout). A further large
// body gets 503 with Retry-After at once rather than a wait without bound,
// and a small valid delivery is still answered.
func TestHostileSpoolFull(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 250 MB of spool")
	}
	e := newEnv(t, envOptions{checkRuns: true})
	addr := strings.TrimPrefix(e.url, "http://")
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	var conns []net.Conn
	for i := 0; i < 11; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /webhook HTTP/1.1\r\nHost: %s\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: hold-%d\r\n"+
			"X-Hub-Signature-256: sha256=%s\r\nContent-Length: %d\r\n\r\n", addr, i, strings.Repeat("0", 64), 24<<20)
		for j := 0; j < 23; j++ {
			if _, err := c.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	big := padded(t, 24<<20)
	var code int
	var hdr http.Header
	e.eventually("the spool to fill", func() bool {
		var err error
		code, hdr, err = post(t, http.DefaultClient, e.url, "push", "big-"+strconv.Itoa(int(e.seq.Add(1))), "", big, webhook.Sign(testSecret, big))
		return err == nil && code == http.StatusServiceUnavailable
	})
	if hdr.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", hdr)
	}
	ping := payload(t, "ping.json", nil)
	if code, _, err := post(t, http.DefaultClient, e.url, "ping", "ping-spool-full", "", ping, webhook.Sign(testSecret, ping)); err != nil || code != http.StatusOK {
		t.Errorf("a small valid delivery while the spool is full: %d %v", code, err)
	}
}
