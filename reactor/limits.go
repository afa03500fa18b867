package reactor

import (
	"sync/atomic"
	"time"
)

// connLimit enforces Config.MaxConns: a client connection beyond it is
// answered 503 with Retry-After and closed (gracefully, so the client reads
// the answer), without reading its request.
type connLimit struct {
	open    atomic.Int64 // client connections, refused ones included until they close
	refused atomic.Int64 // refused since the last log line
	lastLog atomic.Int64 // unix nanoseconds of the last log line
}

// refuseLogEvery rate-limits the "connection limit reached" log line.
const refuseLogEvery = time.Second

// admit counts a new client connection and reports whether it may be
// served. Every admitted or refused connection is uncounted when it closes
// (loop.closed, or loop.parkedClosed for a parked one).
func (l *loop) admit() bool {
	max := l.s.cfg.MaxConns
	n := l.s.limit.open.Add(1)
	if max <= 0 || n <= int64(max) {
		return true
	}
	l.s.limit.refused.Add(1)
	now := l.now.UnixNano()
	last := l.s.limit.lastLog.Load()
	if now-last >= int64(refuseLogEvery) && l.s.limit.lastLog.CompareAndSwap(last, now) {
		l.s.cfg.Logger.Warn("connection limit reached: answering 503", "max_conns", max, "refused", l.s.limit.refused.Swap(0))
	}
	return false
}

// refusedLinger bounds how long a refused connection, answered and
// half-closed, waits for its request before it is closed. A client sends
// its request with the handshake, so it is all but always read within this
// (and then the connection closes at once: see loop.traffic); one that
// sends nothing is no reason to hold a file descriptor for the usual
// lingerTimeout. Refusals come in floods, and a flood of clients that keep
// their sockets open would otherwise hold one fd each for that long: past
// RLIMIT_NOFILE, gale could accept nothing, not even a client it would
// serve.
const refusedLinger = 250 * time.Millisecond

// refuse answers cs 503 and closes it after the answer.
func (l *loop) refuse(cs *conn) {
	cs.refused = true
	l.queueError(cs, 503)
	l.flush(cs)
	if cs.lingering && !cs.gone {
		l.wheel.schedule(&cs.t, timerLinger, l.now, refusedLinger)
	}
}
