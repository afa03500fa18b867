package reactor

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// headBuffer is how much response body is held before the head is sent:
// a response that ends within it goes out with Content-Length in one
// write; a longer one is sent chunked as it comes.
const headBuffer = 64 << 10

// downstream is where an exchange's response goes: the client's HTTP/1.1
// connection (*conn) today; an HTTP/2 stream or a cache tee can be one.
// The exchange decides what to send; the downstream how it reaches its
// client, and what its client does next.
type downstream interface {
	// sendResponse writes response bytes (views valid during the call),
	// in order, holding what the client cannot take yet.
	sendResponse(r *exchange, ps ...[]byte)
	// responseDone runs once the whole response was handed over; keep
	// says whether the client may send another request.
	responseDone(r *exchange, keep bool)
	// responseFailed answers status when no head went out yet, else cuts
	// the response short.
	responseFailed(r *exchange, status int, headSent bool)
}

var (
	_ downstream             = (*conn)(nil)
	_ upstream.HeadStream    = (*exchange)(nil)
	_ upstream.InterimStream = (*exchange)(nil)
)

// Data implements upstream.Stream: the response, head first for a CGI
// response (upstream.CGIResponse), body only after Head for a codec that
// parses the head itself (upstream.HTTPResponse).
func (r *exchange) Data(p []byte) error {
	if !r.answered() {
		return nil
	}
	if r.tunnel {
		r.tunnelDown(p)
		return nil
	}
	if r.head == nil {
		n, err := r.rp.Feed(p)
		if err == cgi.ErrNeedMore {
			return nil
		}
		if err != nil {
			return err
		}
		p = p[n:]
		r.head = &r.rp
		r.headIn()
	}
	if r.noBody || len(p) == 0 {
		return nil
	}
	if cl := r.head.Length(); cl >= 0 && int64(len(p)) > cl-r.bodyIn {
		// Bytes beyond the declared length would be read by the client
		// as the start of its next response: drop them, and close after.
		if !r.overrun {
			r.overrun, r.keep = true, false
			r.l.s.cfg.Logger.Error("upstream response longer than its Content-Length; excess dropped", "backend", r.backend(), "content_length", cl)
		}
		p = p[:cl-r.bodyIn]
		if len(p) == 0 {
			return nil
		}
	}
	r.bodyIn += int64(len(p))
	if r.teeing && !r.fill.Body(p) {
		r.teeing = false // over the object limit: it only passes through
	}
	if r.bg {
		return nil // for the cache alone
	}
	if !r.headSent {
		// A body announced beyond the head buffer cannot go out in one
		// write anyway, nor can one the application wants streamed: the
		// head goes now, and nothing is held for it.
		if len(r.held)+len(p) <= headBuffer && r.head.Length() <= headBuffer && !r.streams() {
			r.held = append(r.held, p...)
			r.l.holdBack(r)
			return nil
		}
		r.sendHead(true)
	}
	r.writeBody(p)
	return nil
}

// answered notes that the backend answered r and re-arms its read
// timeout; false when nobody waits for the answer any more.
func (r *exchange) answered() bool {
	if r.state < exAnswering {
		r.state = exAnswering
	}
	if r.cs == nil && !r.bg {
		return false
	}
	r.l.wheel.schedule(&r.t, timerUpstream, r.l.now, r.p.u.ReadTimeout)
	return true
}

// Head implements upstream.HeadStream: the head of an HTTP response,
// parsed by its codec, which keeps it valid until End.
func (r *exchange) Head(h upstream.ResponseHead) error {
	if r.answered() {
		r.head = h
		r.headIn()
	}
	return nil
}

// Interim implements upstream.InterimStream: a backend's 103 Early Hints
// goes to an HTTP/1.1 client at once, before the final response (RFC 8297;
// an HTTP/1.0 client cannot take a 1xx, RFC 9110 section 15.2). It counts
// as an answer: the request is no longer resent, and the read timeout
// starts over.
func (r *exchange) Interim(h upstream.ResponseHead) {
	if r.cs == nil || r.minor == 0 || r.headSent || !r.answered() {
		// (no client: a fetch for the cache alone)
		return
	}
	l := r.l
	l.hdrBuf = append(h.AppendHead(l.hdrBuf[:0]), "\r\n"...)
	r.cs.sendResponse(r, l.hdrBuf) // a view for the call: copied if held
}

// HeadRequest implements upstream.HeadStream.
func (r *exchange) HeadRequest() bool { return r.isHead }

// UpgradeRequest implements upstream.HeadStream.
func (r *exchange) UpgradeRequest() bool { return r.upgrade }

