package httpcodec

import (
	"strings"
	"testing"
	"time"
)

// browserGET is what Chrome sends for a stylesheet: 13 field lines, 700
// bytes.
const browserGET = "GET /static/css/app.css?v=3 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Accept: text/css,*/*;q=0.1\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: no-cors\r\n" +
	"Sec-Fetch-Dest: style\r\n" +
	"Referer: https://www.example.com/\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"\r\n"

// BenchmarkParseBrowserGET parses one typical browser request head.
func BenchmarkParseBrowserGET(b *testing.B) {
	var p Parser
	var r Request
	buf := []byte(browserGET)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(buf, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePipelined16 parses 16 small pipelined GETs from one buffer
// (the wrk/h2load pattern); the figure is per batch of 16.
func BenchmarkParsePipelined16(b *testing.B) {
	var p Parser
	var r Request
	one := "GET /plaintext HTTP/1.1\r\nHost: server\r\nAccept: text/plain\r\nConnection: keep-alive\r\n\r\n"
	buf := []byte(strings.Repeat(one, 16))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < len(buf); {
			n, err := p.Parse(buf[off:], &r)
			if err != nil {
				b.Fatal(err)
			}
			off += n
		}
	}
}

// BenchmarkChunked decodes a 64 KiB body sent as 16 chunks of 4 KiB.
func BenchmarkChunked(b *testing.B) {
	var body []byte
	chunk := strings.Repeat("x", 4096)
	for range 16 {
		body = append(body, "1000\r\n"+chunk+"\r\n"...)
	}
	body = append(body, "0\r\n\r\n"...)
	var d ChunkedDecoder
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset(nil)
		for src := body; len(src) > 0; {
			n, _, err := d.Decode(src)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			src = src[n:]
		}
		if !d.Done() {
			b.Fatal("not done")
		}
	}
}

// BenchmarkResponseHead measures writing a typical response head: status
// line, Server, Date, Content-Type, Content-Length.
func BenchmarkResponseHead(b *testing.B) {
	var dc DateCache
	dc.Update(time.Now())
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst = AppendStatusLine(dst[:0], 200)
		dst = append(dst, ServerHeader...)
		dst = append(dst, dc.Line()...)
		dst = AppendHeader(dst, "Content-Type", "text/html; charset=utf-8")
		dst = AppendContentLength(dst, 4096)
		dst = append(dst, "\r\n"...)
	}
	b.SetBytes(int64(len(dst)))
}

// BenchmarkErrorResponse measures a complete short error response.
func BenchmarkErrorResponse(b *testing.B) {
	var dc DateCache
	dc.Update(time.Now())
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst = AppendError(dst[:0], 431, dc.Line())
	}
}
