// Package upstream holds gale's backends: their configuration, the budget
// of connections each may take across all event loops, balancing and
// passive health. The FastCGI wire protocol is in upstream/fastcgi. Nothing
// here does I/O on the request path or imports gnet: the reactor owns the
// sockets and keeps per-loop pools of connections to these backends.
package upstream

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Balance selects a backend for a new connection.
type Balance uint8

const (
	// RoundRobin rotates through the healthy backends.
	RoundRobin Balance = iota
	// LeastConn picks the healthy backend with the fewest connections.
	LeastConn
)

// Upstream is a named group of backends serving the same application.
type Upstream struct {
	Name     string
	Backends []*Backend
	Balance  Balance

	// MaxConns caps connections per backend across all loops; 0 means the
	// backend's FCGI_MAX_CONNS when it reports one, else 4 per event loop
	// (8 for a protocol with one request per connection).
	MaxConns int
	// MaxMux caps requests multiplexed on one connection when the backend
	// allows it (FCGI_MPXS_CONNS=1).
	MaxMux int
	// Pipeline is how many requests a connection to a backend that serves
	// one at a time (php-fpm) may carry when the budget is used up: the
	// next GET or HEAD waits in the backend's socket rather than in gale's
	// queue, so the worker finds it without sleeping. 0 or 1 turns it off.
	Pipeline int
	// PipelineWindow: a request is pipelined only behind one that began
	// less than this long ago (0 means DefaultPipelineWindow).
	PipelineWindow time.Duration
	// ConnectTimeout fails a dial (502); ReadTimeout bounds the wait for the
	// first response byte and any later silence (504); QueueTimeout bounds
	// the wait for a connection when the budget is used (503); IdleTimeout
	// closes pooled connections nobody used, so they do not pin workers.
	ConnectTimeout, ReadTimeout, QueueTimeout, IdleTimeout time.Duration
	// MaxFails failures within FailTimeout mark a backend down for
	// FailTimeout (nginx's max_fails / fail_timeout).
	MaxFails    int
	FailTimeout time.Duration
	// Protocol is the codec the backends speak; nil means FastCGI.
	Protocol Protocol
	// Params are extra CGI variables sent with every request (FastCGI's
	// fastcgi_param), after the computed ones.
	Params [][2]string
	// OnTimeout, when set, is called with the backend of a request that
	// got no answer within ReadTimeout, before its 504 is sent and its
	// connection closed. It runs on an event loop: it must not block. A
	// process manager uses it to take the stuck worker out (Disable) and
	// replace it (uWSGI's harakiri).
	OnTimeout func(*Backend)
	// Managed says a process manager (gale wsgi) runs the backends: it
	// knows when one is dead or stuck and replaces it, so the passive
	// health check never marks one down (an application error that cuts
	// a response is not the worker's ill health).
	Managed bool

	rr atomic.Uint32
	// Waiting counts requests queued for a connection on all loops. A loop
	// whose connection goes idle while others wait closes it, giving its
	// budget to them: budgets are global, queues per loop.
	Waiting atomic.Int32
	// Idle counts connections idle in the pools of all loops. A request
	// that waits for budget while another loop holds an idle connection
	// has that loop give it up (the budget is shared, idle connections
	// are not).
	Idle    atomic.Int32
	retired atomic.Bool
	// tickets orders the waits for a connection across loops; heads are
	// the loops' queues, each publishing its oldest ticket (0: empty).
	tickets atomic.Uint64
	heads   atomic.Pointer[[]*atomic.Uint64]
	headsMu sync.Mutex
}

// Ticket numbers a request that begins to wait for a connection: waits
// are served in ticket order across loops (see OlderWaiting).
func (u *Upstream) Ticket() uint64 { return u.tickets.Add(1) }

