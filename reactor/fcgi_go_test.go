package reactor_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// countingListener counts the connections a backend accepted, and the
// most it had open at once: with FCGI_MPXS_CONNS, many requests share few.
type countingListener struct {
	net.Listener
	accepted, open, peak atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	raise(&l.peak, l.open.Add(1))
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// raise sets max to v if v is larger.
func raise(max *atomic.Int64, v int64) {
	for m := max.Load(); v > m && !max.CompareAndSwap(m, v); m = max.Load() {
	}
}

// startGoFCGI serves h with Go's net/http/fcgi (FCGI_MPXS_CONNS=1) on a
// loopback port, and puts an in-process gale in front of it: every *.php
// path goes to h through the front controller.
func startGoFCGI(t *testing.T, h http.Handler, loops int, u *upstream.Upstream) (*server, *countingListener) {
	t.Helper()
	return startGoFCGIConfig(t, h, reactor.Config{Loops: loops}, u)
}

// startGoFCGIWith is startGoFCGI with a server configuration.
func startGoFCGIWith(t *testing.T, h http.Handler, cfg reactor.Config, u *upstream.Upstream) *server {
	t.Helper()
	s, _ := startGoFCGIConfig(t, h, cfg, u)
	return s
}

func startGoFCGIConfig(t *testing.T, h http.Handler, cfg reactor.Config, u *upstream.Upstream) (*server, *countingListener) {
	t.Helper()
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{Listener: nl}
	served := make(chan struct{})
	go func() {
		defer close(served)
		fcgi.Serve(l, h)
	}()
	t.Cleanup(func() {
		l.Close()
		<-served
	})
	backends, err := upstream.ParseAddrs(nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if u == nil {
		u = &upstream.Upstream{}
	}
	u.Name, u.Backends = "go", backends
	return startWith(t, cfg, appScripts, u), l
}

// echoSum writes the request body back, then "sha256=<hex>\n".
func echoSum(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	io.Copy(w, io.TeeReader(r.Body, h))
	fmt.Fprintf(w, "sha256=%s\n", hex.EncodeToString(h.Sum(nil)))
}

// TestGoFCGIMultiplexed: 100 concurrent requests of 40 ms each complete
// over a handful of multiplexed connections, far fewer than requests and
// never more at once than the connection budget.
func TestGoFCGIMultiplexed(t *testing.T) {
	var inFlight, peak atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raise(&peak, inFlight.Add(1))
		time.Sleep(40 * time.Millisecond)
		inFlight.Add(-1)
		io.WriteString(w, "slept\n")
	})
	const loops = 2
	s, l := startGoFCGI(t, h, loops, nil)
	budget := int64(4 * loops) // upstream's default: the backend reports no FCGI_MAX_CONNS

	for round := 1; round <= 2; round++ {
		before := l.accepted.Load()
		began := time.Now()
		fails, statuses := load(t, s.url("/sleep.php"), 100, 100)
		if fails != 0 {
			t.Fatalf("round %d: %d of 100 failed: %v", round, fails, statuses)
		}
		accepted := l.accepted.Load() - before
		t.Logf("round %d: 100 concurrent requests in %v over %d new backend connections (at most %d open at once, budget %d + 1 probe); %d handlers at once at the peak",
			round, time.Since(began).Round(time.Millisecond), accepted, l.peak.Load(), budget, peak.Load())
		if accepted >= 100 {
			t.Fatalf("round %d: %d backend connections for 100 requests: not multiplexed", round, accepted)
		}
	}
	// The FCGI_GET_VALUES probe may be open beside the budget.
	if p := l.peak.Load(); p > budget+1 {
		t.Fatalf("%d backend connections open at once, budget %d", p, budget)
	}
	// More handlers ran at once than connections were open: requests
	// really shared connections.
	if peak.Load() <= l.peak.Load() {
		t.Fatalf("at most %d handlers at once over up to %d connections: no request shared a connection", peak.Load(), l.peak.Load())
	}
}

