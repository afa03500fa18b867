package reactor

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/upstream"
)

// ucState is where an upstream connection is in its life. Transitions:
// dialing -> open (upOpen) <-> idle (upIdle, pool.popIdle); open or idle ->
// closing (upClose: gale's decision) -> closed (upDrop, from OnClose or a
// failed dial); any -> closed when the backend closes it.
type ucState uint8

const (
	ucDialing ucState = iota // the dial runs on its goroutine; gc is nil
	ucOpen                   // on the loop, carrying requests or about to
	ucIdle                   // in its pool's idle list, kept alive
	ucClosing                // gale closes it (after the Feed in progress, if any)
	ucClosed                 // gone: its budget returned, its requests retried or failed
)

func (s ucState) String() string {
	return [...]string{"dialing", "open", "idle", "closing", "closed"}[s]
}

// lossCause says why a connection went away with requests on it, which
// decides their fate (upDrop).
type lossCause uint8

const (
	lossUnknown  lossCause = iota
	lossAfterEnd           // the backend closed it right after a clean end: what follows was unread
	lossTimeout            // gale closed it: the request the backend ran timed out
	lossBroken             // the backend broke the protocol: nothing on it is resent
)

// upConn is one connection to a backend, registered on the loop whose
// clients it serves.
type upConn struct {
	l       *loop
	p       *pool
	b       *upstream.Backend
	name    string // the backend, formatted once for logs
	gc      gnet.Conn
	fd      int
	state   ucState
	loss    lossCause
	proto   upstream.ConnCodec
	out     segQueue
	t       timerNode
	pending []*exchange // assigned while dialing
	// first holds pending's first request, so that a dial (one per
	// request to a backend that takes one per connection) allocates no
	// slice for it.
	first  [1]*exchange
	st     *backendStats
	served int
	sentAt time.Time // when the first request went out on this connection
	// busySince is when the backend began the request it is working on,
	// for a connection that carries one at a time: a request is pipelined
	// only behind one that began within the upstream's Window.
	busySince time.Time
	// perRequest is the backend's recent time per request on this
	// connection, an average over the last few (the Window until one
	// ends): a third request or more goes behind the others only while
	// they are expected to take less than the Window in all.
	perRequest time.Duration

	inStalled bool
	reused    bool // has completed at least one request
	answered  bool // any byte came back
	// answeredSinceReuse: a byte came back since the last end.
	answeredSinceReuse bool
	starving           bool // counted in the backend's Starving
	partial            bool // the last read ended inside a frame
}

func (uc *upConn) stalledFlag() *bool   { return &uc.inStalled }
func (uc *upConn) writeConn() gnet.Conn { return uc.gc }
func (uc *upConn) resumeWrite() {
	if uc.state == ucOpen || uc.state == ucIdle {
		uc.l.upPump(uc)
		uc.tunnelDrained()
	}
}

// tunnelDrained lets a tunnel's client send again once gnet flushed what
// it sent to this connection; until then it waits for writability again.
func (uc *upConn) tunnelDrained() {
	l := uc.l
	l.streams = uc.proto.Requests(l.streams[:0])
	for _, s := range l.streams {
		if r, ok := s.(*exchange); ok && r.tunnel && r.upHeld {
			if uc.gc.OutboundBuffered() > 0 {
				l.waitWritable(uc)
			} else {
				r.tunnelBackendDrained()
			}
		}
	}
	clear(l.streams)
}

// usable reports whether uc may take a request now.
func (uc *upConn) usable() bool { return uc.state == ucOpen || uc.state == ucIdle }

