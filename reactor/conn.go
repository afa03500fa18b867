package reactor

import (
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/httpcodec"
)

// maxBacklog bounds the inbound bytes a client may pipeline while its
// earlier responses are still being written; gnet keeps reading even when we
// do not parse, so without it a client could grow our memory at will.
const maxBacklog = 1 << 20

// conn is gale's state for one client connection while it is active (an
// idle keep-alive connection gives it back and is parked: park.go). It is
// kept small: all per-request scratch lives on the loop and the outbound
// queue is attached only while a response waits for socket space.
type conn struct {
	t          timerNode
	gc         gnet.Conn
	l          *loop
	prev, next *conn

	out *outQueue // nil unless a response waits for the socket (see loop.outOf)
	ex  *exchange // the upstream exchange in progress, if any

	fd         int32
	nreq       int32
	closeAfter bool // close once the queued responses are written
	lingering  bool // write side shut, discarding input until the peer closes
	gone       bool // OnClose ran: gc must not be touched
	inStalled  bool
	corked     bool // on loop.corked: its queue goes out at the end of the round
	refused    bool // over Config.MaxConns: its input is never read

	// peer is the client's address as the connection gives it: the
	// socket's, or its PROXY header's (pp); client is the request in
	// hand's, after the trusted proxies (realip.go); limited is the
	// address Config.LimitConn counted the connection under, if any.
	pp      ppState
	peer    netip.AddrPort
	client  netip.AddrPort
	limited netip.Addr
	// pace and paceDue: a request held unread by a rate limit (pace.go).
	pace    paceState
	paceDue int64
}

func (l *loop) open(c gnet.Conn) {
	l.stamp()
	cs := l.newConn(c)
	if !l.admit() {
		l.refuse(cs)
		return
	}
	if l.s.cfg.ProxyProtocol {
		cs.pp = ppAwait
	}
	// A new connection gets the header timeout for its first byte, as
	// nginx's client_header_timeout: an open socket that never speaks is
	// not a kept-alive client.
	l.wheel.schedule(&cs.t, timerIdle, l.now, l.s.cfg.HeaderTimeout)
}

func (l *loop) closed(cs *conn, err error) {
	cs.gone = true
	l.s.limit.open.Add(-1)
	l.wheel.cancel(&cs.t)
	l.conns.remove(cs)
	l.dropOut(cs)
	l.unlimit(cs)
	if r := cs.ex; r != nil {
		cs.ex = nil
		r.clientGone()
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, unix.ECONNRESET) && !errors.Is(err, unix.EPIPE) {
		l.s.cfg.Logger.Debug("connection closed", "err", err)
	}
}

// kill closes the connection now, on the loop, without flushing more.
func (l *loop) kill(cs *conn) {
	if !cs.gone {
		_ = l.el.Close(cs.gc)
	}
}

// idle reports whether the connection is between requests with nothing
// buffered either way.
func (cs *conn) idle() bool {
	return !cs.out.busy() && cs.ex == nil && !cs.lingering && cs.gc.InboundBuffered() == 0 && cs.gc.OutboundBuffered() == 0
}

// pinned reports whether cs holds state a parked slot cannot keep: a PROXY
// header's address. (Its count under Config.LimitConn is given back when
// it idles, parked or not: limitconn.go.)
func (cs *conn) pinned() bool { return cs.pp == ppGot }

