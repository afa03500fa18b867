package reactor

import (
	"context"
	"net"
	"os"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/fastcgi"
)

// pool is one event loop's share of the connections to one upstream: the
// idle kept-alive connections, those being dialed, and the FIFO of requests
// waiting for one. It is owned by the loop: no locks. The budget across
// loops is the backends' atomic counters.
type pool struct {
	l     *loop
	u     *upstream.Upstream
	idle  []*upConn // LIFO: the most recently used is the warmest
	conns []*upConn // every open or dialing connection (for multiplexing)
	queue []*fcgiReq
	qhead int
	// retired: no handler routes here any more (Server.RetireUpstream).
	// Connections close when idle; the pool leaves the loop when empty.
	retired bool
}

func (l *loop) poolFor(u *upstream.Upstream) *pool {
	p := l.pools[u]
	if p == nil {
		p = &pool{l: l, u: u}
		if _, ok := l.s.retired.Load(u); ok {
			p.retired = true // a request that began before the reload
		}
		l.pools[u] = p
	}
	return p
}

// retire closes the idle connections; upIdle closes the others as their
// requests end.
func (p *pool) retire() {
	p.retired = true
	for len(p.idle) > 0 {
		uc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		uc.inIdle = false
		p.l.upClose(uc)
	}
	p.forgetIfEmpty()
}

// forgetIfEmpty drops a retired pool with nothing left in it from its
// loop, so the upstream can be garbage collected.
func (p *pool) forgetIfEmpty() {
	if p.retired && len(p.conns) == 0 && p.qhead == len(p.queue) && p.l.pools[p.u] == p {
		delete(p.l.pools, p.u)
	}
}

// upConn is one connection to a FastCGI backend, registered on the loop
// whose clients it serves.
type upConn struct {
	l         *loop
	p         *pool
	b         *upstream.Backend
	gc        gnet.Conn // nil while dialing
	fd        int
	proto     fastcgi.Conn
	out       outQueue
	t         timerNode
	pending   []*fcgiReq // assigned, waiting for the dial
	inStalled bool
	closed    bool
	reused    bool // has completed at least one request
	served    int
	// answeredSinceReuse: a byte came back since the last END_REQUEST.
	answeredSinceReuse bool
	closedAfterEnd     bool      // the backend closed it after a clean END
	sentAt             time.Time // when the first request went out on this connection
	answered           bool      // any byte came back
	starving           bool      // counted in the backend's Starving
	inIdle             bool
	st                 *backendStats // this loop's counters for b
	closing            bool          // gale closes it: not the backend's doing
	closeAfterFeed     bool          // upClose was asked for during Feed
	partial            bool          // the last read ended inside a record
	broken             bool          // the backend broke the protocol: no resend
	aborted            []*fcgiReq    // released when the connection closes
	// busySince is when the backend began the request it is working on,
	// for a connection that carries one at a time: a request is pipelined
	// only behind one that began within the upstream's Window.
	busySince time.Time
}

func (uc *upConn) stalledFlag() *bool   { return &uc.inStalled }
func (uc *upConn) writeConn() gnet.Conn { return uc.gc }

// refreshLimit applies the backend's multiplexing answer, which may have
// arrived after this connection opened, and returns the limit: the number
// of requests multiplexed, or pipelined one behind another.
func (uc *upConn) refreshLimit() int {
	lim := uc.b.MuxLimit(uc.p.u)
	if lim == 1 {
		lim = uc.b.PipelineDepth(uc.p.u)
	}
	if lim != uc.proto.Limit() {
		uc.proto.SetLimit(lim)
	}
	return uc.proto.Limit()
}

// muxes reports whether the backend serves several requests on uc at
// once; if not, requests beyond the first wait their turn (pipelined).
func (uc *upConn) muxes() bool { return uc.b.MuxLimit(uc.p.u) > 1 }
func (uc *upConn) resumeWrite() {
	if !uc.closed {
		uc.l.upPump(uc)
	}
}

