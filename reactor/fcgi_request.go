package reactor

import (
	"net"
	"os"
	"strconv"
	"time"

	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/fastcgi"
)

// headBuffer is how much response body is held before the head is sent:
// a response that ends within it goes out with Content-Length in one
// write; a longer one is sent chunked as it comes.
const headBuffer = 64 << 10

// fcgiReq is one request on its way to a FastCGI application and back. It
// is the fastcgi.Sink of its request ID.
type fcgiReq struct {
	l  *loop
	cs *conn // nil once the client is gone
	u  *upstream.Upstream
	t  timerNode

	// wire holds the request's records (BEGIN_REQUEST, PARAMS, STDIN),
	// built when the head was parsed, with a placeholder request ID.
	wire *bytebufferpool.ByteBuffer
	// Request body still arriving from the client.
	bodyLeft int64
	chunked  *httpcodec.ChunkedDecoder
	rawHead  []byte // for chunked bodies: the head, to build PARAMS at the end
	// The body's STDIN records: in wire after stdinStart, and beyond
	// requestSpoolMemory in bodyFile (bodyFileLen bytes, EOF record last).
	stdinStart  int
	bodySize    int64
	bodyFile    *os.File
	bodyFileLen int64
	// internal is the target of an X-Accel-Redirect or a local Location
	// redirect, served by internalH instead of the application's body.
	internal  []byte
	internalH handlers.Handler

	up     *upConn
	id     uint16
	failed *upstream.Backend // the backend that just failed us, not to retry

	rp        fastcgi.ResponseParser
	body      []byte // response body held before the head is sent
	head      bool
	chunkedTE bool
	noBody    bool // HEAD, 204, 304: no body bytes to the client
	isHead    bool
	keep      bool
	minor     uint8
	safe      bool // idempotent method: may be resent on a fresh connection
	// pipelinable: GET or HEAD without a body, so it may wait behind
	// another request on a busy connection (see pool.pipeline).
	pipelinable bool
	sent        bool
	gotBytes    bool
	queued      bool
	counted     bool // queued for budget (counted in Upstream.Waiting)
	fresh       bool // resend on a new connection: a reused one was closed under it
	done        bool
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
	abortRec     [fastcgi.HeaderLen]byte // FCGI_ABORT_REQUEST, when queued
}

// hold counts one more segment of r queued for writing.
func (r *fcgiReq) hold() { r.writing++ }

// segmentDone implements segOwner: one of r's segments was written or
// dropped; the last one lets a pending release happen.
func (r *fcgiReq) segmentDone() {
	r.writing--
	if r.writing == 0 && r.releaseLater {
		r.releaseLater = false
		r.release()
	}
}

func (r *fcgiReq) abandoned() bool { return r.cs == nil }

// startFastCGI turns the parsed request into FastCGI records and sends it
// to its application once the body is in hand. It returns the number of
// body bytes it took from rest.
func (l *loop) startFastCGI(cs *conn, route *handlers.FastCGIRoute, rest []byte) int {
	req := &l.req
	r := l.newReq()
	r.cs, r.u, r.started, r.internalH = cs, route.Upstream, l.now, route.Internal
	r.isHead = req.Method == httpcodec.MethodHead
	r.minor = req.Minor
	r.keep = req.KeepAlive && !l.draining && int(cs.nreq) < l.s.cfg.MaxRequestsPerConn
	switch req.Method {
	case httpcodec.MethodGet, httpcodec.MethodHead, httpcodec.MethodOptions, httpcodec.MethodPut, httpcodec.MethodDelete, httpcodec.MethodTrace:
		r.safe = true
	}
	r.pipelinable = (req.Method == httpcodec.MethodGet || r.isHead) && !req.HasBody()
	r.wire = bytebufferpool.Get()
	cs.fcgi = r
	r.startInfo(cs)
	if req.Chunked {
		r.rawHead = append([]byte(nil), l.rawHead...)
		r.chunked = &httpcodec.ChunkedDecoder{}
		r.chunked.Reset(&l.parser.Limits)
	} else {
		r.wire.B = l.appendParams(r.wire.B, cs, req, route, req.ContentLength)
		r.stdinStart = len(r.wire.B)
		r.bodyLeft = max(req.ContentLength, 0)
	}
	if req.Expect100 && len(rest) == 0 && req.HasBody() {
		// Behind the responses of this batch, not straight to the socket:
		// responses go out in request order (RFC 9112 §9.3.2).
		l.iov = append(l.iov, continue100)
	}
	return r.takeBody(rest)
}

