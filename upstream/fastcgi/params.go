package fastcgi

import (
	"bytes"
	"strconv"
)

// Field is one request header as the client sent it. The handler copies
// httpcodec's headers into a reused []Field (views, no byte copies).
type Field struct {
	Name  []byte
	Value []byte
}

// RequestInfo is what the handler knows about a request, from which the
// CGI/1.1 environment (RFC 3875 section 4.1, plus the variables of nginx's
// fastcgi_params) is written straight into the outbound buffer: no map and
// no string per request. Byte slices may be views into the inbound buffer;
// they are copied into dst by the Append functions.
type RequestInfo struct {
	Method     []byte // REQUEST_METHOD
	RequestURI []byte // REQUEST_URI: the target as sent, with the query
	Path       []byte // DOCUMENT_URI: the normalized, decoded path
	Query      []byte // QUERY_STRING, without '?'
	Proto      []byte // SERVER_PROTOCOL, e.g. "HTTP/1.1"

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

	// Headers become HTTP_* variables (see AppendCGIPairs for the rules).
	Headers []Field
	// Extra are configured variables (fastcgi_param), appended last so that
	// they override the computed ones in applications that keep the last.
	Extra [][2]string
}

// AppendRequest appends everything that starts request id on the wire:
// FCGI_BEGIN_REQUEST (responder, FCGI_KEEP_CONN) and the FCGI_PARAMS stream
// with its terminating empty record. The body follows with AppendStdin and
// AppendStdinEOF. The pairs are written once, in place, and framed after.
func AppendRequest(dst []byte, id uint16, ri *RequestInfo) []byte {
	dst = AppendBeginRequest(dst, id, RoleResponder, true)
	mark := len(dst)
	dst = AppendHeader(dst, TypeParams, id, 0, 0)
	dst = AppendCGIPairs(dst, ri)
	dst = frameInPlace(dst, mark, TypeParams, id)
	return AppendStreamEnd(dst, TypeParams, id)
}

// frameInPlace turns dst[mark+HeaderLen:], content written after a header
// placeholder at mark, into records of type typ: it patches the header and,
// when the content exceeds MaxContent (rare: megabyte cookies), shifts the
// later chunks up to make room for their headers. No padding is added.
func frameInPlace(dst []byte, mark int, typ uint8, id uint16) []byte {
	total := len(dst) - mark - HeaderLen
	if total <= MaxContent {
		return patchLength(dst, mark)
	}
	k := (total + MaxContent - 1) / MaxContent
	dst = append(dst, make([]byte, (k-1)*HeaderLen)...)
	// Move chunks from the last to the first: each moves up by i headers,
	// so a chunk never overwrites one that has not moved yet.
	for i := k - 1; i >= 0; i-- {
		from := mark + HeaderLen + i*MaxContent
		n := min(MaxContent, total-i*MaxContent)
		to := mark + i*(MaxContent+HeaderLen)
		copy(dst[to+HeaderLen:], dst[from:from+n])
		AppendHeader(dst[to:to], typ, id, n, 0)
	}
	return dst
}

// AppendCGIPairs appends ri as encoded name-value pairs (without record
// framing; AppendRequest or AppendParams frames them).
//
// Headers become HTTP_<NAME> with the name upper-cased and '-' mapped to
// '_'. A header whose name holds anything but letters, digits and '-' is
// dropped: "X_Foo" would otherwise arrive as HTTP_X_FOO and spoof a trusted
// "X-Foo" set by a proxy in front (nginx drops them too). Proxy is never
// forwarded (httpoxy, CVE-2016-5385: HTTP_PROXY would be read as a proxy
// setting by the application's HTTP client). Content-Type and
// Content-Length go only as CONTENT_TYPE and CONTENT_LENGTH. Repeated
// headers are joined into one variable with ", " ("; " for Cookie), since
// applications keep only one value per name.
func AppendCGIPairs(dst []byte, ri *RequestInfo) []byte {
	dst = appendPairs2(dst, "SCRIPT_FILENAME", ri.DocumentRoot, ri.ScriptName, ri.ScriptFilename)
	dst = appendPair(dst, "SCRIPT_NAME", ri.ScriptName)
	dst = appendPair(dst, "PATH_INFO", ri.PathInfo)
	if len(ri.PathInfo) > 0 {
		dst = appendPair2(dst, "PATH_TRANSLATED", ri.DocumentRoot, ri.PathInfo)
	}
	dst = appendPair(dst, "DOCUMENT_ROOT", ri.DocumentRoot)
	dst = appendPair(dst, "DOCUMENT_URI", ri.Path)
	dst = appendPair(dst, "REQUEST_URI", ri.RequestURI)
	dst = appendPair(dst, "QUERY_STRING", ri.Query)
	dst = appendPair(dst, "REQUEST_METHOD", ri.Method)
	dst = appendPair(dst, "CONTENT_TYPE", ri.ContentType)
	var num [20]byte
	var cl []byte
	if ri.ContentLength >= 0 {
		cl = strconv.AppendInt(num[:0], ri.ContentLength, 10)
	}
	dst = appendPair(dst, "CONTENT_LENGTH", cl)
	dst = appendPair(dst, "SERVER_PROTOCOL", ri.Proto)
	dst = appendPair(dst, "GATEWAY_INTERFACE", "CGI/1.1")
	dst = appendPair(dst, "SERVER_SOFTWARE", "gale")
	dst = appendPair(dst, "REMOTE_ADDR", ri.RemoteAddr)
	dst = appendPair(dst, "REMOTE_PORT", ri.RemotePort)
	dst = appendPair(dst, "SERVER_ADDR", ri.ServerAddr)
	dst = appendPair(dst, "SERVER_PORT", ri.ServerPort)
	dst = appendPair(dst, "SERVER_NAME", ri.ServerName)
	if ri.HTTPS {
		dst = appendPair(dst, "REQUEST_SCHEME", "https")
		dst = appendPair(dst, "HTTPS", "on")
	} else {
		dst = appendPair(dst, "REQUEST_SCHEME", "http")
	}
	dst = appendPair(dst, "REDIRECT_STATUS", "200")
	dst = appendHeaderPairs(dst, ri.Headers)
	for _, kv := range ri.Extra {
		dst = appendPair(dst, kv[0], kv[1])
	}
	return dst
}

