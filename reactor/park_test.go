package reactor_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
)

// TestParkedConnections: idle keep-alive connections are parked (their
// state shrinks to a slot), wake on their next request with the right
// state, and survive the compactions that repeated wake/park cycles cause.
func TestParkedConnections(t *testing.T) {
	s := start(t, reactor.Config{IdleTimeout: 10 * time.Second, Tick: 20 * time.Millisecond, MaxRequestsPerConn: 6}, site)
	const n = 400 // more than two chunks of slots
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	get := func(i int) {
		t.Helper()
		resp, body := roundTrip(t, conns[i], readers[i], "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		if resp.StatusCode != 200 || body != "alpha\n" {
			t.Fatalf("conn %d: %d %q", i, resp.StatusCode, body)
		}
	}
	for i := range conns {
		conns[i] = s.dial(t)
		readers[i] = bufio.NewReader(conns[i])
		get(i)
	}
	waitParked := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			// Woken connections leave dead slots until the next park
			// compacts them, so the bound holds once all are parked again.
			live, used := reactor.ParkStats(s.srv)
			if live == want {
				if used > 2*live+2*reactor.ParkChunkLen { // one compaction threshold per loop
					t.Fatalf("%d slots used for %d parked connections: dead slots are not compacted", used, live)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d connections parked, want %d", live, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitParked(n)
	// Wake three in four connections, again and again: each round leaves
	// dead slots behind the ones that stayed parked.
	for round := 0; round < 4; round++ {
		for i := range conns {
			if i%4 != 0 {
				get(i)
			}
		}
		waitParked(n)
	}
	// Every connection, moved or not, still answers, and its request
	// count survived parking: the 6th request is the last.
	for i := range conns {
		if i%4 == 0 {
			for k := 0; k < 4; k++ {
				get(i)
			}
		}
		resp, _ := roundTrip(t, conns[i], readers[i], "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		if !resp.Close {
			t.Fatalf("conn %d: request 6 of 6 without Connection: close", i)
		}
		expectClosed(t, conns[i], readers[i], 3*time.Second)
	}
	if live, _ := reactor.ParkStats(s.srv); live != 0 {
		t.Fatalf("%d connections still parked after all closed", live)
	}
}

// TestParkedConnectionsCounted: a parked keep-alive connection still counts
// as open in Stats (the connections gauge), and closing it while parked
// uncounts it.
func TestParkedConnectionsCounted(t *testing.T) {
	s := start(t, reactor.Config{Loops: 1, Tick: 10 * time.Millisecond}, map[string]string{"a.txt": "a"})
	conns := func() int { return s.srv.Stats().Conns }
	waitConns := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(3 * time.Second); conns() != want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("Stats().Conns = %d, want %d", conns(), want)
			}
		}
	}
	c := s.dial(t)
	br := bufio.NewReader(c)
	if resp, _ := roundTrip(t, c, br, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	time.Sleep(100 * time.Millisecond) // several ticks: the idle connection is parked
	waitConns(1)
	c.Close()
	waitConns(0)
}

// TestParkSlotSize holds the README's figure: a parked connection keeps a
// 24-byte slot.
func TestParkSlotSize(t *testing.T) {
	if reactor.ParkSlotSize != 24 {
		t.Fatalf("a parked slot is %d bytes; README says 24", reactor.ParkSlotSize)
	}
}