// appendParams builds BEGIN_REQUEST and PARAMS for req.
func (l *loop) appendParams(dst []byte, cs *conn, req *httpcodec.Request, route *handlers.FastCGIRoute, contentLength int64) []byte {
	ri := &l.ri
	*ri = fastcgi.RequestInfo{
		Method:        req.MethodName,
		RequestURI:    req.RawTarget,
		Path:          req.Path,
		Query:         req.Query,
		ContentType:   req.Get(httpcodec.HdrContentType),
		ContentLength: contentLength,
		DocumentRoot:  route.DocumentRoot,
		ScriptName:    route.ScriptName,
		PathInfo:      route.PathInfo,
		ServerName:    req.Host,
		Extra:         route.Upstream.Params,
		Headers:       l.fields[:0],
	}
	if req.Minor == 0 {
		ri.Proto = proto10
	} else {
		ri.Proto = proto11
	}
	ri.RemoteAddr, ri.RemotePort, ri.ServerAddr, ri.ServerPort = l.addrs(cs)
	for _, h := range req.Headers {
		ri.Headers = append(ri.Headers, fastcgi.Field{Name: h.Name, Value: h.Value})
	}
	l.fields = ri.Headers[:0]
	dst = fastcgi.AppendRequest(dst, 1, ri)
	return dst
}

var (
	continue100 = []byte(httpcodec.Continue100)
	proto10     = []byte("HTTP/1.0")
	proto11     = []byte("HTTP/1.1")
)

// requestSpoolMemory is how much of a request body is held in memory;
// the rest goes to an unlinked temporary file, sent with sendfile.
const requestSpoolMemory = 1 << 20

// takeBody consumes request body bytes from p into STDIN records, and
// dispatches the request when the body is complete. The whole body is read
// before the application sees the request (nginx's request buffering), so
// a slow upload never holds a worker and CONTENT_LENGTH is always exact.
func (r *fcgiReq) takeBody(p []byte) int {
	l := r.l
	n := 0
	for r.chunked != nil {
		k, data, err := r.chunked.Decode(p[n:])
		n += k
		if err != nil {
			l.s.cfg.Logger.Info("bad request body", "remote", r.cs.remote(), "err", err)
			r.failClient(httpcodec.StatusOf(err))
			return len(p)
		}
		r.appendStdin(data)
		if r.chunked.Done() {
			r.chunked = nil
		} else if k == 0 {
			break
		}
	}
	if r.bodyLeft > 0 {
		k := int(min(int64(len(p)), r.bodyLeft))
		r.appendStdin(p[:k])
		r.bodyLeft -= int64(k)
		n = k
	}
	if r.cs == nil {
		return len(p) // failed while spooling
	}
	if r.bodyLeft > 0 || r.chunked != nil {
		l.wheel.schedule(&r.cs.t, timerBody, l.now, l.s.cfg.BodyTimeout)
		return n
	}
	if r.cs.t.kind == timerBody {
		l.wheel.cancel(&r.cs.t)
	}
	r.wire.B = fastcgi.AppendStdinEOF(r.wire.B, 1)
	if r.bodyFile != nil && !r.spill() {
		return n
	}
	if r.rawHead != nil && !r.finishChunked() {
		return n
	}
	r.waitFrom = l.now
	l.poolFor(r.u).assign(r)
	return n
}

// appendStdin frames body bytes as STDIN records, spilling to the body
// file beyond requestSpoolMemory.
func (r *fcgiReq) appendStdin(data []byte) {
	if len(data) == 0 || r.cs == nil {
		return
	}
	r.bodySize += int64(len(data))
	r.wire.B = fastcgi.AppendStdin(r.wire.B, 1, data, false)
	if len(r.wire.B)-r.stdinStart > requestSpoolMemory {
		r.spill()
	}
}

// spill moves the STDIN records in memory to the end of the body file.
func (r *fcgiReq) spill() bool {
	if r.bodyFile == nil {
		f, err := os.CreateTemp("", "gale-body-")
		if err != nil {
			r.l.s.cfg.Logger.Error("request body spool", "err", err)
			r.failClient(500)
			return false
		}
		os.Remove(f.Name())
		r.bodyFile = f
	}
	recs := r.wire.B[r.stdinStart:]
	if _, err := r.bodyFile.WriteAt(recs, r.bodyFileLen); err != nil {
		r.l.s.cfg.Logger.Error("request body spool", "err", err)
		r.failClient(500)
		return false
	}
	r.bodyFileLen += int64(len(recs))
	r.wire.B = r.wire.B[:r.stdinStart]
	return true
}

