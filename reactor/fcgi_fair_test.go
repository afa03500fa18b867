package reactor_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestBudgetSharedAcrossLoops: two loops share a budget of two backend
// connections that serve one request at a time. Eight clients on one loop
// keep it busy; a lone client on the other loop must get its turn in one
// FIFO across the loops, not wait out the queue timeout. (Its connection
// used to be handed to the busy loop the moment its client paused between
// requests; the busy loop then always had a request of its own to give it,
// and the lone client's next request got 503.)
func TestBudgetSharedAcrossLoops(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		io.WriteString(w, "ok\n")
	})
	const queue = 1500 * time.Millisecond
	u := &upstream.Upstream{MaxConns: 2, MaxMux: 1, QueueTimeout: queue}
	s, _ := startGoFCGIConfig(t, h, reactor.Config{Loops: 2}, u)

	// Open connections until one loop holds at least 8 and the other 1.
	var conns []net.Conn
	for i := 0; i < 40; i++ {
		c := s.dial(t)
		br := bufio.NewReader(c)
		if resp, _ := roundTrip(t, c, br, "GET /ok.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 {
			t.Fatalf("warm-up: %d", resp.StatusCode)
		}
		conns = append(conns, c)
	}
	byLoop := map[any][]net.Conn{}
	where := reactor.ClientLoops(s.srv)
	for _, c := range conns {
		l := where[c.LocalAddr().String()]
		byLoop[l] = append(byLoop[l], c)
	}
	if len(byLoop) != 2 {
		t.Skipf("the kernel put all %d connections on one loop", len(conns))
	}
	var busy, lone []net.Conn
	for _, cs := range byLoop {
		if busy == nil || len(cs) > len(busy) {
			busy, lone = cs, busy
		} else {
			lone = cs
		}
	}
	if len(busy) < 8 || len(lone) < 1 {
		t.Skipf("connections split %d/%d", len(busy), len(lone))
	}
	busy, lone = busy[:8], lone[:1]

	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, c := range busy {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReader(c)
			for !stop.Load() {
				io.WriteString(c, "GET /ok.php HTTP/1.1\r\nHost: t\r\n\r\n")
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	c := lone[0]
	br := bufio.NewReader(c)
	var worst time.Duration
	for i := 0; i < 20; i++ {
		time.Sleep(10 * time.Millisecond) // a pause: this loop has no request
		began := time.Now()
		resp, _ := roundTrip(t, c, br, "GET /ok.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		took := time.Since(began)
		worst = max(worst, took)
		if resp.StatusCode != 200 {
			t.Errorf("lone client's request %d: status %d after %v", i, resp.StatusCode, took.Round(time.Millisecond))
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("lone client's slowest request: %v", worst.Round(time.Millisecond))
	// Nine clients over two 5 ms connections: a fair turn is about 25 ms.
	if worst > queue/3 {
		t.Errorf("the lone client waited %v for a turn: the budget is not shared across loops", worst.Round(time.Millisecond))
	}
}
