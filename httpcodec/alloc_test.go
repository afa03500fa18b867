//go:build !race

package httpcodec

import (
	"testing"
	"time"
)

// The hot paths allocate nothing: a parsed head is views plus the
// Request's own storage, and the response pieces append into the caller's
// buffer.
func TestAllocs(t *testing.T) {
	var p Parser
	var r Request
	buf := []byte(browserGET)
	checkAllocs(t, "Parse browser GET", func() {
		if _, err := p.Parse(buf, &r); err != nil {
			t.Fatal(err)
		}
	})
	norm := []byte("GET /a/./b/%7e/../c HTTP/1.1\r\nHost: a\r\n\r\n")
	checkAllocs(t, "Parse with normalization", func() { _, _ = p.Parse(norm, &r) })
	checkAllocs(t, "Lookup", func() { _ = r.Lookup("sec-fetch-mode") })

	var dc DateCache
	now := time.Now()
	checkAllocs(t, "DateCache", func() {
		now = now.Add(time.Second)
		dc.Update(now)
		_ = dc.Line()
	})
	out := make([]byte, 0, 512)
	checkAllocs(t, "AppendStatusLine", func() { out = AppendStatusLine(out[:0], 200) })
	checkAllocs(t, "AppendError", func() { out = AppendError(out[:0], 400, dc.Line()) })
	checkAllocs(t, "AppendContentLength", func() { out = AppendContentLength(out[:0], 1<<40) })

	var rp ResponseParser
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\nSet-Cookie: a=b\r\nContent-Length: 5\r\n\r\nhello")
	checkAllocs(t, "ResponseParser", func() {
		if _, err := rp.Parse(resp, false); err != nil {
			t.Fatal(err)
		}
		out = rp.AppendHead(out[:0])
		_ = rp.NoBuffering()
	})

	body := []byte("5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n")
	var d ChunkedDecoder
	checkAllocs(t, "ChunkedDecoder", func() {
		d.Reset(nil)
		for src := body; len(src) > 0; {
			n, _, err := d.Decode(src)
			if err != nil || n == 0 {
				break
			}
			src = src[n:]
		}
	})
	checkAllocs(t, "StatusOf", func() { _ = StatusOf(ErrBareCR) })
}

func checkAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(100, f); n != 0 {
		t.Errorf("%s: %v allocations", name, n)
	}
}