// assign finds a connection for r: an idle one, spare capacity on a
// multiplexing one, a new one within the budget, or a place in the queue.
func (p *pool) assign(r *fcgiReq) {
	for len(p.idle) > 0 && !r.fresh {
		uc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		uc.inIdle = false
		if !uc.closed {
			p.l.send(uc, r)
			return
		}
	}
	for _, uc := range p.conns {
		if !r.fresh && !uc.closed && uc.gc != nil && uc.muxes() && uc.room() {
			p.l.send(uc, r)
			return
		}
	}
	if p.probing() {
		// Whether the backend multiplexes is not known yet: rather than
		// open the whole budget, wait for the first connection. This wait
		// is not for budget, so it does not count in Waiting.
		p.queue = append(p.queue, r)
		r.queued = true
		p.l.wheel.schedule(&r.t, timerQueue, p.l.now, p.u.QueueTimeout)
		return
	}
	if b := p.u.Pick(p.l.now, r.failed); b != nil && b.Acquire() {
		p.dial(b, r)
		return
	}
	if r.failed != nil {
		r.fail(502, "connect failed and no other backend can take the request")
		return
	}
	if !p.u.Healthy(time.Now()) {
		r.fail(502, "no healthy backend")
		return
	}
	if p.pipeline(r) {
		return
	}
	p.enqueue(r)
	p.l.wheel.schedule(&r.t, timerQueue, p.l.now, p.u.QueueTimeout)
}

// enqueue puts r in the FIFO of requests waiting for budget.
func (p *pool) enqueue(r *fcgiReq) {
	p.queue = append(p.queue, r)
	r.queued, r.counted = true, true
	p.u.Waiting.Add(1)
}

// unqueue marks r as no longer waiting; its slot is skipped lazily.
func (p *pool) unqueue(r *fcgiReq) {
	if r.queued {
		r.queued = false
		if r.counted {
			r.counted = false
			p.u.Waiting.Add(-1)
		}
	}
}

// retry gives queued requests another chance at the budget, after another
// loop released a connection.
func (p *pool) retry() {
	for n := len(p.queue) - p.qhead; n > 0; n-- {
		r := p.popQueued()
		if r == nil {
			return
		}
		p.assign(r)
		if r.queued {
			return // still no budget: keep FIFO order
		}
	}
}

// budgetFreed tells the other loops that a connection's budget came back,
// when requests wait there (rare: only when the budget is used up).
func (l *loop) budgetFreed(u *upstream.Upstream) {
	if u.Waiting.Load() == 0 {
		return
	}
	l.s.post(func(o *loop) {
		if p := o.pools[u]; p != nil {
			p.retry()
		}
	})
}

// probing reports whether this loop is dialing a backend whose
// FCGI_GET_VALUES answer is not in yet.
func (p *pool) probing() bool {
	for _, uc := range p.conns {
		if uc.gc == nil && !uc.closed && !uc.b.ValuesKnown() {
			return true
		}
	}
	return false
}

// next hands a queued request to uc, which has room; false if none waits.
// A connection that already carries a request and does not multiplex
// takes only a pipelinable one: anything else waits for a connection of
// its own, and stops the queue behind it, so that the connections drain
// and it is not starved by GETs passing it.
func (p *pool) next(uc *upConn) bool {
	if uc.proto.Live() > 0 && !uc.muxes() {
		if h := p.peekQueued(); h == nil || !h.pipelinable || !uc.pipelines(time.Now()) {
			return false
		}
		uc.st.pipelined++
	}
	r := p.popQueued()
	if r == nil {
		return false
	}
	p.l.send(uc, r)
	return true
}

// pipelines reports whether uc may take a request behind the one it
// carries at now: the backend does not multiplex but keeps connections
// open (its limit is then above 1), the connection is healthy with a free
// slot, and the request ahead began within the upstream's Window.
func (uc *upConn) pipelines(now time.Time) bool {
	return !uc.closed && uc.gc != nil && uc.proto.Quarantined() == 0 && !uc.out.busy() &&
		!uc.muxes() && uc.room() && now.Sub(uc.busySince) < uc.p.u.Window()
}

