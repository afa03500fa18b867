package handlers

import (
	"compress/gzip"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// waiter records CacheReady calls.
type waiter struct {
	calls   []bool
	streams int
}

func (w *waiter) CacheReady(_ *CacheFill, stored bool) { w.calls = append(w.calls, stored) }
func (w *waiter) CacheStream(*CacheFill)               { w.streams++ }

// storeResp runs a miss for target through Lookup and a fill, as the
// reactor does, with the response head fields (CRLF-separated lines) and
// body given; it reports whether the response was stored.
func storeResp(t testing.TB, p *CachePolicy, target string, status int, fields, body string, reqHdrs ...string) bool {
	t.Helper()
	req := parseReq(t, "GET", target, reqHdrs...)
	ctx := &Ctx{}
	var resp Response
	resp.Reset()
	dec, f := p.Lookup(ctx, req, &resp, time.Now(), &waiter{})
	if dec != CacheFetch {
		t.Fatalf("%s: lookup %d, want a fetch", target, dec)
	}
	head := fmt.Sprintf("HTTP/1.1 %d X\r\n%s", status, fields)
	if f.Response(status, []byte(head), nil, nil, int64(len(body)), time.Now()) != TeeStore {
		f.Finish(false, time.Now())
		return false
	}
	f.Body([]byte(body))
	return f.Finish(true, time.Now())
}

// lookup looks target up and returns the decision and the response as
// the wire would carry it (head, more head, body).
func lookup(t testing.TB, p *CachePolicy, method, target string, hdrs ...string) (CacheDecision, string) {
	t.Helper()
	req := parseReq(t, method, target, hdrs...)
	ctx := &Ctx{}
	var resp Response
	resp.Reset()
	dec, f := p.Lookup(ctx, req, &resp, time.Now(), &waiter{})
	if f != nil && dec == CacheFetch {
		f.Finish(false, time.Now())
	}
	var b strings.Builder
	b.Write(resp.Head)
	b.Write(resp.HeadMore)
	b.WriteString("\r\n")
	for _, v := range resp.Body {
		b.Write(v)
	}
	return dec, b.String()
}

func newPolicy() *CachePolicy {
	return &CachePolicy{Cache: NewRespCache(4<<20, 1<<20), LockTimeout: time.Second, HitForMiss: time.Second}
}

func TestRespCacheHitHead(t *testing.T) {
	p := newPolicy()
	if !storeResp(t, p, "/a?x=1", 200, "Cache-Control: max-age=100\r\nContent-Type: text/plain\r\nAge: 5\r\n", "hello") {
		t.Fatal("not stored")
	}
	dec, wire := lookup(t, p, "GET", "/a?x=1")
	if dec != CacheServed {
		t.Fatalf("decision %d", dec)
	}
	for _, want := range []string{"HTTP/1.1 200 X\r\n", "Server: gale\r\n", "Content-Type: text/plain\r\n",
		"Content-Length: 5\r\n", "Age: 5\r\n", "Cache-Status: gale; hit; ttl=95\r\n", "\r\n\r\nhello"} {
		if !strings.Contains(wire, want) {
			t.Errorf("hit lacks %q:\n%s", want, wire)
		}
	}
	if strings.Count(wire, "Age:") != 1 || !strings.Contains(wire, "Date: ") {
		t.Errorf("one Age, generated, and a Date:\n%s", wire)
	}
	// Another query is another key.
	if dec, _ := lookup(t, p, "GET", "/a?x=2"); dec != CacheFetch {
		t.Errorf("other query: decision %d", dec)
	}
}

func TestRespCacheOnlyIfCached(t *testing.T) {
	p := newPolicy()
	dec, wire := lookup(t, p, "GET", "/none", "Cache-Control: only-if-cached")
	if dec != CacheServed || !strings.HasPrefix(wire, "HTTP/1.1 504") {
		t.Fatalf("only-if-cached miss: %d\n%s", dec, wire)
	}
}

func TestRespCacheCollapse(t *testing.T) {
	p := newPolicy()
	req := parseReq(t, "GET", "/c")
	var resp Response
	resp.Reset()
	dec, leader := p.Lookup(&Ctx{}, req, &resp, time.Now(), &waiter{})
	if dec != CacheFetch {
		t.Fatal("first lookup is not the fetch")
	}
	w := &waiter{}
	resp.Reset()
	if dec, f := p.Lookup(&Ctx{}, req, &resp, time.Now(), w); dec != CacheWait || f != leader {
		t.Fatalf("second lookup: %d", dec)
	}
	leader.Response(200, []byte("HTTP/1.1 200 OK\r\nCache-Control: max-age=10\r\n"), nil, nil, -1, time.Now())
	leader.Body([]byte("x"))
	if v := leader.Stream(0); w.streams != 2 || v.State != StreamOpen || len(v.Chunks) != 1 || !strings.HasPrefix(string(v.Head), "HTTP/1.1 200 OK\r\n") ||
		!strings.Contains(string(v.Head), "Transfer-Encoding: chunked\r\n") || !strings.Contains(string(v.Head), "Cache-Status: gale; fwd=uri-miss; collapsed\r\n") {
		t.Fatalf("read-while-writer: %d notifications, %+v", w.streams, v)
	}
	if !leader.Finish(true, time.Now()) || len(w.calls) != 1 || !w.calls[0] || leader.Stream(1).State != StreamDone {
		t.Fatalf("waiter calls %v", w.calls)
	}
	// An uncacheable answer releases at once, as not stored, and the key
	// is hit-for-miss.
	resp.Reset()
	req2 := parseReq(t, "GET", "/u")
	_, leader = p.Lookup(&Ctx{}, req2, &resp, time.Now(), &waiter{})
	w2 := &waiter{}
	p.Lookup(&Ctx{}, req2, &resp, time.Now(), w2)
	if leader.Response(200, []byte("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\n"), nil, nil, -1, time.Now()) != TeePass {
		t.Fatal("no-store is stored")
	}
	if len(w2.calls) != 1 || w2.calls[0] {
		t.Fatalf("waiter of an uncacheable fetch: %v", w2.calls)
	}
	resp.Reset()
	if dec, _ := p.Lookup(&Ctx{}, req2, &resp, time.Now(), &waiter{}); dec != CacheBypass || resp.CacheStatus != statusHFM {
		t.Fatalf("hit-for-miss: %d %q", dec, resp.CacheStatus)
	}
}

func TestRespCachePurge(t *testing.T) {
	p := newPolicy()
	c := p.Cache
	var served func(path string) bool
	fill := func() {
		for _, path := range []string{"/blog/1", "/blog/2", "/shop/1"} {
			if served(path) {
				continue
			}
			tag := "Cache-Tag: " + strings.Split(path, "/")[1] + " all\r\n"
			p.TagHeader = "Cache-Tag"
			if !storeResp(t, p, path, 200, "Cache-Control: max-age=100\r\nETag: \"e\"\r\n"+tag, "b") {
				t.Fatal("not stored")
			}
		}
	}
	served = func(path string) bool {
		dec, _ := lookup(t, p, "GET", path)
		return dec == CacheServed
	}
	check := func(name string, want map[string]bool) {
		t.Helper()
		for path, w := range want {
			if served(path) != w {
				t.Errorf("%s: %s served=%v, want %v", name, path, !w, w)
			}
		}
	}
	fill()
	_, wire := lookup(t, p, "GET", "/blog/1")
	if strings.Contains(wire, "Cache-Tag") {
		t.Errorf("the tag header reaches the client:\n%s", wire)
	}
	if n := c.PurgeKey("test/blog/1", false); n != 1 {
		t.Errorf("PurgeKey: %d", n)
	}
	check("key", map[string]bool{"/blog/1": false, "/blog/2": true})
	fill()
	if n, err := c.PurgeURL("http://TEST/blog/2", false); n != 1 || err != nil {
		t.Errorf("PurgeURL: %d %v", n, err)
	}
	if _, err := c.PurgeURL("/relative", false); err == nil {
		t.Error("PurgeURL of a relative URL")
	}
	check("url", map[string]bool{"/blog/2": false, "/blog/1": true})
	fill()
	if n := c.PurgePrefix("test/blog/", false); n != 2 {
		t.Errorf("PurgePrefix: %d", n)
	}
	check("prefix", map[string]bool{"/blog/1": false, "/blog/2": false, "/shop/1": true})
	fill()
	if n := c.PurgeTag("shop", false); n != 1 {
		t.Errorf("PurgeTag: %d", n)
	}
	check("tag", map[string]bool{"/shop/1": false, "/blog/1": true})
	fill()
	c.PurgeAll(false)
	check("all", map[string]bool{"/shop/1": false, "/blog/1": false, "/blog/2": false})
	// Soft: the entry stays, stale, and is revalidated with its ETag.
	fill()
	if n := c.PurgeTag("all", true); n != 3 {
		t.Errorf("soft PurgeTag: %d", n)
	}
	req := parseReq(t, "GET", "/blog/1")
	var resp Response
	resp.Reset()
	dec, f := p.Lookup(&Ctx{}, req, &resp, time.Now(), &waiter{})
	if dec != CacheFetch || !f.Revalidating() || resp.CacheStatus != statusStale {
		t.Fatalf("after a soft purge: %d %q", dec, resp.CacheStatus)
	}
	f.Finish(false, time.Now())
	fill()
	time.Sleep(time.Millisecond)
	c.PurgeAll(true)
	if served("/shop/1") {
		t.Error("soft purge of all: still fresh")
	}
}

// TestRespCacheStoreBound: the store stays within its budget whatever is
// put, and S3-FIFO keeps a hit working set through a flood of one-hit
// wonders that would flush an LRU.
func TestRespCacheStoreBound(t *testing.T) {
	const budget = 2 << 20
	st := newStore(budget, 64<<10)
	body := make([]byte, 1000)
	hot := 200
	for i := 0; i < hot; i++ {
		st.put(uint64(i+1)<<20|1, entryMeta{keyN: 0}, body)
	}
	for round := 0; round < 20; round++ {
		for i := 0; i < hot; i++ {
			if _, _, pin, ok := st.get(uint64(i+1)<<20 | 1); ok {
				pin.Release()
			}
		}
		for j := 0; j < 500; j++ { // 20 x 500 KB of one-hit wonders: 5x the budget
			st.put(uint64(round*1000+j+1)<<32|2, entryMeta{}, body)
		}
		if b, _, _ := st.usage(); b > budget+int64(st.pageSize) {
			t.Fatalf("round %d: %d bytes held, budget %d", round, b, budget)
		}
	}
	kept := 0
	for i := 0; i < hot; i++ {
		if _, _, pin, ok := st.get(uint64(i+1)<<20 | 1); ok {
			pin.Release()
			kept++
		}
	}
	if kept < hot*9/10 {
		t.Fatalf("kept %d of %d hot entries through the scan", kept, hot)
	}
	if _, _, ev := st.usage(); ev == 0 {
		t.Fatal("no evictions counted")
	}
}

// BenchmarkRespCacheMillionKeys fills a 64 MiB cache with 1M distinct
// small responses and reports what the process holds for it: mappings
// (pages, slots, index) within the budget, whatever the key count, and
// nothing on the Go heap.
func BenchmarkRespCacheMillionKeys(b *testing.B) {
	for range b.N {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		st := newStore(64<<20, 1<<20)
		body := make([]byte, 200)
		for i := range 1_000_000 {
			st.put(uint64(i+1)*0x9E3779B97F4A7C15, entryMeta{}, body)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		bytes, entries, ev := st.usage()
		b.ReportMetric(float64(bytes)/(1<<20), "MiB-mapped")
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), "MiB-heap")
		b.ReportMetric(float64(entries), "entries")
		b.ReportMetric(float64(ev), "evictions")
		runtime.KeepAlive(st)
	}
}

