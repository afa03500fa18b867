//go:build !race

package fastcgi

import (
	"testing"

	"github.com/gale-http/gale/upstream/cgi"
)

func TestAllocsAppendRequest(t *testing.T) {
	ri := sampleInfo()
	dst := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() {
		dst = AppendRequest(dst[:0], 1, ri)
		dst = AppendStdin(dst, 1, ri.Path, true)
		dst = AppendStdinEOF(dst, 1)
	}); n != 0 {
		t.Fatalf("AppendRequest: %v allocs", n)
	}
}

func TestAllocsParseRecord(t *testing.T) {
	w := responseWire()
	if n := testing.AllocsPerRun(100, func() {
		for b := w; len(b) > 0; {
			_, m, err := ParseRecord(b)
			if err != nil {
				panic(err)
			}
			b = b[m:]
		}
	}); n != 0 {
		t.Fatalf("ParseRecord: %v allocs", n)
	}
}

func TestAllocsConnFeed(t *testing.T) {
	w := responseWire()
	c := NewConn(1)
	var s countSink
	if n := testing.AllocsPerRun(100, func() {
		c.Begin(&s)
		if m, err := c.Feed(w); err != nil || m != len(w) {
			panic(err)
		}
	}); n != 0 {
		t.Fatalf("Conn.Feed: %v allocs", n)
	}
	if s.ends == 0 || !c.Idle() {
		t.Fatal("requests did not end")
	}
}

func TestAllocsResponseParser(t *testing.T) {
	head := []byte("Status: 200 OK\r\nContent-type: text/html; charset=UTF-8\r\nSet-Cookie: a=1\r\n" +
		"Set-Cookie: b=2\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nbody")
	var p cgi.ResponseParser
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() {
		p.Reset()
		if _, err := p.Feed(head); err != nil {
			panic(err)
		}
		dst = p.AppendHead(dst[:0])
	}); n != 0 {
		t.Fatalf("cgi.ResponseParser: %v allocs", n)
	}
}