// pipeline sends r behind the request of a busy connection when the
// budget is used up and nobody waits for it, instead of queueing r:
// the backend's worker then finds r in its socket as it finishes, without
// a sleep and a wakeup on each side. Only GET and HEAD without a body
// qualify: if the backend closes the connection before answering them
// (php-fpm recycling a worker at pm.max_requests), they are resent on a
// fresh connection. Among the candidates, the connection carrying the
// fewest requests wins, then the one whose request began first.
func (p *pool) pipeline(r *fcgiReq) bool {
	// Not while anyone waits, here or on another loop: those requests
	// come first, and they need this loop's connections to drain (upIdle
	// hands idle budget over to other loops).
	if !r.pipelinable || r.fresh || p.u.Pipeline < 2 || p.u.Waiting.Load() > 0 || p.peekQueued() != nil {
		return false
	}
	var best *upConn
	now := time.Now()
	for _, uc := range p.conns {
		if !uc.pipelines(now) {
			continue
		}
		if best == nil || uc.proto.Live() < best.proto.Live() ||
			uc.proto.Live() == best.proto.Live() && uc.busySince.Before(best.busySince) {
			best = uc
		}
	}
	if best == nil {
		return false
	}
	best.st.pipelined++
	p.l.send(best, r)
	return true
}

// dial opens a connection to b for r. The dial runs on its own goroutine
// (net.Dialer enforces the connect timeout), then the socket is enrolled
// into this loop: the loop never blocks on it.
func (p *pool) dial(b *upstream.Backend, r *fcgiReq) {
	uc := &upConn{l: p.l, p: p, b: b}
	uc.st = p.l.statsFor(uc)
	uc.t.owner = uc
	uc.proto.Reset(max(p.u.MaxMux, p.u.Pipeline))
	uc.pending = append(uc.pending, r)
	p.conns = append(p.conns, uc)
	probe := b.StartProbe()
	u, el := p.u, p.l.el
	if probe {
		// In parallel with the first dial: the first request need not
		// wait for an answer some backends (uWSGI) never give.
		go func() {
			probeValues(u, b)
			b.ProbeDone()
			_ = el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				p.l.stamp()
				p.retry() // requests that waited for the answer
				return nil
			}))
		}()
	}
	go func() {
		d := net.Dialer{Timeout: u.ConnectTimeout}
		c, err := d.Dial(b.Network, b.Address)
		if err == nil {
			_, err = el.Enroll(gnet.NewContext(context.Background(), uc), c)
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			_ = el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				uc.l.stamp()
				uc.l.dialFailed(uc, err)
				return nil
			}))
		}
	}()
}

// probeTimeout bounds the wait for an FCGI_GET_VALUES answer.
const probeTimeout = 300 * time.Millisecond

// probeValues asks the backend FCGI_GET_VALUES once, on a throwaway
// connection, so pooled connections never carry management records: some
// applications close the connection after answering.
func probeValues(u *upstream.Upstream, b *upstream.Backend) {
	c, err := net.DialTimeout(b.Network, b.Address, u.ConnectTimeout)
	if err != nil {
		return
	}
	defer c.Close()
	// Applications that answer do so at once; one that does not (uWSGI)
	// must not hold requests for long.
	c.SetDeadline(time.Now().Add(min(u.ConnectTimeout, probeTimeout)))
	var pc fastcgi.Conn
	pc.Reset(1)
	if _, err := c.Write(pc.AppendGetValues(nil)); err != nil {
		return
	}
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for !pc.Values().Known {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		k, ferr := pc.Feed(buf)
		buf = buf[k:]
		if err != nil || ferr != nil {
			return
		}
	}
	v := pc.Values()
	b.SetValues(u, v.MaxConns, v.MaxReqs, v.MpxsConns)
}

// upOpen runs when a dialed connection joins the loop.
func (l *loop) upOpen(uc *upConn, c gnet.Conn) {
	uc.gc, uc.fd = c, c.Fd()
	uc.refreshLimit()
	pending := uc.pending
	uc.pending = nil
	for _, r := range pending {
		if r.abandoned() {
			continue
		}
		l.send(uc, r)
	}
	if uc.proto.Idle() {
		l.upIdle(uc)
	}
	uc.p.retry() // requests that waited for the probe
}

