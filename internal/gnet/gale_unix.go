// Copyright (c) 2026 The gale Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this copy of gnet.
//
// This file is not part of gnet: gale added it (see GALE.md). It holds
// what gale needs from gnet's accept path: accept errors that stop
// accepting for a while instead of stopping the engine, and a way to stop
// accepting for good during a graceful shutdown.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"context"
	"time"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/pkg/queue"
)

const (
	// acceptBackoffMin is the first pause after accept fails with an error
	// that is not the accepted connection's own (EMFILE, ENFILE, ENOBUFS,
	// ENOMEM and whatever else comes). Each failure in a row doubles it up
	// to acceptBackoffMax, and an accept that succeeds starts over.
	acceptBackoffMin = 5 * time.Millisecond
	// acceptBackoffMax is nginx's accept_mutex_delay, the pause nginx takes
	// when it runs out of file descriptors.
	acceptBackoffMax = 500 * time.Millisecond
	// acceptLogEvery rate-limits the log line of a listener whose accepts
	// keep failing.
	acceptLogEvery = time.Second
)

// acceptState is a listener's accept back-off. Only the event loop that
// polls the listener touches it.
type acceptState struct {
	stopped  bool          // StopAccepting ran, or the socket stopped listening: never watched again
	paused   bool          // out of the poller until resumeAccept runs
	backoff  time.Duration // the current pause; 0 once an accept succeeds
	failures int           // since the last log line
	lastLog  time.Time
}

// acceptConnErr reports whether err, from accept(2), is the error of the
// one connection being accepted: Linux reports a connection's pending
// network error from accept ("treat them like EAGAIN by retrying", says
// accept(2)), and EPERM when a firewall rule forbids it. The next
// connection may be fine.
func acceptConnErr(err error) bool {
	switch err {
	case unix.EPROTO, unix.EPERM, unix.ENOPROTOOPT, unix.ENETDOWN, unix.ENETUNREACH,
		unix.EHOSTDOWN, unix.EHOSTUNREACH, unix.EOPNOTSUPP:
		return true
	}
	return false
}

// acceptFailed handles an accept(2) error on the listener fd other than
// EAGAIN, EINTR, ECONNRESET and ECONNABORTED, which the callers handle. It
// reports whether to go on to the next connection at once. Otherwise it has
// taken the listener out of the poller and scheduled resumeAccept after a
// back-off: gnet stopped the engine here, closing every connection, so an
// application out of file descriptors went down (gnet#367).
func (el *eventloop) acceptFailed(fd int, err error) (next bool) {
	if acceptConnErr(err) {
		return true
	}
	ln := el.listeners[fd]
	if ln == nil {
		return false
	}
	_ = el.poller.Delete(fd)
	if !listening(fd) {
		// Shut down under us (EINVAL): nothing will come from it again,
		// and polling it would report it ready for ever.
		ln.stopped = true
		el.getLogger().Infof("listener %s stopped listening (%v); no longer accepting on it", ln.address, err)
		return false
	}
	el.pauseAccept(ln, err)
	return false
}

// pauseAccept keeps the listener out of this loop's poller for the next
// back-off, then puts it back.
func (el *eventloop) pauseAccept(ln *listener, err error) {
	ln.paused = true
	ln.backoff *= 2
	if ln.backoff < acceptBackoffMin {
		ln.backoff = acceptBackoffMin
	} else if ln.backoff > acceptBackoffMax {
		ln.backoff = acceptBackoffMax
	}
	ln.failures++
	if now := time.Now(); now.Sub(ln.lastLog) >= acceptLogEvery {
		el.getLogger().Errorf("accept on %s: %v (failures since the last message: %d); accepting again in %v",
			ln.address, err, ln.failures, ln.backoff)
		ln.lastLog, ln.failures = now, 0
	}
	d, eng := ln.backoff, el.engine
	// A goroutine of the engine's group: the engine closes its pollers only
	// after the group is done, so the Trigger below never writes to a
	// closed (and maybe reused) eventfd.
	eng.concurrency.Go(func() error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			_ = el.poller.Trigger(queue.HighPriority, el.resumeAccept, ln)
		case <-eng.concurrency.ctx.Done():
		}
		return nil
	})
}

// resumeAccept puts a paused listener back into the poller, on its loop.
func (el *eventloop) resumeAccept(a any) error {
	ln := a.(*listener)
	if !ln.paused || ln.stopped {
		return nil
	}
	ln.paused = false
	if ln.fd < 0 || !listening(ln.fd) {
		ln.stopped = true
		return nil
	}
	// The ingress loop (no SO_REUSEPORT) polls its listeners edge-triggered,
	// the other loops level-triggered; an edge-triggered add of a socket
	// that has connections queued reports it at once.
	if err := el.poller.AddRead(ln.pollAttachment, el == el.engine.ingress); err != nil {
		el.pauseAccept(ln, err)
	}
	return nil
}

// acceptSucceeded ends the listener's back-off.
func (ln *listener) acceptSucceeded() {
	ln.backoff = 0
}

// listening reports whether fd is a listening socket.
func listening(fd int) bool {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	return err == nil && v == 1
}

// StopAccepting makes every event loop of the engine stop accepting on its
// listening sockets, for good, and returns their fds once no loop will
// accept on them again. The sockets stay open, so connections the kernel
// has queued on them stay queued: the caller may accept them itself and
// hand them to the loops (EventLoop.Enroll), then shut the sockets down
// (shutdown(2) takes a socket out of its SO_REUSEPORT group at once). The
// engine still owns the fds and closes them when it stops.
//
// This is an addition of gale's to gnet (see GALE.md).
func (e Engine) StopAccepting(ctx context.Context) ([]int, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	// OnBoot, where an application learns the engine, runs before the
	// event loops are registered: wait for them (and the memory they
	// were written to) before walking them.
	select {
	case <-e.eng.started:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var loops []*eventloop
	if e.eng.ingress != nil {
		loops = append(loops, e.eng.ingress) // the one loop that accepts
	} else {
		e.eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
			loops = append(loops, el)
			return true
		})
	}
	res := make(chan []int, len(loops))
	for _, el := range loops {
		el := el // this module's go.mod says go 1.20: one el for all iterations
		err := el.poller.Trigger(queue.HighPriority, func(any) error {
			var fds []int
			for fd, ln := range el.listeners {
				if !ln.stopped && !ln.paused {
					_ = el.poller.Delete(fd)
				}
				ln.stopped = true
				fds = append(fds, fd)
			}
			res <- fds
			return nil
		}, nil)
		if err != nil {
			return nil, err
		}
	}
	var fds []int
	for range loops {
		select {
		case lfds := <-res:
			fds = append(fds, lfds...)
		case <-ctx.Done():
			return fds, ctx.Err()
		}
	}
	return fds, nil
}
