package httpcodec

// ChunkedDecoder decodes a chunked request body (RFC 9112 section 7.1)
// incrementally: it keeps its position between calls, so the body may arrive
// split at any byte. Chunk extensions are checked and skipped, trailer
// fields are checked and discarded (gale passes none on).
//
// The zero value is not ready: call Reset first, and again for every body.
type ChunkedDecoder struct {
	state      chunkState
	ext        extState
	size       uint64 // size of the current chunk (while reading its line)
	left       uint64 // data bytes left in the current chunk
	total      int64  // data bytes so far
	extLen     int    // chunk-ext bytes of the current size line
	trailerLen int    // trailer section bytes so far
	maxBody    int64
	maxExt     int
	maxTrailer int
	err        error
}

type chunkState uint8

const (
	csSize         chunkState = iota // at a chunk-size's first digit
	csSizeDigits                     // after at least one digit
	csExt                            // in chunk-ext, sub-state in ext
	csSizeLF                         // after the CR of a chunk-size line
	csData                           // in chunk-data
	csDataCR                         // after chunk-data, expecting CR
	csDataLF                         // expecting the LF of that CRLF
	csTrailerLine                    // at a trailer line or the final CRLF
	csTrailerName                    // in a trailer field name
	csTrailerValue                   // in a trailer field value
	csTrailerLF                      // after the CR of a trailer line
	csEndLF                          // after the CR of the final blank line
	csDone
)

// Reset prepares d for a new body under the limits l (nil means
// DefaultLimits).
func (d *ChunkedDecoder) Reset(l *Limits) {
	lim := l.orDefault()
	*d = ChunkedDecoder{maxBody: lim.MaxBody, maxExt: lim.MaxChunkExt, maxTrailer: lim.MaxTrailerBytes}
}

// Decode consumes bytes from the start of src and returns how many it
// consumed and at most one run of body data, a view into src (valid as long
// as src is). Call it again on src[n:] while n > 0: a call ends after each
// run of data, at the end of the body (Done) or at the end of src. Bytes
// after the body (a pipelined request) are never consumed.
//
// After an error the body's framing is lost: answer StatusOf(err) and close
// the connection. Every later call returns the same error.
func (d *ChunkedDecoder) Decode(src []byte) (n int, data []byte, err error) {
	if d.err != nil {
		return 0, nil, d.err
	}
	for n < len(src) {
		switch d.state {
		case csData:
			k := d.left
			if avail := uint64(len(src) - n); k > avail {
				k = avail
			}
			data = src[n : n+int(k)]
			n += int(k)
			if d.left -= k; d.left == 0 {
				d.state = csDataCR
			}
			return n, data, nil
		case csDone:
			return n, nil, nil
		}
		if err := d.step(src[n]); err != nil {
			d.err = err
			return n, nil, err
		}
		n++
	}
	return n, nil, nil
}

// Done reports whether the last chunk and the trailer section have been
// decoded.
func (d *ChunkedDecoder) Done() bool { return d.state == csDone }

// Size returns the number of body bytes decoded so far.
func (d *ChunkedDecoder) Size() int64 { return d.total }

// step advances the state machine by one byte outside chunk-data.
func (d *ChunkedDecoder) step(c byte) error {
	switch d.state {
	case csSize, csSizeDigits:
		return d.sizeByte(c)
	case csExt:
		return d.extByte(c)
	case csSizeLF:
		return d.sizeLF(c)
	case csDataCR:
		if c != '\r' {
			return ErrChunkData
		}
		d.state = csDataLF
	case csDataLF:
		if c != '\n' {
			return ErrChunkData
		}
		d.state = csSize
	default:
		return d.trailerByte(c)
	}
	return nil
}

// sizeByte reads chunk-size = 1*HEXDIG: no sign, no "0x", no whitespace
// before it, and no value above 2^60 (far beyond any MaxBody).
func (d *ChunkedDecoder) sizeByte(c byte) error {
	if v := hexVal[c]; v >= 0 {
		if d.size > 1<<60>>4 {
			return ErrChunkSize
		}
		d.size = d.size<<4 | uint64(v)
		d.state = csSizeDigits
		return nil
	}
	if d.state == csSize {
		return ErrChunkSize // empty or non-hex size
	}
	if d.total+int64(d.size) > d.maxBody {
		return ErrBodyTooLarge
	}
	switch c {
	case '\r':
		d.state = csSizeLF
		return nil
	case ';', ' ', '\t':
		d.state, d.ext, d.extLen = csExt, extBWS, 0
		return d.extByte(c)
	case '\n':
		return ErrBareLF
	}
	return ErrChunkSize
}

func (d *ChunkedDecoder) sizeLF(c byte) error {
	if c != '\n' {
		return ErrBareCR
	}
	if d.size == 0 {
		d.state = csTrailerLine
		return nil
	}
	d.left, d.total, d.size = d.size, d.total+int64(d.size), 0
	d.state = csData
	return nil
}
