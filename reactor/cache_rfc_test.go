package reactor_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
)

// TestCacheNotStored: what RFC 9111 and gale's safety defaults keep out
// of the cache reaches the origin every time.
func TestCacheNotStored(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/no-store":
			w.Header().Set("Cache-Control", "max-age=60, no-store")
		case "/private":
			w.Header().Set("Cache-Control", "private, max-age=60")
		case "/cookie":
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Set-Cookie", "a=b")
		case "/vary-star":
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Vary", "Accept, *")
		case "/auth":
			w.Header().Set("Cache-Control", "max-age=60")
		case "/nothing":
		}
		fmt.Fprint(w, "x")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{TTL: 0})
	for _, c := range []struct {
		path string
		hdr  []string
	}{{"/no-store", nil}, {"/private", nil}, {"/cookie", nil}, {"/vary-star", nil},
		{"/auth", []string{"Authorization: Basic eDp5"}}, {"/nothing", nil}} {
		before := o.hits.Load()
		cget(t, s, c.path, c.hdr...)
		r, _ := cget(t, s, c.path, c.hdr...)
		if got := o.hits.Load() - before; got != 2 {
			t.Errorf("%s: origin saw %d requests, want 2 (not stored)", c.path, got)
		}
		if cs := r.Header.Get("Cache-Status"); strings.Contains(cs, "hit") || strings.Contains(cs, "stored") {
			t.Errorf("%s: Cache-Status %q", c.path, cs)
		}
	}
	// Authorization with s-maxage: the response allows it (section 3.5).
	o2 := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "s-maxage=60")
		fmt.Fprint(w, "x")
	})
	s2 := startCached(t, o2.addr, &handlers.CachePolicy{})
	cget(t, s2, "/", "Authorization: Basic eDp5")
	cget(t, s2, "/", "Authorization: Basic eDp5")
	if o2.hits.Load() != 1 {
		t.Errorf("s-maxage with Authorization: origin saw %d requests, want 1", o2.hits.Load())
	}
}

// TestCacheMicroTTL: the default TTL caches a silent 200 and 404, not a
// 302 nor a response with Set-Cookie; a bypass cookie skips the cache.
func TestCacheMicroTTL(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(404)
		case "/moved":
			w.Header().Set("Location", "/x")
			w.WriteHeader(302)
		case "/login":
			w.Header().Set("Set-Cookie", "s=1")
		}
		fmt.Fprint(w, "x")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{TTL: time.Minute, BypassCookies: handlers.NewCacheBypass([]string{"wordpress"})})
	for _, c := range []struct {
		path string
		want int64
	}{{"/page", 1}, {"/missing", 1}, {"/moved", 2}, {"/login", 2}} {
		before := o.hits.Load()
		cget(t, s, c.path)
		cget(t, s, c.path)
		if got := o.hits.Load() - before; got != c.want {
			t.Errorf("%s: origin saw %d requests, want %d", c.path, got, c.want)
		}
	}
	before := o.hits.Load()
	r, _ := cget(t, s, "/page", "Cookie: a=1; wordpress_logged_in_abc=x")
	if o.hits.Load() != before+1 || r.Header.Get("Cache-Status") != "gale; fwd=bypass" {
		t.Errorf("bypass cookie: origin %d->%d, Cache-Status %q", before, o.hits.Load(), r.Header.Get("Cache-Status"))
	}
}

// TestCacheVary: Vary selects a stored variant by the request's fields.
func TestCacheVary(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprint(w, "lang="+r.Header.Get("Accept-Language"))
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	for i := 0; i < 2; i++ {
		for _, l := range []string{"en", "fr"} {
			_, b := cget(t, s, "/v", "Accept-Language: "+l)
			if b != "lang="+l {
				t.Fatalf("round %d %s: %q", i, l, b)
			}
		}
	}
	if o.hits.Load() != 2 {
		t.Fatalf("origin saw %d requests, want 2 (one per variant)", o.hits.Load())
	}
}

// TestCacheRevalidate304: a stale entry is revalidated with its
// validators; the 304's fields are merged and the client gets the stored
// body, with the new header.
func TestCacheRevalidate304(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=0")
		w.Header().Set("ETag", `"e1"`)
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.Header().Set("X-Version", "2")
			w.WriteHeader(304)
			return
		}
		w.Header().Set("X-Version", "1")
		fmt.Fprint(w, "stored body")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	cget(t, s, "/r")
	r, b := cget(t, s, "/r")
	if b != "stored body" || r.StatusCode != 200 || r.Header.Get("X-Version") != "2" {
		t.Fatalf("revalidated: %d %q %v", r.StatusCode, b, r.Header)
	}
	if inm := o.last().Header.Get("If-None-Match"); inm != `"e1"` {
		t.Fatalf("origin got If-None-Match %q", inm)
	}
	if cs := r.Header.Get("Cache-Status"); cs != "gale; fwd=stale; fwd-status=304" {
		t.Fatalf("Cache-Status %q", cs)
	}
	// The client's own validator is answered by gale from the entry.
	r, _ = cget(t, s, "/r", `If-None-Match: "e1"`)
	if r.StatusCode != 304 || r.Header.Get("X-Version") != "2" {
		t.Fatalf("client conditional: %d %v", r.StatusCode, r.Header)
	}
}

