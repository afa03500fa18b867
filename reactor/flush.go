package reactor

import (
	"context"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// flushDelay is how long the start of a response may be held (headBuffer)
// before it goes to the client anyway. Holding lets a response that ends
// soon go out whole, with a Content-Length, in one write; a response that
// takes longer (a streaming view, progress output, a page the application
// flushes early) must not wait for 64 KiB or its end. A few milliseconds:
// the reads of a response the application writes in one go arrive well
// within it, and a person never notices it.
const flushDelay = 5 * time.Millisecond

// flusher is a loop's flush timer: one time.Timer per loop, re-armed, and
// a list of the exchanges holding bytes, so that holding back costs no
// allocation per response once the list has grown.
type flusher struct {
	timer *time.Timer
	armed bool
	task  gnet.Runnable
	held  []*exchange
}

// holdBack notes that r holds response bytes, not yet sent (armHeld
// arms the timer once the read that brought them is over).
func (l *loop) holdBack(r *exchange) {
	if !r.flushQueued {
		r.flushQueued = true
		l.holdFlush.held = append(l.holdFlush.held, r)
	}
}

// armHeld runs after each read of an upstream connection, once the
// responses that ended in it were handed over: it drops from the list
// what no longer holds bytes and arms the flush timer for the rest. A
// response that arrived whole in one read (most do) never arms it.
func (l *loop) armHeld() {
	f := &l.holdFlush
	keep := f.held[:0]
	for _, r := range f.held {
		if r.holding() {
			keep = append(keep, r)
		}
	}
	clear(f.held[len(keep):])
	f.held = keep
	if len(keep) == 0 || f.armed {
		return
	}
	f.armed = true
	if f.timer == nil {
		f.task = gnet.RunnableFunc(func(context.Context) error {
			l.stamp()
			l.flushHeld()
			return nil
		})
		// The timer's goroutine only queues the flush on the loop,
		// which owns everything it touches.
		f.timer = time.AfterFunc(flushDelay, func() { _ = l.el.Execute(context.Background(), f.task) })
		return
	}
	f.timer.Reset(flushDelay)
}

// holding reports whether r holds the start of a response its client
// is waiting for.
func (r *exchange) holding() bool {
	return r.cs != nil && r.state == exAnswering && r.head != nil && !r.headSent &&
		!r.noBody && r.internal == nil && len(r.held) > 0
}

// flushHeld sends the head and the held bytes of every response still
// holding some: from here on they stream. The list may name exchanges
// that sent their head, ended or were recycled meanwhile; each is checked
// for what it is now.
func (l *loop) flushHeld() {
	f := &l.holdFlush
	f.armed = false
	for i, r := range f.held {
		f.held[i] = nil
		r.flushQueued = false
		if r.holding() {
			r.sendHead(true)
		}
	}
	f.held = f.held[:0]
}

// stopFlush stops the loop's flush timer (the loop is closing).
func (l *loop) stopFlush() {
	if l.holdFlush.timer != nil {
		l.holdFlush.timer.Stop()
	}
}
