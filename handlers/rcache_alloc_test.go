//go:build !race

package handlers

import (
	"testing"
	"time"
)

// TestRespCacheHitAllocs: a response cache hit, plain, 304 or ranged,
// picks the prebuilt head and body views and writes only Age and
// Cache-Status into scratch: no allocation.
func TestRespCacheHitAllocs(t *testing.T) {
	p := newPolicy()
	if !storeResp(t, p, "/hit", 200, "Cache-Control: max-age=100\r\nETag: \"v\"\r\nVary: Accept-Language\r\n", "0123456789", "Accept-Language: en") {
		t.Fatal("not stored")
	}
	for _, tc := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"plain", []string{"Accept-Language: en"}, 200},
		{"304", []string{"Accept-Language: en", `If-None-Match: "v"`}, 304},
		{"range", []string{"Accept-Language: en", "Range: bytes=2-5"}, 206},
	} {
		req := parseReq(t, "GET", "/hit", tc.headers...)
		ctx := &Ctx{Scratch: make([]byte, 0, 4096), cacheKey: make([]byte, 0, 256)}
		var resp Response
		now := time.Now()
		allocs := testing.AllocsPerRun(200, func() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			if dec, _ := p.Lookup(ctx, req, &resp, now, nil); dec != CacheServed || resp.Status != tc.status {
				t.Fatalf("%s: decision %d status %d", tc.name, dec, resp.Status)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per hit", tc.name, allocs)
		}
	}
}