// refreshLimit applies the backend's multiplexing answer, which may have
// arrived after this connection opened, and returns the limit: the number
// of requests multiplexed, or pipelined one behind another.
func (uc *upConn) refreshLimit() int {
	lim := uc.b.MuxLimit(uc.p.u)
	if lim == 1 && uc.p.proto.Caps().Pipeline {
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

// room reports whether uc may take one more request: a free ID within the
// limit, and not retiring (half its IDs quarantined: it drains and closes
// rather than run on with ever fewer usable IDs). The limit is refreshed
// first: the backend's multiplexing answer, and whether it keeps
// connections open, may have come after uc opened.
func (uc *upConn) room() bool {
	uc.refreshLimit()
	return uc.proto.Active() < uc.proto.Limit() && uc.proto.Quarantined()*2 < uc.proto.Limit()
}

// pipelines reports whether uc may take a request behind the one it
// carries at now: the backend does not multiplex but keeps connections
// open (its limit is then above 1), the connection is healthy with a free
// slot, the request ahead began within the upstream's Window, and, behind
// two or more, those are expected to end within the Window too.
func (uc *upConn) pipelines(now time.Time) bool {
	w := uc.p.u.Window()
	live := uc.proto.Live()
	return uc.state == ucOpen && uc.proto.Quarantined() == 0 && !uc.out.busy() &&
		!uc.muxes() && uc.room() && now.Sub(uc.busySince) < w &&
		(live < 2 || time.Duration(live)*uc.perRequest < w)
}

// dial opens a connection to b for r. The dial runs on its own goroutine
// (net.Dialer enforces the connect timeout), then the socket is enrolled
// into this loop: the loop never blocks on it.
func (p *pool) dial(b *upstream.Backend, r *exchange) {
	uc := &upConn{l: p.l, p: p, b: b, name: b.String(), state: ucDialing, perRequest: p.u.Window()}
	uc.st = p.l.statsFor(uc)
	uc.t.owner = uc
	uc.proto = p.proto.NewConn(max(p.u.MaxMux, p.u.Pipeline))
	uc.first[0] = r
	uc.pending = uc.first[:]
	r.state = exDialing
	p.conns = append(p.conns, uc)
	if p.l.dialHook != nil {
		p.l.dialHook(uc) // tests connect uc themselves (engine_test.go)
		return
	}
	u, el := p.u, p.l.el
	if pr, ok := p.proto.(upstream.Prober); ok && b.StartProbe() {
		// In parallel with the first dial: the first request need not
		// wait for an answer some backends (uWSGI) never give.
		go func() {
			v, err := pr.Probe(context.Background(), b.Network, b.Address, min(u.ConnectTimeout, probeTimeout))
			if err == nil {
				b.SetValues(u, v.MaxConns, v.MaxReqs, v.Multiplex)
			}
			b.ProbeDone()
			_ = el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				p.l.stamp()
				p.retry() // requests that waited for the answer
				return nil
			}))
		}()
	} else if !ok {
		b.ProbeDone()
	}
	dialer, _ := p.proto.(upstream.Dialer)
	if dialer == nil && b.Network == "unix" && p.dialUnixHere(b, uc) {
		return
	}
	if ld, ok := dialer.(upstream.LoopDialer); ok && p.canAttach() {
		if fd, ok, err := ld.DialFD(b); ok {
			p.attachHere(fd, err, b, uc)
			return
		}
	}
	go func() {
		var c net.Conn
		var err error
		if dialer != nil {
			// The protocol makes the connection (CGI: a socketpair to the
			// goroutine that runs the script); the engine treats it as
			// any other.
			ctx, cancel := context.WithTimeout(context.Background(), u.ConnectTimeout)
			c, err = dialer.Dial(ctx, b)
			cancel()
		} else {
			c, err = dialWaiting(b, u.ConnectTimeout)
		}
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

// dialWaiting dials b within timeout. A unix socket whose listen queue
// is full refuses at once (EAGAIN) where a TCP one would let the SYN wait:
// such a connect is retried, 5 ms doubling to 100 ms, until the timeout,
// so that a backend behind on its accepts makes requests wait, not fail.
func dialWaiting(b *upstream.Backend, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	pause := 5 * time.Millisecond
	for {
		d := net.Dialer{Deadline: deadline}
		c, err := d.Dial(b.Network, b.Address)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || time.Now().Add(pause).After(deadline) {
			return c, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// unixAttacher is gale's gnet patch: a socket connected on the loop
// joins it without a goroutine (internal/gnet/GALE.md).
type unixAttacher interface {
	AttachUnix(fd int, path string, ctx any) error
}

// dialUnixHere connects to a unix-socket backend on the loop itself: such
// a connect completes at once or fails at once, so it needs none of the
// goroutine, the Go poller registration, the dup and the task of a dial
// off the loop, which cost a backend that takes one request per connection
// (uWSGI, gunicorn's sync workers) more CPU than the request. It reports
// whether it settled the dial (connected or failed for good; either is
// handled from a task, as an async dial's is); false when the backend's
// listen queue is full (EAGAIN), for the dial that waits for room.
func (p *pool) dialUnixHere(b *upstream.Backend, uc *upConn) bool {
	if !p.canAttach() {
		return false
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		if err = unix.Connect(fd, &unix.SockaddrUnix{Name: b.Address}); err != nil {
			unix.Close(fd)
			if err == unix.EAGAIN {
				return false
			}
		}
	}
	if err != nil {
		err = &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: b.Address, Net: "unix"}, Err: os.NewSyscallError("connect", err)}
	}
	p.attachHere(fd, err, b, uc)
	return true
}

// canAttach tells whether the loop can attach a socket connected on it
// (gale's gnet patch).
func (p *pool) canAttach() bool {
	_, ok := p.l.el.(unixAttacher)
	return ok
}

// attachHere attaches fd, a unix socket connected on the loop (err nil),
// as uc's connection, or fails uc's dial with err. The connection joins
// the loop from a task, as an async dial's does: upOpen must not run
// inside whatever called dial (a connection's close resending its
// requests, say), which expects it later.
func (p *pool) attachHere(fd int, err error, b *upstream.Backend, uc *upConn) {
	_ = p.l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		uc.l.stamp()
		if err == nil {
			// runs upOpen
			if err = p.l.el.(unixAttacher).AttachUnix(fd, b.Address, uc); err != nil {
				err = &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: b.Address, Net: "unix"}, Err: err}
			}
		}
		if err != nil {
			uc.l.dialFailed(uc, err)
		}
		return nil
	}))
}

