// Package httpproxy is HTTP/1.1 as an upstream protocol of gale's engine:
// gale as the reverse proxy in front of gunicorn, uvicorn, waitress or any
// HTTP application. The request goes out as HTTP/1.1 with its hop-by-hop
// fields removed and X-Forwarded-*/Forwarded set; the response head is
// parsed by httpcodec.ResponseParser (strict framing, RFC 9112 section
// 6.3) and its body decoded of its transfer coding for the engine, which
// frames it again for its client. Like every codec it does no I/O.
package httpproxy

import (
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// Codec is HTTP/1.1 as an upstream.Protocol: keep-alive, one request at a
// time per connection (no pipelining: a backend that closes between two
// requests would lose the second without a trace), a request body always
// sent with its exact Content-Length (a chunked upload is received whole
// first: gunicorn's sync workers must not wait on a slow client), no
// in-band cancel (closing the connection cancels).
type Codec struct{ upstream.Unframed }

// Protocol is the HTTP codec.
var Protocol upstream.Protocol = Codec{}

var _ upstream.LossHinter = Codec{}

// LossHint implements upstream.LossHinter. An HTTP server answers even a
// request it refuses; a close before any byte is what a FastCGI server
// (php-fpm, reading "GET /" as a record of an unknown version) or uWSGI's
// --socket does with HTTP, the reverse of the mistake the FastCGI codec
// names (fastcgi.ErrSpeaksHTTP).
func (Codec) LossHint(int) string {
	return "the backend closed without answering: if it is a FastCGI server (php-fpm) or a uwsgi socket, give its upstream protocol fastcgi or uwsgi, not http"
}

// Name implements upstream.Protocol.
func (Codec) Name() string { return "http" }

// Caps implements upstream.Protocol.
func (Codec) Caps() upstream.Caps {
	return upstream.Caps{KeepAlive: true, NeedsLength: true, OpenPool: true}
}

// NewConn implements upstream.Protocol.
func (Codec) NewConn(int) upstream.ConnCodec { return &Conn{reusable: true} }

// Response implements upstream.Protocol.
func (Codec) Response() upstream.ResponseFormat { return upstream.HTTPResponse }

// EncodeHead implements upstream.Protocol: the request line, the client's
// fields less the hop-by-hop ones, Content-Length when there is a body,
// and the forwarding fields.
func (Codec) EncodeHead(dst []byte, ri *cgi.RequestInfo, bodyLen int64) []byte {
	dst = append(dst, ri.Method...)
	dst = append(dst, ' ')
	if ri.Target != nil {
		dst = append(dst, ri.Target...) // rewritten: origin-form already
	} else {
		dst = appendTarget(dst, ri.RequestURI)
	}
	dst = append(dst, " HTTP/1.1\r\n"...)
	var host []byte
	hadBody, conn := false, false
	for _, h := range ri.Headers {
		conn = conn || isConnection(h.Name)
	}
	for _, h := range ri.Headers {
		switch kindOf(h.Name) {
		case fieldHost:
			host = h.Value
		case fieldBody:
			hadBody = true
			continue
		case fieldDrop:
			continue
		}
		if conn && listedInConnection(ri.Headers, h.Name) {
			continue
		}
		dst = appendField(dst, h.Name, h.Value)
	}
	if host == nil {
		// An HTTP/1.0 client may send none; HTTP/1.1 needs one.
		host = ri.ServerName
		if len(host) == 0 {
			host = ri.ServerAddr
		}
		dst = appendField(dst, strHost, host)
	}
	var up []byte
	if conn { // an upgrade needs a Connection field: no scan without one
		up = UpgradeTo(ri.Method, ri.Headers)
	}
	if up != nil {
		// The one hop-by-hop exception: a WebSocket handshake goes
		// through, and its 101 makes a tunnel (Conn).
		dst = append(dst, "Connection: Upgrade\r\n"...)
		dst = appendField(dst, strUpgrade, up)
	}
	if bodyLen > 0 || bodyLen == 0 && hadBody {
		dst = httpcodec.AppendContentLength(dst, bodyLen)
	}
	dst = appendForwarded(dst, ri, host)
	return append(dst, "\r\n"...)
}

// appendTarget appends the request-target in origin form: an
// absolute-form target ("http://host/p?q", RFC 9112 section 3.2.2) loses
// its scheme and authority, which Host carries.
func appendTarget(dst, t []byte) []byte {
	if len(t) > 0 && t[0] != '/' && t[0] != '*' {
		for i := 0; i+2 < len(t); i++ {
			if t[i] == ':' && t[i+1] == '/' && t[i+2] == '/' {
				t = t[i+3:]
				j := 0
				for j < len(t) && t[j] != '/' && t[j] != '?' {
					j++
				}
				t = t[j:]
				break
			}
		}
		if len(t) == 0 || t[0] != '/' {
			dst = append(dst, '/')
		}
	}
	return append(dst, t...)
}

// appendForwarded appends X-Forwarded-For, -Proto, -Host and Forwarded
// (RFC 7239). The client's own are dropped in EncodeHead: from a client,
// they are whatever it chose to claim, and the application would log and
// rate-limit that address (Caddy does the same without trusted_proxies).
// From a trusted proxy (ri.TrustedFor, TrustedProto), the chain is kept
// and extended with the proxy's address, and its scheme passed on, as
// nginx's $proxy_add_x_forwarded_for does behind set_real_ip_from.
func appendForwarded(dst []byte, ri *cgi.RequestInfo, host []byte) []byte {
	proto := "http"
	if ri.HTTPS {
		proto = "https"
	}
	switch {
	case len(ri.TrustedFor) > 0 && len(ri.Peer) > 0:
		dst = append(dst, "X-Forwarded-For: "...)
		dst = appendClean(dst, ri.TrustedFor)
		dst = append(dst, ", "...)
		dst = append(dst, ri.Peer...)
		dst = append(dst, "\r\n"...)
	case len(ri.RemoteAddr) > 0:
		dst = appendField(dst, strXFF, ri.RemoteAddr)
	}
	if p := ri.TrustedProto; httpcodec.EqualFold(p, "https") {
		proto = "https"
	} else if httpcodec.EqualFold(p, "http") {
		proto = "http"
	}
	dst = append(dst, "X-Forwarded-Proto: "...)
	dst = append(dst, proto...)
	dst = append(dst, "\r\n"...)
	dst = appendField(dst, strXFH, host)
	dst = append(dst, "Forwarded: "...)
	if len(ri.RemoteAddr) > 0 {
		dst = append(dst, "for="...)
		if isIPv6(ri.RemoteAddr) {
			dst = append(dst, "\"["...)
			dst = append(dst, ri.RemoteAddr...)
			dst = append(dst, "]\""...)
		} else {
			dst = append(dst, ri.RemoteAddr...)
		}
		dst = append(dst, ';')
	}
	if len(host) > 0 && quotable(host) {
		dst = append(dst, "host=\""...)
		dst = append(dst, host...)
		dst = append(dst, "\";"...)
	}
	dst = append(dst, "proto="...)
	dst = append(dst, proto...)
	return append(dst, "\r\n"...)
}

var (
	strHost    = []byte("Host")
	strUpgrade = []byte("Upgrade")
	strXFF     = []byte("X-Forwarded-For")
	strXFH     = []byte("X-Forwarded-Host")
)

// appendClean appends a field value with CR, LF and NUL made spaces (a
// parsed request has none; defensive).
func appendClean(dst, v []byte) []byte {
	s := len(dst)
	dst = append(dst, v...)
	for i := s; i < len(dst); i++ {
		if c := dst[i]; c == '\r' || c == '\n' || c == 0 {
			dst[i] = ' '
		}
	}
	return dst
}

func appendField(dst, name, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

func isIPv6(a []byte) bool {
	for _, c := range a {
		if c == ':' {
			return true
		}
	}
	return false
}

// quotable reports whether v fits in a quoted-string without escapes.
func quotable(v []byte) bool {
	for _, c := range v {
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