// TestGoFCGIStalledReaderDoesNotBlockOthers: a client that asks for 20 MiB
// and never reads does not hold up the other requests multiplexed on the
// same (only) backend connection: gale reads the big response off the
// connection as it comes, spooling what the client does not take.
func TestGoFCGIStalledReaderDoesNotBlockOthers(t *testing.T) {
	const size = 20 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	written := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/big.php", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		w.(http.Flusher).Flush()
		close(written)
		<-release // the request stays in flight on the connection
	})
	mux.HandleFunc("/fast.php", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "fast "+r.URL.Query().Get("i"))
	})
	s, l := startGoFCGI(t, mux, 1, &upstream.Upstream{MaxConns: 1})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)

	c := s.dial(t)
	c.(*net.TCPConn).SetReadBuffer(16 << 10)
	if _, err := io.WriteString(c, "GET /big.php HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-written:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend could not write 20 MiB while the client reads nothing: gale stopped reading the connection")
	}

	// The big request is still active on the only connection; the client
	// has read nothing. Others go over the same connection meanwhile.
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			resp, err := client.Get(s.url(fmt.Sprintf("/fast.php?i=%d", i)))
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(b) != fmt.Sprintf("fast %d", i) {
				errs <- fmt.Errorf("#%d: %d %q %v", i, resp.StatusCode, b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("20 small requests took %v beside a stalled reader", d)
	}
	if n := l.accepted.Load(); n != 2 {
		t.Fatalf("backend accepted %d connections, want 2 (the probe and the one multiplexed connection)", n)
	}

	// The stalled client finally reads: all 20 MiB, intact.
	unblock()
	want := sha256.New()
	for n := 0; n < size; n += len(chunk) {
		want.Write(chunk)
	}
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("big response: %d bytes, err %v, checksum match %v", n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	// The connection lives on after its response drained from the spool.
	if resp, body := roundTrip(t, c, br, "GET /fast.php?i=after HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 || body != "fast after" {
		t.Fatalf("next request on the connection: %d %q", resp.StatusCode, body)
	}
}

// TestGoFCGIPostEcho: request bodies reach the application intact, with a
// Content-Length and chunked, and come back with their checksum.
func TestGoFCGIPostEcho(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo.php", echoSum)
	s, _ := startGoFCGI(t, mux, 2, nil)
	for _, size := range []int{0, 1, 65535, 65536, 3<<20 + 7} {
		payload := make([]byte, size)
		rand.Read(payload)
		sum := sha256.Sum256(payload)
		want := string(payload) + "sha256=" + hex.EncodeToString(sum[:]) + "\n"
		for _, chunked := range []bool{false, true} {
			if resp, b := httpPost(t, s.url("/echo.php"), payload, chunked); resp.StatusCode != 200 || b != want {
				t.Fatalf("size %d chunked=%v: %d, %d bytes (want %d), tail %q",
					size, chunked, resp.StatusCode, len(b), len(want), tail(b))
			}
		}
	}
}

func tail(s string) string {
	if i := strings.LastIndex(s, "sha256="); i >= 0 {
		return s[i:]
	}
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}

// TestGoFCGIIdleCloseKeepsPooling: gale closing a connection that served one
// request (its idle timeout) is not the backend closing after each request:
// the backend stays pooled, and later requests share a connection again.
func TestGoFCGIIdleCloseKeepsPooling(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	u := &upstream.Upstream{IdleTimeout: 200 * time.Millisecond}
	s, l := startGoFCGI(t, h, 1, u)
	get := func() {
		t.Helper()
		resp, err := http.Get(s.url("/x.php"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	get()
	// Wait for the idle timeout (plus the timer wheel's tick) to close it.
	for deadline := time.Now().Add(3 * time.Second); l.open.Load() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d backend connections still open after the idle timeout", l.open.Load())
		}
	}
	if u.Backends[0].NoKeepAlive(time.Now()) {
		t.Fatal("gale's own idle close was taken for a backend that closes after each request")
	}
	before := l.accepted.Load()
	for i := 0; i < 5; i++ {
		get()
	}
	if n := l.accepted.Load() - before; n != 1 {
		t.Fatalf("5 sequential requests opened %d backend connections, want 1 (pooled)", n)
	}
}

// TestGoFCGISlowFirstResponse: the header timeout bounds reading the
// request, not waiting for the application: the first request on a fresh
// connection may take longer than the header timeout to answer.
func TestGoFCGISlowFirstResponse(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(700 * time.Millisecond)
		io.WriteString(w, "late\n")
	})
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); fcgi.Serve(nl, h) }()
	t.Cleanup(func() { nl.Close(); <-served })
	backends, err := upstream.ParseAddrs(nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "go", Backends: backends}
	s := startWith(t, reactor.Config{Loops: 1, HeaderTimeout: 300 * time.Millisecond, Tick: 10 * time.Millisecond}, appScripts, u)
	c := s.dial(t)
	resp, body := roundTrip(t, c, bufio.NewReader(c), "GET /slow.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
	if resp.StatusCode != 200 || body != "late\n" {
		t.Fatalf("got %d %q, want 200 \"late\\n\"", resp.StatusCode, body)
	}
}
