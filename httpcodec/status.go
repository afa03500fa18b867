package httpcodec

import "strconv"

// statusText holds the reason phrases of RFC 9110 section 15 (and 429, 431
// from RFC 6585).
var statusText = map[int]string{
	100: "Continue", 101: "Switching Protocols",
	200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
	204: "No Content", 205: "Reset Content", 206: "Partial Content",
	300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
	304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
	410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
	414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
	417: "Expectation Failed", 421: "Misdirected Request", 422: "Unprocessable Content",
	426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
	431: "Request Header Fields Too Large",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}

// statusLines holds "HTTP/1.1 <code> <reason>\r\n" for every code in
// statusText, built once so AppendStatusLine is a single copy.
var statusLines = func() (t [600]string) {
	for code, text := range statusText {
		t[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n"
	}
	return t
}()

// StatusText returns the reason phrase of code, or "" for a code gale does
// not know.
func StatusText(code int) string {
	if code >= 100 && code < len(statusLines) && statusLines[code] != "" {
		// The reason is the status line without "HTTP/1.1 NNN " and CRLF:
		// a view, so an error response costs no map lookup.
		l := statusLines[code]
		return l[len("HTTP/1.1 NNN ") : len(l)-2]
	}
	return ""
}

// AppendStatusLine appends "HTTP/1.1 <code> <reason>\r\n". A code without a
// known reason gets an empty one (RFC 9112 section 4 allows it); a code
// outside 100-999 is written as 500.
func AppendStatusLine(dst []byte, code int) []byte {
	if code >= 100 && code < len(statusLines) && statusLines[code] != "" {
		return append(dst, statusLines[code]...)
	}
	if code < 100 || code > 999 {
		return append(dst, statusLines[500]...)
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	return append(dst, " \r\n"...)
}
