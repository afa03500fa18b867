package reactor

import (
	"os"
	"time"
	"unsafe"

	"github.com/panjf2000/gnet/v2"

	"github.com/gale-http/gale/handlers"

	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"
)

// lingerTimeout bounds how long a half-closed connection waits for the
// client's FIN.
const lingerTimeout = 2 * time.Second

// maxIovecs is gnet's and Linux's writev limit (IOV_MAX).
const maxIovecs = 1024

// sendfileChunk bounds one sendfile call so one big file cannot hold the
// loop for long while other connections wait.
const sendfileChunk = 1 << 20

// outQueue holds what a connection still has to write when it could not go
// straight to the socket: views of shared immutable bytes (cache entries,
// whose response cache pages pins keeps mapped),
// one pooled buffer with copies of per-request bytes (heads built in the
// loop's scratch), then a file range sent with sendfile. gale writes these
// itself, bypassing gnet's outbound buffer, so a slow reader costs no copy
// of a cached body or a file: memory per connection stays bounded by the
// kernel's socket buffer.
type outQueue struct {
	views    [][]byte
	own      *bytebufferpool.ByteBuffer
	file     *os.File
	fileOff  int64
	fileLeft int64
	moved    bool             // bytes went out since the send timer was last armed
	spool    bool             // file is a response spool that may still grow
	borrowed bool             // file belongs to someone else (a request body): never closed here
	ref      handlers.FileRef // when set, owns file: released instead of closed
	fileFD   int
	// more continues a response after the file range: memory, then
	// another range of file, per part (multipart/byteranges of a file
	// streamed from disk). See nextPart.
	more []handlers.FilePart
	// charged is how much of views counts against the loop's budget for
	// buffered upstream responses (*budget); returned when views drain.
	charged int
	budget  *int
	// pins keep the response cache pages views point into mapped;
	// released when views drain (a page evicted meanwhile is unmapped
	// then, not under a slow client's read).
	pins []handlers.Pin
}

// lend queues a file owned by someone else, from its start.
func (q *outQueue) lend(f *os.File, n int64) {
	q.file, q.fileOff, q.fileLeft, q.borrowed, q.spool, q.fileFD = f, 0, n, true, false, int(f.Fd())
}

// endHead appends the end of a response head: "Connection: close" when
// the connection ends after it, "Connection: keep-alive" to an HTTP/1.0
// client whose connection stays, then the blank line.
func endHead(b []byte, keep bool, minor uint8) []byte {
	switch {
	case !keep:
		return append(b, "Connection: close\r\n\r\n"...)
	case minor == 0:
		return append(b, "Connection: keep-alive\r\n\r\n"...)
	}
	return append(b, "\r\n"...)
}

// pending counts the bytes still to be written, in memory and in a
// spool file; a nil queue has none.
func (q *outQueue) pending() int64 {
	if q == nil {
		return 0
	}
	return int64(q.memBytes()) + q.fileLeft
}

// busy reports whether anything is still to be written; a nil queue is
// empty.
func (q *outQueue) busy() bool {
	return q != nil && (len(q.views) > 0 || q.fileLeft > 0 || (q.file != nil && !q.spool))
}

// hasFile reports whether a file (range or spool) is attached.
func (q *outQueue) hasFile() bool { return q != nil && q.file != nil }

// empty reports whether the queue holds nothing at all, so it can go back
// to the loop's free list.
func (q *outQueue) empty() bool {
	return len(q.views) == 0 && q.own == nil && q.file == nil && q.fileLeft == 0
}

// outOf returns cs's outbound queue, attaching one from the loop's free
// list when it has none: most connections never need one, and an idle
// connection should not carry one.
func (l *loop) outOf(cs *conn) *outQueue {
	if cs.out == nil {
		if n := len(l.freeOut); n > 0 {
			cs.out = l.freeOut[n-1]
			l.freeOut[n-1] = nil
			l.freeOut = l.freeOut[:n-1]
		} else {
			cs.out = &outQueue{}
		}
	}
	return cs.out
}

