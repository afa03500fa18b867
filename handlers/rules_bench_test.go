package handlers

import (
	"net/netip"
	"testing"

	"github.com/gale-http/gale/upstream"
)

// siteRulesFixture builds a static cache hit for /app.js served two ways:
// bare, a router with one location; and behind a site's rules that do not
// match it: 20 redirects in front of a router of 5 locations (an
// extension location to a front controller, an alias with expires, an
// internal location, an address-restricted one, and one with 10 header
// rules), the request falling to the plain "/" location. Issue 16: the
// rules must cost nothing on requests they do not match.
func siteRulesFixture(tb testing.TB) (bare, rules Handler) {
	root := tb.TempDir()
	writeFile(tb, root, "app.js", compressible)
	writeFile(tb, root, "index.php", "<?php")
	s := newStatic(tb, root, nil)
	warm(tb, s, "/app.js")
	b := &Router{}
	b.Handle("/", s)

	rt := &Router{}
	fc := NewFrontController(s, &upstream.Upstream{}, root)
	fc.Internal = rt.Internal()
	rt.HandleExt(".php", fc)
	rt.Handle("/", s)
	rt.Handle("/media/", &Location{Handler: s, Headers: NewHeaderRules(nil, nil, nil, 365*86400)})
	rt.Handle("/private/", &Location{Handler: s, Internal: true})
	rt.Handle("/admin/", &Location{Handler: fc, Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	rt.Handle("/static/", &Location{Handler: s, Headers: NewHeaderRules(
		[][2]string{{"X-Frame-Options", "DENY"}, {"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "same-origin"}},
		[][2]string{{"X-A", "1"}, {"X-B", "2"}, {"Link", "</a.css>; rel=preload"}},
		[]string{"Last-Modified", "ETag", "X-Powered-By"}, 3600)}) // 10 rules with expires
	rd := &Redirects{Next: rt}
	for i := range 19 {
		if err := rd.Add("^/old"+itoa(i)+"/(.*)$", "/new/$1", 301); err != nil {
			tb.Fatal(err)
		}
	}
	if err := rd.Add(`\.bak$`, "https://$host$request_uri", 301); err != nil {
		tb.Fatal(err)
	}
	return b, rd
}

// BenchmarkStaticHitRules compares the static hit bare and behind the
// site rules of siteRulesFixture (compare the two with benchstat; the
// rules should stay within a few per cent).
func BenchmarkStaticHitRules(b *testing.B) {
	bare, rules := siteRulesFixture(b)
	req := parseReq(b, "GET", "/app.js")
	for _, bc := range []struct {
		name string
		h    Handler
	}{{"bare", bare}, {"rules", rules}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := &Ctx{Scratch: make([]byte, 0, 4096), Client: netip.MustParseAddr("127.0.0.1")}
			var resp Response
			b.ReportAllocs()
			for b.Loop() {
				ctx.Scratch = ctx.Scratch[:0]
				resp.Reset()
				bc.h.Serve(ctx, req, &resp)
			}
			if resp.Status != 200 {
				b.Fatalf("status %d", resp.Status)
			}
		})
	}
}