// probeTimeout bounds the wait for a capability probe's answer:
// applications that answer do so at once; one that does not (uWSGI) must
// not hold requests for long.
const probeTimeout = 300 * time.Millisecond

// upOpen runs when a dialed connection joins the loop.
func (l *loop) upOpen(uc *upConn, c gnet.Conn) {
	uc.gc, uc.fd, uc.state = c, c.Fd(), ucOpen
	uc.b.ConnectOK()
	uc.refreshLimit()
	pending := uc.pending
	uc.pending = nil
	for _, r := range pending {
		if r.abandoned() {
			continue
		}
		l.send(uc, r)
	}
	uc.first[0] = nil
	if uc.proto.Idle() {
		l.upIdle(uc)
	}
	uc.p.retry() // requests that waited for the probe
}

func (l *loop) dialFailed(uc *upConn, err error) {
	l.s.cfg.Logger.Error("upstream connect failed", "backend", uc.name, "err", err)
	uc.upError(upErrConnect)
	now := time.Now()
	uc.b.ConnectFailed(now)
	uc.b.Failed(uc.p.u, now)
	l.upDrop(uc, true)
}

// send starts r on uc.
func (l *loop) send(uc *upConn, r *exchange) {
	if uc.state == ucDialing {
		uc.pending = append(uc.pending, r)
		r.state = exDialing
		return
	}
	id, ok := uc.proto.Begin(r)
	if !ok {
		// Callers check capacity: a request that reaches here is a bug.
		l.s.cfg.Logger.Error("internal error: no request ID free on an assigned upstream connection", "backend", uc.name)
		r.failClient(500)
		return
	}
	r.up, r.id, r.state = uc, id, exSent
	r.sentAt = l.now
	r.queueDue = time.Time{} // a later wait for a connection is a new one
	if uc.proto.Live() == 1 {
		uc.busySince = r.sentAt
	}
	if uc.t.kind == timerUpIdle {
		l.wheel.cancel(&uc.t)
	}
	l.wheel.schedule(&r.t, timerUpstream, l.now, uc.p.u.ReadTimeout)
	if uc.sentAt.IsZero() {
		uc.sentAt = l.now
	}
	l.wire(uc, r, id)
}