// putOut detaches cs's queue once it holds nothing.
func (l *loop) putOut(cs *conn) {
	if q := cs.out; q != nil && q.empty() {
		cs.out = nil
		*q = outQueue{views: q.views[:0], pins: q.pins[:0]}
		if len(l.freeOut) < maxFreeOut {
			l.freeOut = append(l.freeOut, q)
		}
	}
}

// dropOut releases everything cs's queue holds and detaches it.
func (l *loop) dropOut(cs *conn) {
	if cs.out != nil {
		cs.out.release()
		l.putOut(cs)
	}
}

// maxFreeOut bounds each loop's free list of outbound queues.
const maxFreeOut = 1024

func (q *outQueue) setFile(f *os.File, off, n int64, ref handlers.FileRef) {
	q.file, q.fileOff, q.fileLeft, q.ref, q.fileFD = f, off, n, ref, int(f.Fd())
	if n == 0 {
		q.closeFile()
	}
}

func (q *outQueue) closeFile() {
	switch {
	case q.ref != nil:
		q.ref.Release()
		q.ref, q.file = nil, nil
	case q.file != nil:
		_ = q.file.Close()
		q.file = nil
	}
}

// nextPart runs when the file range is sent: it queues the next part's
// bytes and range, and once none is left (or only bytes are) the file is
// done.
func (q *outQueue) nextPart() {
	for len(q.more) > 0 && q.fileLeft == 0 {
		p := q.more[0]
		q.more[0] = handlers.FilePart{}
		q.more = q.more[1:]
		if len(p.Pre) > 0 {
			q.views = append(q.views, p.Pre)
		}
		q.fileOff, q.fileLeft = p.Off, p.Len
	}
	if q.fileLeft == 0 {
		q.more = nil
		q.fileDone()
	}
}

// fileDone runs when the file range is sent. A spool file may still grow
// (a FastCGI response being written to it), so it is kept open.
func (q *outQueue) fileDone() {
	switch {
	case q.borrowed:
		q.file, q.borrowed = nil, false
	case !q.spool:
		q.closeFile()
	}
}

// release frees everything the queue holds (the connection is gone).
func (q *outQueue) release() {
	if q.borrowed {
		q.file, q.borrowed, q.fileLeft = nil, false, 0
	}
	q.more = nil
	q.closeFile()
	clear(q.views)
	q.views = q.views[:0]
	q.drained()
}

// drained runs once views are empty: their share of the response budget
// and the pooled buffer behind them go back.
func (q *outQueue) drained() {
	q.uncharge()
	if q.own != nil {
		bytebufferpool.Put(q.own)
		q.own = nil
	}
	q.pins = releasePins(q.pins)
}

// releasePins releases pins and returns the slice emptied for reuse.
func releasePins(pins []handlers.Pin) []handlers.Pin {
	for i, p := range pins {
		p.Release()
		pins[i] = nil
	}
	return pins[:0]
}

// take moves iov into the queue. Pieces that live in scratch (reused for the
// next batch) are copied into the pooled buffer; everything else is a view
// of bytes that never change and is kept as is.
func (q *outQueue) take(iov [][]byte, scratch []byte) {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(scratch)))
	hi := lo + uintptr(cap(scratch))
	inScratch := func(b []byte) bool {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		return cap(scratch) > 0 && p >= lo && p < hi
	}
	need := 0
	for _, b := range iov {
		if inScratch(b) {
			need += len(b)
		}
	}
	if need > 0 && q.own == nil {
		q.own = bytebufferpool.Get()
	}
	if q.own != nil && cap(q.own.B)-len(q.own.B) < need {
		// Grow before slicing so earlier views into own stay valid.
		nb := make([]byte, len(q.own.B), len(q.own.B)+need)
		copy(nb, q.own.B)
		q.own.B = nb
	}
	for _, b := range iov {
		if inScratch(b) {
			start := len(q.own.B)
			q.own.B = append(q.own.B, b...)
			b = q.own.B[start:]
		}
		q.views = append(q.views, b)
	}
}

