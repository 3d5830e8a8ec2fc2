// Package history keeps an index of which commits touched which documents of
// a release repository, so the audit trail of one release is answered
// without a path-limited log over the whole history (shared/GIT-NOTES.md).
//
// The index is built in one pass over the commits: each commit's tree is
// compared with its first parent's by raw tree entry ids, level by level,
// descending only into folders whose ids differ. A commit that touches one
// release reads the root, the releases folder and nothing else. What a commit
// touched is recorded as keys: "releases/<id>" for a release folder,
// "<dir>/<file>" for the files of changes/, cmdb/, reviews/ and approvals/,
// "reports/<dir>/<file>" for reports, and the name of any other top-level
// entry (relgate.yaml). With each key the index keeps what it names after the
// commit (a blob or tree id), so what a path holds at any commit is found
// without reading the wide folders above it (Files).
// A merge is compared with its first parent: the whole change it lands.
//
// The index is kept in a cache file under the git directory
// (<git dir>/relgate/index-v1), extended with new commits only, and safe to
// delete. It is never trusted blindly: a file whose checksum or structure is
// wrong, or whose spot-checked commits do not match a fresh diff, is rebuilt.
package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/gitrepo"
)

// Index maps commits to the keys they touched.
type Index struct {
	prefix  string
	commits []entry
	pos     map[plumbing.Hash]int32
	keys    []string
	keyPos  map[string]int32
	// byKey inverts commits' keys, built on first use (under mu: an index
	// may be shared by goroutines that only read it).
	byKey [][]int32
	lift  *lifting
	mu    sync.Mutex
	// anc remembers IsAncestor's answers that took a long walk (under
	// ancMu): a history walk asks the same pairs at every commit that
	// touches a release (provenance's Origin, for each of its approvals).
	// Parent links never change once indexed, so an answer stays true.
	anc   map[[2]int32]bool
	ancMu sync.Mutex
}

type entry struct {
	hash    plumbing.Hash
	parents []int32 // indexes of parents in commits; -1 for a parent not in the repository (shallow)
	keys    []int32 // indexes into keys, sorted
	vals    []Entry // what each key names in the commit's tree, parallel to keys
}

// Kind is what a tree entry is.
type Kind uint8

// The kinds of tree entries.
const (
	Absent Kind = iota // no entry
	File               // a regular or executable file
	Dir                // a folder
	Other              // a symlink, a submodule, or a mode relgate does not read
)

// Entry is what a path names in a commit's tree.
type Entry struct {
	ID   plumbing.Hash
	Kind Kind
	// Mode is the entry's git mode (0o100644, 0o40000, …); 0 when absent,
	// badMode when it is not an octal number.
	Mode uint32
}

const badMode = 1<<32 - 1

func entryOf(e *rawEntry) Entry {
	if e == nil {
		return Entry{}
	}
	out := Entry{Mode: modeOf(e.mode)}
	out.Kind = kindOfMode(out.Mode)
	copy(out.ID[:], e.id)
	return out
}

func modeOf(mode []byte) uint32 {
	m, err := strconv.ParseUint(string(mode), 8, 32) // as go-git's filemode.New
	if err != nil || m == 0 {
		return badMode
	}
	return uint32(m)
}

// kindOfMode classifies a tree entry's mode as gitrepo.Tree.Stat does:
// 100644 and 100755 are files, 40000 folders, anything else is not regular.
func kindOfMode(m uint32) Kind {
	switch m {
	case 0:
		return Absent
	case 0o100644, 0o100755:
		return File
	case 0o40000:
		return Dir
	}
	return Other
}

// Stats say what opening the index did.
type Stats struct {
	// Loaded is true when a cache file was read and passed its checks.
	Loaded bool
	// Rebuilt says why the cache was not used: "missing", "corrupt: ...",
	// "spot check failed: ...", "other prefix"; empty when it was used.
	Rebuilt string
	// Scanned counts the commits diffed by this call; Total is the index size.
	Scanned, Total int
	// Saved is true when the cache file was written; SaveError says why it was not.
	Saved     bool
	SaveError string
	// Path is the cache file ("" when caching is off).
	Path string
}