// TestCacheInvalidateOnPOST: a successful POST drops the entry of its URI
// and of its Location.
func TestCacheInvalidateOnPOST(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			w.Header().Set("Location", "/other")
			w.WriteHeader(303)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "x")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	cget(t, s, "/p")
	cget(t, s, "/other")
	cdo(t, s, "POST", "/p", "Content-Length: 0")
	before := o.hits.Load()
	cget(t, s, "/p")
	cget(t, s, "/other")
	if got := o.hits.Load() - before; got != 2 {
		t.Fatalf("after POST the origin saw %d requests, want 2 (both invalidated)", got)
	}
}

// TestCacheStampede: 40 concurrent requests for a cold key cost the
// origin one request; all get its body.
func TestCacheStampede(t *testing.T) {
	release := make(chan struct{})
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "one")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	const n = 40
	var wg sync.WaitGroup
	bodies := make(chan string, n)
	statuses := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, b := cget(t, s, "/cold")
			bodies <- b
			statuses <- r.Header.Get("Cache-Status")
		}()
	}
	time.Sleep(300 * time.Millisecond) // all of them reach gale and wait
	close(release)
	wg.Wait()
	close(bodies)
	close(statuses)
	for b := range bodies {
		if b != "one" {
			t.Fatalf("body %q", b)
		}
	}
	collapsed := 0
	for st := range statuses {
		if strings.Contains(st, "collapsed") {
			collapsed++
		}
	}
	if o.hits.Load() != 1 || collapsed == 0 {
		t.Fatalf("origin saw %d requests (want 1); %d collapsed", o.hits.Load(), collapsed)
	}
}

// TestCacheUncacheableReleasesWaiters: waiters on a fetch whose answer
// cannot be stored go to the origin at once, and the key is hit-for-miss.
func TestCacheUncacheableReleasesWaiters(t *testing.T) {
	release := make(chan struct{})
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		if o.hits.Load() == 1 {
			<-release
		}
		w.Header().Set("Cache-Control", "private")
		fmt.Fprint(w, "p")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{HitForMiss: time.Minute})
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, b := cget(t, s, "/u"); b != "p" {
				t.Errorf("body %q", b)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	if o.hits.Load() != 5 || time.Since(start) > 3*time.Second {
		t.Fatalf("origin saw %d requests in %v, want 5 quickly", o.hits.Load(), time.Since(start))
	}
	r, _ := cget(t, s, "/u")
	if r.Header.Get("Cache-Status") != "gale; fwd=uri-miss; detail=hit-for-miss" {
		t.Fatalf("Cache-Status %q", r.Header.Get("Cache-Status"))
	}
}

// TestCacheStaleWhileRevalidate: a stale entry within its window is
// served at once while exactly one background request refreshes it.
func TestCacheStaleWhileRevalidate(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		if o.hits.Load() > 1 {
			time.Sleep(200 * time.Millisecond)
		}
		w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=60")
		fmt.Fprintf(w, "v%d", o.hits.Load())
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	cget(t, s, "/s")
	time.Sleep(2100 * time.Millisecond)
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		r, b := cget(t, s, "/s")
		if b != "v1" || time.Since(t0) > 150*time.Millisecond || !strings.Contains(r.Header.Get("Cache-Status"), "stale-while-revalidate") {
			t.Fatalf("stale answer %d: %q in %v, %q", i, b, time.Since(t0), r.Header.Get("Cache-Status"))
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, b := cget(t, s, "/s")
		if b == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background refresh never stored v2")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if o.hits.Load() != 2 {
		t.Fatalf("origin saw %d requests, want 2 (one refresh)", o.hits.Load())
	}
}

// TestCacheStaleIfError: a failing origin is stood in for by the stale
// entry within stale-if-error, not after.
func TestCacheStaleIfError(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		if o.hits.Load() > 1 {
			w.WriteHeader(503)
			return
		}
		w.Header().Set("Cache-Control", "max-age=1, stale-if-error=2")
		fmt.Fprint(w, "good")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	cget(t, s, "/e")
	time.Sleep(1100 * time.Millisecond)
	r, b := cget(t, s, "/e")
	if r.StatusCode != 200 || b != "good" || !strings.Contains(r.Header.Get("Cache-Status"), "stale-if-error") {
		t.Fatalf("within stale-if-error: %d %q %q", r.StatusCode, b, r.Header.Get("Cache-Status"))
	}
	time.Sleep(2 * time.Second)
	if r, _ := cget(t, s, "/e"); r.StatusCode != 503 {
		t.Fatalf("past stale-if-error: %d", r.StatusCode)
	}
}

