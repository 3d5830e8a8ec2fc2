package server

import "sync"

// Kinds of work.
const (
	kindPull   = "pull"   // evaluate a pull request and post the result
	kindMerged = "merged" // record the approvals that gated a merged pull request
	kindPush   = "push"   // the protected branch moved: reconcile, re-evaluate open pull requests
	kindResync = "resync" // re-evaluate every open pull request
)

type workKey struct {
	kind string
	n    int
	// id names a deployment (kindDeploy, kindReceipt).
	id string
}

// queue holds distinct work items in arrival order. An item already waiting
// is not added twice; an item pushed while it runs runs once more after, so
// the last event always leads to an evaluation of the current state and two
// workers never evaluate the same pull request at once.
type queue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	limit   int
	fifo    []workKey
	waiting map[workKey]bool
	running map[workKey]bool
	again   map[workKey]bool
	closed  bool
	dropped int
}

func newQueue(limit int) *queue {
	q := &queue{limit: limit, waiting: map[workKey]bool{}, running: map[workKey]bool{}, again: map[workKey]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push adds k; it reports false when the queue is full or closed.
func (q *queue) push(k workKey) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return false
	case q.running[k]:
		q.again[k] = true
		return true
	case q.waiting[k]:
		return true
	case len(q.fifo) >= q.limit:
		q.dropped++
		return false
	}
	q.waiting[k] = true
	q.fifo = append(q.fifo, k)
	q.cond.Signal()
	return true
}

// pop waits for an item that is not running; ok is false once closed.
func (q *queue) pop() (workKey, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.closed {
			return workKey{}, false
		}
		for i, k := range q.fifo {
			if !q.running[k] {
				q.fifo = append(q.fifo[:i:i], q.fifo[i+1:]...)
				delete(q.waiting, k)
				q.running[k] = true
				return k, true
			}
		}
		q.cond.Wait()
	}
}

// done marks k finished, queueing it again if it was pushed meanwhile.
func (q *queue) done(k workKey) {
	q.mu.Lock()
	delete(q.running, k)
	again := q.again[k]
	delete(q.again, k)
	q.mu.Unlock()
	if again {
		q.push(k)
	}
	q.mu.Lock()
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.fifo)
}

// idle reports whether nothing waits or runs (tests).
func (q *queue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.fifo) == 0 && len(q.running) == 0
}
