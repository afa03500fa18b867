package reactor_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/httpproxy"
)

// origin is a real HTTP backend (Go's net/http) that counts its requests.
type origin struct {
	addr string
	hits atomic.Int64
	mu   sync.Mutex
	seen []*http.Request
}

func startOrigin(t *testing.T, h func(o *origin, w http.ResponseWriter, r *http.Request)) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &origin{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.seen = append(o.seen, r)
		o.mu.Unlock()
		h(o, w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return o
}

// last is the last request the origin saw.
func (o *origin) last() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[len(o.seen)-1]
}

// startCached runs gale proxying everything to addr under policy p (its
// Cache made when nil).
func startCached(t *testing.T, addr string, p *handlers.CachePolicy) *server {
	return startCachedRules(t, addr, p, nil)
}

// startCachedRules is startCached in a location with header rules hr.
func startCachedRules(t *testing.T, addr string, p *handlers.CachePolicy, hr *handlers.HeaderRules) *server {
	t.Helper()
	testenv.CheckLeaks(t)
	bs, err := upstream.ParseAddrs(addr)
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "app", Backends: bs, Protocol: httpproxy.Protocol}
	u.Init(2)
	if p.Cache == nil {
		p.Cache = handlers.NewRespCache(8<<20, 1<<20)
	}
	if p.LockTimeout == 0 {
		p.LockTimeout = 5 * time.Second
	}
	rt := &handlers.Router{}
	var h handlers.Handler = &handlers.Cached{Handler: handlers.NewProxy(u, nil), Policy: p}
	if hr != nil {
		h = &handlers.Location{Handler: h, Headers: hr}
	}
	rt.Handle("/", h)
	cfg := reactor.Config{Handler: rt, Loops: 2, Addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	srv, err := reactor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{srv: srv, addr: cfg.Addr, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-s.done:
		t.Fatalf("serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-s.done
	})
	return s
}

// get sends one request with extra header lines on a new connection and
// returns the response and its body.
func cget(t *testing.T, s *server, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	return cdo(t, s, "GET", path, hdr...)
}

func cdo(t *testing.T, s *server, method, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	raw := method + " " + path + " HTTP/1.1\r\nHost: example.com\r\n"
	for _, h := range hdr {
		raw += h + "\r\n"
	}
	raw += "\r\n"
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s body: %v", method, path, err)
	}
	return resp, string(b)
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func TestCacheMissThenHit(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Date", time.Now().Add(-10*time.Second).UTC().Format(http.TimeFormat))
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintf(w, "body %d", o.hits.Load())
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	r1, b1 := cget(t, s, "/a")
	if r1.StatusCode != 200 || b1 != "body 1" || r1.Header.Get("Cache-Status") != "gale; fwd=uri-miss; stored" {
		t.Fatalf("miss: %d %q %q", r1.StatusCode, b1, r1.Header.Get("Cache-Status"))
	}
	r2, b2 := cget(t, s, "/a")
	if b2 != "body 1" || o.hits.Load() != 1 {
		t.Fatalf("hit: body %q, origin saw %d requests", b2, o.hits.Load())
	}
	// The origin's Date is kept; Age counts from it (apparent age 10 s).
	if r2.Header.Get("Date") != r1.Header.Get("Date") && r2.Header.Get("Age") == "" {
		t.Fatalf("hit head: %v", r2.Header)
	}
	if age := r2.Header.Get("Age"); age != "10" && age != "11" {
		t.Fatalf("Age %q, want 10", age)
	}
	if cs, want := r2.Header.Get("Cache-Status"), "gale; hit; ttl="+fmt.Sprint(60-atoi(r2.Header.Get("Age"))); cs != want {
		t.Fatalf("Cache-Status %q, want %q (ttl + Age = max-age)", cs, want)
	}
	if r2.ContentLength != 6 {
		t.Fatalf("Content-Length %d", r2.ContentLength)
	}
	r3, _ := cget(t, s, "/a", `If-None-Match: "v1"`)
	if r3.StatusCode != 304 || o.hits.Load() != 1 {
		t.Fatalf("conditional: %d, origin %d", r3.StatusCode, o.hits.Load())
	}
	r4, b4 := cget(t, s, "/a", "Range: bytes=1-3")
	if r4.StatusCode != 206 || b4 != "ody" || r4.Header.Get("Content-Range") != "bytes 1-3/6" {
		t.Fatalf("range: %d %q %v", r4.StatusCode, b4, r4.Header)
	}
	r5, b5 := cdo(t, s, "HEAD", "/a")
	if r5.StatusCode != 200 || b5 != "" || o.hits.Load() != 1 {
		t.Fatalf("HEAD: %d %q origin %d", r5.StatusCode, b5, o.hits.Load())
	}
}

// TestCachePipelined: pipelined requests, hits and a miss between them,
// are answered in order on one connection.
func TestCachePipelined(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "body of "+r.URL.Path)
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	cget(t, s, "/one")
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := func(p string) string { return "GET " + p + " HTTP/1.1\r\nHost: example.com\r\n\r\n" }
	io.WriteString(c, req("/one")+req("/two")+req("/one")+req("/two"))
	br := bufio.NewReader(c)
	for i, want := range []string{"body of /one", "body of /two", "body of /one", "body of /two"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("response %d: %q, want %q (%s)", i, b, want, resp.Header.Get("Cache-Status"))
		}
	}
	if o.hits.Load() != 2 {
		t.Fatalf("origin saw %d requests, want 2", o.hits.Load())
	}
}

// TestInterimForwarded: a 103 Early Hints from an HTTP backend reaches an
// HTTP/1.1 client before the final response, and is not what the cache
// stores.
func TestInterimForwarded(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</s.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "final")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	for i, want := range []string{"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\n"} {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /eh HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if got := string(b); len(got) < len(want) || got[:len(want)] != want {
			t.Fatalf("request %d: got\n%q\nwant a start of\n%q", i, got, want)
		}
	}
}

// TestCacheHitHeaderRules: a hit carries the location's header rules as
// the miss did, while the cache decides on the application's own head
// (a rule setting Cache-Control does not make a no-store response
// cacheable).
func TestCacheHitHeaderRules(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ns" {
			w.Header().Set("Cache-Control", "no-store")
		} else {
			w.Header().Set("Cache-Control", "max-age=60")
		}
		w.Header().Set("X-Powered-By", "app")
		fmt.Fprint(w, "x")
	})
	hr := handlers.NewHeaderRules([][2]string{{"X-Frame-Options", "DENY"}}, nil, []string{"X-Powered-By"}, 3600)
	s := startCachedRules(t, o.addr, &handlers.CachePolicy{}, hr)
	for i := 0; i < 2; i++ {
		r, _ := cget(t, s, "/h")
		if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Powered-By") != "" || r.Header.Get("Cache-Control") != "max-age=3600" {
			t.Fatalf("response %d (%s): %v", i, r.Header.Get("Cache-Status"), r.Header)
		}
	}
	cget(t, s, "/ns")
	cget(t, s, "/ns")
	if o.hits.Load() != 3 {
		t.Fatalf("origin saw %d requests, want 3 (/h once, /ns twice)", o.hits.Load())
	}
}