// advance drops n written bytes from the front of views.
func (q *outQueue) advance(n int) {
	i := 0
	for i < len(q.views) && n >= len(q.views[i]) {
		n -= len(q.views[i])
		q.views[i] = nil
		i++
	}
	if i < len(q.views) {
		q.views[i] = q.views[i][n:]
	}
	q.views = q.views[:copy(q.views, q.views[i:])]
	if len(q.views) == 0 {
		q.drained()
	}
}

// flush writes the responses queued on l.iov for cs. Small batches go
// through gnet's Writev (which buffers a short remainder itself); large ones
// and files go through the connection's own queue.
func (l *loop) flush(cs *conn) {
	if len(l.iov) > 0 || cs.out.hasFile() {
		total := 0
		for _, b := range l.iov {
			total += len(b)
		}
		if cs.gone {
			// Closed while handling (a write error): drop the batch.
		} else if !cs.out.hasFile() && !cs.out.busy() && total+cs.gc.OutboundBuffered() <= l.s.cfg.HighWater {
			for iov := l.iov; len(iov) > 0 && !cs.gone; {
				k := min(len(iov), maxIovecs)
				_, _ = cs.gc.Writev(iov[:k])
				iov = iov[k:]
			}
		} else {
			q := l.outOf(cs)
			q.take(l.iov, l.hctx.Scratch)
			// The queue keeps views of cache pages: their pins go with
			// them, before pump may drain (and release) them.
			q.pins = append(q.pins, l.pins...)
			clear(l.pins)
			l.pins = l.pins[:0]
			q.moved = true
			l.pump(cs)
		}
	}
	// Written, or copied into gnet's outbound buffer (Writev keeps no
	// view), or dropped with the connection: the pages may go.
	l.pins = releasePins(l.pins)
	clear(l.iov)
	l.iov = l.iov[:0]
	l.hctx.Scratch = l.hctx.Scratch[:0]
	if !cs.gone && !cs.out.busy() {
		l.afterWrite(cs)
	}
}

// pumpResult is what a pump left behind.
type pumpResult uint8

const (
	pumpDone    pumpResult = iota // the queue is empty
	pumpStalled                   // the socket is full; try again later
	pumpFailed                    // the socket failed; close the connection
)

// pumpQueue writes as much of q to fd as the socket takes now. It writes
// nothing while gnet still holds bytes of an earlier write for the same
// socket (they go first).
func pumpQueue(gc gnet.Conn, fd int, q *outQueue, log func(msg string, args ...any)) pumpResult {
	if gc.OutboundBuffered() > 0 {
		return pumpStalled
	}
	// Views, then the file range; a multi-part file response (q.more)
	// queues more of both when its range is sent, so go round again.
	for {
		if r := pumpOnce(fd, q, log); r != pumpDone || len(q.views) == 0 {
			return r
		}
	}
}

// pumpOnce writes q's views, then its file range, as far as the socket
// takes them; nextPart may leave views behind it for the next round.
func pumpOnce(fd int, q *outQueue, log func(msg string, args ...any)) pumpResult {
	for len(q.views) > 0 {
		var n int
		var err error
		if q.fileLeft > 0 {
			// A file follows: MSG_MORE lets the head ride in the same
			// segment as the file's first bytes instead of its own packet.
			n, err = unix.SendmsgBuffers(fd, q.views[:min(len(q.views), maxIovecs)], nil, nil, unix.MSG_MORE)
		} else {
			n, err = unix.Writev(fd, q.views[:min(len(q.views), maxIovecs)])
		}
		if n > 0 {
			q.advance(n)
			q.moved = true
		}
		switch err {
		case nil, unix.EINTR:
			continue
		case unix.EAGAIN:
			return pumpStalled
		default:
			return pumpFailed
		}
	}
	for q.file != nil && q.fileLeft > 0 {
		n, err := unix.Sendfile(fd, q.fileFD, &q.fileOff, int(min(q.fileLeft, sendfileChunk)))
		if n > 0 {
			q.fileLeft -= int64(n)
			q.moved = true
			if q.fileLeft == 0 {
				q.nextPart()
				break
			}
		}
		switch {
		case err == unix.EAGAIN:
			return pumpStalled
		case err == unix.EINTR || (err == nil && n > 0):
			continue
		default:
			// n == 0 without error: the file shrank under us. The head
			// promised more bytes, so the only honest end is a close.
			log("file stream ended early", "file", q.file.Name(), "left", q.fileLeft, "err", err)
			return pumpFailed
		}
	}
	return pumpDone
}

