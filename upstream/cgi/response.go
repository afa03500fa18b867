package cgi

import (
	"bytes"
	"errors"

	"github.com/gale-http/gale/httpcodec"
)

// ErrNeedMore means the bytes fed so far hold only part of the head: keep
// feeding.
var ErrNeedMore = httpcodec.ErrNeedMore

// Errors from the response parser. All mean the application sent a
// response gale cannot forward: the engine answers 502.
var (
	ErrHeadTooLarge  = errors.New("cgi: response head exceeds 64 KiB")
	ErrBadHeaderLine = errors.New("cgi: malformed response header line")
	ErrBadStatus     = errors.New("cgi: malformed Status header")
	ErrBadLength     = errors.New("cgi: malformed or conflicting Content-Length")
	// ErrNPHCoding: a non-parsed-header response with a Transfer-Encoding
	// (its body is framed for the script's own connection, which gale
	// does not pass through).
	ErrNPHCoding = errors.New("cgi: non-parsed-header response with Transfer-Encoding")
)

// MaxHeadSize bounds the CGI response head; a longer one is ErrHeadTooLarge.
const MaxHeadSize = 64 << 10

// field is one kept header line, as offsets into ResponseParser.buf (which
// may move while it grows).
type field struct {
	name, value span
	drop        bool // consumed by gale or hop-by-hop: not forwarded
}

// span is a half-open byte range of ResponseParser.buf.
type span struct{ off, end int32 }

// StatusCode returns Status. With Length, LocalRedirect, NoBuffering,
// AccelRedirect and AppendHead it makes ResponseParser an
// upstream.ResponseHead (asserted there: this package imports nothing of
// upstream's).
func (p *ResponseParser) StatusCode() int { return p.Status }

// Length returns ContentLength.
func (p *ResponseParser) Length() int64 { return p.ContentLength }

// LocalRedirect returns the Location of a local redirect, else nil.
func (p *ResponseParser) LocalRedirect() []byte {
	if !p.Local {
		return nil
	}
	return p.Location()
}

// NoBuffering reports "X-Accel-Buffering: no", or a text/event-stream
// body (Server-Sent Events are useless held back) without
// "X-Accel-Buffering: yes", as httpcodec's parser does for HTTP.
func (p *ResponseParser) NoBuffering() bool { return p.NoBuffer || p.sse && !p.bufferYes }

// ResponseParser parses the CGI response head (RFC 3875 section 6) at the
// start of a request's FCGI_STDOUT stream, incrementally: feed it each
// STDOUT chunk until Feed returns nil; whatever follows the head in that
// chunk is the first part of the body. Lines may end in CRLF or bare LF.
//
// The head is copied into the parser, so results stay valid after the
// chunks are gone, until Reset. A zero ResponseParser is ready to use.
type ResponseParser struct {
	// Status is the response status: from the Status header, else 302 with
	// a Location, else 200.
	Status int
	// ContentLength is the application's Content-Length, or -1.
	ContentLength int64
	// Local is set for a Location that is a local path ("/x") without a
	// Status header: a CGI local redirect (RFC 3875 section 6.2.2), which
	// the handler may serve internally instead of as a 302.
	Local bool
	// NoBuffer is set by "X-Accel-Buffering: no".
	NoBuffer bool

	buf      []byte
	fields   []field
	line     int // start of the line being collected in buf
	reason   span
	location span
	accel    span
	done     bool
	hasCL    bool
	explicit bool // a Status header or a status line was seen
	nph      bool // the head began with a status line
	coded    bool // a Transfer-Encoding was seen
	// sse: the Content-Type is text/event-stream; bufferYes: the
	// application said X-Accel-Buffering: yes (see NoBuffering).
	sse, bufferYes bool
}

// Reset prepares p for the next response, keeping its storage unless the
// last head was unusually large.
func (p *ResponseParser) Reset() {
	buf, fields := p.buf[:0], p.fields[:0]
	if cap(buf) > 16<<10 {
		buf = nil
	}
	*p = ResponseParser{buf: buf, fields: fields}
}

// Done reports whether the head is complete.
func (p *ResponseParser) Done() bool { return p.done }

