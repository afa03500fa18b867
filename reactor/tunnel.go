package reactor

import (
	"github.com/gale-http/gale/httpcodec"
	"github.com/panjf2000/gnet/v2"
)

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
// whose unwritten rest gnet keeps. Each direction has backpressure: once
// tunnelHighWater bytes wait for the receiver, gale stops reading the
// sender's socket (gnet's PauseRead, see internal/gnet/GALE.md), so the
// kernel's window closes on the sender; reading resumes once the receiver
// took everything. A flood through a WebSocket costs gale a bounded amount
// of memory and disk, however slow the other side.

// tunnelHighWater is how many bytes may wait for one side of a tunnel
// before gale stops reading the other.
const tunnelHighWater = 256 << 10

// readPauser is gale's gnet patch: a connection whose reads can stop.
type readPauser interface {
	PauseRead() error
	ResumeRead() error
}

// pauseRead stops reading gc; false if the poller refused (gc is broken
// and about to close).
func pauseRead(gc gnet.Conn) bool {
	p, ok := gc.(readPauser)
	return ok && p.PauseRead() == nil
}

func resumeRead(gc gnet.Conn) {
	if p, ok := gc.(readPauser); ok {
		_ = p.ResumeRead()
	}
}

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

// tunnelDown passes backend bytes to the client, and stops reading the
// backend while too many wait for the client (resumed by
// tunnelClientDrained).
func (r *exchange) tunnelDown(p []byte) {
	r.bodyIn += int64(len(p))
	r.bodySent += int64(len(p))
	cs := r.cs
	cs.sendResponse(r, p)
	if !r.downHeld && !cs.gone && cs.out.pending() > tunnelHighWater && r.up != nil {
		r.downHeld = pauseRead(r.up.gc)
	}
}

// tunnelClientDrained runs when everything queued for the client was
// written: the backend may send again.
func (r *exchange) tunnelClientDrained() {
	if r.downHeld {
		r.downHeld = false
		if uc := r.up; uc != nil && uc.usable() {
			resumeRead(uc.gc)
		}
	}
}

// tunnelBackendDrained runs when gnet wrote everything queued for the
// backend: the client may send again.
func (r *exchange) tunnelBackendDrained() {
	if r.upHeld && r.up != nil && r.up.gc.OutboundBuffered() == 0 {
		r.upHeld = false
		if cs := r.cs; cs != nil && !cs.gone {
			resumeRead(cs.gc)
		}
	}
}

// tunnelUp passes what the client sent to the backend, and keeps the
// tunnel's idle timer from firing while the client talks.
func (r *exchange) tunnelUp() {
	cs := r.cs
	buf, _ := cs.gc.Peek(-1)
	if uc := r.up; uc != nil && uc.usable() && len(buf) > 0 {
		_, _ = uc.gc.Write(buf) // gnet keeps what the socket does not take
		r.l.wheel.schedule(&r.t, timerUpstream, r.l.now, r.p.u.ReadTimeout)
		if !r.upHeld && uc.gc.OutboundBuffered() > tunnelHighWater && pauseRead(cs.gc) {
			// gnet flushes on its own; the writable wait says when
			// (upConn.resumeWrite).
			r.upHeld = true
			r.l.waitWritable(uc)
		}
	}
	_, _ = cs.gc.Discard(len(buf))
}
