package loader

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/schemas"
)

// cacheFormat changes whenever what Decode returns for the same bytes could
// change other than through the schemas (which are hashed into the key).
const cacheFormat = "relgate-decode-cache-v2"

// Cache keeps the result of decoding each blob: a blob id names exact content,
// so with the same schemas the result is valid forever, and a warm run reads
// no blob it has decoded before (shared/GIT-NOTES.md). A missing, stale or
// corrupt cache file is ignored and rewritten; deleting it is always safe.
type Cache struct {
	path    string
	key     string
	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	dirty   bool
}

type cacheKey struct {
	ID   source.BlobID
	Kind document.Kind
}

type cacheEntry struct {
	Value    []byte    // JSON of the typed document; nil when it had problems
	Partial  []byte    // JSON of the partial document when it had problems
	Problems []Problem // told in a language when read (docschema.Render)
}

type cacheFile struct {
	Key     string
	Entries map[cacheKey]cacheEntry
}

var (
	keyOnce sync.Once
	keyHash string
)

// schemaKey identifies the schemas and the cache format.
func schemaKey() string {
	keyOnce.Do(func() {
		h := sha256.New()
		h.Write([]byte(cacheFormat))
		names, _ := fs.Glob(schemas.FS, "*.json")
		for _, n := range names {
			data, _ := schemas.FS.ReadFile(n)
			fmt.Fprintf(h, "%s\x00%d\x00", n, len(data))
			h.Write(data)
		}
		keyHash = hex.EncodeToString(h.Sum(nil))
	})
	return keyHash
}

// NewMemoryCache is a cache kept for one process only (Save does nothing):
// for work that decodes the same blobs again and again, such as evaluating
// every commit of a history.
func NewMemoryCache() *Cache {
	return &Cache{key: schemaKey(), entries: map[cacheKey]cacheEntry{}}
}

// OpenCache reads the cache at path (usually inside the git directory).
func OpenCache(path string) *Cache {
	c := &Cache{path: path, key: schemaKey(), entries: map[cacheKey]cacheEntry{}}
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	var f cacheFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil || f.Key != c.key || f.Entries == nil {
		c.dirty = true // corrupt or stale: rebuilt from this run
		return c
	}
	c.entries = f.Entries
	return c
}

func (c *Cache) get(id source.BlobID, k document.Kind) (cacheEntry, bool) {
	if c == nil || id.IsZero() {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cacheKey{id, k}]
	return e, ok
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[cacheKey{id, k}] = cacheEntry{Value: js, Partial: pjs, Problems: probs}
	c.dirty = true
}

// Save writes the cache if this run added to it, atomically (write then rename).
func (c *Cache) Save() error {
	if c == nil || !c.dirty || c.path == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(cacheFile{Key: c.key, Entries: c.entries}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".cache-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	c.dirty = false
	return nil
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