// Feed consumes head bytes from b. It returns ErrNeedMore when b ended
// inside the head (all of b was consumed), nil when the head is complete
// (b[n:] is body), or a parse error: then the response cannot be forwarded
// and the reactor answers 502. Feed after completion consumes nothing.
func (p *ResponseParser) Feed(b []byte) (n int, err error) {
	if p.done {
		return 0, nil
	}
	for n < len(b) {
		i := bytes.IndexByte(b[n:], '\n')
		end := len(b)
		if i >= 0 {
			end = n + i + 1
		}
		if len(p.buf)+end-n > MaxHeadSize {
			return n, ErrHeadTooLarge
		}
		p.buf = append(p.buf, b[n:end]...)
		n = end
		if i < 0 {
			break
		}
		if err := p.parseLine(); err != nil {
			return n, err
		}
		if p.done {
			return n, nil
		}
	}
	return n, ErrNeedMore
}

// parseLine parses the complete line buf[line:], which ends in '\n'.
func (p *ResponseParser) parseLine() error {
	start, end := p.line, len(p.buf)-1
	p.line = len(p.buf)
	if end > start && p.buf[end-1] == '\r' {
		end--
	}
	if end == start {
		return p.finish()
	}
	line := p.buf[start:end]
	if start == 0 && bytes.HasPrefix(line, httpSlash1) {
		return p.parseStatusLine(end)
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return ErrBadHeaderLine
	}
	v0, v1 := colon+1, len(line)
	for v0 < v1 && (line[v0] == ' ' || line[v0] == '\t') {
		v0++
	}
	for v1 > v0 && (line[v1-1] == ' ' || line[v1-1] == '\t') {
		v1--
	}
	if !isFieldValue(line[v0:v1]) {
		return ErrBadHeaderLine
	}
	f := field{
		name:  span{int32(start), int32(start + colon)},
		value: span{int32(start + v0), int32(start + v1)},
	}
	return p.classify(f)
}

// classify interprets the headers gale acts on and decides which are
// forwarded. Date and Server are dropped because the reactor writes its
// own; hop-by-hop headers because they describe the app's connection, not
// the client's; framing because the reactor frames the body itself.
func (p *ResponseParser) classify(f field) error {
	name, value := p.bytes(f.name), p.bytes(f.value)
	switch {
	case equalFold(name, "Status"):
		p.explicit = true
		return p.parseStatus(f.value)
	case equalFold(name, "Location"):
		p.location = f.value
	case equalFold(name, "Content-Length"):
		f.drop = true
		if err := p.parseContentLength(value); err != nil {
			return err
		}
	case equalFold(name, "X-Accel-Redirect"):
		p.accel = f.value
		f.drop = true
	case equalFold(name, "X-Accel-Buffering"):
		p.NoBuffer = equalFold(value, "no")
		p.bufferYes = equalFold(value, "yes")
		f.drop = true
	case equalFold(name, "Content-Type"):
		p.sse = isEventStream(value)
	case equalFold(name, "Transfer-Encoding"):
		p.coded = true
		f.drop = true
	case equalFold(name, "Connection"), equalFold(name, "Keep-Alive"),
		equalFold(name, "Proxy-Connection"),
		equalFold(name, "Upgrade"), equalFold(name, "Trailer"), equalFold(name, "TE"),
		equalFold(name, "Date"), equalFold(name, "Server"):
		f.drop = true
	}
	p.fields = append(p.fields, f)
	return nil
}

var httpSlash1 = []byte("HTTP/1.")

// isEventStream reports whether a Content-Type is text/event-stream, with
// or without parameters.
func isEventStream(ct []byte) bool {
	const sse = "text/event-stream"
	return len(ct) >= len(sse) && equalFold(ct[:len(sse)], sse) &&
		(len(ct) == len(sse) || ct[len(sse)] == ';' || ct[len(sse)] == ' ' || ct[len(sse)] == '\t')
}

// parseStatusLine parses the status line that starts a non-parsed-header
// response ("HTTP/1.1 200 OK": an nph- CGI script, uWSGI's
// --scgi-nph-socket), buf[:end], as lighttpd detects it. The head is
// then read as any other; the body is streamed as it comes, which is what
// a script that writes its own status line expects.
func (p *ResponseParser) parseStatusLine(end int) error {
	const prefix = len("HTTP/1.x ")
	if end < prefix+3 || p.buf[prefix-1] != ' ' || p.buf[prefix-2] < '0' || p.buf[prefix-2] > '9' {
		return ErrBadStatus
	}
	p.explicit, p.nph, p.NoBuffer = true, true, true
	return p.parseStatus(span{int32(prefix), int32(end)})
}