// pump writes cs's queue and parks cs when the socket is full.
func (l *loop) pump(cs *conn) {
	q := l.outOf(cs)
	switch pumpQueue(cs.gc, int(cs.fd), q, l.s.cfg.Logger.Warn) {
	case pumpStalled:
		l.stall(cs)
	case pumpFailed:
		l.kill(cs)
	}
}

// stallable is a connection waiting for its socket to take more bytes
// (writable.go).
type stallable interface {
	// resumeWrite retries the connection's writes, on the loop.
	resumeWrite()
	// stalledFlag is set while the connection waits.
	stalledFlag() *bool
	// writeConn is the connection's socket.
	writeConn() gnet.Conn
}

func (cs *conn) resumeWrite()         { cs.l.resume(cs) }
func (cs *conn) stalledFlag() *bool   { return &cs.inStalled }
func (cs *conn) writeConn() gnet.Conn { return cs.gc }

// stall has cs wait for socket space and arms its send timeout.
func (l *loop) stall(cs *conn) {
	l.waitWritable(cs)
	if cs.gone {
		return
	}
	// The send timeout measures time without progress, so rearm it only
	// when bytes moved.
	if q := cs.out; q == nil || q.moved || cs.t.kind != timerSend {
		if q != nil {
			q.moved = false
		}
		l.wheel.schedule(&cs.t, timerSend, l.now, l.s.cfg.SendTimeout)
	}
}

// resume continues a stalled connection: its queue, then its close or the
// requests it pipelined meanwhile.
func (l *loop) resume(cs *conn) {
	if cs.gone {
		return
	}
	if cs.out.busy() {
		l.pump(cs)
		if cs.gone || cs.out.busy() {
			return
		}
	} else if cs.gc.OutboundBuffered() > 0 {
		l.stall(cs)
		return
	}
	l.afterWrite(cs)
	l.process(cs) // a no-op when afterWrite closed or began to close
}

// afterWrite runs when everything queued for cs has been handed to the
// socket: close gracefully, or wait for the next request.
func (l *loop) afterWrite(cs *conn) {
	l.putOut(cs)
	if cs.ex != nil {
		if cs.ex.tunnel {
			cs.ex.tunnelClientDrained()
		}
		// A request waits on its backend: only the upstream's timeouts
		// may end it, and a body still arriving keeps its body timer. Its
		// response, when it ends, closes or keeps the connection.
		if cs.t.kind != timerBody {
			l.wheel.cancel(&cs.t)
		}
		return
	}
	if cs.closeAfter || (l.draining && cs.gc.InboundBuffered() == 0) {
		l.finish(cs)
		return
	}
	switch {
	case cs.pace == paceHeld:
		l.armPace(cs)
	case cs.gc.InboundBuffered() == 0:
		if l.s.cfg.IdleTimeout > l.s.cfg.Tick {
			l.wheel.schedule(&cs.t, timerPark, l.now, 0) // the next tick
		} else {
			l.wheel.schedule(&cs.t, timerIdle, l.now, l.s.cfg.IdleTimeout)
		}
	case cs.t.kind != timerHeader:
		l.wheel.cancel(&cs.t)
	}
}

// finish closes the write side once gnet has flushed, then waits a little
// for the client to close: closing with unread input would make the kernel
// send RST, and a RST can destroy the response before the client reads it.
func (l *loop) finish(cs *conn) {
	if cs.lingering {
		return
	}
	if cs.gc.OutboundBuffered() > 0 {
		l.stall(cs)
		return
	}
	cs.lingering = true
	_ = unix.Shutdown(int(cs.fd), unix.SHUT_WR)
	_, _ = cs.gc.Discard(0)
	l.wheel.schedule(&cs.t, timerLinger, l.now, lingerTimeout)
}
