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
func parseFields(buf []byte, start int, r *Request, lim *Limits, st *headState) (int, error) {
	w, more := window(buf, start, lim.MaxHeaderBytes, ErrHeadersTooLarge)
	for i := start; ; {
		if i >= len(w) {
			return 0, more
		}
		switch w[i] {
		case '\r':
			if i+1 == len(w) {
				return 0, more
			}
			if w[i+1] != '\n' {
				return 0, ErrBareCR
			}
			return i + 2, nil
		case '\n':
			return 0, ErrBareLF
		case ' ', '\t':
			// obs-fold (RFC 9112 section 5.2), or whitespace before the
			// first field line (section 2.2): gale rejects both.
			return 0, ErrObsFold
		}
		if len(r.Headers) >= lim.MaxHeaders {
			return 0, ErrTooManyHeaders
		}
		name, value, next, err := parseField(w, i, more)
		if err != nil {
			return 0, err
		}
		i = next
		r.Headers = append(r.Headers, Header{Name: name, Value: value})
		if id := headerID(name); id != HdrUnknown {
			if err := st.known(r, id, len(r.Headers), value); err != nil {
				return 0, err
			}
		}
	}
}

// parseField parses one field line "name: value CRLF" at w[i] and returns
// the name, the value without its surrounding whitespace, and the index
// after the CRLF.
func parseField(w []byte, i int, more error) (name, value []byte, next int, err error) {
	ns := i
	for i < len(w) && tchar[w[i]] {
		i++
	}
	if i == len(w) {
		return nil, nil, 0, more
	}
	if w[i] != ':' || i == ns {
		if i > ns && (w[i] == ' ' || w[i] == '\t') {
			// RFC 9112 section 5.1: MUST reject with 400.
			return nil, nil, 0, ErrSpaceColon
		}
		return nil, nil, 0, ErrFieldName
	}
	name = w[ns:i]
	i++
	for i < len(w) && (w[i] == ' ' || w[i] == '\t') {
		i++
	}
	vs := i
	i = valueEnd(w, i)
	if i == len(w) || (i+1 == len(w) && w[i] == '\r') {
		return nil, nil, 0, more
	}
	if err := lineEnd(w, i); err != nil {
		return nil, nil, 0, err
	}
	ve := i
	for ve > vs && (w[ve-1] == ' ' || w[ve-1] == '\t') {
		ve--
	}
	return name, w[vs:ve], i + 2, nil
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
