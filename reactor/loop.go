package reactor

import (
	"context"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// loop is the state one gnet event loop owns. Only that loop's goroutine
// touches it (callbacks and tasks queued with Execute), so nothing here is
// locked.
type loop struct {
	s        *Server
	el       gnet.EventLoop
	tickTask gnet.Runnable

	wheel  wheel
	date   httpcodec.DateCache
	parser httpcodec.Parser

	// req and resp are reused for every request: handling is synchronous,
	// so one request at a time is in hand per loop, and per-connection
	// memory stays small for idle keep-alive connections.
	req  httpcodec.Request
	resp handlers.Response
	hctx handlers.Ctx
	iov  [][]byte
	// chunked validates request bodies no handler reads (see skipBody).
	chunked httpcodec.ChunkedDecoder
	// rawHead is the head of the request in hand, a view of the inbound
	// buffer (a chunked upload to an upstream keeps a copy).
	rawHead []byte

	// Upstreams: per-upstream pools, the CGI environment scratch,
	// exchanges whose response ended during the current upstream read.
	pools   map[*upstream.Upstream]*pool
	ri      cgi.RequestInfo
	addrBuf []byte
	uriBuf  []byte // REQUEST_URI of an absolute-form target (origin-form)
	// The local address last formatted for CGI variables (loop.addrs).
	localAP            netip.AddrPort
	localFmt           []byte
	localIP, localPort []byte
	doneEx             []*exchange
	freeEx             []*exchange
	streams            []upstream.Stream // scratch for a lost connection's requests
	// dialHook, when set (by tests only), replaces the dial of a new
	// upstream connection.
	dialHook func(uc *upConn)
	// internalBuf holds the synthetic request line of an internal redirect.
	internalBuf []byte
	// hdrBuf holds an application's response head for a location's header
	// rules to rewrite (exchange.sendHead), or a 103's (Interim); fieldBuf holds a request's fields
	// as a location's request header rules leave them (encodeHead).
	hdrBuf   []byte
	fieldBuf []httpcodec.Header
	// respMem is what this loop's clients hold in memory of upstream
	// responses they have not read yet (see holdResponse).
	respMem int
	// holdFlush sends held response starts after flushDelay (flush.go).
	holdFlush flusher
	// feeding is the upstream connection whose bytes are being fed.
	feeding *upConn

	// now is the time of the last tick, used to arm timers without a clock
	// read per request; timers are only as precise as the tick anyway.
	now time.Time

	conns   connList
	freeOut []*outQueue
	// corked are the connections whose responses wait for the end of the
	// round (cork.go), corkedBytes what they hold; cork says whether the
	// loop may cork at all.
	corked      []*conn
	corkedBytes int
	cork        corkState
	// parked holds idle keep-alive connections compactly (park.go);
	// freeConns recycles the conns they gave back.
	parked    parkQueue
	freeConns []*conn
	// ww holds the connections waiting for socket space (writable.go),
	// from the loop's first stalled write on.
	ww       *writeWait
	draining bool

	// Ticks are skipped while nothing is due (ticker.go): quietUntil,
	// read by the ticker, is when this loop next needs one (nanoseconds
	// since ticker.epoch, 0: at every tick); quiet says it is set;
	// active says an event ran since the last tick.
	quietUntil atomic.Int64
	quiet      bool
	active     bool

	// Metrics and the access log (stats.go, accesslog.go): plain fields,
	// only this loop touches them.
	stats      loopStats
	alBuf      []byte
	alFile     *os.File
	alPipe     bool // alFile is not a regular file (AccessLog.pipe)
	alTimes    logTimes
	info       reqInfo   // the synchronous request in hand, for its log line
	batchStart time.Time // when the current batch was read (access log on)
	logFrom    *exchange // the exchange an internal redirect serves

	// The response cache (cache_tee.go): the exchange a lookup set up
	// for startExchange; scratch for the fields of a fetch, a teed head,
	// and the request and response of an answer from the cache made
	// after the request's batch.
	pending  *exchange
	condHdrs []httpcodec.Header
	teeBuf   []byte
	cparser  httpcodec.Parser
	creq     httpcodec.Request
	cresp    handlers.Response
	cacheIov [][]byte
	// pins hold the response cache pages that views on iov point into,
	// until flush has written or copied them (write.go).
	pins []handlers.Pin
}

func newLoop(s *Server, el gnet.EventLoop) *loop {
	l := &loop{s: s, el: el, pools: make(map[*upstream.Upstream]*pool)}
	now := time.Now()
	l.now = now
	l.wheel.init(now, s.cfg.Tick)
	l.date.Update(now)
	l.parser.Limits = *s.cfg.Limits
	l.cparser.Limits = *s.cfg.Limits
	l.tickTask = gnet.RunnableFunc(func(context.Context) error {
		l.tick(time.Now())
		return nil
	})
	return l
}

// stamp brings l.now (and the Date line) up to date at the start of an
// event: every callback and task on the loop calls it first. Timers are
// scheduled from l.now; left at the last tick, it would be up to a tick old
// (much more after the loop skipped ticks, ticker.go) and a timeout would
// fire that much early. One vDSO clock read per event, as nginx updates
// its cached time once per event-loop iteration.
func (l *loop) stamp() {
	l.now = time.Now()
	l.date.Update(l.now)
	l.active = true
	l.unquiet() // whatever this event does may need the next tick
}

// tick advances the clock-driven work: the Date line, expired timers,
// parked connections' idle timeouts, the backends' starvation check and
// the access log.
func (l *loop) tick(now time.Time) {
	l.now = now
	l.date.Update(now)
	l.stats.ticks++
	l.quiet = false // the ticker counts on a tick after this one
	l.quietUntil.Store(0)
	l.wheel.advance(now, fireTimer)
	if l.parked.live > 0 {
		l.expireParked()
	}
	if len(l.pools) > 0 {
		l.checkStarvation()
	}
	if len(l.alBuf) > 0 {
		l.flushAccess()
	}
	l.settle()
}

func fireTimer(n *timerNode, kind timerKind) { n.owner.expire(kind) }

// pendingGrace is how long a client deadline is put off when the client's
// input waits in the socket unread by the loop.
const pendingGrace = time.Second

// unreadInput reports whether the kernel holds received bytes on fd that
// gnet has not read yet.
func unreadInput(fd int) bool {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	return err == nil && n > 0
}

// expire handles a client connection's deadline.
func (cs *conn) expire(kind timerKind) {
	l := cs.l
	if cs.gone {
		return
	}
	if (kind == timerIdle || kind == timerHeader || kind == timerBody) && unreadInput(int(cs.fd)) {
		// The client's bytes are in the socket and the loop has not read
		// them yet (it is behind under load): the deadline measures the
		// client, so wait for the loop rather than cut a client that sent
		// in time.
		l.wheel.schedule(&cs.t, kind, l.now, pendingGrace)
		return
	}
	switch kind {
	case timerHeader, timerBody:
		l.s.cfg.Logger.Info("request timeout", "remote", cs.remote(), "phase", kindName(kind))
		l.queueError(cs, 408)
		l.accountError(cs, 408, time.Time{})
		l.flush(cs)
	case timerSend:
		l.s.cfg.Logger.Info("send timeout: client reads nothing", "remote", cs.remote())
		l.kill(cs)
	case timerIdle, timerLinger:
		l.kill(cs)
	case timerPace:
		l.paceDone(cs)
	case timerPark:
		// The connection went idle after the previous tick: its idle
		// timeout runs from now, at most a tick late.
		idle := cs.idle() && !cs.inStalled && cs.out == nil && !l.draining
		if idle {
			l.unlimit(cs) // no request in progress: not a busy connection
		}
		if idle && !cs.pinned() {
			l.parkIdle(cs, l.s.cfg.IdleTimeout)
		} else {
			l.wheel.schedule(&cs.t, timerIdle, l.now, l.s.cfg.IdleTimeout)
		}
	}
}

func kindName(k timerKind) string {
	if k == timerBody {
		return "body"
	}
	return "header"
}

// drainIdleGrace is how long an idle connection stays open once a drain
// begins. Closing it at once would race with a client already sending its
// next request (the client would see a reset, not an answer); within the
// grace that request is answered with "Connection: close".
const drainIdleGrace = 500 * time.Millisecond

// drain starts graceful shutdown on this loop: idle connections close after
// drainIdleGrace, busy ones after their current response.
func (l *loop) drain() {
	l.draining = true
	l.capParked(drainIdleGrace)
	for cs := l.conns.head; cs != nil; cs = cs.next {
		if cs.idle() && cs.t.kind != timerLinger {
			l.wheel.schedule(&cs.t, timerIdle, l.now, drainIdleGrace)
		}
	}
}

// connList is an intrusive doubly-linked list of a loop's connections.
type connList struct{ head *conn }

func (cl *connList) add(cs *conn) {
	cs.next = cl.head
	if cl.head != nil {
		cl.head.prev = cs
	}
	cl.head = cs
}

func (cl *connList) remove(cs *conn) {
	if cs.prev != nil {
		cs.prev.next = cs.next
	} else if cl.head == cs {
		cl.head = cs.next
	}
	if cs.next != nil {
		cs.next.prev = cs.prev
	}
	cs.prev, cs.next = nil, nil
}
