package httpcodec

import (
	"fmt"
	"strings"
	"testing"
)

// respSummary renders what ResponseParser.Parse produced, head included.
func respSummary(n int, err error, p *ResponseParser) string {
	if err != nil {
		return "error: " + err.Error()
	}
	s := fmt.Sprintf("n=%d %d 1.%d cl=%d %s", n, p.Status, p.Minor, p.ContentLength,
		[...]string{"none", "length", "chunked", "close", "tunnel"}[p.Framing])
	if p.KeepAlive {
		s += " keep"
	}
	if p.NoBuffering() {
		s += " stream"
	}
	if a := p.AccelRedirect(); a != nil {
		s += " accel=" + string(a)
	}
	return s + " | " + strings.ReplaceAll(string(p.AppendHead(nil)), "\r\n", "|")
}

// respParseAll parses in whole and from every prefix, each from the start
// as the codec does when bytes trickle in: a prefix gives ErrNeedMore or
// exactly the whole result.
func respParseAll(t *testing.T, in string, head bool) string {
	t.Helper()
	var p ResponseParser
	n, err := p.Parse([]byte(in), head)
	whole := respSummary(n, err, &p)
	if err == ErrNeedMore {
		whole = "need more"
	}
	for l := 0; l < len(in); l++ {
		buf := append([]byte(nil), in[:l]...)
		var pp ResponseParser
		pn, perr := pp.Parse(buf, head)
		if perr == ErrNeedMore {
			continue
		}
		if got := respSummary(pn, perr, &pp); got != whole {
			t.Errorf("prefix %d of %q: %s, whole: %s", l, in, got, whole)
		}
	}
	return whole
}

