// Package uwsgi is uWSGI's native protocol (what nginx's uwsgi_pass speaks
// to uWSGI's --socket) as an upstream.Protocol: a 4-byte packet header
// (modifier1 0, the WSGI request; the vars block's size as a 16-bit
// little-endian number; modifier2 0), the vars block (the CGI variables,
// each name and value after its own 16-bit little-endian length), then
// the raw body. The response is raw HTTP/1.x (uWSGI writes the status
// line itself), parsed by httpproxy's connection state (the HTTP
// upstream's httpcodec.ResponseParser): its body ends at its
// Content-Length, its last chunk or the close. One request per
// connection: uWSGI closes after every response.
package uwsgi

import (
	"strconv"

	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
	"github.com/gale-http/gale/upstream/httpproxy"
)

// MaxVars is the largest vars block the packet header can state (a 16-bit
// size); uWSGI's own buffer-size (4 KiB by default) is often lower.
const MaxVars = 1<<16 - 1

// HeaderLen is the size of the packet header before the vars block.
const HeaderLen = 4

// Codec is uwsgi as an upstream.Protocol.
type Codec struct{ upstream.Unframed }

// Protocol is the uwsgi codec.
var Protocol upstream.Protocol = Codec{}

var (
	_ upstream.HeadLimiter = Codec{}
	_ upstream.LossHinter  = Codec{}
)

// Name implements upstream.Protocol.
func (Codec) Name() string { return "uwsgi" }

// Caps implements upstream.Protocol: one request per connection, whose
// head states the body's length (CONTENT_LENGTH: a chunked body is
// received whole first, since uWSGI reads exactly that many bytes).
func (Codec) Caps() upstream.Caps { return upstream.Caps{NeedsLength: true} }

// EncodeHead implements upstream.Protocol: the packet header and the vars
// block. A vars block over MaxVars gets a size field that is wrong (its
// low 16 bits); the engine never sends it (HeadLimit).
func (Codec) EncodeHead(dst []byte, ri *cgi.RequestInfo, bodyLen int64) []byte {
	ri.ContentLength = bodyLen
	mark := len(dst)
	dst = append(dst, 0, 0, 0, 0) // modifier1 0 (WSGI), size, modifier2 0
	dst = cgi.AppendEnv(dst, cgi.UWSGI, ri)
	n := len(dst) - mark - HeaderLen
	dst[mark+1], dst[mark+2] = byte(n), byte(n>>8)
	return dst
}

// HeadLimit implements upstream.HeadLimiter: the packet header states the
// vars block's size in 16 bits, so a larger one cannot be sent at all.
func (Codec) HeadLimit() (int, string) {
	return HeaderLen + MaxVars, "the uwsgi vars block is at most 65535 bytes (a 16-bit size); the request's headers are too large for it"
}

// DefaultBufferSize is uWSGI's default --buffer-size: the largest vars
// block it takes; a larger one makes it log "invalid request block size"
// and close the connection without an answer.
const DefaultBufferSize = 4096

// LossHint implements upstream.LossHinter: a connection closed before any
// answer to a vars block over uWSGI's default buffer-size was most likely
// that refusal.
func (Codec) LossHint(headLen int) string {
	vars := headLen - HeaderLen
	if vars <= DefaultBufferSize {
		return ""
	}
	return "the request's uwsgi vars are " + strconv.Itoa(vars) + " bytes, over uWSGI's default buffer-size (4096), which it refuses by closing: raise uWSGI's --buffer-size (up to 65535)"
}

// NewConn implements upstream.Protocol: an HTTP response on a connection
// that carries one request.
func (Codec) NewConn(int) upstream.ConnCodec { return httpproxy.NewOneShotConn() }

// Response implements upstream.Protocol.
func (Codec) Response() upstream.ResponseFormat { return upstream.HTTPResponse }