// upPump writes uc's queue after what gnet still holds for it.
func (l *loop) upPump(uc *upConn) {
	if uc.gc.OutboundBuffered() > 0 {
		l.waitWritable(uc)
		return
	}
	res, err := uc.out.write(uc.fd)
	switch res {
	case pumpStalled:
		l.waitWritable(uc)
	case pumpFailed:
		l.s.cfg.Logger.Warn("upstream write failed", "backend", uc.name, "err", err)
		_ = l.el.Close(uc.gc)
	}
}

// upTraffic feeds what the backend sent to the connection's codec.
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
	if err != nil {
		// Before the responses that ended in this read move their clients
		// on: none of them may be pipelined onto this connection.
		l.s.cfg.Logger.Error("upstream protocol error", "backend", uc.name, "err", err)
		uc.upError(upErrProtocol)
		uc.b.Failed(uc.p.u, time.Now())
		uc.loss = lossBroken
		uc.state = ucClosing
	}
	l.finishDone()
	l.armHeld()
	if uc.state == ucClosing {
		l.upClose(uc)
		return
	}
	uc.partial = n < len(buf)
	if uc.state != ucOpen || len(uc.pending) > 0 {
		return
	}
	if uc.proto.Idle() && n == len(buf) {
		l.upIdle(uc)
	} else {
		// A request ended beside others still running (multiplexed), or
		// ahead of a pipelined one: the slot it freed takes the next
		// queued request (pool.next: only a GET behind a pipelined one).
		for uc.room() && uc.p.next(uc) {
		}
	}
}

// ended records on uc the clean end of r's response.
func (uc *upConn) ended(r *exchange) {
	end := r.sentAt.Add(r.upTime)
	// r began when it was sent or when the one ahead of it ended.
	uc.perRequest += (end.Sub(uc.busySince) - uc.perRequest) / 8
	if uc.proto.Live() > 0 {
		// A pipelined request is next: the backend starts it now.
		uc.busySince = end
	}
	uc.reused = true
	uc.served++
	uc.answeredSinceReuse = false
	if uc.served == 2 {
		uc.b.ObserveReuse()
	}
	uc.b.Succeeded()
}