var respCases = []struct {
	name, in string
	head     bool
	want     string
}{
	{"length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", false,
		"n=64 200 1.1 cl=5 length keep | HTTP/1.1 200 OK|Content-Type: text/plain|"},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
		"n=47 200 1.1 cl=-1 chunked keep | HTTP/1.1 200 OK|"},
	{"close-delimited", "HTTP/1.1 200 OK\r\nX: y\r\n\r\n", false,
		"n=25 200 1.1 cl=-1 close | HTTP/1.1 200 OK|X: y|"},
	{"http/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false,
		"n=38 200 1.0 cl=0 length | HTTP/1.1 200 OK|"},
	{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false,
		"n=62 200 1.0 cl=0 length keep | HTTP/1.1 200 OK|"},
	{"connection close", "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 3\r\n\r\n", false,
		"n=64 404 1.1 cl=3 length | HTTP/1.1 404 Not Found|"},
	{"head request", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true,
		"n=39 200 1.1 cl=99 none keep | HTTP/1.1 200 OK|"},
	{"204", "HTTP/1.1 204 No Content\r\n\r\n", false, "n=27 204 1.1 cl=-1 none keep | HTTP/1.1 204 No Content|"},
	{"304 with length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n", false,
		"n=60 304 1.1 cl=10 none keep | HTTP/1.1 304 Not Modified|ETag: \"x\"|"},
	{"100 interim", "HTTP/1.1 100 Continue\r\n\r\n", false, "n=25 100 1.1 cl=-1 none keep | HTTP/1.1 100 Continue|"},
	{"no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false, "n=35 200 1.1 cl=0 length keep | HTTP/1.1 200 OK|"},
	{"empty reason", "HTTP/1.1 201 \r\nContent-Length: 0\r\n\r\n", false, "n=36 201 1.1 cl=0 length keep | HTTP/1.1 201 Created|"},
	{"hop-by-hop dropped", "HTTP/1.1 200 OK\r\nConnection: X-Secret, keep-alive\r\nKeep-Alive: timeout=5\r\nX-Secret: 1\r\nx-secret: 2\r\nUpgrade: h2c\r\nTrailer: T\r\nProxy-Authenticate: B\r\nDate: Mon\r\nServer: gunicorn\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n", false,
		"n=233 200 1.1 cl=0 length keep | HTTP/1.1 200 OK|Set-Cookie: a=1|Set-Cookie: b=2|"},
	{"x-accel", "HTTP/1.1 200 OK\r\nX-Accel-Redirect: /protected/f\r\nX-Accel-Expires: 0\r\nContent-Length: 0\r\n\r\n", false,
		"n=90 200 1.1 cl=0 length keep accel=/protected/f | HTTP/1.1 200 OK|"},
	{"x-accel-buffering no", "HTTP/1.1 200 OK\r\nX-Accel-Buffering: no\r\n\r\n", false,
		"n=42 200 1.1 cl=-1 close stream | HTTP/1.1 200 OK|"},
	{"event-stream", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n", false,
		"n=95 200 1.1 cl=-1 chunked keep stream | HTTP/1.1 200 OK|Content-Type: text/event-stream; charset=utf-8|"},
	{"event-stream buffered on request", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Accel-Buffering: yes\r\nContent-Length: 0\r\n\r\n", false,
		"n=95 200 1.1 cl=0 length keep | HTTP/1.1 200 OK|Content-Type: text/event-stream|"},
	{"identical lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\n", false,
		"n=60 200 1.1 cl=3 length keep | HTTP/1.1 200 OK|"},
	{"http/1.2 as 1.1", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", false, "n=38 200 1.1 cl=0 length keep | HTTP/1.1 200 OK|"},
	{"partial", "HTTP/1.1 200 OK\r\nContent-Le", false, "need more"},

	// Smuggling and malformed heads: never forwarded.
	{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false, "error: " + ErrRespCLAndTE.Reason},
	{"TE and CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", false, "error: " + ErrRespCLAndTE.Reason},
	{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false, "error: " + ErrRespContentLength.Reason},
	{"length list differs", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", false, "error: " + ErrRespContentLength.Reason},
	{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", false, "error: " + ErrRespContentLength.Reason},
	{"empty length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", false, "error: " + ErrRespContentLength.Reason},
	{"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false, "error: " + ErrRespContentLength.Reason},
	{"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", false, "error: " + ErrRespTransferEncoding.Reason},
	{"chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", false, "error: " + ErrRespTransferEncoding.Reason},
	{"gzip TE", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, "error: " + ErrRespTransferEncoding.Reason},
	{"chunked-ish", "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n", false, "error: " + ErrRespTransferEncoding.Reason},
	{"TE in 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, "error: " + ErrRespTransferEncoding.Reason},
	{"TE in 204", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", false, "error: " + ErrRespTransferEncoding.Reason},
	{"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc\r\n\r\n", false,
		"n=104 101 1.1 cl=-1 tunnel | HTTP/1.1 101 Switching Protocols|Connection: Upgrade|Upgrade: websocket|Sec-WebSocket-Accept: abc|"},
	{"101 to nothing", "HTTP/1.1 101 Switching Protocols\r\n\r\n", false, "error: " + ErrRespUpgrade.Reason},
	{"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false, "error: " + ErrObsFold.Reason},
	{"bare LF in field", "HTTP/1.1 200 OK\r\nX: a\n\r\n", false, "error: " + ErrBareLF.Reason},
	{"bare LF status", "HTTP/1.1 200 OK\nX: a\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
	{"bare CR", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", false, "error: " + ErrBareCR.Reason},
	{"NUL in value", "HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", false, "error: " + ErrFieldValue.Reason},
	{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", false, "error: " + ErrSpaceColon.Reason},
	{"HTTP/2", "HTTP/2.0 200 OK\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
	{"lower-case name", "http/1.1 200 OK\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
	{"two-digit code", "HTTP/1.1 20 OK\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
	{"code 600", "HTTP/1.1 600 X\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
	{"code glued to reason", "HTTP/1.1 200OK\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
	{"leading CRLF", "\r\nHTTP/1.1 200 OK\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
	{"CGI head", "Status: 200 OK\r\n\r\n", false, "error: " + ErrRespStatusLine.Reason},
}

func TestResponseParser(t *testing.T) {
	for _, c := range respCases {
		if got := respParseAll(t, c.in, c.head); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestResponseParserLimits(t *testing.T) {
	var p ResponseParser
	big := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", MaxResponseHead) + "\r\n\r\n"
	if _, err := p.Parse([]byte(big), false); err != ErrRespHeadTooLarge {
		t.Fatalf("big head: %v", err)
	}
	// Too large is known before the head ends.
	if _, err := p.Parse([]byte(big[:MaxResponseHead+1]), false); err != ErrRespHeadTooLarge {
		t.Fatalf("big partial head: %v", err)
	}
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", maxRespFields+1) + "\r\n"
	if _, err := p.Parse([]byte(many), false); err != ErrRespTooManyFields {
		t.Fatalf("many fields: %v", err)
	}
	// 1xx responses in a row are bounded.
	var q ResponseParser
	one := []byte("HTTP/1.1 100 Continue\r\n\r\n")
	var err error
	for i := 0; i <= maxInterim && err == nil; i++ {
		_, err = q.Parse(one, false)
	}
	if err != ErrRespInterim {
		t.Fatalf("interim loop: %v", err)
	}
}

// The head is the parser's own: it survives the buffer it was parsed from.
func TestResponseParserCopiesHead(t *testing.T) {
	buf := []byte("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n")
	var p ResponseParser
	if _, err := p.Parse(buf, false); err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'Z'
	}
	if got := string(p.AppendHead(nil)); got != "HTTP/1.1 302 Found\r\nLocation: /x\r\n" {
		t.Fatalf("head %q", got)
	}
	if got := string(p.Get("location")); got != "/x" {
		t.Fatalf("Get %q", got)
	}
}
