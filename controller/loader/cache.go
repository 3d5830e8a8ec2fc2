package loader

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/schemas"
)

// cacheFormat changes whenever what Decode returns for the same bytes could
// change other than through the schemas (which are hashed into the key), or
// the layout of the file changes.
const cacheFormat = "relgate-decode-cache-v3"

// Cache keeps the result of decoding each blob: a blob id names exact content,
// so with the same schemas the result is valid forever, and a warm run reads
// no blob it has decoded before (shared/GIT-NOTES.md). A missing, stale or
// corrupt cache file is ignored and rewritten; deleting it is always safe.
//
// The file is never held in memory: opening it reads and checks its index
// (blob id and kind → where the entry is, with the entry's checksum), an entry
// is read from the file when it is asked for and checked again, and what a run
// adds goes straight to the file that Save renames over the old one.
//
// The file, in order: a header (cacheMagic, then the key: SHA-256 of the
// format, the schemas and the relgate executable's build), the entries, the
// index, and a trailer (where the index is, its length, the SHA-256 of the
// header and index). An entry is the JSON of its typed value, the JSON of
// its partial value and its problems (encodeProblems); the index says the
// length of each part and the entry's CRC-32C.
type Cache struct {
	path string
	key  [32]byte
	mu   sync.Mutex
	// index says where each entry is: in old (the file opened), in out
	// (what this run writes), or in mem (a memory cache).
	index map[cacheKey]cacheSpan
	old   *os.File
	out   *os.File
	w     *bufio.Writer
	wrote int64 // bytes written to out, through w
	mem   map[cacheKey][]byte
	dirty bool
	// failed is set when writing out failed: Save then writes nothing.
	failed error
}

type cacheKey struct {
	ID   source.BlobID
	Kind document.Kind
}

// cacheSpan is where an entry is and how to check it.
type cacheSpan struct {
	inOut       bool // in the file being written, else in the file opened
	off         int64
	value, part uint32 // lengths of the value and partial JSON
	probs       uint32 // length of the encoded problems
	crc         uint32
}

func (s cacheSpan) size() int64 { return int64(s.value) + int64(s.part) + int64(s.probs) }

type cacheEntry struct {
	Value    []byte    // JSON of the typed document; nil when it had problems
	Partial  []byte    // JSON of the partial document when it had problems
	Problems []Problem // told in a language when read (docschema.Render)
}

var (
	trailerMagic = []byte("RGDCEND3")
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
)

const (
	cacheMagic = "relgate decode cache v3\n"
	headerLen  = int64(len(cacheMagic)) + 32 // magic, key
	trailerLen = 8 + 8 + 32 + 8              // index offset, index length, SHA-256, magic
	maxIndex   = 64 << 20                    // an index larger than this is not ours
	maxEntry   = 8 << 20                     // nor an entry larger than this
	entryIndex = 20 + 1 + 8 + 16             // id, kind length, offset, 4 lengths and crc
)

var (
	keyOnce sync.Once
	keyHash [32]byte
)

// schemaKey identifies the cache format, the schemas and the build of relgate
// that decoded: an entry is used only by the build that wrote it.
func schemaKey() [32]byte {
	keyOnce.Do(func() {
		h := sha256.New()
		h.Write([]byte(cacheFormat))
		names, _ := fs.Glob(schemas.FS, "*.json")
		for _, n := range names {
			data, _ := schemas.FS.ReadFile(n)
			fmt.Fprintf(h, "%s\x00%d\x00", n, len(data))
			h.Write(data)
		}
		fmt.Fprintf(h, "build\x00%s\x00", buildID())
		copy(keyHash[:], h.Sum(nil))
	})
	return keyHash
}

// buildID names the running executable: the Go build id from its ELF note
// (a hash of everything it was built from), else the SHA-256 of the file.
// A build that cannot be named gets a random name, so it trusts no cache
// file but its own.
func buildID() string {
	exe, err := os.Executable()
	if err == nil {
		if f, err := elf.Open(exe); err == nil {
			defer f.Close()
			if s := f.Section(".note.go.buildid"); s != nil {
				if data, err := s.Data(); err == nil && len(data) > 16 {
					return "go:" + hex.EncodeToString(data)
				}
			}
		}
		if f, err := os.Open(exe); err == nil {
			defer f.Close()
			h := sha256.New()
			if _, err := io.Copy(h, f); err == nil {
				return "sha256:" + hex.EncodeToString(h.Sum(nil))
			}
		}
	}
	var b [16]byte
	rand.Read(b[:])
	return "random:" + hex.EncodeToString(b[:])
}

