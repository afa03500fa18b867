package reactor_test

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// blackhole listens with a full accept queue and never accepts: a connect
// to it never completes (the kernel drops the SYNs), as with a backend
// host that is down behind a firewall.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for i := 0; i < 8; i++ { // fill the accept queue
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c.Close()
		t.Skip("loopback completes connects beyond a full accept queue here")
	}
	return addr
}

// TestDeadBackendAnswersWithinTimeouts: a backend whose connects never
// complete fails every request waiting on it, on every loop, once a
// connect to it timed out, instead of dialing again for each in turn
// (they came back in waves of one connect timeout per budget's worth of
// requests) or leaving another loop's queue to its timeout (503s).
func TestDeadBackendAnswersWithinTimeouts(t *testing.T) {
	backends, err := upstream.ParseAddrs(blackhole(t))
	if err != nil {
		t.Fatal(err)
	}
	const connect, queue = 400 * time.Millisecond, 1200 * time.Millisecond
	u := &upstream.Upstream{Name: "dead", Backends: backends, MaxConns: 2,
		ConnectTimeout: connect, QueueTimeout: queue}
	s := startWith(t, reactor.Config{Loops: 2}, appScripts, u)

	const n = 24
	var wg sync.WaitGroup
	took := make([]time.Duration, n)
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			statuses[i] = get(t, &http.Client{Timeout: 10 * time.Second}, s.url("/x.php"))
			took[i] = time.Since(began)
		}()
	}
	wg.Wait()
	// Every request began waiting before the first connect failed: each
	// gets its 502 then, none waits out the queue timeout (nginx answers
	// them all at the connect timeout too).
	bound := connect + 500*time.Millisecond
	for i := range took {
		if statuses[i] != 502 {
			t.Errorf("request %d: status %d after %v, want 502", i, statuses[i], took[i].Round(time.Millisecond))
		}
		if took[i] > bound {
			t.Errorf("request %d answered after %v, beyond the connect timeout (%v)", i, took[i].Round(time.Millisecond), bound)
		}
	}
}
