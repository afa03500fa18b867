package httpproxy

import (
	"strings"
	"testing"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

func fields(kv ...string) []cgi.Field {
	var fs []cgi.Field
	for i := 0; i < len(kv); i += 2 {
		fs = append(fs, cgi.Field{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return fs
}

func TestEncodeHead(t *testing.T) {
	cases := []struct {
		name string
		ri   cgi.RequestInfo
		body int64
		want string
	}{
		{"GET", cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("/a?b=1"), RemoteAddr: []byte("10.0.0.1"), ServerName: []byte("ex.org"),
			Headers: fields("Host", "ex.org", "User-Agent", "curl", "Connection", "keep-alive, X-Hop", "X-Hop", "1", "Keep-Alive", "300",
				"TE", "trailers", "Upgrade", "h2c", "Proxy", "http://evil", "Proxy-Authorization", "x", "X-Forwarded-For", "6.6.6.6",
				"x-forwarded-proto", "https", "Forwarded", "for=6.6.6.6", "Cookie", "a=b")}, 0,
			"GET /a?b=1 HTTP/1.1\r\nHost: ex.org\r\nUser-Agent: curl\r\nCookie: a=b\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: ex.org\r\nForwarded: for=10.0.0.1;host=\"ex.org\";proto=http\r\n"},
		{"POST chunked upload gets its length", cgi.RequestInfo{Method: []byte("POST"), RequestURI: []byte("/up"), RemoteAddr: []byte("::1"), HTTPS: true,
			Headers: fields("Host", "h:8080", "Transfer-Encoding", "chunked", "Expect", "100-continue", "Content-Type", "text/plain")}, 12,
			"POST /up HTTP/1.1\r\nHost: h:8080\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nX-Forwarded-For: ::1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: h:8080\r\nForwarded: for=\"[::1]\";host=\"h:8080\";proto=https\r\n"},
		{"empty POST keeps its zero length", cgi.RequestInfo{Method: []byte("POST"), RequestURI: []byte("/"), Headers: fields("Host", "h", "Content-Length", "0")}, 0,
			"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nForwarded: host=\"h\";proto=http\r\n"},
		{"HTTP/1.0 client without Host, absolute target", cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("http://a.b:1/x?y"), ServerAddr: []byte("127.0.0.1")}, -1,
			"GET /x?y HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: 127.0.0.1\r\nForwarded: host=\"127.0.0.1\";proto=http\r\n"},
		{"WebSocket handshake", cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("/ws"),
			Headers: fields("Host", "h", "Upgrade", "websocket", "Connection", "keep-alive, Upgrade", "Sec-WebSocket-Key", "k")}, 0,
			"GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nForwarded: host=\"h\";proto=http\r\n"},
		{"h2c upgrade dropped", cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("/"),
			Headers: fields("Host", "h", "Upgrade", "h2c", "Connection", "Upgrade, HTTP2-Settings", "HTTP2-Settings", "x")}, 0,
			"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nForwarded: host=\"h\";proto=http\r\n"},
		{"behind a trusted proxy: the chain kept and extended", cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("/"), RemoteAddr: []byte("198.51.100.1"),
			TrustedFor: []byte("203.0.113.9, 198.51.100.1"), TrustedProto: []byte("https"), Peer: []byte("10.0.0.2"),
			Headers: fields("Host", "h", "X-Forwarded-For", "203.0.113.9, 198.51.100.1", "X-Forwarded-Proto", "https")}, -1,
			"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.9, 198.51.100.1, 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\nForwarded: for=198.51.100.1;host=\"h\";proto=https\r\n"},
		{"trusted proxy with a bogus scheme", cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("/"), RemoteAddr: []byte("198.51.100.1"),
			TrustedFor: []byte("198.51.100.1"), TrustedProto: []byte("gopher"), Peer: []byte("10.0.0.2"), Headers: fields("Host", "h")}, -1,
			"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.1, 10.0.0.2\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nForwarded: for=198.51.100.1;host=\"h\";proto=http\r\n"},
		{"absolute target without path", cgi.RequestInfo{Method: []byte("GET"), RequestURI: []byte("http://a.b?q"), Headers: fields("Host", "a.b")}, -1,
			"GET /?q HTTP/1.1\r\nHost: a.b\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: a.b\r\nForwarded: host=\"a.b\";proto=http\r\n"},
	}
	for _, c := range cases {
		got := string(Protocol.EncodeHead(nil, &c.ri, c.body))
		if got != c.want+"\r\n" {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// stream records what a Conn delivers.
type stream struct {
	body    []byte
	log     strings.Builder
	headReq bool
	upgrade bool
}

func (s *stream) Head(h upstream.ResponseHead) error {
	s.log.WriteString("head:" + strings.ReplaceAll(string(h.AppendHead(nil)), "\r\n", "|") + " ")
	return nil
}
func (s *stream) HeadRequest() bool    { return s.headReq }
func (s *stream) UpgradeRequest() bool { return s.upgrade }
func (s *stream) Data(p []byte) error  { s.body = append(s.body, p...); return nil }
func (s *stream) Log([]byte)           {}
func (s *stream) End(uint32, uint8) {
	if len(s.body) > 0 {
		s.log.WriteString("data:" + string(s.body) + " ")
	}
	s.log.WriteString("end")
}

// feedSplit feeds in as the engine does when it arrives split at every
// point: what Feed leaves unconsumed is fed again with the next bytes.
func feedSplit(t *testing.T, c *Conn, in string, step int) error {
	t.Helper()
	var pending []byte
	for i := 0; i < len(in); i += step {
		pending = append(pending, in[i:min(i+step, len(in))]...)
		n, err := c.Feed(pending)
		if err != nil {
			return err
		}
		pending = pending[n:]
	}
	if len(pending) > 0 {
		t.Fatalf("left %q", pending)
	}
	return nil
}

func TestConnResponses(t *testing.T) {
	cases := []struct {
		name, in string
		headReq  bool
		closed   bool // the backend closes after in
		want     string
		reusable bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, false, "head:HTTP/1.1 200 OK| data:hello end", true},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n", false, false, "head:HTTP/1.1 200 OK| data:hello! end", true},
		{"100 then final", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", false, false, "head:HTTP/1.1 201 Created| data:ok end", true},
		{"tunnel", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: k\r\n\r\n\x81\x02hiHTTP/1.1 200 OK\r\n", false, true,
			"head:HTTP/1.1 101 Switching Protocols|Connection: Upgrade|Upgrade: websocket|Sec-WebSocket-Accept: k| data:\x81\x02hiHTTP/1.1 200 OK\r\n end", false},
		{"HEAD ignores the length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, false, "head:HTTP/1.1 200 OK| end", true},
		{"close-delimited", "HTTP/1.1 200 OK\r\n\r\nall of it", false, true, "head:HTTP/1.1 200 OK| data:all of it end", false},
		{"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false, false, "head:HTTP/1.1 200 OK| data:x end", false},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false, false, "head:HTTP/1.1 200 OK| data:x end", false},
	}
	for _, c := range cases {
		for _, step := range []int{1, 3, len(c.in)} {
			conn := Protocol.NewConn(1).(*Conn)
			s := &stream{headReq: c.headReq, upgrade: c.name == "tunnel"}
			if _, ok := conn.Begin(s); !ok {
				t.Fatal("Begin")
			}
			if _, ok := conn.Begin(&stream{}); ok {
				t.Fatal("second Begin on a busy connection")
			}
			if err := feedSplit(t, conn, c.in, step); err != nil {
				t.Fatalf("%s/%d: %v", c.name, step, err)
			}
			if c.closed {
				conn.PeerClosed()
			}
			if got := s.log.String(); got != c.want {
				t.Errorf("%s/%d: %q, want %q", c.name, step, got, c.want)
			}
			if !conn.Idle() || conn.Reusable() != c.reusable {
				t.Errorf("%s: idle %v reusable %v", c.name, conn.Idle(), conn.Reusable())
			}
		}
	}
}

// Smuggling through the connection: every ambiguity is an error, and bytes
// after the end of a response are one too (a second response nobody asked
// for would answer the next client's request).
func TestConnRefuses(t *testing.T) {
	for _, in := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", // not asked for
	} {
		conn := Protocol.NewConn(1).(*Conn)
		conn.Begin(&stream{})
		if _, err := conn.Feed([]byte(in)); err == nil || httpcodec.StatusOf(err) != 502 && httpcodec.StatusOf(err) != 400 {
			t.Errorf("%q: %v", in, err)
		}
		if conn.Reusable() {
			t.Errorf("%q: reusable after an error", in)
		}
	}
	// Nothing in flight: any byte is an error.
	conn := Protocol.NewConn(1).(*Conn)
	if _, err := conn.Feed([]byte("HTTP/1.1 200 OK\r\n")); err != httpcodec.ErrRespExtra {
		t.Fatalf("unsolicited: %v", err)
	}
}
