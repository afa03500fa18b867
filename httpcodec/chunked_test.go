package httpcodec

import (
	"strings"
	"testing"
)

var chunkedCases = []struct {
	rule string
	in   string
	data string
	err  error // nil, ErrNeedMore (incomplete) or the *Error
}{
	{"RFC 9112 7.1: one chunk", "b\r\nhello world\r\n0\r\n\r\n", "hello world", nil},
	{"RFC 9112 7.1: two chunks", "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", "hello world", nil},
	{"RFC 9112 7.1: empty body", "0\r\n\r\n", "", nil},
	{"RFC 9112 7.1: hex sizes in both cases, leading zeros", "00A\r\n0123456789\r\n0001\r\nx\r\n000\r\n\r\n", "0123456789x", nil},
	{"RFC 9112 7.1.1: extension name=token", "6;comment=hi\r\nhello \r\n0\r\n\r\n", "hello ", nil},
	{"RFC 9112 7.1.1: BWS around ';' and '='", "6 ; a = b ;c\r\nhello \r\n0\r\n\r\n", "hello ", nil},
	{"RFC 9112 7.1.1: quoted-string value with quoted-pair", "1;a=\"x\\\"; y\"\r\nz\r\n0;last\r\n\r\n", "z", nil},
	{"RFC 9112 7.1.2: trailer fields", "3\r\nfoo\r\n0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX:\r\n\r\n", "foo", nil},
	{"RFC 9112 7.1.2: 'X:POST / HTTP/1.1' is a trailer, not a request", "0\r\nX:POST / HTTP/1.1\r\n\r\n", "", nil},
	{"incomplete: in data", "5\r\nhel", "hel", ErrNeedMore},
	{"incomplete: before the final CRLF", "0\r\n", "", ErrNeedMore},

	{"RFC 9112 7.1: size '0_2e'", "0_2e\r\n\r\n", "", ErrChunkSize},
	{"RFC 9112 7.1: empty size line", "\r\n\r\n", "", ErrChunkSize},
	{"RFC 9112 7.1: whitespace before the size", "  0\r\n\r\n", "", ErrChunkSize},
	{"RFC 9112 7.1: sign and 0x", "-0x0\r\n\r\n", "", ErrChunkSize},
	{"RFC 9112 7.1: 0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "", ErrChunkSize},
	{"RFC 9112 7.1: non-hex size", "z\r\nabcdefg", "", ErrChunkSize},
	{"RFC 9112 7.1: size '1x'", "1x\r\na\r\n0\r\n\r\n", "", ErrChunkSize},
	{"RFC 9112 7.1: garbage after the size", "1these-bytes\r\nZ\r\n0\r\n\r\n", "", ErrChunkSize},
	{"RFC 9112 7.1: overflowing size", "6\r\nhello \r\nfffffffffffffffff\r\nabcdefg", "hello ", ErrChunkSize},
	{"RFC 9112 7.1: size line ended by bare LF", "6\nhello \r\n0\r\n\r\n", "", ErrBareLF},
	{"RFC 9112 7.1: size line ended by CR CR", "5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n", "", ErrBareCR},
	{"RFC 9112 7.1: '6\\rX\\n'", "6\rX\nhello \r\n0\r\n\r\n", "", ErrBareCR},
	{"RFC 9112 7.1: SP before CRLF without an extension", "6 \r\nhello \r\n0\r\n\r\n", "", ErrChunkExt},
	{"RFC 9112 7.1.1: bare CR in extension whitespace", "41;a=b\r\rXX", "", ErrBareCR},
	{"RFC 9112 7.1.1: bare CR before ';'", "2\r\r;a\r\n02\r\n41\r\n0\r\n\r\n", "", ErrBareCR},
	{"RFC 9112 7.1.1: LF inside an extension", "1;a\nb\r\nx\r\n0\r\n\r\n", "", ErrChunkExt},
	{"RFC 9112 7.1.1: extension without a name", "1;=b\r\nx\r\n0\r\n\r\n", "", ErrChunkExt},
	{"RFC 9112 7.1.1: control byte in a quoted value", "1;a=\"\x01\"\r\nx\r\n0\r\n\r\n", "", ErrChunkExt},
	{"RFC 9112 7.1: data followed by bare LF", "a\r\n0123456789\n0\r\n\r\n", "0123456789", ErrChunkData},
	{"RFC 9112 7.1: data followed by no CRLF", "3\r\nhaxZZ\r\n0\r\n\r\n", "hax", ErrChunkData},
	{"RFC 9112 7.1: data longer than its size", "5\r\nhello world\r\n0\r\n\r\n", "hello", ErrChunkData},
	{"RFC 9112 7.1.2: trailer line without a colon", "3\r\nhax\r\n0\r\nI'm not a valid trailer\r\n\r\n", "hax", ErrTrailer},
	{"RFC 9112 7.1.2: trailers with bare LF", "0\r\na: b\nc: d\n\n", "", ErrBareLF},
	{"RFC 9112 7.1.2: trailer section ended by bare LF", "0\r\n\n", "", ErrBareLF},
	{"RFC 9112 7.1.2: obs-fold in trailers", "0\r\na: b\r\n c\r\n\r\n", "", ErrObsFold},
	{"RFC 9112 7.1.2: space before colon in a trailer", "0\r\na : b\r\n\r\n", "", ErrTrailer},
	{"RFC 9110 5.5: NUL in a trailer value", "0\r\na: b\x00\r\n\r\n", "", ErrTrailer},
	{"RFC 9112 7.1: empty line before the last chunk", "17\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\n\r\n0\r\n\r\n", "0\r\n\r\nGET / HTTP/1.1\r\n\r\n", ErrChunkSize},
}

func TestChunkedCases(t *testing.T) {
	for _, c := range chunkedCases {
		for step := 1; step <= len(c.in); step++ {
			data, err := decodeSteps(c.in, step, nil)
			if data != c.data || err != c.err {
				t.Errorf("%s, pieces of %d: data %q err %v, want %q %v", c.rule, step, data, err, c.data, c.err)
				break
			}
		}
	}
}

// decodeSteps feeds in to a fresh decoder in pieces of size step, each piece
// decoded fully (looping while n > 0), and returns the data and the outcome.
// It also checks that the decoder never consumes past the end of the body.
func decodeSteps(in string, step int, lim *Limits) (string, error) {
	var d ChunkedDecoder
	d.Reset(lim)
	var out []byte
	for off := 0; off < len(in); off += step {
		piece := []byte(in[off:min(off+step, len(in))])
		for len(piece) > 0 {
			n, b, err := d.Decode(piece)
			out = append(out, b...)
			if err != nil {
				return string(out), err
			}
			if n == 0 {
				break
			}
			piece = piece[n:]
		}
		if d.Done() {
			return string(out), nil
		}
	}
	return string(out), ErrNeedMore
}

// The bytes after the body belong to the next request: Decode stops at the
// end of the trailer section whatever the piece size.
func TestChunkedStopsAtBodyEnd(t *testing.T) {
	in := "5\r\nabcde\r\n0\r\n\r\nGET / HTTP/1.1\r\n"
	var d ChunkedDecoder
	d.Reset(nil)
	src := []byte(in)
	total := 0
	for {
		n, _, err := d.Decode(src[total:])
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if !d.Done() || in[total:] != "GET / HTTP/1.1\r\n" || d.Size() != 5 {
		t.Fatalf("done=%v consumed %d, rest %q, size %d", d.Done(), total, in[total:], d.Size())
	}
	// Further calls consume nothing.
	if n, b, err := d.Decode(src[total:]); n != 0 || b != nil || err != nil {
		t.Fatalf("after Done: %d %q %v", n, b, err)
	}
}

func TestChunkedLimits(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxBody, lim.MaxChunkExt, lim.MaxTrailerBytes = 10, 8, 16
	cases := []struct {
		rule string
		in   string
		err  error
	}{
		{"MaxBody: exactly at the limit", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", nil},
		{"MaxBody: one chunk over -> 413", "b\r\nhello world\r\n0\r\n\r\n", ErrBodyTooLarge},
		{"MaxBody: the sum over -> 413", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", ErrBodyTooLarge},
		{"MaxChunkExt: 8 bytes accepted", "1;abcdefg\r\nx\r\n0\r\n\r\n", nil},
		{"MaxChunkExt: 9 bytes -> 400", "1;abcdefgh\r\nx\r\n0\r\n\r\n", ErrChunkExt},
		{"MaxTrailerBytes: 16 bytes accepted", "0\r\nabcdefghijk:\r\n\r\n", nil},
		{"MaxTrailerBytes: 17 bytes -> 431", "0\r\nabcdefghijkl:\r\n\r\n", ErrTrailerTooLarge},
		{"MaxTrailerBytes: endless trailers -> 431", "0\r\n" + strings.Repeat("a:b\r\n", 10), ErrTrailerTooLarge},
	}
	for _, c := range cases {
		for step := 1; step <= len(c.in); step++ {
			if _, err := decodeSteps(c.in, step, &lim); err != c.err {
				t.Errorf("%s, pieces of %d: %v, want %v", c.rule, step, err, c.err)
				break
			}
		}
	}
	if StatusOf(ErrTrailerTooLarge) != 431 || StatusOf(ErrBodyTooLarge) != 413 {
		t.Fatal("limit statuses")
	}
}

// After an error every call returns it again and consumes nothing.
func TestChunkedErrorSticks(t *testing.T) {
	var d ChunkedDecoder
	d.Reset(nil)
	if _, _, err := d.Decode([]byte("zz")); err != ErrChunkSize {
		t.Fatalf("first: %v", err)
	}
	if n, _, err := d.Decode([]byte("0\r\n\r\n")); n != 0 || err != ErrChunkSize {
		t.Fatalf("second: %d %v", n, err)
	}
}
