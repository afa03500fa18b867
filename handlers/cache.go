package handlers

import (
	"hash/maphash"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
)

// numShards splits the cache so that a fill copies only a small map.
const numShards = 64

// evictSamples is how many entries eviction compares per victim.
const evictSamples = 5

// rep is one representation (identity, gzip or zstd) of a cached file, with
// its prebuilt heads. A nil body with ok false means "not available".
type rep struct {
	ok      bool
	body    []byte
	head    []byte // 200
	head304 []byte
	etag    []byte // quoted, for If-None-Match
}

// entry is one cached file. Everything but the two stamps is immutable once
// the entry is published, so loops share it without locks.
type entry struct {
	key      string // request path
	rel      string // path below the root that was opened
	meta     fileMeta
	reps     [numEnc]rep
	boundary string   // multipart/byteranges boundary
	paths    []string // absolute paths whose change invalidates the entry
	cost     int64
	// compressPending marks an entry whose variants the background
	// compressor has still to build.
	compressPending bool

	lastUse atomic.Int64 // clock ticks; approximate LRU
	checked atomic.Int64 // clock ticks of the last revalidation

	// files are memfd copies of large representations (see sendfile.go),
	// closed when refs (the cache's reference and one per response in
	// flight) drops to zero.
	files [numEnc]*os.File
	refs  atomic.Int64
}

// cache maps request paths to entries.
//
// Reads take no lock and write nothing shared: each shard publishes an
// immutable map through an atomic pointer and a fill copies that shard's map
// (copy-on-write; a shard holds 1/64 of the entries). A hit on a hot file
// from every loop therefore touches only read-shared cache lines, where an
// RWMutex would bounce its reader count between cores on every hit.
//
// LRU is approximate: a hit stores the coarse clock in entry.lastUse only
// when it changed (at most once per tick), and eviction samples a few
// entries and drops the least recently used one (Redis's scheme). Exact LRU
// would need a list relinked under a lock on every hit.
type cache struct {
	seed     maphash.Seed
	shards   [numShards]shard
	total    atomic.Int64
	maxTotal int64
	evictMu  sync.Mutex
	onDrop   func(*entry) // tells the watcher; may be nil
}

type shard struct {
	mu sync.Mutex // serializes writers only
	m  atomic.Pointer[map[string]*entry]
	_  [40]byte // keep shards on separate cache lines
}

func newCache(maxTotal int64) *cache {
	c := &cache{seed: maphash.MakeSeed(), maxTotal: maxTotal}
	for i := range c.shards {
		m := map[string]*entry{}
		c.shards[i].m.Store(&m)
	}
	return c
}

func (c *cache) shardOf(key []byte) *shard {
	return &c.shards[maphash.Bytes(c.seed, key)%numShards]
}

// shardOfKey is shardOf for a string key: maphash.String hashes the same
// bytes to the same value, without converting the key.
func (c *cache) shardOfKey(key string) *shard {
	return &c.shards[maphash.String(c.seed, key)%numShards]
}

// get returns the entry for a request path, or nil. It allocates nothing.
func (c *cache) get(key []byte) *entry {
	return (*c.shardOf(key).m.Load())[string(key)]
}

// swap publishes a copy of key's shard map in which key maps to ne (nil
// deletes it), if the current entry for key is want (any entry when
// anyPrev). It returns the entry it replaced and whether it swapped.
func (c *cache) swap(key string, want, ne *entry, anyPrev bool) (*entry, bool) {
	sh := c.shardOfKey(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur := *sh.m.Load()
	prev := cur[key]
	if !anyPrev && prev != want {
		return prev, false
	}
	next := make(map[string]*entry, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	if ne != nil {
		next[key] = ne
	} else {
		delete(next, key)
	}
	sh.m.Store(&next)
	return prev, true
}

// put publishes e, replacing any entry under the same key, then evicts
// until the total fits.
func (c *cache) put(e *entry) {
	prev, _ := c.swap(e.key, nil, e, true)
	c.total.Add(e.cost)
	if prev != nil {
		c.total.Add(-prev.cost)
		c.dropped(prev)
	}
	c.evict()
}

// replace publishes ne in place of old, if old is still current.
func (c *cache) replace(old, ne *entry) bool {
	if _, ok := c.swap(old.key, old, ne, false); !ok {
		return false
	}
	c.total.Add(ne.cost - old.cost)
	c.dropped(old)
	c.evict()
	return true
}

// remove unpublishes e if it is still the entry for its key.
func (c *cache) remove(e *entry) {
	if _, ok := c.swap(e.key, e, nil, false); !ok {
		return
	}
	c.total.Add(-e.cost)
	c.dropped(e)
}

func (c *cache) dropped(e *entry) {
	if c.onDrop != nil {
		c.onDrop(e)
	}
	e.Release()
}

// clear removes every entry (inotify queue overflow).
func (c *cache) clear() {
	for i := range c.shards {
		for _, e := range *c.shards[i].m.Load() {
			c.remove(e)
		}
	}
}

// evict drops sampled least-recently-used entries while over budget.
func (c *cache) evict() {
	if c.total.Load() <= c.maxTotal {
		return
	}
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	for c.total.Load() > c.maxTotal {
		victim := c.sample()
		if victim == nil {
			return
		}
		c.remove(victim)
	}
}

// sample looks at up to evictSamples entries, one per shard from a random
// shard on (map iteration starts at a random place too), and returns the
// least recently used.
func (c *cache) sample() *entry {
	var victim *entry
	seen := 0
	first := rand.IntN(numShards)
	for i := 0; i < numShards && seen < evictSamples; i++ {
		for _, e := range *c.shards[(first+i)%numShards].m.Load() {
			if victim == nil || e.lastUse.Load() < victim.lastUse.Load() {
				victim = e
			}
			seen++
			break
		}
	}
	return victim
}
