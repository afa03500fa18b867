package testenv

import "strings"

// SmugglingCase is one raw request and the verdict gale must give it: the
// regression table for request smuggling and framing (gale issue 5, item
// 1). httpcodec checks each verdict on the parser and chunked decoder
// alone; the reactor sends each over a raw socket to a gale with a FastCGI
// backend and checks the status, the close and what the backend received.
type SmugglingCase struct {
	// Rule names the rule the row checks (RFC 9112 unless said).
	Rule string
	// Raw is the exact bytes a client sends. Every script target is under
	// SmugglingScript, so a request that gets through reaches the backend.
	Raw string
	// Status is the answer: 200 when the request is valid and goes to the
	// backend, else the error status, after which gale closes.
	Status int
	// Backend is how many requests the backend must receive (only rows
	// with Status 200 have any).
	Backend int
}

// SmugglingScript is the script every row targets; SmuggledMarker appears
// in the target of every request hidden inside another one. A backend that
// ever sees the marker was reached by a smuggled request.
const (
	SmugglingScript = "/s.php"
	SmuggledMarker  = "smuggled"
)

// SmuggledRequest is a complete request a smuggling attempt hopes the server will
// see as a second, separate request.
const SmuggledRequest = "GET /s.php?smuggled HTTP/1.1\r\nHost: a\r\n\r\n"

