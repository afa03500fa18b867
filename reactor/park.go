package reactor

import (
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Idle keep-alive connections are the bulk of a busy server's connections,
// so they are stored compactly. A connection still idle at the tick after
// it went idle gives its conn back to the loop and waits in a 24-byte
// parked slot (the gnet connection, its idle deadline and its request
// count) until its next byte or its idle timeout. With gnet's own
// per-connection state this keeps an idle connection under 600 bytes of
// RSS (bench scenario idle-10k). A client in the middle of a burst of
// requests is rarely idle at a tick, so parking costs the hot path
// nothing; one that is pays a few list operations, no allocation.
//
// Slots live in a FIFO of fixed-size chunks: every connection parks at a
// tick and expires IdleTimeout after it, so the FIFO is in deadline order
// and expiry only ever looks at its head. A slot
// whose connection woke or closed stays in place, dead, until the head
// passes it or, when dead slots outnumber live ones, a compaction moves the
// live ones up (in order) and points their gnet contexts at the new slots.
// Chunks never move, so gnet's context can point straight at a slot.

// parkChunkLen fills a 4 KiB size class: 170 slots of 24 bytes and a link.
const parkChunkLen = 170

// maxFreeConns bounds each loop's free list of conn structs.
const maxFreeConns = 1024

// parked is an idle connection's whole state while parked.
type parked struct {
	gc   gnet.Conn // nil once the slot is dead
	due  uint32    // idle deadline in wheel ticks (see timerNode.due)
	nreq int32
}

type parkChunk struct {
	slots [parkChunkLen]parked
	next  *parkChunk
}

// parkQueue is a loop's FIFO of parked connections.
type parkQueue struct {
	head, tail   *parkChunk
	headI, tailI int // next slot to expire in head, next free slot in tail
	spare        *parkChunk
	live         int // slots holding a connection
	used         int // slots from head to tail, live or dead
}

// newConn returns a fresh conn for c, reusing a parked connection's.
func (l *loop) newConn(c gnet.Conn) *conn {
	var cs *conn
	if n := len(l.freeConns); n > 0 {
		cs = l.freeConns[n-1]
		l.freeConns[n-1] = nil
		l.freeConns = l.freeConns[:n-1]
		*cs = conn{}
	} else {
		cs = &conn{}
	}
	cs.gc, cs.fd, cs.l = c, int32(c.Fd()), l
	cs.peer = socketPeer(c.RemoteAddr())
	cs.t.owner = cs
	c.SetContext(cs)
	l.conns.add(cs)
	return cs
}

// parkIdle moves an idle connection into a parked slot and recycles its
// conn. The caller has checked that nothing refers to cs any more: no
// request, no queued output, not on the stalled list.
func (l *loop) parkIdle(cs *conn, left time.Duration) {
	q := &l.parked
	if q.tail == nil || q.tailI == parkChunkLen {
		ch := q.spare
		q.spare = nil
		if ch == nil {
			ch = &parkChunk{}
		}
		if q.tail == nil {
			q.head, q.headI = ch, 0
		} else {
			q.tail.next = ch
		}
		q.tail, q.tailI = ch, 0
	}
	p := &q.tail.slots[q.tailI]
	q.tailI++
	q.live++
	q.used++
	*p = parked{gc: cs.gc, due: uint32(l.wheel.dueIn(l.now, left)), nreq: cs.nreq}
	cs.gc.SetContext(p)
	l.wheel.cancel(&cs.t)
	l.conns.remove(cs)
	cs.gone = true // defensive: nothing may use it until newConn hands it out
	if len(l.freeConns) < maxFreeConns {
		l.freeConns = append(l.freeConns, cs)
	}
	if q.used > 2*q.live+parkChunkLen {
		q.compact()
	}
}

// compact moves the live slots to the front of the queue, keeping their
// order, and frees the chunks left empty. Connections that wake and park
// again often would otherwise leave a trail of dead slots as long as the
// idle timeout.
func (q *parkQueue) compact() {
	wc, wi := q.head, q.headI
	for rc, ri := q.head, q.headI; rc != nil; {
		if ri == parkChunkLen {
			rc, ri = rc.next, 0
			continue
		}
		if rc == q.tail && ri == q.tailI {
			break
		}
		if p := &rc.slots[ri]; p.gc != nil {
			if wi == parkChunkLen {
				wc, wi = wc.next, 0
			}
			if w := &wc.slots[wi]; w != p {
				*w = *p
				p.gc = nil
				w.gc.SetContext(w)
			}
			wi++
		}
		ri++
	}
	for ch := wc.next; ch != nil; {
		next := ch.next
		*ch = parkChunk{} // drop the references; the GC takes the chunk
		ch = next
	}
	wc.next = nil
	q.tail, q.tailI = wc, wi
	q.used = q.live
}

// wake gives a parked connection that has input a conn again.
func (l *loop) wake(p *parked) *conn {
	cs := l.newConn(p.gc)
	cs.nreq = p.nreq
	p.gc = nil
	l.parked.live--
	return cs
}

// parkedClosed marks the slot of a parked connection that closed dead.
func (l *loop) parkedClosed(p *parked) {
	if p.gc != nil {
		p.gc = nil
		l.parked.live--
		l.s.limit.open.Add(-1)
	}
}

// capParked brings every parked connection's idle deadline to within d
// (graceful shutdown). Capping keeps the FIFO in deadline order.
func (l *loop) capParked(d time.Duration) {
	q := &l.parked
	limit := uint32(l.wheel.dueIn(l.now, d))
	for ch, i := q.head, q.headI; ch != nil; {
		if i == parkChunkLen {
			ch, i = ch.next, 0
			continue
		}
		if ch == q.tail && i == q.tailI {
			return
		}
		if p := &ch.slots[i]; p.gc != nil && int32(p.due-limit) > 0 {
			p.due = limit
		}
		i++
	}
}

// expireParked closes parked connections whose idle timeout passed and
// drops the chunks the head has left behind.
func (l *loop) expireParked() {
	q := &l.parked
	now := uint32(l.wheel.ticksAt(l.now))
	for q.head != nil {
		if q.head == q.tail && q.headI == q.tailI {
			q.headI, q.tailI, q.used = 0, 0, 0 // empty: reuse the chunk from its start
			return
		}
		if q.headI == parkChunkLen {
			old := q.head
			q.head, q.headI = old.next, 0
			*old = parkChunk{}
			q.spare = old
			continue
		}
		p := &q.head.slots[q.headI]
		if gc := p.gc; gc != nil {
			if int32(now-p.due) < 0 {
				return
			}
			l.parkedClosed(p)
			_ = l.el.Close(gc)
		}
		q.headI++
		q.used--
	}
}

// parkedNextDue returns the idle deadline (in wheel ticks) of the connection
// parked longest, or false when none is parked. After expireParked the
// head slot is that connection's, or the queue is empty.
func (l *loop) parkedNextDue() (int64, bool) {
	q := &l.parked
	if q.live == 0 || q.head == nil || q.headI == parkChunkLen {
		return 0, false
	}
	p := &q.head.slots[q.headI]
	if p.gc == nil {
		return l.wheel.cur + 1, true // a dead head slot: let the next tick pass it
	}
	return l.wheel.tickOf(p.due), true
}
