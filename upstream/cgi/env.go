// Package cgi holds the CGI/1.1 parts (RFC 3875) that every gateway
// protocol of the CGI family shares: the request's environment (FastCGI
// params, SCGI headers, uwsgi vars, a CGI script's environment), the
// script/path-info split of the front controller, and the CGI response
// head a script writes (FastCGI STDOUT, SCGI, CGI). It does no I/O and
// knows nothing of the event loop, so it is unit-tested and fuzzed alone.
package cgi

import (
	"encoding/binary"
	"strconv"

	"github.com/gale-http/gale/httpcodec"
)

// Field is one request header as the client sent it: the parsed
// request's own headers are passed as they are (views, no copy).
type Field = httpcodec.Header

// RequestInfo is what the handler knows about a request, from which the
// CGI/1.1 environment (RFC 3875 section 4.1, plus the variables of nginx's
// fastcgi_params) is written straight into the outbound buffer: no map and
// no string per request. Byte slices may be views into the inbound buffer;
// they are copied into dst by the Append functions.
type RequestInfo struct {
	Method     []byte // REQUEST_METHOD
	RequestURI []byte // REQUEST_URI: the target as sent, with the query
	// Target is the request-target an HTTP backend gets when it is not
	// RequestURI (an internal rewrite changed it); nil: RequestURI.
	Target []byte
	Path   []byte // DOCUMENT_URI: the normalized, decoded path
	Query  []byte // QUERY_STRING, without '?'
	Proto  []byte // SERVER_PROTOCOL, e.g. "HTTP/1.1"

	ContentType []byte // CONTENT_TYPE
	// ContentLength is CONTENT_LENGTH; a negative value sends it empty, as
	// nginx does for a request without a body.
	ContentLength int64

	DocumentRoot string // DOCUMENT_ROOT, from the configuration
	// ScriptFilename is SCRIPT_FILENAME; when empty it is DocumentRoot
	// followed by ScriptName.
	ScriptFilename []byte
	ScriptName     []byte // SCRIPT_NAME (see SplitScript)
	PathInfo       []byte // PATH_INFO; PATH_TRANSLATED is sent when set

	RemoteAddr, RemotePort []byte
	ServerAddr, ServerPort []byte
	ServerName             []byte
	HTTPS                  bool

	// Headers become HTTP_* variables (see AppendEnv for the rules).
	Headers []Field
	// Host, when set, is the authority of an absolute-form target: it is
	// HTTP_HOST, and the Host field is not forwarded (RFC 9112 section
	// 3.2.2: the target's authority replaces it).
	Host []byte
	// Extra are configured variables (fastcgi_param), appended last so that
	// they override the computed ones in applications that keep the last.
	Extra [][2]string
}

// Format is how a protocol encodes one variable of the environment.
type Format uint8

const (
	// FastCGI name-value pairs: each length one byte below 128, else four
	// bytes big-endian with the top bit set (FastCGI spec section 3.4).
	FastCGI Format = iota
	// SCGI headers: name NUL value NUL, inside the request's netstring.
	// AppendEnv writes CONTENT_LENGTH first, always digits ("0" without a
	// body), then SCGI=1, as the SCGI spec requires, and CONTENT_LENGTH
	// nowhere else (no duplicate names).
	SCGI
	// UWSGI vars: name and value each after a 16-bit little-endian length.
	UWSGI
)

// begin appends what precedes a pair's name.
func (f Format) begin(dst []byte, nlen, vlen int) []byte {
	switch f {
	case FastCGI:
		return appendPairLen(appendPairLen(dst, nlen), vlen)
	case UWSGI:
		return binary.LittleEndian.AppendUint16(dst, uint16(nlen))
	}
	return dst
}

// mid appends what goes between a pair's name and its value.
func (f Format) mid(dst []byte, vlen int) []byte {
	switch f {
	case SCGI:
		return append(dst, 0)
	case UWSGI:
		return binary.LittleEndian.AppendUint16(dst, uint16(vlen))
	}
	return dst
}

// end appends what follows a pair's value.
func (f Format) end(dst []byte) []byte {
	if f == SCGI {
		return append(dst, 0)
	}
	return dst
}

