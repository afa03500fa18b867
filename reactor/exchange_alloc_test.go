//go:build !race

package reactor

import "testing"

// TestFinishDoneAllocatesNothing: handing an ended exchange back to its
// client costs no allocation once the loop's lists are warm. (A request
// whose client left takes the shortest way through finishClient: release
// and recycle; the done list is what is measured.)
func TestFinishDoneAllocatesNothing(t *testing.T) {
	l := &loop{}
	l.recycle(l.newExchange())
	end := func() {
		l.doneEx = append(l.doneEx, l.newExchange())
		l.finishDone()
	}
	end()
	if allocs := testing.AllocsPerRun(1000, end); allocs != 0 {
		t.Fatalf("%.1f allocations per ended request, want 0", allocs)
	}
	if len(l.freeEx) != 1 {
		t.Fatalf("free list holds %d requests, want the 1 recycled", len(l.freeEx))
	}
}