// text is either kind of byte string, so that configuration strings and
// request views are appended without conversions.
type text interface{ ~string | ~[]byte }

// appendPair is AppendPair for either kind of byte string, so that
// constant names, configured strings and request views need no conversion
// (and no allocation).
func appendPair[N, V text](dst []byte, name N, value V) []byte {
	dst = appendPairLen(dst, len(name))
	dst = appendPairLen(dst, len(value))
	dst = append(dst, name...)
	return append(dst, value...)
}

// appendPair2 appends a pair whose value is a followed by b.
func appendPair2[A, B text](dst []byte, name string, a A, b B) []byte {
	dst = appendPairLen(dst, len(name))
	dst = appendPairLen(dst, len(a)+len(b))
	dst = append(dst, name...)
	dst = append(dst, a...)
	return append(dst, b...)
}

// appendPairs2 appends value when it is set, else a followed by b.
func appendPairs2(dst []byte, name, a string, b, value []byte) []byte {
	if len(value) > 0 {
		return appendPair(dst, name, value)
	}
	return appendPair2(dst, name, a, b)
}

// appendHeaderPairs appends the HTTP_* variables for hs.
func appendHeaderPairs(dst []byte, hs []Field) []byte {
	for i := range hs {
		name := hs[i].Name
		if !forwardable(name) || seenBefore(hs[:i], name) {
			continue
		}
		sep := ", "
		if len(name) == len("cookie") && equalFold(name, "cookie") {
			sep = "; "
		}
		vlen := len(hs[i].Value)
		for _, h := range hs[i+1:] {
			if equalFold(h.Name, name) {
				vlen += len(sep) + len(h.Value)
			}
		}
		dst = appendPairLen(dst, len("HTTP_")+len(name))
		dst = appendPairLen(dst, vlen)
		dst = append(dst, "HTTP_"...)
		for _, c := range name {
			dst = append(dst, cgiNameByte[c])
		}
		dst = append(dst, hs[i].Value...)
		for _, h := range hs[i+1:] {
			if equalFold(h.Name, name) {
				dst = append(dst, sep...)
				dst = append(dst, h.Value...)
			}
		}
	}
	return dst
}

// cgiNameByte maps a header name byte to its CGI variable byte: letters
// upper-cased, '-' to '_', digits kept; 0 marks a byte that disqualifies
// the header.
var cgiNameByte = func() (t [256]byte) {
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c)
		t[c+'a'-'A'] = byte(c)
	}
	t['-'] = '_'
	return t
}()

// forwardable reports whether a header becomes an HTTP_* variable.
func forwardable(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if cgiNameByte[c] == 0 {
			return false
		}
	}
	switch len(name) {
	case len("proxy"):
		return !equalFold(name, "proxy")
	case len("content-type"):
		return !equalFold(name, "content-type")
	case len("content-length"):
		return !equalFold(name, "content-length")
	}
	return true
}

// seenBefore reports whether name occurs in hs (the headers already
// handled, so a repeated header was merged into its first occurrence).
func seenBefore(hs []Field, name []byte) bool {
	for _, h := range hs {
		if equalFold(h.Name, name) {
			return true
		}
	}
	return false
}

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

// SplitScript splits a request path at the first segment that ends in ext
// (".php"): "/index.php/users/7" gives "/index.php" and "/users/7", the
// front-controller convention. The match must end the path or be followed
// by '/', so "/a.phpx/b" is not split. Without a match, script is path and
// pathInfo is nil. Both results are views into path.
func SplitScript(path []byte, ext string) (script, pathInfo []byte) {
	if ext == "" {
		return path, nil
	}
	for off := 0; ; {
		i := bytes.Index(path[off:], []byte(ext))
		if i < 0 {
			return path, nil
		}
		end := off + i + len(ext)
		if end == len(path) {
			return path, nil
		}
		if path[end] == '/' {
			return path[:end:end], path[end:]
		}
		off += i + 1
	}
}
