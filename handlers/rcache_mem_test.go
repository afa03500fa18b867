package handlers

import (
	"runtime"
	"testing"
	"time"
)

// TestStorePinnedPage: a page evicted while pinned stays mapped, and
// counts against the budget, until its last pin is released; one never
// pinned is unmapped as it leaves.
func TestStorePinnedPage(t *testing.T) {
	st := newStore(1<<20, 256<<10)
	sh := &st.shards[0]
	big := make([]byte, 200<<10) // a page of its own
	for i := range big {
		big[i] = byte(i * 7)
	}
	st.put(1, entryMeta{}, big)
	_, view, pin, ok := st.get(1)
	if !ok {
		t.Fatal("not stored")
	}
	pg := pin
	st.del(1)                         // (a hit entry would move to the main queue, a copy)
	for i := uint64(2); i < 40; i++ { // 7.6 MB through a 1 MiB store
		st.put(i<<32, entryMeta{}, big)
	}
	if _, _, p2, ok := st.get(1); ok {
		p2.Release()
		t.Fatal("entry 1 not evicted")
	}
	if pg.mem == nil || sh.pinned.Load() != int64(len(pg.mem)) {
		t.Fatalf("evicted page: mapped %v, pinned bytes %d", pg.mem != nil, sh.pinned.Load())
	}
	if held, _, _ := st.usage(); held > sh.budget {
		t.Fatalf("store holds %d with the pinned page, budget %d", held, sh.budget)
	}
	for i := range view {
		if view[i] != byte(i*7) {
			t.Fatalf("byte %d of the pinned view changed", i)
		}
	}
	pin.Release()
	if pg.mem != nil || sh.pinned.Load() != 0 {
		t.Fatalf("released page: mapped %v, pinned bytes %d", pg.mem != nil, sh.pinned.Load())
	}
	// Unpinned pages are unmapped at once: only what the store holds is
	// mapped.
	_, _, pg, _ = st.get(39 << 32)
	pg.Release()
	st.del(39 << 32)
	for i := uint64(40); i < 50; i++ {
		st.put(i<<32, entryMeta{}, big)
	}
	if pg.mem != nil {
		t.Fatal("an unpinned evicted page is still mapped")
	}
}

// TestStoreUnmappedWhenDropped: a store nothing refers to any more (a
// reload that changed the cache's size) gives its mappings back, its
// pinned pages once they are released.
func TestStoreUnmappedWhenDropped(t *testing.T) {
	before := mapped.Load()
	st := newStore(4<<20, 1<<20)
	for i := range uint64(5000) {
		st.put(i<<32|i, entryMeta{}, make([]byte, 1500))
	}
	_, _, pin, ok := st.get(4999<<32 | 4999)
	if !ok {
		t.Fatal("last entry not stored")
	}
	if mapped.Load()-before < 3<<20 {
		t.Fatalf("%d bytes mapped for a full 4 MiB store", mapped.Load()-before)
	}
	st = nil
	deadline := time.Now().Add(5 * time.Second)
	for mapped.Load()-before > int64(len(pin.mem)) {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still mapped after the store was dropped", mapped.Load()-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	pin.Release()
	// (Stores of earlier tests may be unmapped meanwhile: at most before.)
	if n := mapped.Load() - before; n > 0 {
		t.Fatalf("%d bytes still mapped after the last pin's release", n)
	}
}

// TestRespCacheErrWhenMemoryRefused: a cache whose memory the kernel will
// not map says so (gale logs it) instead of silently storing nothing. A
// petabyte of slots is more address space than a process has.
func TestRespCacheErrWhenMemoryRefused(t *testing.T) {
	before := mapped.Load()
	if c := NewRespCache(64<<20, 1<<20); c.Err() != nil {
		t.Fatalf("a 64 MiB cache: %v", c.Err())
	}
	if c := NewRespCache(1<<50, 1<<20); c.Err() == nil {
		t.Fatal("a 1 PiB cache reports no error")
	}
	// What was reserved goes back before the next test counts mappings.
	for deadline := time.Now().Add(5 * time.Second); mapped.Load() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still mapped after both caches were dropped", mapped.Load()-before)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