// TestCacheLockTimeout: a request collapsed onto a fetch that takes too
// long goes to the origin itself after lock_timeout.
func TestCacheLockTimeout(t *testing.T) {
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		if o.hits.Load() == 1 {
			time.Sleep(1500 * time.Millisecond)
		}
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "x")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{LockTimeout: 200 * time.Millisecond})
	go cget(t, s, "/slow")
	time.Sleep(100 * time.Millisecond)
	t0 := time.Now()
	r, b := cget(t, s, "/slow")
	if b != "x" || time.Since(t0) > time.Second || r.Header.Get("Cache-Status") != "gale; fwd=uri-miss; detail=lock-timeout" {
		t.Fatalf("%q after %v, Cache-Status %q", b, time.Since(t0), r.Header.Get("Cache-Status"))
	}
	if o.hits.Load() != 2 {
		t.Fatalf("origin saw %d requests, want 2", o.hits.Load())
	}
	time.Sleep(1500 * time.Millisecond) // the first fetch ends before the origin closes
}

// TestCacheLeaderLeaves: the client whose request fetches a key leaves;
// the fetch goes on for the cache, and the request waiting for it gets
// the stored response.
func TestCacheLeaderLeaves(t *testing.T) {
	release := make(chan struct{})
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "kept")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	c := s.dial(t)
	fmt.Fprint(c, "GET /k HTTP/1.1\r\nHost: example.com\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	done := make(chan string, 1)
	go func() {
		r, b := cget(t, s, "/k")
		done <- b + " " + r.Header.Get("Cache-Status")
	}()
	time.Sleep(100 * time.Millisecond)
	c.Close()
	time.Sleep(100 * time.Millisecond)
	close(release)
	if got := <-done; got != "kept gale; fwd=uri-miss; collapsed" {
		t.Fatalf("waiter got %q", got)
	}
	if r, _ := cget(t, s, "/k"); o.hits.Load() != 1 || !strings.HasPrefix(r.Header.Get("Cache-Status"), "gale; hit") {
		t.Fatalf("origin saw %d requests; Cache-Status %q", o.hits.Load(), r.Header.Get("Cache-Status"))
	}
}

// TestCacheWaitersReadWhileWriting: a request waiting for another's
// fetch is written the response as it arrives: the first part before the
// origin sends the rest, then the rest; and the entry is stored whole.
func TestCacheWaitersReadWhileWriting(t *testing.T) {
	rest := make(chan struct{})
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "first part;")
		w.(http.Flusher).Flush()
		<-rest
		fmt.Fprint(w, "second part")
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	go cget(t, s, "/rww")
	time.Sleep(100 * time.Millisecond)
	c := s.dial(t)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(c, "GET /rww HTTP/1.1\r\nHost: example.com\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Cache-Status") != "gale; fwd=uri-miss; collapsed" {
		t.Fatalf("waiter's head: %v", resp.Header)
	}
	first := make([]byte, len("first part;"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first part;" {
		t.Fatalf("first part before the origin's end: %q %v", first, err)
	}
	close(rest)
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "second part" {
		t.Fatalf("the rest: %q %v", b, err)
	}
	if r, body := cget(t, s, "/rww"); body != "first part;second part" || !strings.HasPrefix(r.Header.Get("Cache-Status"), "gale; hit") || o.hits.Load() != 1 {
		t.Fatalf("stored: %q %q, origin %d", body, r.Header.Get("Cache-Status"), o.hits.Load())
	}
}

// TestCacheVaryCollapsed: a request collapsed onto a fetch of another
// variant is not given that variant: it looks its own up at the end,
// and fetches it.
func TestCacheVaryCollapsed(t *testing.T) {
	release := make(chan struct{})
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		if o.hits.Load() == 1 {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprint(w, "lang="+r.Header.Get("Accept-Language"))
	})
	s := startCached(t, o.addr, &handlers.CachePolicy{})
	done := make(chan string, 1)
	go func() {
		_, b := cget(t, s, "/vc", "Accept-Language: en")
		done <- b
	}()
	time.Sleep(100 * time.Millisecond)
	go func() {
		time.Sleep(100 * time.Millisecond)
		close(release)
	}()
	if _, b := cget(t, s, "/vc", "Accept-Language: fr"); b != "lang=fr" {
		t.Fatalf("the collapsed fr request got %q", b)
	}
	if b := <-done; b != "lang=en" {
		t.Fatalf("the en request got %q", b)
	}
}