// NewMemoryCache is a cache kept for one process only (Save does nothing):
// for work that decodes the same blobs again and again, such as evaluating
// every commit of a history.
func NewMemoryCache() *Cache {
	return &Cache{key: schemaKey(), index: map[cacheKey]cacheSpan{}, mem: map[cacheKey][]byte{}}
}

// OpenCache opens the cache at path (usually inside the git directory). A
// file that is not one, is damaged, or was written for other schemas or by
// another build of relgate is ignored (and replaced by Save).
func OpenCache(path string) *Cache {
	c := &Cache{path: path, key: schemaKey(), index: map[cacheKey]cacheSpan{}}
	f, err := os.Open(path)
	if err != nil {
		return c
	}
	if err := c.readIndex(f); err != nil {
		f.Close()
		c.index = map[cacheKey]cacheSpan{}
		c.dirty = true // corrupt or stale: rebuilt from this run
		return c
	}
	c.old = f
	return c
}

var errCacheFile = errors.New("not a decode cache of this relgate")

func (c *Cache) readIndex(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size < headerLen+trailerLen {
		return errCacheFile
	}
	var hdr [headerLen]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return err
	}
	if string(hdr[:len(cacheMagic)]) != cacheMagic || !bytes.Equal(hdr[len(cacheMagic):], c.key[:]) {
		return errCacheFile
	}
	var tr [trailerLen]byte
	if _, err := f.ReadAt(tr[:], size-trailerLen); err != nil {
		return err
	}
	if !bytes.Equal(tr[48:], trailerMagic) {
		return errCacheFile
	}
	off, n := int64(binary.LittleEndian.Uint64(tr[0:])), int64(binary.LittleEndian.Uint64(tr[8:]))
	if n > maxIndex || off < headerLen || n < 0 || off+n != size-trailerLen {
		return errCacheFile
	}
	idx := make([]byte, n)
	if _, err := f.ReadAt(idx, off); err != nil {
		return err
	}
	h := sha256.New()
	h.Write(hdr[:])
	h.Write(idx)
	if !bytes.Equal(h.Sum(nil), tr[16:48]) {
		return errCacheFile
	}
	for len(idx) > 0 {
		if len(idx) < entryIndex {
			return errCacheFile
		}
		var k cacheKey
		copy(k.ID[:], idx)
		kl := int(idx[20])
		if len(idx) < entryIndex+kl {
			return errCacheFile
		}
		k.Kind = document.Kind(idx[21 : 21+kl])
		r := idx[21+kl:]
		sp := cacheSpan{off: int64(binary.LittleEndian.Uint64(r)), value: binary.LittleEndian.Uint32(r[8:]),
			part: binary.LittleEndian.Uint32(r[12:]), probs: binary.LittleEndian.Uint32(r[16:]), crc: binary.LittleEndian.Uint32(r[20:])}
		if sp.off < headerLen || sp.size() > maxEntry || sp.off+sp.size() > off {
			return errCacheFile
		}
		c.index[k] = sp
		idx = r[24:]
	}
	return nil
}

// has reports whether the cache holds an entry for the blob (get may still
// find it damaged).
func (c *Cache) has(id source.BlobID, k document.Kind) bool {
	if c == nil || id.IsZero() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.index[cacheKey{id, k}]
	return ok
}

// get returns the entry for a blob, read and checked; a damaged entry is a miss.
func (c *Cache) get(id source.BlobID, k document.Kind) (cacheEntry, bool) {
	if c == nil || id.IsZero() {
		return cacheEntry{}, false
	}
	key := cacheKey{id, k}
	c.mu.Lock()
	sp, ok := c.index[key]
	var data []byte
	var f *os.File
	switch {
	case !ok:
	case c.mem != nil:
		data = c.mem[key]
	case sp.inOut:
		// Written by this run: through the buffer first.
		if c.w.Flush() != nil {
			ok = false
		}
		f = c.out
	default:
		f = c.old
	}
	c.mu.Unlock()
	if !ok {
		return cacheEntry{}, false
	}
	if f != nil {
		data = make([]byte, sp.size())
		if _, err := f.ReadAt(data, sp.off); err != nil {
			return cacheEntry{}, false
		}
	}
	if int64(len(data)) != sp.size() || crc32.Checksum(data, castagnoli) != sp.crc {
		return cacheEntry{}, false
	}
	e := cacheEntry{}
	if sp.value > 0 {
		e.Value = data[:sp.value:sp.value]
	}
	if sp.part > 0 {
		e.Partial = data[sp.value : sp.value+sp.part : sp.value+sp.part]
	}
	probs, err := decodeProblems(data[sp.value+sp.part:])
	if err != nil {
		return cacheEntry{}, false
	}
	e.Problems = probs
	return e, true
}

