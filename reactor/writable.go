package reactor

import (
	"context"
	"os"
	"syscall"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Writability. gnet tells the application nothing about socket space for
// bytes it did not buffer itself, and gale writes large responses straight
// to the socket (write.go). So a connection whose socket is full waits in a
// second epoll instance of its loop, registered for EPOLLOUT|EPOLLONESHOT;
// a socket may sit in several epoll sets, and gnet's own registration of it
// (for reads, and for writes while gnet buffers) is left alone.
//
// The epoll fd is itself pollable. One goroutine per loop waits on it in
// Go's network poller (no thread blocked, no timer); when a socket in the
// set became writable it queues one task on the loop and waits for that
// task to run. The task takes the ready sockets with a non-blocking
// epoll_wait and retries exactly those connections, on the loop. A stalled
// connection costs nothing while it waits; its send timeout runs on the
// loop's wheel as before. (Until this, stalled writers were polled: every
// tick dropped to 1 ms while one waited and every one of them was retried,
// a writev or sendfile returning EAGAIN per connection per millisecond.)

// writeWaitBatch is how many ready sockets one epoll_wait takes.
const writeWaitBatch = 128

// writeWait is a loop's set of connections waiting for socket space.
type writeWait struct {
	epfd int
	file *os.File // epfd, registered in Go's network poller
	// waiting maps each armed fd to its connection. A connection that
	// closes leaves it (forgetWritable); the kernel drops the fd's
	// registration when the socket closes.
	waiting map[int]stallable
	events  []unix.EpollEvent
	task    gnet.Runnable
	probe   [1]unix.PollFd // the goroutine's
	ack     chan struct{}  // the task ran: the goroutine may wait again
	done    chan struct{}  // closed when the server stopped
	exited  chan struct{}
}

// newWriteWait creates l's wait set and starts its goroutine.
func newWriteWait(l *loop) (*writeWait, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	// Non-blocking, so that os.NewFile registers it with the network
	// poller.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	ww := &writeWait{
		epfd:    fd,
		file:    os.NewFile(uintptr(fd), "gale-writable"),
		waiting: make(map[int]stallable),
		events:  make([]unix.EpollEvent, writeWaitBatch),
		ack:     make(chan struct{}, 1),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	ww.task = gnet.RunnableFunc(func(context.Context) error {
		l.writable()
		return nil
	})
	rc, err := ww.file.SyscallConn()
	if err != nil {
		ww.file.Close()
		return nil, err
	}
	go ww.watch(l.el, rc)
	return ww, nil
}

// watch hands the loop a task each time a socket in the set is writable,
// one task at a time, until close.
func (ww *writeWait) watch(el gnet.EventLoop, rc syscall.RawConn) {
	defer close(ww.exited)
	for {
		// Read calls ready, and while it says no, parks in the network
		// poller until the epoll fd is readable (has ready sockets).
		if err := rc.Read(ww.ready); err != nil {
			return // closed
		}
		if el.Execute(context.Background(), ww.task) != nil {
			return // the engine is stopping
		}
		select {
		case <-ww.ack:
		case <-ww.done:
			return
		}
	}
}

// ready reports whether any socket in the set is ready, without taking
// it: the loop takes it.
func (ww *writeWait) ready(fd uintptr) bool {
	ww.probe[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	n, err := unix.Poll(ww.probe[:], 0)
	return n > 0 || (err != nil && err != unix.EINTR)
}

// arm registers fd for one writable event.
func (ww *writeWait) arm(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: int32(fd)}
	// A socket that waited before is still registered, disarmed; a new
	// one is not.
	err := unix.EpollCtl(ww.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
	if err == unix.ENOENT {
		err = unix.EpollCtl(ww.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	}
	if err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// close stops the goroutine and closes the epoll fd; the loop must have
// stopped.
func (ww *writeWait) close() {
	close(ww.done)
	_ = ww.file.Close()
	<-ww.exited
}

// waitWritable has w retried once its socket takes more bytes. A
// connection that cannot wait (no epoll fd left) is closed.
func (l *loop) waitWritable(w stallable) {
	f := w.stalledFlag()
	if *f {
		return
	}
	gc := w.writeConn()
	fd := gc.Fd()
	err := l.armWritable(fd)
	if err != nil {
		l.s.cfg.Logger.Error("cannot wait for socket space; closing the connection", "err", err)
		_ = l.el.Close(gc)
		return
	}
	*f = true
	l.ww.waiting[fd] = w
}

func (l *loop) armWritable(fd int) error {
	if l.ww == nil {
		ww, err := newWriteWait(l)
		if err != nil {
			return err
		}
		l.ww = ww
	}
	return l.ww.arm(fd)
}

// writable is the wait set's task: it retries the connections whose
// sockets became writable.
func (l *loop) writable() {
	l.stamp()
	ww := l.ww
	for {
		n, err := unix.EpollWait(ww.epfd, ww.events, 0)
		if err == unix.EINTR {
			continue
		}
		for i := range max(n, 0) {
			fd := int(ww.events[i].Fd)
			if w, ok := ww.waiting[fd]; ok {
				delete(ww.waiting, fd)
				*w.stalledFlag() = false
				w.resumeWrite()
			}
		}
		if n < len(ww.events) {
			break
		}
	}
	ww.ack <- struct{}{}
}

// forgetWritable takes a closing connection out of the wait set.
func (l *loop) forgetWritable(w stallable) {
	f := w.stalledFlag()
	if !*f {
		return
	}
	*f = false
	fd := w.writeConn().Fd()
	if l.ww != nil && l.ww.waiting[fd] == w {
		delete(l.ww.waiting, fd)
	}
}

// closeWriteWaits stops every loop's wait set and flush timer once the
// engine stopped.
func (s *Server) closeWriteWaits() {
	for _, l := range s.loopList() {
		if l.ww != nil {
			l.ww.close()
			l.ww = nil
		}
		l.stopFlush()
	}
}
