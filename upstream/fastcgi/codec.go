package fastcgi

import (
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// Codec is FastCGI as an upstream.Protocol: FCGI_KEEP_CONN on every
// request, multiplexing when the application answers FCGI_MPXS_CONNS=1
// (Go's net/http/fcgi; php-fpm does not), FCGI_ABORT_REQUEST to cancel.
type Codec struct{}

// Protocol is the FastCGI codec.
var Protocol upstream.Protocol = Codec{}

// Name implements upstream.Protocol.
func (Codec) Name() string { return "fastcgi" }

// Caps implements upstream.Protocol.
func (Codec) Caps() upstream.Caps {
	return upstream.Caps{Multiplex: true, KeepAlive: true, Pipeline: true, NeedsLength: true, InBandCancel: true}
}

// EncodeHead implements upstream.Protocol: FCGI_BEGIN_REQUEST (responder,
// FCGI_KEEP_CONN) and the whole FCGI_PARAMS stream.
func (Codec) EncodeHead(dst []byte, ri *cgi.RequestInfo, bodyLen int64) []byte {
	ri.ContentLength = bodyLen
	return AppendRequest(dst, 1, ri)
}

// PatchID implements upstream.Protocol: it rewrites the ID of every record
// in head.
func (Codec) PatchID(head []byte, id uint16) {
	for i := 0; i+HeaderLen <= len(head); {
		h := DecodeHeader(head[i:])
		head[i+2], head[i+3] = byte(id>>8), byte(id)
		i += HeaderLen + int(h.ContentLength) + int(h.PaddingLength)
	}
}

// MaxFrame implements upstream.Protocol: one FCGI_STDIN record's content.
func (Codec) MaxFrame() int { return MaxContent }

// FrameBody implements upstream.Protocol: an FCGI_STDIN record header.
func (Codec) FrameBody(dst []byte, id uint16, n int) []byte {
	return AppendHeader(dst, TypeStdin, id, n, 0)
}

// FrameEnd implements upstream.Protocol: the empty FCGI_STDIN record.
func (Codec) FrameEnd(dst []byte, id uint16) []byte { return AppendStdinEOF(dst, id) }

// Cancel implements upstream.Protocol: FCGI_ABORT_REQUEST.
func (Codec) Cancel(dst []byte, id uint16) []byte { return AppendAbort(dst, id) }

// NewConn implements upstream.Protocol.
func (Codec) NewConn(maxMux int) upstream.ConnCodec { return NewConn(maxMux) }

// Response implements upstream.Protocol: FCGI_STDOUT carries a CGI
// response.
func (Codec) Response() upstream.ResponseFormat { return upstream.CGIResponse }

// AppendRequest appends everything that starts request id on the wire:
// FCGI_BEGIN_REQUEST (responder, FCGI_KEEP_CONN) and the FCGI_PARAMS stream
// with its terminating empty record. The body follows with AppendStdin and
// AppendStdinEOF. The pairs are written once, in place, and framed after.
func AppendRequest(dst []byte, id uint16, ri *cgi.RequestInfo) []byte {
	dst = appendBegin(dst, id)
	mark := len(dst)
	dst = AppendHeader(dst, TypeParams, id, 0, 0)
	dst = cgi.AppendEnv(dst, cgi.FastCGI, ri)
	dst = frameInPlace(dst, mark, TypeParams, id)
	return AppendStreamEnd(dst, TypeParams, id)
}

// appendBegin appends FCGI_BEGIN_REQUEST (responder, FCGI_KEEP_CONN)
// padded with a blank line. A FastCGI application reads a record's padding
// and drops it (spec section 3.3; nginx pads its params and body records). An HTTP server
// on the port by mistake (gunicorn behind -fastcgi) would wait for the CRLF
// of a request line that FastCGI records never hold, until its own
// timeout; the blank line makes it reject the request at once, and its
// "HTTP/1.1 400" is what ParseRecord recognizes (ErrSpeaksHTTP). Only a
// record with content is padded: php-fpm skips the padding of those, not
// of an empty one.
func appendBegin(dst []byte, id uint16) []byte {
	dst = AppendHeader(dst, TypeBeginRequest, id, 8, uint8(len(blankLine)))
	dst = append(dst, byte(RoleResponder>>8), byte(RoleResponder), FlagKeepConn, 0, 0, 0, 0, 0)
	return append(dst, blankLine...)
}

const blankLine = "\r\n\r\n"

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
