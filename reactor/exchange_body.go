package reactor

import (
	"os"
	"slices"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// requestSpoolMemory is how much of a request body is held in memory;
// the rest goes to an unlinked temporary file, sent with sendfile.
const requestSpoolMemory = 1 << 20

// takeBody consumes request body bytes from p, raw, and hands the request
// to its pool when the body is complete. The whole body is read before the
// application sees the request (nginx's request buffering), so a slow
// upload never holds a worker and the length the head states is exact.
func (r *exchange) takeBody(p []byte) int {
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
		r.appendBody(data)
		if r.maxBody > 0 && r.reqLen > r.maxBody {
			// The location's max_body, for a body whose length came
			// only with it (a declared one was checked by Location).
			l.s.cfg.Logger.Info("request body over the location's max_body", "remote", r.cs.remote(), "max_body", r.maxBody)
			r.failClient(413)
			return len(p)
		}
		if r.chunked.Done() {
			r.chunked = nil
		} else if k == 0 {
			break
		}
	}
	if r.reqLeft > 0 {
		k := int(min(int64(len(p)), r.reqLeft))
		r.appendBody(p[:k])
		r.reqLeft -= int64(k)
		n = k
	}
	if r.cs == nil {
		return len(p) // failed while spooling
	}
	if r.reqLeft > 0 || r.chunked != nil {
		l.wheel.schedule(&r.cs.t, timerBody, l.now, l.s.cfg.BodyTimeout)
		return n
	}
	if r.cs.t.kind == timerBody {
		l.wheel.cancel(&r.cs.t)
	}
	if r.rawHead != nil && !r.finishChunked() || !r.headFits() {
		return n
	}
	if r.waitFill != nil {
		r.collapse()
		return n
	}
	r.waitFrom = l.now
	r.p.assign(r)
	return n
}

// appendBody keeps body bytes, spilling to the body file beyond
// requestSpoolMemory.
func (r *exchange) appendBody(data []byte) {
	if len(data) == 0 || r.cs == nil {
		return
	}
	r.reqLen += int64(len(data))
	if r.reqFile == nil && (r.reqBody == nil || len(r.reqBody.B)+len(data) <= requestSpoolMemory) {
		if r.reqBody == nil {
			r.reqBody = bodyPool.Get()
		}
		r.reqBody.B = append(r.reqBody.B, data...)
		return
	}
	if r.reqFile == nil {
		f, err := os.CreateTemp("", "gale-body-")
		if err != nil {
			r.spoolFailed(err)
			return
		}
		os.Remove(f.Name())
		r.reqFile = f
	}
	if _, err := r.reqFile.WriteAt(data, r.reqFileLen); err != nil {
		r.spoolFailed(err)
		return
	}
	r.reqFileLen += int64(len(data))
}

func (r *exchange) spoolFailed(err error) {
	r.l.s.cfg.Logger.Error("request body spool", "err", err)
	r.failClient(500)
}

// keepChunkedHead keeps what a codec that needs the body's length will
// encode the head from once the chunked body is in: a copy of the raw
// head, and the route with its views copied too (they may point into the
// parser's scratch, reused by the next request).
func (r *exchange) keepChunkedHead(route *handlers.UpstreamRoute) {
	r.rawHead = append(r.rawHead[:0], r.l.rawHead...)
	r.route = *route
	// The route's views are copied into routeBuf, grown once first so that
	// no append moves a view already taken; a nil one stays nil (no
	// PATH_INFO, no query).
	rt := &r.route
	b := slices.Grow(r.routeBuf[:0], len(rt.ScriptName)+len(rt.PathInfo)+len(rt.Path)+len(rt.Query)+len(rt.Target))
	for _, v := range [...]*[]byte{&rt.ScriptName, &rt.PathInfo, &rt.Path, &rt.Query, &rt.Target} {
		if *v != nil {
			k := len(b)
			b = append(b, *v...)
			*v = b[k:len(b):len(b)]
		}
	}
	r.routeBuf = b
}

// finishChunked encodes the head of a chunked request now that the length
// of its body is known, from the copy of its head; the route is the one
// chosen when the request arrived.
func (r *exchange) finishChunked() bool {
	l := r.l
	var req httpcodec.Request
	if _, err := l.parser.Parse(r.rawHead, &req); err != nil {
		r.failClient(500)
		return false
	}
	r.reqHead.B = l.encodeHead(r.reqHead.B[:0], r.p.proto, r.cs, &req, &r.route, r.reqLen, req.Headers)
	r.headLen = len(r.reqHead.B)
	r.rawHead = nil
	return true
}

