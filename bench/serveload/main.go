// Command serveload measures `relgate serve` binaries as whole processes on
// loopback, the same way for each: webhook acknowledgement times (p50, p99,
// max) and the server process's peak resident memory (VmHWM) for 500
// deliveries paced over 10 s, the same 500 as a burst from 50 senders, and
// (with -hostile) 20 parallel 24 MiB bodies with a wrong signature. Each
// server gates a replay of the example release repository with a fake
// GitHub, as TestLoad does in-process. It prints a table side by side with
// ratios to the first binary. bench/serve-load.sh builds the binaries.
//
//	serveload [flags] NAME=RELGATE-BINARY...
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/ghapi/ghapitest"
	"github.com/relgate/relgate/controller/webhook"
)

const (
	slug   = "grid-it/releases"
	secret = "bench-webhook-secret"
	rel43  = "releases/REL-2026-0043"
)

type options struct {
	examples, payloads string
	deliveries         int
	over               time.Duration
	senders            int
	hostile            bool
	keep               bool
}

func main() {
	var o options
	flag.StringVar(&o.examples, "examples", "examples/release-repo", "the example release repository to replay")
	flag.StringVar(&o.payloads, "payloads", "controller/webhook/testdata", "folder of real GitHub payloads")
	flag.IntVar(&o.deliveries, "deliveries", 500, "deliveries per phase")
	flag.DurationVar(&o.over, "over", 10*time.Second, "time the paced phase spreads its deliveries over")
	flag.IntVar(&o.senders, "senders", 50, "parallel senders in the burst")
	flag.BoolVar(&o.hostile, "hostile", true, "also send 20 parallel 24 MiB bodies with a wrong signature (last: VmHWM only grows)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder and the server logs")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: serveload [flags] NAME=RELGATE-BINARY...")
		os.Exit(2)
	}
	var names []string
	results := map[string]result{}
	for _, arg := range flag.Args() {
		name, bin, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "serveload: %q is not NAME=BINARY\n", arg)
			os.Exit(2)
		}
		r, err := measure(o, name, bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "serveload: %s: %v\n", name, err)
			os.Exit(1)
		}
		names = append(names, name)
		results[name] = r
	}
	printTable(os.Stdout, names, results)
}

// result is one binary's figures, in the order printed.
type result struct {
	keys []string
	vals map[string]float64
	note []string
}

func (r *result) set(key string, v float64) {
	if r.vals == nil {
		r.vals = map[string]float64{}
	}
	if _, ok := r.vals[key]; !ok {
		r.keys = append(r.keys, key)
	}
	r.vals[key] = v
}

func printTable(w io.Writer, names []string, rs map[string]result) {
	first := rs[names[0]]
	fmt.Fprintf(w, "%-28s", "metric")
	for _, n := range names {
		fmt.Fprintf(w, " %14s", n)
	}
	for _, n := range names[1:] {
		fmt.Fprintf(w, " %14s", n+"/"+names[0])
	}
	fmt.Fprintln(w)
	for _, k := range first.keys {
		fmt.Fprintf(w, "%-28s", k)
		for _, n := range names {
			fmt.Fprintf(w, " %14.2f", rs[n].vals[k])
		}
		for _, n := range names[1:] {
			if b := first.vals[k]; b != 0 {
				fmt.Fprintf(w, " %13.2fx", rs[n].vals[k]/b)
			} else {
				fmt.Fprintf(w, " %14s", "-")
			}
		}
		fmt.Fprintln(w)
	}
	for _, n := range names {
		for _, l := range rs[n].note {
			fmt.Fprintf(w, "# %s: %s\n", n, l)
		}
	}
}