// SmugglingCases is the table. Rows are written from the RFC rules, each
// naming its rule; the third-party corpus in /work/shared/conformance is
// only used as a check against a running gale, never copied here.
var SmugglingCases = []SmugglingCase{
	// Controls: valid framings go through exactly once, so the rejections
	// below are not a server that rejects everything.
	{"control: GET, no body", "GET /s.php HTTP/1.1\r\nHost: a\r\n\r\n", 200, 1},
	{"control 6.3 rule 6: Content-Length body holding a request's bytes is data",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 41\r\n\r\n" + SmuggledRequest, 200, 1},
	{"control 7.1: chunked body with extensions and trailer, holding a request's bytes",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n29;a=b;c=\"d\"\r\n" + SmuggledRequest + "\r\n0\r\nX-T: 1\r\n\r\n", 200, 1},
	{"control 7: Transfer-Encoding is case-insensitive, OWS around it",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\t Chunked \r\n\r\n1\r\nx\r\n0\r\n\r\n", 200, 1},
	{"control 6.3 rule 6: a GET with a Content-Length body holding a request's bytes",
		"GET /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 41\r\n\r\n" + SmuggledRequest, 200, 1},
	{"control RFC 9110 8.6: Content-Length is 1*DIGIT, leading zeros allowed",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello", 200, 1},
	{"control 7.1.2: a Content-Length trailer field does not frame anything",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nContent-Length: 41\r\n\r\n", 200, 1},
	{"control 9.3: two pipelined requests are both served",
		"GET /s.php HTTP/1.1\r\nHost: a\r\n\r\nGET /s.php HTTP/1.1\r\nHost: a\r\n\r\n", 200, 2},
	{"control 2.2: one empty line before the request line is ignored",
		"\r\nGET /s.php HTTP/1.1\r\nHost: a\r\n\r\n", 200, 1},
	{"control RFC 9110 2.5: HTTP/1.2 is served as 1.1", "GET /s.php HTTP/1.2\r\nHost: a\r\n\r\n", 200, 1},

	// RFC 9112 6.1/6.3 and 11.2: Content-Length with Transfer-Encoding.
	{"6.1 + 11.2 (CL.TE): Content-Length and chunked together are rejected",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400, 0},
	{"6.1 + 11.2 (TE.CL): Transfer-Encoding before Content-Length, a request in the body",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n29\r\n" + SmuggledRequest + "\r\n0\r\n\r\n", 400, 0},
	{"6.1 + 11.2: CL 0 and chunked, the smuggled request right after the last chunk",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SmuggledRequest, 400, 0},
	{"6.1: Transfer-Encoding in HTTP/1.0 means faulty framing",
		"POST /s.php HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, 0},
	{"6.1: Transfer-Encoding and Content-Length in HTTP/1.0",
		"POST /s.php HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, 0},
	{"6.3 rule 4: chunked is not the final coding", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400, 0},
	{"6.3 rule 4 (TE.TE): a second Transfer-Encoding field after chunked",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n" + SmuggledRequest, 400, 0},
	{"7: chunked applied twice", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, 0},
	{"6.1: an unknown coding alone is 501", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, 0},
	{"6.1: 'xchunked' is an unknown coding, not chunked", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501, 0},
	{"6.1: a quoted \"chunked\" is not a token", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400, 0},
	{"6.1: an empty Transfer-Encoding list", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", 400, 0},
	{"RFC 9110 5.5: vertical tab before chunked", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \vchunked\r\n\r\n0\r\n\r\n", 400, 0},
	{"5.1: whitespace between Transfer-Encoding and the colon",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, 0},

	// RFC 9112 6.3 rule 5 and RFC 9110 8.6: Content-Length.
	{"6.3 rule 5: two identical Content-Length fields", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, 0},
	{"6.3 rule 5: two different Content-Length fields", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 41\r\n\r\n" + SmuggledRequest, 400, 0},
	{"6.3 rule 5: comma-joined Content-Length", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", 400, 0},
	{"RFC 9110 8.6: signed Content-Length", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", 400, 0},
	{"RFC 9110 8.6: negative Content-Length", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, 0},
	{"RFC 9110 8.6: hex Content-Length", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", 400, 0},
	{"RFC 9110 8.6: digits with inner space", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n0123456789", 400, 0},
	{"RFC 9110 8.6: empty Content-Length", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400, 0},
	{"6.3 rule 5: Content-Length overflowing 64 bits", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551621\r\n\r\nhello", 400, 0},
	{"RFC 9110 15.5.14: Content-Length above the body limit is 413", "POST /s.php HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", 413, 0},

	// RFC 9112 7.1: chunk-size = 1*HEXDIG.
	{"7.1: chunk size with a sign", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1: negative chunk size", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n", 400, 0},
	{"7.1: space before the chunk size", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1: space after the chunk size without an extension", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1: 0x prefix on the chunk size", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1: non-hex chunk size", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\ng\r\nx\r\n0\r\n\r\n", 400, 0},
	{"7.1: empty chunk size", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nx\r\n0\r\n\r\n", 400, 0},
	{"7.1: chunk size overflowing 64 bits (truncates to 0x29)",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000029\r\n" + SmuggledRequest + "\r\n0\r\n\r\n", 400, 0},
	{"7.1 + RFC 9110 15.5.14: chunk sizes adding up above the body limit are 413",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\nx", 413, 0},
	{"7.1: chunk data longer than its size", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1: chunk data ended by bare LF", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400, 0},
	{"7.1 + 2.2: chunk size line ended by bare LF", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1 + 2.2: last chunk line ended by bare LF, a request after it",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\n" + SmuggledRequest, 400, 0},

	// RFC 9112 7.1.1: chunk extensions.
	{"7.1.1 + 2.2: bare LF inside a chunk extension", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1.1 + 2.2: bare CR inside a chunk extension", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1.1: bare CR in a quoted extension value", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"\r\"\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1.1: extension without a name", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;=b\r\nhello\r\n0\r\n\r\n", 400, 0},
	{"7.1.1: extension longer than MaxChunkExt", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;" + longExt + "\r\nhello\r\n0\r\n\r\n", 400, 0},

	// RFC 9112 7.1.2: trailer section.
	{"7.1.2: trailer line without a colon", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a field\r\n\r\n", 400, 0},
	{"7.1.2 + 5.1: whitespace before a trailer's colon", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : y\r\n\r\n", 400, 0},
	{"7.1.2 + 5.2: obs-fold in the trailer section", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n z\r\n\r\n", 400, 0},
	{"7.1.2 + 2.2: trailer line ended by bare LF", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n", 400, 0},
	{"7.1.2 + RFC 9110 5.5: NUL in a trailer value", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\x00b\r\n\r\n", 400, 0},
	{"7.1.2 + RFC 9110 5.1: invalid trailer name", "POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX(y): z\r\n\r\n", 400, 0},
	{"7.1.2: trailer section above MaxTrailerBytes is 431",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + longTrailer + "\r\n\r\n", 431, 0},

	// RFC 9112 2.2: line endings and bare CR.
	{"2.2: request line ended by bare LF", "GET /s.php HTTP/1.1\nHost: a\r\n\r\n", 400, 0},
	{"2.2: field line ended by bare LF", "GET /s.php HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400, 0},
	{"2.2: head ended by bare LF", "GET /s.php HTTP/1.1\r\nHost: a\r\n\n", 400, 0},
	{"2.2: every line ended by bare LF", "GET /s.php HTTP/1.1\nHost: a\n\n", 400, 0},
	{"2.2: bare CR inside a field value", "GET /s.php HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, 0},
	{"2.2: bare CR ending the request line", "GET /s.php HTTP/1.1\rHost: a\r\n\r\n", 400, 0},
	{"2.2: a lone LF before the request line", "\nGET /s.php HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},

	// RFC 9112 5.2: obs-fold, and 2.2: whitespace before the first field.
	{"5.2: obs-fold continues a field value", "GET /s.php HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, 0},
	{"5.2: obs-fold with a tab, hiding Transfer-Encoding",
		"POST /s.php HTTP/1.1\r\nHost: a\r\nX: a\r\n\tTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 400, 0},
	{"2.2: whitespace before the first field line", "GET /s.php HTTP/1.1\r\n Host: a\r\n\r\n", 400, 0},

	// RFC 9110 5.1 and RFC 9112 5.1: field names (rejected, not dropped).
	{"RFC 9110 5.1: space inside a field name", "GET /s.php HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400, 0},
	{"RFC 9110 5.1: '(' in a field name", "GET /s.php HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", 400, 0},
	{"RFC 9110 5.1: '@' in a field name", "GET /s.php HTTP/1.1\r\nHost: a\r\nX@y: z\r\n\r\n", 400, 0},
	{"RFC 9110 5.1: NUL in a field name", "GET /s.php HTTP/1.1\r\nHost: a\r\nX\x00y: z\r\n\r\n", 400, 0},
	{"RFC 9110 5.1: non-ASCII field name", "GET /s.php HTTP/1.1\r\nHost: a\r\nX\xc3\xa4: z\r\n\r\n", 400, 0},
	{"RFC 9110 5.1: empty field name", "GET /s.php HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", 400, 0},
	{"RFC 9110 5.1: field line without a colon", "GET /s.php HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, 0},
	{"5.1: whitespace between a field name and the colon", "GET /s.php HTTP/1.1\r\nHost: a\r\nContent-Length : 41\r\n\r\n" + SmuggledRequest, 400, 0},
	{"RFC 9110 5.5: NUL in a field value", "GET /s.php HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400, 0},
	{"RFC 9110 5.5: DEL in a field value", "GET /s.php HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 400, 0},

	// RFC 9112 3.2 and RFC 9110 7.2: Host.
	{"3.2: HTTP/1.1 without Host", "GET /s.php HTTP/1.1\r\nX: y\r\n\r\n", 400, 0},
	{"3.2: two Host fields", "GET /s.php HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0},
	{"3.2: two identical Host fields", "GET /s.php HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.2: Host with a space", "GET /s.php HTTP/1.1\r\nHost: a b\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.2: Host with userinfo", "GET /s.php HTTP/1.1\r\nHost: user@a\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.2: Host with a path", "GET /s.php HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.3: Host with a non-numeric port", "GET /s.php HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.3: Host with two ports", "GET /s.php HTTP/1.1\r\nHost: a:80:81\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.2: unclosed IP literal", "GET /s.php HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.2: non-ASCII Host", "GET /s.php HTTP/1.1\r\nHost: \xc3\xa4.example\r\n\r\n", 400, 0},
	{"3.2 + RFC 3986 3.2.2: bad percent-escape in Host", "GET /s.php HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400, 0},
	{"3.2.2: absolute-form with userinfo", "GET http://user@a/s.php HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},
	{"3.2.2: absolute-form with an empty host", "GET http:///s.php HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},

	// RFC 9112 2.3 and 3: request line and version.
	{"2.3: HTTP/2.0 on an HTTP/1 connection is 505", "GET /s.php HTTP/2.0\r\nHost: a\r\n\r\n", 505, 0},
	{"2.3: HTTP/0.9 in a request line is 505", "GET /s.php HTTP/0.9\r\nHost: a\r\n\r\n", 505, 0},
	{"2.3: HTTP/3.0 is 505", "GET /s.php HTTP/3.0\r\nHost: a\r\n\r\n", 505, 0},
	{"2.3: two-digit minor version", "GET /s.php HTTP/1.10\r\nHost: a\r\n\r\n", 400, 0},
	{"2.3: version without a minor", "GET /s.php HTTP/1\r\nHost: a\r\n\r\n", 400, 0},
	{"2.3: HTTP-name is case-sensitive", "GET /s.php http/1.1\r\nHost: a\r\n\r\n", 400, 0},
	{"2.3: unknown protocol name", "GET /s.php HTTPS/1.1\r\nHost: a\r\n\r\n", 400, 0},
	{"3: no version (HTTP/0.9 simple request)", "GET /s.php\r\n\r\n", 400, 0},
	{"3: two spaces between method and target", "GET  /s.php HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},
	{"3: tab as a separator", "GET\t/s.php HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},
	{"3: space after the version", "GET /s.php HTTP/1.1 \r\nHost: a\r\n\r\n", 400, 0},
	{"3.2: space inside the target", "GET /s.php x HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},
	{"RFC 9110 9.1: method with a non-token byte", "G(T /s.php HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0},
}

var (
	longExt     = "e=" + strings.Repeat("x", 300)
	longTrailer = strings.Repeat("x", 5000)
)
