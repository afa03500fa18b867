package handlers

import (
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
)

const digits36 = "0123456789abcdefghijklmnopqrstuvwxyz"

func TestRangeSingle(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", digits36)
	s := newStatic(t, root, nil)
	for _, tc := range []struct{ spec, cr, body string }{
		{"bytes=0-4", "bytes 0-4/36", "01234"},
		{"bytes=30-", "bytes 30-35/36", "uvwxyz"},
		{"bytes=-3", "bytes 33-35/36", "xyz"},
		{"bytes=-100", "bytes 0-35/36", digits36},
		{"bytes=34-99", "bytes 34-35/36", "yz"},
		{"BYTES=1-1", "bytes 1-1/36", "1"},
		{"bytes=0-1, 40-50", "bytes 0-1/36", "01"}, // unsatisfiable member dropped
	} {
		r := serve(t, s, "GET", "/a.txt", "Range: "+tc.spec, "Accept-Encoding: gzip, zstd")
		want := "HTTP/1.1 206 Partial Content\r\nServer: gale\r\nContent-Type: text/plain; charset=utf-8\r\n" +
			"Content-Length: " + itoa(len(tc.body)) + "\r\nETag: " + etagOf(36) + "\r\nLast-Modified: " + fixedLastMod +
			"\r\nAccept-Ranges: bytes\r\nVary: Accept-Encoding\r\nContent-Range: " + tc.cr + "\r\n"
		if r.head != want || r.body != tc.body {
			t.Errorf("%s: %q %q\nwant %q", tc.spec, r.head, r.body, want)
		}
	}
}

func TestRangeIgnoredOrRefused(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", digits36)
	s := newStatic(t, root, nil)
	for _, spec := range []string{
		"bytes=5-1", "bytes=x-2", "items=0-1", "bytes=", "bytes=0-5,3-8", "bytes=1-",
		"bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,30-30,32-32",
	} {
		r := serve(t, s, "GET", "/a.txt", "Range: "+spec)
		want := 200
		if spec == "bytes=1-" {
			want = 206
		}
		if r.resp.Status != want {
			t.Errorf("%q: %d", spec, r.resp.Status)
		}
	}
	r := serve(t, s, "GET", "/a.txt", "Range: bytes=36-")
	want := "HTTP/1.1 416 Range Not Satisfiable\r\nServer: gale\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: 26\r\nContent-Range: bytes */36\r\n"
	if r.head != want || r.body != "416 Range Not Satisfiable\n" {
		t.Fatalf("416: %q %q", r.head, r.body)
	}
	if r = serve(t, s, "GET", "/a.txt", "Range: bytes=-0"); r.resp.Status != 416 {
		t.Fatalf("-0: %d", r.resp.Status)
	}
	if r = serve(t, s, "HEAD", "/a.txt", "Range: bytes=0-1"); r.resp.Status != 200 || r.body != "" {
		t.Fatalf("HEAD with Range: %d", r.resp.Status)
	}
}

func TestIfRange(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", digits36)
	s := newStatic(t, root, nil)
	for _, tc := range []struct {
		ifRange string
		status  int
	}{
		{etagOf(36), 206},
		{`"other"`, 200},
		{"W/" + etagOf(36), 200},
		{fixedLastMod, 206},
		{"Wed, 06 Mar 2024 07:09:11 GMT", 200},
	} {
		r := serve(t, s, "GET", "/a.txt", "Range: bytes=0-1", "If-Range: "+tc.ifRange)
		if r.resp.Status != tc.status {
			t.Errorf("If-Range %s: %d", tc.ifRange, r.resp.Status)
		}
		if tc.status == 200 && r.body != digits36 {
			t.Errorf("If-Range %s: body %q", tc.ifRange, r.body)
		}
	}
}

func TestRangeMultipart(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", digits36)
	s := newStatic(t, root, nil)
	r := serve(t, s, "GET", "/a.txt", "Range: bytes=0-2, 10-12, -2")
	if r.resp.Status != 206 || header(r.head, "Content-Length") != itoa(len(r.body)) {
		t.Fatalf("%q", r.head)
	}
	checkMultipart(t, r, "text/plain; charset=utf-8", []rangePart{{"bytes 0-2/36", "012"}, {"bytes 10-12/36", "abc"}, {"bytes 34-35/36", "yz"}})
	// Bodies are views of the cached entity, not copies.
	cached := serve(t, s, "GET", "/a.txt")
	if &r.resp.Body[1][0] != &cached.resp.Body[0][0] {
		t.Fatal("part body is a copy")
	}
}

// rangePart is one expected part of a multipart/byteranges body.
type rangePart struct{ contentRange, body string }

// boundaryOf returns the boundary of a multipart/byteranges response.
func boundaryOf(t testing.TB, r result) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(header(r.head, "Content-Type"))
	if err != nil || mt != "multipart/byteranges" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q: %v", header(r.head, "Content-Type"), err)
	}
	return params["boundary"]
}

// checkMultipart parses r's body as multipart/byteranges and compares
// its parts with want, each of type ctype.
func checkMultipart(t testing.TB, r result, ctype string, want []rangePart) {
	t.Helper()
	mr := multipart.NewReader(strings.NewReader(r.body), boundaryOf(t, r))
	for i, w := range want {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		b, _ := io.ReadAll(p)
		if p.Header.Get("Content-Range") != w.contentRange || p.Header.Get("Content-Type") != ctype || string(b) != w.body {
			t.Errorf("part %d: %v %q, want %q", i, p.Header, b, w.contentRange)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("after the last part: %v", err)
	}
}
