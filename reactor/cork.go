package reactor

import (
	"github.com/valyala/bytebufferpool"
)

// Corking. A response from an upstream is not written to its client the
// moment it ends: it waits in the connection's queue until the loop has
// handled every event of the current round (gnet's OnBatchEnd), and then
// all the responses of the round go out back to back. A client that is
// waiting in epoll_wait is woken by the first write of the round, not by
// each one. Waking a client's thread on another CPU is dear: in the
// proxy-go benchmark (wrk on the other CPU of a VM) half of the writev to
// the client went to that wake-up (sock_def_readable), a fifth of gale's
// CPU; corking took ~5 % off gale's CPU per request. The bytes on the wire and their order are the same; a response
// leaves at most one round later, which the round's other events delay
// anyway. h2o writes at the end of its loop's round the same way.
//
// A corked connection looks to the rest of the loop like one whose socket
// is full (its queue is busy), so pipelined requests, close-after and the
// idle timer all wait as they do for a stalled write; uncork resumes it as
// writable.go resumes a stalled one.

// corkMax is the most one write may hold back, and corkRoundMax the most
// a round may: corking is for the many small responses of a busy loop,
// and a large one gains nothing from waiting while it costs a copy, so
// those are written at once as before.
const (
	corkMax      = 16 << 10
	corkRoundMax = 256 << 10
)

// corkState says whether the loop may cork: only when gnet runs its
// OnBatchEnd hook (the default epoll poller), found on first use.
type corkState uint8

const (
	corkUnknown corkState = iota
	corkOn
	corkOff
)

// batchEnder is the gnet event loop's hook for the end of a round
// (internal/gnet/gale_batch_linux.go).
type batchEnder interface{ OnBatchEnd(func()) }

// canCork reports whether l may hold n more bytes until the end of the
// round, registering uncork with gnet the first time.
func (l *loop) canCork(n int) bool {
	if n > corkMax || l.corkedBytes+n > corkRoundMax {
		return false
	}
	if l.cork == corkUnknown {
		l.cork = corkOff
		if be, ok := l.el.(batchEnder); ok {
			be.OnBatchEnd(l.uncork)
			l.cork = corkOn
		}
	}
	return l.cork == corkOn
}

// corkWrite queues a copy of ps (views of an upstream buffer or of
// scratch) on cs's empty queue, in one pooled buffer, and has uncork send
// it at the end of the round.
func (l *loop) corkWrite(cs *conn, ps [][]byte) {
	q := l.outOf(cs)
	need := 0
	for _, p := range ps {
		need += len(p)
	}
	if q.own == nil {
		q.own = bytebufferpool.Get()
	}
	if cap(q.own.B)-len(q.own.B) < need {
		// Grow before slicing so earlier views into own stay valid.
		nb := make([]byte, len(q.own.B), len(q.own.B)+need)
		copy(nb, q.own.B)
		q.own.B = nb
	}
	for _, p := range ps {
		if len(p) == 0 {
			continue
		}
		start := len(q.own.B)
		q.own.B = append(q.own.B, p...)
		q.views = append(q.views, q.own.B[start:])
	}
	l.corkedBytes += need
	if !cs.corked {
		cs.corked = true
		l.corked = append(l.corked, cs)
	}
}

// uncork runs at the end of each round: it writes what the round corked,
// connection by connection, and goes on with each as after a stalled
// write (close, idle timer, pipelined requests). Requests handled here may
// cork more; they are sent in the same pass.
func (l *loop) uncork() {
	for i := 0; i < len(l.corked); i++ {
		cs := l.corked[i]
		l.corked[i] = nil
		if !cs.corked {
			continue
		}
		cs.corked = false
		if cs.inStalled {
			// A write later in the round found the socket full: the
			// writable wait resumes it, as any stalled connection.
			continue
		}
		l.resume(cs) // a no-op once cs is gone
	}
	l.corked = l.corked[:0]
	l.corkedBytes = 0
}
