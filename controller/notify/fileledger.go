package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"
)

// FileLedger is a Ledger in a directory: one small JSON file per key, named
// by the hex SHA-256 of the key. Several processes may share the directory
// (replicas on one host or on a shared volume that honours link and rename
// atomically, as local file systems and NFSv3+ do).
//
// Every state of a key has a generation. The first claim links a complete
// file into place (link fails if the name exists: create-exclusive without
// a half-written file ever being visible). Every later change of generation
// g — taking over an expired claim, recording it sent, giving it back — is
// a compare-and-swap: the writer first creates the token file
// "<name>.g<g>" exclusively, checks that the key is still at g, then
// renames the token over the key's file. Only one writer can hold the
// token of g, and a key never goes back to an earlier generation, so two
// processes never both win.
type FileLedger struct {
	dir string
	// Owner names this ledger's claims (default host/pid/random); Abandon
	// gives back only its own.
	Owner string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

var _ Ledger = (*FileLedger)(nil)

// Ledger record states.
const (
	stateClaimed   = "claimed"
	stateSent      = "sent"
	stateAbandoned = "abandoned"
)

// Bounds of the file ledger.
const (
	// MaxKey bounds a ledger key.
	MaxKey = 1024
	// maxRecord bounds a record file read.
	maxRecord = 4096
	// staleToken: a token older than this was left by a process that died
	// between creating and renaming it (microseconds when alive); it is removed.
	staleToken = time.Minute
	casTries   = 32
)

// LedgerRecord is one key's file.
type LedgerRecord struct {
	Key       string    `json:"key"`
	State     string    `json:"state"`
	Gen       int64     `json:"gen"`
	Owner     string    `json:"owner"`
	ClaimedAt time.Time `json:"claimedAt"`
	Lease     string    `json:"lease"`
	SentAt    time.Time `json:"sentAt,omitzero"`
}

// ParseLedgerRecord reads a record file; anything odd is an error (a
// ledger we cannot read never lets a message go twice, nor at all).
func ParseLedgerRecord(data []byte) (LedgerRecord, time.Duration, error) {
	var r LedgerRecord
	if len(data) > maxRecord {
		return r, 0, fmt.Errorf("record is over %d bytes", maxRecord)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, 0, fmt.Errorf("record is not JSON: %v", err)
	}
	switch r.State {
	case stateClaimed, stateSent, stateAbandoned:
	default:
		return r, 0, fmt.Errorf("record state %q is not claimed, sent or abandoned", clip(r.State, 40))
	}
	if r.Gen < 1 {
		return r, 0, fmt.Errorf("record generation %d is not positive", r.Gen)
	}
	lease, err := time.ParseDuration(r.Lease)
	if err != nil || lease < 0 {
		return r, 0, fmt.Errorf("record lease %q is not a duration", clip(r.Lease, 40))
	}
	return r, lease, nil
}

// NewFileLedger opens (creating it when missing) the ledger in dir.
func NewFileLedger(dir string) (*FileLedger, error) {
	if dir == "" {
		return nil, errors.New("notice ledger: no directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("notice ledger %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("notice ledger %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("notice ledger %s: not a directory", dir)
	}
	host, _ := os.Hostname()
	return &FileLedger{dir: dir, Owner: host + "/" + strconv.Itoa(os.Getpid()) + "/" + randHex(4), Now: time.Now}, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func (l *FileLedger) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(l.dir, hex.EncodeToString(sum[:]))
}

func checkKey(key string) error {
	if key == "" || len(key) > MaxKey || !utf8.ValidString(key) {
		return fmt.Errorf("notice ledger: key must be 1 to %d bytes of UTF-8", MaxKey)
	}
	return nil
}

// read returns the record at p; fs.ErrNotExist when there is none.
func (l *FileLedger) read(p, key string) (LedgerRecord, time.Duration, error) {
	f, err := os.Open(p)
	if err != nil {
		return LedgerRecord{}, 0, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return LedgerRecord{}, 0, fmt.Errorf("notice ledger %s: %w", p, err)
	}
	r, lease, err := ParseLedgerRecord(data)
	if err != nil {
		return r, 0, fmt.Errorf("notice ledger %s: %w", p, err)
	}
	if r.Key != key {
		return r, 0, fmt.Errorf("notice ledger %s: holds key %q, not %q", p, clip(r.Key, 80), clip(key, 80))
	}
	return r, lease, nil
}

// publish writes r completely to a temporary file, then links it to name:
// the name appears with its whole content, or not at all (fs.ErrExist).
func (l *FileLedger) publish(r LedgerRecord, name string) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(l.dir, ".tmp-")
	if err != nil {
		return fmt.Errorf("notice ledger %s: %w", l.dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("notice ledger %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("notice ledger %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("notice ledger %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return fmt.Errorf("notice ledger %s: %w", name, err)
	}
	return nil
}

func (l *FileLedger) syncDir() {
	if d, err := os.Open(l.dir); err == nil {
		_ = d.Sync() // durability across a power cut; the swap itself is already atomic
		d.Close()
	}
}

// swap moves key's file from generation old.Gen to next, if no other
// writer does first; false when another won (the caller reads again).
func (l *FileLedger) swap(p, key string, old LedgerRecord, next LedgerRecord) (bool, error) {
	next.Gen = old.Gen + 1
	tok := p + ".g" + strconv.FormatInt(old.Gen, 10)
	if err := l.publish(next, tok); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		if st, serr := os.Stat(tok); serr == nil && l.Now().Sub(st.ModTime()) > staleToken {
			_ = os.Remove(tok) // left by a process that died holding it
		}
		return false, nil
	}
	cur, _, err := l.read(p, key)
	if err != nil || cur.Gen != old.Gen {
		_ = os.Remove(tok)
		return false, err
	}
	if err := os.Rename(tok, p); err != nil {
		_ = os.Remove(tok)
		return false, fmt.Errorf("notice ledger %s: %w", p, err)
	}
	l.syncDir()
	return true, nil
}

// pause lets the writer holding a token finish (it holds it for microseconds).
func pause(ctx context.Context, try int) error {
	if try == 0 {
		return ctx.Err()
	}
	return sleep(ctx, time.Duration(try)*time.Millisecond)
}

// Claim reserves key for lease: true when this ledger now holds it.
func (l *FileLedger) Claim(ctx context.Context, key string, lease time.Duration) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	p := l.path(key)
	for try := 0; try < casTries; try++ {
		if err := pause(ctx, try); err != nil {
			return false, err
		}
		now := l.Now().UTC()
		mine := LedgerRecord{Key: key, State: stateClaimed, Gen: 1, Owner: l.Owner, ClaimedAt: now, Lease: lease.String()}
		cur, curLease, err := l.read(p, key)
		if errors.Is(err, fs.ErrNotExist) {
			switch err := l.publish(mine, p); {
			case err == nil:
				l.syncDir()
				return true, nil
			case errors.Is(err, fs.ErrExist):
				continue
			default:
				return false, err
			}
		}
		if err != nil {
			return false, err
		}
		switch {
		case cur.State == stateSent:
			return false, nil
		case cur.State == stateClaimed && now.Before(cur.ClaimedAt.Add(curLease)):
			return false, nil
		}
		// An expired or abandoned claim: take it over.
		won, err := l.swap(p, key, cur, mine)
		if err != nil {
			return false, err
		}
		if won {
			return true, nil
		}
	}
	return false, fmt.Errorf("notice ledger %s: key %q is contended; try again", l.dir, clip(key, 80))
}

// Sent records that key was delivered; it is never claimed again.
func (l *FileLedger) Sent(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	p := l.path(key)
	for try := 0; try < casTries; try++ {
		if err := pause(ctx, try); err != nil {
			return err
		}
		now := l.Now().UTC()
		sent := LedgerRecord{Key: key, State: stateSent, Gen: 1, Owner: l.Owner, ClaimedAt: now, Lease: "0s", SentAt: now}
		cur, _, err := l.read(p, key)
		if errors.Is(err, fs.ErrNotExist) {
			switch err := l.publish(sent, p); {
			case err == nil:
				l.syncDir()
				return nil
			case errors.Is(err, fs.ErrExist):
				continue
			default:
				return err
			}
		}
		if err != nil {
			return err
		}
		if cur.State == stateSent {
			return nil
		}
		sent.ClaimedAt = cur.ClaimedAt
		won, err := l.swap(p, key, cur, sent)
		if err != nil {
			return err
		}
		if won {
			return nil
		}
	}
	return fmt.Errorf("notice ledger %s: key %q is contended; try again", l.dir, clip(key, 80))
}

// Abandon gives back this ledger's claim of key; another's claim, or a
// sent key, is left as it is.
func (l *FileLedger) Abandon(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	p := l.path(key)
	for try := 0; try < casTries; try++ {
		if err := pause(ctx, try); err != nil {
			return err
		}
		cur, _, err := l.read(p, key)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.State != stateClaimed || cur.Owner != l.Owner {
			return nil
		}
		back := cur
		back.State = stateAbandoned
		won, err := l.swap(p, key, cur, back)
		if err != nil {
			return err
		}
		if won {
			return nil
		}
	}
	return fmt.Errorf("notice ledger %s: key %q is contended; try again", l.dir, clip(key, 80))
}
