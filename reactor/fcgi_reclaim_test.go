package reactor_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestIdleConnReclaimedAcrossLoops: with a budget of one backend
// connection (a gale wsgi worker), a connection left idle in one loop's
// pool is closed as soon as a request on the other loop waits for the
// budget: that request is served at once, not after the queue timeout.
func TestIdleConnReclaimedAcrossLoops(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	u := &upstream.Upstream{MaxConns: 1, MaxMux: 1, Pipeline: 1, QueueTimeout: 2 * time.Second, IdleTimeout: time.Minute}
	s, _ := startGoFCGIConfig(t, h, reactor.Config{Loops: 2}, u)

	byLoop := map[any]net.Conn{}
	where := func(c net.Conn) any { return reactor.ClientLoops(s.srv)[c.LocalAddr().String()] }
	for i := 0; i < 40 && len(byLoop) < 2; i++ {
		c := s.dial(t)
		br := bufio.NewReader(c)
		if resp, _ := roundTrip(t, c, br, "GET /ok.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 {
			t.Fatalf("warm-up: %d", resp.StatusCode)
		}
		if l := where(c); byLoop[l] == nil {
			byLoop[l] = c
		}
	}
	if len(byLoop) != 2 {
		t.Skip("the kernel put every connection on one loop")
	}
	var conns []net.Conn
	for _, c := range byLoop {
		conns = append(conns, c)
	}
	// Alternate loops: each request finds the budget's one connection
	// idle in the other loop's pool.
	for i := 0; i < 6; i++ {
		c := conns[i%2]
		began := time.Now()
		resp, _ := roundTrip(t, c, bufio.NewReader(c), "GET /ok.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		if took := time.Since(began); resp.StatusCode != 200 || took > time.Second {
			t.Fatalf("request %d: %d after %v; want 200 at once", i, resp.StatusCode, took)
		}
	}
}