func (l *loop) dialFailed(uc *upConn, err error) {
	l.s.cfg.Logger.Error("upstream connect failed", "backend", uc.b.String(), "err", err)
	uc.upError(upErrConnect)
	uc.b.Failed(uc.p.u, time.Now())
	l.upDrop(uc, true)
}

// send starts r on uc.
func (l *loop) send(uc *upConn, r *fcgiReq) {
	if uc.gc == nil {
		uc.pending = append(uc.pending, r)
		return
	}
	id, ok := uc.proto.Begin(r)
	if !ok {
		// Cannot happen: callers check capacity. Requeue defensively.
		uc.p.enqueue(r)
		return
	}
	r.up, r.id = uc, id
	r.sentAt = time.Now()
	if uc.proto.Live() == 1 {
		uc.busySince = r.sentAt
	}
	if uc.t.kind == timerUpIdle {
		l.wheel.cancel(&uc.t)
	}
	setRequestID(r.wire.B, id)
	l.wheel.schedule(&r.t, timerUpstream, l.now, uc.p.u.ReadTimeout)
	r.sent = true
	if uc.sentAt.IsZero() {
		uc.sentAt = l.now
	}
	if r.bodyFile != nil {
		if id != 1 {
			if err := setFileRequestID(r.bodyFile, r.bodyFileLen, id); err != nil {
				l.s.cfg.Logger.Error("request body spool", "err", err)
			}
		}
		uc.out.views = append(uc.out.views, r.wire.B)
		uc.out.lend(r.bodyFile, r.bodyFileLen)
		l.upPump(uc)
		return
	}
	if !uc.out.busy() && len(r.wire.B) <= l.s.cfg.HighWater {
		_, _ = uc.gc.Write(r.wire.B) // gnet buffers a short remainder itself
		return
	}
	uc.out.views = append(uc.out.views, r.wire.B)
	l.upPump(uc)
}

func (l *loop) upPump(uc *upConn) {
	switch pumpQueue(uc.gc, uc.fd, &uc.out, l.s.cfg.Logger.Warn) {
	case pumpStalled:
		l.waitWritable(uc)
	case pumpFailed:
		_ = l.el.Close(uc.gc)
	}
}

// upTraffic feeds what the backend sent to the protocol state.
func (l *loop) upTraffic(uc *upConn) {
	l.stamp()
	buf, _ := uc.gc.Peek(-1)
	if len(buf) > 0 {
		uc.answeredSinceReuse = true
		if !uc.answered {
			uc.answered = true
			uc.setStarving(false)
		}
	}
	l.feeding = uc
	n, err := uc.proto.Feed(buf)
	l.feeding = nil
	if n > 0 {
		_, _ = uc.gc.Discard(n)
	}
	l.finishDone()
	if uc.closeAfterFeed {
		l.upClose(uc)
		return
	}
	if err != nil {
		l.s.cfg.Logger.Error("upstream protocol error", "backend", uc.b.String(), "err", err)
		uc.upError(upErrProtocol)
		uc.b.Failed(uc.p.u, time.Now())
		uc.broken = true
		l.upClose(uc)
		return
	}
	uc.partial = n < len(buf)
	if uc.closed || len(uc.pending) > 0 {
		return
	}
	if uc.proto.Idle() && n == len(buf) {
		l.upIdle(uc)
	} else if !uc.muxes() {
		// The request ahead ended and a pipelined one runs: the slot it
		// freed takes the next queued GET.
		for uc.room() && uc.p.next(uc) {
		}
	}
}

