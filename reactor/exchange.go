package reactor

import (
	"os"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
	"github.com/gale-http/gale/upstream/fastcgi"
	"github.com/gale-http/gale/upstream/httpproxy"
)

// exState is where an exchange is on its way to the backend and back.
// Transitions live in the functions named beside each state.
type exState uint8

const (
	exReceiving exState = iota // the request body is arriving (takeBody)
	exCollapsed                // waiting for another request's fetch of its cache key (cache_tee.go)
	exWaiting                  // in its pool's queue, for a connection (pool.assign)
	exDialing                  // on a connection being dialed (pool.dial)
	exSent                     // handed to a connection; nothing back yet (loop.send)
	exAnswering                // the backend sent bytes of its response (Data)
	exEnded                    // the backend ended the response; the client side finishes (End)
	exFinished                 // done: answered, failed, or its client left
)

// exchange is one request on its way to an upstream application and back,
// whatever the protocol: the engine's unit of work. It is the
// upstream.Stream (and HeadStream) of its request on its connection's
// codec.
type exchange struct {
	l     *loop
	cs    *conn // the downstream; nil once the client is gone
	p     *pool // its upstream and protocol are p.u, p.proto
	t     timerNode
	state exState

	// The request goes out as its head, encoded once when it was parsed
	// under a placeholder ID, and its body, kept raw (in memory up to
	// requestSpoolMemory, the rest in an unlinked file) and framed by the
	// codec when it is sent: no protocol bytes are ever patched on disk.
	reqHead    *bytebufferpool.ByteBuffer // the head, then what is built at send
	headLen    int
	reqBody    *bytebufferpool.ByteBuffer // raw body bytes in memory
	reqFile    *os.File                   // raw body bytes beyond reqBody
	reqFileLen int64
	reqLen     int64 // body bytes received
	reqLeft    int64 // body bytes still to receive (Content-Length)
	chunked    *httpcodec.ChunkedDecoder
	// rawHead is a copy of a chunked request's head: a codec that needs
	// the body's length encodes the head once the body is in.
	rawHead  []byte
	route    handlers.UpstreamRoute // a chunked request's route, its views in routeBuf
	routeBuf []byte
	frames   *bytebufferpool.ByteBuffer
	frameAt  []int // ends of the frames in frames, while they are queued

	// internal is the target of an X-Accel-Redirect or a local Location
	// redirect, served by internalH instead of the application's body.
	internal  []byte
	internalH handlers.Handler
	// hdrRules are the location's response header rules (nil: none).
	hdrRules *handlers.HeaderRules

	up     *upConn
	id     uint16
	failed *upstream.Backend // the backend that just failed us, not to retry

	// errPages has the pages of the errors gale answers for the
	// application (responseFailed); maxBody bounds a chunked body.
	errPages *handlers.ErrorPages
	maxBody  int64
	// errStatus, when not 0, replaces the status of the application's
	// answer: it is an error page (UpstreamRoute.ErrorStatus).
	errStatus int

	// zc is the route's compression of the response and coding what the
	// client accepts of it, both decided with the request; enc compresses
	// the body once the response head qualified (sendHead).
	zc     *handlers.DynCompress
	coding handlers.Coding
	enc    *handlers.StreamEncoder

	rp cgi.ResponseParser // the response head of a CGIResponse
	// head is the response head once complete: &rp, or one its codec
	// parsed (upstream.HTTPResponse), valid until End; status is its
	// status, kept for after End.
	head      upstream.ResponseHead
	status    int
	held      []byte // response body held before the head is sent
	buffering handlers.Buffering
	// flushQueued: r is on its loop's list of exchanges whose held
	// bytes go out when the flush delay has passed (flush.go).
	flushQueued bool
	headSent    bool
	chunkedTE   bool // the response goes to the client chunked
	noBody      bool // HEAD, 204, 304, internal redirect: no body bytes to the client
	isHead      bool // the request's method is HEAD
	// upgrade: the request asks to switch protocols (a WebSocket
	// handshake to an HTTP upstream); tunnel: the backend switched, and
	// r carries raw bytes both ways until either side closes (tunnel.go).
	upgrade, tunnel bool
	// downHeld: the tunnel stopped reading the backend until the client
	// takes what waits for it; upHeld: the client, until the backend does.
	downHeld, upHeld bool
	keep             bool
	minor            uint8
	safe             bool // idempotent method: may be resent on a fresh connection
	// pipelinable: GET or HEAD without a body, so it may wait behind
	// another request on a busy connection (see pool.pipeline).
	pipelinable bool
	counted     bool   // queued for budget (counted in Upstream.Waiting)
	ticket      uint64 // its place in the wait across loops (Upstream.Ticket)
	fresh       bool   // resend on a new connection: a reused one was closed under it
	retries     int
	requeues    int // resends of a request the backend never read (see lost)
	started     time.Time
	// waitFrom is when r, body in hand, was first given to its pool: a
	// connect failing after it fails r (Upstream.Unreachable). queueDue
	// is the deadline of its wait for a connection (pool.armQueue).
	waitFrom time.Time
	queueDue time.Time

	// For metrics and the access log (account.go).
	info     reqInfo
	bodySent int64         // response body bytes sent to the client
	sentAt   time.Time     // when the request went to the backend
	upTime   time.Duration // backend response time, once it ended
	upStats  *backendStats // the backend that answered
	bodyIn   int64         // response body bytes taken from the application
	overrun  bool          // the application sent more than its Content-Length

	// writing counts r's segments queued on an upstream connection: its
	// buffers and body file are released only once it is back to zero,
	// and releaseLater says a release waits for that.
	writing      int
	releaseLater bool
	cancelRec    [16]byte // the in-band cancel, when it has to be queued

	// The response cache (cache_tee.go): the policy of r's location;
	// fill tees the response into it; waitFill is the fetch r waits
	// for (exCollapsed); rawReq a copy of the request head, to answer
	// from the cache once the fetch is over; invKey the key a successful
	// unsafe request invalidates. cstatus is the Cache-Status sent.
	cache      *handlers.CachePolicy
	fill       *handlers.CacheFill
	waitFill   *handlers.CacheFill
	rawReq     []byte
	invKey     []byte
	invHost    int
	cstatus    string
	cacheServe handlers.ServeHow // answer from the cache once the fetch ended (0: no)
	teeing     bool              // the body goes to fill too
	canStream  bool              // a waiter written the fetch's response as it arrives
	streamed   int               // chunks of waitFill's stream written
	w          *exWaiter         // r as a CacheWaiter (cache_tee.go); kept by recycle
	// bg: a fetch for the cache alone (a background refresh, or a fill
	// whose client left): it has no client, and is not abandoned.
	bg bool
}

