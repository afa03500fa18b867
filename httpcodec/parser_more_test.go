package httpcodec

import (
	"strings"
	"testing"
)

// Pipelined requests in one buffer parse one after another by n; a body
// (Content-Length or chunked) is skipped by the caller between them.
func TestParsePipelined(t *testing.T) {
	buf := []byte("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nfoo=1&bar=1" +
		"POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"\r\nGET /4 HTTP/1.0\r\n\r\n")
	var p Parser
	var r Request
	var paths []string
	for off := 0; off < len(buf); {
		n, err := p.Parse(buf[off:], &r)
		if err != nil {
			t.Fatalf("at %d: %v", off, err)
		}
		paths = append(paths, string(r.Path))
		off += n
		switch {
		case r.Chunked:
			var d ChunkedDecoder
			d.Reset(nil)
			for !d.Done() {
				k, _, err := d.Decode(buf[off:])
				if err != nil || k == 0 {
					t.Fatalf("chunked at %d: %v", off, err)
				}
				off += k
			}
		case r.ContentLength > 0:
			off += int(r.ContentLength)
		}
	}
	if got := strings.Join(paths, " "); got != "/1 /2 /3 /4" {
		t.Fatalf("parsed %q", got)
	}
}

// Limits are enforced as bytes arrive, before the end of the head.
func TestParseLimits(t *testing.T) {
	p := Parser{Limits: DefaultLimits()}
	p.Limits.MaxRequestLine, p.Limits.MaxHeaderBytes, p.Limits.MaxHeaders, p.Limits.MaxBody = 32, 40, 3, 100
	cases := []struct {
		rule string
		in   string
		want string
	}{
		{"request line of exactly MaxRequestLine bytes",
			"GET /" + strings.Repeat("a", 16) + " HTTP/1.1\r\nHost: a\r\n\r\n", "n=43 GET /aaaaaaaaaaaaaaaa host=a 1.1 cl=0 keep hdrs=1"},
		{"request line one byte over -> 414",
			"GET /" + strings.Repeat("a", 17) + " HTTP/1.1\r\nHost: a\r\n\r\n", "error: request line too long"},
		{"incomplete request line over the limit -> 414 at once",
			"GET /" + strings.Repeat("a", 40), "error: request line too long"},
		{"leading empty lines count towards the request line",
			strings.Repeat("\r\n", 16) + "GET / HTTP/1.1\r\n", "error: request line too long"},
		{"field lines of exactly MaxHeaderBytes",
			"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", 24) + "\r\n\r\n", "n=56 GET / host=a 1.1 cl=0 keep hdrs=2"},
		{"field lines one byte over -> 431",
			"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", 25) + "\r\n\r\n", "error: header fields too large"},
		{"an endless field line -> 431 at once",
			"GET / HTTP/1.1\r\nX: " + strings.Repeat("b", 100), "error: header fields too large"},
		{"MaxHeaders field lines", "GET / HTTP/1.1\r\nHost: a\r\nb:\r\nc:\r\n\r\n", "n=35 GET / host=a 1.1 cl=0 keep hdrs=3"},
		{"one field line over MaxHeaders -> 431", "GET / HTTP/1.1\r\nHost: a\r\nb:\r\nc:\r\nd:\r\n\r\n", "error: too many header fields"},
		{"Content-Length at MaxBody", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", "n=48 PUT / host=a 1.1 cl=100 keep hdrs=2"},
		{"Content-Length over MaxBody -> 413", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", "error: body too large"},
		{"an early error wins over a later limit",
			"G(T /" + strings.Repeat("a", 40), "error: invalid method"},
	}
	for _, c := range cases {
		if got := parseAll(t, &p, c.in); got != c.want {
			t.Errorf("%s\n got:  %s\n want: %s", c.rule, got, c.want)
		}
	}
}

func TestHeaderAccess(t *testing.T) {
	var p Parser
	var r Request
	in := "GET / HTTP/1.1\r\nhOST: a\r\nX-Custom: one\r\nx-custom: two\r\nACCEPT-ENCODING: gzip\r\n" +
		"If-None-Match: \"e\"\r\nCookie: c=1\r\n\r\n"
	if _, err := p.Parse([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want string }{
		{string(r.Get(HdrHost)), "a"},
		{string(r.Get(HdrAcceptEncoding)), "gzip"},
		{string(r.Get(HdrIfNoneMatch)), "\"e\""},
		{string(r.Get(HdrCookie)), "c=1"},
		{string(r.Get(HdrRange)), ""},
		{string(r.Lookup("x-CUSTOM")), "one"}, // the first of two
		{string(r.Lookup("accept-encoding")), "gzip"},
		{string(r.Lookup("Missing")), ""},
		{string(r.Headers[0].Name), "hOST"}, // the client's case is kept
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: %q, want %q", i, c.got, c.want)
		}
	}
	if !r.Has(HdrCookie) || r.Has(HdrRange) {
		t.Error("Has")
	}
	// Every indexed header is recognized under any case.
	for id := HdrUnknown + 1; id < numHeaderIDs; id++ {
		if got := headerID([]byte(strings.ToUpper(id.String()))); got != id {
			t.Errorf("headerID(%s) = %d", id, got)
		}
		if got := headerID(id.String() + "x"); got != HdrUnknown {
			t.Errorf("headerID(%sx) = %d", id, got)
		}
	}
}

// A Request reused for a second parse holds nothing of the first.
func TestParseReuse(t *testing.T) {
	var p Parser
	var r Request
	if _, err := p.Parse([]byte("POST /long/path?q HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"), &r); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse([]byte("GET /b HTTP/1.0\r\n\r\n"), &r); err != nil {
		t.Fatal(err)
	}
	if got := summary(1, nil, &r); got != "n=1 GET /b host= 1.0 cl=0 hdrs=0" || r.Has(HdrHost) {
		t.Fatalf("reused: %s", got)
	}
}
