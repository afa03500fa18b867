package handlers

import (
	"testing"
)

func TestRedirects(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "a")
	rd := &Redirects{Next: newStatic(t, root, nil)}
	rd.SetFallbackHost("example.com")
	for _, r := range []struct {
		match, to string
		status    int
	}{
		{"^/old/(.*)$", "/new/$1", 301},
		{"^/_media/(.*)$", "/lib/exe/fetch.php?media=$1", 302},
		{"^/insecure/", "https://$host$request_uri", 308},
		{"^/vars$", "$scheme://${host}:8443$uri$is_args$args", 307},
	} {
		must(t, rd.Add(r.match, r.to, r.status))
	}
	for _, tc := range []struct {
		target, host string
		status       int
		location     string
	}{
		{"/a.txt", "x", 200, ""},
		{"/old/a%20b/c.html", "x", 301, "/new/a%20b/c.html"},
		{"/_media/wiki/logo.png", "x", 302, "/lib/exe/fetch.php?media=wiki/logo.png"},
		{"/insecure/x?q=1", "Example.COM:8080", 308, "https://example.com/insecure/x?q=1"},
		{"/vars?a=b", "h.test", 307, "http://h.test:8443/vars?a=b"},
		{"/vars", "h.test", 307, "http://h.test:8443/vars"},
		{"/oldish", "x", 404, ""},
	} {
		req := parseReq(t, "GET", tc.target)
		req.Host = []byte(tc.host)
		r := serveReq(t, rd, req)
		if r.resp.Status != tc.status || header(r.head, "Location") != tc.location {
			t.Errorf("%s: %d Location %q, want %d %q", tc.target, r.resp.Status, header(r.head, "Location"), tc.status, tc.location)
		}
	}
	// A request without Host gets the fallback.
	req := parseReq(t, "GET", "/insecure/y")
	req.Host = nil
	if r := serveReq(t, rd, req); header(r.head, "Location") != "https://example.com/insecure/y" {
		t.Errorf("no Host: %q", header(r.head, "Location"))
	}
	for _, bad := range []struct {
		match, to string
		status    int
	}{
		{"^/(", "/x", 301}, {"^/(a)", "/$2", 301}, {"^/", "/$nope", 301}, {"^/", "", 301},
		{"^/", "/x", 200}, {"^/", "/x\r\nSet-Cookie: a", 301}, {"^/", "/${host", 301},
	} {
		if err := CheckRedirect(bad.match, bad.to, bad.status); err == nil {
			t.Errorf("CheckRedirect(%q, %q, %d) accepted", bad.match, bad.to, bad.status)
		}
	}
}