// NewQueueHead registers one loop's queue of u; the loop stores its
// oldest waiting ticket there (0 when none waits).
func (u *Upstream) NewQueueHead() *atomic.Uint64 {
	u.headsMu.Lock()
	defer u.headsMu.Unlock()
	var hs []*atomic.Uint64
	if p := u.heads.Load(); p != nil {
		hs = append(hs, *p...)
	}
	h := new(atomic.Uint64)
	hs = append(hs, h)
	u.heads.Store(&hs)
	return h
}

// OlderWaiting reports whether another loop's queue holds a request that
// began waiting before ticket t of queue mine (t 0: mine is empty). A loop
// whose connection frees up then hands its budget over rather than serve
// its own, younger request: one FIFO across loops, with no lock.
func (u *Upstream) OlderWaiting(mine *atomic.Uint64, t uint64) bool {
	p := u.heads.Load()
	if p == nil {
		return false
	}
	for _, h := range *p {
		if h == mine {
			continue
		}
		if v := h.Load(); v != 0 && (t == 0 || v < t) {
			return true
		}
	}
	return false
}

// Retire records that no handler routes to u any more (a reload removed
// or replaced it): its connections close as they go idle.
func (u *Upstream) Retire() { u.retired.Store(true) }

// Retired reports whether Retire was called.
func (u *Upstream) Retired() bool { return u.retired.Load() }

// Backend is one address of an upstream, with its connection budget and
// health, shared by all event loops (atomics, touched per connection, not
// per request).
type Backend struct {
	Network string // "tcp" or "unix"
	Address string
	// label is String's answer, made once by Upstream.Init: a connection
	// is named by it, and a backend that takes one request per
	// connection is dialed for every request.
	label string

	conns atomic.Int32 // open or dialing, all loops
	limit atomic.Int32 // current budget
	// base is the default budget when none is configured (0: one is):
	// limit is oneShotLimit(base) while b serves one request per
	// connection (OneShot), base again once a connection is reused.
	base      atomic.Int32
	fails     atomic.Int32
	downUntil atomic.Int64 // unix nanos
	probed    atomic.Bool
	known     atomic.Bool
	mpxs      atomic.Bool
	maxReqs   atomic.Int32
	starving  atomic.Int32
	// keepScore weighs what connections to b showed: +1 for each one that
	// carried another request, -1 for each that b closed right after a
	// clean end. noKeepUntil (unix nanos) is set when the score falls to
	// -noKeepAfter: until then b counts as closing after every request.
	// connectFail is when a connect to b last failed (unix nanos), 0 once
	// one succeeded since.
	connectFail atomic.Int64
	keepScore   atomic.Int32
	noKeepUntil atomic.Int64
	keeps       atomic.Bool
	// disabled takes b out of rotation (Disable): a process manager's
	// worker that is not ready yet, or is being replaced.
	disabled atomic.Bool
}

// Disable takes b out of rotation: no new connection goes to it, its idle
// connections close instead of taking a request, and busy ones close when
// their request ends, so b drains. Requests wait in the queue while every
// backend is disabled (a worker pool starting up), rather than fail.
func (b *Backend) Disable() { b.disabled.Store(true) }

// Enable puts b (back) in rotation with a clean health record: a process
// manager calls it once a fresh worker on b's address is ready. Requests
// already queued learn of it from Server.Poke.
func (b *Backend) Enable() {
	b.Succeeded()
	b.connectFail.Store(0)
	b.disabled.Store(false)
}

// Disabled reports whether Disable took b out of rotation.
func (b *Backend) Disabled() bool { return b.disabled.Load() }

// KeepsAlive reports whether a connection to b ever carried two requests.
func (b *Backend) KeepsAlive() bool { return b.keeps.Load() }

// noKeepAfter is how many more closes after a clean end than reuses it
// takes to judge that b closes every connection after one request, and
// noKeepFor how long that judgement holds before one connection is tried
// again. One close proves nothing: php-fpm's ondemand and dynamic pools
// close idle workers' connections, and recycle workers at pm.max_requests.
const (
	noKeepAfter  = 3
	keepScoreCap = 8
	noKeepFor    = time.Minute
)

