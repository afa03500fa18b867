package uwsgi

import (
	"strings"
	"testing"

	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// pair encodes one uwsgi var as the uwsgi protocol documentation writes
// it: a 16-bit little-endian length before the name and before the value.
func pair(name, value string) string {
	le := func(n int) string { return string([]byte{byte(n), byte(n >> 8)}) }
	return le(len(name)) + name + le(len(value)) + value
}

// TestEncodeHeadWire: the exact bytes of a small request, written from
// the uwsgi packet documentation (modifier1 0, the vars size as a 16-bit
// little-endian number, modifier2 0, then the vars).
func TestEncodeHeadWire(t *testing.T) {
	ri := &cgi.RequestInfo{
		Method: []byte("POST"), RequestURI: []byte("/app?x=1"), Path: []byte("/app"), Query: []byte("x=1"),
		Proto: []byte("HTTP/1.1"), DocumentRoot: "/srv", ScriptName: []byte("/app"),
		Headers: []cgi.Field{{Name: []byte("Host"), Value: []byte("h")}, {Name: []byte("Content-Length"), Value: []byte("5")}},
	}
	head := Codec{}.EncodeHead([]byte("kept"), ri, 5)
	var vars strings.Builder
	for _, kv := range [][2]string{
		{"SCRIPT_FILENAME", "/srv/app"}, {"SCRIPT_NAME", "/app"}, {"PATH_INFO", ""}, {"DOCUMENT_ROOT", "/srv"},
		{"DOCUMENT_URI", "/app"}, {"REQUEST_URI", "/app?x=1"}, {"QUERY_STRING", "x=1"}, {"REQUEST_METHOD", "POST"},
		{"CONTENT_TYPE", ""}, {"CONTENT_LENGTH", "5"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"GATEWAY_INTERFACE", "CGI/1.1"},
		{"SERVER_SOFTWARE", "gale (nginx-compatible)"}, {"REMOTE_ADDR", ""}, {"REMOTE_PORT", ""}, {"SERVER_ADDR", ""}, {"SERVER_PORT", ""},
		{"SERVER_NAME", ""}, {"REQUEST_SCHEME", "http"}, {"REDIRECT_STATUS", "200"}, {"HTTP_HOST", "h"},
	} {
		vars.WriteString(pair(kv[0], kv[1]))
	}
	n := vars.Len()
	want := "kept" + string([]byte{0, byte(n), byte(n >> 8), 0}) + vars.String()
	if string(head) != want {
		t.Fatalf("head\n%q\nwant\n%q", head, want)
	}
	// The codec frames nothing around the body and has no IDs.
	p := Protocol
	if len(p.FrameBody(nil, 1, 5)) != 0 || len(p.FrameEnd(nil, 1)) != 0 || len(p.Cancel(nil, 1)) != 0 {
		t.Fatal("uwsgi frames its body")
	}
	if p.Caps() != (upstream.Caps{NeedsLength: true}) || p.Response() != upstream.HTTPResponse {
		t.Fatalf("caps %+v response %v", p.Caps(), p.Response())
	}
}

// TestHeadLimit: a vars block of 65535 bytes fits (its size is exact); one
// byte more is over the limit the engine enforces.
func TestHeadLimit(t *testing.T) {
	base := len(Protocol.EncodeHead(nil, &cgi.RequestInfo{Headers: []cgi.Field{{Name: []byte("X"), Value: nil}}}, -1)) - HeaderLen
	limit, why := Codec{}.HeadLimit()
	if limit != HeaderLen+MaxVars || !strings.Contains(why, "65535") {
		t.Fatalf("limit %d %q", limit, why)
	}
	for _, extra := range []int{0, 1} {
		v := []byte(strings.Repeat("v", MaxVars-base+extra))
		head := Protocol.EncodeHead(nil, &cgi.RequestInfo{Headers: []cgi.Field{{Name: []byte("X"), Value: v}}}, -1)
		size := int(head[1]) | int(head[2])<<8
		if fits := len(head) <= limit; fits != (extra == 0) {
			t.Fatalf("vars of %d bytes: fits %v", len(head)-HeaderLen, fits)
		}
		if extra == 0 && size != MaxVars {
			t.Fatalf("size field %d, want %d", size, MaxVars)
		}
	}
}

type stream struct {
	head  upstream.ResponseHead
	body  strings.Builder
	ended int
}

func (s *stream) Data(p []byte) error                { s.body.Write(p); return nil }
func (s *stream) Log([]byte)                         {}
func (s *stream) End(uint32, uint8)                  { s.ended++ }
func (s *stream) Head(h upstream.ResponseHead) error { s.head = h; return nil }
func (s *stream) HeadRequest() bool                  { return false }
func (s *stream) UpgradeRequest() bool               { return true }

// TestConnOneRequest: uWSGI's raw HTTP answer is parsed (Content-Length,
// chunked, or up to the close); the connection takes one request only,
// whatever the response says about keep-alive, and never tunnels.
func TestConnOneRequest(t *testing.T) {
	for _, c := range []struct{ name, resp, body string }{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello", "hello"},
		{"chunked", "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde"},
		{"close", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close", "until the close"},
	} {
		cc := Protocol.NewConn(1)
		s := &stream{}
		if _, ok := cc.Begin(s); !ok || cc.Limit() != 0 {
			t.Fatalf("%s: begin %v limit %d", c.name, ok, cc.Limit())
		}
		for i := 0; i < len(c.resp); i++ { // a byte at a time
			n, err := cc.Feed([]byte(c.resp[:i+1]))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			c.resp = c.resp[n:]
			i -= n
		}
		if c.name == "close" {
			if s.ended != 0 {
				t.Fatalf("%s: ended before the close", c.name)
			}
			cc.PeerClosed()
		}
		if s.ended != 1 || s.body.String() != c.body || !cc.Idle() {
			t.Fatalf("%s: ended %d body %q idle %v", c.name, s.ended, s.body.String(), cc.Idle())
		}
		if r, ok := cc.(upstream.Reuser); !ok || r.Reusable() {
			t.Fatalf("%s: the connection would be reused", c.name)
		}
		if _, ok := cc.Begin(&stream{}); ok {
			t.Fatalf("%s: a second request began", c.name)
		}
	}
	cc := Protocol.NewConn(1)
	cc.Begin(&stream{})
	if _, err := cc.Feed([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")); err == nil {
		t.Fatal("a 101 was accepted")
	}
}

// TestLossHint: only a vars block over uWSGI's default buffer-size
// explains a close without an answer, and the hint says what to raise.
func TestLossHint(t *testing.T) {
	if h := (Codec{}).LossHint(HeaderLen + DefaultBufferSize); h != "" {
		t.Fatalf("a vars block uWSGI takes got a hint: %q", h)
	}
	if h := (Codec{}).LossHint(HeaderLen + 5000); !strings.Contains(h, "5000 bytes") || !strings.Contains(h, "--buffer-size") {
		t.Fatalf("hint %q", h)
	}
}