// headFits checks the encoded head against its protocol's limit
// (upstream.HeadLimiter: uwsgi's 16-bit vars size), answering 431 when it
// is over. The check is here, where every head is complete (a chunked
// request's is encoded only now), and not in EncodeHead, which cannot
// fail, nor in the handler, which cannot know the encoded size.
func (r *exchange) headFits() bool {
	hl, ok := r.p.proto.(upstream.HeadLimiter)
	if !ok {
		return true
	}
	limit, why := hl.HeadLimit()
	if r.headLen <= limit {
		return true
	}
	r.l.s.cfg.Logger.Error("request head too large for the upstream protocol", "status", 431, "protocol", r.p.proto.Name(),
		"head_bytes", r.headLen, "limit", limit, "reason", why, "upstream", r.p.u.Name)
	r.failClient(431)
	return false
}

// bodyFramesInline is the largest body framed into the head's buffer and
// written with it in one write; a larger one goes out as segments.
const bodyFramesInline = 64 << 10

// wire builds what goes to the backend for r as request id: the head with
// its ID, then the body framed by the codec. A small body is copied behind
// the head (one write); otherwise it is queued as segments on uc: frames
// and views of the raw body in memory and of its file, which r owns until
// they are written (segmentDone).
func (l *loop) wire(uc *upConn, r *exchange, id uint16) {
	proto := r.p.proto
	b := r.reqHead
	b.B = b.B[:r.headLen]
	proto.PatchID(b.B, id)
	var body []byte
	if r.reqBody != nil {
		body = r.reqBody.B
	}
	mem := len(body)
	if r.reqFile == nil && mem <= bodyFramesInline {
		for len(body) > 0 {
			k := min(len(body), proto.MaxFrame())
			b.B = proto.FrameBody(b.B, id, k)
			b.B = append(b.B, body[:k]...)
			body = body[k:]
		}
		b.B = proto.FrameEnd(b.B, id)
		if !uc.out.busy() && len(b.B) <= l.s.cfg.HighWater {
			_, _ = uc.gc.Write(b.B) // gnet copies a short remainder itself
			return
		}
		r.queue(uc, b.B)
		l.upPump(uc)
		return
	}
	// Frames first, all of them, so that growing their buffer moves no
	// view already queued.
	if r.frames == nil {
		r.frames = headPool.Get()
	}
	f := r.frames
	f.B, r.frameAt = f.B[:0], r.frameAt[:0]
	for left := int64(mem); left > 0; left -= int64(min(left, int64(proto.MaxFrame()))) {
		f.B = proto.FrameBody(f.B, id, int(min(left, int64(proto.MaxFrame()))))
		r.frameAt = append(r.frameAt, len(f.B))
	}
	for left := r.reqFileLen; left > 0; left -= min(left, int64(proto.MaxFrame())) {
		f.B = proto.FrameBody(f.B, id, int(min(left, int64(proto.MaxFrame()))))
		r.frameAt = append(r.frameAt, len(f.B))
	}
	f.B = proto.FrameEnd(f.B, id)
	r.queue(uc, b.B)
	at, fi := 0, 0
	frame := func() []byte {
		s := f.B[at:r.frameAt[fi]]
		at = r.frameAt[fi]
		fi++
		return s
	}
	for off := 0; off < mem; {
		k := min(mem-off, proto.MaxFrame())
		r.queue(uc, frame())
		r.queue(uc, body[off:off+k])
		off += k
	}
	for off := int64(0); off < r.reqFileLen; {
		k := min(r.reqFileLen-off, int64(proto.MaxFrame()))
		r.queue(uc, frame())
		r.hold()
		uc.out.pushFile(r.reqFile, off, k, r)
		off += k
	}
	r.queue(uc, f.B[at:])
	l.upPump(uc)
}

// queue puts b, owned by r, on uc's write queue.
func (r *exchange) queue(uc *upConn, b []byte) {
	if len(b) > 0 {
		r.hold()
		uc.out.pushMem(b, r)
	}
}
