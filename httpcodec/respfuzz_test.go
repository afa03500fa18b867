package httpcodec

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// FuzzResponseParser: no panic; n within the buffer; the same result from
// every prefix (ErrNeedMore or the whole result); a forwarded head that
// has no framing or hop-by-hop field and no CR or LF inside a line; and,
// when net/http reads the same head, the same status and the same framing.
func FuzzResponseParser(f *testing.F) {
	for _, c := range respCases {
		f.Add([]byte(c.in), c.head)
	}
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		var p ResponseParser
		n, err := p.Parse(in, head)
		want := respSummary(n, err, &p)
		if err != nil {
			if err != ErrNeedMore && StatusOf(err) == 500 {
				t.Fatalf("unmapped error %v", err)
			}
			return
		}
		if n <= 0 || n > len(in) {
			t.Fatalf("n=%d of %d", n, len(in))
		}
		for _, l := range []int{n / 2, n - 1} {
			var q ResponseParser
			ln, lerr := q.Parse(in[:l], head)
			if lerr != ErrNeedMore && respSummary(ln, lerr, &q) != want {
				t.Fatalf("prefix %d: %s, whole %s", l, respSummary(ln, lerr, &q), want)
			}
		}
		out := p.AppendHead(nil)
		for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n")) {
			if bytes.ContainsAny(line, "\r\n\x00") {
				t.Fatalf("line %q", line)
			}
			name, _, _ := bytes.Cut(line, []byte(":"))
			for _, h := range []string{"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"} {
				if EqualFold(name, h) && !(p.Framing == FrameTunnel && (h == "connection" || h == "upgrade")) {
					t.Fatalf("forwarded %s: %q", h, out)
				}
			}
		}
		differResponse(t, in[:n], head, &p)
	})
}

// differResponse compares with net/http's reading of the same head where
// both accept it.
func differResponse(t *testing.T, head []byte, headReq bool, p *ResponseParser) {
	req := &http.Request{Method: "GET"}
	if headReq {
		req.Method = "HEAD"
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), req)
	if err != nil || p.Interim() || p.Framing == FrameNone {
		// No body: net/http still reports the coding a GET would get.
		return
	}
	if resp.StatusCode != p.Status {
		t.Fatalf("status %d, net/http %d", p.Status, resp.StatusCode)
	}
	chunked := len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
	if chunked != (p.Framing == FrameChunked) {
		t.Fatalf("chunked %v, net/http %v", p.Framing == FrameChunked, chunked)
	}
	if p.Framing == FrameLength && resp.ContentLength != p.ContentLength {
		t.Fatalf("length %d, net/http %d", p.ContentLength, resp.ContentLength)
	}
}