// headIn runs once the response head is complete: it decides what of the
// application's body the client gets.
func (r *exchange) headIn() {
	st := r.head.StatusCode()
	r.status = st
	if r.errStatus != 0 {
		r.status = r.errStatus // an error page: the client gets the error
	}
	if st == 101 {
		r.startTunnel() // the codec let it through: the request asked
		return
	}
	r.noBody = r.isHead || st == 204 || st == 304 || st < 200
	if r.invKey != nil && st >= 200 && st < 400 {
		r.invalidate()
	}
	if r.fill != nil {
		r.teeHead(st)
	}
	if r.bg || r.cacheServe != 0 {
		return // nothing of it goes to a client as it is
	}
	if r.internalH != nil {
		if t := r.head.AccelRedirect(); len(t) > 0 {
			r.internal = append(r.internal[:0], t...)
		} else if t := r.head.LocalRedirect(); t != nil {
			r.internal = append(r.internal[:0], t...)
		}
		if r.internal != nil {
			r.noBody = true // the application's body is replaced
			return
		}
	}
	if r.streams() && !r.noBody {
		// A stream (Server-Sent Events, long polling): its client waits
		// for the head before any event comes.
		r.sendHead(true)
	}
}

// streams reports whether the response goes to the client as it comes,
// nothing held: the application asked (X-Accel-Buffering: no, an event
// stream) or the location did (buffering: off).
func (r *exchange) streams() bool {
	return r.buffering == handlers.BufferingOff || r.head.NoBuffering()
}

// Log implements upstream.Stream: the application's error output goes to
// the error log with the request it belongs to.
func (r *exchange) Log(p []byte) {
	log := r.l.s.cfg.Logger
	if log.Enabled(context.Background(), slog.LevelWarn) {
		log.Warn("upstream stderr", "backend", r.backend(), "msg", string(trimNL(p)))
	}
}