func (r *exchange) abandoned() bool { return r.cs == nil && !r.bg }
func (r *exchange) sent() bool      { return r.state >= exSent }
func (r *exchange) gotBytes() bool  { return r.state >= exAnswering }

// protocolOf is u's codec; an Upstream that names none speaks FastCGI,
// gale's first protocol (configurations and tests written before there
// were others leave it unset).
func protocolOf(u *upstream.Upstream) upstream.Protocol {
	if u.Protocol != nil {
		return u.Protocol
	}
	return fastcgi.Protocol
}

// startExchange turns the parsed request into an exchange and sends it to
// its application once the body is in hand. It returns the number of body
// bytes it took from rest.
func (l *loop) startExchange(cs *conn, route *handlers.UpstreamRoute, rest []byte) int {
	req := &l.req
	r := l.pending
	if r != nil {
		l.pending = nil
	} else {
		r = l.newExchange()
	}
	r.cs, r.started, r.internalH, r.hdrRules, r.buffering = cs, l.now, route.Internal, route.Headers, route.Buffering
	r.p = l.poolFor(route.Upstream)
	r.isHead = req.Method == httpcodec.MethodHead
	r.minor = req.Minor
	r.keep = req.KeepAlive && !l.draining && int(cs.nreq) < l.s.cfg.MaxRequestsPerConn
	switch req.Method {
	case httpcodec.MethodGet, httpcodec.MethodHead, httpcodec.MethodOptions, httpcodec.MethodPut, httpcodec.MethodDelete, httpcodec.MethodTrace:
		r.safe = true
	}
	r.pipelinable = (req.Method == httpcodec.MethodGet || r.isHead) && !req.HasBody()
	r.errPages, r.maxBody, r.errStatus = route.Errors, route.MaxBody, route.ErrorStatus
	if zc := route.Compress; zc != nil && !r.isHead && !req.Has(httpcodec.HdrRange) {
		// A range is of the identity body: never compressed.
		r.zc, r.coding = zc, zc.Choose(req.Get(httpcodec.HdrAcceptEncoding))
	}
	r.reqHead = headPool.Get()
	cs.ex = r
	r.startInfo(cs)
	if req.Chunked && r.p.proto.Caps().NeedsLength {
		r.keepChunkedHead(route)
	} else {
		hdrs := req.Headers
		if r.fill != nil {
			// The cache answers the client's conditionals and ranges;
			// a revalidation sends the entry's validators.
			l.condHdrs = r.fill.ConditionalHeaders(l.condHdrs[:0])
			hdrs = l.condHdrs
		}
		r.reqHead.B = l.encodeHead(r.reqHead.B, r.p.proto, cs, req, route, req.ContentLength, hdrs)
		clear(l.condHdrs)
		r.headLen = len(r.reqHead.B)
		// req.Has first: only a request with an Upgrade field costs a
		// scan of its fields.
		r.upgrade = req.Has(httpcodec.HdrUpgrade) && !req.HasBody() &&
			r.p.proto.Response() == upstream.HTTPResponse &&
			httpproxy.UpgradeTo(l.ri.Method, l.ri.Headers) != nil
	}
	if req.Chunked {
		r.chunked = &httpcodec.ChunkedDecoder{}
		r.chunked.Reset(&l.parser.Limits)
	} else {
		r.reqLeft = max(req.ContentLength, 0)
	}
	if req.Expect100 && len(rest) == 0 && req.HasBody() {
		// Behind the responses of this batch, not straight to the socket:
		// responses go out in request order (RFC 9112 §9.3.2).
		l.iov = append(l.iov, continue100)
	}
	return r.takeBody(rest)
}

