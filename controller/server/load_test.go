package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relgate/relgate/controller/webhook"
)

// TestLoad sends 500 signed deliveries in 10 seconds to a server on
// loopback and reports acknowledgement times and memory. It runs only with
// RELGATE_LOAD=1 (go test -run TestLoad -v ./controller/server/), so CI stays fast.
func TestLoad(t *testing.T) {
	if os.Getenv("RELGATE_LOAD") == "" {
		t.Skip("set RELGATE_LOAD=1 to run the load test")
	}
	const deliveries, over = 500, 10 * time.Second
	e := newEnv(t, envOptions{checkRuns: true})
	var heads []string
	for n := 1; n <= 5; n++ {
		e.work.Checkout("main", false)
		heads = append(heads, approvedPR(t, e, n))
	}
	// Bodies: pull request syncs, reviews and pings across five pull requests.
	type delivery struct {
		event string
		body  []byte
	}
	var ds []delivery
	for i := 0; i < deliveries; i++ {
		n := i%5 + 1
		switch i % 4 {
		case 0, 1:
			ds = append(ds, delivery{"pull_request", prEvent(t, "synchronize", n, heads[n-1])})
		case 2:
			ds = append(ds, delivery{"pull_request_review", reviewEvent(t, n, "zhangwei", "approved", heads[n-1])})
		default:
			ds = append(ds, delivery{"ping", payload(t, "ping.json", nil)})
		}
	}
	var peakHeap, peakSys uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peakHeap, peakSys = max(peakHeap, ms.HeapInuse), max(peakSys, ms.Sys)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	lat := make([]time.Duration, deliveries)
	codes := make([]int, deliveries)
	interval := over / deliveries
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range ds {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.url+"/webhook", bytes.NewReader(d.body))
			req.Header.Set("X-GitHub-Event", d.event)
			req.Header.Set("X-GitHub-Delivery", "load-"+strconv.Itoa(i))
			req.Header.Set("X-Hub-Signature-256", webhook.Sign(testSecret, d.body))
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				codes[i] = -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat[i], codes[i] = time.Since(t0), resp.StatusCode
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	e.settle()
	drained := time.Since(start)
	close(stop)
	sampler.Wait()
	for i, c := range codes {
		if c != http.StatusAccepted && c != http.StatusOK {
			t.Errorf("delivery %d: %d", i, c)
		}
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	hwm := vmHWM()
	evals := 0
	for _, c := range e.gh.CheckRuns() {
		if c.Conclusion == "success" {
			evals++
		}
	}
	report := fmt.Sprintf("load: %d deliveries in %s (queue drained after %s); ack p50 %s p99 %s max %s; "+
		"peak Go heap in use %.1f MiB, Go sys %.1f MiB, process VmHWM %s; %d check runs posted for %d pull requests",
		deliveries, sent.Round(time.Millisecond), drained.Round(time.Millisecond), p(0.5).Round(time.Microsecond),
		p(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), float64(peakHeap)/(1<<20), float64(peakSys)/(1<<20), hwm, evals, len(heads))
	t.Log(report)
	fmt.Println(report)
	if p(0.99) > time.Second {
		t.Errorf("p99 acknowledgement %s, want under 1s", p(0.99))
	}
	// A burst: the same 500 deliveries (new ids) from 50 senders at once.
	burst := make([]time.Duration, deliveries)
	start = time.Now()
	next := make(chan int)
	var bw sync.WaitGroup
	for w := 0; w < 50; w++ {
		bw.Add(1)
		go func() {
			defer bw.Done()
			for i := range next {
				d := ds[i]
				req, _ := http.NewRequest(http.MethodPost, e.url+"/webhook", bytes.NewReader(d.body))
				req.Header.Set("X-GitHub-Event", d.event)
				req.Header.Set("X-GitHub-Delivery", "burst-"+strconv.Itoa(i))
				req.Header.Set("X-Hub-Signature-256", webhook.Sign(testSecret, d.body))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("burst %d: %v", i, err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				burst[i] = time.Since(t0)
			}
		}()
	}
	for i := range ds {
		next <- i
	}
	close(next)
	bw.Wait()
	sent = time.Since(start)
	e.settle()
	drained = time.Since(start)
	slices.Sort(burst)
	report = fmt.Sprintf("burst: %d deliveries from 50 senders in %s (queue drained after %s); ack p50 %s p99 %s max %s; process VmHWM %s",
		deliveries, sent.Round(time.Millisecond), drained.Round(time.Millisecond), burst[len(burst)/2].Round(time.Microsecond),
		burst[len(burst)*99/100].Round(time.Microsecond), burst[len(burst)-1].Round(time.Microsecond), vmHWM())
	t.Log(report)
	fmt.Println(report)
	if peakSys > 200<<20 {
		t.Errorf("Go memory %d MiB, want under 200 MiB", peakSys>>20)
	}
}

func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "n/a"
}