// parseStatus parses "404" or "404 Not Found".
func (p *ResponseParser) parseStatus(s span) error {
	v := p.bytes(s)
	if len(v) < 3 || (len(v) > 3 && v[3] != ' ') {
		return ErrBadStatus
	}
	code := 0
	for _, c := range v[:3] {
		if c < '0' || c > '9' {
			return ErrBadStatus
		}
		code = code*10 + int(c-'0')
	}
	// 1xx cannot end a CGI response, and a 101 would hand the client
	// connection to the application.
	if code < 200 {
		return ErrBadStatus
	}
	p.Status = code
	p.reason = span{}
	if len(v) > 4 {
		p.reason = span{s.off + 4, s.end}
	}
	return nil
}

// parseContentLength accepts repeats of one value only (RFC 9110 8.6).
func (p *ResponseParser) parseContentLength(v []byte) error {
	if len(v) == 0 || len(v) > 18 {
		return ErrBadLength
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return ErrBadLength
		}
		n = n*10 + int64(c-'0')
	}
	if p.hasCL && n != p.ContentLength {
		return ErrBadLength
	}
	p.hasCL, p.ContentLength = true, n
	return nil
}

// finish applies the CGI defaults once the blank line arrived.
func (p *ResponseParser) finish() error {
	p.done = true
	if !p.hasCL {
		p.ContentLength = -1
	}
	if p.nph && p.coded {
		return ErrNPHCoding
	}
	if p.explicit {
		return nil
	}
	p.Status = 200
	if loc := p.bytes(p.location); len(loc) > 0 {
		p.Status = 302
		// "//host/x" is a network-path reference, not a local path.
		p.Local = loc[0] == '/' && (len(loc) == 1 || loc[1] != '/')
	}
	return nil
}

// bytes returns the bytes of s.
func (p *ResponseParser) bytes(s span) []byte { return p.buf[s.off:s.end:s.end] }

// Location returns the Location header value, or nil.
func (p *ResponseParser) Location() []byte { return p.get(p.location) }

// AccelRedirect returns the X-Accel-Redirect value (a URI the handler
// serves internally, typically a protected static file), or nil.
func (p *ResponseParser) AccelRedirect() []byte { return p.get(p.accel) }

// get returns the bytes of s, or nil for an unset span.
func (p *ResponseParser) get(s span) []byte {
	if s.end == 0 {
		return nil
	}
	return p.bytes(s)
}

// Get returns the value of the first header called name, or nil.
func (p *ResponseParser) Get(name string) []byte {
	for _, f := range p.fields {
		if equalFold(p.bytes(f.name), name) {
			return p.bytes(f.value)
		}
	}
	return nil
}

// AppendHead appends the status line and the forwarded header lines, each
// ending in CRLF, in the application's order (so every Set-Cookie stays).
// Status, X-Accel-*, Content-Length, Date, Server and hop-by-hop headers
// are left out: the reactor adds Date, Server, the framing and Connection,
// then the blank line. Valid once Done.
func (p *ResponseParser) AppendHead(dst []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = appendStatus(dst, p.Status)
	dst = append(dst, ' ')
	if p.reason.end != 0 {
		dst = append(dst, p.bytes(p.reason)...)
	} else {
		dst = append(dst, httpcodec.StatusText(p.Status)...)
	}
	dst = append(dst, "\r\n"...)
	for _, f := range p.fields {
		if f.drop {
			continue
		}
		dst = append(dst, p.bytes(f.name)...)
		dst = append(dst, ": "...)
		dst = append(dst, p.bytes(f.value)...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// appendStatus appends a three-digit code.
func appendStatus(dst []byte, code int) []byte {
	return append(dst, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10))
}

// isToken reports whether b is an RFC 9110 token (a valid field name).
func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenTable[c] {
			return false
		}
	}
	return len(b) > 0
}

// isFieldValue rejects control bytes other than HTAB: a CR or NUL in a
// value forwarded to the client would split or corrupt the response.
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// tokenTable marks the tchar bytes of RFC 9110 section 5.6.2.
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
