package cgi

import (
	"bytes"
	"testing"
)

// FuzzCGIResponse: the head parses the same whole or byte by byte, and
// what AppendHead writes is a well-formed head: no bare CR or LF inside
// a line, every line a status line or "name: value".
func FuzzCGIResponse(f *testing.F) {
	f.Add([]byte("Status: 404 Not Found\r\nContent-Type: text/html\r\nSet-Cookie: a=1\r\n\r\nbody"))
	f.Add([]byte("Location: /x\n\n"))
	f.Add([]byte("X-Accel-Redirect: /p\r\nContent-Length: 5\r\n\r\n12345"))
	f.Add([]byte("Status: 200\r\nX: a\rb\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var whole ResponseParser
		n, err := whole.Feed(b)
		var bytewise ResponseParser
		var n2 int
		var err2 error = ErrNeedMore
		for i := 0; i < len(b) && err2 == ErrNeedMore; i++ {
			var m int
			m, err2 = bytewise.Feed(b[i : i+1])
			n2 += m
		}
		if len(b) == 0 {
			err2 = ErrNeedMore
		}
		if (err == nil) != (err2 == nil) || n != n2 {
			t.Fatalf("whole: %d %v; bytewise: %d %v", n, err, n2, err2)
		}
		if err != nil {
			return
		}
		h1, h2 := whole.AppendHead(nil), bytewise.AppendHead(nil)
		if !bytes.Equal(h1, h2) {
			t.Fatalf("heads differ:\n%q\n%q", h1, h2)
		}
		lines := bytes.Split(h1, []byte("\r\n"))
		if len(lines[len(lines)-1]) != 0 || !bytes.HasPrefix(h1, []byte("HTTP/1.1 ")) {
			t.Fatalf("head %q", h1)
		}
		for i, l := range lines[:len(lines)-1] {
			if bytes.ContainsAny(l, "\r\n\x00") || (i > 0 && !bytes.Contains(l, []byte(": "))) {
				t.Fatalf("bad line %q in %q", l, h1)
			}
		}
	})
}
