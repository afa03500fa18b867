package httpcodec

// headState collects what the indexed headers mean while the field lines
// are scanned; finish turns it into the Request's framing and persistence.
type headState struct {
	host       bool // a Host field was seen
	cl         bool // a Content-Length field was seen
	te         bool // a Transfer-Encoding field was seen
	chunked    bool // its final coding is chunked
	unknownTE  bool // it names a coding other than chunked
	connClose  bool
	connKeep   bool
	badExpect  bool
	contentLen int64
}

// known applies the meaning of one indexed field line. The first occurrence
// of each indexed header is the one Get returns.
// pos is the field's index in Headers plus one.
func (st *headState) known(r *Request, id HeaderID, pos int, v []byte) error {
	if r.known[id] == 0 && pos <= 0xffff {
		r.known[id] = uint16(pos)
	}
	switch id {
	case HdrHost:
		return st.hostField(r, v)
	case HdrContentLength:
		return st.contentLength(v)
	case HdrTransferEncoding:
		return st.transferEncoding(v)
	case HdrConnection:
		st.connection(v)
	case HdrExpect:
		// RFC 9110 section 10.1.1: 100-continue is the only expectation
		// defined; others MAY get 417. Case-insensitive.
		if eqFoldLower(v, "100-continue") {
			r.Expect100 = true
		} else {
			st.badExpect = true
		}
	}
	return nil
}

// hostField: RFC 9112 section 3.2: MUST 400 for more than one Host field or
// an invalid value. An absolute-form target's authority replaces the field.
func (st *headState) hostField(r *Request, v []byte) error {
	if st.host {
		return ErrMultipleHost
	}
	st.host = true
	if !validHost(v) {
		return ErrHost
	}
	if r.Form != FormAbsolute {
		r.Host = v
	}
	return nil
}

// contentLength: Content-Length = 1*DIGIT (RFC 9110 section 8.6). A second
// field is rejected even when identical, and so is a list ("5, 5"): section
// 8.6 lets a recipient collapse identical values, but a strict server never
// has to guess which value a proxy before it used (RFC 9112 section 6.3).
func (st *headState) contentLength(v []byte) error {
	if st.cl {
		return ErrMultipleCL
	}
	st.cl = true
	n, ok := parseLength(v)
	if !ok {
		return ErrContentLength
	}
	st.contentLen = n
	return nil
}

// parseLength parses 1*DIGIT, refusing a value that overflows int64.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) || n > (1<<63-1-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// transferEncoding parses one Transfer-Encoding field as a list of codings
// (RFC 9112 section 6.1; several fields form one list). chunked must be the
// final coding and appear once (RFC 9112 section 7: a sender MUST NOT apply
// chunked twice, and a request whose final coding is not chunked has no
// reliable length, section 6.3: 400). Empty list elements are ignored
// (RFC 9110 section 5.6.1).
func (st *headState) transferEncoding(v []byte) error {
	st.te = true
	for len(v) > 0 {
		var e []byte
		e, v = nextElement(v)
		if len(e) == 0 {
			continue
		}
		isChunked := eqFoldLower(e, "chunked")
		switch {
		case st.chunked && isChunked:
			return ErrChunkedTwice
		case st.chunked:
			return ErrChunkedNotLast
		case isChunked:
			st.chunked = true
		case !validCoding(e):
			return ErrTE
		default:
			st.unknownTE = true
		}
	}
	return nil
}

// validCoding checks transfer-coding = token *( OWS ";" OWS
// transfer-parameter ) loosely: a token, then nothing or parameters.
func validCoding(e []byte) bool {
	i := 0
	for i < len(e) && tchar[e[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(e) && (e[i] == ' ' || e[i] == '\t') {
		i++
	}
	return i == len(e) || e[i] == ';'
}

// connection reads the connection options (RFC 9112 section 9.3,
// RFC 9110 section 7.6.1); options other than close and keep-alive are
// ignored.
func (st *headState) connection(v []byte) {
	switch { // the usual single option, without splitting a list
	case eqFoldLower(v, "keep-alive"):
		st.connKeep = true
		return
	case eqFoldLower(v, "close"):
		st.connClose = true
		return
	}
	for len(v) > 0 {
		var e []byte
		e, v = nextElement(v)
		switch {
		case eqFoldLower(e, "close"):
			st.connClose = true
		case eqFoldLower(e, "keep-alive"):
			st.connKeep = true
		}
	}
}

// ListHas reports whether the comma-separated list v (RFC 9110 section
// 5.6.1) has an element equal to tok ignoring ASCII case.
func ListHas[T string | []byte](v []byte, tok T) bool {
	for len(v) > 0 {
		var e []byte
		e, v = nextElement(v)
		if eqFold(e, tok) {
			return true
		}
	}
	return false
}

// nextElement splits the first comma-separated element off a list value and
// trims its optional whitespace.
func nextElement(v []byte) (elem, rest []byte) {
	i := 0
	for i < len(v) && v[i] != ',' {
		i++
	}
	elem, rest = v[:i], v[i:]
	if len(rest) > 0 {
		rest = rest[1:]
	}
	for len(elem) > 0 && (elem[0] == ' ' || elem[0] == '\t') {
		elem = elem[1:]
	}
	for len(elem) > 0 && (elem[len(elem)-1] == ' ' || elem[len(elem)-1] == '\t') {
		elem = elem[:len(elem)-1]
	}
	return elem, rest
}

// finish applies the rules that need the whole head, in a fixed order so
// that the answer never depends on field order: framing first (smuggling
// vectors), then Host, then limits and expectations.
func (st *headState) finish(r *Request, lim *Limits) error {
	r.ContentLength = st.contentLen
	if st.te {
		switch {
		case r.Minor == 0:
			// RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 means
			// faulty framing; the connection must close.
			return ErrTEHTTP10
		case st.cl:
			// RFC 9112 section 6.1: a server MAY reject a request with
			// both, and must close after it otherwise. gale rejects.
			return ErrCLAndTE
		case st.unknownTE:
			// RFC 9112 section 6.1: SHOULD 501 for a coding not understood.
			return ErrTransferCoding
		case !st.chunked:
			return ErrTE // only empty elements
		}
		r.Chunked = true
		r.ContentLength = -1
	}
	if r.Minor == 1 && !st.host {
		return ErrMissingHost
	}
	if r.ContentLength > lim.MaxBody {
		return ErrBodyTooLarge
	}
	if st.badExpect {
		return ErrExpectation
	}
	if r.Minor == 0 {
		// RFC 9110 section 10.1.1: ignore 100-continue from HTTP/1.0.
		r.Expect100 = false
		r.KeepAlive = st.connKeep && !st.connClose
	} else {
		r.KeepAlive = !st.connClose
	}
	return nil
}
