package httpcodec

// extState is the position inside a chunk-ext (RFC 9112 section 7.1.1):
//
//	chunk-ext     = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//	chunk-ext-val = token / quoted-string
//
// Whitespace is accepted only where BWS is: after the size or a value (then
// ';' must follow), around ';' and '='. It never precedes the CRLF.
type extState uint8

const (
	extBWS       extState = iota // before ';'
	extNameStart                 // after ';'
	extName                      // in a name
	extAfterName                 // BWS after a name
	extValStart                  // after '='
	extToken                     // in a token value
	extQuoted                    // in a quoted-string
	extQuotedEsc                 // after a backslash in a quoted-string
	extAfterVal                  // after a closing quote
)

func (d *ChunkedDecoder) extByte(c byte) error {
	if d.extLen++; d.extLen > d.maxExt && c != '\r' {
		return ErrChunkExt
	}
	ws := c == ' ' || c == '\t'
	switch d.ext {
	case extBWS:
		return d.extTo(ws, c == ';', extBWS)
	case extNameStart:
		if tchar[c] {
			d.ext = extName
			return nil
		}
		return d.extTo(ws, false, extNameStart)
	case extName, extToken, extAfterVal:
		return d.extAfterWord(c, ws)
	case extAfterName:
		if c == '=' {
			d.ext = extValStart
			return nil
		}
		return d.extTo(ws, c == ';', extAfterName)
	case extValStart:
		switch {
		case tchar[c]:
			d.ext = extToken
		case c == '"':
			d.ext = extQuoted
		case !ws:
			return ErrChunkExt
		}
		return nil
	}
	return d.extQuotedByte(c)
}

// extTo stays in state s on whitespace, moves to extNameStart on ';', and
// rejects anything else.
func (d *ChunkedDecoder) extTo(ws, semi bool, s extState) error {
	switch {
	case ws:
		d.ext = s
	case semi:
		d.ext = extNameStart
	default:
		return ErrChunkExt
	}
	return nil
}

// extAfterWord handles the byte after a name or value character.
func (d *ChunkedDecoder) extAfterWord(c byte, ws bool) error {
	if tchar[c] && d.ext != extAfterVal {
		return nil
	}
	switch {
	case c == '\r':
		d.state = csSizeLF
	case c == ';':
		d.ext = extNameStart
	case c == '=' && d.ext == extName:
		d.ext = extValStart
	case ws && d.ext == extName:
		d.ext = extAfterName
	case ws:
		d.ext = extBWS
	default:
		return ErrChunkExt
	}
	return nil
}

// extQuotedByte reads quoted-string (RFC 9110 section 5.6.4): qdtext or a
// quoted-pair, no controls but HTAB.
func (d *ChunkedDecoder) extQuotedByte(c byte) error {
	if d.ext == extQuotedEsc {
		if c != '\t' && !fieldVChar[c] {
			return ErrChunkExt
		}
		d.ext = extQuoted
		return nil
	}
	switch {
	case c == '"':
		d.ext = extAfterVal
	case c == '\\':
		d.ext = extQuotedEsc
	case c != '\t' && !fieldVChar[c]:
		return ErrChunkExt
	}
	return nil
}
