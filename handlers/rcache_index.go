package handlers

import (
	"math/bits"
	"unsafe"
)

// entryIndex maps an entry's hash to its slot: open addressing with
// linear probing in one mapping, grown by doubling at 3/4 full, so that
// an entry costs 8 to 21 bytes of index (a Go map: about 30, times the
// heap's growth). A bucket is tag<<32 | slot+1 (0: empty), where tag is
// the top half of the mixed hash: it gives the bucket's home without
// reading the slot, and filters most mismatches before the slot's full
// hash confirms a match.
type entryIndex struct {
	mem   []byte
	b     []uint64
	shift uint // 64 - log2(len(b))
	n     int
}

const minIndex = 1024 // buckets: one mapping of 8 KiB

// mixHash spreads a hash over the top bits (Fibonacci hashing): the
// bucket's home is them, whatever the low bits (tests use small ones).
func mixHash(h uint64) uint64 { return h * 0x9E3779B97F4A7C15 }

func (x *entryIndex) home(tag uint32) int { return int(tag >> (x.shift - 32)) }

// find returns the bucket holding h, or -1.
func (x *entryIndex) find(h uint64, slots []slot) int {
	if x.n == 0 {
		return -1
	}
	tag := uint32(mixHash(h) >> 32)
	mask := len(x.b) - 1
	for i := x.home(tag); ; i = (i + 1) & mask {
		e := x.b[i]
		if e == 0 {
			return -1
		}
		if uint32(e>>32) == tag && slots[uint32(e)-1].hash == h {
			return i
		}
	}
}

// get returns h's slot.
func (x *entryIndex) get(h uint64, slots []slot) (uint32, bool) {
	if i := x.find(h, slots); i >= 0 {
		return uint32(x.b[i]) - 1, true
	}
	return 0, false
}

// set indexes h at slot si (h is not indexed); false when the index
// cannot grow to take it.
func (x *entryIndex) set(h uint64, si uint32) bool {
	if (x.n+1)*4 > len(x.b)*3 && !x.grow() {
		return false
	}
	tag := uint32(mixHash(h) >> 32)
	x.put(uint64(tag)<<32 | uint64(si+1))
	x.n++
	return true
}

func (x *entryIndex) put(e uint64) {
	mask := len(x.b) - 1
	i := x.home(uint32(e >> 32))
	for x.b[i] != 0 {
		i = (i + 1) & mask
	}
	x.b[i] = e
}

// grow moves the buckets to a mapping twice the size.
func (x *entryIndex) grow() bool {
	n := max(len(x.b)*2, minIndex)
	mem, err := mapAnon(n * 8)
	if err != nil {
		return false
	}
	old, oldMem := x.b, x.mem
	x.mem = mem
	x.b = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), n)
	x.shift = uint(64 - bits.TrailingZeros(uint(n))) // n is a power of two
	for _, e := range old {
		if e != 0 {
			x.put(e)
		}
	}
	unmap(oldMem)
	return true
}

// del removes h; false when it was not indexed. The buckets after it
// shift back (no tombstones, so probes stay short however many deletes).
func (x *entryIndex) del(h uint64, slots []slot) bool {
	i := x.find(h, slots)
	if i < 0 {
		return false
	}
	mask := len(x.b) - 1
	for j := (i + 1) & mask; x.b[j] != 0; j = (j + 1) & mask {
		// The bucket at j may fill the hole at i when i lies on its
		// probe path, between its home and j.
		if k := x.home(uint32(x.b[j] >> 32)); (j-k)&mask >= (j-i)&mask {
			x.b[i] = x.b[j]
			i = j
		}
	}
	x.b[i] = 0
	x.n--
	return true
}

// bytes is what the index costs: its mapping.
func (x *entryIndex) bytes() int64 { return int64(len(x.mem)) }

// close unmaps the index.
func (x *entryIndex) close() {
	unmap(x.mem)
	*x = entryIndex{}
}
