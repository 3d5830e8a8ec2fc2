package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound what a sender that does not know the secret can make a
// receiver hold: memory, spool files, and time. A zero field takes its
// default (DefaultLimits).
type Limits struct {
	// PreAuthMemory is the most of one body held in memory before its HMAC
	// is known good; the rest of a larger body is spooled to a temporary
	// file while it is hashed.
	PreAuthMemory int64
	// MemoryBudget bounds the body bytes held in memory by all deliveries
	// at once, before and after authentication. When it is spent, bodies
	// being received spool to disk; an authenticated body waits BusyWait
	// for room to be parsed in, then gets ErrBusy.
	MemoryBudget int64
	// SpoolBudget bounds the bytes in spool files at once; a delivery that
	// would go over it gets ErrBusy.
	SpoolBudget int64
	// SpoolDir holds the spool files (default os.TempDir()). It should be
	// on disk, not tmpfs, or spooling saves no memory.
	SpoolDir string
	// MinRate (bytes per second) is the slowest a body may arrive once
	// RateGrace has passed; a slower one is cut with ErrSlow.
	MinRate   int64
	RateGrace time.Duration
	// BodyTimeout bounds the time to read one body.
	BodyTimeout time.Duration
	// BusyWait bounds how long an authenticated body waits for memory.
	BusyWait time.Duration
}

// DefaultLimits: GitHub's payloads are mostly a few to a few hundred KB and
// arrive at once; its delivery times out after 10 s, so a body that needs
// more than 30 s, or trickles in under 64 KB/s after 2 s, is not GitHub's.
func DefaultLimits() Limits {
	return Limits{PreAuthMemory: 1 << 20, MemoryBudget: 64 << 20, SpoolBudget: 256 << 20,
		MinRate: 64 << 10, RateGrace: 2 * time.Second, BodyTimeout: 30 * time.Second, BusyWait: 5 * time.Second}
}

func (l Limits) withDefaults(maxBody int64) Limits {
	d := DefaultLimits()
	set := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.PreAuthMemory, d.PreAuthMemory)
	set(&l.MemoryBudget, d.MemoryBudget)
	set(&l.SpoolBudget, d.SpoolBudget)
	set(&l.MinRate, d.MinRate)
	setD(&l.RateGrace, d.RateGrace)
	setD(&l.BodyTimeout, d.BodyTimeout)
	setD(&l.BusyWait, d.BusyWait)
	// The largest authenticated body must fit: a form body is held twice
	// (as sent, and its decoded payload).
	l.MemoryBudget = max(l.MemoryBudget, 2*maxBody+l.PreAuthMemory)
	l.SpoolBudget = max(l.SpoolBudget, maxBody)
	if l.SpoolDir == "" {
		l.SpoolDir = os.TempDir()
	}
	return l
}

// Receiver reads deliveries.
type Receiver struct {
	secret  []byte
	maxBody int64
	lim     Limits
	dedupe  *Dedupe
	mem     *budget
	spool   *budget
	spooled atomic.Int64 // bodies that went to a spool file, for tests
}

// NewReceiver makes a receiver with DefaultLimits. An empty secret is refused.
func NewReceiver(secret []byte, maxBody int64, remember int) (*Receiver, error) {
	return NewReceiverLimits(secret, maxBody, remember, Limits{})
}

