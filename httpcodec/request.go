// Package httpcodec is gale's HTTP/1.1 wire format: an incremental, strict
// request parser (RFC 9112), a chunked body decoder, target normalization,
// and the response-head writer. It has no I/O and no gnet import, so it can
// be unit-tested and fuzzed on plain byte slices.
package httpcodec

// Method identifies the request method without string comparisons on the
// hot path. MethodOther covers every other valid token; the exact bytes are
// always in Request.MethodName.
type Method uint8

// Methods known to the parser.
const (
	MethodOther Method = iota
	MethodGet
	MethodHead
	MethodPost
	MethodPut
	MethodDelete
	MethodOptions
	MethodPatch
	MethodConnect
	MethodTrace
)

// HeaderID names a header the parser indexes while it scans, so that
// lookups of the common headers cost an array access and no allocation.
type HeaderID uint8

// Indexed headers. HdrUnknown is never stored.
const (
	HdrUnknown HeaderID = iota
	HdrHost
	HdrContentLength
	HdrTransferEncoding
	HdrConnection
	HdrExpect
	HdrAcceptEncoding
	HdrIfNoneMatch
	HdrIfModifiedSince
	HdrIfMatch
	HdrIfUnmodifiedSince
	HdrRange
	HdrIfRange
	HdrContentType
	HdrUserAgent
	HdrCookie
	HdrTE
	HdrUpgrade
	HdrProxy
	numHeaderIDs
)

// Header is one field line as it appeared on the wire: Name keeps the
// client's case, Value has surrounding optional whitespace trimmed.
type Header struct {
	Name  []byte
	Value []byte
}

// Request is the parsed head of one request.
//
// Lifetime: every []byte in a Request (MethodName, RawTarget, Query, Host,
// Headers) is a view into the buffer given to Parser.Parse and is valid only
// while that buffer is unchanged; with gnet that means until the connection's
// next Discard or the end of the current OnTraffic callback. Path is the
// exception: it lives in the Request's own scratch storage and is valid until
// the next Parse or Reset of this Request. Copy anything kept longer.
//
// A Request is reused across requests on a connection; Parse resets it.
type Request struct {
	Method     Method
	MethodName []byte
	// RawTarget is the request-target exactly as sent.
	RawTarget []byte
	// Path is the percent-decoded, dot-segment-free absolute path ("/..."),
	// never above the root. For absolute-form targets it is the path part.
	Path []byte
	// Query is the raw query string after '?', without the '?' (nil when
	// the target has no '?').
	Query []byte
	// Form is the request-target's form: origin, absolute, asterisk
	// (OPTIONS *) or authority (CONNECT host:port). Path is "/" for the
	// last two, so code that maps Path to files never sees anything else.
	Form TargetForm
	// Major and Minor are the HTTP version (1.0 or 1.1 after a successful Parse).
	Major, Minor uint8
	// Host is the Host header value, or the authority of an absolute-form
	// target (which takes precedence, RFC 9112 section 3.2.2).
	Host []byte
	// Headers holds every field line in order.
	Headers []Header
	// ContentLength is the declared body length, or -1 when the request has
	// no Content-Length. It is 0 for a request with neither header.
	ContentLength int64
	// Chunked is true when the body uses Transfer-Encoding: chunked.
	Chunked bool
	// KeepAlive is the connection's persistence after this request, from the
	// version and the Connection header (RFC 9112 section 9.3).
	KeepAlive bool
	// Expect100 is true for "Expect: 100-continue".
	Expect100 bool

	known   [numHeaderIDs]uint16 // index+1 into Headers; 0 = absent
	hdrs    [128]Header          // backing array for Headers (limit permitting)
	pathBuf []byte               // backing storage for Path
	pathArr [256]byte            // initial pathBuf, so short paths never allocate
}

// Get returns the value of an indexed header, or nil when absent.
func (r *Request) Get(id HeaderID) []byte {
	if i := r.known[id]; i != 0 {
		return r.Headers[i-1].Value
	}
	return nil
}

// Has reports whether an indexed header is present.
func (r *Request) Has(id HeaderID) bool { return r.known[id] != 0 }

// Lookup returns the value of the first field named name, compared without
// regard to ASCII case, or nil. It allocates nothing; indexed headers cost
// an array access.
func (r *Request) Lookup(name string) []byte {
	if id := headerID(name); id != HdrUnknown {
		return r.Get(id)
	}
	for i := range r.Headers {
		if eqFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// Reset clears r for reuse, keeping its storage.
func (r *Request) Reset() { r.reset() }

func (r *Request) reset() {
	r.Method = MethodOther
	r.MethodName = nil
	r.RawTarget = nil
	r.Path = nil
	r.Query = nil
	r.Form = FormOrigin
	r.Major, r.Minor = 0, 0
	r.Host = nil
	r.Headers = r.hdrs[:0]
	r.ContentLength = 0
	r.Chunked = false
	r.KeepAlive = false
	r.Expect100 = false
	r.known = [numHeaderIDs]uint16{}
}

// HasBody reports whether a body follows the head.
func (r *Request) HasBody() bool { return r.Chunked || r.ContentLength > 0 }
