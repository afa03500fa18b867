package fastcgi

import (
	"testing"

	"github.com/gale-http/gale/upstream/cgi"
)

// countSink counts bytes without keeping them.
type countSink struct{ out, errs, ends int }

func (s *countSink) Data(p []byte) error         { s.out += len(p); return nil }
func (s *countSink) Log(p []byte)                { s.errs += len(p) }
func (s *countSink) End(app uint32, proto uint8) { s.ends++ }

// responseWire is a typical php-fpm answer for request 1.
func responseWire() []byte {
	var w []byte
	w = append(w, stdout(1, "Status: 200 OK\r\nContent-type: text/html; charset=UTF-8\r\nSet-Cookie: a=1\r\n\r\n")...)
	w = append(w, stdout(1, string(make([]byte, 4000)))...)
	w = AppendStream(w, TypeStderr, 1, []byte("PHP message: notice"), true)
	w = AppendStreamEnd(w, TypeStdout, 1)
	return AppendEndRequest(w, 1, 0, StatusRequestComplete)
}

func BenchmarkAppendRequest(b *testing.B) {
	ri := sampleInfo()
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendRequest(dst[:0], 1, ri)
	}
	b.SetBytes(int64(len(dst)))
}

func BenchmarkParseRecord(b *testing.B) {
	w := responseWire()
	b.ReportAllocs()
	b.SetBytes(int64(len(w)))
	for b.Loop() {
		for buf := w; len(buf) > 0; {
			_, n, err := ParseRecord(buf)
			if err != nil {
				b.Fatal(err)
			}
			buf = buf[n:]
		}
	}
}

func BenchmarkConnFeed(b *testing.B) {
	w := responseWire()
	c := NewConn(1)
	var s countSink
	b.ReportAllocs()
	b.SetBytes(int64(len(w)))
	for b.Loop() {
		c.Begin(&s)
		if _, err := c.Feed(w); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponseParser(b *testing.B) {
	head := []byte("Status: 200 OK\r\nX-Powered-By: PHP/8.2.0\r\nContent-type: text/html; charset=UTF-8\r\n" +
		"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nCache-Control: no-store\r\n\r\nbody")
	var p cgi.ResponseParser
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		p.Reset()
		if _, err := p.Feed(head); err != nil {
			b.Fatal(err)
		}
		dst = p.AppendHead(dst[:0])
	}
}
