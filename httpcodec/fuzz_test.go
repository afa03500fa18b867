package httpcodec

import (
	"bytes"
	"testing"
)

// FuzzParse: no panic, n within the buffer, a Path that is absolute and
// free of dot-segments, the same result when parsed again and when parsed
// from any prefix (ErrNeedMore or the same result), and, when net/http
// accepts the same head, the same framing, Host and persistence.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(browserGET))
	f.Add([]byte("GET /a/%2e%2e/b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Add([]byte("GET http://h:1/x/../y?z HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		var r Request
		n, err := p.Parse(in, &r)
		want := summary(n, err, &r)
		if err == nil {
			if n <= 0 || n > len(in) {
				t.Fatalf("n=%d of %d", n, len(in))
			}
			checkPath(t, r.Path)
			differParse(t, in, n, &r)
		} else if StatusOf(err) == 500 {
			t.Fatalf("unmapped error %v", err)
		}
		var r2 Request
		if n2, err2 := p.Parse(in, &r2); summary(n2, err2, &r2) != want {
			t.Fatalf("re-parse differs")
		}
		for _, l := range []int{len(in) / 2, len(in) - 1, n - 1} {
			if l <= 0 || l >= len(in) {
				continue
			}
			pn, perr := p.Parse(in[:l:l], &r2)
			if perr != ErrNeedMore && summary(pn, perr, &r2) != want {
				t.Fatalf("prefix %d: %s, whole: %s", l, summary(pn, perr, &r2), want)
			}
		}
	})
}

func checkPath(t *testing.T, p []byte) {
	t.Helper()
	if len(p) == 0 || p[0] != '/' {
		t.Fatalf("path %q not absolute", p)
	}
	for _, seg := range bytes.Split(p, []byte("/")) {
		if string(seg) == ".." || string(seg) == "." {
			t.Fatalf("path %q has a dot-segment", p)
		}
	}
	if bytes.Contains(p, []byte("//")) || bytes.IndexByte(p, 0) >= 0 {
		t.Fatalf("path %q has an empty segment or NUL", p)
	}
}

// FuzzChunked: no panic, n within src, the data a view of src, the same
// data and outcome whether the input comes whole or byte by byte, and the
// same data as net/http's chunked reader whenever both decode the body.
func FuzzChunked(f *testing.F) {
	for _, c := range chunkedCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var d ChunkedDecoder
		d.Reset(nil)
		var whole []byte
		var err error
		for src := in; len(src) > 0; {
			n, b, e := d.Decode(src)
			if n < 0 || n > len(src) || len(b) > n {
				t.Fatalf("n=%d data %d of %d", n, len(b), len(src))
			}
			whole = append(whole, b...)
			if err = e; e != nil || n == 0 {
				break
			}
			src = src[n:]
		}
		if err != nil && StatusOf(err) == 500 {
			t.Fatalf("unmapped error %v", err)
		}
		data, err1 := decodeSteps(string(in), 1, nil)
		if err == nil && !d.Done() {
			err = ErrNeedMore
		}
		if data != string(whole) || err1 != err {
			t.Fatalf("byte by byte: %q %v, whole: %q %v", data, err1, whole, err)
		}
		if err == nil {
			differChunked(t, in, whole)
		}
	})
}

// FuzzChunkedRoundTrip: any data, cut into chunks of the sizes given
// (net/http's writer, and extensions by hand), followed by a trailer and
// the next request's bytes, decodes to exactly the data and stops at the
// body's end. (Apart from FuzzChunked: its coverage is of the encoder's
// shapes, not of hostile input.)
func FuzzChunkedRoundTrip(f *testing.F) {
	f.Add([]byte("hello world"), []byte{2, 0, 7})
	f.Add([]byte("0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 600), []byte{255})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		// Bounded: 1-byte chunks of a large input would make each run,
		// and so the fuzzer's minimizing, slow for no new shapes.
		if len(data) > 1024 {
			data = data[:1024]
		}
		roundTripChunked(t, data, sizes)
	})
}

// FuzzNormalizePath: no panic, a result that is absolute, free of
// dot-segments, empty segments and NUL, stable when normalized again, and
// the same as Go's url.PathUnescape then path.Clean (which gale refines:
// empty segments collapse, a trailing '/' is kept).
func FuzzNormalizePath(f *testing.F) {
	for _, c := range normalizeCases {
		f.Add([]byte(c.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := NormalizePath(nil, raw)
		if err != nil {
			if StatusOf(err) != 400 {
				t.Fatalf("status %d", StatusOf(err))
			}
			return
		}
		if len(out) > 1 {
			checkPath(t, bytes.TrimSuffix(out, []byte("/"))) // a trailing '/' is kept
		} else {
			checkPath(t, out)
		}
		differNormalize(t, raw, out)
		if !bytes.Contains(out, []byte("%")) {
			again, err := NormalizePath(nil, out)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("%q -> %q -> %q %v", raw, out, again, err)
			}
		}
	})
}
