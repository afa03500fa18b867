package httpcodec

import (
	"fmt"
	"strings"
	"testing"
)

// parseCases are wire bytes and the exact outcome. "want" is a summary
// (see summary) without its n, which for an accepted head is checked to be
// the offset after the first CRLF CRLF, or "error: <reason>" of the
// expected *Error.
var parseCases = []struct {
	rule string
	in   string
	want string
}{
	// --- accepted forms ---
	{"RFC 9112 3: minimal HTTP/1.1 request",
		"GET / HTTP/1.1\r\nHost: foo.com\r\n\r\n",
		"GET / host=foo.com 1.1 cl=0 keep hdrs=1"},
	{"RFC 9112 3: the body is not consumed; n ends at the blank line",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n1234567890",
		"GET / host=a 1.1 cl=10 keep hdrs=2"},
	{"RFC 9112 3.2.1: origin-form with query",
		"GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
		"GET /where?q=now host=www.example.org 1.1 cl=0 keep hdrs=1"},
	{"RFC 9112 3.2.1: empty query keeps the '?'",
		"GET /a? HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a? host=a 1.1 cl=0 keep hdrs=1"},
	{"RFC 9112 3.2.2: absolute-form; its authority replaces Host",
		"GET http://www.example.org/pub/x.html?a=b HTTP/1.1\r\nHost: other\r\n\r\n",
		"GET /pub/x.html?a=b host=www.example.org 1.1 cl=0 keep form=1 hdrs=1"},
	{"RFC 9112 3.2.2: absolute-form without a path means /",
		"GET HTTPS://h:8443 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / host=h:8443 1.1 cl=0 keep form=1 hdrs=1"},
	{"RFC 9112 3.2.4: asterisk-form for OPTIONS",
		"OPTIONS * HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n",
		"OPTIONS / host=www.example.org:8001 1.1 cl=0 keep form=2 hdrs=1"},
	{"RFC 9112 3.2.3: authority-form for CONNECT",
		"CONNECT server.example.com:443 HTTP/1.1\r\nHost: server.example.com:443\r\n\r\n",
		"CONNECT / host=server.example.com:443 1.1 cl=0 keep form=3 hdrs=1"},
	{"RFC 9112 3.2.3: authority-form with an IP literal",
		"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
		"CONNECT / host=[::1]:443 1.1 cl=0 keep form=3 hdrs=1"},
	{"RFC 9112 3.2.1: '//user@host/..' in origin-form is a path",
		"GET //user@host/is/a/path/ HTTP/1.1\r\nHost: test\r\n\r\n",
		"GET /user@host/is/a/path/ host=test 1.1 cl=0 keep hdrs=1"},
	{"RFC 9112 2.2: empty lines before the request line are ignored",
		"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / host=a 1.1 cl=0 keep hdrs=1"},
	{"RFC 9110 7.2: HTTP/1.0 may omit Host; not persistent by default",
		"GET / HTTP/1.0\r\n\r\n",
		"GET / host= 1.0 cl=0 hdrs=0"},
	{"RFC 9112 9.3: HTTP/1.0 keep-alive",
		"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
		"GET / host= 1.0 cl=0 keep hdrs=1"},
	{"RFC 9112 9.6: Connection: close, case-insensitive, in a list",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, CLOSE\r\n\r\n",
		"GET / host=a 1.1 cl=0 hdrs=2"},
	{"RFC 9112 9.3: close wins over keep-alive",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
		"GET / host= 1.0 cl=0 hdrs=2"},
	{"RFC 9110 2.5: a later 1.x minor version is served as 1.1",
		"GET / HTTP/1.9\r\nHost: a\r\n\r\n",
		"GET / host=a 1.1 cl=0 keep hdrs=1"},
	{"RFC 9112 6.1: chunked request body",
		"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST /up host=a 1.1 cl=-1 chunked keep hdrs=2"},
	{"RFC 9112 7: transfer-coding names are case-insensitive",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
		"POST / host=a 1.1 cl=-1 chunked keep hdrs=2"},
	{"RFC 9110 5.6.1: empty list elements in Transfer-Encoding are ignored",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n",
		"POST / host=a 1.1 cl=-1 chunked keep hdrs=2"},
	{"RFC 9110 8.6: Content-Length 010 is decimal ten",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 010\r\n\r\n",
		"POST / host=a 1.1 cl=10 keep hdrs=2"},
	{"RFC 9110 10.1.1: Expect: 100-continue, case-insensitive",
		"PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
		"PUT /x host=a 1.1 cl=3 keep expect100 hdrs=3"},
	{"RFC 9110 10.1.1: 100-continue from HTTP/1.0 is ignored",
		"PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
		"PUT /x host= 1.0 cl=3 hdrs=2"},
	{"RFC 9110 5.5: obs-text bytes in a value are kept",
		"GET / HTTP/1.1\r\nHost: a\r\nUser: \x85admin\xa0\r\n\r\n",
		"GET / host=a 1.1 cl=0 keep hdrs=2"},
	{"RFC 9110 5.5: empty field value",
		"GET / HTTP/1.1\r\nHost: a\r\nCookie: \r\n\r\n",
		"GET / host=a 1.1 cl=0 keep hdrs=2"},
	{"RFC 9110 5.6.2: '|~' is a token field name",
		"GET / HTTP/1.0\r\n|~: 1\r\n\r\n",
		"GET / host= 1.0 cl=0 hdrs=1"},
	{"RFC 9110 7.2: Host may be empty",
		"GET / HTTP/1.1\r\nHost:\r\n\r\n",
		"GET / host= 1.1 cl=0 keep hdrs=1"},
	{"RFC 3986 3.2.2: reg-name with '_', IPv4, IPv6 with port",
		"GET / HTTP/1.1\r\nHost: [::1]:80\r\nX: foo-bar_baz.com\r\n\r\n",
		"GET / host=[::1]:80 1.1 cl=0 keep hdrs=2"},
	{"RFC 9110 9.1: an unknown token method is parsed (handlers answer it)",
		"PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n",
		"PURGE /x host=a 1.1 cl=0 keep hdrs=1"},
	{"target normalization: dot-segments and '//' removed, %-decoded",
		"GET /a/./b/../%63//d/?x=/../ HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/c/d/?x=/../ host=a 1.1 cl=0 keep hdrs=1"},
	{"targetChar: browsers send {}|^` raw in queries",
		"GET /s?q={a|b}^` HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /s?q={a|b}^` host=a 1.1 cl=0 keep hdrs=1"},

	// --- request line ---
	{"RFC 9110 5.6.2: method must be a token",
		"G=\":<>(e),[T];?\" /get HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid method"},
	{"RFC 9112 3: empty method", " / HTTP/1.0\r\n\r\n", "error: invalid method"},
	{"RFC 9110 5.6.2: NUL in method", "G\x00T / HTTP/1.0\r\n\r\n", "error: invalid method"},
	{"RFC 9110 5.6.2: TAB in method", "G\tT / HTTP/1.0\r\n\r\n", "error: invalid method"},
	{"RFC 9112 3: exactly one SP (double SP before target)",
		"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3: exactly one SP (double SP before version)",
		"GET /  HTTP/1.1\r\nHost: a\r\n\r\n", "error: malformed HTTP version"},
	{"RFC 9112 3: no trailing SP after the version",
		"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "error: malformed HTTP version"},
	{"RFC 9112 2.2: bare LF inside the request line",
		"GET /\nHTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 2.2: request line ended by bare LF",
		"GET / HTTP/1.1\nHost: a\r\n\r\n", "error: bare LF line ending"},
	{"RFC 9112 2.2: whole request framed with bare LF",
		"GET / HTTP/1.1\nHost: whatever\nConnection: close\n\n", "error: bare LF line ending"},
	{"RFC 9112 2.2: bare CR after the version",
		"GET / HTTP/1.1\rHost: a\r\n\r\n", "error: bare CR"},
	{"RFC 9112 2.2: bare LF as an empty line before the request",
		"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "error: bare LF line ending"},
	{"RFC 9112 2.3: HTTP-name is case-sensitive",
		"GET / http/1.1\r\nHost: a\r\n\r\n", "error: malformed HTTP version"},
	{"RFC 9112 2.3: one digit per version part (1.32)",
		"GET /test HTTP/1.32\r\nHost: a\r\n\r\n", "error: malformed HTTP version"},
	{"RFC 9112 2.3: HTTP/1 has no minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", "error: malformed HTTP version"},
	{"RFC 9112 2.3: huge version digits",
		"GET / HTTP/4294967295.255\r\nHost: a\r\n\r\n", "error: malformed HTTP version"},
	{"RFC 9112 2.3: bare CRs inside the version",
		"GET / HTTP/\r\r1.1\r\nHost: a\r\n\r\n", "error: malformed HTTP version"},
	{"RFC 9112 2.3: no version (HTTP/0.9 simple request)",
		"GET /\r\n\r\n", "error: invalid request-target"},
	{"RFC 9110 6.2: HTTP/0.9 -> 505", "GET / HTTP/0.9\r\n\r\n", "error: HTTP version not supported"},
	{"RFC 9110 6.2: HTTP/2.0 -> 505", "GET / HTTP/2.0\r\n\r\n", "error: HTTP version not supported"},
	{"RFC 9110 6.2: HTTP/3.0 -> 505", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", "error: HTTP version not supported"},
	{"RFC 9110 6.2: the HTTP/2 preface -> 505", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "error: HTTP version not supported"},

	// --- request-target ---
	{"RFC 9112 3.2: empty target", "GET  HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2: '!' matches no form", "GET ! HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2: relative path", "GET ../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2: DEL in target", "GET /\x7fhello HTTP/1.0\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2: non-ASCII byte in target", "GET /\xa0 HTTP/1.0\r\nh: c\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2: fragment in target", "GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2.4: '*' only with OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2.3: authority-form only with CONNECT", "GET a.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2.3: CONNECT needs authority-form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2.3: CONNECT authority needs a port", "CONNECT a.com HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid request-target"},
	{"RFC 9112 3.2.3: malformed CONNECT authority",
		"CONNECT []%20%48%54%54%50%2f%31%2e%31%0a HTTP/1.0\r\n\r\n", "error: invalid request-target"},
	{"RFC 9110 4.2.4: userinfo in absolute-form",
		"GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", "error: invalid request-target"},
	{"RFC 9110 4.2.1: absolute-form with an empty host",
		"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", "error: invalid request-target"},
	{"absolute-form: only http and https", "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", "error: invalid request-target"},
	{"normalization: '..' above the root", "GET /../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", "error: path climbs above the root"},
	{"normalization: encoded '..' above the root", "GET /a/%2e%2E/%2e%2e/x HTTP/1.1\r\nHost: a\r\n\r\n", "error: path climbs above the root"},
	{"normalization: encoded slash", "GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid path"},
	{"normalization: encoded NUL", "GET /a%00.php HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid path"},
	{"normalization: bad escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", "error: invalid path"},

	// --- field lines ---
	{"RFC 9112 5.1: whitespace before the colon -> 400",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 34\r\n\r\n", "error: whitespace before colon"},
	{"RFC 9112 5.1: TAB before the colon -> 400",
		"GET / HTTP/1.1\r\nHost: a\r\nX-Foo\t: bar\r\n\r\n", "error: whitespace before colon"},
	{"RFC 9112 2.2: first field line starts with TAB",
		"GET / HTTP/1.1\r\n\tContent-Length: 1\r\n\r\nX", "error: obsolete line folding or leading whitespace"},
	{"RFC 9112 2.2: first field line starts with SP",
		"HEAD / HTTP/1.1\r\n Host: foo\r\n\r\n", "error: obsolete line folding or leading whitespace"},
	{"RFC 9112 5.2: obs-fold is rejected",
		"GET / HTTP/1.0\r\nfoo: \r\nfoo: b\r\n  \tc\r\n\r\n", "error: obsolete line folding or leading whitespace"},
	{"RFC 9110 5.1: empty field name", "GET / HTTP/1.1\r\n: ignored\r\nHost: a\r\n\r\n", "error: invalid field name"},
	{"RFC 9110 5.1: line ':'", "GET / HTTP/1.1\r\n:\r\nI: x\r\n\r\n", "error: invalid field name"},
	{"RFC 9110 5.1: non-ASCII byte in a field name", "GET / HTTP/1.1\r\nHost: a\r\n\xefoo: bar\r\n\r\n", "error: invalid field name"},
	{"RFC 9110 5.1: 0x85 at the end of a field name",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length\x85: 10\r\n\r\n", "error: invalid field name"},
	{"RFC 9110 5.1: NUL in a field name", "GET / HTTP/1.0\r\na\x00b: c\r\n\r\n", "error: invalid field name"},
	{"RFC 9110 5.1: '/' is not a tchar", "GET / HTTP/1.0\r\n/: 1\r\n\r\n", "error: invalid field name"},
	{"RFC 9110 5.1: '{' is not a tchar", "GET / HTTP/1.0\r\n{: 1\r\n\r\n", "error: invalid field name"},
	{"RFC 9110 5.1: SP inside a field name", "GET / HTTP/1.1\r\nHost: foo\r\nA space: foo\r\n\r\n", "error: whitespace before colon"},
	{"RFC 9112 5: field line without a colon", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length 10\r\n\r\n", "error: whitespace before colon"},
	{"RFC 9112 5: field name split by CRLF",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-\r\nEncoding: chunked\r\n\r\n", "error: invalid field name"},
	{"RFC 9112 2.2: field line ended by bare LF",
		"GET / HTTP/1.1\r\nHost: a\r\nTe\nst: test\r\n\r\n", "error: invalid field name"},
	{"RFC 9112 2.2: 'Useless:\\n\\n' ends nothing",
		"GET / HTTP/1.1\r\nHost: a\r\nUseless:\n\nGET / HTTP/1.1\r\n\r\n", "error: bare LF line ending"},
	{"RFC 9112 2.2: head 'ended' by CRLF CR Z",
		"GET / HTTP/1.1\r\nHost: a\r\n\rZGET /evil: HTTP/1.1\r\n\r\n", "error: bare CR"},
	{"RFC 9110 5.5: NUL then bare CR in a value",
		"GET / HTTP/1.1\r\nHost: a\r\nHeader: v\x00\ralue\r\n\r\n", "error: invalid field value"},
	{"RFC 9110 5.5: bare CR in a value",
		"GET / HTTP/1.1\r\nHost: a\r\nVisible: :/\rSmuggled: :)\r\n\r\n", "error: bare CR"},
	{"RFC 9110 5.5: trailing NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nEvil: evil\x00\r\n\r\n", "error: invalid field value"},
	{"RFC 9110 5.5: DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nfoo: foo\x7ffoo\r\n\r\n", "error: invalid field value"},
	{"RFC 9110 5.5: ESC in a value", "GET / HTTP/1.0\r\nab: c\x1b\r\n\r\n", "error: invalid field value"},
	{"RFC 9110 5.5: NUL deep in a long value (word scan)",
		"GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdef0123\x00456789\r\n\r\n", "error: invalid field value"},

	// --- Host ---
	{"RFC 9112 3.2: HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", "error: missing Host"},
	{"RFC 9112 3.2: two Host fields", "GET / HTTP/1.1\r\nHost: first\r\nHost: second\r\n\r\n", "error: multiple Host fields"},
	{"RFC 9112 3.2: two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", "error: multiple Host fields"},
	{"RFC 9112 3.2: SP in Host", "GET / HTTP/1.1\r\nHost: www.example.org foo\r\n\r\n", "error: invalid Host"},
	{"RFC 9112 3.2: userinfo in Host", "GET / HTTP/1.1\r\nHost: user@www.example.org\r\n\r\n", "error: invalid Host"},
	{"RFC 9112 3.2: NUL in Host", "GET / HTTP/1.1\r\nHost: google.com\x00.kallus.org\r\n\r\n", "error: invalid field value"},
	{"RFC 9112 3.2: 0xff in Host", "GET / HTTP/1.0\r\nHost: \xff\r\n\r\n", "error: invalid Host"},
	{"RFC 9112 3.2: '{' in Host", "GET / HTTP/1.1\r\nHost: {\r\n\r\n", "error: invalid Host"},
	{"RFC 9112 3.2: non-digit port", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", "error: invalid Host"},
	{"RFC 9112 3.2: empty IP literal", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", "error: invalid Host"},

	// --- Content-Length ---
	{"RFC 9110 8.6: empty Content-Length", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", "error: invalid Content-Length"},
	{"RFC 9110 8.6: sign", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", "error: invalid Content-Length"},
	{"RFC 9110 8.6: negative", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -48\r\n\r\n", "error: invalid Content-Length"},
	{"RFC 9110 8.6: hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", "error: invalid Content-Length"},
	{"RFC 9110 8.6: numeric prefix", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1Z\r\n\r\nZ", "error: invalid Content-Length"},
	{"RFC 9110 8.6: inner space", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", "error: invalid Content-Length"},
	{"RFC 9110 8.6: overflow", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", "error: invalid Content-Length"},
	{"RFC 9110 8.6: comma list (strict)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", "error: invalid Content-Length"},
	{"RFC 9112 6.3: differing Content-Length fields",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 0\r\n\r\nZ", "error: multiple Content-Length fields"},
	{"RFC 9110 8.6: identical Content-Length fields (strict)",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "error: multiple Content-Length fields"},
	{"RFC 9112 6.3: empty then valid Content-Length",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\nContent-Length: 43\r\n\r\n", "error: invalid Content-Length"},
	{"limits: Content-Length above MaxBody -> 413",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10485761\r\n\r\n", "error: body too large"},

	// --- Transfer-Encoding ---
	{"RFC 9112 6.1: Content-Length and Transfer-Encoding",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "error: both Content-Length and Transfer-Encoding"},
	{"RFC 9112 6.1: TE with an invalid CL still has both",
		"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "error: both Content-Length and Transfer-Encoding"},
	{"RFC 9112 6.1: unknown coding -> 501", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: fugazi\r\n\r\n", "error: unsupported transfer coding"},
	{"RFC 9112 6.1: gzip, chunked -> 501", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "error: unsupported transfer coding"},
	{"RFC 9112 6.1: codings across two fields -> 501",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", "error: unsupported transfer coding"},
	{"RFC 9112 6.3: chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "error: chunked is not the final transfer coding"},
	{"RFC 9112 7: chunked twice in two fields",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "error: chunked applied twice"},
	{"RFC 9112 7: chunked twice in one list", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,chunked\r\n\r\n", "error: chunked applied twice"},
	{"RFC 9112 6.1: malformed coding (0xa0 is not whitespace)",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0chunked\xa0\r\n\r\n", "error: malformed Transfer-Encoding"},
	{"RFC 9112 6.1: quoted coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \" chunked\"\r\n\r\n", "error: malformed Transfer-Encoding"},
	{"RFC 9112 6.1: empty Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", "error: malformed Transfer-Encoding"},
	{"RFC 9112 6.1: Transfer-Encoding in HTTP/1.0",
		"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "error: Transfer-Encoding in an HTTP/1.0 request"},

	// --- Expect ---
	{"RFC 9110 10.1.1: unknown expectation -> 417", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", "error: unsupported expectation"},
}

func TestParseCases(t *testing.T) {
	var p Parser
	for _, c := range parseCases {
		want := c.want
		if !strings.HasPrefix(want, "error") {
			rest := c.in
			for strings.HasPrefix(rest, "\r\n") {
				rest = rest[2:] // empty lines before the request line
			}
			n := len(c.in) - len(rest) + strings.Index(rest, "\r\n\r\n") + 4
			want = fmt.Sprintf("n=%d %s", n, want)
		}
		if got := parseAll(t, &p, c.in); got != want {
			t.Errorf("%s\n in:   %q\n got:  %s\n want: %s", c.rule, c.in, got, want)
		}
	}
}

// Every rejected case answers with the status its error maps to.
func TestParseStatus(t *testing.T) {
	var p Parser
	cases := []struct {
		in     string
		status int
	}{
		{"GET / HTTP/1.1\r\n\r\n", 400},
		{"GET / HTTP/2.0\r\n\r\n", 505},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"GET / HTTP/1.1\r\nHost: a\r\nExpect: x\r\n\r\n", 417},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", 413},
		{"GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\n", 414},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 17000), 431},
	}
	for _, c := range cases {
		var r Request
		_, err := p.Parse([]byte(c.in), &r)
		if got := StatusOf(err); got != c.status {
			t.Errorf("%.40q: status %d (%v), want %d", c.in, got, err, c.status)
		}
	}
}