func (c *Cache) put(id source.BlobID, k document.Kind, value, partial any, probs []Problem) {
	if c == nil || id.IsZero() {
		return
	}
	var js, pjs []byte
	if value != nil {
		var err error
		if js, err = json.Marshal(value); err != nil {
			return
		}
	}
	if partial != nil {
		var err error
		if pjs, err = json.Marshal(partial); err != nil {
			return
		}
	}
	pb := encodeProblems(probs)
	sp := cacheSpan{value: uint32(len(js)), part: uint32(len(pjs)), probs: uint32(len(pb))}
	if sp.size() > maxEntry {
		return
	}
	crc := crc32.Update(crc32.Update(crc32.Checksum(js, castagnoli), castagnoli, pjs), castagnoli, pb)
	sp.crc = crc
	key := cacheKey{id, k}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mem != nil {
		c.mem[key] = append(append(append(make([]byte, 0, sp.size()), js...), pjs...), pb...)
		c.index[key] = sp
		return
	}
	if c.path == "" || c.failed != nil {
		return
	}
	if c.out == nil {
		if err := c.begin(); err != nil {
			c.failed = err
			return
		}
	}
	sp.inOut, sp.off = true, c.wrote
	for _, b := range [][]byte{js, pjs, pb} {
		if _, err := c.w.Write(b); err != nil {
			c.failed = err
			return
		}
	}
	c.wrote += sp.size()
	c.index[key] = sp
	c.dirty = true
}

// begin starts the file Save will rename over the cache.
func (c *Cache) begin() error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(c.path), ".cache-*")
	if err != nil {
		return err
	}
	c.out, c.w = f, bufio.NewWriterSize(f, 64<<10)
	c.w.WriteString(cacheMagic)
	c.w.Write(c.key[:])
	c.wrote = headerLen
	return nil
}

// Save writes the cache if this run added to it, atomically (write then
// rename): the entries this run wrote, the entries of the file it opened
// (copied, not decoded), the index and the trailer.
func (c *Cache) Save() error {
	if c == nil || c.path == "" || c.mem != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return nil
	}
	if c.failed != nil {
		c.discard()
		return c.failed
	}
	if c.out == nil {
		if err := c.begin(); err != nil {
			return err
		}
	}
	if err := c.finish(); err != nil {
		c.discard()
		return err
	}
	if err := os.Rename(c.out.Name(), c.path); err != nil {
		c.discard()
		return err
	}
	// The entries now live in the renamed file: it becomes the one opened.
	if c.old != nil {
		c.old.Close()
	}
	c.old, c.out, c.w = c.out, nil, nil
	for k, sp := range c.index {
		sp.inOut = false
		c.index[k] = sp
	}
	c.dirty = false
	return nil
}

