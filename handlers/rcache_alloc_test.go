//go:build !race

package handlers

import (
	"strings"
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
	page := strings.Repeat("compressible text ", 100)
	if !storeResp(t, p, "/text", 200, "Cache-Control: max-age=100\r\nContent-Type: text/plain\r\n", page) {
		t.Fatal("not stored")
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, wire := lookup(t, p, "GET", "/text", "Accept-Encoding: gzip"); strings.Contains(wire, "Content-Encoding: gzip") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no gzip variant")
		}
	}
	for _, tc := range []struct {
		name    string
		path    string
		headers []string
		status  int
	}{
		{"plain", "/hit", []string{"Accept-Language: en"}, 200},
		{"304", "/hit", []string{"Accept-Language: en", `If-None-Match: "v"`}, 304},
		{"range", "/hit", []string{"Accept-Language: en", "Range: bytes=2-5"}, 206},
		{"gzip", "/text", []string{"Accept-Encoding: gzip, deflate, br"}, 200},
	} {
		req := parseReq(t, "GET", tc.path, tc.headers...)
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
