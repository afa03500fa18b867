package handlers

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The response cache's store: S3-FIFO eviction over append-only byte
// pages, with an index that holds no pointers, all of it off the Go heap.
//
// Why not a library: otter (W-TinyLFU) keeps a node with Go pointers per
// entry, so every GC cycle marks a million objects for a million entries;
// bigcache is pointer-free but copies the value out on every Get (an
// allocation per hit). gale needs both: no per-entry pointers and hits
// that return views.
//
// Layout. An entry is one contiguous run of bytes (key, prebuilt heads,
// body, validators, tags) inside a page, an anonymous mapping of pageSize
// (or one page of its own for a large object), after a record header
// naming its slot. Its fixed-size metadata lives in the slot, a plain
// struct in the shard's slot table; the index is an open-addressing table
// from hash to slot. All three are mappings (rcache_mem.go,
// rcache_index.go): the collector scans a few hundred page headers
// whatever the number of entries, and what the process holds for the
// cache is what the cache counts against its budget — pages, slots and
// index together — not twice that once the heap has grown.
//
// Pages are append-only and never reused: a page leaves the store whole,
// and is unmapped once no view of it is pinned (page.retire). A hit
// hands the socket layer views of an entry without copying, with a pin
// the socket layer releases once the bytes are out, and an evicted page
// a slow client still reads stays mapped until it is sent.
//
// Eviction is S3-FIFO (Yang et al., SOSP 2023) at page granularity: new
// entries go to a small FIFO (10% of the bytes), entries whose hash a
// ghost FIFO remembers go to the main FIFO. When the oldest small page is
// evicted, its entries that were hit since they were stored move to main,
// the others leave (their hash goes to the ghost); when the oldest main
// page is evicted, entries hit since their last move are copied to the
// tail again with one hit less. One-hit wonders so never displace the
// working set, which is what makes S3-FIFO beat LRU on web traces, and
// hits only bump an atomic counter (no list to relink under a lock).
type store struct {
	err      error // a shard's reservation failed: it stores nothing
	shards   []storeShard
	mask     uint64
	pageSize int
}

// entryMeta is an entry's fixed-size metadata, kept in its slot.
type entryMeta struct {
	gen      uint32 // the cache's generation when stored (purge all)
	status   uint16
	flags    uint16
	storedAt int64 // response_time, unix ns
	initAge  int64 // corrected_initial_age, ns
	lifetime int64 // freshness lifetime, ns
	swr, sie int64 // stale-while-revalidate, stale-if-error, ns
	lastMod  int64 // Last-Modified, unix s (0: none)
	date     int64 // Date, unix s (the response time when the application sent none)
	// Lengths of the entry's parts, in this order in its bytes.
	keyN, varyN, headN, bodyN, etagN, tagsN uint32
	// statusN and clN are the lengths of the head's status line and of
	// its trailing Content-Length line (see entryMeta.fields).
	statusN, clN uint32
	// The compressed variants, after the tags: gzip head and body, zstd
	// head and body (0: none; see rcache_variants.go).
	gzHeadN, gzN, zsHeadN, zsN uint32
}

// Entry flags.
const (
	fNoCache        = 1 << iota // revalidate before every reuse
	fMustRevalidate             // never served stale
	fVarySpec                   // the entry holds the Vary list of a key, not a response
	fSoftPurged                 // marked stale by a soft purge
	fWeakETag                   // the ETag is weak: no ranges by If-Range
)

// Queues of a slot.
const (
	qFree uint8 = iota
	qSmall
	qMain
)

// slot is an entry's place in the shard: in the slot table, off the heap
// (no pointers in it).
type slot struct {
	hash   uint64
	page   uint32 // page id; for a free slot, the next free slot + 1
	off, n uint32 // the entry's bytes in its page (after its record header)
	queue  uint8
	freq   uint32 // hits since stored or moved, capped; atomic
	meta   entryMeta
}