// appendPairLen appends one FastCGI pair length.
func appendPairLen(dst []byte, n int) []byte {
	if n < 128 {
		return append(dst, byte(n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n)|1<<31)
}

// AppendPair appends one variable in format f.
func AppendPair(dst []byte, f Format, name, value []byte) []byte {
	return appendPair(dst, f, name, value)
}

// AppendEnv appends ri's CGI environment as variables in format f (for
// FastCGI, the content of the PARAMS stream, which the codec frames).
//
// Headers become HTTP_<NAME> with the name upper-cased and '-' mapped to
// '_'. A header whose name holds anything but letters, digits and '-' is
// dropped: "X_Foo" would otherwise arrive as HTTP_X_FOO and spoof a trusted
// "X-Foo" set by a proxy in front (nginx drops them too). Proxy is never
// forwarded (httpoxy, CVE-2016-5385: HTTP_PROXY would be read as a proxy
// setting by the application's HTTP client). Content-Type and
// Content-Length go only as CONTENT_TYPE and CONTENT_LENGTH.
// The fields of the client's connection to gale (RFC 9110 section 7.6.1:
// Connection and every field it lists, Keep-Alive, TE, Transfer-Encoding,
// Upgrade, Proxy-*) are never forwarded: they describe a hop the
// application is not on. Transfer-Encoding above all: gale decodes a
// chunked body and states its exact CONTENT_LENGTH, and uWSGI, seeing
// HTTP_TRANSFER_ENCODING=chunked, reads that plain body as chunks and
// resets the connection, while Werkzeug reads an empty body. Repeated
// headers are joined into one variable with ", " ("; " for Cookie), since
// applications keep only one value per name.
func AppendEnv(dst []byte, f Format, ri *RequestInfo) []byte {
	var num [20]byte
	if f == SCGI {
		dst = appendPair(dst, f, "CONTENT_LENGTH", strconv.AppendInt(num[:0], max(ri.ContentLength, 0), 10))
		dst = appendPair(dst, f, "SCGI", "1")
	}
	dst = appendPairs2(dst, f, "SCRIPT_FILENAME", ri.DocumentRoot, ri.ScriptName, ri.ScriptFilename)
	dst = appendPair(dst, f, "SCRIPT_NAME", ri.ScriptName)
	dst = appendPair(dst, f, "PATH_INFO", ri.PathInfo)
	if len(ri.PathInfo) > 0 {
		dst = appendPair2(dst, f, "PATH_TRANSLATED", ri.DocumentRoot, ri.PathInfo)
	}
	dst = appendPair(dst, f, "DOCUMENT_ROOT", ri.DocumentRoot)
	dst = appendPair(dst, f, "DOCUMENT_URI", ri.Path)
	dst = appendPair(dst, f, "REQUEST_URI", ri.RequestURI)
	dst = appendPair(dst, f, "QUERY_STRING", ri.Query)
	dst = appendPair(dst, f, "REQUEST_METHOD", ri.Method)
	dst = appendPair(dst, f, "CONTENT_TYPE", ri.ContentType)
	if f != SCGI {
		var cl []byte
		if ri.ContentLength >= 0 {
			cl = strconv.AppendInt(num[:0], ri.ContentLength, 10)
		}
		dst = appendPair(dst, f, "CONTENT_LENGTH", cl)
	}
	dst = appendPair(dst, f, "SERVER_PROTOCOL", ri.Proto)
	dst = appendPair(dst, f, "GATEWAY_INTERFACE", "CGI/1.1")
	dst = appendPair(dst, f, "SERVER_SOFTWARE", ServerSoftware)
	dst = appendPair(dst, f, "REMOTE_ADDR", ri.RemoteAddr)
	dst = appendPair(dst, f, "REMOTE_PORT", ri.RemotePort)
	dst = appendPair(dst, f, "SERVER_ADDR", ri.ServerAddr)
	dst = appendPair(dst, f, "SERVER_PORT", ri.ServerPort)
	dst = appendPair(dst, f, "SERVER_NAME", ri.ServerName)
	if ri.HTTPS {
		dst = appendPair(dst, f, "REQUEST_SCHEME", "https")
		dst = appendPair(dst, f, "HTTPS", "on")
	} else {
		dst = appendPair(dst, f, "REQUEST_SCHEME", "http")
	}
	dst = appendPair(dst, f, "REDIRECT_STATUS", "200")
	if ri.Host != nil {
		dst = appendPair(dst, f, "HTTP_HOST", ri.Host)
	}
	dst = appendHeaderPairs(dst, f, ri.Headers, ri.Host != nil)
	for _, kv := range ri.Extra {
		dst = appendPair(dst, f, kv[0], kv[1])
	}
	return dst
}

// text is either kind of byte string, so that configuration strings and
// request views are appended without conversions.
type text interface{ ~string | ~[]byte }

// appendPair is AppendPair for either kind of byte string, so that
// constant names, configured strings and request views need no conversion
// (and no allocation).
func appendPair[N, V text](dst []byte, f Format, name N, value V) []byte {
	dst = f.begin(dst, len(name), len(value))
	dst = append(dst, name...)
	dst = f.mid(dst, len(value))
	dst = append(dst, value...)
	return f.end(dst)
}

// appendPair2 appends a pair whose value is a followed by b.
func appendPair2[A, B text](dst []byte, f Format, name string, a A, b B) []byte {
	dst = f.begin(dst, len(name), len(a)+len(b))
	dst = append(dst, name...)
	dst = f.mid(dst, len(a)+len(b))
	dst = append(dst, a...)
	dst = append(dst, b...)
	return f.end(dst)
}

// appendPairs2 appends value when it is set, else a followed by b.
func appendPairs2(dst []byte, f Format, name, a string, b, value []byte) []byte {
	if len(value) > 0 {
		return appendPair(dst, f, name, value)
	}
	return appendPair2(dst, f, name, a, b)
}

// ServerSoftware is SERVER_SOFTWARE. It names nginx because applications
// decide from it what the server in front can do: WordPress offers
// pretty permalinks only when it contains "nginx" or "Apache" (its
// $is_nginx, $is_apache), and routes them through index.php exactly as
// gale's front controller does. cmd/gale adds its version at start-up,
// before any request; it is read-only afterwards.
var ServerSoftware = "gale (nginx-compatible)"

// equalFold is an ASCII case-insensitive comparison that does not allocate.
func equalFold[T text](a []byte, b T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// lower folds an ASCII upper-case letter.
func lower(c byte) byte {
	if c-'A' < 26 {
		return c + 'a' - 'A'
	}
	return c
}
