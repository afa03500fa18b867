package handlers

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The response cache's memory lives outside the Go heap: its byte pages,
// its slots and its index are anonymous mappings. On the heap, the
// collector let a cache of N bytes cost about 2N of RSS (the heap grows
// to twice its live size before a cycle), and GOMEMLIMIT, which would
// cap that, made every cycle mark a heap that is mostly cache. Mapped
// memory is what the cache says it holds, returned to the kernel the
// moment a page leaves (munmap), and the collector never sees it.
//
// The price is a lifetime the collector no longer manages: a page must
// stay mapped while anything still reads it. Whoever takes a view of an
// entry takes a pin on its page (store.get pins), and the page is
// unmapped when both the store has let go of it (evicted: retired) and
// its last pin is released. A hit hands its pin to the reactor with the
// response (Response.Pin), which releases it once the bytes were written
// or copied into a socket buffer.

// osPage is the kernel's page size: mappings are made of whole pages.
var osPage = unix.Getpagesize()

// mapped counts the bytes of every cache's mappings, for tests that
// check nothing is left mapped.
var mapped atomic.Int64

// mapAnon maps n bytes (rounded up to whole pages) of private anonymous
// memory, zeroed, touched (and so resident) only as it is written.
func mapAnon(n int) ([]byte, error) {
	n = (n + osPage - 1) &^ (osPage - 1)
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err == nil {
		mapped.Add(int64(n))
	}
	return b, err
}

// unmap returns a mapping made by mapAnon to the kernel.
func unmap(b []byte) {
	if b != nil && unix.Munmap(b) == nil {
		mapped.Add(-int64(len(b)))
	}
}

// Pin is a hold on shared memory that a response's views point into (a
// page of the response cache): the memory stays valid until Release,
// which must be called exactly once.
type Pin interface {
	Release()
}

// page is one mapping holding entries, each a record of 8 bytes (its
// slot and length) followed by the entry's bytes (see storeShard.insert).
type page struct {
	mem  []byte // the whole mapping: len == cap, as Munmap wants it
	used int    // bytes of records so far (under the shard's lock)
	// refs counts pins, plus retired once the store has let go of the
	// page: whichever of retire and the last Release leaves it at
	// exactly retired unmaps it. One word, so that no lock orders the
	// two (the store retires under its shard's lock, a pin is released
	// on any goroutine).
	refs  atomic.Int64
	sh    *storeShard
	queue uint8
}

const retired = 1 << 62

// pin takes a hold on pg; the caller holds the shard's lock, so pg
// cannot be retired meanwhile, or holds a pin already.
func (pg *page) pin() { pg.refs.Add(1) }

// Release implements Pin.
func (pg *page) Release() {
	if pg.refs.Add(-1) == retired {
		pg.free()
	}
}

// retire takes pg out of the store's hands (under the shard's lock): it
// is unmapped now, or by its last Release. Until then its bytes count
// against the shard's budget (pinned), so that slow readers holding
// evicted pages cannot take the process past it.
func (pg *page) retire() {
	pg.sh.pinned.Add(int64(len(pg.mem)))
	if pg.refs.Add(retired) == retired {
		pg.free()
	}
}

func (pg *page) free() {
	n := len(pg.mem)
	unmap(pg.mem)
	pg.mem = nil
	pg.sh.pinned.Add(-int64(n))
}
