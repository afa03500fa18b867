package reactor

import "github.com/gale-http/gale/httpcodec"

// A tunnel is what an exchange becomes when its backend answers a
// WebSocket handshake with 101 Switching Protocols: the client connection
// and the upstream connection carry each other's bytes, unparsed, until
// either side closes or both stay silent for the upstream's ReadTimeout.
// The upstream connection stays out of its pool (its codec holds the
// request until the close), so the tunnel keeps its budget.
//
// Backend to client goes through the downstream like any response body
// (sendResponse: straight to the socket, else held in memory and then the
// spool file); client to backend is written to the upstream connection,
// whose unwritten rest gnet keeps. Neither direction pauses its reader
// yet: gnet cannot stop reading a socket.

// startTunnel sends the 101 head to the client and turns r into a tunnel;
// what the client sent after its handshake goes to the backend now.
func (r *exchange) startTunnel() {
	l := r.l
	r.tunnel, r.keep, r.headSent = true, false, true
	b := r.head.AppendHead(l.hctx.Scratch[:0])
	b = append(b, httpcodec.ServerHeader...)
	b = append(b, l.date.Line()...)
	b = append(b, "\r\n"...)
	l.hctx.Scratch = b
	r.cs.sendResponse(r, b)
	l.hctx.Scratch = l.hctx.Scratch[:0]
	if r.cs != nil && !r.cs.gone && r.cs.gc.InboundBuffered() > 0 {
		r.tunnelUp()
	}
}

// tunnelDown passes backend bytes to the client.
func (r *exchange) tunnelDown(p []byte) {
	r.bodyIn += int64(len(p))
	r.bodySent += int64(len(p))
	r.cs.sendResponse(r, p)
}

// tunnelUp passes what the client sent to the backend, and keeps the
// tunnel's idle timer from firing while the client talks.
func (r *exchange) tunnelUp() {
	cs := r.cs
	buf, _ := cs.gc.Peek(-1)
	if uc := r.up; uc != nil && uc.usable() && len(buf) > 0 {
		_, _ = uc.gc.Write(buf) // gnet keeps what the socket does not take
		r.l.wheel.schedule(&r.t, timerUpstream, r.l.now, r.p.u.ReadTimeout)
	}
	_, _ = cs.gc.Discard(len(buf))
}
