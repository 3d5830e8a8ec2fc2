package webhook

import (
	"context"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	b := newBudget(10)
	if !b.tryTake(6) || b.tryTake(5) || !b.tryTake(4) || b.available() != 0 {
		t.Fatalf("tryTake past the budget; %d free", b.available())
	}
	// A waiter is woken by a give, and while it waits, tryTake yields to it.
	got := make(chan bool)
	go func() { got <- b.take(context.Background(), 8, time.Minute) }()
	for {
		b.mu.Lock()
		w := b.waiting
		b.mu.Unlock()
		if w == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.give(6)
	if b.tryTake(1) {
		t.Error("tryTake took bytes a waiter is waiting for")
	}
	b.give(4)
	if !<-got {
		t.Fatal("the waiter did not get its bytes")
	}
	if b.available() != 2 {
		t.Errorf("%d free, want 2", b.available())
	}
	// A wait is bounded: by its own limit and by the request's context.
	if b.take(context.Background(), 3, 10*time.Millisecond) {
		t.Error("took more than is free")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if b.take(ctx, 3, time.Minute) {
		t.Error("took more than is free after the context ended")
	}
	if !b.tryTake(2) {
		t.Error("a waiter that gave up still blocks tryTake")
	}
}
