package reactor

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/gale-http/gale/upstream"
)

// pool is one event loop's share of the connections to one upstream: the
// idle kept-alive connections, those being dialed, and the FIFO of
// exchanges waiting for one. It is owned by the loop: no locks. The budget
// across loops is the backends' atomic counters.
type pool struct {
	l     *loop
	u     *upstream.Upstream
	proto upstream.Protocol
	idle  []*upConn // LIFO: the most recently used is the warmest
	conns []*upConn // every open or dialing connection (for multiplexing)
	queue []*exchange
	qhead int
	// head publishes the ticket of the oldest exchange waiting here to
	// the other loops (Upstream.OlderWaiting).
	head *atomic.Uint64
	// retired: no handler routes here any more (Server.RetireUpstream).
	// Connections close when idle; the pool leaves the loop when empty.
	retired bool
}

func (l *loop) poolFor(u *upstream.Upstream) *pool {
	p := l.pools[u]
	if p == nil {
		p = &pool{l: l, u: u, proto: protocolOf(u), head: u.NewQueueHead()}
		if u.Retired() {
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
		uc := p.popIdle()
		p.l.upClose(uc)
	}
	p.forgetIfEmpty()
}

// forgetIfEmpty drops a retired pool with nothing left in it from its
// loop, with the loop's counters for its backends, so the upstream can be
// garbage collected and metrics stop reporting what no longer exists.
func (p *pool) forgetIfEmpty() {
	if p.retired && len(p.conns) == 0 && p.qhead == len(p.queue) && p.l.pools[p.u] == p {
		delete(p.l.pools, p.u)
		for _, b := range p.u.Backends {
			delete(p.l.stats.backends, b)
		}
	}
}

// popIdle takes the warmest idle connection.
func (p *pool) popIdle() *upConn {
	uc := p.idle[len(p.idle)-1]
	p.idle[len(p.idle)-1] = nil
	p.idle = p.idle[:len(p.idle)-1]
	p.u.Idle.Add(-1)
	uc.state = ucOpen
	return uc
}

// pushIdle keeps uc as an idle connection.
func (p *pool) pushIdle(uc *upConn) {
	uc.state = ucIdle
	p.idle = append(p.idle, uc)
	p.u.Idle.Add(1)
}

// dropIdle takes uc out of the idle list, if it is there.
func (p *pool) dropIdle(uc *upConn) {
	n := len(p.idle)
	p.idle = slices.DeleteFunc(p.idle, func(c *upConn) bool { return c == uc })
	p.u.Idle.Add(int32(len(p.idle) - n))
}

// assign finds a connection for r: an idle one, spare capacity on a
// multiplexing one, a new one within the budget, or a place in the queue.
func (p *pool) assign(r *exchange) {
	for len(p.idle) > 0 && !r.fresh {
		uc := p.popIdle()
		if uc.b.Disabled() {
			p.l.upClose(uc) // its worker is being replaced: let it drain
			continue
		}
		p.l.send(uc, r)
		return
	}
	for _, uc := range p.conns {
		if !r.fresh && uc.state == ucOpen && uc.muxes() && uc.room() {
			p.l.send(uc, r)
			return
		}
	}
	if p.probing() {
		// Whether the backend multiplexes is not known yet: rather than
		// open the whole budget, wait for the first connection. This wait
		// is not for budget, so it does not count in Waiting.
		p.wait(r)
		p.armQueue(r)
		return
	}
	if r.ticket == 0 && (p.peekQueued() != nil || p.olderElsewhere()) {
		// Others wait for a connection, here or on another loop: they
		// come first, whatever budget frees up meanwhile.
		p.enqueue(r)
		p.armQueue(r)
		return
	}
	if p.u.Unreachable(p.l.now, r.waitFrom) {
		r.fail(502, "no backend reachable: a connect failed while the request waited")
		return
	}
	if b := p.u.Pick(p.l.now, r.waitFrom, r.failed); b != nil && b.Acquire() {
		p.dial(b, r)
		return
	}
	if r.failed != nil {
		r.fail(502, "connect failed and no other backend can take the request")
		return
	}
	if !p.u.Healthy(p.l.now) {
		r.fail(502, "no healthy backend")
		return
	}
	if p.pipeline(r) {
		return
	}
	p.enqueue(r)
	p.armQueue(r)
}

// enqueue puts r in the FIFO of exchanges waiting for budget, and has
// another loop give up an idle connection if one holds some.
func (p *pool) enqueue(r *exchange) {
	r.counted = true
	p.u.Waiting.Add(1)
	p.wait(r)
	if p.u.Idle.Load() > 0 {
		p.l.reclaimIdle(p.u)
	}
}

// reclaimIdle asks the other loops to close one idle connection to u each
// while requests wait for budget: closing frees the budget, and the
// release wakes the waiting loops (budgetFreed). The budget is shared
// across loops, idle connections are not, so without this a request on
// one loop would wait for the idle timeout of a connection on another;
// with a budget of one connection per worker (gale wsgi), a whole worker
// would stand idle while requests queue.
func (l *loop) reclaimIdle(u *upstream.Upstream) {
	l.s.post(func(o *loop) {
		if p := o.pools[u]; o != l && p != nil && len(p.idle) > 0 && u.Waiting.Load() > 0 {
			o.upClose(p.popIdle())
		}
	})
}

// wait appends r to the queue, with the ticket of its first wait.
func (p *pool) wait(r *exchange) {
	if r.ticket == 0 {
		r.ticket = p.u.Ticket()
	}
	p.queue = append(p.queue, r)
	r.state = exWaiting
	p.publish()
}

// publish stores the oldest waiting ticket where other loops see it.
func (p *pool) publish() {
	var t uint64
	if h := p.peekQueued(); h != nil {
		t = h.ticket
	}
	if p.head.Load() != t {
		p.head.Store(t)
	}
}

// olderElsewhere reports whether another loop has waited longer for a
// connection than anything queued here.
func (p *pool) olderElsewhere() bool {
	if p.u.Waiting.Load() == 0 {
		return false
	}
	var t uint64
	if h := p.peekQueued(); h != nil {
		t = h.ticket
	}
	return p.u.OlderWaiting(p.head, t)
}

// armQueue arms r's queue timeout. The deadline is set when r first waits
// for a connection and kept when it waits again (a connection it was
// assigned to failed): a request never waits longer than the queue
// timeout in all, however often it is put back.
func (p *pool) armQueue(r *exchange) {
	if r.queueDue.IsZero() {
		r.queueDue = p.l.now.Add(p.u.QueueTimeout)
	}
	p.l.wheel.schedule(&r.t, timerQueue, p.l.now, max(r.queueDue.Sub(p.l.now), 0))
}

// unqueue marks r as no longer waiting; its slot is skipped lazily.
func (p *pool) unqueue(r *exchange) {
	if r.state != exWaiting {
		return
	}
	r.state = exReceiving // between states: the caller moves it on
	if r.counted {
		r.counted = false
		p.u.Waiting.Add(-1)
	}
	p.publish()
}

// retry gives queued exchanges another chance at the budget, after another
// loop released a connection.
func (p *pool) retry() {
	for n := len(p.queue) - p.qhead; n > 0; n-- {
		if p.olderElsewhere() {
			// Another loop's turn: its retry takes what freed up, and
			// pokes this one when its own oldest is younger than ours.
			// Only when there is budget to take: else the two would poke
			// each other forever, neither able to move.
			if p.u.HasRoom() {
				p.l.budgetFreed(p.u)
			}
			return
		}
		r := p.popQueued()
		if r == nil {
			return
		}
		p.assign(r)
		if r.state == exWaiting {
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

// probing reports whether this loop is dialing a backend whose capability
// probe has not answered yet.
func (p *pool) probing() bool {
	for _, uc := range p.conns {
		if uc.state == ucDialing && !uc.b.ValuesKnown() {
			return true
		}
	}
	return false
}

// next hands a queued exchange to uc, which has room; false if none waits.
// A connection that already carries a request and does not multiplex
// takes only a pipelinable one: anything else waits for a connection of
// its own, and stops the queue behind it, so that the connections drain
// and it is not starved by GETs passing it.
func (p *pool) next(uc *upConn) bool {
	if uc.proto.Live() > 0 && !uc.muxes() {
		if h := p.peekQueued(); h == nil || !h.pipelinable || !uc.pipelines(p.l.now) {
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

// pipeline sends r behind the request of a busy connection when the
// budget is used up and nobody waits for it, instead of queueing r:
// the backend's worker then finds r in its socket as it finishes, without
// a sleep and a wakeup on each side. Only GET and HEAD without a body
// qualify: if the backend closes the connection before answering them
// (php-fpm recycling a worker at pm.max_requests), they are resent on a
// fresh connection. Among the candidates, the connection carrying the
// fewest requests wins, then the one whose request began first.
func (p *pool) pipeline(r *exchange) bool {
	// Not while anyone waits, here or on another loop: those requests
	// come first, and they need this loop's connections to drain (upIdle
	// hands idle budget over to other loops).
	if !r.pipelinable || r.fresh || p.u.Pipeline < 2 || !p.proto.Caps().Pipeline || p.u.Waiting.Load() > 0 || p.peekQueued() != nil {
		return false
	}
	var best *upConn
	for _, uc := range p.conns {
		if !uc.pipelines(p.l.now) {
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

// peekQueued returns the oldest exchange still waiting, leaving it queued;
// nil if none waits. Entries that timed out or whose client left are
// dropped on the way.
func (p *pool) peekQueued() *exchange {
	for p.qhead < len(p.queue) {
		if r := p.queue[p.qhead]; r.state == exWaiting {
			return r
		}
		p.queue[p.qhead] = nil
		p.qhead++
	}
	p.queue, p.qhead = p.queue[:0], 0
	return nil
}

// popQueued takes the oldest exchange still waiting off the queue,
// skipping those that timed out or whose client left; nil if none waits.
// The queue's storage is reused from its start once it is drained.
func (p *pool) popQueued() *exchange {
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

// logState writes the pool's state to the debug log.
func (p *pool) logState(why string) {
	log := p.l.s.cfg.Logger
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	for _, b := range p.u.Backends {
		log.Debug("pool", "why", why, "backend", b.String(), "conns", b.Conns(), "limit", b.Limit(), "waiting", p.u.Waiting.Load(), "idle", len(p.idle), "local", len(p.conns), "queued", len(p.queue)-p.qhead)
	}
	for _, uc := range p.conns {
		log.Debug("pool conn", "state", uc.state.String(), "active", uc.proto.Active(), "limit", uc.proto.Limit(), "pending", len(uc.pending))
	}
}
