package reactor

import (
	"time"
)

// This file holds the hooks the request path calls when a response is
// complete: they update the loop's plain counters and, when the access log
// is on, append its line. Each client request is accounted exactly once:
// synchronous responses in handle, FastCGI ones in finishClient, failClient
// or clientGone (499), errors before any handler at their call sites.

// accountSync records a synchronous response (l.req, l.resp) whose head
// took headLen bytes.
func (l *loop) accountSync(cs *conn, headLen int) {
	resp := &l.resp
	body := resp.BodyLen()
	l.stats.sentBytes += uint64(headLen) + uint64(body)
	l.stats.countCache(resp.Cache)
	if r := l.logFrom; r != nil {
		// An internal redirect: the application's request, the static
		// handler's response.
		l.stats.count(HandlerInternal, resp.Status)
		if l.s.cfg.AccessLog != nil {
			d := r.doneInfo(resp.Status)
			d.bytes = body
			l.logAccess(&r.info, &d)
		}
		return
	}
	l.stats.count(HandlerStatic, resp.Status)
	if l.s.cfg.AccessLog != nil {
		l.info.fill(cs, &l.req, l.batchStart)
		// Like nginx, the clock is read once per event (here per batch),
		// not per request: a response made within its batch logs a
		// request_time of 0.000.
		d := accessDone{status: resp.Status, bytes: body, end: l.batchStart, cache: resp.CacheStatus}
		l.logAccess(&l.info, &d)
	}
}

// accountError records an error answered before (or without) a handler:
// a request that did not parse, or a timeout.
func (l *loop) accountError(cs *conn, status int, start time.Time) {
	if r := l.logFrom; r != nil {
		l.stats.count(HandlerInternal, status)
		if l.s.cfg.AccessLog != nil {
			d := r.doneInfo(status)
			l.logAccess(&r.info, &d)
		}
		return
	}
	l.stats.count(HandlerNone, status)
	if l.s.cfg.AccessLog != nil {
		l.info.fill(cs, nil, start)
		d := accessDone{status: status, end: time.Now()}
		l.logAccess(&l.info, &d)
	}
}

// startInfo keeps what the access log needs of an upstream exchange.
func (r *exchange) startInfo(cs *conn) {
	if r.l.s.cfg.AccessLog != nil {
		r.info.fill(cs, &r.l.req, r.l.batchStart)
	}
}

// doneInfo is the end of r's exchange for the access log.
func (r *exchange) doneInfo(status int) accessDone {
	d := accessDone{status: status, bytes: r.bodySent, end: time.Now(), cache: r.cstatus}
	if r.upStats != nil {
		d.upAddr = r.upStats.addr
		d.upTime = r.upTime
	}
	return d
}

// accountUpstream records the end of an upstream response to a client.
func (r *exchange) accountUpstream(status int) {
	l := r.l
	l.stats.count(HandlerFastCGI, status)
	if l.s.cfg.AccessLog != nil {
		d := r.doneInfo(status)
		l.logAccess(&r.info, &d)
	}
}

// upEnded records a completed upstream exchange on uc.
func (r *exchange) upEnded(uc *upConn) {
	if uc == nil || uc.st == nil {
		return
	}
	r.upTime = r.l.now.Sub(r.sentAt) // l.now: stamped when the backend's bytes came in
	r.upStats = uc.st
	uc.st.observe(r.upTime)
}

// upError counts a failure of kind against uc's backend.
func (uc *upConn) upError(kind int) {
	if uc != nil && uc.st != nil {
		uc.st.errors[kind]++
	}
}

// statsFor returns this loop's counters for uc's backend.
func (l *loop) statsFor(uc *upConn) *backendStats {
	bs := l.stats.backend(uc.b)
	if bs.addr == "" {
		bs.addr = uc.b.String()
	}
	return bs
}
