//go:build !race

package reactor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
)

const browserGET = "GET /style.css HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"130\", \"Not?A_Brand\";v=\"99\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Accept: text/css,*/*;q=0.1\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: no-cors\r\n" +
	"Sec-Fetch-Dest: style\r\n" +
	"Referer: http://localhost:8080/\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n\r\n"

// memRig is one loop serving root's static files to one in-memory
// connection: serve feeds it raw, as one read.
type memRig struct {
	l     *loop
	mc    *memConn
	serve func()
}

// newMemRig builds the rig; al, when set, is the loop's access log.
func newMemRig(tb testing.TB, root string, al *AccessLog, raw string) *memRig {
	tb.Helper()
	static, err := handlers.NewStatic(handlers.DefaultStaticConfig(root))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { static.Close() })
	s, err := New(Config{Handler: static, AccessLog: al})
	if err != nil {
		tb.Fatal(err)
	}
	r := &memRig{l: newLoop(s, nil), mc: &memConn{}}
	cs := &conn{gc: r.mc, fd: -1, l: r.l, peer: socketPeer(r.mc.RemoteAddr())}
	cs.t.owner = cs
	in := []byte(raw)
	r.serve = func() {
		r.mc.in = in
		r.l.parseBatch(cs)
	}
	return r
}

// awaitCompressed serves until the answer is shorter than plain bytes: the
// first request fills the cache, and compressed variants are built in the
// background, off the loop.
func (r *memRig) awaitCompressed(tb testing.TB, plain int) {
	tb.Helper()
	for i := 0; ; i++ {
		w := r.mc.written
		r.serve()
		if r.mc.written-w < plain {
			return
		}
		if i == 200 {
			tb.Fatal("no compressed variant after 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCacheHitAllocatesNothing: parsing a browser's request and answering
// it from the static cache (compressed variant included) allocates nothing
// in the reactor, codec or handler.
func TestCacheHitAllocatesNothing(t *testing.T) {
	root := t.TempDir()
	css := make([]byte, 0, 8192)
	for len(css) < 8000 {
		css = append(css, "body { margin: 0 auto; color: #123456; }\n"...)
	}
	if err := os.WriteFile(filepath.Join(root, "style.css"), css, 0o644); err != nil {
		t.Fatal(err)
	}
	r := newMemRig(t, root, nil, browserGET)
	r.awaitCompressed(t, len(css))
	before := r.mc.written
	allocs := testing.AllocsPerRun(1000, r.serve)
	if allocs != 0 {
		t.Fatalf("%.1f allocations per cache hit", allocs)
	}
	if per := (r.mc.written - before) / 1001; per == 0 || per >= len(css) {
		t.Fatalf("wrote %d bytes per response: want the compressed variant (< %d)", per, len(css))
	}
}
