//go:build !race

package handlers

import "testing"

// TestCacheHitAllocs guards the hot paths: a cache hit picks prebuilt heads
// and body views, so it must not allocate, whatever the validators, coding
// or single range asked for.
func TestCacheHitAllocs(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", compressible)
	s := newStatic(t, root, nil)
	for _, tc := range []struct {
		name    string
		method  string
		headers []string
		status  int
	}{
		{"plain", "GET", nil, 200},
		{"gzip", "GET", []string{"Accept-Encoding: gzip, deflate, br"}, 200},
		{"zstd", "GET", []string{"Accept-Encoding: zstd;q=1.0, gzip;q=0.8"}, 200},
		{"304 etag", "GET", []string{"If-None-Match: " + etagOf(len(compressible))}, 304},
		{"304 date", "GET", []string{"If-Modified-Since: " + fixedLastMod}, 304},
		{"range", "GET", []string{"Range: bytes=10-99"}, 206},
		{"412", "GET", []string{`If-Match: "other"`}, 412},
		{"416", "GET", []string{"Range: bytes=999999-"}, 416},
		{"405", "POST", nil, 405},
	} {
		req := parseReq(t, tc.method, "/app.js", tc.headers...)
		warm(t, s, "/app.js")
		ctx := &Ctx{Scratch: make([]byte, 0, 4096)}
		var resp Response
		allocs := testing.AllocsPerRun(200, func() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			s.Serve(ctx, req, &resp)
		})
		if allocs != 0 || resp.Status != tc.status {
			t.Errorf("%s: %v allocs, status %d", tc.name, allocs, resp.Status)
		}
	}
}

func TestRouterAllocs(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.css", "a{}")
	var rt Router
	rt.Handle("/", newStatic(t, root, nil))
	req := parseReq(t, "GET", "/a.css")
	serve(t, &rt, "GET", "/a.css")
	ctx := &Ctx{}
	var resp Response
	if allocs := testing.AllocsPerRun(200, func() {
		resp.Reset()
		rt.Serve(ctx, req, &resp)
	}); allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}