func (c *Cache) finish() error {
	// Copy the entries of the opened file that this run kept, in file order.
	var buf []byte
	for k, sp := range c.index {
		if sp.inOut {
			continue
		}
		if int64(cap(buf)) < sp.size() {
			buf = make([]byte, sp.size())
		}
		b := buf[:sp.size()]
		if _, err := c.old.ReadAt(b, sp.off); err != nil || crc32.Checksum(b, castagnoli) != sp.crc {
			delete(c.index, k) // damaged: left out
			continue
		}
		if _, err := c.w.Write(b); err != nil {
			return err
		}
		sp.inOut, sp.off = true, c.wrote
		c.wrote += sp.size()
		c.index[k] = sp
	}
	idxOff := c.wrote
	h := sha256.New()
	h.Write([]byte(cacheMagic))
	h.Write(c.key[:])
	iw := io.MultiWriter(c.w, h)
	var n int64
	rec := make([]byte, 0, entryIndex+32)
	for k, sp := range c.index {
		if len(k.Kind) > 255 {
			return fmt.Errorf("decode cache: kind %q too long", k.Kind)
		}
		rec = append(rec[:0], k.ID[:]...)
		rec = append(rec, byte(len(k.Kind)))
		rec = append(rec, k.Kind...)
		rec = binary.LittleEndian.AppendUint64(rec, uint64(sp.off))
		rec = binary.LittleEndian.AppendUint32(rec, sp.value)
		rec = binary.LittleEndian.AppendUint32(rec, sp.part)
		rec = binary.LittleEndian.AppendUint32(rec, sp.probs)
		rec = binary.LittleEndian.AppendUint32(rec, sp.crc)
		if _, err := iw.Write(rec); err != nil {
			return err
		}
		n += int64(len(rec))
	}
	tr := binary.LittleEndian.AppendUint64(nil, uint64(idxOff))
	tr = binary.LittleEndian.AppendUint64(tr, uint64(n))
	tr = append(h.Sum(tr), trailerMagic...)
	if _, err := c.w.Write(tr); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	return c.out.Sync()
}

func (c *Cache) discard() {
	if c.out != nil {
		c.out.Close()
		os.Remove(c.out.Name())
	}
	c.out, c.w = nil, nil
}

// Close releases the cache file without saving.
func (c *Cache) Close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.discard()
	if c.old != nil {
		c.old.Close()
		c.old = nil
	}
}

// decodeCached returns the typed value of a cache entry.
func decodeCached(k document.Kind, e cacheEntry) (any, error) {
	return decodeJSON(k, e.Value)
}

func decodeJSON(k document.Kind, js []byte) (any, error) {
	if js == nil {
		return nil, nil
	}
	v := New(k)
	if err := json.Unmarshal(js, v); err != nil {
		return nil, err
	}
	return v, nil
}

// problemFields is the number of fields encodeProblems writes; a test fails
// when docschema.Problem gains one, so the encoding is extended with it.
const problemFields = 15

// encodeProblems writes problems exactly (every string byte for byte, nil
// and empty lists apart), without reflection.
func encodeProblems(ps []Problem) []byte {
	if len(ps) == 0 {
		return nil
	}
	b := binary.AppendUvarint(nil, uint64(len(ps)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(n int) { b = binary.AppendVarint(b, int64(n)) }
	for _, p := range ps {
		q := p.Problem
		num(q.Line)
		num(q.Column)
		for _, s := range []string{q.Field, q.Clause, q.Message, q.Code, q.Name, q.Title, q.Reason, q.Value, q.Got} {
			str(s)
		}
		if q.Want == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = binary.AppendUvarint(b, uint64(len(q.Want)))
			for _, w := range q.Want {
				str(w)
			}
		}
		num(q.Limit)
		num(q.Count)
		str(q.Hint)
		str(p.Rule)
	}
	return b
}

var errProblems = errors.New("decode cache: damaged problems")

func decodeProblems(b []byte) ([]Problem, error) {
	if len(b) == 0 {
		return nil, nil
	}
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	num := func() int {
		v, n := binary.Varint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return int(v)
	}
	str := func() string {
		n := uv()
		if bad || n > uint64(len(b)) {
			bad = true
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	count := uv()
	if bad || count > uint64(len(b)) {
		return nil, errProblems
	}
	ps := make([]Problem, 0, count)
	for i := uint64(0); i < count && !bad; i++ {
		var q docschema.Problem
		q.Line, q.Column = num(), num()
		for _, s := range []*string{&q.Field, &q.Clause, &q.Message, &q.Code, &q.Name, &q.Title, &q.Reason, &q.Value, &q.Got} {
			*s = str()
		}
		if len(b) == 0 {
			bad = true
			break
		}
		hasWant := b[0]
		b = b[1:]
		if hasWant == 1 {
			n := uv()
			if bad || n > uint64(len(b)) {
				bad = true
				break
			}
			q.Want = make([]string, 0, n)
			for j := uint64(0); j < n && !bad; j++ {
				q.Want = append(q.Want, str())
			}
		} else if hasWant != 0 {
			bad = true
		}
		q.Limit, q.Count = num(), num()
		q.Hint = str()
		ps = append(ps, Problem{Problem: q, Rule: str()})
	}
	if bad || len(b) != 0 {
		return nil, errProblems
	}
	return ps, nil
}