// recHeader is the size of a record's header in a page: its slot and its
// length, so that evicting a page walks its entries without a per-entry
// list on the heap.
const recHeader = 8

type storeShard struct {
	mu     sync.RWMutex
	idx    entryIndex
	slots  slotTable
	pages  []*page // by id; nil: free id
	freeID []uint32
	fifo   [3][]uint32 // page ids per queue, oldest first
	open   [3]uint32   // the page each queue appends to (+1; 0: none)
	qBytes [3]int64
	bytes  int64 // bytes of all pages
	budget int64
	ghost  ghostFIFO
	// pinned is the bytes of pages evicted while still pinned, not yet
	// unmapped (page.retire); they count against the budget.
	pinned atomic.Int64

	evictions atomic.Uint64
}

// ghostFIFO remembers the hashes of entries evicted from the small queue.
type ghostFIFO struct {
	ring []uint64
	at   int
	set  map[uint64]uint8
}

func (g *ghostFIFO) add(h uint64) {
	if old := g.ring[g.at]; old != 0 {
		if g.set[old]--; g.set[old] == 0 {
			delete(g.set, old)
		}
	}
	g.ring[g.at] = h
	g.set[h]++
	g.at = (g.at + 1) % len(g.ring)
}

func (g *ghostFIFO) has(h uint64) bool { return g.set[h] > 0 }

// newStore makes a store of about total bytes; objects up to maxObject.
func newStore(total, maxObject int64) *store {
	n := 1
	for n < 16 && total/int64(n*2) >= 32<<20 {
		n *= 2 // shards of at least 32 MiB: page eviction stays fine-grained
	}
	per := total / int64(n)
	ps := int(min(max(per/64, 16<<10), 1<<20))
	s := &store{shards: make([]storeShard, n), mask: uint64(n - 1), pageSize: ps}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.budget = per
		sh.ghost = ghostFIFO{ring: make([]uint64, 4096), set: map[uint64]uint8{}}
		// The budget pays for at most this many slots (over counts them),
		// so the reservation never runs out; it is only address space
		// until used. A failed reservation leaves a shard that stores
		// nothing (RespCache.Err says so).
		var err error
		if sh.slots, err = newSlotTable(int(per/int64(unsafe.Sizeof(slot{}))) + 2); err != nil && s.err == nil {
			s.err = fmt.Errorf("reserving %d bytes of slots: %w", per, err)
		}
	}
	// The mappings are the store's own: when a reload leaves the store
	// behind, they go back to the kernel (pinned pages once released).
	runtime.AddCleanup(s, closeShards, s.shards)
	return s
}

// closeShards unmaps what the shards hold.
func closeShards(shards []storeShard) {
	for i := range shards {
		sh := &shards[i]
		sh.mu.Lock()
		for id, pg := range sh.pages {
			if pg != nil {
				sh.pages[id] = nil
				pg.retire()
			}
		}
		sh.slots.close()
		sh.idx.close()
		sh.mu.Unlock()
	}
}

func (s *store) shard(h uint64) *storeShard { return &s.shards[(h>>32)&s.mask] }

// get returns a copy of the entry's metadata, a view of its bytes and
// the page holding them, pinned: the view is valid until the caller
// releases the pin (pg.Release), which it must do once.
func (s *store) get(h uint64) (entryMeta, []byte, *page, bool) {
	sh := s.shard(h)
	sh.mu.RLock()
	i, ok := sh.idx.get(h, sh.slots.all)
	if !ok {
		sh.mu.RUnlock()
		return entryMeta{}, nil, nil, false
	}
	sl := &sh.slots.all[i]
	if atomic.LoadUint32(&sl.freq) < 3 {
		atomic.AddUint32(&sl.freq, 1)
	}
	m := sl.meta
	pg := sh.pages[sl.page]
	pg.pin()
	data := pg.mem[sl.off : sl.off+sl.n : sl.off+sl.n]
	sh.mu.RUnlock()
	return m, data, pg, true
}

