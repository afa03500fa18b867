package httpcodec

// Parser parses request heads. It holds no per-request state and may be
// shared by every connection of an event loop.
type Parser struct {
	// Limits bounds what is accepted; the zero value means DefaultLimits.
	Limits Limits
}

// Parse parses the request head at the start of buf into r.
//
// On success n is the length of the head through its blank line; the body,
// if any (r.HasBody), starts at buf[n] and is not consumed. With pipelining
// the next request follows the body: parse buf[n+bodyLen:] next.
//
// ErrNeedMore means buf holds a valid but incomplete head. Parse keeps no
// state between calls: read more bytes, and call Parse again on the whole,
// longer buffer (the same prefix plus the new bytes). Every decision Parse
// makes depends only on the bytes before it, so a prefix of a request either
// gives ErrNeedMore or exactly the result of the complete request; an error
// is reported as soon as the bytes that cause it arrive, including a request
// line longer than MaxRequestLine (414) or field lines beyond MaxHeaderBytes
// (431) whose end has not arrived yet.
//
// Any other error is an *Error from errors.go: answer its Status and close.
func (p *Parser) Parse(buf []byte, r *Request) (n int, err error) {
	r.reset()
	lim := p.Limits.orDefault()
	i, err := parseRequestLine(buf, r, lim.MaxRequestLine)
	if err != nil {
		return 0, err
	}
	if err := parseTarget(r); err != nil {
		return 0, err
	}
	var st headState
	n, err = parseFields(buf, i, r, lim, &st)
	if err != nil {
		return 0, err
	}
	if err := st.finish(r, lim); err != nil {
		return 0, err
	}
	return n, nil
}

// parseRequestLine parses method SP request-target SP HTTP-version CRLF
// (RFC 9112 section 3) and returns the index after its CRLF. Exactly one SP
// separates the parts: RFC 9112 section 3 lets a recipient split on any
// whitespace, but lenient splitting is a classic source of disagreement
// between a proxy and gale, so gale is strict.
func parseRequestLine(buf []byte, r *Request, max int) (int, error) {
	w, more := window(buf, 0, max, ErrURITooLong)
	i := 0
	// RFC 9112 section 2.2: a server SHOULD ignore at least one empty line
	// (CRLF) before the request-line. They count towards MaxRequestLine,
	// which bounds how many a client can send.
	for i+1 < len(w) && w[i] == '\r' && w[i+1] == '\n' {
		i += 2
	}
	m := i
	for i < len(w) && tchar[w[i]] {
		i++
	}
	if i == len(w) {
		return 0, more
	}
	if w[i] != ' ' || i == m {
		if i == m && w[i] == '\r' && i+1 == len(w) {
			return 0, more // perhaps an empty line's CR
		}
		return 0, lineStartError(w, m)
	}
	r.MethodName = w[m:i]
	r.Method = methodOf(r.MethodName)
	i++
	t := i
	for i < len(w) && targetChar[w[i]] {
		i++
	}
	if i == len(w) {
		return 0, more
	}
	if w[i] != ' ' || i == t {
		return 0, ErrTarget
	}
	r.RawTarget = w[t:i]
	i++
	return parseVersion(w[i:], i, r, more)
}

// lineStartError classifies a request line that is not method SP: a lone
// CR or LF where a request (or an empty line) should start is a framing
// error, anything else a bad method.
func lineStartError(w []byte, m int) error {
	if m < len(w) {
		switch w[m] {
		case '\n':
			return ErrBareLF
		case '\r':
			return ErrBareCR
		}
	}
	return ErrMethod
}

// window returns buf[start:] clipped to max bytes, and the error to give
// when a scan runs off its end: ErrNeedMore if more bytes could still
// complete it, tooLong if the limit clipped it.
func window(buf []byte, start, max int, tooLong error) ([]byte, error) {
	if len(buf)-start > max {
		return buf[:start+max], tooLong
	}
	return buf, ErrNeedMore
}

// parseVersion checks "HTTP/" DIGIT "." DIGIT CRLF (RFC 9112 section 2.3)
// at v, which starts at index off of the request line, and returns the index
// after the CRLF. HTTP-name is case-sensitive.
func parseVersion(v []byte, off int, r *Request, more error) (int, error) {
	if len(v) >= 10 && string(v[:5]) == "HTTP/" && isDigit(v[5]) && v[6] == '.' &&
		isDigit(v[7]) && v[8] == '\r' && v[9] == '\n' {
		return off + 10, setVersion(r, v[5]-'0', v[7]-'0')
	}
	for k := 0; k < len(v) && k < 10; k++ {
		if err := versionByte(k, v[k]); err != nil {
			return 0, err
		}
	}
	return 0, more // a valid prefix of a version
}

func versionByte(k int, c byte) error {
	switch {
	case k < 5:
		if c != "HTTP/"[k] {
			return ErrVersion
		}
	case k == 5 || k == 7:
		if !isDigit(c) {
			return ErrVersion
		}
	case k == 6:
		if c != '.' {
			return ErrVersion
		}
	case k == 8:
		if c == '\n' {
			return ErrBareLF
		}
		// "HTTP/1.32", "HTTP/1.1 ": a version is exactly one digit each.
		if c != '\r' {
			return ErrVersion
		}
	case k == 9:
		if c != '\n' {
			return ErrBareCR
		}
	}
	return nil
}

// setVersion accepts HTTP/1.0 and HTTP/1.1. A later 1.x is served as 1.1:
// RFC 9110 section 2.5 says a higher minor version is backwards compatible
// and section 6.2 that the server answers with the highest 1.x it speaks.
// Any other major version (0.9, 2.0, 3.0) gets 505.
func setVersion(r *Request, major, minor byte) error {
	if major != 1 {
		return ErrVersionNotSupp
	}
	if minor > 1 {
		minor = 1
	}
	r.Major, r.Minor = 1, minor
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// methodOf identifies the standard methods; they are case-sensitive
// (RFC 9110 section 9.1).
func methodOf(m []byte) Method {
	switch len(m) {
	case 3:
		switch string(m) {
		case "GET":
			return MethodGet
		case "PUT":
			return MethodPut
		}
	case 4:
		switch string(m) {
		case "HEAD":
			return MethodHead
		case "POST":
			return MethodPost
		}
	case 5:
		switch string(m) {
		case "PATCH":
			return MethodPatch
		case "TRACE":
			return MethodTrace
		}
	case 6:
		if string(m) == "DELETE" {
			return MethodDelete
		}
	case 7:
		switch string(m) {
		case "OPTIONS":
			return MethodOptions
		case "CONNECT":
			return MethodConnect
		}
	}
	return MethodOther
}
