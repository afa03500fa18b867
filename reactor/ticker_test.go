package reactor_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
)

// TestIdleLoopsSkipTicks: with 100 idle keep-alive connections parked and
// nothing due for seconds, the loops run almost no ticks (they used to run
// one every Tick each: 200 in this second), and the connections are still
// closed at their idle timeout, not later.
func TestIdleLoopsSkipTicks(t *testing.T) {
	const (
		n    = 100
		idle = 2500 * time.Millisecond
		tick = 10 * time.Millisecond
	)
	s := start(t, reactor.Config{IdleTimeout: idle, Tick: tick}, site)
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	for i := range conns {
		conns[i] = s.dial(t)
		readers[i] = bufio.NewReader(conns[i])
		if resp, _ := roundTrip(t, conns[i], readers[i], "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
	}
	answered := time.Now()
	time.Sleep(200 * time.Millisecond) // parked, and the loops settle
	before := reactor.Ticks(s.srv)
	time.Sleep(time.Second)
	ticks := reactor.Ticks(s.srv) - before
	t.Logf("%d ticks in a second with %d parked connections (tick %v)", ticks, n, tick)
	if ticks > 10 {
		t.Errorf("%d ticks in a second with nothing due: idle loops are ticked", ticks)
	}
	for i, c := range conns {
		expectClosed(t, c, readers[i], idle+2*time.Second)
	}
	// The last deadline runs from the server's park of the last
	// connection, a hair before this side saw its response.
	if took := time.Since(answered); took < idle-100*time.Millisecond || took > idle+time.Second {
		t.Errorf("idle connections closed %v after their last response; idle timeout %v", took, idle)
	}
}

// TestSleepingLoopWakesForNewTimer: a loop asleep until a parked
// connection's idle timeout (5 s away) still answers a new connection's
// unfinished head with 408 at the header timeout.
func TestSleepingLoopWakesForNewTimer(t *testing.T) {
	const header = 300 * time.Millisecond
	s := start(t, reactor.Config{Loops: 1, IdleTimeout: 5 * time.Second, HeaderTimeout: header, Tick: 10 * time.Millisecond}, site)
	a := s.dial(t)
	if resp, _ := roundTrip(t, a, bufio.NewReader(a), "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	time.Sleep(300 * time.Millisecond) // a is parked and the loop asleep
	b := s.dial(t)
	if _, err := io.WriteString(b, "GET /a.txt HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(b)
	waited := time.Since(sent)
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 408 ") {
		t.Fatalf("after %v: %v, %q", waited, err, got)
	}
	if waited < header || waited > header+700*time.Millisecond {
		t.Fatalf("408 after %v; header timeout %v", waited, header)
	}
}
