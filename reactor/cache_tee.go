package reactor

import (
	"context"

	"github.com/panjf2000/gnet/v2"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
)

// The response cache in the engine. A location with a cache policy
// (handlers.CachePolicy) has its upstream requests looked up before an
// exchange starts:
//   - a hit is answered like a static file, in the batch (handle);
//   - a miss or a stale entry starts an exchange whose fill tees the
//     normalized response (head, body, end) into the cache, whatever the
//     protocol: the cache never sees FastCGI records or HTTP framing;
//   - a request for a key being fetched waits as an exchange in state
//     exCollapsed, without a connection; the fetch's end wakes it through
//     its own loop's task queue (an event, never a poll), and it is
//     answered from the new entry, or goes to the application itself
//     when nothing was stored or its lock timeout passed;
//   - stale-while-revalidate answers at once and starts a background
//     exchange (bg: no client) that refreshes the entry.

// cacheLookup looks the request in hand up in its location's cache. It
// returns true when l.resp holds the answer; otherwise l.pending is the
// exchange startExchange takes, set up for its fetch, wait or bypass.
func (l *loop) cacheLookup(cs *conn, route *handlers.UpstreamRoute) bool {
	r := l.newExchange() // the waiter should the request join a fetch
	req := &l.req
	// A waiter is written the fetch's response as it arrives, unless
	// the cache must answer its conditionals or range from the entry, or
	// it cannot take a chunked body.
	r.canStream = req.Minor > 0 && !req.Has(httpcodec.HdrIfNoneMatch) &&
		!req.Has(httpcodec.HdrIfModifiedSince) && !req.Has(httpcodec.HdrRange)
	if r.w == nil {
		r.w = &exWaiter{l: l, r: r} // once per exchange, not per lookup
	}
	dec, fill := route.Cache.Lookup(&l.hctx, req, &l.resp, l.now, r.w)
	switch dec {
	case handlers.CacheServed:
		r.canStream = false
		l.freeEx = append(l.freeEx, r) // as clean as it came
		return true
	case handlers.CacheServedRefresh:
		r.canStream = false
		l.freeEx = append(l.freeEx, r)
		l.startRefresh(cs, route, fill)
		return true
	case handlers.CacheFetch:
		r.fill = fill
	case handlers.CacheWait:
		r.waitFill = fill
	case handlers.CacheInvalidate:
		r.invKey, r.invHost = handlers.InvalidationKey(&l.req)
	}
	r.cache, r.cstatus = route.Cache, l.resp.CacheStatus
	if r.fill != nil || r.waitFill != nil {
		// To answer from the cache later: the request is gone by then.
		r.rawReq = append(r.rawReq[:0], l.rawHead...)
	}
	l.pending = r
	return false
}

// startRefresh starts the background refresh of a stale entry served by
// stale-while-revalidate: an exchange without a client, sent with the
// request in hand's fields and the entry's validators.
func (l *loop) startRefresh(cs *conn, route *handlers.UpstreamRoute, fill *handlers.CacheFill) {
	req := &l.req
	r := l.newExchange()
	r.bg, r.fill, r.cache = true, fill, route.Cache
	r.started, r.waitFrom = l.now, l.now
	r.p = l.poolFor(route.Upstream)
	r.minor, r.keep = req.Minor, true
	r.safe, r.pipelinable = true, true
	r.reqHead = headPool.Get()
	l.condHdrs = fill.ConditionalHeaders(l.condHdrs[:0])
	r.reqHead.B = l.encodeHead(r.reqHead.B, r.p.proto, cs, req, route, req.ContentLength, l.condHdrs)
	clear(l.condHdrs)
	r.headLen = len(r.reqHead.B)
	r.p.assign(r)
}

// exWaiter is an exchange as a handlers.CacheWaiter. Its methods run on
// the fetching loop's goroutine, where nothing of the exchange may be
// read (its own loop may be recycling it): they only queue a task on the
// exchange's loop, whose fields here never change after it is made.
type exWaiter struct {
	l *loop
	r *exchange
}

// CacheReady implements handlers.CacheWaiter: the fetch r waits for is
// over; r is woken on its own loop.
func (w *exWaiter) CacheReady(f *handlers.CacheFill, stored bool) {
	l, r := w.l, w.r
	_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		l.stamp()
		r.woken(f, stored)
		return nil
	}))
}

// CacheStream implements handlers.CacheWaiter: more of the response r
// waits for can be read.
func (w *exWaiter) CacheStream(f *handlers.CacheFill) {
	l, r := w.l, w.r
	_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		l.stamp()
		if r.waitFill == f && r.state == exCollapsed {
			r.streamFrom(f)
		}
		return nil
	}))
}

