package handlers

import (
	"bytes"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/gale-http/gale/httpcodec"
)

// Coding is a content coding applied to a dynamic response.
type Coding uint8

const (
	// CodingIdentity: the body goes as the application sent it.
	CodingIdentity Coding = iota
	// CodingGzip: gzip (RFC 1952).
	CodingGzip
	// CodingZstd: zstd (RFC 8878).
	CodingZstd
)

// String is the coding's name in Content-Encoding.
func (c Coding) String() string { return encName[c] }

// DynCompress is a location's compression of the responses its
// application sends (nginx gzip on; gzip_types; gzip_min_length). It is
// built once from the configuration and read-only afterwards.
type DynCompress struct {
	// Types are the media types compressed, lower case, without
	// parameters; "text/*" matches every text type. Empty means
	// CompressibleTypes.
	Types []string
	// MinLength: a response whose length is known (a Content-Length, or
	// the whole body held) and below it goes as it is.
	MinLength int64
	// Gzip and Zstd enable each coding; the client's preference, then
	// zstd before gzip, picks one.
	Gzip, Zstd bool
}

// CompressibleTypes are the media types the static pipeline compresses:
// the same list for dynamic responses.
func CompressibleTypes() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range mimeTypes {
		t, _, _ := strings.Cut(m.ctype, ";")
		if m.compressible && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Choose picks the coding for a request's Accept-Encoding field: the
// client's most preferred enabled coding with a q-value above 0, else
// identity (no field, "identity", or q=0 for every enabled coding).
func (c *DynCompress) Choose(acceptEncoding []byte) Coding {
	if len(acceptEncoding) == 0 {
		return CodingIdentity
	}
	var dst [numEnc]int
	for _, enc := range preferredEncodings(acceptEncoding, &dst) {
		switch {
		case enc == encIdentity:
			return CodingIdentity
		case enc == encGzip && c.Gzip:
			return CodingGzip
		case enc == encZstd && c.Zstd:
			return CodingZstd
		}
	}
	return CodingIdentity
}

// Applies reports whether a response whose head (status line and fields,
// as forwarded) is head may be compressed, with bodyLen its length when
// known (else -1): a 2xx other than 204 and 206 of a listed type, without
// a Content-Encoding or Content-Range of its own nor Cache-Control:
// no-transform, and not below MinLength.
func (c *DynCompress) Applies(status int, head []byte, bodyLen int64) bool {
	if status < 200 || status >= 300 || status == 204 || status == 206 {
		return false
	}
	if bodyLen >= 0 && bodyLen < c.MinLength {
		return false
	}
	var ctype []byte
	for rest := head; len(rest) > 0; {
		i := bytes.Index(rest, crlf)
		if i < 0 {
			break
		}
		line := rest[:i]
		rest = rest[i+2:]
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue // the status line
		}
		name := line[:colon]
		switch {
		case httpcodec.EqualFold(name, "Content-Encoding"), httpcodec.EqualFold(name, "Content-Range"):
			return false
		case httpcodec.EqualFold(name, "Content-Type"):
			ctype = bytes.TrimSpace(line[colon+1:])
		case httpcodec.EqualFold(name, "Cache-Control") && httpcodec.ListHas(line[colon+1:], "no-transform"):
			return false // RFC 9110 section 7.7: an intermediary leaves it as is
		}
	}
	return c.typeListed(ctype)
}

// typeListed reports whether a Content-Type's media type is one of Types.
func (c *DynCompress) typeListed(ctype []byte) bool {
	if i := bytes.IndexByte(ctype, ';'); i >= 0 {
		ctype = ctype[:i]
	}
	ctype = bytes.TrimSpace(ctype)
	if len(ctype) == 0 {
		return false
	}
	for _, t := range c.Types {
		if prefix, ok := strings.CutSuffix(t, "*"); ok {
			if len(ctype) >= len(prefix) && httpcodec.EqualFold(ctype[:len(prefix)], prefix) {
				return true
			}
		} else if httpcodec.EqualFold(ctype, t) {
			return true
		}
	}
	return false
}

// Dynamic responses are compressed once per response, not once per file
// as the static variants are (which pay for the best ratio): the default
// levels give most of the gain for a fraction of the CPU (gzip -6 on a
// 28 KB WordPress page: well under a millisecond). The zstd window is kept
// small so a pooled encoder holds a few hundred KiB, not the 8 MiB of the
// default.
const (
	dynGzipLevel   = gzip.DefaultCompression
	dynZstdWindow  = 1 << 18
	dynOutInitSize = 4 << 10
)