// finishChunked builds BEGIN_REQUEST and PARAMS now that the length of a
// chunked body is known, in front of the STDIN records held in memory (or
// alone, when they are in the body file).
func (r *fcgiReq) finishChunked() bool {
	l := r.l
	var req httpcodec.Request
	if _, err := l.parser.Parse(r.rawHead, &req); err != nil {
		r.failClient(500)
		return false
	}
	route := r.route(&req)
	nb := bytebufferpool.Get()
	nb.B = l.appendParams(nb.B, r.cs, &req, route, r.bodySize)
	nb.B = append(nb.B, r.wire.B...)
	bytebufferpool.Put(r.wire)
	r.wire = nb
	r.rawHead = nil
	return true
}

// route runs the handler again on a re-parsed head (chunked uploads only).
func (r *fcgiReq) route(req *httpcodec.Request) *handlers.FastCGIRoute {
	var resp handlers.Response
	resp.Reset()
	var ctx handlers.Ctx
	r.l.s.currentHandler().Serve(&ctx, req, &resp)
	if resp.FastCGI == nil {
		return &handlers.FastCGIRoute{Upstream: r.u}
	}
	f := *resp.FastCGI
	return &f
}

// Stdout implements fastcgi.Sink.
func (r *fcgiReq) Stdout(p []byte) error {
	r.gotBytes = true
	if r.cs == nil {
		return nil
	}
	r.l.wheel.schedule(&r.t, timerUpstream, r.l.now, r.u.ReadTimeout)
	if !r.rp.Done() {
		n, err := r.rp.Feed(p)
		if err == fastcgi.ErrNeedMore {
			return nil
		}
		if err != nil {
			return err
		}
		p = p[n:]
		st := r.rp.Status
		r.noBody = r.isHead || st == 204 || st == 304 || st < 200
		if r.internalH != nil {
			if t := r.rp.XAccelRedirect(); len(t) > 0 {
				r.internal = append(r.internal[:0], t...)
			} else if r.rp.LocalRedirect {
				r.internal = append(r.internal[:0], r.rp.Location()...)
			}
			if r.internal != nil {
				r.noBody = true // the application's body is replaced
			}
		}
	}
	if r.noBody || len(p) == 0 {
		return nil
	}
	if cl := r.rp.ContentLength; cl >= 0 && int64(len(p)) > cl-r.bodyIn {
		// Bytes beyond the declared length would be read by the client
		// as the start of its next response: drop them, and close after.
		if !r.overrun {
			r.overrun, r.keep = true, false
			r.l.s.cfg.Logger.Error("fastcgi response longer than its Content-Length; excess dropped", "backend", r.backend(), "content_length", cl)
		}
		p = p[:cl-r.bodyIn]
		if len(p) == 0 {
			return nil
		}
	}
	r.bodyIn += int64(len(p))
	if !r.head {
		// A body announced beyond the head buffer cannot go out in one
		// write anyway: the head goes now, and no 64 KiB is held for it.
		if len(r.body)+len(p) <= headBuffer && r.rp.ContentLength <= headBuffer {
			r.body = append(r.body, p...)
			return nil
		}
		r.sendHead(true)
	}
	r.writeBody(p)
	return nil
}

// Stderr implements fastcgi.Sink: the application's error output goes to
// the error log with the request it belongs to.
func (r *fcgiReq) Stderr(p []byte) {
	r.l.s.cfg.Logger.Warn("fastcgi stderr", "backend", r.backend(), "msg", string(trimNL(p)))
}

