//go:build !race

package reactor

import (
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/httpproxy"
)

// noWait is a CacheWaiter for filling the cache by hand.
type noWait struct{}

func (noWait) CacheReady(*handlers.CacheFill, bool) {}
func (noWait) CacheStream(*handlers.CacheFill)      {}

// TestResponseCacheHitAllocatesNothing: parsing a browser's request and
// answering it from the response cache, in the reactor, allocates
// nothing: the lookup's spare exchange goes back to the free list, the
// head and body are the entry's, Age and Cache-Status go in scratch.
func TestResponseCacheHitAllocatesNothing(t *testing.T) {
	p := &handlers.CachePolicy{Cache: handlers.NewRespCache(8<<20, 1<<20), LockTimeout: time.Second}
	bs, err := upstream.ParseAddrs("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "app", Backends: bs, Protocol: httpproxy.Protocol}
	u.Init(1)
	s, err := New(Config{Handler: &handlers.Cached{Handler: handlers.NewProxy(u, nil), Policy: p}})
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.Replace(browserGET, "Accept-Encoding: gzip, deflate, br, zstd\r\n", "", 1)
	var parser httpcodec.Parser
	req := new(httpcodec.Request)
	if _, err := parser.Parse([]byte(raw), req); err != nil {
		t.Fatal(err)
	}
	var resp handlers.Response
	resp.Reset()
	dec, f := p.Lookup(&handlers.Ctx{}, req, &resp, time.Now(), noWait{})
	if dec != handlers.CacheFetch {
		t.Fatalf("lookup %d", dec)
	}
	body := strings.Repeat("x", 4096)
	f.Response(200, []byte("HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Type: image/png\r\n"), nil, nil, int64(len(body)), time.Now())
	f.Body([]byte(body))
	if !f.Finish(true, time.Now()) {
		t.Fatal("not stored")
	}
	mc := &memConn{}
	l := newLoop(s, nil)
	l.stamp()
	cs := &conn{gc: mc, fd: -1, l: l}
	cs.t.owner = cs
	in := []byte(raw)
	serve := func() {
		mc.in = in
		l.parseBatch(cs)
	}
	serve()
	before := mc.written
	if allocs := testing.AllocsPerRun(1000, serve); allocs != 0 {
		t.Fatalf("%.1f allocations per response cache hit", allocs)
	}
	if per := (mc.written - before) / 1001; per < len(body) || per > len(body)+400 {
		t.Fatalf("wrote %d bytes per response, want the 4 KiB body and its head", per)
	}
}
