package webhook

import (
	"context"
	"sync"
	"time"
)

// budget is a count of bytes that deliveries take and give back: admission
// by bytes, so that many slow or small senders cannot hold a few slots and
// one large body cannot take more than its share.
type budget struct {
	mu      sync.Mutex
	free    int64
	waiting int           // takers blocked in take; tryTake yields to them
	freed   chan struct{} // closed (and replaced) whenever bytes are given back
}

func newBudget(n int64) *budget { return &budget{free: n, freed: make(chan struct{})} }

// tryTake takes n bytes if they are free and nobody is waiting for them.
func (b *budget) tryTake(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiting > 0 || b.free < n {
		return false
	}
	b.free -= n
	return true
}

// take waits up to wait for n bytes: never an unbounded wait.
func (b *budget) take(ctx context.Context, n int64, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	b.mu.Lock()
	b.waiting++
	defer func() { b.mu.Lock(); b.waiting--; b.mu.Unlock() }()
	for {
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return true
		}
		ch := b.freed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
		b.mu.Lock()
	}
}

// give returns n bytes.
func (b *budget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
}

// available is the bytes free now (a snapshot, for refusing early).
func (b *budget) available() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.free
}
