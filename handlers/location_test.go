package handlers

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// serveFrom is serve with the client address set, as the reactor sets it.
func serveFrom(t *testing.T, h Handler, client, target string, headers ...string) result {
	t.Helper()
	req := parseReq(t, "GET", target, headers...)
	resp := new(Response)
	resp.Reset()
	ctx := &Ctx{}
	if client != "" {
		ctx.Client = netip.MustParseAddr(client)
	}
	h.Serve(ctx, req, resp)
	var body strings.Builder
	for _, b := range resp.Body {
		body.Write(b)
	}
	return result{resp: resp, head: string(resp.Head), body: body.String()}
}

func TestLocationAccess(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "a")
	s := newStatic(t, root, nil)
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name   string
		loc    Location
		client string
		status int
	}{
		{"no rules", Location{Handler: s}, "192.0.2.1", 200},
		{"deny all", Location{Handler: s, DenyAll: true}, "127.0.0.1", 403},
		{"allowed", Location{Handler: s, Allow: []netip.Prefix{p("10.0.0.0/8")}}, "10.1.2.3", 200},
		{"not allowed", Location{Handler: s, Allow: []netip.Prefix{p("10.0.0.0/8")}}, "192.0.2.1", 403},
		{"denied within allowed", Location{Handler: s, Deny: []netip.Prefix{p("10.0.0.5/32")}, Allow: []netip.Prefix{p("10.0.0.0/8")}}, "10.0.0.5", 403},
		{"denied", Location{Handler: s, Deny: []netip.Prefix{p("192.0.2.0/24")}}, "192.0.2.9", 403},
		{"not denied", Location{Handler: s, Deny: []netip.Prefix{p("192.0.2.0/24")}}, "198.51.100.1", 200},
		{"IPv6 allowed", Location{Handler: s, Allow: []netip.Prefix{p("2001:db8::/32")}}, "2001:db8::1", 200},
		{"IPv6 not allowed", Location{Handler: s, Allow: []netip.Prefix{p("2001:db8::/32")}}, "2001:db9::1", 403},
		{"no address (unix socket) with allow", Location{Handler: s, Allow: []netip.Prefix{p("10.0.0.0/8")}}, "", 403},
		{"no address with deny only", Location{Handler: s, Deny: []netip.Prefix{p("10.0.0.0/8")}}, "", 200},
		{"internal", Location{Handler: s, Internal: true}, "127.0.0.1", 404},
		{"nothing to serve", Location{}, "127.0.0.1", 404},
	} {
		if r := serveFrom(t, &tc.loc, tc.client, "/a.txt"); r.resp.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.resp.Status, tc.status)
		}
	}
}

