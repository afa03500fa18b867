package handlers

import (
	"unsafe"
)

// A shard's slots and its index (rcache_index.go) are mappings of their
// own (rcache_mem.go): per-entry metadata (144 bytes a slot, 8 to 21 of
// index) that on the heap grew with the entry count, and that the
// collector then let grow to twice its size. Both are charged against
// the shard's budget at their mapped size.

// slotTable is a shard's slots: a reservation of as many slots as the
// budget could ever pay for, touched (made resident) as they are first
// used. Free slots chain through their page field.
type slotTable struct {
	mem  []byte
	all  []slot // the whole reservation
	n    uint32 // slots used so far: all[:n]
	free uint32 // first free slot + 1 (0: none)
	live int    // slots holding an entry
}

// newSlotTable reserves room for max slots.
func newSlotTable(max int) (slotTable, error) {
	mem, err := mapAnon(max * int(unsafe.Sizeof(slot{})))
	if err != nil {
		return slotTable{}, err
	}
	return slotTable{mem: mem, all: unsafe.Slice((*slot)(unsafe.Pointer(unsafe.SliceData(mem))), max)}, nil
}

// alloc returns a free slot; false when the reservation is used up.
func (t *slotTable) alloc() (uint32, bool) {
	if t.free != 0 {
		i := t.free - 1
		t.free = t.all[i].page
		t.live++
		return i, true
	}
	if int(t.n) == len(t.all) {
		return 0, false
	}
	t.n++
	t.live++
	return t.n - 1, true
}

// release frees slot i.
func (t *slotTable) release(i uint32) {
	t.all[i].queue = qFree
	t.all[i].page = t.free
	t.free = i + 1
	t.live--
}

// bytes is what the slots cost: the part of the reservation touched.
func (t *slotTable) bytes() int64 { return int64(t.n) * int64(unsafe.Sizeof(slot{})) }

// close unmaps the slots.
func (t *slotTable) close() {
	unmap(t.mem)
	*t = slotTable{}
}