// put stores an entry under h, replacing any.
func (s *store) put(h uint64, m entryMeta, data []byte) {
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.drop(h)
	if int64(len(data)) > sh.budget/2 {
		return
	}
	q := qSmall
	if sh.ghost.has(h) {
		q = qMain
	}
	sh.insert(h, q, 0, m, data, s.pageSize)
	for sh.over() && sh.evictPage(s.pageSize) {
	}
}

// held is what the shard holds: its pages, the part of its slot table in
// use, its index, and evicted pages still pinned.
func (sh *storeShard) held() int64 {
	return sh.bytes + sh.slots.bytes() + sh.idx.bytes() + sh.pinned.Load()
}

// over reports whether the shard holds more than its budget: per entry,
// the slot and index entry count as well as the bytes, so that a million
// tiny entries are bounded as a few large ones are.
func (sh *storeShard) over() bool { return sh.held() > sh.budget }

// replaceIf replaces the entry under h with (m, data) when ok says the
// current one is still the one the caller started from; it keeps the
// entry's place in its queue's order only as far as put does.
func (s *store) replaceIf(h uint64, ok func(cur *entryMeta) bool, m entryMeta, data []byte) bool {
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, found := sh.idx.get(h, sh.slots.all)
	if !found || !ok(&sh.slots.all[i].meta) || int64(len(data)) > sh.budget/2 {
		return false
	}
	q := sh.slots.all[i].queue
	f := atomic.LoadUint32(&sh.slots.all[i].freq)
	sh.drop(h)
	stored := sh.insert(h, q, f, m, data, s.pageSize)
	for sh.over() && sh.evictPage(s.pageSize) {
	}
	return stored
}

// del removes the entry under h; false when there was none.
func (s *store) del(h uint64) bool {
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.drop(h)
}

// update changes the metadata of the entry under h in place.
func (s *store) update(h uint64, fn func(*entryMeta)) bool {
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.idx.get(h, sh.slots.all)
	if ok {
		fn(&sh.slots.all[i].meta)
	}
	return ok
}

// scan calls fn for every entry; fn returns what to do with it. It holds
// one shard's lock at a time; the views it passes are valid during fn.
func (s *store) scan(fn func(m *entryMeta, data []byte) scanAction) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for si := range sh.slots.all[:sh.slots.n] {
			sl := &sh.slots.all[si]
			if sl.queue == qFree {
				continue
			}
			p := sh.pages[sl.page].mem
			switch fn(&sl.meta, p[sl.off:sl.off+sl.n:sl.off+sl.n]) {
			case scanDelete:
				sh.drop(sl.hash)
				n++
			case scanMarked:
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

type scanAction uint8

const (
	scanKeep   scanAction = iota
	scanDelete            // remove the entry
	scanMarked            // fn changed the entry's metadata
)

// usage reports the bytes the store holds (pages, slots, index, evicted
// pages still pinned), the number of entries and evictions.
func (s *store) usage() (bytes int64, entries int, evictions uint64) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		bytes += sh.held()
		entries += sh.idx.n
		sh.mu.RUnlock()
		evictions += sh.evictions.Load()
	}
	return
}

// drop unlinks the entry under h; its bytes stay in their page until the
// page is evicted.
func (sh *storeShard) drop(h uint64) bool {
	i, ok := sh.idx.get(h, sh.slots.all)
	if !ok {
		return false
	}
	sh.idx.del(h, sh.slots.all)
	sh.slots.release(i)
	return true
}

