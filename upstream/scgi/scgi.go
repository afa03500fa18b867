// Package scgi is the SCGI protocol (Neil Schemenauer's "SCGI: A Simple
// Common Gateway Interface alternative") as an upstream.Protocol: the
// request's CGI variables as a netstring of NUL-separated headers,
// CONTENT_LENGTH first and SCGI=1, then the raw body; the response is a
// CGI response (a Status header, or a status line from uWSGI's
// --scgi-nph-socket) that ends when the server closes the connection. One
// request per connection: SCGI has no keep-alive, as nginx's scgi module
// knows.
package scgi

import (
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// Codec is SCGI as an upstream.Protocol.
type Codec struct{ upstream.Unframed }

// Protocol is the SCGI codec.
var Protocol upstream.Protocol = Codec{}

// Name implements upstream.Protocol.
func (Codec) Name() string { return "scgi" }

// Caps implements upstream.Protocol: one request per connection, whose
// head states the body's length (a chunked body is received whole first).
func (Codec) Caps() upstream.Caps { return upstream.Caps{NeedsLength: true} }

// EncodeHead implements upstream.Protocol: the netstring of headers.
func (Codec) EncodeHead(dst []byte, ri *cgi.RequestInfo, bodyLen int64) []byte {
	ri.ContentLength = bodyLen
	return AppendHeaders(dst, ri)
}

// AppendHeaders appends the request's netstring, "<len>:<headers>,".
func AppendHeaders(dst []byte, ri *cgi.RequestInfo) []byte {
	mark := len(dst)
	return cgi.Netstring(cgi.AppendEnv(dst, cgi.SCGI, ri), mark)
}

// NewConn implements upstream.Protocol.
func (Codec) NewConn(int) upstream.ConnCodec { return upstream.NewOneShot() }

// Response implements upstream.Protocol.
func (Codec) Response() upstream.ResponseFormat { return upstream.CGIResponse }