// ObserveReuse records that a connection to b carried another request:
// b keeps connections open, whatever it did before.
func (b *Backend) ObserveReuse() {
	b.keeps.Store(true)
	if base := b.base.Load(); base > 0 {
		b.limit.CompareAndSwap(oneShotLimit(base), base) // see OneShot
	}
	if b.noKeepUntil.Load() != 0 {
		b.noKeepUntil.Store(0)
	}
	for {
		s := b.keepScore.Load()
		if s >= keepScoreCap || b.keepScore.CompareAndSwap(s, max(s, 0)+1) {
			return
		}
	}
}

// ObserveCloseAfterEnd records that b itself closed a connection right
// after a clean end of its request (gale's own closes do not count). It
// reports whether this observation made b count as closing after every
// request (uWSGI does, despite FCGI_KEEP_CONN), for a log line.
func (b *Backend) ObserveCloseAfterEnd(now time.Time) bool {
	for {
		s := b.keepScore.Load()
		n := max(s-1, -keepScoreCap)
		if !b.keepScore.CompareAndSwap(s, n) {
			continue
		}
		if n > -noKeepAfter {
			return false
		}
		return b.noKeepUntil.Swap(now.Add(noKeepFor).UnixNano()) < now.UnixNano()
	}
}

// NoKeepAlive reports whether b counts as closing its connections after
// every request at now: gale then closes them itself after one request
// rather than race b's close.
func (b *Backend) NoKeepAlive(now time.Time) bool { return now.UnixNano() < b.noKeepUntil.Load() }

// Starving counts connections to b whose first request has had no answer
// for a while: the backend accepted them but has no worker free, usually
// because idle kept-alive connections pin its workers (php-fpm serves one
// connection per child). Loops close their idle connections to b while it
// is non-zero, so that the workers go to the waiting connections.
func (b *Backend) Starving() *atomic.Int32 { return &b.starving }

// ParseAddrs parses a comma-separated list of backend addresses:
// "host:port" or "unix:/path".
func ParseAddrs(list string) ([]*Backend, error) {
	var out []*Backend
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		b := &Backend{Network: "tcp", Address: a}
		if p, ok := strings.CutPrefix(a, "unix:"); ok {
			if p == "" {
				return nil, fmt.Errorf("upstream address %q: empty socket path", a)
			}
			b.Network, b.Address = "unix", p
		} else if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("upstream address %q: %w", a, err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("upstream: no addresses in %q", list)
	}
	return out, nil
}

// String is the address as configured, for logs.
func (b *Backend) String() string {
	if b.label != "" {
		return b.label
	}
	if b.Network == "unix" {
		return "unix:" + b.Address
	}
	return b.Address
}

// Init applies defaults for an engine with loops event loops.
func (u *Upstream) Init(loops int) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&u.ConnectTimeout, 5*time.Second)
	def(&u.ReadTimeout, 60*time.Second)
	def(&u.QueueTimeout, 10*time.Second)
	def(&u.IdleTimeout, 30*time.Second)
	def(&u.FailTimeout, 10*time.Second)
	if u.MaxFails <= 0 {
		u.MaxFails = 1
	}
	if u.MaxMux <= 0 {
		u.MaxMux = 64
	}
	// base is the default budget of a backend that keeps connections;
	// one that closes each gets oneShotLimit(base) (see OneShot).
	base := 4 * max(loops, 1)
	if u.Protocol != nil && u.Protocol.Caps().OpenPool {
		base = max(base, OneShotBudget) // an HTTP app: see Caps.OpenPool
	}
	limit := u.MaxConns
	if limit <= 0 {
		limit = base
		if u.Protocol != nil && !u.Protocol.Caps().KeepAlive {
			limit = int(oneShotLimit(int32(limit))) // uWSGI, SCGI: see OneShotBudget
		}
	}
	for _, b := range u.Backends {
		b.label = b.String()
		b.limit.Store(int32(limit))
		if u.MaxConns <= 0 {
			b.base.Store(int32(base))
		}
	}
}

