package httpcodec

import (
	"encoding/binary"
	"math/bits"
)

// parseFields parses the field lines that start at buf[start] and the blank
// line that ends them (RFC 9112 section 5), and returns the index after the
// blank line. Line ends must be CRLF: RFC 9112 section 2.2 lets a recipient
// accept a bare LF, but a proxy in front of gale that does not would see a
// different message (request smuggling), so gale answers 400.
//
// This is the hottest loop in gale, so one field line is parsed inline with
// no call on the common path; every error goes to fieldError.
func parseFields(buf []byte, start int, r *Request, lim *Limits, st *headState) (int, error) {
	w, more := window(buf, start, lim.MaxHeaderBytes, ErrHeadersTooLarge)
	hs := r.hdrs[:0]
	i := start
	for i < len(w) {
		if w[i] == '\r' && i+1 < len(w) && w[i+1] == '\n' {
			r.Headers = hs
			return i + 2, nil
		}
		if !tchar[w[i]] || len(hs) >= lim.MaxHeaders {
			break
		}
		ns := i
		for i++; i < len(w) && tchar[w[i]]; i++ {
		}
		if i == len(w) || w[i] != ':' {
			break
		}
		name := w[ns:i]
		for i++; i < len(w) && (w[i] == ' ' || w[i] == '\t'); i++ {
		}
		vs := i
		i = valueEnd(w, i)
		if i+1 >= len(w) || w[i] != '\r' || w[i+1] != '\n' {
			break
		}
		ve := i
		for ve > vs && (w[ve-1] == ' ' || w[ve-1] == '\t') {
			ve--
		}
		i += 2
		// Grow, then store the two fields in place: appending a Header
		// literal builds it on the stack with 8-byte stores and copies it
		// with 16-byte loads, a store-forwarding stall on every line.
		if len(hs) == cap(hs) {
			hs = append(hs, Header{})
		} else {
			hs = hs[:len(hs)+1]
		}
		h := &hs[len(hs)-1]
		h.Name = name
		h.Value = w[vs:ve]
		if id := headerID(name); id != HdrUnknown {
			if err := st.known(r, id, len(hs), w[vs:ve]); err != nil {
				return 0, err
			}
		}
	}
	r.Headers = hs
	return 0, fieldError(w, i, len(hs) >= lim.MaxHeaders, more)
}

// fieldError explains why parseFields stopped at w[i]: at the start of a
// line, inside a name, or at the end of a value.
func fieldError(w []byte, i int, full bool, more error) error {
	if i >= len(w) {
		return more
	}
	ls := i // back up to the start of the line
	for ls > 0 && w[ls-1] != '\n' {
		ls--
	}
	switch c := w[i]; {
	case i == ls && c == '\r':
		if i+1 == len(w) {
			return more
		}
		return ErrBareCR
	case i == ls && c == '\n':
		return ErrBareLF
	case i == ls && (c == ' ' || c == '\t'):
		// obs-fold (RFC 9112 section 5.2), or whitespace before the
		// first field line (section 2.2): gale rejects both.
		return ErrObsFold
	case i == ls && full && tchar[c]:
		return ErrTooManyHeaders
	case i == ls:
		return ErrFieldName
	}
	if colon := indexColon(w[ls:i]); colon < 0 {
		// Still in the name: it ended on a byte that is not ':'.
		if w[i] == ' ' || w[i] == '\t' {
			// RFC 9112 section 5.1: MUST reject with 400.
			return ErrSpaceColon
		}
		return ErrFieldName
	}
	// At the end of a value.
	if w[i] == '\r' && i+1 == len(w) {
		return more
	}
	return lineEnd(w, i)
}

func indexColon(b []byte) int {
	for k, c := range b {
		if c == ':' {
			return k
		}
	}
	return -1
}

// lineEnd checks that w[i], the byte that stopped a value scan, starts a
// CRLF; w[i+1] must exist when w[i] is CR.
func lineEnd(w []byte, i int) error {
	switch {
	case w[i] == '\n':
		return ErrBareLF
	case w[i] != '\r':
		// NUL, other controls and DEL (RFC 9110 section 5.5 allows
		// replacing them with SP; gale rejects).
		return ErrFieldValue
	case w[i+1] != '\n':
		return ErrBareCR
	}
	return nil
}

// valueEnd returns the index of the first byte at or after i that cannot be
// part of a field value (normally the CR ending it), or len(w). It checks
// eight bytes at a time and, on a word holding a control byte, jumps to the
// first such byte; an HTAB there is stepped over.
func valueEnd(w []byte, i int) int {
	for i+8 <= len(w) {
		if m := ctlMask(binary.LittleEndian.Uint64(w[i:])); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if w[i] != '\t' {
				return i
			}
			i++
			continue
		}
		i += 8
	}
	for i < len(w) && (fieldVChar[w[i]] || w[i] == '\t') {
		i++
	}
	return i
}
