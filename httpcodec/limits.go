package httpcodec

// Limits bounds what the parser and the chunked decoder accept from a client.
// Every bound is checked as the bytes arrive, so a client can never make gale
// buffer more than these sizes while waiting for a head to complete.
type Limits struct {
	// MaxRequestLine bounds the request line including its CRLF (and any
	// empty lines before it); longer gives 414.
	MaxRequestLine int
	// MaxHeaderBytes bounds the field lines after the request line, including
	// the blank line that ends them; more gives 431.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of field lines; more gives 431.
	MaxHeaders int
	// MaxBody bounds a Content-Length or the sum of the chunk sizes; more
	// gives 413.
	MaxBody int64
	// MaxChunkExt bounds the chunk extensions of one chunk-size line (the
	// bytes between the size and the CRLF); more gives 400.
	MaxChunkExt int
	// MaxTrailerBytes bounds the trailer section of a chunked body,
	// including its final blank line; more gives 431.
	MaxTrailerBytes int
}

// DefaultLimits returns gale's defaults: an 8 KiB request line, 16 KiB and
// 100 field lines of headers, a 10 MiB body, 256 bytes of chunk extensions
// per chunk and 4 KiB of trailers.
func DefaultLimits() Limits {
	return Limits{
		MaxRequestLine:  8 << 10,
		MaxHeaderBytes:  16 << 10,
		MaxHeaders:      100,
		MaxBody:         10 << 20,
		MaxChunkExt:     256,
		MaxTrailerBytes: 4 << 10,
	}
}

// defaultLimits is DefaultLimits, shared read-only by orDefault.
var defaultLimits = DefaultLimits()

// orDefault returns l, or the defaults when l is nil or the zero value, so
// that a zero Parser or a nil *Limits behaves sensibly. The result is read
// only.
func (l *Limits) orDefault() *Limits {
	if l == nil || *l == (Limits{}) {
		return &defaultLimits
	}
	return l
}