// TestRespCacheCompressedVariants: a compressible response gets gzip and
// zstd variants built once, off the request, chosen by Accept-Encoding;
// every representation says Vary: Accept-Encoding, the compressed ones
// carry a weak ETag, and ranges come from the identity body.
func TestRespCacheCompressedVariants(t *testing.T) {
	p := newPolicy()
	page := strings.Repeat("<p>a cached page of text</p>\n", 100)
	if !storeResp(t, p, "/page", 200, "Cache-Control: max-age=100\r\nContent-Type: text/html; charset=utf-8\r\nETag: \"p1\"\r\n", page) {
		t.Fatal("not stored")
	}
	var wire string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, wire = lookup(t, p, "GET", "/page", "Accept-Encoding: gzip")
		if strings.Contains(wire, "Content-Encoding: gzip") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no gzip variant:\n%.300s", wire)
		}
	}
	head, body, _ := strings.Cut(wire, "\r\n\r\n")
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || string(plain) != page {
		t.Fatalf("gzip variant does not decode to the page: %v", err)
	}
	for _, want := range []string{"Vary: Accept-Encoding\r\n", `ETag: W/"p1"` + "\r\n", fmt.Sprintf("Content-Length: %d\r\n", len(body))} {
		if !strings.Contains(head, want) {
			t.Errorf("gzip head lacks %q:\n%s", want, head)
		}
	}
	_, wire = lookup(t, p, "GET", "/page", "Accept-Encoding: zstd, gzip")
	if !strings.Contains(wire, "Content-Encoding: zstd") {
		t.Errorf("zstd preferred:\n%.300s", wire)
	}
	_, wire = lookup(t, p, "GET", "/page")
	if strings.Contains(wire, "Content-Encoding") || !strings.Contains(wire, "Vary: Accept-Encoding") || !strings.HasSuffix(wire, page) {
		t.Errorf("identity:\n%.300s", wire)
	}
	_, wire = lookup(t, p, "GET", "/page", "Accept-Encoding: gzip", "Range: bytes=0-2")
	if !strings.HasPrefix(wire, "HTTP/1.1 206") || !strings.HasSuffix(wire, "\r\n\r\n<p>") {
		t.Errorf("range:\n%.300s", wire)
	}
	// Already encoded, or varying: left alone.
	storeResp(t, p, "/enc", 200, "Cache-Control: max-age=100\r\nContent-Type: text/plain\r\nContent-Encoding: br\r\n", page)
	time.Sleep(100 * time.Millisecond)
	if _, wire = lookup(t, p, "GET", "/enc", "Accept-Encoding: gzip"); strings.Contains(wire, "gzip") {
		t.Errorf("an encoded response was compressed again:\n%.300s", wire)
	}
}

// BenchmarkRespCacheHit is a hit's handler side, on every P at once (the
// loops share the cache): lookup, serve, and the pin's release the
// reactor does once the response is written.
func BenchmarkRespCacheHit(b *testing.B) {
	p := newPolicy()
	if !storeResp(b, p, "/hit", 200, "Cache-Control: max-age=100\r\nETag: \"v\"\r\n", strings.Repeat("x", 4096)) {
		b.Fatal("not stored")
	}
	req := parseReq(b, "GET", "/hit")
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := &Ctx{Scratch: make([]byte, 0, 4096), cacheKey: make([]byte, 0, 256)}
		var resp Response
		for pb.Next() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			if dec, _ := p.Lookup(ctx, req, &resp, now, nil); dec != CacheServed {
				b.Fatal("not a hit")
			}
			if resp.Pin != nil {
				resp.Pin.Release()
			}
		}
	})
}
