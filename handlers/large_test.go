package handlers

import "testing"

func TestLargeFileStreamed(t *testing.T) {
	root := t.TempDir()
	big := string(noise(5000))
	writeFile(t, root, "big.bin", big)
	s := newStatic(t, root, func(c *StaticConfig) { c.CacheMaxFile = 1024 })

	r := serve(t, s, "GET", "/big.bin")
	want := "HTTP/1.1 200 OK\r\nServer: gale\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Length: 5000\r\nETag: " + etagOf(5000) + "\r\nLast-Modified: " + fixedLastMod + "\r\nAccept-Ranges: bytes\r\n"
	if r.head != want || r.resp.File == nil || r.resp.FileOff != 0 || r.resp.FileLen != 5000 || len(r.resp.Body) != 0 || r.body != big {
		t.Fatalf("%q off %d len %d", r.head, r.resp.FileOff, r.resp.FileLen)
	}
	if s.cache.get([]byte("/big.bin")) != nil {
		t.Fatal("large file was cached")
	}

	r = serve(t, s, "GET", "/big.bin", "Range: bytes=100-199")
	if r.resp.Status != 206 || r.resp.FileOff != 100 || r.resp.FileLen != 100 || r.body != big[100:200] ||
		header(r.head, "Content-Range") != "bytes 100-199/5000" || header(r.head, "Content-Length") != "100" {
		t.Fatalf("range: %q off %d len %d", r.head, r.resp.FileOff, r.resp.FileLen)
	}
	// Multi-range on an uncached file: the whole entity.
	r = serve(t, s, "GET", "/big.bin", "Range: bytes=0-1,10-11")
	if r.resp.Status != 200 || r.resp.FileLen != 5000 {
		t.Fatalf("multi-range: %d", r.resp.Status)
	}
	if r = serve(t, s, "GET", "/big.bin", "Range: bytes=5000-"); r.resp.Status != 416 || r.resp.File != nil {
		t.Fatalf("416: %q", r.head)
	}
	r = serve(t, s, "HEAD", "/big.bin")
	if r.head != want || r.resp.File != nil || r.body != "" {
		t.Fatalf("HEAD: %q", r.head)
	}
	r = serve(t, s, "GET", "/big.bin", "If-None-Match: "+etagOf(5000))
	if r.resp.Status != 304 || r.resp.File != nil || header(r.head, "ETag") != etagOf(5000) {
		t.Fatalf("304: %q", r.head)
	}
	if r = serve(t, s, "GET", "/big.bin", `If-Match: "x"`); r.resp.Status != 412 || r.resp.File != nil {
		t.Fatalf("412: %q", r.head)
	}
}
