package httpcodec

// MaxResponseHead bounds an upstream response head, status line and blank
// line included; a longer one is ErrRespHeadTooLarge (nginx: "upstream
// sent too big header").
const MaxResponseHead = 64 << 10

// maxInterim bounds the 1xx responses before a final one: a backend that
// sends 100 Continue forever must not hold its client forever.
const maxInterim = 8

// maxRespFields bounds the field lines of one response head.
const maxRespFields = 512

// Framing is how a response body is delimited (RFC 9112 section 6.3).
type Framing uint8

const (
	// FrameNone: no body (a HEAD request, 1xx, 204, 304).
	FrameNone Framing = iota
	// FrameLength: Content-Length bytes.
	FrameLength
	// FrameChunked: the chunked transfer coding (decode with
	// ChunkedDecoder).
	FrameChunked
	// FrameClose: the body ends when the backend closes the connection.
	FrameClose
	// FrameTunnel: 101 Switching Protocols; what follows is the new
	// protocol's, until either side closes (a tunnel, RFC 9110 section
	// 15.2.2). Only a request that asked to upgrade may get it: the
	// caller refuses it otherwise (ErrRespUpgrade).
	FrameTunnel
)

// ResponseParser parses the head of a response from an upstream HTTP/1.x
// server (RFC 9112 sections 4 to 6), as strictly as Parser parses
// requests: a proxy that frames a response differently from the client
// behind it is how response smuggling starts, so every ambiguity is an
// error (the engine answers 502 and closes the connection).
//
// Parse is incremental in the way Parser.Parse is: it keeps no position
// between calls and parses the buffer from its start each time, returning
// ErrNeedMore until the whole head is there (bounded by MaxResponseHead).
// On success the head's bytes are copied into the parser, once, so the
// accessors stay valid after the connection's buffer moves on, until the
// next Parse or Reset. The storage is kept: a warm parser allocates
// nothing.
//
// A zero ResponseParser is ready to use. It implements
// upstream.ResponseHead.
type ResponseParser struct {
	// Status is the status code (100-599).
	Status int
	// Minor is the backend's HTTP minor version (0 or 1).
	Minor uint8
	// ContentLength is the declared length, or -1.
	ContentLength int64
	// Framing says where the body ends.
	Framing Framing
	// KeepAlive: the connection may carry another request once this
	// response's body ended.
	KeepAlive bool

	buf     []byte // the head, copied
	fields  []respField
	reason  span
	accel   span
	ctype   span
	upgrade span    // the Upgrade field of a 101
	conn    [4]span // Connection field values, for the fields they name
	nconn   int
	bufMode int8 // X-Accel-Buffering: -1 no, 1 yes, 0 unset
	interim int  // 1xx responses parsed since Reset
}

// span is a half-open byte range of ResponseParser.buf.
type span struct{ off, end int32 }

// respField is one field line of the head, as spans of buf.
type respField struct {
	name, value span
	drop        bool // hop-by-hop, framing, or consumed by gale
}

// Reset prepares p for the response to another request, keeping its
// storage (unless the last head was unusually large).
func (p *ResponseParser) Reset() {
	buf, fields := p.buf[:0], p.fields[:0]
	if cap(buf) > 16<<10 {
		buf = nil
	}
	*p = ResponseParser{buf: buf, fields: fields}
}

// Interim reports whether the parsed head is an interim (1xx) response
// other than 101: a final one follows it on the wire; Parse it from after
// this one.
func (p *ResponseParser) Interim() bool { return p.Status < 200 && p.Status != 101 }

