package reactor

import (
	"os"

	"github.com/gale-http/gale/handlers"
	"golang.org/x/sys/unix"
)

// spoolMemory is how much of one response may wait in memory for a slow
// client before the rest goes to a temporary file: the backend worker is
// freed at the speed of the backend, not of the client.
const spoolMemory = 1 << 20

// sendResponse implements downstream: it queues response bytes for the
// client, copying what it keeps:
// they are views of an upstream buffer or of scratch. They go straight to
// the socket while it has room, small ones at the end of the loop's round
// (cork.go). What it does not take waits in memory up
// to spoolMemory per response and the loop's share of
// Config.UpstreamBufferMemory across responses, and in the connection's
// spool file beyond, which sendfile then streams.
//
// The socket is written directly, not through gnet's Writev: gnet would
// keep whatever the socket refuses in its own outbound buffer, unbounded
// and uncounted, so 500 slow readers would each pin a watermark's worth
// of memory there.
func (cs *conn) sendResponse(r *exchange, ps ...[]byte) {
	if cs.gone {
		return
	}
	n := 0
	for _, p := range ps {
		n += len(p)
	}
	r.l.stats.sentBytes += uint64(n)
	if !cs.out.busy() && cs.gc.OutboundBuffered() == 0 {
		if r.l.canCork(n) {
			r.l.corkWrite(cs, ps)
			return
		}
		n, err := unix.Writev(int(cs.fd), ps)
		for err == unix.EINTR {
			n, err = unix.Writev(int(cs.fd), ps)
		}
		switch {
		case err == unix.EAGAIN:
			n = 0
		case err != nil:
			r.l.kill(cs) // the client is gone; OnClose cleans up
			return
		}
		if n > 0 && cs.out != nil {
			cs.out.moved = true
		}
		for len(ps) > 0 && n >= len(ps[0]) {
			n -= len(ps[0])
			ps = ps[1:]
		}
		if len(ps) == 0 {
			return
		}
		ps[0] = ps[0][n:]
	}
	q := r.l.outOf(cs)
	for _, p := range ps {
		if len(p) == 0 {
			continue
		}
		if !r.holdResponse(q, p) {
			if err := q.spoolToFile(p); err != nil {
				r.l.s.cfg.Logger.Error("response spool", "err", err)
				r.l.kill(cs)
				return
			}
		}
	}
	r.l.pump(cs)
}

// holdResponse keeps a copy of p in q's memory when both the response's
// and the loop's budgets allow, and reports whether it did. Once a
// response has spilled to its file, the rest follows it there (order).
func (r *exchange) holdResponse(q *outQueue, p []byte) bool {
	l := r.l
	share := l.s.cfg.UpstreamBufferMemory / l.s.cfg.Loops
	if q.file != nil || q.memBytes()+len(p) > spoolMemory || l.respMem+len(p) > share {
		return false
	}
	q.views = append(q.views, append([]byte(nil), p...))
	q.charged += len(p)
	q.budget = &l.respMem
	l.respMem += len(p)
	return true
}

// uncharge returns the queue's share of the response memory budget: its
// in-memory bytes are gone (written or dropped).
func (q *outQueue) uncharge() {
	if q.charged > 0 {
		*q.budget -= q.charged
		q.charged = 0
	}
}

// memBytes counts the bytes queued in memory.
func (q *outQueue) memBytes() int {
	n := 0
	for _, v := range q.views {
		n += len(v)
	}
	return n
}

// spoolToFile appends p to the queue's spool file, creating it (unlinked)
// on first use; sendfile then streams it to the client. When everything
// written so far has been sent, the file is emptied first, so a long
// response to a client that keeps up takes no disk beyond what it lags.
func (q *outQueue) spoolToFile(p []byte) error {
	if q.file == nil {
		f, err := os.CreateTemp("", "gale-spool-")
		if err != nil {
			return err
		}
		os.Remove(f.Name())
		q.file, q.spool, q.fileOff, q.fileLeft, q.fileFD = f, true, 0, 0, int(f.Fd())
	} else if q.spool && q.fileLeft == 0 && q.fileOff > 0 {
		if err := q.file.Truncate(0); err != nil {
			return err
		}
		q.fileOff = 0
	}
	if _, err := q.file.WriteAt(p, q.fileOff+q.fileLeft); err != nil {
		return err
	}
	q.fileLeft += int64(len(p))
	return nil
}

// closeSpool drops the spool file once the response is complete: at once
// when it is drained, else after its last byte is sent (fileDone closes a
// file that is no longer a growing spool), so no spool outlives its
// response on disk.
func (q *outQueue) closeSpool() {
	if q == nil || !q.spool {
		return
	}
	q.spool = false
	if q.fileLeft == 0 {
		q.closeFile()
	}
}

// responseDone implements downstream: the client connection moves on once
// its response is written, to an internal redirect's answer, its next
// request, or its close.
func (cs *conn) responseDone(r *exchange, keep bool) {
	l := cs.l
	internal, h, minor, head := r.internal, r.internalH, r.minor, r.isHead
	r.internal = nil // its storage goes with the exchange below
	r.release()
	cs.ex = nil
	if internal != nil {
		// r stays out of the free list until its log line is written.
		l.logFrom = r
		l.serveInternal(cs, h, internal, head, minor, keep)
		l.logFrom = nil
		l.recycle(r)
		if cs.gone || cs.out.busy() || cs.closeAfter {
			return
		}
		l.process(cs)
		return
	}
	l.recycle(r)
	if !keep {
		cs.closeAfter = true
	}
	cs.out.closeSpool() // the response is complete: its file goes once sent
	if cs.out.busy() {
		return // the sweep resumes it when the spool drains
	}
	l.afterWrite(cs)
	if !cs.gone && !cs.closeAfter && !cs.lingering {
		l.process(cs)
	}
}

// responseFailed implements downstream: an error response when no head
// went out, else a cut connection; either way the connection closes.
func (cs *conn) responseFailed(r *exchange, status int, headSent bool) {
	cs.ex = nil
	l := cs.l
	if headSent {
		l.kill(cs)
		return
	}
	if r.errPages == nil || !l.queuePage(cs, r.errPages, status, r.isHead, r.minor) {
		l.queueError(cs, status)
	}
	l.flush(cs)
}

// queuePage queues the error page for status, when pages has one that
// can be served, and marks the connection to close after it as for any
// error the reactor answers for an application.
func (l *loop) queuePage(cs *conn, pages *handlers.ErrorPages, status int, head bool, minor uint8) bool {
	if !pages.Serve(&l.hctx, status, head, minor, &l.resp) {
		return false
	}
	l.req.Minor = minor // queueResponse's Connection line is by version
	l.queueResponse(cs, false)
	cs.closeAfter = true
	return true
}