// backend names the backend serving r, for log lines.
func (r *exchange) backend() string {
	if r.up != nil {
		return r.up.name
	}
	return ""
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

// End implements upstream.Stream.
func (r *exchange) End(appStatus uint32, protoStatus uint8) {
	r.l.wheel.cancel(&r.t)
	if uc := r.up; uc != nil {
		r.upEnded(uc)
		uc.ended(r)
	}
	if r.fill != nil && r.head != nil {
		r.teeEnd()
	}
	if r.cs == nil {
		r.release()
		return
	}
	if r.head == nil {
		r.l.s.cfg.Logger.Error("upstream response ended without a head", "backend", r.backend(), "app_status", appStatus, "protocol_status", protoStatus)
		r.failClient(502)
		return
	}
	if cl := r.head.Length(); cl >= 0 && r.bodyIn < cl && !r.noBody {
		// The application promised more than it sent: a truncated body
		// must not pass for a complete one. 502 before the head, a cut
		// connection after it.
		r.l.s.cfg.Logger.Error("upstream response shorter than its Content-Length", "backend", r.backend(), "content_length", cl, "got", r.bodyIn)
		r.failClient(502)
		return
	}
	switch {
	case r.internal != nil, r.cacheServe != 0:
		// served in finishClient, once the upstream read is over
	case !r.headSent:
		r.sendHead(false)
	default:
		if r.enc != nil {
			r.writeCoded(r.enc.Close())
		}
		if r.chunkedTE {
			r.cs.sendResponse(r, lastChunk)
		}
	}
	r.state = exEnded
	r.l.doneEx = append(r.l.doneEx, r)
}

var lastChunk = []byte("0\r\n\r\n")

// sendHead writes the response head; streaming says the body is still
// coming (chunked, unless the application gave a Content-Length).
func (r *exchange) sendHead(streaming bool) {
	l := r.l
	r.headSent = true
	st, cl := r.head.StatusCode(), r.head.Length()
	var b []byte
	if hr := r.hdrRules; hr != nil && r.errStatus == 0 && hr.Applies(st) {
		// The codec's head goes to the loop's spare buffer, and the rules
		// rewrite it from there into the scratch.
		l.hdrBuf = r.head.AppendHead(l.hdrBuf[:0])
		b = hr.AppendHead(l.hctx.Scratch[:0], l.hdrBuf)
	} else {
		b = r.head.AppendHead(l.hctx.Scratch[:0])
	}
	if r.cache != nil {
		b = r.cacheHead(b, 0)
	}
	if r.errStatus != 0 {
		b = withStatus(b, r.errStatus)
	}
	body := r.held
	r.held = r.held[:0]
	if r.zc != nil && !r.noBody {
		known := cl
		if !streaming {
			known = int64(len(body))
		}
		switch {
		case !r.zc.Applies(st, b, known):
		case r.coding == handlers.CodingIdentity:
			// Another client would get it compressed: caches must know.
			b = append(b, "Vary: Accept-Encoding\r\n"...)
		default:
			r.enc = handlers.AcquireEncoder(r.coding)
			b = handlers.AppendCoding(b, r.coding)
			cl = -1 // the coded length is known only at the end
			if !streaming {
				body = r.enc.Whole(body)
			}
		}
	}
	b = append(b, httpcodec.ServerHeader...)
	b = append(b, l.date.Line()...)
	switch {
	case st == 204 || st == 304 || st < 200:
	case !streaming:
		n := int64(len(body))
		if r.isHead && cl >= 0 {
			n = cl
		}
		b = httpcodec.AppendContentLength(b, n)
	case cl >= 0:
		b = httpcodec.AppendContentLength(b, cl)
	case r.minor == 0:
		r.keep = false // an HTTP/1.0 client learns the end from the close
	default:
		r.chunkedTE = true
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	b = endHead(b, r.keep, r.minor)
	l.hctx.Scratch = b
	switch {
	case len(body) == 0 || r.noBody:
		r.cs.sendResponse(r, b)
	case streaming:
		r.cs.sendResponse(r, b)
		r.writeBody(body)
	default:
		r.bodySent += int64(len(body))
		r.cs.sendResponse(r, b, body) // head and body in one write
	}
	l.hctx.Scratch = l.hctx.Scratch[:0]
}

// withStatus replaces the status line at the start of head by status's,
// building the new head after the old one and moving it to the front: no
// allocation once the scratch buffer has grown.
func withStatus(head []byte, status int) []byte {
	end := bytes.Index(head, crlf) + 2
	n := len(head)
	head = httpcodec.AppendStatusLine(head, status)
	head = append(head, head[end:n]...)
	return append(head[:0], head[n:]...) // memmove: overlap is fine
}

// writeBody sends a piece of the application's body, compressed when
// the response is: the encoder is flushed at each piece, so what the
// engine sends now the client can decode now (a stream stays a stream).
func (r *exchange) writeBody(p []byte) {
	if r.enc != nil {
		p = r.enc.Write(p)
	}
	r.writeCoded(p)
}

// writeCoded sends body bytes as they go to the client, chunk-framed when
// chunked.
func (r *exchange) writeCoded(p []byte) {
	if len(p) == 0 {
		return // an empty chunk would end the body
	}
	r.bodySent += int64(len(p))
	if r.chunkedTE {
		var hdr [20]byte
		h := strconv.AppendInt(hdr[:0], int64(len(p)), 16)
		h = append(h, '\r', '\n')
		r.cs.sendResponse(r, h, p, crlf)
		return
	}
	r.cs.sendResponse(r, p)
}

var crlf = []byte("\r\n")

// finishDone completes the client side of exchanges that ended during the
// last upstream read: it runs after Feed returned, so that a client moving
// on to its next request never re-enters the upstream connection's Feed.
//
// It walks the list by index and truncates it in place: popping from the
// front would shrink its capacity by one per request, so that every
// End's append allocated a new array.
func (l *loop) finishDone() {
	for i := 0; i < len(l.doneEx); i++ {
		l.doneEx[i].finishClient()
	}
	clear(l.doneEx)
	l.doneEx = l.doneEx[:0]
}

// finishClient hands the finished response over to its downstream.
func (r *exchange) finishClient() {
	cs, keep := r.cs, r.keep
	if r.cacheServe != 0 && cs != nil && !cs.gone {
		if r.prepareStored(r.cacheServe) {
			r.writeCached()
			return
		}
		// Evicted meanwhile: nothing to answer with but the failure.
		r.cacheServe = 0
		r.failClient(max(r.status, 502))
		return
	}
	if cs != nil && r.internal == nil {
		r.accountUpstream(r.status)
	}
	r.state = exFinished
	if cs == nil || cs.gone {
		r.release()
		r.l.recycle(r)
		return
	}
	cs.responseDone(r, keep)
}

// failClient answers the client with an error status (when no head was
// sent) and closes; after a head, the only honest end is a close.
func (r *exchange) failClient(status int) {
	if r.fill != nil && r.staleOnError(status) {
		return
	}
	cs, ended := r.cs, r.state == exEnded
	r.finish()
	r.cs = nil
	if cs != nil {
		if r.headSent {
			status = r.status // the client got this head, then a close
		}
		r.accountUpstream(status)
	}
	if r.up != nil && !ended {
		r.up.proto.Detach(r.id) // after its end, the ID may be another's
	}
	r.release()
	if cs == nil || cs.gone {
		return
	}
	cs.responseFailed(r, status, r.headSent)
}