func (cs *conn) remote() string {
	if a := cs.gc.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// traffic is OnTraffic for a client connection.
func (l *loop) traffic(cs *conn) {
	l.stamp()
	if cs.pp == ppAwait && !cs.lingering && !cs.refused && !l.readProxyHeader(cs) {
		return
	}
	if cs.lingering || cs.refused {
		_, _ = cs.gc.Discard(0) // Discard(0) drops everything buffered
		if cs.lingering && cs.refused {
			// Answered, and its request is read: closing now sends no
			// RST over the 503 (the socket holds no unread input), and
			// gives the fd back at once (refusedLinger).
			l.kill(cs)
		}
		return
	}
	if r := cs.ex; r != nil && r.receiving() {
		buf, _ := cs.gc.Peek(-1)
		_, _ = cs.gc.Discard(r.takeBody(buf))
		return
	}
	if r := cs.ex; r != nil && r.tunnel {
		r.tunnelUp()
		return
	}
	if cs.out.busy() || cs.closeAfter || cs.ex != nil || cs.pace == paceHeld {
		// Earlier responses are still being written, or a request waits
		// for its turn: leave pipelined requests buffered until then.
		if cs.gc.InboundBuffered() > maxBacklog {
			l.kill(cs)
		}
		return
	}
	l.process(cs)
}

// process answers the complete requests buffered on cs, in order, until it
// runs out of input, must wait for a response to drain, or closes.
func (l *loop) process(cs *conn) {
	for !cs.gone && !cs.out.busy() && cs.ex == nil && !cs.closeAfter && !cs.lingering && cs.pace != paceHeld {
		if !l.parseBatch(cs) {
			return
		}
	}
}

// parseBatch handles the requests in the inbound buffer and writes their
// responses with one writev. It reports whether it is worth calling again
// (it stopped for a streamed response with more requests behind it).
func (l *loop) parseBatch(cs *conn) bool {
	buf, _ := cs.gc.Peek(-1)
	off := 0
	more := false // stopped early for a streamed response, with input left
	if l.s.cfg.AccessLog != nil {
		l.batchStart = time.Now()
	}
	perRequest := len(l.s.cfg.TrustedProxies) > 0
	if !perRequest {
		cs.client = cs.peer
		l.hctx.Client = cs.peer.Addr()
	}
	for off < len(buf) {
		n, err := l.parser.Parse(buf[off:], &l.req)
		if err == httpcodec.ErrNeedMore {
			if cs.t.kind != timerHeader {
				l.wheel.schedule(&cs.t, timerHeader, l.now, l.s.cfg.HeaderTimeout)
			}
			break
		}
		if err != nil {
			l.badRequest(cs, "bad request", err)
			off = len(buf)
			break
		}
		l.rawHead = buf[off : off+n]
		off += n
		if perRequest {
			l.resolveClient(cs, &l.req)
		}
		if lc := l.s.cfg.LimitConn; lc != nil && !cs.limited.IsValid() && !l.admitClient(cs, lc) {
			off = len(buf)
			break
		}
		l.resp.Reset()
		l.hctx.Paced = cs.pace == pacePaced
		l.s.currentHandler().Serve(&l.hctx, &l.req, &l.resp)
		cs.pace = paceNone
		if hold := l.resp.Hold; hold > 0 {
			off -= n // unread until its turn, and served again then
			l.holdRequest(cs, hold)
			break
		}
		cs.nreq++
		if route := l.resp.Upstream; route != nil {
			if route.Cache == nil || !l.cacheLookup(cs, route) {
				off += l.startExchange(cs, route, buf[off:])
				break
			}
			// Answered from the cache, as a static response. A request
			// with a body never is (see CachePolicy.Lookup).
		}
		complete := true
		if l.req.HasBody() {
			k, done, err := l.skipBody(buf[off:])
			if err != nil {
				l.badRequest(cs, "bad request body", err)
				off = len(buf)
				break
			}
			off += k
			complete = done
		}
		l.handle(cs, complete)
		if cs.closeAfter {
			break
		}
		if cs.out.hasFile() {
			more = off < len(buf)
			break
		}
	}
	if off > 0 {
		_, _ = cs.gc.Discard(off)
		if cs.t.kind == timerHeader && off == len(buf) {
			l.wheel.cancel(&cs.t)
		}
	}
	l.flush(cs)
	return more && cs.gc.InboundBuffered() > 0
}

// handle queues the handler's response to l.req on l.iov.
// bodyDone says the request's body (if any) was received and skipped.
func (l *loop) handle(cs *conn, bodyDone bool) {
	req, resp := &l.req, &l.resp

	keep := req.KeepAlive && !resp.Close && !l.draining && int(cs.nreq) < l.s.cfg.MaxRequestsPerConn
	if !bodyDone {
		// Synchronous handlers never read a body. One that has not fully
		// arrived is not waited for: answer, close, and let the lingering
		// close drain it. (A client waiting for 100 Continue is spared
		// the upload.)
		keep = false
	}
	l.accountSync(cs, l.queueResponse(cs, keep))
}

// queueResponse queues l.resp on l.iov (its file, if any, on cs's queue)
// with the Date line and, unless keep, "Connection: close"; it returns the
// head's length.
func (l *loop) queueResponse(cs *conn, keep bool) int {
	req, resp := &l.req, &l.resp
	scratch := l.hctx.Scratch
	start := len(scratch)
	if !resp.OwnDate {
		scratch = append(scratch, l.date.Line()...)
	}
	if resp.CacheStatus != "" && len(resp.HeadMore) == 0 {
		scratch = append(scratch, "Cache-Status: "...)
		scratch = append(scratch, resp.CacheStatus...)
		scratch = append(scratch, "\r\n"...)
	}
	scratch = endHead(scratch, keep, req.Minor)
	if !keep {
		cs.closeAfter = true
	}
	l.hctx.Scratch = scratch
	if len(resp.HeadMore) > 0 {
		l.iov = append(l.iov, resp.Head, resp.HeadMore, scratch[start:])
	} else {
		l.iov = append(l.iov, resp.Head, scratch[start:])
	}
	headLen := len(resp.Head) + len(resp.HeadMore) + len(scratch) - start
	for _, b := range resp.Body {
		if len(b) > 0 {
			l.iov = append(l.iov, b)
		}
	}
	if resp.Pin != nil {
		l.pins = append(l.pins, resp.Pin) // until flush
		resp.Pin = nil
	}
	if resp.File != nil {
		q := l.outOf(cs)
		q.setFile(resp.File, resp.FileOff, resp.FileLen, resp.FileRef)
		q.more = resp.FileMore
		resp.File, resp.FileRef, resp.FileMore = nil, nil, nil
		if cs.gone {
			l.dropOut(cs) // closed while handling: nothing will send it
		}
	}
	return headLen
}

// badRequest logs, answers and accounts a request of the current batch
// that failed to parse (err says the status); the connection closes after.
func (l *loop) badRequest(cs *conn, msg string, err error) {
	status := httpcodec.StatusOf(err)
	l.s.cfg.Logger.Info(msg, "remote", cs.remote(), "status", status, "err", err)
	l.queueError(cs, status)
	l.accountError(cs, status, l.batchStart)
}

// queueError queues a complete error response and marks the connection to
// close after it: after a framing error nothing that follows can be trusted.
func (l *loop) queueError(cs *conn, status int) {
	start := len(l.hctx.Scratch)
	l.hctx.Scratch = httpcodec.AppendError(l.hctx.Scratch, status, l.date.Line())
	l.iov = append(l.iov, l.hctx.Scratch[start:])
	l.stats.sentBytes += uint64(len(l.hctx.Scratch) - start)
	cs.closeAfter = true
}
