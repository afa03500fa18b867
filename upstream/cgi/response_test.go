package cgi

import (
	"errors"
	"testing"
)

func TestResponseParser(t *testing.T) {
	tests := []struct {
		name, in  string
		head      string // AppendHead output
		status    int
		cl        int64
		local     bool
		accel     string
		location  string
		body      string
		noBuffers bool
	}{
		{name: "php style", in: "Status: 404 Not Found\r\nX-Powered-By: PHP/8.2\r\nContent-type: text/html; charset=UTF-8\r\n\r\nFile not found.\n",
			head:   "HTTP/1.1 404 Not Found\r\nX-Powered-By: PHP/8.2\r\nContent-type: text/html; charset=UTF-8\r\n",
			status: 404, cl: -1, body: "File not found.\n"},
		{name: "bare LF, default 200", in: "Content-Type: text/plain\n\nhello",
			head: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", status: 200, cl: -1, body: "hello"},
		{name: "absolute location", in: "Location: https://example.test/x\r\n\r\n",
			head: "HTTP/1.1 302 Found\r\nLocation: https://example.test/x\r\n", status: 302, cl: -1,
			location: "https://example.test/x"},
		{name: "local redirect", in: "Location: /login?next=%2F\r\n\r\n",
			head: "HTTP/1.1 302 Found\r\nLocation: /login?next=%2F\r\n", status: 302, cl: -1, local: true,
			location: "/login?next=%2F"},
		{name: "network-path location", in: "Location: //evil.test/\r\n\r\n",
			head: "HTTP/1.1 302 Found\r\nLocation: //evil.test/\r\n", status: 302, cl: -1, location: "//evil.test/"},
		{name: "status beats location", in: "Status: 301\r\nLocation: /new\r\n\r\n",
			head: "HTTP/1.1 301 Moved Permanently\r\nLocation: /new\r\n", status: 301, cl: -1, location: "/new"},
		{name: "cookies, hop-by-hop, framing, accel",
			in: "Set-Cookie: a=1\r\nConnection: close\r\nSet-Cookie: b=2\r\nTransfer-Encoding: chunked\r\n" +
				"Keep-Alive: 5\r\nContent-Length: 3\r\ncontent-length: 3\r\nDate: x\r\nServer: y\r\n" +
				"X-Accel-Redirect: /protected/f.zip\r\nX-Accel-Buffering: no\r\nSet-Cookie: c=3\r\n\r\nabc",
			head:   "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nSet-Cookie: c=3\r\n",
			status: 200, cl: 3, accel: "/protected/f.zip", body: "abc", noBuffers: true},
		{name: "unknown code, no reason", in: "Status: 299\r\n\r\n", head: "HTTP/1.1 299 \r\n", status: 299, cl: -1},
		{name: "whitespace trimmed", in: "X-A:  \t v \t\r\nX-Empty:\r\n\r\n",
			head: "HTTP/1.1 200 OK\r\nX-A: v\r\nX-Empty: \r\n", status: 200, cl: -1},
		{name: "non-parsed header", in: "HTTP/1.0 201 Made\r\nServer: uWSGI\r\nX-A: 1\r\n\r\nstream",
			head: "HTTP/1.1 201 Made\r\nX-A: 1\r\n", status: 201, cl: -1, body: "stream", noBuffers: true},
		{name: "non-parsed header, no reason", in: "HTTP/1.1 404\nContent-Length: 2\n\nno",
			head: "HTTP/1.1 404 Not Found\r\n", status: 404, cl: 2, body: "no", noBuffers: true},
		{name: "no headers", in: "\r\nbody", head: "HTTP/1.1 200 OK\r\n", status: 200, cl: -1, body: "body"},
	}
	for _, tt := range tests {
		// Whole, then one byte at a time: the results must agree.
		for _, step := range []int{len(tt.in), 1} {
			var p ResponseParser
			var body []byte
			in := []byte(tt.in)
			for off := 0; off < len(in); off += step {
				chunk := in[off:min(off+step, len(in))]
				if p.Done() {
					body = append(body, chunk...)
					continue
				}
				n, err := p.Feed(chunk)
				if err == ErrNeedMore {
					if n != len(chunk) {
						t.Fatalf("%s: ErrNeedMore with n=%d of %d", tt.name, n, len(chunk))
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s step %d: %v", tt.name, step, err)
				}
				body = append(body, chunk[n:]...)
			}
			got := string(p.AppendHead(nil))
			if !p.Done() || got != tt.head || p.Status != tt.status || p.ContentLength != tt.cl ||
				p.Local != tt.local || string(p.AccelRedirect()) != tt.accel ||
				string(p.Location()) != tt.location || string(body) != tt.body || p.NoBuffer != tt.noBuffers {
				t.Errorf("%s step %d:\nhead %q\nstatus %d cl %d local %v accel %q loc %q body %q nobuf %v",
					tt.name, step, got, p.Status, p.ContentLength, p.Local, p.AccelRedirect(),
					p.Location(), body, p.NoBuffer)
			}
		}
	}
}

func TestResponseParserErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"X-A: a\r\nHTTP/1.1 200 OK\r\n\r\n", ErrBadHeaderLine}, // a status line comes first or not at all
		{"HTTP/1.1 2x0 OK\r\n\r\n", ErrBadStatus},
		{"HTTP/1.1 101 Switching Protocols\r\n\r\n", ErrBadStatus},
		{"HTTP/1.1\r\n\r\n", ErrBadStatus},
		{"HTTP/1.x 200 OK\r\n\r\n", ErrBadStatus},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ErrNPHCoding},
		{": empty name\r\n\r\n", ErrBadHeaderLine},
		{"Bad Name: x\r\n\r\n", ErrBadHeaderLine},
		{"X-A: a\r\n continued\r\n\r\n", ErrBadHeaderLine},
		{"X-A: a\rb\r\n\r\n", ErrBadHeaderLine},
		{"X-A: a\x00b\r\n\r\n", ErrBadHeaderLine},
		{"Status: abc\r\n\r\n", ErrBadStatus},
		{"Status: 2000\r\n\r\n", ErrBadStatus},
		{"Status: 101 Switching Protocols\r\n\r\n", ErrBadStatus},
		{"Status: 20\r\n\r\n", ErrBadStatus},
		{"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", ErrBadLength},
		{"Content-Length: -1\r\n\r\n", ErrBadLength},
		{"Content-Length: 1 2\r\n\r\n", ErrBadLength},
	}
	for _, tt := range tests {
		var p ResponseParser
		if _, err := p.Feed([]byte(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("%q: err %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestResponseParserHeadLimit(t *testing.T) {
	var p ResponseParser
	line := []byte("X-Pad: " + string(make([]byte, 1000)) + "\r\n")
	for i := range line[7 : len(line)-2] {
		line[7+i] = 'p'
	}
	var err error
	for i := 0; i < 70 && err != ErrHeadTooLarge; i++ {
		_, err = p.Feed(line)
		if err != nil && err != ErrNeedMore && err != ErrHeadTooLarge {
			t.Fatal(err)
		}
	}
	if err != ErrHeadTooLarge {
		t.Fatalf("no limit: %v after %d bytes", err, len(p.buf))
	}
	// A line with no newline at all is bounded too.
	var q ResponseParser
	if _, err := q.Feed(make([]byte, MaxHeadSize+1)); err != ErrHeadTooLarge {
		t.Fatalf("unterminated line: %v", err)
	}
}

func TestResponseParserReset(t *testing.T) {
	var p ResponseParser
	p.Feed([]byte("Status: 500\r\nLocation: /x\r\nX-Accel-Redirect: /y\r\n\r\n"))
	p.Reset()
	if _, err := p.Feed([]byte("X-B: 1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if p.Status != 200 || p.Location() != nil || p.AccelRedirect() != nil || string(p.Get("x-b")) != "1" ||
		string(p.AppendHead(nil)) != "HTTP/1.1 200 OK\r\nX-B: 1\r\n" {
		t.Fatalf("state leaked across Reset: %d %q", p.Status, p.AppendHead(nil))
	}
	if n, err := p.Feed([]byte("more")); n != 0 || err != nil {
		t.Fatalf("Feed after Done: %d %v", n, err)
	}
}