// Parse parses the response head at the start of buf; headRequest says
// the request was HEAD, whose response never has a body. It returns the
// length of the head through its blank line: the body (per Framing)
// starts at buf[n]. ErrNeedMore means the head is not complete yet; call
// again with the longer buffer. Any other error means the response cannot
// be forwarded: answer 502 and close the connection.
//
// After an interim response (Interim), call Parse again on buf[n:] for
// the next one; more than a few in a row is an error. 101 Switching
// Protocols ends the HTTP exchange (FrameTunnel).
func (p *ResponseParser) Parse(buf []byte, headRequest bool) (n int, err error) {
	interim := p.interim
	p.Reset()
	p.interim = interim
	w, more := window(buf, 0, MaxResponseHead, ErrRespHeadTooLarge)
	i, err := p.statusLine(w, more)
	if err != nil {
		return 0, err
	}
	var st headState
	n, err = p.parseFields(w, i, more, &st)
	if err != nil {
		return 0, err
	}
	if err := p.frame(&st, headRequest); err != nil {
		return 0, err
	}
	if p.Interim() {
		if p.interim++; p.interim > maxInterim {
			return 0, ErrRespInterim
		}
	}
	p.buf = append(p.buf[:0], buf[:n]...)
	p.dropConnectionListed()
	return n, nil
}

// statusLine parses HTTP-version SP status-code SP [reason-phrase] CRLF
// (RFC 9112 section 4) and returns the index after its CRLF. A status line
// without the SP before an empty reason is accepted: section 4 asks
// clients to, and Python servers have sent it.
func (p *ResponseParser) statusLine(w []byte, more error) (int, error) {
	const prefix = "HTTP/1.x NNN"
	for k := 0; k < len(w) && k < len(prefix); k++ {
		c := w[k]
		ok := false
		switch {
		case k < 5 || k == 6:
			ok = c == prefix[k]
		case k == 5:
			ok = c == '1'
		case k == 8:
			ok = c == ' '
		default: // minor version and the code's digits
			ok = isDigit(c)
		}
		if !ok {
			return 0, ErrRespStatusLine
		}
	}
	if len(w) < len(prefix) {
		return 0, more
	}
	p.Minor = min(w[7]-'0', 1)
	p.Status = int(w[9]-'0')*100 + int(w[10]-'0')*10 + int(w[11]-'0')
	if p.Status < 100 || p.Status > 599 {
		return 0, ErrRespStatusLine
	}
	i := len(prefix)
	if i < len(w) && w[i] == ' ' {
		i++
	}
	rs := i
	i = valueEnd(w, i)
	switch {
	case i+1 >= len(w):
		if i < len(w) && w[i] != '\r' {
			return 0, ErrRespStatusLine
		}
		return 0, more
	case w[i] != '\r' || w[i+1] != '\n':
		return 0, ErrRespStatusLine
	case rs == len(prefix) && i > rs:
		return 0, ErrRespStatusLine // "HTTP/1.1 200OK"
	}
	p.reason = span{int32(rs), int32(i)}
	return i + 2, nil
}

// parseFields parses the field lines from w[i] through the blank line
// with the request parser's grammar (CRLF only, no obs-fold, no space
// before the colon, no controls in values) and returns the index after
// the blank line.
func (p *ResponseParser) parseFields(w []byte, i int, more error, st *headState) (int, error) {
	for i < len(w) {
		if w[i] == '\r' && i+1 < len(w) && w[i+1] == '\n' {
			return i + 2, nil
		}
		if !tchar[w[i]] {
			break
		}
		if len(p.fields) >= maxRespFields {
			return 0, ErrRespTooManyFields
		}
		ns := i
		for i++; i < len(w) && tchar[w[i]]; i++ {
		}
		if i == len(w) || w[i] != ':' {
			break
		}
		ne := i
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
		f := respField{name: span{int32(ns), int32(ne)}, value: span{int32(vs), int32(ve)}}
		if err := p.classify(w, &f, st); err != nil {
			return 0, err
		}
		p.fields = append(p.fields, f)
	}
	return 0, fieldError(w, i, false, more)
}

// at returns the bytes of s in w.
func (s span) at(w []byte) []byte { return w[s.off:s.end:s.end] }

// ResponseLimits bounds a chunked upstream response body for
// ChunkedDecoder.Reset: no bound on the body itself (a proxied download
// may be any size; it is spooled, not held), generous ones on chunk
// extensions and trailers, which are checked and dropped.
var ResponseLimits = Limits{
	MaxRequestLine:  8 << 10,
	MaxHeaderBytes:  MaxResponseHead,
	MaxHeaders:      maxRespFields,
	MaxBody:         1 << 62,
	MaxChunkExt:     4 << 10,
	MaxTrailerBytes: MaxResponseHead,
}
