//go:build !race

package reactor

import "testing"

// TestCorkAllocatesNothing: holding a response until the end of the round
// and sending it then costs no allocation once the loop's lists and the
// buffer pool are warm.
func TestCorkAllocatesNothing(t *testing.T) {
	l, cs, peer := corkRig(t)
	ps := [][]byte{[]byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n"), []byte("Hello, World!")}
	buf := make([]byte, 4096)
	round := func() {
		l.corkWrite(cs, ps)
		l.uncork()
		if len(readAll(peer, buf)) != len(ps[0])+len(ps[1]) {
			t.Fatal("short write")
		}
	}
	round()
	if allocs := testing.AllocsPerRun(1000, round); allocs != 0 {
		t.Fatalf("%.1f allocations per corked response, want 0", allocs)
	}
}