var (
	continue100 = []byte(httpcodec.Continue100)
	proto10     = []byte("HTTP/1.0")
	proto11     = []byte("HTTP/1.1")
)

// headPool holds the buffers of encoded request heads (a few hundred
// bytes); bodyPool those of request bodies (up to requestSpoolMemory).
// Kept apart so bytebufferpool calibrates each to its own sizes.
var headPool, bodyPool bytebufferpool.Pool

// newExchange takes an exchange from the loop's free list. Only exchanges
// that completed normally go back to it (see recycle): by then nothing
// else refers to them.
func (l *loop) newExchange() *exchange {
	if n := len(l.freeEx); n > 0 {
		r := l.freeEx[n-1]
		l.freeEx = l.freeEx[:n-1]
		return r
	}
	r := &exchange{l: l}
	r.t.owner = r
	return r
}

// recycle resets r, keeping its response parser's, held body's and frame
// list's storage, and puts it on the free list.
func (l *loop) recycle(r *exchange) {
	if len(l.freeEx) >= 256 || r.writing > 0 {
		return // a queued write still refers to r: the collector takes it
	}
	rp, held, info, frameAt, w := r.rp, r.held[:0], r.info, r.frameAt[:0], r.w
	if cap(held) > 16<<10 && len(l.freeEx) >= 32 {
		// Keep few large head buffers: hundreds of concurrent big
		// responses would otherwise leave 64 KiB each on the free list.
		held = nil
	}
	rp.Reset()
	*r = exchange{l: l, rp: rp, held: held, info: reqInfo{buf: info.buf[:0]}, frameAt: frameAt, w: w}
	r.t.owner = r
	l.freeEx = append(l.freeEx, r)
}

// hold counts one more segment of r queued for writing.
func (r *exchange) hold() { r.writing++ }

// segmentDone implements segOwner: one of r's segments was written or
// dropped; the last one lets a pending release happen.
func (r *exchange) segmentDone() {
	r.writing--
	if r.writing == 0 && r.releaseLater {
		r.releaseLater = false
		r.release()
	}
}

// release returns the request's pooled buffers and its body file, or, when
// an upstream connection still has them queued (a backend may answer
// before it read the whole body), as soon as that write ends.
func (r *exchange) release() {
	if f := r.fill; f != nil {
		// Whatever ended r without its fill's end (a response without a
		// head, a client gone while its body arrived): the key is not
		// left locked, its waiters go on.
		r.fill = nil
		f.Finish(false, r.l.now)
	}
	if r.writing > 0 {
		r.releaseLater = true
		return
	}
	if r.reqFile != nil {
		r.reqFile.Close()
		r.reqFile = nil
	}
	for _, b := range []**bytebufferpool.ByteBuffer{&r.reqHead, &r.frames} {
		if *b != nil {
			headPool.Put(*b)
			*b = nil
		}
	}
	if r.reqBody != nil {
		bodyPool.Put(r.reqBody)
		r.reqBody = nil
	}
	if r.enc != nil {
		r.enc.Release() // what it produced was copied or written
		r.enc = nil
	}
	r.held = r.held[:0]
}

// finish ends r's part in its pool: out of the queue, timer disarmed.
func (r *exchange) finish() {
	r.l.wheel.cancel(&r.t)
	r.p.unqueue(r)
	r.state = exFinished
}

// fail is failClient with a log line.
func (r *exchange) fail(status int, why string) {
	r.l.s.cfg.Logger.Error("upstream request failed", "status", status, "reason", why, "upstream", r.p.u.Name)
	r.failClient(status)
}

