//go:build !race

package handlers

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestGuardsAllocs: a location's guards cost no allocation on the
// requests they let through (a cache hit behind a rate limit, a body limit,
// error pages and compression settings, and an authenticated client once
// its password was checked), nor on an error page answered from the cache;
// and a pooled encoder compresses a response without allocating encoder
// state.
func TestGuardsAllocs(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", compressible)
	writeFile(t, root, "404.html", "<h1>not here</h1>")
	s := newStatic(t, root, nil)
	var rt Router
	auth := testAuth(t)
	l := &Location{
		Handler:  s,
		Limit:    NewRateLimit(1e9, 1e9, 1024, 429),
		MaxBody:  1 << 20,
		Compress: &DynCompress{Types: CompressibleTypes(), MinLength: 256, Gzip: true},
		Errors:   NewErrorPages(map[int]string{404: "/404.html"}, rt.Internal()),
		Auth:     auth,
	}
	rt.Handle("/", l)
	warm(t, s, "/app.js")
	warm(t, s, "/404.html")
	req := parseReq(t, "GET", "/app.js", "Authorization: "+aliceAuth)
	ctx := &Ctx{Scratch: make([]byte, 0, 4096), Client: netip.MustParseAddr("192.0.2.1")}
	var resp Response
	rt.Serve(ctx, req, &resp) // checks the password once
	allocs := testing.AllocsPerRun(200, func() {
		ctx.Scratch = ctx.Scratch[:0]
		resp.Reset()
		rt.Serve(ctx, req, &resp)
	})
	if allocs != 0 || resp.Status != 200 {
		t.Errorf("cache hit behind the guards: %v allocs, status %d", allocs, resp.Status)
	}
	// The page itself, once the static handler said 404 (its own lookup
	// of a missing file is what it costs without a page).
	allocs = testing.AllocsPerRun(200, func() {
		ctx.Scratch = ctx.Scratch[:0]
		l.Errors.Serve(ctx, 404, false, 1, &resp)
	})
	if allocs != 0 || resp.Status != 404 || !bytes.Contains(resp.Body[0], []byte("not here")) {
		t.Errorf("error page: %v allocs, status %d, body %q", allocs, resp.Status, resp.Body)
	}

	body := bytes.Repeat([]byte("<p>dynamic page</p>\n"), 2000)
	for _, c := range []Coding{CodingGzip, CodingZstd} {
		AcquireEncoder(c).Release() // the pool's first encoder
		allocs := testing.AllocsPerRun(100, func() {
			e := AcquireEncoder(c)
			e.Write(body[:10000])
			e.Write(body[10000:])
			e.Close()
			e.Release()
		})
		// No encoder state is allocated per response. klauspost's zstd
		// stream writer makes two small allocations of its own per frame
		// (its frame header and last-block buffers escape through the
		// io.Writer): bounded, not state.
		if limit := map[Coding]float64{CodingGzip: 0, CodingZstd: 2}[c]; allocs > limit {
			t.Errorf("%s: %v allocations per compressed response, want at most %v", c, allocs, limit)
		}
	}
}
