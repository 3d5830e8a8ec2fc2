package gen

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

// Objects are written straight into one pack instead of loose through
// go-git's storer: a loose 450 KB releases/ tree costs ~6 ms to compress and
// write, and 20,000 of them would take minutes and gigabytes. In the pack,
// each version of a large tree is a delta against the previous one (a
// commit changes one entry), so a version costs a hash and a few bytes.

// maxDeltaDepth bounds delta chains as git's pack-objects does by default,
// so `git repack -ad` can reuse every delta we write.
const maxDeltaDepth = 50

// minDeltaSize is the smallest tree worth storing as a delta.
const minDeltaSize = 4096

// packed is where an object sits in the pack.
type packed struct {
	offset int64
	depth  int // delta chain length; 0 for a full object
}

// packWriter appends objects to a pack file and indexes them.
type packWriter struct {
	dir   string // objects/pack
	f     *os.File
	w     *bufio.Writer
	off   int64
	count uint32
	objs  map[plumbing.Hash]packed
	index idxfile.Writer

	zbuf  bytes.Buffer
	zdef  *zlib.Writer // default level, for small objects
	zfast *zlib.Writer // best speed, for large trees
	delta []byte
	hdr   []byte
}

func newPackWriter(dir string) (*packWriter, error) {
	f, err := os.CreateTemp(dir, "tmp_pack_")
	if err != nil {
		return nil, err
	}
	p := &packWriter{dir: dir, f: f, w: bufio.NewWriterSize(f, 1<<20), objs: map[plumbing.Hash]packed{}}
	p.zdef = zlib.NewWriter(&p.zbuf)
	if p.zfast, err = zlib.NewWriterLevel(&p.zbuf, zlib.BestSpeed); err != nil {
		return nil, err
	}
	// The header's object count is patched in by finish.
	if _, err := p.w.Write(make([]byte, 12)); err != nil {
		return nil, err
	}
	p.off = 12
	_ = p.index.OnHeader(0)
	return p, nil
}

// objectHash is git's object id: SHA-1 of "<type> <size>\x00<content>".
func objectHash(t plumbing.ObjectType, data []byte) plumbing.Hash {
	h := sha1.New()
	h.Write([]byte(t.String()))
	h.Write([]byte{' '})
	h.Write([]byte(strconv.Itoa(len(data))))
	h.Write([]byte{0})
	h.Write(data)
	var out plumbing.Hash
	h.Sum(out[:0])
	return out
}

// put writes a full object unless the pack already holds it.
func (p *packWriter) put(t plumbing.ObjectType, data []byte) (plumbing.Hash, packed, error) {
	h := objectHash(t, data)
	if o, ok := p.objs[h]; ok {
		return h, o, nil
	}
	o, err := p.write(h, t, len(data), data, nil, 0)
	return h, o, err
}

// putDelta writes data as a delta against base, the content of the object at
// baseAt; it falls back to a full object when the chain is long or the delta
// is not small.
func (p *packWriter) putDelta(t plumbing.ObjectType, data, base []byte, baseAt packed) (plumbing.Hash, packed, error) {
	h := objectHash(t, data)
	if o, ok := p.objs[h]; ok {
		return h, o, nil
	}
	if baseAt.depth+1 >= maxDeltaDepth || len(base) == 0 {
		o, err := p.write(h, t, len(data), data, nil, 0)
		return h, o, err
	}
	p.delta = makeDelta(p.delta[:0], base, data)
	if len(p.delta) > len(data)/2 {
		o, err := p.write(h, t, len(data), data, nil, 0)
		return h, o, err
	}
	o, err := p.write(h, t, len(p.delta), p.delta, &baseAt, baseAt.depth+1)
	return h, o, err
}

func (p *packWriter) write(h plumbing.Hash, t plumbing.ObjectType, size int, data []byte, base *packed, depth int) (packed, error) {
	p.zbuf.Reset()
	z := p.zdef
	if len(data) > 64<<10 {
		z = p.zfast
	}
	z.Reset(&p.zbuf)
	if _, err := z.Write(data); err != nil {
		return packed{}, err
	}
	if err := z.Close(); err != nil {
		return packed{}, err
	}
	ptype := t
	if base != nil {
		ptype = plumbing.OFSDeltaObject
	}
	p.hdr = appendObjectHeader(p.hdr[:0], ptype, size)
	if base != nil {
		p.hdr = appendOffset(p.hdr, p.off-base.offset)
	}
	crc := crc32.Update(0, crc32.IEEETable, p.hdr)
	crc = crc32.Update(crc, crc32.IEEETable, p.zbuf.Bytes())
	o := packed{offset: p.off, depth: depth}
	if _, err := p.w.Write(p.hdr); err != nil {
		return packed{}, err
	}
	if _, err := p.w.Write(p.zbuf.Bytes()); err != nil {
		return packed{}, err
	}
	p.off += int64(len(p.hdr) + p.zbuf.Len())
	p.count++
	p.objs[h] = o
	p.index.Add(h, uint64(o.offset), crc)
	return o, nil
}