// Options adjust Open.
type Options struct {
	// CachePath is the cache file; "" means DefaultPath, "-" keeps no cache.
	CachePath string
}

// DefaultPath is the cache file of a release repository at prefix inside
// the repository whose git directory is gitDir.
func DefaultPath(gitDir, prefix string) string {
	name := "index-v1"
	if prefix != "" {
		sum := sha256.Sum256([]byte(prefix))
		name += fmt.Sprintf("-%x", sum[:6])
	}
	return filepath.Join(gitDir, "relgate", name)
}

// Open returns the index of every commit reachable from tips, reading the
// cache, checking it, scanning the commits it lacks and saving it again.
func Open(r *gitrepo.Repo, prefix string, tips []plumbing.Hash, opts Options) (*Index, Stats, error) {
	prefix = strings.Trim(prefix, "/")
	if prefix == "." {
		prefix = ""
	}
	var st Stats
	p := opts.CachePath
	if p == "" {
		p = DefaultPath(r.GitDir(), prefix)
	}
	if p == "-" {
		p = ""
	}
	st.Path = p
	rd := newReader(r)
	defer rd.close()
	var ix *Index
	if p != "" {
		data, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			st.Rebuilt = "missing"
		case err != nil:
			return nil, st, fmt.Errorf("read history index %s: %w", p, err)
		default:
			loaded, err := decode(data)
			switch {
			case err != nil:
				st.Rebuilt = "corrupt: " + err.Error()
			case loaded.prefix != prefix:
				st.Rebuilt = "other prefix"
			default:
				if err := loaded.spotCheck(rd); err != nil {
					st.Rebuilt = "spot check failed: " + err.Error()
				} else {
					ix, st.Loaded = loaded, true
				}
			}
		}
	}
	if ix == nil {
		ix = &Index{prefix: prefix, pos: map[plumbing.Hash]int32{}, keyPos: map[string]int32{}}
	}
	n, err := ix.extend(rd, tips)
	if err != nil {
		return nil, st, err
	}
	st.Scanned, st.Total = n, len(ix.commits)
	if p != "" && (n > 0 || !st.Loaded) {
		// The cache only saves time: a repository the user cannot write to
		// is still audited, from an index kept in memory.
		if err := ix.save(p); err != nil {
			st.SaveError = err.Error()
		} else {
			st.Saved = true
		}
	}
	return ix, st, nil
}

// Prefix is the release repository's folder the index describes.
func (ix *Index) Prefix() string { return ix.prefix }

// extend scans the commits reachable from tips that the index lacks, oldest
// first (parents before children), and returns how many it scanned.
func (ix *Index) extend(rd *reader, tips []plumbing.Hash) (int, error) {
	type frame struct {
		h       plumbing.Hash
		tree    plumbing.Hash
		parents []plumbing.Hash
		next    int
	}
	trees := map[plumbing.Hash]plumbing.Hash{}
	var order []frame
	onStack := map[plumbing.Hash]bool{}
	for _, tip := range tips {
		if _, ok := ix.pos[tip]; ok || onStack[tip] {
			continue
		}
		// Iterative depth-first walk emitting a commit after its parents.
		tree, parents, err := rd.commit(tip)
		if err != nil {
			return 0, err
		}
		stack := []frame{{h: tip, tree: tree, parents: parents}}
		onStack[tip] = true
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next < len(top.parents) {
				ph := top.parents[top.next]
				top.next++
				if _, ok := ix.pos[ph]; ok || onStack[ph] {
					continue
				}
				t, ps, err := rd.commit(ph)
				if errors.Is(err, plumbing.ErrObjectNotFound) {
					continue // shallow: the parent is not here
				}
				if err != nil {
					return 0, err
				}
				onStack[ph] = true
				stack = append(stack, frame{h: ph, tree: t, parents: ps})
				continue
			}
			order = append(order, *top)
			trees[top.h] = top.tree
			stack = stack[:len(stack)-1]
		}
	}
	if len(order) > bulkCommits {
		if err := rd.bulk(); err != nil {
			return 0, err
		}
	}
	split := splitPrefix(ix.prefix)
	for _, f := range order {
		var parentTree plumbing.Hash
		if len(f.parents) > 0 {
			ph := f.parents[0]
			t, ok := trees[ph]
			if !ok {
				if _, known := ix.pos[ph]; known {
					var err error
					if t, _, err = rd.commit(ph); err != nil {
						return 0, err
					}
					trees[ph] = t
				}
			}
			parentTree = t
		}
		keys, err := touched(rd, parentTree, f.tree, split)
		if err != nil {
			return 0, fmt.Errorf("commit %s: %w", f.h, err)
		}
		e := entry{hash: f.h}
		for _, ph := range f.parents {
			if i, ok := ix.pos[ph]; ok {
				e.parents = append(e.parents, i)
			} else {
				e.parents = append(e.parents, -1)
			}
		}
		e.setKeys(ix, keys)
		ix.pos[f.h] = int32(len(ix.commits))
		ix.commits = append(ix.commits, e)
	}
	if len(order) > 0 {
		ix.byKey = nil
	}
	return len(order), nil
}