// TestInternalLocations: the router's internal view reaches internal
// locations, checks no addresses there (the stale client is not the
// redirect's), keeps deny all, never hands a redirect to an application,
// and serves the front controller's files without running its scripts.
func TestInternalLocations(t *testing.T) {
	root, private := t.TempDir(), t.TempDir()
	writeFile(t, root, "index.php", "<?php")
	writeFile(t, root, "pub.txt", "pub")
	writeFile(t, private, "report.pdf", "PDF")
	var rt Router
	fc := NewFrontController(newStatic(t, root, nil), &upstream.Upstream{}, root)
	fc.Internal = rt.Internal()
	rt.Handle("/", fc)
	rt.Handle("/protected/", &Location{Handler: newStatic(t, private, func(c *StaticConfig) { c.Mount = "/protected/" }), Internal: true,
		Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	rt.Handle("/closed/", &Location{Handler: newStatic(t, private, nil), DenyAll: true})
	rt.HandleExt(".cgi", passApp{root})
	if r := serveFrom(t, &rt, "10.0.0.1", "/protected/report.pdf"); r.resp.Status != 404 {
		t.Errorf("client asking for an internal location: %d", r.resp.Status)
	}
	r := serveFrom(t, &rt, "192.0.2.1", "/index.php")
	if r.resp.Upstream == nil || r.resp.Upstream.Internal == nil {
		t.Fatal("front controller did not route with an internal handler")
	}
	internal := r.resp.Upstream.Internal
	for _, tc := range []struct {
		target string
		status int
		body   string
	}{
		{"/protected/report.pdf", 200, "PDF"},
		{"/pub.txt", 200, "pub"},
		{"/index.php", 404, ""},
		{"/closed/report.pdf", 403, ""},
		{"/x.cgi", 404, ""},
	} {
		r := serveFrom(t, internal, "192.0.2.1", tc.target)
		if r.resp.Status != tc.status || r.resp.Upstream != nil || (tc.body != "" && r.body != tc.body) {
			t.Errorf("internal redirect to %s: %d %q routed %v, want %d %q", tc.target, r.resp.Status, r.body, r.resp.Upstream != nil, tc.status, tc.body)
		}
	}
}

// passApp sends every request to an application, as mode: pass does.
type passApp struct{ root string }

func (a passApp) Serve(_ *Ctx, req *httpcodec.Request, resp *Response) {
	resp.RouteUpstream(&upstream.Upstream{}, a.root, req.Path, nil)
}

func TestStaticMount(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.css", "a{}")
	writeFile(t, root, "sub/b.txt", "b")
	writeFile(t, root, ".env", "x")
	s := newStatic(t, root, func(c *StaticConfig) { c.Mount = "/static/" })
	for _, tc := range []struct {
		target   string
		status   int
		body     string
		location string
	}{
		{"/static/a.css", 200, "a{}", ""},
		{"/static/sub/b.txt", 200, "b", ""},
		{"/static/sub", 301, "", "/static/sub/"},
		{"/static/.env", 404, "", ""},
		{"/a.css", 404, "", ""},
		{"/staticx/a.css", 404, "", ""},
	} {
		r := serve(t, s, "GET", tc.target)
		if r.resp.Status != tc.status || (tc.body != "" && r.body != tc.body) || header(r.head, "Location") != tc.location {
			t.Errorf("%s: %d %q Location %q, want %d %q %q", tc.target, r.resp.Status, r.body, header(r.head, "Location"), tc.status, tc.body, tc.location)
		}
	}
	// A hit is answered from the cache under the request's path.
	if r := serve(t, s, "GET", "/static/a.css"); r.resp.Cache != CacheHit || r.body != "a{}" {
		t.Errorf("second GET: cache %v body %q", r.resp.Cache, r.body)
	}
}

func TestHeaderRules(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "app.js", "x()")
	writeFile(t, root, "dir/index.html", "i")
	s := newStatic(t, root, nil)
	loc := &Location{Handler: s, Headers: NewHeaderRules(
		[][2]string{{"X-Frame-Options", "DENY"}, {"accept-ranges", "none"}},
		[][2]string{{"Link", "</a.css>; rel=preload"}},
		[]string{"Last-Modified"}, 31536000)}
	for range 2 { // a miss, then a hit: the cached head is not changed
		r := serve(t, loc, "GET", "/app.js")
		if r.resp.Status != 200 || r.body != "x()" {
			t.Fatalf("GET: %d %q", r.resp.Status, r.body)
		}
		for name, want := range map[string]string{"X-Frame-Options": "DENY", "Accept-Ranges": "none", "Link": "</a.css>; rel=preload",
			"Cache-Control": "max-age=31536000", "Last-Modified": "", "ETag": etagOf(3), "Content-Length": "3"} {
			if got := header(r.head, name); got != want {
				t.Errorf("%s: %q, want %q in\n%s", name, got, want, r.head)
			}
		}
		if strings.Count(strings.ToLower(r.head), "accept-ranges") != 1 {
			t.Errorf("set left the old line:\n%s", r.head)
		}
		if raw := serve(t, s, "GET", "/app.js"); header(raw.head, "Last-Modified") == "" || header(raw.head, "X-Frame-Options") != "" {
			t.Errorf("the static handler's own head changed:\n%s", raw.head)
		}
	}
	if r := serve(t, loc, "GET", "/app.js", "If-None-Match: "+etagOf(3)); r.resp.Status != 304 || header(r.head, "Cache-Control") != "max-age=31536000" {
		t.Errorf("304: %d\n%s", r.resp.Status, r.head)
	}
	if r := serve(t, loc, "GET", "/dir"); r.resp.Status != 301 || header(r.head, "X-Frame-Options") != "DENY" {
		t.Errorf("301: %d\n%s", r.resp.Status, r.head)
	}
	if r := serve(t, loc, "GET", "/missing"); r.resp.Status != 404 || header(r.head, "Cache-Control") != "" {
		t.Errorf("404 got the rules: %d\n%s", r.resp.Status, r.head)
	}
}