// finish patches the header, appends the checksum, writes the index and
// gives both files their final names. It returns the pack's path.
func (p *packWriter) finish() (string, error) {
	if err := p.w.Flush(); err != nil {
		return "", err
	}
	hdr := make([]byte, 12)
	copy(hdr, "PACK")
	binary.BigEndian.PutUint32(hdr[4:], 2)
	binary.BigEndian.PutUint32(hdr[8:], p.count)
	if _, err := p.f.WriteAt(hdr, 0); err != nil {
		return "", err
	}
	if _, err := p.f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	sum := sha1.New()
	if _, err := io.Copy(sum, bufio.NewReaderSize(p.f, 1<<20)); err != nil {
		return "", err
	}
	var checksum plumbing.Hash
	sum.Sum(checksum[:0])
	if _, err := p.f.Write(checksum[:]); err != nil {
		return "", err
	}
	if err := p.f.Close(); err != nil {
		return "", err
	}
	if err := p.index.OnFooter(checksum); err != nil {
		return "", err
	}
	idx, err := p.index.Index()
	if err != nil {
		return "", err
	}
	base := filepath.Join(p.dir, "pack-"+checksum.String())
	fi, err := os.Create(base + ".idx")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(fi)
	if _, err := idxfile.NewEncoder(w).Encode(idx); err != nil {
		fi.Close()
		return "", fmt.Errorf("write pack index: %w", err)
	}
	if err := w.Flush(); err != nil {
		fi.Close()
		return "", err
	}
	if err := fi.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(p.f.Name(), base+".pack"); err != nil {
		return "", err
	}
	for _, name := range []string{base + ".pack", base + ".idx"} {
		if err := os.Chmod(name, 0o444); err != nil {
			return "", err
		}
	}
	return base + ".pack", nil
}

// abort removes the unfinished pack.
func (p *packWriter) abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// appendObjectHeader encodes a pack entry's type and inflated size.
func appendObjectHeader(b []byte, t plumbing.ObjectType, size int) []byte {
	c := byte(t)<<4 | byte(size&0x0f)
	size >>= 4
	for size != 0 {
		b = append(b, c|0x80)
		c = byte(size & 0x7f)
		size >>= 7
	}
	return append(b, c)
}

// appendOffset encodes an OFS_DELTA's distance back to its base.
func appendOffset(b []byte, ofs int64) []byte {
	var buf [10]byte
	i := len(buf) - 1
	buf[i] = byte(ofs & 0x7f)
	for ofs >>= 7; ofs != 0; ofs >>= 7 {
		ofs--
		i--
		buf[i] = 0x80 | byte(ofs&0x7f)
	}
	return append(b, buf[i:]...)
}

// makeDelta encodes target as git delta instructions against base: copy the
// common prefix, insert the middle, copy the common suffix. A new tree
// version differs from the previous one in one place, which this finds
// without a general diff.
func makeDelta(dst, base, target []byte) []byte {
	pre := commonPrefix(base, target)
	suf := commonSuffix(base[pre:], target[pre:])
	dst = appendSize(dst, len(base))
	dst = appendSize(dst, len(target))
	dst = appendCopy(dst, 0, pre)
	dst = appendInsert(dst, target[pre:len(target)-suf])
	return appendCopy(dst, len(base)-suf, suf)
}

func commonPrefix(a, b []byte) int {
	const chunk = 256
	n := min(len(a), len(b))
	i := 0
	for i+chunk <= n && bytes.Equal(a[i:i+chunk], b[i:i+chunk]) {
		i += chunk
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

func commonSuffix(a, b []byte) int {
	const chunk = 256
	n := min(len(a), len(b))
	i := 0
	for i+chunk <= n && bytes.Equal(a[len(a)-i-chunk:len(a)-i], b[len(b)-i-chunk:len(b)-i]) {
		i += chunk
	}
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}

func appendSize(b []byte, n int) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// appendCopy emits copy-from-base instructions of at most 64 KiB each, the
// size git's own delta encoder uses.
func appendCopy(b []byte, off, n int) []byte {
	for n > 0 {
		size := min(n, 0x10000)
		op := len(b)
		b = append(b, 0x80)
		for i := 0; i < 4; i++ {
			if v := byte(off >> (8 * i)); v != 0 {
				b[op] |= 1 << i
				b = append(b, v)
			}
		}
		if size != 0x10000 { // a size of 0 means 0x10000
			for i := 0; i < 3; i++ {
				if v := byte(size >> (8 * i)); v != 0 {
					b[op] |= 0x10 << i
					b = append(b, v)
				}
			}
		}
		off += size
		n -= size
	}
	return b
}

func appendInsert(b, data []byte) []byte {
	for len(data) > 0 {
		n := min(len(data), 0x7f)
		b = append(b, byte(n))
		b = append(b, data[:n]...)
		data = data[n:]
	}
	return b
}