// lost runs when the connection carrying r went away before r's answer
// ended. r is resent only when the connection, not the request, can have
// failed, and never twice for the same cause:
//   - afterEnd: the backend closed right after a clean end without
//     reading r (a worker recycled at pm.max_requests, or crashed, with r
//     pipelined behind): r never started, whatever its method. Such resends
//     do not count against the retries, up to maxRequeues, since a
//     pipelined request can meet several recycling workers in a row;
//   - r never left gale (its dial failed): another backend may take it;
//   - r went out on a reused connection that died before any byte of
//     answer (the keep-alive race with a backend closing an idle
//     connection): once, on a fresh connection, for a safe method.
//
// A fresh connection that dies under r says r is the cause (a header too
// big for uWSGI's buffer, a crash the request triggers): 502 at once.
func (r *exchange) lost(afterEnd bool) {
	r.l.wheel.cancel(&r.t)
	up := r.up
	r.up = nil
	resend := true
	switch {
	case afterEnd && !r.gotBytes() && r.requeues < maxRequeues:
		r.requeues++
	case !r.sent() && r.retries < 2:
		r.retries++
	case !r.gotBytes() && up != nil && up.reused && r.safe && !r.fresh:
		r.retries++
		r.fresh = true
	default:
		resend = false
	}
	if resend {
		r.p.assign(r)
		return
	}
	if up != nil {
		up.upError(upErrLost)
	}
	if r.headSent {
		r.failClient(502)
		return
	}
	served := -1
	if up != nil {
		served = up.served
	}
	r.l.s.cfg.Logger.Debug("lost request", "retries", r.retries, "got_bytes", r.gotBytes(), "safe", r.safe, "fresh", r.fresh, "conn_served", served)
	why := "upstream connection lost"
	if h, ok := r.p.proto.(upstream.LossHinter); ok && !r.gotBytes() {
		if hint := h.LossHint(r.headLen); hint != "" {
			why += ": " + hint
		}
	}
	r.fail(502, why)
}

// maxRequeues bounds the resends of one request left unread by backends
// that closed after a clean end.
const maxRequeues = 8

// expire handles the exchange's queue and upstream timeouts.
func (r *exchange) expire(kind timerKind) {
	switch kind {
	case timerQueue:
		if r.state == exCollapsed {
			r.lockTimeout()
			return
		}
		if r.state == exWaiting {
			r.p.unqueue(r)
			r.p.logState("queue timeout")
			r.fail(503, "no upstream connection within the queue timeout")
		}
	case timerUpstream:
		if r.up != nil && r.state != exEnded {
			r.timedOut()
		}
	}
}

// timedOut answers 504 for a request its backend left silent too long,
// and cancels it there.
func (r *exchange) timedOut() {
	uc := r.up
	if h := r.p.u.OnTimeout; h != nil {
		h(uc.b) // before the close frees the budget: a stuck worker takes no other request
	}
	uc.upError(upErrTimeout)
	r.l.s.cfg.Logger.Error("upstream timeout", "backend", uc.name, "after", r.p.u.ReadTimeout,
		"inbound", inboundBytes(uc), "state", uc.state.String(), "queued_out", uc.out.busy(), "retries", r.retries, "reused", uc.reused, "served", uc.served, "id", r.id)
	r.failClient(504)
	if uc.muxes() {
		// The others' requests on uc go on: cancel this one in band (the
		// connection closes once nothing else is live).
		r.l.cancel(uc, r, "upstream timeout")
		return
	}
	// The worker is stuck in r: close the connection rather than wait for
	// a response nobody will read. What was pipelined behind r was never
	// read by the backend, so it is resent on a fresh connection (upDrop).
	uc.loss = lossTimeout
	r.l.upClose(uc)
}

// receiving reports whether the request body is still arriving.
func (r *exchange) receiving() bool { return r.state == exReceiving }

// clientGone runs when the client closed before its response ended: the
// request leaves the queue, or the backend is told to cancel it (see
// loop.cancel).
func (r *exchange) clientGone() {
	if r.state == exCollapsed {
		r.waitFill.Leave(r.w)
		r.waitFill = nil
	}
	if r.fill != nil && r.state >= exWaiting && r.state < exEnded {
		// The cache still wants the response, and others may wait for
		// it: the fetch goes on without a client (nginx does the same
		// with proxy_cache).
		r.accountUpstream(499)
		r.cs, r.bg = nil, true
		return
	}
	if r.cs != nil && r.tunnel {
		r.accountUpstream(101) // a tunnel ends when either side closes
	} else if r.cs != nil {
		r.accountUpstream(499) // nginx's "client closed request"
	}
	r.cs = nil
	up, ended := r.up, r.state == exEnded
	r.finish()
	if up != nil && !ended {
		r.l.cancel(up, r, "client left")
	}
	r.release() // once its queued writes, if any, are done
}
