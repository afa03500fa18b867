package handlers

import (
	"math/rand/v2"
	"testing"
)

// TestEntryIndex checks the off-heap index against a map through random
// inserts and deletes, with hashes that share their low bits (the tests'
// habit) and that collide in their tags, across growth and the backward
// shift of deletes.
func TestEntryIndex(t *testing.T) {
	tab, err := newSlotTable(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.close()
	var x entryIndex
	defer x.close()
	want := map[uint64]uint32{}
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]uint64, 0, 1<<15)
	for i := range 1 << 14 {
		keys = append(keys, uint64(i)<<20|1)            // same low bits
		keys = append(keys, uint64(i)|0xABCD<<32|1<<62) // same high bits
	}
	for step := range 200_000 {
		h := keys[r.IntN(len(keys))]
		if si, ok := want[h]; ok && r.IntN(3) == 0 {
			if !x.del(h, tab.all) {
				t.Fatalf("step %d: del %#x: not found", step, h)
			}
			tab.release(si)
			delete(want, h)
			continue
		} else if ok {
			if got, ok := x.get(h, tab.all); !ok || got != si {
				t.Fatalf("step %d: get %#x = %d %v, want %d", step, h, got, ok, si)
			}
			continue
		}
		si, ok := tab.alloc()
		if !ok {
			t.Fatal("slots used up")
		}
		tab.all[si] = slot{hash: h, queue: qSmall}
		if !x.set(h, si) {
			t.Fatal("set failed")
		}
		want[h] = si
	}
	if x.n != len(want) || tab.live != len(want) {
		t.Fatalf("index holds %d, slots %d, want %d", x.n, tab.live, len(want))
	}
	for h, si := range want {
		if got, ok := x.get(h, tab.all); !ok || got != si {
			t.Fatalf("get %#x = %d %v, want %d", h, got, ok, si)
		}
	}
	for _, h := range keys {
		if _, ok := want[h]; !ok {
			if _, found := x.get(h, tab.all); found {
				t.Fatalf("%#x found after its delete", h)
			}
		}
	}
	if x.bytes() > int64(len(want))*8*8/3+minIndex*8 {
		t.Errorf("index of %d bytes for %d entries", x.bytes(), len(want))
	}
}