// NewReceiverLimits makes a receiver with the given limits.
func NewReceiverLimits(secret []byte, maxBody int64, remember int, lim Limits) (*Receiver, error) {
	if len(secret) == 0 {
		return nil, errors.New("webhook secret is empty: set RELGATE_WEBHOOK_SECRET or --webhook-secret-file")
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	lim = lim.withDefaults(maxBody)
	return &Receiver{secret: secret, maxBody: maxBody, lim: lim, dedupe: NewDedupe(remember),
		mem: newBudget(lim.MemoryBudget), spool: newBudget(lim.SpoolBudget)}, nil
}

// Receive reads, authenticates, dedupes and parses one delivery. The body is
// parsed only after its signature checked out. An event relgate does not act
// on is returned with Kind set and nothing else parsed.
func (r *Receiver) Receive(w http.ResponseWriter, req *http.Request) (*Event, error) {
	// Everything that can be refused without the body is refused before any
	// of it is read: an unauthenticated sender cannot make the server read
	// and hash megabytes for a request that could never verify.
	want, err := signature(req.Header.Get("X-Hub-Signature-256"))
	if err != nil {
		return nil, err
	}
	if err := checkHeaders(req.Header); err != nil {
		return nil, err
	}
	id, name := req.Header.Get("X-GitHub-Delivery"), req.Header.Get("X-GitHub-Event")
	format, err := formatOf(req.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if req.ContentLength > r.maxBody {
		return nil, ErrTooLarge
	}
	b := &body{r: r}
	defer b.release()
	if err := b.read(w, req, want); err != nil {
		return nil, err
	}
	raw, err := b.bytes(req.Context(), format)
	if err != nil {
		return nil, err
	}
	if format == formatForm {
		if raw, err = FormPayload(raw); err != nil {
			return nil, err
		}
	}
	ev, err := Parse(name, raw)
	if err != nil {
		return nil, err
	}
	ev.Delivery = id
	// The signature stands for the body: a replay under a new id is a
	// duplicate too.
	if !r.dedupe.FirstDelivery(id, string(want)) {
		return ev, ErrDuplicate
	}
	return ev, nil
}

// chunks are the read buffers, shared: a connection holds one only while
// its body is being read.
var chunks = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// body is one delivery's body as it arrives: in memory up to
// PreAuthMemory (and while the memory budget lasts), else in a spool file.
// It holds its reservations from both budgets until release.
type body struct {
	r        *Receiver
	mem      []byte
	memHeld  int64
	file     *os.File
	fileHeld int64
	spilled  bool
	n        int64
}

// read streams the body through the HMAC into memory or the spool, under
// the size cap, the rate floor and the body timeout, and checks the HMAC at
// the end.
func (b *body) read(w http.ResponseWriter, req *http.Request, want []byte) error {
	lim := b.r.lim
	if cl := req.ContentLength; cl > lim.PreAuthMemory {
		// Too large to hold before it is authenticated: spool it, if the
		// spool has room now (checked again as bytes arrive).
		if cl > b.r.spool.available() {
			return fmt.Errorf("%w: a %d-byte body does not fit the spool now", ErrBusy, cl)
		}
		b.spilled = true
	} else if cl > 0 {
		if b.r.mem.tryTake(cl) {
			b.memHeld, b.mem = cl, make([]byte, 0, cl)
		} else {
			b.spilled = true
		}
	}
	start := time.Now()
	rc := http.NewResponseController(w)
	deadlines := true
	src := http.MaxBytesReader(w, req.Body, b.r.maxBody)
	mac := hmac.New(sha256.New, b.r.secret)
	bufp := chunks.Get().(*[]byte)
	defer chunks.Put(bufp)
	buf := *bufp
	for {
		if deadlines {
			// The deadline by which the next bytes must come for the body
			// to stay above the floor: a sender that stops is cut there,
			// not at the end of the body timeout.
			wait := min(lim.RateGrace+time.Duration(b.n*int64(time.Second)/lim.MinRate), lim.BodyTimeout)
			if err := rc.SetReadDeadline(start.Add(wait)); err != nil {
				deadlines = false // not a real connection (tests); checked after each read instead
			}
		}
		k, err := src.Read(buf)
		if k > 0 {
			mac.Write(buf[:k])
			if err := b.add(buf[:k]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				return ErrTooLarge
			case errors.Is(err, os.ErrDeadlineExceeded):
				return fmt.Errorf("%w: %d bytes in %s", ErrSlow, b.n, time.Since(start).Round(time.Millisecond))
			}
			return fmt.Errorf("read body: %w", err)
		}
		if el := time.Since(start); el > lim.BodyTimeout || (el > lim.RateGrace && b.n < int64((el-lim.RateGrace).Seconds()*float64(lim.MinRate))) {
			return fmt.Errorf("%w: %d bytes in %s", ErrSlow, b.n, el.Round(time.Millisecond))
		}
	}
	if deadlines {
		// The server reads on in the background for the next request; give
		// that read a bound of its own rather than the floor's deadline.
		rc.SetReadDeadline(time.Now().Add(lim.BodyTimeout))
	}
	if !hmac.Equal(mac.Sum(nil), want) {
		return ErrBadSignature
	}
	return nil
}

// add keeps p in memory while it fits this body's share and the budget,
// and in the spool file after that.
func (b *body) add(p []byte) error {
	b.n += int64(len(p))
	if !b.spilled {
		need := int64(len(b.mem) + len(p))
		if need <= b.memHeld {
			b.mem = append(b.mem, p...)
			return nil
		}
		if need <= b.r.lim.PreAuthMemory {
			grow := min(max(need, 2*b.memHeld, 4<<10), b.r.lim.PreAuthMemory) - b.memHeld
			if b.r.mem.tryTake(grow) {
				b.memHeld += grow
				m := make([]byte, len(b.mem), b.memHeld)
				copy(m, b.mem)
				b.mem = append(m, p...)
				return nil
			}
		}
		b.spilled = true
	}
	if b.file == nil {
		if err := b.openSpool(); err != nil {
			return err
		}
	}
	if len(b.mem) > 0 {
		// What was held in memory moves to the spool first.
		if err := b.spoolWrite(b.mem); err != nil {
			return err
		}
		b.mem = nil
		b.r.mem.give(b.memHeld)
		b.memHeld = 0
	}
	return b.spoolWrite(p)
}

func (b *body) spoolWrite(p []byte) error {
	if !b.r.spool.tryTake(int64(len(p))) {
		return fmt.Errorf("%w: the spool is full", ErrBusy)
	}
	b.fileHeld += int64(len(p))
	if _, err := b.file.Write(p); err != nil {
		return fmt.Errorf("%w: write spool file: %v", ErrBusy, err)
	}
	return nil
}

func (b *body) openSpool() error {
	f, err := os.CreateTemp(b.r.lim.SpoolDir, "relgate-webhook-*")
	if err != nil {
		return fmt.Errorf("%w: spool file: %v", ErrBusy, err)
	}
	// Unlinked at once: the file lives while it is open, and a crash leaves nothing behind.
	os.Remove(f.Name())
	b.file = f
	b.r.spooled.Add(1)
	return nil
}

// bytes returns the authenticated body, loading a spooled one into memory
// once the memory budget has room for it (and for its decoded form).
func (b *body) bytes(ctx context.Context, format bodyFormat) ([]byte, error) {
	extra := int64(0)
	if format == formatForm {
		extra = b.n
	}
	if b.file == nil {
		if extra > 0 && !b.r.mem.take(ctx, extra, b.r.lim.BusyWait) {
			return nil, fmt.Errorf("%w: no memory to decode a %d-byte form body", ErrBusy, b.n)
		}
		b.memHeld += extra
		return b.mem, nil
	}
	need := b.n + extra
	if !b.r.mem.take(ctx, need, b.r.lim.BusyWait) {
		return nil, fmt.Errorf("%w: no memory to parse a %d-byte body", ErrBusy, b.n)
	}
	b.memHeld += need
	out := make([]byte, b.n)
	if _, err := b.file.ReadAt(out, 0); err != nil {
		return nil, fmt.Errorf("%w: read spool file: %v", ErrBusy, err)
	}
	b.closeSpool()
	return out, nil
}

func (b *body) closeSpool() {
	if b.file != nil {
		b.file.Close()
		b.file = nil
	}
	b.r.spool.give(b.fileHeld)
	b.fileHeld = 0
}

// release gives back everything the body holds.
func (b *body) release() {
	b.closeSpool()
	b.r.mem.give(b.memHeld)
	b.memHeld, b.mem = 0, nil
}