// insert copies data into the open page of queue q, after a record header,
// and indexes it; false when there was no memory for it.
func (sh *storeShard) insert(h uint64, q uint8, freq uint32, m entryMeta, data []byte, pageSize int) bool {
	si, ok := sh.slots.alloc()
	if !ok {
		return false
	}
	pid, off, ok := sh.room(q, recHeader+len(data), pageSize)
	if !ok {
		sh.slots.release(si)
		return false
	}
	pg := sh.pages[pid]
	binary.NativeEndian.PutUint32(pg.mem[off:], si)
	binary.NativeEndian.PutUint32(pg.mem[off+4:], uint32(len(data)))
	off += recHeader
	copy(pg.mem[off:], data)
	sh.slots.all[si] = slot{hash: h, page: pid, off: uint32(off), n: uint32(len(data)), queue: q, freq: freq, meta: m}
	if !sh.idx.set(h, si) {
		sh.slots.release(si) // its record stays, dead, until the page goes
		return false
	}
	return true
}

// room finds n bytes at the end of queue q's open page, opening a new page
// when they do not fit (a page of its own for a large object).
func (sh *storeShard) room(q uint8, n, pageSize int) (uint32, int, bool) {
	if o := sh.open[q]; o != 0 {
		pg := sh.pages[o-1]
		if pg.used+n <= len(pg.mem) {
			off := pg.used
			pg.used += n
			return o - 1, off, true
		}
	}
	size := pageSize
	if n > pageSize/2 {
		size = n // a page of its own: no large tail left empty
	}
	mem, err := mapAnon(size)
	if err != nil {
		return 0, 0, false
	}
	pg := &page{mem: mem, used: n, sh: sh, queue: q}
	var id uint32
	if k := len(sh.freeID); k > 0 {
		id = sh.freeID[k-1]
		sh.freeID = sh.freeID[:k-1]
		sh.pages[id] = pg
	} else {
		sh.pages = append(sh.pages, pg)
		id = uint32(len(sh.pages) - 1)
	}
	sh.fifo[q] = append(sh.fifo[q], id)
	sh.bytes += int64(len(mem))
	sh.qBytes[q] += int64(len(mem))
	if size == pageSize {
		sh.open[q] = id + 1
	}
	return id, 0, true
}

// evictPage evicts the oldest page of the small queue when it holds more
// than its 10%, else of the main queue; false when there is none.
func (sh *storeShard) evictPage(pageSize int) bool {
	q := qMain
	if len(sh.fifo[qSmall]) > 0 && (sh.qBytes[qSmall] > sh.budget/10 || len(sh.fifo[qMain]) == 0) {
		q = qSmall
	}
	if len(sh.fifo[q]) == 0 {
		return false
	}
	id := sh.fifo[q][0]
	sh.fifo[q] = sh.fifo[q][1:]
	if sh.open[q] == id+1 {
		sh.open[q] = 0
	}
	pg := sh.pages[id]
	sh.pages[id] = nil
	sh.bytes -= int64(len(pg.mem))
	sh.qBytes[q] -= int64(len(pg.mem))
	for off := 0; off < pg.used; {
		si := binary.NativeEndian.Uint32(pg.mem[off:])
		n := binary.NativeEndian.Uint32(pg.mem[off+4:])
		at := uint32(off + recHeader)
		off += recHeader + int(n)
		sl := sh.slots.all[si]
		if sl.queue == qFree || sl.page != id || sl.off != at {
			continue // dropped, or moved out of this page already
		}
		f := atomic.LoadUint32(&sh.slots.all[si].freq)
		sh.idx.del(sl.hash, sh.slots.all)
		sh.slots.release(si)
		moved := false
		switch {
		case q == qSmall && f > 0:
			moved = sh.insert(sl.hash, qMain, 0, sl.meta, pg.mem[at:at+n], pageSize)
		case q == qMain && f > 0:
			moved = sh.insert(sl.hash, qMain, f-1, sl.meta, pg.mem[at:at+n], pageSize)
		case q == qSmall:
			sh.ghost.add(sl.hash)
		}
		if !moved {
			sh.evictions.Add(1)
		}
	}
	// Only now: a page opened for the moves above must not take id while
	// this loop still tells the victim's slots by it.
	sh.freeID = append(sh.freeID, id)
	pg.retire()
	return true
}