// StreamEncoder compresses one response as its body streams: each Write
// returns what the coding produced for the bytes so far, flushed so the
// client can decode all of it now. Encoders are pooled per coding
// (AcquireEncoder, Release): no encoder state is allocated per response.
type StreamEncoder struct {
	coding Coding
	gz     *gzip.Writer
	zs     *zstd.Encoder
	out    sliceWriter
}

// sliceWriter collects an encoder's output.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var encoderPools = [...]sync.Pool{
	CodingGzip: {New: func() any {
		e := &StreamEncoder{coding: CodingGzip}
		e.gz, _ = gzip.NewWriterLevel(&e.out, dynGzipLevel) // the level is valid
		e.out.b = make([]byte, 0, dynOutInitSize)
		return e
	}},
	CodingZstd: {New: func() any {
		e := &StreamEncoder{coding: CodingZstd}
		e.zs, _ = zstd.NewWriter(&e.out, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(dynZstdWindow),
			zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithLowerEncoderMem(true))
		e.out.b = make([]byte, 0, dynOutInitSize)
		return e
	}},
}

// AcquireEncoder returns a pooled encoder for c (gzip or zstd), ready for
// a new response.
func AcquireEncoder(c Coding) *StreamEncoder {
	e := encoderPools[c].Get().(*StreamEncoder)
	switch c {
	case CodingGzip:
		e.gz.Reset(&e.out)
	case CodingZstd:
		e.zs.Reset(&e.out)
	}
	return e
}

// Coding is the encoder's coding.
func (e *StreamEncoder) Coding() Coding { return e.coding }

// Write compresses p and flushes: the result, valid until the next call,
// decodes to everything written so far. Writes to memory cannot fail.
func (e *StreamEncoder) Write(p []byte) []byte {
	e.out.b = e.out.b[:0]
	w := e.coder()
	w.Write(p)
	w.Flush()
	return e.out.b
}

// codingWriter is what gzip.Writer and zstd.Encoder both are.
type codingWriter interface {
	Write(p []byte) (int, error)
	Flush() error
	Close() error
}

// coder is e's encoder for its coding.
func (e *StreamEncoder) coder() codingWriter {
	if e.coding == CodingGzip {
		return e.gz
	}
	return e.zs
}

// Close ends the stream: the result, valid until Release, is its last
// bytes (the coding's trailer).
func (e *StreamEncoder) Close() []byte {
	e.out.b = e.out.b[:0]
	e.coder().Close()
	return e.out.b
}

// maxPooledOut bounds the output buffer an encoder keeps in the pool.
const maxPooledOut = 256 << 10

// Release puts the encoder back in its pool; e must not be used after.
func (e *StreamEncoder) Release() {
	if cap(e.out.b) > maxPooledOut {
		e.out.b = make([]byte, 0, dynOutInitSize)
	}
	e.out.b = e.out.b[:0]
	encoderPools[e.coding].Put(e)
}

// Whole compresses a complete body: the result, valid until Release, is
// the whole encoded stream.
func (e *StreamEncoder) Whole(p []byte) []byte {
	e.out.b = e.out.b[:0]
	w := e.coder()
	w.Write(p)
	w.Close()
	return e.out.b
}

// AppendCoding appends the fields of a compressed response to head (a
// response head's status line and fields, as forwarded): Content-Encoding
// and Vary, with a strong ETag made weak (the compressed bytes are another
// representation: RFC 9110 section 8.8.1; nginx does the same).
func AppendCoding(head []byte, c Coding) []byte {
	if i := etagValue(head); i >= 0 {
		head = append(head, "W/"...)
		copy(head[i+2:], head[i:len(head)-2])
		copy(head[i:], "W/")
	}
	head = append(head, "Content-Encoding: "...)
	head = append(head, encName[c]...)
	return append(head, "\r\nVary: Accept-Encoding\r\n"...)
}

// etagValue returns the offset of a strong ETag's value in head, or -1.
func etagValue(head []byte) int {
	for off := 0; off < len(head); {
		i := bytes.Index(head[off:], crlf)
		if i < 0 {
			return -1
		}
		line := head[off : off+i]
		if len(line) > 5 && line[4] == ':' && httpcodec.EqualFold(line[:4], "ETag") {
			v := 5
			for v < len(line) && (line[v] == ' ' || line[v] == '\t') {
				v++
			}
			if v < len(line) && line[v] == '"' {
				return off + v
			}
			return -1
		}
		off += i + 2
	}
	return -1
}
