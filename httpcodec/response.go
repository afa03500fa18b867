package httpcodec

import "strconv"

// Fixed response pieces.
const (
	// ServerHeader is the Server field line gale sends.
	ServerHeader = "Server: gale\r\n"
	// Continue100 is the interim response to "Expect: 100-continue"
	// (RFC 9110 section 15.2.1).
	Continue100 = "HTTP/1.1 100 Continue\r\n\r\n"
)

// AppendHeader appends "name: value\r\n". CR, LF and NUL in value are
// written as SP (RFC 9110 section 5.5 forbids them in a field value), so a
// value that came from a request can never split the response.
func AppendHeader(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	start := len(dst)
	dst = append(dst, value...)
	for i := start; i < len(dst); i++ {
		if c := dst[i]; c == '\r' || c == '\n' || c == 0 {
			dst[i] = ' '
		}
	}
	return append(dst, "\r\n"...)
}

// AppendContentLength appends "Content-Length: n\r\n".
func AppendContentLength(dst []byte, n int64) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "\r\n"...)
}

// AppendError appends a complete error response for code: the status line,
// Server, the Date line date (from DateCache.Line; omitted when empty), a
// plain-text type, Retry-After for 503, its length, Connection: close, and a one-line body such
// as "400 Bad Request\n". The connection must be closed after it.
func AppendError(dst []byte, code int, date []byte) []byte {
	if code < 100 || code > 999 {
		code = 500
	}
	text := StatusText(code)
	bodyLen := 3 + 1 // the code's three digits and the final '\n'
	if text != "" {
		bodyLen += 1 + len(text)
	}
	dst = AppendStatusLine(dst, code)
	dst = append(dst, ServerHeader...)
	dst = append(dst, date...)
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\n"...)
	if code == 503 {
		// Overload (a full upstream queue) is brief: ask for a quick retry
		// (RFC 9110 section 10.2.3).
		dst = append(dst, "Retry-After: 1\r\n"...)
	}
	dst = AppendContentLength(dst, int64(bodyLen))
	dst = append(dst, "Connection: close\r\n\r\n"...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	if text != "" {
		dst = append(dst, ' ')
		dst = append(dst, text...)
	}
	return append(dst, '\n')
}
