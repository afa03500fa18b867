//go:build !race

package handlers

import (
	"net/netip"
	"testing"

	"github.com/gale-http/gale/upstream"
)

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

// TestRulesAllocs: the site rules cost no allocation on requests they
// let through or do not match: access checks, the refuse list, the
// internal router, and header rules (which copy the head into scratch).
func TestRulesAllocs(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", compressible)
	writeFile(t, root, "index.php", "<?php")
	s := newStatic(t, root, nil)
	var rt Router
	fc := NewFrontController(s, &upstream.Upstream{}, root)
	fc.Internal = rt.Internal()
	rt.Handle("/", &Location{Handler: fc, Deny: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		Allow:   []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")},
		Headers: NewHeaderRules([][2]string{{"X-Frame-Options", "DENY"}}, nil, []string{"Last-Modified"}, 3600)})
	rt.Handle("/private/", &Location{Handler: s, Internal: true})
	warm(t, s, "/app.js")
	ctx := &Ctx{Scratch: make([]byte, 0, 4096), Client: netip.MustParseAddr("127.0.0.1")}
	for _, tc := range []struct {
		h      Handler
		target string
		status int
	}{
		{&rt, "/app.js", 200},
		{&rt, "/composer.json", 0}, // refused: to the application, no disk
		{&rt, "/index.php", 0},     // a script
		{&rt, "/private/x", 404},   // internal
		{rt.Internal(), "/app.js", 200},
	} {
		req := parseReq(t, "GET", tc.target)
		var resp Response
		allocs := testing.AllocsPerRun(200, func() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			tc.h.Serve(ctx, req, &resp)
		})
		if allocs != 0 || resp.Status != tc.status {
			t.Errorf("%s: %v allocs, status %d", tc.target, allocs, resp.Status)
		}
	}
}

// TestRedirectsAllocs: twenty redirect rules and ten rewrites in front of
// a cache hit cost no allocation when none matches, anchored or not; a
// rewrite without captures that matches costs none either.
func TestRedirectsAllocs(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", compressible)
	s := newStatic(t, root, nil)
	rd := &Redirects{Next: s}
	for i := range 19 {
		if err := rd.Add("^/old"+itoa(i)+"/(.*)$", "/new/$1", 301); err != nil {
			t.Fatal(err)
		}
	}
	if err := rd.Add(`\.bak$`, "https://$host$request_uri", 301); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		if err := rd.AddRewrite("^/media"+itoa(i)+"/(.*)$", "/fetch.php?media=$1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := rd.AddRewrite("^/main\\.js$", "/app.js"); err != nil {
		t.Fatal(err)
	}
	warm(t, s, "/app.js")
	ctx := &Ctx{Scratch: make([]byte, 0, 4096)}
	var resp Response
	for _, target := range []string{"/app.js", "/main.js"} {
		req := parseReq(t, "GET", target)
		path := req.Path
		allocs := testing.AllocsPerRun(200, func() {
			ctx.Scratch = ctx.Scratch[:0]
			req.Path = path
			resp.Reset()
			rd.Serve(ctx, req, &resp)
		})
		if allocs != 0 || resp.Status != 200 {
			t.Errorf("%s: %v allocs, status %d", target, allocs, resp.Status)
		}
	}
}

// TestSiteRulesAllocs: a cache hit behind 20 redirects, 5 locations and
// 10 header rules that do not match it allocates nothing, as the bare hit
// (issue 16).
func TestSiteRulesAllocs(t *testing.T) {
	bare, rules := siteRulesFixture(t)
	req := parseReq(t, "GET", "/app.js")
	for name, h := range map[string]Handler{"bare": bare, "rules": rules} {
		ctx := &Ctx{Scratch: make([]byte, 0, 4096), Client: netip.MustParseAddr("127.0.0.1")}
		var resp Response
		allocs := testing.AllocsPerRun(200, func() {
			ctx.Scratch = ctx.Scratch[:0]
			resp.Reset()
			h.Serve(ctx, req, &resp)
		})
		if allocs != 0 || resp.Status != 200 || resp.Cache != CacheHit {
			t.Errorf("%s: %v allocs, status %d, cache %d", name, allocs, resp.Status, resp.Cache)
		}
	}
}