// upIdle gives an idle connection the next queued request, or parks it in
// the idle list with an idle timeout so it does not pin a worker forever.
func (l *loop) upIdle(uc *upConn) {
	if uc.served > 0 && uc.proto.Idle() && uc.b.NoKeepAlive() {
		// The backend closes every connection after a request (uWSGI):
		// reusing one would race its close. Closing frees the budget for
		// a fresh connection.
		_ = l.el.Close(uc.gc)
		return
	}
	if uc.proto.Quarantined() > 0 {
		// Aborted IDs may still receive stray records: a fresh
		// connection is the only proof of a clean one (see abort).
		l.upClose(uc)
		return
	}
	for uc.room() {
		if !uc.p.next(uc) {
			break
		}
	}
	if !uc.proto.Idle() || uc.inIdle {
		return
	}
	if uc.p.retired {
		l.upClose(uc) // a reload removed its upstream
		return
	}
	if uc.p.u.Waiting.Load() > 0 {
		// Requests wait on another loop and this one has none: hand the
		// budget over rather than keep an idle connection.
		l.upClose(uc)
		return
	}
	uc.inIdle = true
	uc.p.idle = append(uc.p.idle, uc)
	l.wheel.schedule(&uc.t, timerUpIdle, l.now, uc.p.u.IdleTimeout)
}

func (uc *upConn) expire(kind timerKind) {
	if kind == timerUpIdle && !uc.closed && uc.gc != nil && uc.proto.Idle() {
		uc.l.upClose(uc)
	}
}

// upClosed runs from OnClose of an upstream connection.
func (l *loop) upClosed(uc *upConn, err error) {
	if uc.served > 0 && !uc.closed && !uc.closing && (uc.proto.Live() == 0 || !uc.answeredSinceReuse) {
		// Closed by the backend after a clean END_REQUEST, before it read
		// anything more (php-fpm recycling a worker, or a backend that
		// ignores KEEP_CONN): what was sent after the END is unread.
		uc.closedAfterEnd = true
		if uc.served == 1 && !uc.b.KeepsAlive() && !uc.b.NoKeepAlive() {
			// No connection to it ever carried a second request.
			uc.b.SetNoKeepAlive()
			l.s.cfg.Logger.Info("backend closes connections after each request; not pooling them", "backend", uc.b.String())
		}
	}
	if uc.proto.Live() > 0 && uc.partial && !uc.closing {
		// A record cut short is a broken response, not a recyclable
		// connection: like garbage, it is answered 502 and not resent.
		uc.broken = true
		l.s.cfg.Logger.Error("upstream closed inside a record", "backend", uc.b.String(), "requests", uc.proto.Live(), "err", err)
	} else if uc.closedAfterEnd && uc.proto.Live() > 0 {
		// Routine with pm.max_requests and pipelining: what waited behind
		// the last request is resent.
		l.s.cfg.Logger.Debug("upstream closed after a request; resending the requests behind it", "backend", uc.b.String(), "requests", uc.proto.Live())
	} else if uc.proto.Live() > 0 {
		l.s.cfg.Logger.Warn("upstream closed with requests in flight", "backend", uc.b.String(), "requests", uc.proto.Live(), "err", err)
	}
	l.upDrop(uc, false)
}

// upDrop forgets uc, returns its budget, and retries or fails the requests
// it carried.
func (l *loop) upDrop(uc *upConn, dialFailed bool) {
	if uc.closed {
		return
	}
	uc.closed = true
	uc.setStarving(false)
	l.wheel.cancel(&uc.t)
	uc.out.release()
	for i, r := range uc.aborted {
		r.release() // nothing refers to its buffers now that out is gone
		uc.aborted[i] = nil
	}
	uc.aborted = nil
	uc.b.Release()
	p := uc.p
	for i, c := range p.conns {
		if c == uc {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			break
		}
	}
	for i, c := range p.idle {
		if c == uc {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			uc.inIdle = false
			break
		}
	}
	victims := uc.pending
	uc.pending = nil
	for _, s := range uc.proto.Requests(nil) {
		victims = append(victims, s.(*fcgiReq))
	}
	for _, r := range victims {
		if r.abandoned() {
			r.release()
			continue
		}
		if uc.broken {
			r.fail(502, "upstream broke the FastCGI protocol")
			continue
		}
		if dialFailed {
			r.failed = uc.b // try the next backend first
		}
		// A backend that closed after a clean END never read what came
		// next: resending it is safe whatever the method.
		r.fresh = r.fresh || uc.closedAfterEnd // and on a new connection
		r.lost(dialFailed || uc.closedAfterEnd, uc.closedAfterEnd)
	}
	// The budget freed may let a queued request dial, here or elsewhere.
	p.retry()
	l.budgetFreed(p.u)
	p.forgetIfEmpty()
}

