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

// TestLargeFileMultiRange: several ranges of an uncached file are 206
// multipart/byteranges whose bodies are file ranges (sendfile), not
// copies, and not the whole 200 entity.
func TestLargeFileMultiRange(t *testing.T) {
	root := t.TempDir()
	big := string(noise(5000))
	writeFile(t, root, "big.bin", big)
	s := newStatic(t, root, func(c *StaticConfig) { c.CacheMaxFile = 1024 })

	r := serve(t, s, "GET", "/big.bin", "Range: bytes=0-1, 100-199, -3", "Accept-Encoding: gzip")
	if r.resp.Status != 206 || header(r.head, "Content-Length") != itoa(len(r.body)) || header(r.head, "Content-Range") != "" {
		t.Fatalf("%d %q (%d body bytes)", r.resp.Status, r.head, len(r.body))
	}
	// The first range follows the body (its part's head); the others are
	// parts, the closing delimiter a last part without a range.
	if r.resp.FileOff != 0 || r.resp.FileLen != 2 || len(r.resp.FileMore) != 3 ||
		r.resp.FileMore[0].Off != 100 || r.resp.FileMore[0].Len != 100 ||
		r.resp.FileMore[1].Off != 4997 || r.resp.FileMore[1].Len != 3 || r.resp.FileMore[2].Len != 0 {
		t.Fatalf("file ranges: %d+%d, then %+v", r.resp.FileOff, r.resp.FileLen, r.resp.FileMore)
	}
	if r.resp.BodyLen() != int64(len(r.body)) {
		t.Fatalf("BodyLen %d, body %d bytes", r.resp.BodyLen(), len(r.body))
	}
	checkMultipart(t, r, "application/octet-stream", []rangePart{
		{"bytes 0-1/5000", big[:2]}, {"bytes 100-199/5000", big[100:200]}, {"bytes 4997-4999/5000", big[4997:]},
	})
	// Two requests get different boundaries: a file cannot hold its own.
	if b1, b2 := boundaryOf(t, r), boundaryOf(t, serve(t, s, "GET", "/big.bin", "Range: bytes=0-1,3-4")); b1 == b2 {
		t.Fatalf("boundary %q twice", b1)
	}
	// If-Range that does not match: the whole entity, 200.
	r = serve(t, s, "GET", "/big.bin", "Range: bytes=0-1,10-11", `If-Range: "other"`)
	if r.resp.Status != 200 || r.body != big || r.resp.FileMore != nil {
		t.Fatalf("If-Range mismatch: %d", r.resp.Status)
	}
}