// OneShotBudget is the default budget of connections to a backend that
// takes one request per connection (uWSGI, SCGI, gunicorn's sync workers):
// its workers close each connection and take the next from their listen
// queue, so requests must wait there, not in gale's queue. With a budget
// of a connection or two per worker, a worker that finishes finds the
// queue empty and sleeps until gale, told of the close, connects again.
// `go run ./bench -servers gale,nginx -scenarios gunicorn-flask -runs 2`
// (4 sync workers): 1.02× nginx's rps at its p99 (27.8 against 27.1 ms);
// with -gale-flags "-fastcgi-max-conns 8", 0.86× at twice it (53.4 ms).
// nginx puts every request in the listen queue. 64 stays below
// uWSGI's default listen queue (100), whose overflow refuses connections;
// beyond the budget requests wait in gale's FIFO queue.
const OneShotBudget = 64

// oneShotLimit is the default budget of a one-request-per-connection
// backend whose keep-alive budget would be base.
func oneShotLimit(base int32) int32 {
	if base >= OneShotBudget {
		return base // already as deep (an HTTP app's, many loops')
	}
	return max(2*base, OneShotBudget)
}

// OneShot records that a connection to b ended after its one request
// because b would not keep it (an HTTP backend answering
// "Connection: close", as gunicorn's sync workers do; a FastCGI one that
// closes): the default budget becomes OneShotBudget's. A configured budget
// or one the backend reported (FCGI_MAX_CONNS) is left alone.
func (b *Backend) OneShot() {
	if base := b.base.Load(); base > 0 {
		b.limit.CompareAndSwap(base, oneShotLimit(base))
	}
}

// Pick returns the backend for a new connection, skipping those marked
// down and those whose budget is used; nil when none can take one now.
// skip excludes a backend that just failed, since those whose connect
// failed after that time (when the request began to wait).
func (u *Upstream) Pick(now, since time.Time, skip *Backend) *Backend {
	n := len(u.Backends)
	var best *Backend
	start := int(u.rr.Add(1))
	for i := 0; i < n; i++ {
		b := u.Backends[(start+i)%n]
		if b == skip || b.disabled.Load() || !b.healthy(now) || b.failedSince(since) || b.conns.Load() >= b.limit.Load() {
			continue
		}
		if u.Balance == RoundRobin {
			return b
		}
		if best == nil || b.conns.Load() < best.conns.Load() {
			best = b
		}
	}
	return best
}

// ConnectFailed records that a connect to b failed (refused or timed out).
func (b *Backend) ConnectFailed(now time.Time) { b.connectFail.Store(now.UnixNano()) }

// ConnectOK records that a connect to b succeeded.
func (b *Backend) ConnectOK() {
	if b.connectFail.Load() != 0 {
		b.connectFail.Store(0)
	}
}

// failedSince reports whether a connect to b failed after since.
func (b *Backend) failedSince(since time.Time) bool {
	f := b.connectFail.Load()
	return f != 0 && f > since.UnixNano()
}

// Unreachable reports whether no backend can serve a request that began
// waiting at since: each is down, or a connect to it failed after since.
// Such a request gets its 502 at once rather than one more connect
// timeout per turn in the queue (nginx answers them all within one).
func (u *Upstream) Unreachable(now, since time.Time) bool {
	for _, b := range u.Backends {
		if b.healthy(now) && !b.failedSince(since) {
			return false
		}
	}
	return true
}

// HasRoom reports whether a backend has budget left for a connection.
func (u *Upstream) HasRoom() bool {
	for _, b := range u.Backends {
		if !b.disabled.Load() && b.conns.Load() < b.limit.Load() {
			return true
		}
	}
	return false
}

// Healthy reports whether any backend is up.
func (u *Upstream) Healthy(now time.Time) bool {
	for _, b := range u.Backends {
		if b.healthy(now) {
			return true
		}
	}
	return false
}

func (b *Backend) healthy(now time.Time) bool { return now.UnixNano() >= b.downUntil.Load() }

