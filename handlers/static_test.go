package handlers

import (
	"strings"
	"testing"
)

func TestStaticGetExactHead(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "index.html", "hello")
	s := newStatic(t, root, nil)

	r := serve(t, s, "GET", "/index.html")
	want := "HTTP/1.1 200 OK\r\nServer: gale\r\nContent-Type: text/html; charset=utf-8\r\n" +
		"Content-Length: 5\r\nETag: " + etagOf(5) + "\r\nLast-Modified: " + fixedLastMod + "\r\n" +
		"Accept-Ranges: bytes\r\nVary: Accept-Encoding\r\n"
	if r.head != want || r.body != "hello" || r.resp.Status != 200 {
		t.Fatalf("got %d %q %q\nwant %q", r.resp.Status, r.head, r.body, want)
	}
}

func TestStaticUncompressibleHasNoVary(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.png", "\x89PNG")
	r := serve(t, newStatic(t, root, nil), "GET", "/a.png")
	want := "HTTP/1.1 200 OK\r\nServer: gale\r\nContent-Type: image/png\r\n" +
		"Content-Length: 4\r\nETag: " + etagOf(4) + "\r\nLast-Modified: " + fixedLastMod + "\r\n" +
		"Accept-Ranges: bytes\r\n"
	if r.head != want || r.body != "\x89PNG" {
		t.Fatalf("got %q %q", r.head, r.body)
	}
}

func TestStaticCacheHitSharesViews(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "cached body")
	s := newStatic(t, root, nil)
	first := serve(t, s, "GET", "/a.txt")
	second := serve(t, s, "GET", "/a.txt")
	if &first.resp.Body[0][0] != &second.resp.Body[0][0] || &first.resp.Head[0] != &second.resp.Head[0] {
		t.Fatal("cache hit copied the body or head")
	}
	if second.body != "cached body" {
		t.Fatalf("body %q", second.body)
	}
}

func TestStaticHead(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "some text")
	s := newStatic(t, root, nil)
	get := serve(t, s, "GET", "/a.txt")
	head := serve(t, s, "HEAD", "/a.txt")
	if head.head != get.head || head.body != "" || len(head.resp.Body) != 0 || head.resp.File != nil {
		t.Fatalf("HEAD %q %q, GET %q", head.head, head.body, get.head)
	}
	if header(head.head, "Content-Length") != "9" {
		t.Fatalf("HEAD Content-Length %q", header(head.head, "Content-Length"))
	}
}

func TestStaticMethods(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "x")
	s := newStatic(t, root, nil)

	r := serve(t, s, "DELETE", "/a.txt")
	want := "HTTP/1.1 405 Method Not Allowed\r\nServer: gale\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: 23\r\nAllow: GET, HEAD\r\n"
	if r.head != want || r.body != "405 Method Not Allowed\n" || r.resp.Close {
		t.Fatalf("405: %q %q", r.head, r.body)
	}
	r = serve(t, s, "OPTIONS", "/a.txt")
	want = "HTTP/1.1 200 OK\r\nServer: gale\r\nAllow: GET, HEAD, OPTIONS\r\nContent-Length: 0\r\n"
	if r.head != want || r.body != "" {
		t.Fatalf("OPTIONS: %q %q", r.head, r.body)
	}
}

func TestErrorExactBytes(t *testing.T) {
	var ctx Ctx
	var resp Response
	resp.Reset()
	Error(&ctx, &resp, 404)
	want := "HTTP/1.1 404 Not Found\r\nServer: gale\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n"
	if string(resp.Head) != want || len(resp.Body) != 1 || string(resp.Body[0]) != "404 Not Found\n" || resp.Status != 404 || resp.Close {
		t.Fatalf("%q %q", resp.Head, resp.Body)
	}
	// A second error appends to Scratch without disturbing the first.
	first := string(resp.Head)
	var resp2 Response
	resp2.Reset()
	Error(&ctx, &resp2, 403)
	if string(resp.Head) != first || !strings.HasPrefix(string(resp2.Head), "HTTP/1.1 403 Forbidden\r\n") {
		t.Fatalf("%q %q", resp.Head, resp2.Head)
	}
}

func TestNotFoundAndHeadError(t *testing.T) {
	s := newStatic(t, t.TempDir(), nil)
	r := serve(t, s, "GET", "/missing.txt")
	if r.resp.Status != 404 || r.body != "404 Not Found\n" {
		t.Fatalf("%d %q", r.resp.Status, r.body)
	}
	r = serve(t, s, "HEAD", "/missing.txt")
	if r.resp.Status != 404 || r.body != "" || header(r.head, "Content-Length") != "14" {
		t.Fatalf("HEAD 404: %q %q", r.head, r.body)
	}
}

func TestDirectories(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "docs/index.html", "docs index")
	writeFile(t, root, "empty/a b<&>.txt", "x")
	writeFile(t, root, "empty/.secret", "x")
	writeFile(t, root, "empty/sub/z.txt", "x")
	s := newStatic(t, root, nil)

	r := serve(t, s, "GET", "/docs?x=1")
	want := "HTTP/1.1 301 Moved Permanently\r\nServer: gale\r\nLocation: /docs/?x=1\r\nContent-Length: 0\r\n"
	if r.head != want {
		t.Fatalf("redirect %q", r.head)
	}
	r = serve(t, s, "GET", "/a%20%22dir")
	if r.resp.Status != 404 {
		t.Fatalf("missing dir %d", r.resp.Status)
	}
	r = serve(t, s, "GET", "/docs/")
	if r.resp.Status != 200 || r.body != "docs index" || header(r.head, "Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("index %q %q", r.head, r.body)
	}
	if r = serve(t, s, "GET", "/empty/"); r.resp.Status != 403 {
		t.Fatalf("no listing: %d", r.resp.Status)
	}

	ls := newStatic(t, root, func(c *StaticConfig) { c.DirListing = true })
	r = serve(t, ls, "GET", "/empty/")
	wantBody := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of /empty/</title></head>\n" +
		"<body><h1>Index of /empty/</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n" +
		"<li><a href=\"./a%20b%3C%26%3E.txt\">a b&lt;&amp;&gt;.txt</a></li>\n" +
		"<li><a href=\"./sub/\">sub/</a></li>\n</ul>\n</body></html>\n"
	if r.resp.Status != 200 || r.body != wantBody {
		t.Fatalf("listing %q\nwant %q", r.body, wantBody)
	}
	if header(r.head, "Content-Length") != itoa(len(wantBody)) {
		t.Fatalf("listing head %q", r.head)
	}
}

func TestRedirectEscapesLocation(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a b/index.html", "x")
	r := serve(t, newStatic(t, root, nil), "GET", "/a%20b")
	if header(r.head, "Location") != "/a%20b/" {
		t.Fatalf("%q", r.head)
	}
}

func TestMimeByName(t *testing.T) {
	for name, want := range map[string]string{
		"a.html": "text/html; charset=utf-8", "x/y.CSS": "text/css; charset=utf-8",
		"app.js": "text/javascript; charset=utf-8", "a.json": "application/json",
		"a.svg": "image/svg+xml", "a.woff2": "font/woff2", "noext": "application/octet-stream",
		"a.weird": "application/octet-stream", "dir.d/file": "application/octet-stream",
	} {
		if got := mimeByName(name).ctype; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