// peekQueued returns the oldest request still waiting, leaving it queued;
// nil if none waits. Entries that timed out or whose client left are
// dropped on the way.
func (p *pool) peekQueued() *fcgiReq {
	for p.qhead < len(p.queue) {
		if r := p.queue[p.qhead]; r.queued {
			return r
		}
		p.queue[p.qhead] = nil
		p.qhead++
	}
	p.queue, p.qhead = p.queue[:0], 0
	return nil
}

// popQueued takes the oldest request still waiting off the queue, skipping
// those that timed out or whose client left; nil if none waits. The queue's
// storage is reused from its start once it is drained.
func (p *pool) popQueued() *fcgiReq {
	r := p.peekQueued()
	if r == nil {
		return nil
	}
	p.queue[p.qhead] = nil
	p.qhead++
	if p.qhead == len(p.queue) {
		p.queue, p.qhead = p.queue[:0], 0
	}
	p.unqueue(r)
	p.l.wheel.cancel(&r.t)
	return r
}

// setRequestID rewrites the request ID of every record in b: a request's
// records are built when its head is parsed, before it has a connection.
func setRequestID(b []byte, id uint16) {
	for i := 0; i+fastcgi.HeaderLen <= len(b); {
		h := fastcgi.DecodeHeader(b[i:])
		b[i+2], b[i+3] = byte(id>>8), byte(id)
		i += fastcgi.HeaderLen + int(h.ContentLength) + int(h.PaddingLength)
	}
}

// logState writes the pool's state to the debug log.
func (p *pool) logState(why string) {
	log := p.l.s.cfg.Logger
	for _, b := range p.u.Backends {
		log.Debug("pool", "why", why, "backend", b.String(), "conns", b.Conns(), "limit", b.Limit(), "waiting", p.u.Waiting.Load(), "idle", len(p.idle), "local", len(p.conns), "queued", len(p.queue)-p.qhead)
	}
	for _, uc := range p.conns {
		log.Debug("pool conn", "dialing", uc.gc == nil, "closed", uc.closed, "active", uc.proto.Active(), "limit", uc.proto.Limit(), "pending", len(uc.pending), "inIdle", uc.inIdle)
	}
}

// starveAfter is how long a new connection's first request may go without
// a byte back before gale concludes the backend has no free worker.
const starveAfter = 200 * time.Millisecond

func (uc *upConn) setStarving(v bool) {
	if uc.starving != v {
		uc.starving = v
		if v {
			uc.b.Starving().Add(1)
		} else {
			uc.b.Starving().Add(-1)
		}
	}
}

// checkStarvation runs on every tick: it spots new connections the backend
// does not serve, and closes idle connections to a backend that has such
// connections, on any loop.
func (l *loop) checkStarvation() {
	for _, p := range l.pools {
		for _, uc := range p.conns {
			if !uc.answered && !uc.closed && !uc.sentAt.IsZero() && l.now.Sub(uc.sentAt) > starveAfter && !uc.starving {
				uc.setStarving(true)
			}
		}
		for i := 0; i < len(p.idle); {
			uc := p.idle[i]
			if uc.b.Starving().Load() > 0 && !uc.closed {
				// Logged only when it closes something: a slow first
				// request alone also looks like this.
				l.s.cfg.Logger.Warn("backend accepted a connection but serves nothing on it: closing an idle connection that may pin its worker (set the connection budget to the backend's worker count, e.g. pm.max_children)",
					"backend", uc.b.String())
				l.upClose(uc) // removes it from p.idle via upDrop
				if uc.closed {
					continue
				}
			}
			i++
		}
	}
}

