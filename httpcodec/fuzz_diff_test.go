package httpcodec

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"strings"
	"testing"
)

// differParse checks, for a head both gale and net/http accept, that they
// agree on everything that decides framing and routing: the method, where
// the body ends (Content-Length or chunked), the Host and whether the
// connection stays open. A disagreement between two parsers on any of these
// is exactly what request smuggling exploits (RFC 9112 section 11.2), so
// gale accepting a request differently from a mainstream implementation is
// a failure even when gale alone looks consistent.
func differParse(t *testing.T, in []byte, n int, r *Request) {
	t.Helper()
	g, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(in[:n])))
	if err != nil {
		return // net/http is stricter here; gale's verdict stands alone
	}
	defer g.Body.Close()
	if g.Method != string(r.MethodName) {
		t.Fatalf("method: gale %q, net/http %q", r.MethodName, g.Method)
	}
	goChunked := len(g.TransferEncoding) == 1 && g.TransferEncoding[0] == "chunked"
	if goChunked != r.Chunked {
		t.Fatalf("chunked: gale %v, net/http %v (%q)", r.Chunked, goChunked, g.TransferEncoding)
	}
	if !r.Chunked && g.ContentLength != r.ContentLength {
		t.Fatalf("content-length: gale %d, net/http %d", r.ContentLength, g.ContentLength)
	}
	// CONNECT's authority-form names the tunnel's peer, which net/http
	// reports as Host; gale leaves Host to the field (and refuses CONNECT).
	if r.Form != FormAuthority && g.Host != string(r.Host) {
		t.Fatalf("host: gale %q, net/http %q", r.Host, g.Host)
	}
	if g.Close == r.KeepAlive {
		t.Fatalf("keep-alive: gale %v, net/http close=%v", r.KeepAlive, g.Close)
	}
}

// differChunked checks that when net/http's chunked reader also decodes in
// to its last chunk, it yields the same data gale did.
func differChunked(t *testing.T, in []byte, data []byte) {
	t.Helper()
	got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in)))
	if err != nil {
		return
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("data: gale %q, net/http %q", data, got)
	}
}

// roundTripChunked encodes data with net/http's chunked writer in chunks
// whose sizes come from sizes, with extensions and a trailer gale must
// skip, and checks gale decodes exactly data and stops at the body's end.
func roundTripChunked(t *testing.T, data, sizes []byte) {
	t.Helper()
	var wire bytes.Buffer
	for i, rest := 0, data; len(rest) > 0; i++ {
		k := len(rest)
		if len(sizes) > 0 {
			k = min(k, int(sizes[i%len(sizes)])+1)
		}
		if i%3 == 1 {
			// net/http's writer has no extensions; write this one by hand.
			wire.WriteString(strings.ToUpper(hexOf(k)) + " ; ext = \"v\\\"\"\r\n")
			wire.Write(rest[:k])
			wire.WriteString("\r\n")
		} else {
			cw := httputil.NewChunkedWriter(&wire)
			cw.Write(rest[:k]) // Close would add the last chunk
		}
		rest = rest[k:]
	}
	wire.WriteString("0\r\nX-Sum: 1\r\n\r\nNEXT")
	var d ChunkedDecoder
	d.Reset(nil)
	var out []byte
	src := wire.Bytes()
	for {
		n, b, err := d.Decode(src)
		if err != nil {
			t.Fatalf("round trip of %d bytes: %v", len(data), err)
		}
		out = append(out, b...)
		if n == 0 {
			break
		}
		src = src[n:]
	}
	if !d.Done() || !bytes.Equal(out, data) || string(src) != "NEXT" {
		t.Fatalf("round trip: done=%v data equal %v, left %q", d.Done(), bytes.Equal(out, data), src)
	}
}

func hexOf(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n >>= 4 {
		b = append([]byte{digits[n&15]}, b...)
	}
	return string(b)
}

// differNormalize checks a path gale normalized against the standard
// library: decode once, then remove dot-segments. gale keeps a trailing
// '/', so that is compared apart.
func differNormalize(t *testing.T, raw, out []byte) {
	t.Helper()
	dec, err := url.PathUnescape(string(raw))
	if err != nil {
		t.Fatalf("%q: gale normalized to %q, url.PathUnescape: %v", raw, out, err)
	}
	want := path.Clean(dec)
	got := string(out)
	if len(got) > 1 {
		got = strings.TrimSuffix(got, "/")
	}
	if got != want {
		t.Fatalf("%q: gale %q, path.Clean(unescaped) %q", raw, out, want)
	}
}