// backend names the backend serving r, for log lines.
func (r *fcgiReq) backend() string {
	if r.up != nil {
		return r.up.b.String()
	}
	return ""
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

// End implements fastcgi.Sink.
func (r *fcgiReq) End(appStatus uint32, protoStatus uint8) {
	r.l.wheel.cancel(&r.t)
	if r.up != nil {
		r.upEnded(r.up)
		if r.up.proto.Live() > 0 {
			// A pipelined request is next: the backend starts it now.
			r.up.busySince = r.sentAt.Add(r.upTime)
		}
		r.up.reused = true
		r.up.served++
		r.up.answeredSinceReuse = false
		if r.up.served == 2 {
			r.up.b.ObserveReuse()
		}
		r.up.b.Succeeded()
	}
	if r.cs == nil {
		r.release()
		return
	}
	if !r.rp.Done() {
		r.l.s.cfg.Logger.Error("fastcgi response ended without a head", "backend", r.backend(), "app_status", appStatus, "protocol_status", protoStatus)
		r.failClient(502)
		return
	}
	if cl := r.rp.ContentLength; cl >= 0 && r.bodyIn < cl && !r.noBody {
		// The application promised more than it sent: a truncated body
		// must not pass for a complete one. 502 before the head, a cut
		// connection after it.
		r.l.s.cfg.Logger.Error("fastcgi response shorter than its Content-Length", "backend", r.backend(), "content_length", cl, "got", r.bodyIn)
		r.failClient(502)
		return
	}
	if r.internal != nil {
		// served in finishClient, once the upstream read is over
	} else if !r.head {
		r.sendHead(false)
	} else if r.chunkedTE {
		r.appendOut([]byte("0\r\n\r\n"))
	}
	r.done = true
	r.l.doneReqs = append(r.l.doneReqs, r)
}

// sendHead writes the response head; streaming says the body is still
// coming (chunked, unless the application gave a Content-Length).
func (r *fcgiReq) sendHead(streaming bool) {
	l := r.l
	r.head = true
	b := r.rp.AppendHead(l.hctx.Scratch[:0])
	b = append(b, httpcodec.ServerHeader...)
	b = append(b, l.date.Line()...)
	switch {
	case r.rp.Status == 204 || r.rp.Status == 304 || r.rp.Status < 200:
	case !streaming:
		n := int64(len(r.body))
		if r.isHead && r.rp.ContentLength >= 0 {
			n = r.rp.ContentLength
		}
		b = httpcodec.AppendContentLength(b, n)
	case r.rp.ContentLength >= 0:
		b = httpcodec.AppendContentLength(b, r.rp.ContentLength)
	case r.minor == 0:
		r.keep = false // an HTTP/1.0 client learns the end from the close
	default:
		r.chunkedTE = true
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case !r.keep:
		b = append(b, "Connection: close\r\n"...)
	case r.minor == 0:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	l.hctx.Scratch = b
	body := r.body
	r.body = r.body[:0]
	switch {
	case len(body) == 0 || r.noBody:
		r.appendOut(b)
	case streaming:
		r.appendOut(b)
		r.writeBody(body)
	default:
		r.bodySent += int64(len(body))
		r.appendOut(b, body) // head and body in one write
	}
	l.hctx.Scratch = l.hctx.Scratch[:0]
}

// writeBody sends a piece of the body, chunk-framed when chunked.
func (r *fcgiReq) writeBody(p []byte) {
	r.bodySent += int64(len(p))
	if r.chunkedTE {
		var hdr [20]byte
		h := strconv.AppendInt(hdr[:0], int64(len(p)), 16)
		h = append(h, '\r', '\n')
		r.appendOut(h, p, crlf)
		return
	}
	r.appendOut(p)
}

var crlf = []byte("\r\n")

// finishDone completes the client side of requests that ended during the
// last upstream read: it runs after Feed returned, so that a client moving
// on to its next request never re-enters the upstream connection's Feed.
//
// It walks the list by index and truncates it in place: popping from the
// front would shrink its capacity by one per request, so that every
// End's append allocated a new array.
func (l *loop) finishDone() {
	for i := 0; i < len(l.doneReqs); i++ {
		l.doneReqs[i].finishClient()
	}
	clear(l.doneReqs)
	l.doneReqs = l.doneReqs[:0]
}

// newReq takes a request from the loop's free list. Only requests that
// completed normally go back to it (see finishClient): by then nothing
// else refers to them.
func (l *loop) newReq() *fcgiReq {
	if n := len(l.freeReqs); n > 0 {
		r := l.freeReqs[n-1]
		l.freeReqs = l.freeReqs[:n-1]
		return r
	}
	r := &fcgiReq{l: l}
	r.t.owner = r
	return r
}

// recycle resets r, keeping its response parser's and body's storage, and
// puts it on the free list.
func (l *loop) recycle(r *fcgiReq) {
	if len(l.freeReqs) >= 256 || r.writing > 0 {
		return // a queued write still refers to r: the collector takes it
	}
	rp, body, info := r.rp, r.body[:0], r.info
	if cap(body) > 16<<10 && len(l.freeReqs) >= 32 {
		// Keep few large head buffers: hundreds of concurrent big
		// responses would otherwise leave 64 KiB each on the free list.
		body = nil
	}
	rp.Reset()
	*r = fcgiReq{l: l, rp: rp, body: body, info: reqInfo{buf: info.buf[:0]}}
	r.t.owner = r
	l.freeReqs = append(l.freeReqs, r)
}

// finishClient lets the client connection move on once its response is
// written.
func (r *fcgiReq) finishClient() {
	cs := r.cs
	keep := r.keep
	internal, h, minor, head := r.internal, r.internalH, r.minor, r.isHead
	if cs != nil && internal == nil {
		r.accountFastCGI(r.rp.Status)
	}
	r.internal = nil // its storage goes with the parsed request below
	r.release()
	if cs == nil || cs.gone {
		r.l.recycle(r)
		return
	}
	cs.fcgi = nil
	if internal != nil {
		// r stays out of the free list until its log line is written.
		cs.l.logFrom = r
		cs.l.serveInternal(cs, h, internal, head, minor, keep)
		cs.l.logFrom = nil
		r.l.recycle(r)
		if cs.gone || cs.out.busy() || cs.closeAfter {
			return
		}
		cs.l.process(cs)
		return
	}
	r.l.recycle(r)
	if !keep {
		cs.closeAfter = true
	}
	cs.out.closeSpool() // the response is complete: its file goes once sent
	if cs.out.busy() {
		return // the sweep resumes it when the spool drains
	}
	cs.l.afterWrite(cs)
	if !cs.gone && !cs.closeAfter && !cs.lingering {
		cs.l.process(cs)
	}
}

// release returns the request's pooled buffers and its body file, or, when
// an upstream connection still has them queued (a backend may answer
// before it read the whole body), as soon as that write ends.
func (r *fcgiReq) release() {
	if r.writing > 0 {
		r.releaseLater = true
		return
	}
	if r.bodyFile != nil {
		r.bodyFile.Close()
		r.bodyFile = nil
	}
	if r.wire != nil {
		bytebufferpool.Put(r.wire)
		r.wire = nil
	}
	r.body = r.body[:0]
}

// failClient answers the client with an error status (when no head was
// sent) and closes; after a head, the only honest end is a close.
func (r *fcgiReq) failClient(status int) {
	cs := r.cs
	r.l.wheel.cancel(&r.t)
	r.l.poolFor(r.u).unqueue(r)
	r.cs = nil
	if cs != nil {
		if r.head {
			status = r.rp.Status // the client got this head, then a close
		}
		r.accountFastCGI(status)
	}
	if cs == nil || cs.gone {
		r.release()
		return
	}
	cs.fcgi = nil
	if r.up != nil && !r.done {
		r.up.proto.Detach(r.id)
	}
	if r.head {
		r.release()
		cs.l.kill(cs)
		return
	}
	r.release()
	l := cs.l
	l.queueError(cs, status)
	l.flush(cs)
}

// fail is failClient with a log line.
func (r *fcgiReq) fail(status int, why string) {
	r.l.s.cfg.Logger.Error("fastcgi request failed", "status", status, "reason", why, "upstream", r.u.Name)
	r.failClient(status)
}

// lost runs when the connection carrying r went away before r's answer
// ended. r is resent only when the connection, not the request, can have
// failed, and never twice for the same cause:
//   - afterEnd: the backend closed right after a clean END_REQUEST without
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
func (r *fcgiReq) lost(afterEnd bool) {
	r.l.wheel.cancel(&r.t)
	up := r.up
	r.up = nil
	resend := true
	switch {
	case afterEnd && !r.gotBytes && r.requeues < maxRequeues:
		r.requeues++
	case !r.sent && r.retries < 2:
		r.retries++
	case !r.gotBytes && up != nil && up.reused && r.safe && !r.fresh:
		r.retries++
		r.fresh = true
	default:
		resend = false
	}
	if resend {
		r.sent = false
		r.l.poolFor(r.u).assign(r)
		return
	}
	if up != nil {
		up.upError(upErrLost)
	}
	if r.head {
		r.failClient(502)
		return
	}
	served := -1
	if up != nil {
		served = up.served
	}
	r.l.s.cfg.Logger.Debug("lost request", "retries", r.retries, "got_bytes", r.gotBytes, "safe", r.safe, "fresh", r.fresh, "conn_served", served)
	r.fail(502, "upstream connection lost")
}

// maxRequeues bounds the resends of one request left unread by backends
// that closed after a clean END_REQUEST.
const maxRequeues = 8

// expire handles the request's queue and upstream timeouts.
func (r *fcgiReq) expire(kind timerKind) {
	switch kind {
	case timerQueue:
		if r.queued {
			p := r.l.poolFor(r.u)
			p.unqueue(r)
			p.logState("queue timeout")
			r.fail(503, "no upstream connection within the queue timeout")
		}
	case timerUpstream:
		if r.up != nil && !r.done {
			uc := r.up
			uc.upError(upErrTimeout)
			r.l.s.cfg.Logger.Error("upstream timeout", "backend", uc.b.String(), "after", r.u.ReadTimeout,
				"inbound", inboundBytes(uc), "conn_closed", uc.closed, "dialing", uc.gc == nil, "queued_out", uc.out.busy(), "retries", r.retries, "reused", uc.reused, "served", uc.served, "id", r.id)
			r.failClient(504)
			if uc.muxes() {
				// The others' requests on uc go on: cancel this one in
				// band (the connection closes once nothing else is live).
				r.l.abort(uc, r, "upstream timeout")
				return
			}
			// The worker is stuck in r: close the connection rather than
			// wait for a response nobody will read. What was pipelined
			// behind r was never read by the backend, so it is resent on
			// a fresh connection (upDrop); upClose marks the close as
			// gale's, not the backend's.
			uc.unreadBehind = true
			r.l.upClose(uc)
		}
	}
}

// receiving reports whether the request body is still arriving.
func (r *fcgiReq) receiving() bool { return r.bodyLeft > 0 || r.chunked != nil }

// clientGone runs when the client closed before its response ended: the
// request leaves the queue, or the backend is told to abort it (see
// loop.abort).
func (r *fcgiReq) clientGone() {
	if r.cs != nil {
		r.accountFastCGI(499) // nginx's "client closed request"
	}
	r.cs = nil
	r.l.wheel.cancel(&r.t)
	r.l.poolFor(r.u).unqueue(r)
	if r.up == nil || r.done {
		r.release()
		return
	}
	r.l.abort(r.up, r, "client left")
	r.release() // once its queued writes, if any, are done
}

// addrs formats the connection's addresses for CGI variables into the
// loop's buffer, without allocating.
func (l *loop) addrs(cs *conn) (rip, rport, lip, lport []byte) {
	b := l.addrBuf[:0]
	put := func(a net.Addr) (ip, port []byte) {
		ta, ok := a.(*net.TCPAddr)
		if !ok {
			return nil, nil
		}
		ap := ta.AddrPort()
		s := len(b)
		b = ap.Addr().Unmap().AppendTo(b)
		m := len(b)
		b = strconv.AppendUint(b, uint64(ap.Port()), 10)
		return b[s:m:m], b[m:len(b):len(b)]
	}
	rip, rport = put(cs.gc.RemoteAddr())
	lip, lport = put(cs.gc.LocalAddr())
	l.addrBuf = b
	return
}

// inboundBytes is what the kernel holds unread for uc, for diagnostics.
func inboundBytes(uc *upConn) int {
	if uc.gc == nil || uc.closed {
		return -1
	}
	n, err := unix.IoctlGetInt(uc.fd, unix.SIOCINQ)
	if err != nil {
		return -1
	}
	return n + uc.gc.InboundBuffered()
}

// serveInternal answers an X-Accel-Redirect or a local Location redirect:
// the target path is served by h (the static handler) as a GET (or HEAD)
// of its own, never visible to the client as a redirect.
func (l *loop) serveInternal(cs *conn, h handlers.Handler, target []byte, head bool, minor uint8, keep bool) {
	raw := l.internalBuf[:0]
	if head {
		raw = append(raw, "HEAD "...)
	} else {
		raw = append(raw, "GET "...)
	}
	raw = append(raw, target...)
	raw = append(raw, " HTTP/1.1\r\nHost: internal\r\n\r\n"...)
	l.internalBuf = raw
	req := &l.req
	if _, err := l.parser.Parse(raw, req); err != nil {
		l.s.cfg.Logger.Error("bad internal redirect from the application", "target", string(target), "err", err)
		l.queueError(cs, 502)
		l.accountError(cs, 502, time.Time{})
		l.flush(cs)
		return
	}
	req.Minor, req.KeepAlive = minor, keep
	l.resp.Reset()
	h.Serve(&l.hctx, req, &l.resp)
	l.handle(cs, true)
	l.flush(cs)
}