// setFileRequestID is setRequestID for records spooled to a file.
func setFileRequestID(f *os.File, size int64, id uint16) error {
	var h [fastcgi.HeaderLen]byte
	for off := int64(0); off+fastcgi.HeaderLen <= size; {
		if _, err := f.ReadAt(h[:], off); err != nil {
			return err
		}
		rh := fastcgi.DecodeHeader(h[:])
		h[2], h[3] = byte(id>>8), byte(id)
		if _, err := f.WriteAt(h[2:4], off+2); err != nil {
			return err
		}
		off += fastcgi.HeaderLen + int64(rh.ContentLength) + int64(rh.PaddingLength)
	}
	return nil
}

// room reports whether uc may take one more request: a free ID within the
// limit, and not retiring (half its IDs quarantined: it drains and closes
// rather than run on with ever fewer usable IDs). The limit is refreshed
// first: the backend's multiplexing answer, and whether it keeps
// connections open, may have come after uc opened.
func (uc *upConn) room() bool {
	uc.refreshLimit()
	return uc.proto.Active() < uc.proto.Limit() && uc.proto.Quarantined()*2 < uc.proto.Limit()
}

// upClose closes uc on gale's initiative.
func (l *loop) upClose(uc *upConn) {
	if l.feeding == uc {
		// Called from a Sink during uc's Feed (a client write failed):
		// Feed is still reading uc's inbound buffer.
		uc.closeAfterFeed = true
		return
	}
	if !uc.closed && uc.gc != nil {
		uc.closing = true
		_ = l.el.Close(uc.gc)
	}
}

// abort handles a request whose client left while the backend was working
// on it: FCGI_ABORT_REQUEST goes out for its ID, and then
//
//   - on a connection that carries one request at a time (php-fpm, uWSGI),
//     gale closes the connection, as nginx does. php-fpm reads the socket
//     only while it reads a request (main/fastcgi.c, fcgi_read_request and
//     the STDIN reads): an ABORT during the script is not seen, the script
//     runs to its end, and the ABORT is then read where the next request's
//     BEGIN_REQUEST should be, which makes php-fpm drop the connection. So
//     keeping the connection would only race that close, while closing it
//     makes the script's next output fail, which ends the script
//     (ignore_user_abort off) and frees the worker early.
//   - on a multiplexed connection (Go's net/http/fcgi), the others' requests
//     go on. The ID is quarantined (fastcgi.Conn.Abort) until the connection
//     closes: Go answers the ABORT with an END_REQUEST at once but its
//     handler runs on and may write output and a second END_REQUEST for the
//     same ID, so no END proves the ID free. The connection closes as soon
//     as it has no live request (upIdle), or stops taking requests when half
//     its IDs are quarantined.
//
// The request's buffers may still be queued for writing on uc, so r is
// released when uc closes.
//
// On a connection carrying pipelined requests, nothing is sent and the
// connection stays: an ABORT would be read where a request should start
// and close the connection under the others' requests. php-fpm sends one
// END_REQUEST per request, so r's output is dropped (r.cs is nil) and its
// ID freed at its END.
func (l *loop) abort(uc *upConn, r *fcgiReq) {
	if !uc.muxes() && uc.proto.Live() > 1 {
		l.s.cfg.Logger.Info("client left; pipelined request's response will be dropped", "backend", uc.b.String(), "id", r.id)
		return
	}
	uc.proto.Abort(r.id)
	uc.aborted = append(uc.aborted, r)
	var rec [fastcgi.HeaderLen]byte
	abort := fastcgi.AppendAbort(rec[:0], r.id)
	closeNow := !uc.muxes() || uc.proto.Idle()
	switch {
	case uc.out.busy() && closeNow:
		// The request is not fully written: the close says it all.
	case uc.out.busy():
		uc.out.take([][]byte{abort}, abort) // after the request's records
	default:
		_, _ = uc.gc.Write(abort) // gnet flushes it even if we close now
	}
	l.s.cfg.Logger.Info("client left; request aborted", "backend", uc.b.String(), "id", r.id, "closing_upstream", closeNow)
	if closeNow {
		l.upClose(uc)
	}
}
