package gitrepo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/relgate/relgate/controller/source"
)

// packs reads whole blobs straight from a repository's pack files, for
// BlobReaders: go-git spends some 50 µs on each small blob (its object
// cache, scanner and buffers), three times what reading and inflating
// costs. The object's header gives its type and size, so an oversized blob
// is refused before anything is inflated; the content is inflated into a
// buffer of exactly its size, zlib's checksum is checked, and so is the
// blob's id (the SHA-1 of its content), which go-git does not. What it
// cannot read this way (deltas, loose objects, objects of alternates) the
// caller reads through go-git.
type packs struct {
	list []*pack
}

type pack struct {
	f       *os.File
	fanout  [256]uint32
	names   []byte // 20 bytes per object, sorted
	offsets []byte // 4 bytes per object
	large   []byte // 8 bytes per large offset
}

// errNotInPack: the object is not a whole object in a pack; read it elsewhere.
var errNotInPack = errors.New("not a whole object in a pack")

// openPacks opens the pack files of a git directory (version 2 indexes,
// SHA-1). A pack whose index does not check out is skipped: its objects are
// read through go-git.
func openPacks(gitDir string) *packs {
	idxs, _ := filepath.Glob(filepath.Join(gitDir, "objects", "pack", "pack-*.idx"))
	ps := &packs{}
	for _, idx := range idxs {
		if p, err := openPack(idx); err == nil {
			ps.list = append(ps.list, p)
		}
	}
	return ps
}

func openPack(idxPath string) (*pack, error) {
	idx, err := os.ReadFile(idxPath)
	if err != nil {
		return nil, err
	}
	// Header, fanout, and the two trailing checksums at least; the index's
	// own checksum covers everything before it.
	if len(idx) < 8+256*4+40 || !bytes.Equal(idx[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) {
		return nil, errors.New("not a version 2 pack index")
	}
	if sum := sha1.Sum(idx[:len(idx)-20]); !bytes.Equal(sum[:], idx[len(idx)-20:]) {
		return nil, errors.New("pack index checksum mismatch")
	}
	p := &pack{}
	for i := range p.fanout {
		p.fanout[i] = binary.BigEndian.Uint32(idx[8+4*i:])
	}
	n := int(p.fanout[255])
	body := idx[8+256*4 : len(idx)-40]
	if len(body) < n*28 {
		return nil, errors.New("pack index too short")
	}
	p.names, p.offsets, p.large = body[:20*n], body[24*n:28*n], body[28*n:]
	f, err := os.Open(idxPath[:len(idxPath)-len(".idx")] + ".pack")
	if err != nil {
		return nil, err
	}
	var hdr [8]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != "PACK" {
		f.Close()
		return nil, errors.New("not a pack file")
	}
	p.f = f
	return p, nil
}

func (ps *packs) close() {
	for _, p := range ps.list {
		p.f.Close()
	}
}

// find returns the offset of an object in the pack.
func (p *pack) find(id source.BlobID) (int64, bool) {
	lo := 0
	if id[0] > 0 {
		lo = int(p.fanout[id[0]-1])
	}
	hi := int(p.fanout[id[0]])
	if hi > len(p.names)/20 || lo > hi {
		return 0, false
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(p.names[20*m:20*m+20], id[:]); {
		case c == 0:
			off := binary.BigEndian.Uint32(p.offsets[4*m:])
			if off&0x80000000 == 0 {
				return int64(off), true
			}
			i := int(off &^ 0x80000000)
			if 8*i+8 > len(p.large) {
				return 0, false
			}
			return int64(binary.BigEndian.Uint64(p.large[8*i:])), true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return 0, false
}

// packReader is one goroutine's reader over packs: its buffers and zlib
// state are reused from blob to blob.
type packReader struct {
	ps *packs
	br *bufio.Reader
	zr io.ReadCloser
}

func (ps *packs) reader() *packReader {
	return &packReader{ps: ps, br: bufio.NewReaderSize(nil, 4096)}
}

// read returns the blob, source.ErrTooLarge for one over max bytes (from its
// header, uninflated), or errNotInPack.
func (r *packReader) read(id source.BlobID, max int64) ([]byte, error) {
	for _, p := range r.ps.list {
		off, ok := p.find(id)
		if !ok {
			continue
		}
		r.br.Reset(io.NewSectionReader(p.f, off, 1<<62))
		typ, size, err := objectHeader(r.br)
		if err != nil {
			return nil, fmt.Errorf("read blob %s: %w", id, err)
		}
		if typ != 3 { // a delta (6, 7) or not a blob: go-git's to read
			return nil, errNotInPack
		}
		if size > max {
			return nil, tooLarge(id, size, max)
		}
		if r.zr == nil {
			if r.zr, err = zlib.NewReader(r.br); err != nil {
				return nil, fmt.Errorf("read blob %s: %w", id, err)
			}
		} else if err := r.zr.(zlib.Resetter).Reset(r.br, nil); err != nil {
			return nil, fmt.Errorf("read blob %s: %w", id, err)
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(r.zr, buf); err != nil {
			return nil, fmt.Errorf("read blob %s: %w", id, err)
		}
		// The stream ends here; reading its end checks zlib's checksum.
		var one [1]byte
		if n, err := r.zr.Read(one[:]); n != 0 || err != io.EOF {
			return nil, fmt.Errorf("read blob %s: content longer than its header says or damaged (%v)", id, err)
		}
		h := sha1.New()
		h.Write([]byte("blob " + strconv.FormatInt(size, 10) + "\x00"))
		h.Write(buf)
		if !bytes.Equal(h.Sum(nil), id[:]) {
			return nil, fmt.Errorf("read blob %s: its content does not match its id (the pack is damaged)", id)
		}
		return buf, nil
	}
	return nil, errNotInPack
}

// objectHeader reads a packed object's type and inflated size.
func objectHeader(br io.ByteReader) (typ byte, size int64, err error) {
	b, err := br.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	typ, size = (b>>4)&7, int64(b&15)
	for shift := 4; b&0x80 != 0; shift += 7 {
		if shift > 56 {
			return 0, 0, errors.New("object header too long")
		}
		if b, err = br.ReadByte(); err != nil {
			return 0, 0, err
		}
		size |= int64(b&0x7f) << shift
	}
	return typ, size, nil
}
