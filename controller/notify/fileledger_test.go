package notify

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFileLedgerRoundTrip(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	dir := t.TempDir()
	a, b := ledger(t, dir, clock), ledger(t, dir, clock)
	steps := []struct {
		name string
		do   func() (bool, error)
		want bool
	}{
		{"a claims a new key", func() (bool, error) { return a.Claim(ctx, "k1/ops", time.Minute) }, true},
		{"attack: b cannot take a's unexpired claim", func() (bool, error) { return b.Claim(ctx, "k1/ops", time.Minute) }, false},
		{"b's Abandon leaves a's claim alone", func() (bool, error) { return true, b.Abandon(ctx, "k1/ops") }, true},
		{"so b still cannot claim it", func() (bool, error) { return b.Claim(ctx, "k1/ops", time.Minute) }, false},
		{"a gives it back", func() (bool, error) { return true, a.Abandon(ctx, "k1/ops") }, true},
		{"b may claim a given-back key", func() (bool, error) { return b.Claim(ctx, "k1/ops", time.Minute) }, true},
		{"the lease runs out", func() (bool, error) { clock.Sleep(ctx, 61*time.Second); return true, nil }, true},
		{"a takes over b's expired claim", func() (bool, error) { return a.Claim(ctx, "k1/ops", time.Minute) }, true},
		{"a records it sent", func() (bool, error) { return true, a.Sent(ctx, "k1/ops") }, true},
		{"a sent key is never claimed again", func() (bool, error) { return b.Claim(ctx, "k1/ops", time.Minute) }, false},
		{"not even long after", func() (bool, error) { clock.Sleep(ctx, 1000*time.Hour); return a.Claim(ctx, "k1/ops", time.Minute) }, false},
		{"Abandon of a sent key keeps it sent", func() (bool, error) { return true, a.Abandon(ctx, "k1/ops") }, true},
		{"restart: a new ledger on the directory sees it sent", func() (bool, error) {
			return ledger(t, dir, clock).Claim(ctx, "k1/ops", time.Minute)
		}, false},
		{"another key is free", func() (bool, error) { return b.Claim(ctx, "k2/ops", time.Minute) }, true},
	}
	for _, s := range steps {
		got, err := s.do()
		if err != nil || got != s.want {
			t.Fatalf("%s: %v, %v; want %v", s.name, got, err, s.want)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || len(names[0]) != 64 {
		t.Errorf("ledger directory holds %v, want one 64-hex file per key and nothing else", names)
	}
}

func TestFileLedgerFailsClosed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := ledger(t, dir, nil)
	for _, content := range []string{"", "{", `{"key":"k","state":"sent","gen":0,"lease":"0s"}`, `{"key":"other","state":"sent","gen":1,"lease":"0s"}`,
		`{"key":"k","state":"weird","gen":1,"lease":"0s"}`, strings.Repeat(" ", 5000)} {
		if err := os.WriteFile(l.path("k"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if ok, err := l.Claim(ctx, "k", time.Minute); ok || err == nil {
			t.Errorf("a record %q: Claim = %v, %v; want an error, never true", clip(content, 40), ok, err)
		}
	}
	for _, key := range []string{"", strings.Repeat("x", MaxKey+1), "bad\xff"} {
		if ok, err := l.Claim(ctx, key, time.Minute); ok || err == nil {
			t.Errorf("key %q: Claim = %v, %v", clip(key, 20), ok, err)
		}
	}
	// A token left by a process that died mid-swap is cleared after a minute.
	clock := newFakeClock()
	l.Now = clock.Now
	os.Remove(l.path("k"))
	if ok, _ := l.Claim(ctx, "k", time.Second); !ok {
		t.Fatal("claim k")
	}
	tok := l.path("k") + ".g1"
	if err := os.WriteFile(tok, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := clock.Now().Add(-2 * time.Minute)
	os.Chtimes(tok, old, old)
	clock.Sleep(ctx, time.Minute)
	l2 := ledger(t, dir, clock)
	if ok, err := l2.Claim(ctx, "k", time.Minute); !ok || err != nil {
		t.Errorf("claim past a stale token: %v, %v", ok, err)
	}
}

// Two ledgers on one directory race to claim the same keys: each key is
// won exactly once, also when the claims have expired and are taken over.
func TestFileLedgerRace(t *testing.T) {
	ctx := context.Background()
	for _, round := range []string{"fresh", "takeover"} {
		t.Run(round, func(t *testing.T) {
			dir := t.TempDir()
			clock := newFakeClock()
			if round == "takeover" {
				old := ledger(t, dir, clock)
				for i := range 50 {
					old.Claim(ctx, "key-"+strconv.Itoa(i), time.Second)
				}
				clock.Sleep(ctx, time.Hour)
			}
			var wins [50]atomic.Int32
			var wg sync.WaitGroup
			for range 4 {
				l := ledger(t, dir, clock)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						ok, err := l.Claim(ctx, "key-"+strconv.Itoa(i), time.Hour)
						if err != nil {
							t.Error(err)
						}
						if ok {
							wins[i].Add(1)
						}
					}
				}()
			}
			wg.Wait()
			for i := range wins {
				if n := wins[i].Load(); n != 1 {
					t.Errorf("key-%d won %d times", i, n)
				}
			}
		})
	}
}

// Two processes share the directory: the test binary runs itself as the
// second process.
func TestFileLedgerTwoProcesses(t *testing.T) {
	if dir := os.Getenv("RELGATE_NOTIFY_LEDGER_CHILD"); dir != "" {
		l, err := NewFileLedger(dir)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		for i := range 100 {
			if ok, err := l.Claim(context.Background(), "key-"+strconv.Itoa(i), time.Hour); err != nil {
				fmt.Println("error", err)
			} else if ok {
				fmt.Println("won", i)
			}
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileLedgerTwoProcesses$")
	cmd.Env = append(os.Environ(), "RELGATE_NOTIFY_LEDGER_CHILD="+dir)
	var childOut strings.Builder
	cmd.Stdout = &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := ledger(t, dir, nil)
	won := map[int]int{}
	for i := range 100 {
		ok, err := l.Claim(context.Background(), "key-"+strconv.Itoa(i), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			won[i]++
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, childOut.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(childOut.String()), "\n") {
		var i int
		if _, err := fmt.Sscanf(line, "won %d", &i); err != nil {
			if strings.HasPrefix(line, "error") {
				t.Errorf("child: %s", line)
			}
			continue
		}
		won[i]++
	}
	for i := range 100 {
		if won[i] != 1 {
			t.Errorf("key-%d won %d times", i, won[i])
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.g*")); len(matches) != 0 {
		t.Errorf("tokens left behind: %v", matches)
	}
}