// streamFrom writes what r has not written yet of the response it
// waits for: the head, once there is one, then the chunks after those
// written; at the stream's end it finishes r, or cuts a response it
// cannot complete.
func (r *exchange) streamFrom(f *handlers.CacheFill) {
	cs := r.cs
	if !r.canStream || cs == nil || cs.gone {
		return
	}
	v := f.Stream(r.streamed)
	if v.Head == nil || v.State == handlers.StreamCut && !r.headSent {
		return // nothing to write yet, or never: CacheReady decides
	}
	l := r.l
	if !r.headSent {
		l.wheel.cancel(&r.t) // no lock timeout once its response began
		r.headSent, r.chunkedTE, r.status = true, v.Chunked, v.Status
		r.cstatus = "gale; fwd=uri-miss; collapsed"
		b := append(l.hctx.Scratch[:0], v.Head...)
		b = endHead(b, r.keep, r.minor)
		cs.sendResponse(r, b)
		l.hctx.Scratch = b[:0]
	}
	for _, c := range v.Chunks {
		if len(c) > 0 && !cs.gone {
			r.writeBody(c)
		}
	}
	r.streamed += len(v.Chunks)
	if cs.gone {
		return // a write failed: its close ended r (clientGone)
	}
	switch v.State {
	case handlers.StreamDone:
		r.waitFill = nil
		if r.chunkedTE {
			cs.sendResponse(r, lastChunk)
		}
		r.accountUpstream(r.status)
		r.state = exFinished
		cs.responseDone(r, r.keep)
	case handlers.StreamCut:
		r.waitFill = nil
		r.failClient(502) // after its head: the connection is cut
	}
}

// collapse parks r until the fetch it joined ends, or its lock timeout.
// A fetch whose response began before r joined has notified its waiters
// already: r looks at its stream once, from a task (never inside the
// batch that parsed it, whose responses before it are not written yet).
func (r *exchange) collapse() {
	r.state = exCollapsed
	r.l.wheel.schedule(&r.t, timerQueue, r.l.now, r.cache.LockTimeout)
	if r.canStream {
		r.w.CacheStream(r.waitFill)
	}
}

// woken runs on r's loop when the fetch r waited for is over.
func (r *exchange) woken(f *handlers.CacheFill, stored bool) {
	if r.waitFill != f || r.state != exCollapsed {
		return // it left already (lock timeout, client gone)
	}
	if r.headSent {
		r.streamFrom(f) // its end: the rest, and done or cut
		return
	}
	r.waitFill = nil
	r.l.wheel.cancel(&r.t)
	if r.cs == nil || r.cs.gone {
		return
	}
	if stored && r.prepareStored(handlers.ServeAfterWait) {
		r.state = exEnded
		r.writeCached()
		return
	}
	r.cstatus = "gale; fwd=uri-miss; collapsed; detail=not-stored"
	r.uncollapse()
}

// lockTimeout: the fetch r joined takes too long; r goes on its own.
func (r *exchange) lockTimeout() {
	r.waitFill.Leave(r.w)
	r.waitFill = nil
	r.cstatus = "gale; fwd=uri-miss; detail=lock-timeout"
	r.uncollapse()
}

// uncollapse sends a collapsed request to the application, uncached.
func (r *exchange) uncollapse() {
	r.state = exReceiving
	r.waitFrom = r.l.now
	r.p.assign(r)
}

// teeHead gives the response head to r's fill and acts on its answer.
func (r *exchange) teeHead(st int) {
	l := r.l
	if r.head.AccelRedirect() != nil || r.head.LocalRedirect() != nil || r.head.NoBuffering() {
		// An internal redirect's body is not what the client gets, and a
		// stream (Server-Sent Events) may never end: neither is stored.
		f := r.fill
		r.fill = nil
		f.Finish(false, l.now)
		return
	}
	hb := r.head.AppendHead(l.teeBuf[:0])
	l.teeBuf = hb
	var date []byte
	if g, ok := r.head.(fieldGetter); ok {
		date = g.Get("Date")
	}
	var client []byte
	if hr := r.hdrRules; hr != nil && hr.Applies(st) {
		// Hits send what a miss sends: the head after the location's
		// header rules (the cache decides on the application's own).
		l.hdrBuf = hr.AppendHead(l.hdrBuf[:0], hb)
		client = l.hdrBuf
	}
	switch r.fill.Response(st, hb, client, date, r.head.Length(), l.now) {
	case handlers.TeeStore:
		r.teeing = true
	case handlers.TeeServeStored:
		r.cacheServe = handlers.ServeRevalidated
		if st != 304 {
			r.cacheServe = handlers.ServeStaleOnError
		}
		r.noBody = true // the application's body is not the client's
	}
}

