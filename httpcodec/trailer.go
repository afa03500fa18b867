package httpcodec

// trailerByte reads the trailer section after the last chunk (RFC 9112
// section 7.1.2) with the field-line grammar of the head: CRLF line ends,
// no obs-fold, no whitespace before the colon, no controls in values. The
// whole section, its blank line included, is bounded by MaxTrailerBytes
// (431, like a head too large: trailers are fields).
func (d *ChunkedDecoder) trailerByte(c byte) error {
	if d.trailerLen++; d.trailerLen > d.maxTrailer {
		return ErrTrailerTooLarge
	}
	switch d.state {
	case csTrailerLine:
		return d.trailerLineStart(c)
	case csTrailerName:
		switch {
		case tchar[c]:
		case c == ':':
			d.state = csTrailerValue
		default:
			return ErrTrailer
		}
	case csTrailerValue:
		switch {
		case fieldVChar[c] || c == '\t':
		case c == '\r':
			d.state = csTrailerLF
		case c == '\n':
			return ErrBareLF
		default:
			return ErrTrailer
		}
	case csTrailerLF, csEndLF:
		if c != '\n' {
			return ErrBareCR
		}
		if d.state == csEndLF {
			d.state = csDone
		} else {
			d.state = csTrailerLine
		}
	}
	return nil
}

func (d *ChunkedDecoder) trailerLineStart(c byte) error {
	switch {
	case c == '\r':
		d.state = csEndLF
	case c == '\n':
		return ErrBareLF
	case c == ' ' || c == '\t':
		return ErrObsFold
	case tchar[c]:
		d.state = csTrailerName
	default:
		return ErrTrailer
	}
	return nil
}