// measure starts one binary on a fresh repository and fake GitHub and runs the phases.
func measure(o options, name, bin string) (result, error) {
	var res result
	dir, err := os.MkdirTemp("", "serveload-"+name+"-")
	if err != nil {
		return res, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	gitEnv := []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=wangfang", "GIT_AUTHOR_EMAIL=wangfang@grid-it.example.cn",
		"GIT_COMMITTER_NAME=wangfang", "GIT_COMMITTER_EMAIL=wangfang@grid-it.example.cn"}
	git := func(d string, args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = d, append(os.Environ(), gitEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	work, remote := filepath.Join(dir, "work"), filepath.Join(dir, "releases.git")
	if _, err := git(dir, "init", "-q", "-b", "main", work); err != nil {
		return res, err
	}
	if err := gen.Replay(o.examples, work, gen.ReplayOptions{}); err != nil {
		return res, err
	}
	if _, err := git(dir, "init", "-q", "--bare", remote); err != nil {
		return res, err
	}
	if _, err := git(work, "push", "-q", remote, "main:main"); err != nil {
		return res, err
	}
	gh := ghapitest.New()
	defer gh.Close()
	var heads []string
	for n := 1; n <= 5; n++ {
		// The same change as the server tests' addGoLive: a go-live plan for REL-2026-0043, approved.
		if _, err := git(work, "checkout", "-q", "-B", fmt.Sprintf("pr%d", n), "main"); err != nil {
			return res, err
		}
		for _, f := range []string{"golive.yaml", "communication.yaml"} {
			b, err := os.ReadFile(filepath.Join(work, "releases/REL-2026-0041", f))
			if err != nil {
				return res, err
			}
			b = bytes.ReplaceAll(b, []byte("REL-2026-0041"), []byte("REL-2026-0043"))
			b = append(b, fmt.Sprintf("# pull request %d\n", n)...)
			if err := os.WriteFile(filepath.Join(work, rel43, f), b, 0o644); err != nil {
				return res, err
			}
		}
		if _, err := git(work, "add", "-A"); err != nil {
			return res, err
		}
		if _, err := git(work, "commit", "-q", "-m", "go-live plan"); err != nil {
			return res, err
		}
		head, err := git(work, "rev-parse", "HEAD")
		if err != nil {
			return res, err
		}
		if _, err := git(work, "push", "-q", remote, fmt.Sprintf("pr%d:refs/pull/%d/head", n, n), fmt.Sprintf("pr%d:pr%d", n, n)); err != nil {
			return res, err
		}
		gh.SetPull(slug, ghapitest.PR{Number: n, Title: "release plan", Author: "wangfang", HeadSHA: head, HeadRef: fmt.Sprintf("pr%d", n), BaseRef: "main"})
		for _, w := range []string{"maxiaodong", "zhangwei"} {
			gh.AddReview(slug, n, ghapitest.Review{Login: w, State: "APPROVED", CommitID: head})
		}
		heads = append(heads, head)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--repo", remote, "--data-dir", filepath.Join(dir, "data"),
		"--github-url", gh.APIURL(), "--github-repo", slug, "--report", "checks", "--log-level", "warn")
	cmd.Env = append(os.Environ(), gitEnv...)
	cmd.Env = append(cmd.Env, "RELGATE_WEBHOOK_SECRET="+secret, "GITHUB_TOKEN=ghs_bench_token")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + addr
	if err := waitReady(base, 60*time.Second); err != nil {
		return res, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}
	res.set("start VmHWM MiB", hwm(cmd.Process.Pid))

	type delivery struct {
		event string
		body  []byte
	}
	var ds []delivery
	for i := 0; i < o.deliveries; i++ {
		n := i%5 + 1
		var d delivery
		switch i % 4 {
		case 0, 1:
			d = delivery{"pull_request", o.payload("pull_request.synchronize.json", func(m map[string]any) {
				m["number"] = n
				pr := m["pull_request"].(map[string]any)
				pr["number"] = n
				pr["head"].(map[string]any)["sha"] = heads[n-1]
				pr["base"].(map[string]any)["ref"] = "main"
			})}
		case 2:
			d = delivery{"pull_request_review", o.payload("pull_request_review.submitted.json", func(m map[string]any) {
				m["pull_request"].(map[string]any)["number"] = n
				rv := m["review"].(map[string]any)
				rv["user"].(map[string]any)["login"] = "zhangwei"
				rv["state"] = "approved"
				rv["commit_id"] = heads[n-1]
			})}
		default:
			d = delivery{"ping", o.payload("ping.json", nil)}
		}
		if d.body == nil {
			return res, errors.New("payloads not found: run from the repository root or set -payloads")
		}
		ds = append(ds, d)
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	send := func(id string, d delivery) (time.Duration, int) {
		req, _ := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(d.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", d.event)
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte(secret), d.body))
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return time.Since(t0), -1
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(t0), resp.StatusCode
	}
	record := func(phase string, lat []time.Duration, codes []int, took time.Duration) {
		slices.Sort(lat)
		q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) / 1e6 }
		res.set(phase+" ack p50 ms", q(0.5))
		res.set(phase+" ack p99 ms", q(0.99))
		res.set(phase+" ack max ms", q(1))
		bad := 0
		for _, c := range codes {
			if c != http.StatusOK && c != http.StatusAccepted {
				bad++
			}
		}
		res.set(phase+" not 200/202", float64(bad))
		quiet(gh, 2*time.Second, 2*time.Minute)
		res.set(phase+" VmHWM MiB", hwm(cmd.Process.Pid))
		res.note = append(res.note, fmt.Sprintf("%s: %d deliveries sent in %s; %d check runs posted so far", phase, len(lat), took.Round(time.Millisecond), len(gh.CheckRuns())))
	}

	// Paced: one delivery every over/deliveries, each from its own goroutine.
	lat, codes := make([]time.Duration, len(ds)), make([]int, len(ds))
	interval := o.over / time.Duration(len(ds))
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range ds {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() { defer wg.Done(); lat[i], codes[i] = send("paced-"+strconv.Itoa(i), d) }()
	}
	wg.Wait()
	record("paced", lat, codes, time.Since(start))

	// Burst: the same deliveries (new ids) from a few senders at once.
	lat, codes = make([]time.Duration, len(ds)), make([]int, len(ds))
	next := make(chan int)
	start = time.Now()
	for w := 0; w < o.senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				lat[i], codes[i] = send("burst-"+strconv.Itoa(i), ds[i])
			}
		}()
	}
	for i := range ds {
		next <- i
	}
	close(next)
	wg.Wait()
	record("burst", lat, codes, time.Since(start))

	if o.hostile {
		big := o.payload("push.json", func(m map[string]any) { m["padding"] = strings.Repeat("x", 24<<20) })
		zeros := "sha256=" + strings.Repeat("0", 64)
		refused := map[int]int{}
		var mu sync.Mutex
		start = time.Now()
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(big))
				req.Header.Set("X-GitHub-Event", "push")
				req.Header.Set("X-GitHub-Delivery", "bad-"+strconv.Itoa(i))
				req.Header.Set("X-Hub-Signature-256", zeros)
				code := -1
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				refused[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		res.set("bad-sig 20x24MiB s", time.Since(start).Seconds())
		res.set("bad-sig VmHWM MiB", hwm(cmd.Process.Pid))
		res.note = append(res.note, fmt.Sprintf("bad-signature bodies answered (status: count; -1 = connection error): %v", refused))
	}
	return res, nil
}

// payload loads a real GitHub payload pointed at the gated repository.
func (o options) payload(file string, edit func(map[string]any)) []byte {
	b, err := os.ReadFile(filepath.Join(o.payloads, file))
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	if r, ok := m["repository"].(map[string]any); ok {
		r["name"], r["full_name"] = "releases", slug
		r["owner"].(map[string]any)["login"] = "grid-it"
	}
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	return out
}

func waitReady(base string, within time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server at %s not ready within %s", base, within)
}

// quiet waits until the fake GitHub has seen no request for a while: the
// server's queue has drained (or the wait gave up).
func quiet(gh *ghapitest.Server, still, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, since := -1, time.Now()
	for time.Now().Before(deadline) {
		if n := len(gh.Requests()); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= still {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hwm is a process's peak resident memory in MiB (0 without /proc).
func hwm(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