// Acquire takes one connection from b's budget; false when it is used up.
func (b *Backend) Acquire() bool {
	for {
		c := b.conns.Load()
		if c >= b.limit.Load() {
			return false
		}
		if b.conns.CompareAndSwap(c, c+1) {
			return true
		}
	}
}

// Release returns one connection to b's budget.
func (b *Backend) Release() { b.conns.Add(-1) }

// Conns is the number of connections open or dialing, all loops.
func (b *Backend) Conns() int { return int(b.conns.Load()) }

// Limit is the current connection budget.
func (b *Backend) Limit() int { return int(b.limit.Load()) }

// Failed records a connect or protocol failure (passive health check).
// A lone backend is never marked down, as in nginx: there is nothing else
// to try, and a fast 502 per attempt beats a fail_timeout of 502s after it
// is back.
func (b *Backend) Failed(u *Upstream, now time.Time) {
	if len(u.Backends) < 2 || u.Managed {
		return
	}
	if int(b.fails.Add(1)) >= u.MaxFails {
		b.fails.Store(0)
		b.downUntil.Store(now.Add(u.FailTimeout).UnixNano())
	}
}

// Succeeded clears the failure count after a good exchange.
func (b *Backend) Succeeded() {
	if b.fails.Load() != 0 {
		b.fails.Store(0)
	}
	if b.downUntil.Load() != 0 {
		b.downUntil.Store(0)
	}
}

// StartProbe reports whether the caller should ask the backend
// FCGI_GET_VALUES: true for the first caller only.
func (b *Backend) StartProbe() bool { return b.probed.CompareAndSwap(false, true) }

// SetValues records what the backend answered to FCGI_GET_VALUES; a
// reported FCGI_MAX_CONNS becomes the budget unless u configures one.
func (b *Backend) SetValues(u *Upstream, maxConns, maxReqs int, mpxs bool) {
	defer b.known.Store(true)
	if u.MaxConns <= 0 && maxConns > 0 {
		b.base.Store(0) // the backend's word: not doubled (OneShot)
		b.limit.Store(int32(maxConns))
	}
	b.maxReqs.Store(int32(maxReqs))
	b.mpxs.Store(mpxs)
}

// ProbeDone records that the FCGI_GET_VALUES probe ended, answered or not
// (uWSGI never answers: it then counts as no multiplexing).
func (b *Backend) ProbeDone() { b.known.Store(true) }

// ValuesKnown reports whether the probe has ended.
func (b *Backend) ValuesKnown() bool { return b.known.Load() }

// MuxLimit is how many requests one connection may carry at once.
func (b *Backend) MuxLimit(u *Upstream) int {
	if !b.mpxs.Load() {
		return 1
	}
	n := u.MaxMux
	if r := int(b.maxReqs.Load()); r > 0 {
		n = min(n, r)
	}
	return max(n, 1)
}

// DefaultPipelineWindow bounds how long the request ahead may have been
// running for a request to be pipelined behind it. A pipelined request
// cannot be taken back: behind a long script (a report, a long poll) it
// would wait for all of it while other workers free up. Requests of a busy
// PHP application mostly take milliseconds; one still running after this
// long is likely a slow one, and the request waits in the queue instead.
const DefaultPipelineWindow = 20 * time.Millisecond

// Window returns u.PipelineWindow or its default.
func (u *Upstream) Window() time.Duration {
	if u.PipelineWindow > 0 {
		return u.PipelineWindow
	}
	return DefaultPipelineWindow
}

// PipelineDepth is how many requests one connection to b may carry in a
// row when b does not multiplex: u.Pipeline once b has shown it keeps
// connections open (a backend that closes after each request would drop
// what waits behind), else 1.
func (b *Backend) PipelineDepth(u *Upstream) int {
	if b.mpxs.Load() || !b.keeps.Load() || b.noKeepUntil.Load() != 0 {
		return 1
	}
	return max(u.Pipeline, 1)
}

// Up reports whether b is not marked down by the passive health check.
func (b *Backend) Up(now time.Time) bool { return b.healthy(now) }