// upIdle gives an idle connection the next queued request, or parks it in
// the idle list with an idle timeout so it does not pin a worker forever.
func (l *loop) upIdle(uc *upConn) {
	caps := uc.p.proto.Caps()
	if uc.served > 0 && uc.proto.Idle() && (!caps.KeepAlive || uc.b.NoKeepAlive(l.now) || !reusable(uc.proto)) {
		// The backend closes every connection after a request (uWSGI),
		// or said this one ends (HTTP's Connection: close): reusing it
		// would race its close. Closing frees the budget for a fresh
		// connection.
		if uc.served == 1 && caps.KeepAlive {
			uc.b.OneShot()
		}
		l.upClose(uc)
		return
	}
	if uc.proto.Idle() && uc.b.Disabled() {
		// Its worker is being replaced (or is not ready): the connection
		// closes so the worker drains; the budget goes to the others.
		l.upClose(uc)
		return
	}
	if uc.proto.Quarantined() > 0 {
		// Cancelled IDs may still receive stray records: a fresh
		// connection is the only proof of a clean one (see cancel).
		l.upClose(uc)
		return
	}
	if uc.proto.Idle() && uc.p.olderElsewhere() {
		// A request on another loop has waited longer than any here: the
		// budget goes to it (budgetFreed), one FIFO across the loops.
		l.upClose(uc)
		return
	}
	for uc.room() {
		if !uc.p.next(uc) {
			break
		}
	}
	if !uc.proto.Idle() || uc.state == ucIdle {
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
	if uc.sentAt.IsZero() {
		// Dialed for requests whose clients left before it opened: it
		// never carried one. A backend with a worker per connection
		// (gunicorn's sync workers, uWSGI, php-fpm) may have accepted it
		// and blocks that worker reading a request that will not come;
		// nginx never holds such a connection either.
		l.upClose(uc)
		return
	}
	uc.p.pushIdle(uc)
	l.wheel.schedule(&uc.t, timerUpIdle, l.now, uc.p.u.IdleTimeout)
}

// reusable reports whether a codec lets its connection carry another
// request (upstream.Reuser); codecs without a say are reusable.
func reusable(c upstream.ConnCodec) bool {
	r, ok := c.(upstream.Reuser)
	return !ok || r.Reusable()
}

func (uc *upConn) expire(kind timerKind) {
	if kind == timerUpIdle && uc.state == ucIdle && uc.proto.Idle() {
		uc.l.upClose(uc)
	}
}

// upClose closes uc on gale's initiative.
func (l *loop) upClose(uc *upConn) {
	switch uc.state {
	case ucClosed, ucDialing:
		return
	case ucIdle:
		uc.p.dropIdle(uc)
	}
	uc.state = ucClosing
	if l.feeding == uc {
		// Called during uc's Feed (a client write failed): Feed is still
		// reading uc's inbound buffer; upTraffic closes it after.
		return
	}
	_ = l.el.Close(uc.gc)
}

// upClosed runs from OnClose of an upstream connection.
func (l *loop) upClosed(uc *upConn, err error) {
	if uc.state == ucOpen && !uc.partial {
		// The close may end a response cleanly (close-delimited); its
		// client moves on once the connection is forgotten.
		uc.proto.PeerClosed()
		defer l.finishDone()
	}
	if uc.served > 0 && uc.state != ucClosing && uc.state != ucClosed && (uc.proto.Live() == 0 || !uc.answeredSinceReuse) {
		// Closed by the backend after a clean end, before it read anything
		// more (php-fpm recycling a worker, or a backend that ignores
		// keep-alive): what was sent after the end is unread.
		uc.loss = lossAfterEnd
		// Only where connections may be kept (SCGI and CGI close after
		// every request by design), and not for a codec whose responses
		// say whether the connection persists (upstream.Reuser: HTTP):
		// there the close is the backend's idle timeout.
		_, says := uc.proto.(upstream.Reuser)
		if uc.served == 1 && uc.p.proto.Caps().KeepAlive && !says && uc.b.ObserveCloseAfterEnd(l.now) {
			l.s.cfg.Logger.Info("backend closes connections after each request; not pooling them for a while", "backend", uc.name)
		}
	}
	live := uc.proto.Live()
	switch {
	case live > 0 && uc.partial && uc.state != ucClosing:
		// A frame cut short is a broken response, not a recyclable
		// connection: like garbage, it is answered 502 and not resent.
		uc.loss = lossBroken
		l.s.cfg.Logger.Error("upstream closed inside a frame", "backend", uc.name, "requests", live, "err", err)
	case live > 0 && uc.loss == lossAfterEnd:
		// Routine with pm.max_requests and pipelining: what waited behind
		// the last request is resent.
		l.s.cfg.Logger.Debug("upstream closed after a request; resending the requests behind it", "backend", uc.name, "requests", live)
	case live > 0 && uc.state != ucClosing:
		l.s.cfg.Logger.Warn("upstream closed with requests in flight", "backend", uc.name, "requests", live, "err", err)
	}
	l.upDrop(uc, false)
}

// upDrop forgets uc, returns its budget, and retries or fails the requests
// it carried.
func (l *loop) upDrop(uc *upConn, dialFailed bool) {
	if uc.state == ucClosed {
		return
	}
	uc.state = ucClosed
	uc.setStarving(false)
	l.wheel.cancel(&uc.t)
	uc.out.drop() // before the victims are resent elsewhere
	uc.b.Release()
	p := uc.p
	p.conns = slices.DeleteFunc(p.conns, func(c *upConn) bool { return c == uc })
	p.dropIdle(uc)
	victims := uc.pending
	uc.pending = nil
	streams := uc.proto.Requests(l.streams[:0])
	for _, s := range streams {
		victims = append(victims, s.(*exchange))
	}
	clear(streams)
	l.streams = streams[:0]
	// A backend that serves one request at a time (php-fpm) reads the next
	// request only once it ended the one it runs: on such a connection,
	// every request but that one was never read, whatever happened to it.
	var running *exchange
	if !uc.muxes() {
		running = runningOf(victims)
	}
	for _, r := range victims {
		if r.abandoned() {
			r.release()
			continue
		}
		behind := running != nil && r != running
		if uc.loss == lossBroken && !behind {
			r.fail(502, "upstream broke the protocol")
			continue
		}
		if dialFailed {
			r.failed = uc.b // try the next backend first
		}
		unread := uc.loss == lossAfterEnd || uc.loss == lossTimeout || behind
		r.fresh = r.fresh || unread // and on a new connection
		r.lost(unread)
	}
	// The budget freed may let a queued request dial, here or elsewhere.
	p.retry()
	l.budgetFreed(p.u)
	p.forgetIfEmpty()
}

// runningOf returns the request a one-at-a-time backend was working on
// among the requests sent on a connection: the one that got bytes back,
// else the first sent; nil if none was sent.
func runningOf(reqs []*exchange) *exchange {
	var first *exchange
	for _, r := range reqs {
		switch {
		case !r.sent():
		case r.gotBytes():
			return r
		case first == nil || r.sentAt.Before(first.sentAt):
			first = r
		}
	}
	return first
}

// cancel handles a request whose client left, or that timed out, while
// the backend was working on it (why says which, for the log). Where the
// protocol cancels in band, the cancel goes out for its ID; then
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
//     go on. The ID is quarantined (ConnCodec.Abort) until the connection
//     closes: Go answers the ABORT with an END_REQUEST at once but its
//     handler runs on and may write output and a second END_REQUEST for the
//     same ID, so no end proves the ID free. The connection closes as soon
//     as it has no live request (upIdle), or stops taking requests when half
//     its IDs are quarantined.
//
// On a connection carrying pipelined requests, nothing is sent and the
// connection stays: a cancel would be read where a request should start
// and close the connection under the others' requests. The backend ends
// each request, so r's output is dropped (r.cs is nil) and its ID freed
// at its end.
func (l *loop) cancel(uc *upConn, r *exchange, why string) {
	if !uc.muxes() && uc.proto.Live() > 1 {
		l.s.cfg.Logger.Info(why+"; pipelined request's response will be dropped", "backend", uc.name, "id", r.id)
		return
	}
	uc.proto.Abort(r.id)
	closeNow := !uc.muxes() || uc.proto.Idle() || !uc.p.proto.Caps().InBandCancel
	if uc.p.proto.Caps().InBandCancel && uc.state == ucOpen {
		rec := uc.p.proto.Cancel(r.cancelRec[:0], r.id)
		switch {
		case uc.out.busy() && closeNow:
			// The request is not fully written: the close says it all.
		case uc.out.busy():
			r.queue(uc, rec) // after the request's bytes, from r's own storage
		default:
			_, _ = uc.gc.Write(rec) // gnet flushes it even if we close now
		}
	}
	l.s.cfg.Logger.Info(why+"; request aborted", "backend", uc.name, "id", r.id, "closing_upstream", closeNow)
	if closeNow {
		l.upClose(uc)
	}
}

// inboundBytes is what the kernel holds unread for uc, for diagnostics.
func inboundBytes(uc *upConn) int {
	if !uc.usable() {
		return -1
	}
	n, err := unix.IoctlGetInt(uc.fd, unix.SIOCINQ)
	if err != nil {
		return -1
	}
	return n + uc.gc.InboundBuffered()
}