// fieldGetter is implemented by the response parsers: a field's value.
type fieldGetter interface{ Get(name string) []byte }

// invalidate drops the cached entries a successful unsafe request
// changed (RFC 9111 section 4.4).
func (r *exchange) invalidate() {
	var loc, cloc []byte
	if g, ok := r.head.(fieldGetter); ok {
		loc, cloc = g.Get("Location"), g.Get("Content-Location")
	}
	r.cache.Invalidate(r.invKey, r.invHost, loc, cloc)
}

// teeEnd ends r's fill: whether the whole response arrived and was
// stored.
func (r *exchange) teeEnd() {
	f := r.fill
	r.fill = nil
	complete := r.teeing && !r.overrun
	if cl := r.head.Length(); cl >= 0 && r.bodyIn < cl {
		complete = false
	}
	if f.Finish(complete, r.l.now) && r.cstatus != "" {
		r.cstatus += "; stored"
	}
	r.teeing = false
}

// staleOnError answers a failed fetch from its stale entry when the
// entry allows it (stale-if-error); false when it does not. The answer is
// written from a task of its own: a failure may come in the middle of a
// batch (a pool that fails a request at once), whose responses before it
// are not written yet and whose scratch is in use.
func (r *exchange) staleOnError(status int) bool {
	l, f := r.l, r.fill
	r.fill = nil
	f.Finish(false, l.now)
	if status < 500 || r.headSent || r.cs == nil || r.cs.gone || !f.StaleOnError(l.now) {
		return false
	}
	ended := r.state == exEnded
	r.finish()
	if r.up != nil && !ended {
		r.up.proto.Detach(r.id)
	}
	r.state, r.status = exEnded, status
	r.cacheServe = handlers.ServeStaleOnError
	_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		l.stamp()
		r.finishClient()
		return nil
	}))
	return true
}

// prepareStored answers r's request from the cache into l.cresp (see
// handlers.CachePolicy.ServeStored); false when the cache cannot.
func (r *exchange) prepareStored(how handlers.ServeHow) bool {
	l := r.l
	req := &l.creq
	if _, err := l.cparser.Parse(r.rawReq, req); err != nil {
		return false
	}
	l.cresp.Reset()
	l.hctx.Client = r.cs.client.Addr()
	return r.cache.ServeStored(&l.hctx, req, &l.cresp, l.now, how)
}

// writeCached sends the response prepareStored made and hands the client
// over to its next request.
func (r *exchange) writeCached() {
	l, cs := r.l, r.cs
	resp := &l.cresp
	r.status, r.headSent, r.cstatus = resp.Status, true, resp.CacheStatus
	b := l.hctx.Scratch
	start := len(b)
	if !resp.OwnDate {
		b = append(b, l.date.Line()...)
	}
	b = endHead(b, r.keep, r.minor)
	l.hctx.Scratch = b
	ps := append(l.cacheIov[:0], resp.Head, resp.HeadMore, b[start:])
	for _, p := range resp.Body {
		ps = append(ps, p)
		r.bodySent += int64(len(p))
	}
	cs.sendResponse(r, ps...)
	if resp.Pin != nil {
		// sendResponse wrote the views or copied what it could not.
		resp.Pin.Release()
		resp.Pin = nil
	}
	clear(ps)
	l.cacheIov = ps[:0]
	l.hctx.Scratch = l.hctx.Scratch[:0]
	r.accountUpstream(r.status)
	r.state = exFinished
	cs.responseDone(r, r.keep)
}

// cacheHead adds the cache's fields to a forwarded response head b: its
// Cache-Status, and without the tag header, which is for purging only.
func (r *exchange) cacheHead(b []byte, start int) []byte {
	if t := r.cache.TagHeader; t != "" {
		b = dropField(b, start, t)
	}
	if r.cstatus != "" {
		b = append(b, "Cache-Status: "...)
		b = append(b, r.cstatus...)
		b = append(b, "\r\n"...)
	}
	return b
}

// dropField removes the lines of field name from the head in b[start:].
func dropField(b []byte, start int, name string) []byte {
	out := start
	for i := start; i < len(b); {
		j := i
		for j < len(b) && b[j] != '\n' {
			j++
		}
		j = min(j+1, len(b))
		line := b[i:j]
		if !(len(line) > len(name) && line[len(name)] == ':' && httpcodec.EqualFold(line[:len(name)], name)) {
			out += copy(b[out:], line)
		}
		i = j
	}
	return b[:out]
}