// bulkCommits is the number of new commits from which a scan reads the pack
// files whole instead of looking objects up one by one.
var bulkCommits = 200

// setKeys records what a commit touched, sorted by key index.
func (e *entry) setKeys(ix *Index, keys []touch) {
	type kv struct {
		k int32
		v Entry
	}
	kvs := make([]kv, len(keys))
	for i, t := range keys {
		kvs[i] = kv{ix.key(t.key), t.val}
	}
	sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	for i, x := range kvs {
		if i > 0 && x.k == kvs[i-1].k {
			// A file and a folder of one name sort apart in git trees, so a
			// file replaced by a folder (or back) is two differences: what
			// the name holds after the commit is the one that is there.
			if x.v.Kind != Absent {
				e.vals[len(e.vals)-1] = x.v
			}
			continue
		}
		e.keys = append(e.keys, x.k)
		e.vals = append(e.vals, x.v)
	}
}

func (ix *Index) key(k string) int32 {
	if i, ok := ix.keyPos[k]; ok {
		return i
	}
	i := int32(len(ix.keys))
	ix.keys = append(ix.keys, k)
	ix.keyPos[k] = i
	return i
}

func splitPrefix(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// depth says how many levels below each top-level folder its entries are
// keys of their own: one for the governed folders (a release folder, a
// change, a CMDB item), two for reports/ (reports/releases/<id>.md: one
// folder holds a report per release, so a coarser key would make every
// report commit touch every report).
var depth = map[string]int{document.ReleasesDir: 1, document.ChangesDir: 1, document.CMDBDir: 1,
	document.ReviewsDir: 1, document.ApprovalsDir: 1, document.ReportsDir: 2}

// touch is a key a commit changed and what the key names after it.
type touch struct {
	key string
	val Entry
}

// touched compares two commits' trees at prefix and returns the keys that differ.
func touched(rd *reader, parentRoot, root plumbing.Hash, prefix []string) ([]touch, error) {
	a, err := subtreeOrZero(rd, parentRoot, prefix)
	if err != nil {
		return nil, err
	}
	b, err := subtreeOrZero(rd, root, prefix)
	if err != nil {
		return nil, err
	}
	if a == b {
		return nil, nil
	}
	ta, err := rd.ptree(a)
	if err != nil {
		return nil, err
	}
	tb, err := rd.ptree(b)
	if err != nil {
		return nil, err
	}
	var keys []touch
	var record func(key string, ea, eb *rawEntry, depth int) error
	record = func(key string, ea, eb *rawEntry, depth int) error {
		if depth == 0 || !((ea != nil && ea.dir) || (eb != nil && eb.dir)) {
			keys = append(keys, touch{key, entryOf(eb)})
			return nil
		}
		if (ea != nil && !ea.dir) || (eb != nil && !eb.dir) {
			// A file became the folder or the folder a file: the file
			// changed too, under the folder's own name.
			keys = append(keys, touch{key, entryOf(eb)})
		}
		ra, err := rd.ptree(dirID(ea))
		if err != nil {
			return err
		}
		rb, err := rd.ptree(dirID(eb))
		if err != nil {
			return err
		}
		var inner error
		err = diffTrees(ra, rb, func(n []byte, xa, xb *rawEntry) {
			if inner == nil {
				inner = record(key+"/"+string(n), xa, xb, depth-1)
			}
		})
		if err == nil {
			err = inner
		}
		if err != nil {
			return fmt.Errorf("tree %s: %w", key, err)
		}
		return nil
	}
	var inner error
	err = diffTrees(ta, tb, func(name []byte, ea, eb *rawEntry) {
		if inner == nil {
			top := string(name)
			inner = record(top, ea, eb, depth[top])
		}
	})
	if err == nil {
		err = inner
	}
	return keys, err
}

func dirID(e *rawEntry) plumbing.Hash {
	var h plumbing.Hash
	if e != nil && e.dir {
		copy(h[:], e.id)
	}
	return h
}

func subtreeOrZero(rd *reader, root plumbing.Hash, prefix []string) (plumbing.Hash, error) {
	if root.IsZero() {
		return root, nil
	}
	return rd.subtree(root, prefix)
}

// Touching returns the commits reachable from tip that touched key, oldest
// first (parents before children).
func (ix *Index) Touching(tip plumbing.Hash, key string) ([]plumbing.Hash, error) {
	reach, err := ix.reachable(tip)
	if err != nil {
		return nil, err
	}
	k, ok := ix.keyPos[key]
	if !ok {
		return nil, nil
	}
	var out []plumbing.Hash
	for i, e := range ix.commits {
		if reach[i] && containsKey(e.keys, k) {
			out = append(out, e.hash)
		}
	}
	return out, nil
}

func containsKey(keys []int32, k int32) bool {
	i := sort.Search(len(keys), func(i int) bool { return keys[i] >= k })
	return i < len(keys) && keys[i] == k
}

// reachable marks the commits reachable from tip. Parents always come
// before their children in the index, so one backward sweep does it.
func (ix *Index) reachable(tip plumbing.Hash) ([]bool, error) {
	t, ok := ix.pos[tip]
	if !ok {
		return nil, fmt.Errorf("commit %s is not in the history index", tip)
	}
	reach := make([]bool, len(ix.commits))
	reach[t] = true
	for i := int(t); i >= 0; i-- {
		if !reach[i] {
			continue
		}
		for _, p := range ix.commits[i].parents {
			if p >= 0 {
				reach[p] = true
			}
		}
	}
	return reach, nil
}

// Order returns the given commits in index order: parents before children.
func (ix *Index) Order(commits map[plumbing.Hash]bool) ([]plumbing.Hash, error) {
	idx := make([]int32, 0, len(commits))
	for h := range commits {
		i, ok := ix.pos[h]
		if !ok {
			return nil, fmt.Errorf("commit %s is not in the history index", h)
		}
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	out := make([]plumbing.Hash, len(idx))
	for k, i := range idx {
		out[k] = ix.commits[i].hash
	}
	return out, nil
}

// Commit is one indexed commit.
type Commit struct {
	Hash plumbing.Hash
	// Parents are the commit's parents; the first is the one it was diffed with.
	Parents []plumbing.Hash
	// Keys are what the commit changed relative to its first parent, sorted.
	Keys []string
}

// Lookup returns an indexed commit.
func (ix *Index) Lookup(h plumbing.Hash) (Commit, bool) {
	i, ok := ix.pos[h]
	if !ok {
		return Commit{}, false
	}
	return ix.commit(i), true
}

func (ix *Index) commit(i int32) Commit {
	e := ix.commits[i]
	c := Commit{Hash: e.hash}
	for _, p := range e.parents {
		if p >= 0 {
			c.Parents = append(c.Parents, ix.commits[p].hash)
		}
	}
	for _, k := range e.keys {
		c.Keys = append(c.Keys, ix.keys[k])
	}
	sort.Strings(c.Keys)
	return c
}

// FirstParents returns the first-parent chain from tip back to (not
// including) stop, or to the root; oldest first.
func (ix *Index) FirstParents(tip, stop plumbing.Hash) ([]Commit, error) {
	i, ok := ix.pos[tip]
	if !ok {
		return nil, fmt.Errorf("commit %s is not in the history index", tip)
	}
	var out []Commit
	for {
		e := ix.commits[i]
		if e.hash == stop {
			break
		}
		out = append(out, ix.commit(i))
		if len(e.parents) == 0 || e.parents[0] < 0 {
			break
		}
		i = e.parents[0]
	}
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	return out, nil
}

// Len is the number of commits indexed.
func (ix *Index) Len() int { return len(ix.commits) }

// spotCheck re-diffs a few commits of the index and compares them
// with what the file says: a cache that lies is not used.
func (ix *Index) spotCheck(rd *reader) error {
	n := len(ix.commits)
	if n == 0 {
		return nil
	}
	// The first commit, the newest with its first parent and grandparent
	// (each one's trees are the next one's parent trees: read once), and
	// one chosen at random, which a forger cannot know in advance.
	picks := []int{0, n - 1}
	for i := n - 1; len(picks) < 4; {
		ps := ix.commits[i].parents
		if len(ps) == 0 || ps[0] < 0 {
			break
		}
		i = int(ps[0])
		picks = append(picks, i)
	}
	picks = append(picks, rand.IntN(n))
	seen := map[int]bool{}
	for _, i := range picks {
		if i < 0 || seen[i] {
			continue
		}
		seen[i] = true
		e := ix.commits[i]
		tree, parents, err := rd.commit(e.hash)
		if err != nil {
			return fmt.Errorf("commit %s: %w", e.hash, err)
		}
		if len(parents) != len(e.parents) {
			return fmt.Errorf("commit %s: parents differ", e.hash)
		}
		for j, p := range e.parents {
			if p >= 0 && ix.commits[p].hash != parents[j] {
				return fmt.Errorf("commit %s: parents differ", e.hash)
			}
		}
		var parentTree plumbing.Hash
		if len(parents) > 0 {
			if parentTree, _, err = rd.commit(parents[0]); err != nil && !errors.Is(err, plumbing.ErrObjectNotFound) {
				return err
			}
		}
		keys, err := touched(rd, parentTree, tree, splitPrefix(ix.prefix))
		if err != nil {
			return err
		}
		var fresh entry
		fresh.setKeys(&Index{keyPos: map[string]int32{}}, keys)
		if len(fresh.keys) != len(e.keys) {
			return fmt.Errorf("commit %s: recorded keys differ from its diff", e.hash)
		}
		want := map[string]Entry{}
		for _, k := range keys {
			want[k.key] = k.val
		}
		for j, k := range e.keys {
			if v, ok := want[ix.keys[k]]; !ok || v != e.vals[j] {
				return fmt.Errorf("commit %s: recorded keys differ from its diff", e.hash)
			}
		}
	}
	return nil
}

// The cache file: magic, then uvarint-prefixed fields, then a SHA-256 of
// everything before it.
// Version 3 records what each touched key names after the commit (mode
// and id).
var magic = []byte("relgate-history-index/v3\n")

func (ix *Index) encode() []byte {
	var b bytes.Buffer
	b.Write(magic)
	uv := func(x uint64) {
		var tmp [binary.MaxVarintLen64]byte
		b.Write(tmp[:binary.PutUvarint(tmp[:], x)])
	}
	str := func(s string) { uv(uint64(len(s))); b.WriteString(s) }
	str(ix.prefix)
	uv(uint64(len(ix.keys)))
	for _, k := range ix.keys {
		str(k)
	}
	uv(uint64(len(ix.commits)))
	for _, e := range ix.commits {
		b.Write(e.hash[:])
		uv(uint64(len(e.parents)))
		for _, p := range e.parents {
			uv(uint64(p + 1)) // 0 is a missing parent
		}
		uv(uint64(len(e.keys)))
		for j, k := range e.keys {
			uv(uint64(k))
			v := e.vals[j]
			uv(uint64(v.Mode))
			if v.Mode != 0 {
				b.Write(v.ID[:])
			}
		}
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uv(limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 || x > limit {
		d.err = errors.New("bad number")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)) < n {
		d.err = errors.New("truncated")
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func decode(data []byte) (*Index, error) {
	if len(data) < len(magic)+sha256.Size || !bytes.HasPrefix(data, magic) {
		return nil, errors.New("not a relgate history index")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, errors.New("checksum mismatch")
	}
	d := &decoder{b: body[len(magic):]}
	limit := uint64(len(data))
	// One string holds every key, and shared arrays every commit's parents,
	// keys and entries: a load is a few allocations, not one per key.
	all := string(body)
	str := func(n uint64) string {
		b := d.bytes(n)
		if d.err != nil {
			return ""
		}
		off := len(body) - len(d.b) - len(b)
		return all[off : off+len(b)]
	}
	ix := &Index{}
	ix.prefix = str(d.uv(limit))
	nk := d.uv(limit)
	ix.keys = make([]string, 0, min(nk, limit))
	ix.keyPos = make(map[string]int32, min(nk, limit))
	for i := uint64(0); i < nk && d.err == nil; i++ {
		k := str(d.uv(limit))
		ix.keyPos[k] = int32(len(ix.keys))
		ix.keys = append(ix.keys, k)
	}
	nc := d.uv(limit)
	ix.commits = make([]entry, 0, min(nc, limit/21))
	ix.pos = make(map[plumbing.Hash]int32, min(nc, limit/21))
	var parents, keys []int32
	var vals []Entry
	for i := uint64(0); i < nc && d.err == nil; i++ {
		var e entry
		copy(e.hash[:], d.bytes(20))
		np := d.uv(limit)
		start := len(parents)
		for j := uint64(0); j < np && d.err == nil; j++ {
			p := d.uv(i) // a parent precedes its child
			parents = append(parents, int32(p)-1)
		}
		e.parents = parents[start:len(parents):len(parents)]
		nkeys := d.uv(nk)
		start = len(keys)
		for j := uint64(0); j < nkeys && d.err == nil; j++ {
			if nk == 0 {
				d.err = errors.New("key out of range")
				break
			}
			k := int32(d.uv(nk - 1))
			if len(keys) > start && k <= keys[len(keys)-1] && d.err == nil {
				d.err = errors.New("keys out of order")
			}
			var v Entry
			v.Mode = uint32(d.uv(badMode))
			v.Kind = kindOfMode(v.Mode)
			if v.Mode != 0 {
				copy(v.ID[:], d.bytes(20))
			}
			keys = append(keys, k)
			vals = append(vals, v)
		}
		if len(keys) > start {
			e.keys = keys[start:len(keys):len(keys)]
			e.vals = vals[start:len(vals):len(vals)]
		}
		if _, dup := ix.pos[e.hash]; dup && d.err == nil {
			d.err = errors.New("duplicate commit")
		}
		ix.pos[e.hash] = int32(len(ix.commits))
		ix.commits = append(ix.commits, e)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return ix, nil
}

// save writes the cache file atomically: a reader never sees half a file.
func (ix *Index) save(p string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write history index %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".index-*")
	if err != nil {
		return fmt.Errorf("write history index %s: %w", p, err)
	}
	_, werr := tmp.Write(ix.encode())
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write history index %s: %w", p, werr)
	}
	return nil
}

// FileChange is a file that differs between two commits.
type FileChange struct {
	Path     string // relative to the release repository
	Old, New plumbing.Hash
}

// DiffDir lists the files under dir (a folder of the release repository at
// prefix) that differ between two commits, sorted by path. from may be the
// zero hash (a root commit). It reads only the trees on the way to dir and
// inside it.
func DiffDir(r *gitrepo.Repo, prefix string, from, to plumbing.Hash, dir string) ([]FileChange, error) {
	rd := newReader(r)
	defer rd.close()
	path := append(splitPrefix(strings.Trim(prefix, "/")), splitPrefix(dir)...)
	root := func(c plumbing.Hash) (plumbing.Hash, error) {
		if c.IsZero() {
			return c, nil
		}
		t, _, err := rd.commit(c)
		if err != nil {
			return t, err
		}
		return rd.subtree(t, path)
	}
	a, err := root(from)
	if err != nil {
		return nil, err
	}
	b, err := root(to)
	if err != nil {
		return nil, err
	}
	out, err := diffUnder(rd, a, b, strings.Trim(dir, "/"))
	if err != nil {
		return nil, fmt.Errorf("diff %s between %s and %s: %w", dir, from, to, err)
	}
	return out, nil
}

// DiffKey is DiffDir for what an index key names (a release folder, a
// governed file): the index gives its entry at both commits, so no tree
// above it is read — not the releases folder, with an entry per release.
// from may be the zero hash.
func (ix *Index) DiffKey(r *gitrepo.Repo, from, to plumbing.Hash, key string) ([]FileChange, error) {
	var a Entry
	if !from.IsZero() {
		var err error
		if a, err = ix.EntryAt(from, key); err != nil {
			return nil, err
		}
	}
	b, err := ix.EntryAt(to, key)
	if err != nil {
		return nil, err
	}
	if a == b {
		return nil, nil
	}
	var out []FileChange
	if fa, fb := fileEntry(a), fileEntry(b); fa.ID != fb.ID {
		out = append(out, FileChange{Path: key, Old: fa.ID, New: fb.ID})
	}
	if da, db := dirOf(a), dirOf(b); da != db {
		rd := newReader(r)
		defer rd.close()
		more, err := diffUnder(rd, da, db, key)
		if err != nil {
			return nil, fmt.Errorf("diff %s between %s and %s: %w", key, from, to, err)
		}
		out = append(out, more...)
		sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	}
	return out, nil
}

// diffUnder lists the files that differ between trees a and b (either may
// be zero) found at path dir, sorted by path.
func diffUnder(rd *reader, a, b plumbing.Hash, dir string) ([]FileChange, error) {
	var out []FileChange
	var walk func(a, b plumbing.Hash, p string) error
	walk = func(a, b plumbing.Hash, p string) error {
		if a == b {
			return nil
		}
		ta, err := rd.tree(a)
		if err != nil {
			return err
		}
		tb, err := rd.tree(b)
		if err != nil {
			return err
		}
		var inner error
		err = diffRaw(ta, tb, func(name []byte, ea, eb *rawEntry) {
			full := p + "/" + string(name)
			if (ea != nil && ea.dir) || (eb != nil && eb.dir) {
				if err := walk(dirID(ea), dirID(eb), full); err != nil && inner == nil {
					inner = err
				}
				// A file replaced by a folder (or back) also changed as a file.
				ea, eb = fileOnly(ea), fileOnly(eb)
				if ea == nil && eb == nil {
					return
				}
			}
			fc := FileChange{Path: full}
			if ea != nil {
				copy(fc.Old[:], ea.id)
			}
			if eb != nil {
				copy(fc.New[:], eb.id)
			}
			out = append(out, fc)
		})
		if err == nil {
			err = inner
		}
		return err
	}
	if err := walk(a, b, dir); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func fileOnly(e *rawEntry) *rawEntry {
	if e == nil || e.dir {
		return nil
	}
	return e
}

// KeyOf is the index key a path of the release repository is recorded
// under: its release folder, its file in a governed folder, or its top-level
// name.
func KeyOf(p string) string {
	top, rest, more := strings.Cut(p, "/")
	key := top
	for d := depth[top]; d > 0 && more; d-- {
		var name string
		name, rest, more = strings.Cut(rest, "/")
		key += "/" + name
	}
	return key
}

// Reach marks the commits reachable from any of tips.
type Reach struct {
	ix   *Index
	mark []bool
}

// Reachable returns the commits reachable from any of tips.
func (ix *Index) Reachable(tips ...plumbing.Hash) (*Reach, error) {
	mark := make([]bool, len(ix.commits))
	top := -1
	for _, tip := range tips {
		t, ok := ix.pos[tip]
		if !ok {
			return nil, fmt.Errorf("commit %s is not in the history index", tip)
		}
		mark[t] = true
		top = max(top, int(t))
	}
	for i := top; i >= 0; i-- {
		if !mark[i] {
			continue
		}
		for _, p := range ix.commits[i].parents {
			if p >= 0 {
				mark[p] = true
			}
		}
	}
	return &Reach{ix: ix, mark: mark}, nil
}

// Contains reports whether h is reachable.
func (r *Reach) Contains(h plumbing.Hash) bool {
	i, ok := r.ix.pos[h]
	return ok && r.mark[i]
}

// Touching returns the reachable commits that touched key, parents before
// children. A commit is recorded as touching a key when it differs there from
// its first parent; a commit that changes a path relative to every parent
// always does.
func (r *Reach) Touching(key string) []plumbing.Hash {
	k, ok := r.ix.keyPos[key]
	if !ok {
		return nil
	}
	var out []plumbing.Hash
	for _, i := range r.ix.postings(k) {
		if r.mark[i] {
			out = append(out, r.ix.commits[i].hash)
		}
	}
	return out
}

// postings returns the commits that touched key k, in index order; the
// inverted lists are built once, on first use.
func (ix *Index) postings(k int32) []int32 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.byKey == nil {
		ix.byKey = make([][]int32, len(ix.keys))
		for i, e := range ix.commits {
			for _, kk := range e.keys {
				ix.byKey[kk] = append(ix.byKey[kk], int32(i))
			}
		}
	}
	if int(k) >= len(ix.byKey) {
		return nil
	}
	return ix.byKey[k]
}

// IsAncestor reports whether a is an ancestor of b (or b itself), by the
// parent links alone: commit dates play no part.
func (ix *Index) IsAncestor(a, b plumbing.Hash) bool {
	ia, ok1 := ix.pos[a]
	ib, ok2 := ix.pos[b]
	if !ok1 || !ok2 || ia > ib {
		return false // parents come before children in the index
	}
	if ia == ib {
		return true
	}
	if ib-ia < ancMemoFrom {
		return ix.isAncestor(ia, ib)
	}
	key := [2]int32{ia, ib}
	ix.ancMu.Lock()
	v, ok := ix.anc[key]
	ix.ancMu.Unlock()
	if ok {
		return v
	}
	v = ix.isAncestor(ia, ib)
	ix.ancMu.Lock()
	if ix.anc == nil || len(ix.anc) >= ancMemoMost {
		ix.anc = map[[2]int32]bool{}
	}
	ix.anc[key] = v
	ix.ancMu.Unlock()
	return v
}

// ancMemoFrom is the distance in index order from which IsAncestor's
// answers are remembered; ancMemoMost bounds how many.
const (
	ancMemoFrom = 64
	ancMemoMost = 1 << 20
)

// isAncestor walks the parent links from ib down to ia (ia < ib).
func (ix *Index) isAncestor(ia, ib int32) bool {
	// Only commits between a and b in index order can lie on a path from b
	// down to a, so the marks cover that window.
	seen := make([]bool, ib-ia+1)
	seen[ib-ia] = true
	stack := []int32{ib}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range ix.commits[i].parents {
			if p == ia {
				return true
			}
			if p > ia && !seen[p-ia] {
				seen[p-ia] = true
				stack = append(stack, p)
			}
		}
	}
	return false
}

// Shallow reports whether h has a parent missing from the repository.
func (ix *Index) Shallow(h plumbing.Hash) bool {
	i, ok := ix.pos[h]
	if !ok {
		return false
	}
	for _, p := range ix.commits[i].parents {
		if p < 0 {
			return true
		}
	}
	return false
}

// MergeBases returns the best common ancestors of a and b (git merge-base
// --all), newest first in index order; none when they share no history.
func (ix *Index) MergeBases(a, b plumbing.Hash) ([]plumbing.Hash, error) {
	ra, err := ix.Reachable(a)
	if err != nil {
		return nil, err
	}
	rb, err := ix.Reachable(b)
	if err != nil {
		return nil, err
	}
	covered := make([]bool, len(ix.commits))
	var out []plumbing.Hash
	for i := len(ix.commits) - 1; i >= 0; i-- {
		if !ra.mark[i] || !rb.mark[i] {
			continue
		}
		if !covered[i] {
			out = append(out, ix.commits[i].hash)
		}
		// Every ancestor of a common ancestor is covered by it.
		for _, p := range ix.commits[i].parents {
			if p >= 0 {
				covered[p] = true
			}
		}
	}
	return out, nil
}
