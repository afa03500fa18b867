package reactor

import (
	"bufio"
	"context"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Closing the listener is the delicate step of a graceful shutdown or a
// zero-downtime restart. gnet has no call that closes only its listeners,
// and it cannot simply be done under it: a loop that sees an event on a
// shut listener calls accept, gets EINVAL, and gnet treats an accept error
// as fatal for the loop, which then closes every connection it holds. And
// a listener closed with connections in its accept queue resets them:
// clients whose handshake the kernel completed would see a reset.
//
// So gale, on each of its listening sockets (one per loop with
// SO_REUSEPORT):
//
//  1. removes it from the gnet loop's epoll set (found through
//     /proc/self/fdinfo), then waits until every loop has run a task, so
//     no loop still holds an event for it from an earlier epoll_wait;
//  2. accepts what the kernel has already queued and hands those
//     connections to the loops (gnet's Enroll), where they are served
//     with "Connection: close" like every request during the drain;
//  3. shuts it down with shutdown(2), which takes it out of the
//     SO_REUSEPORT group at once: new connections go to the other
//     listeners of the group (a new gale) or are refused.
//
// Between steps 2 and 3 a connection can still complete its handshake on
// the old socket (a window of microseconds); with net.ipv4.tcp_migrate_req
// = 1 the kernel moves it, and half-open ones, to another listener of the
// group instead of resetting them. gnet closes the sockets themselves when
// the engine stops.

// closeListeners stops accepting on every listening socket of this server.
// It returns the connections it handed to the loops, once they are open.
func (s *Server) closeListeners(ctx context.Context) int {
	a := s.Addr()
	if a == nil {
		return 0
	}
	lfds := listenerFDs(a)
	if len(lfds) == 0 {
		s.cfg.Logger.Warn("graceful shutdown: no listening socket found to close", "addr", a)
		return 0
	}
	unwatch(lfds)
	s.onLoops(func(*loop) int { return 0 }) // every loop is past its last listener event
	var pending []<-chan gnet.RegisteredResult
	for _, fd := range lfds {
		pending = s.acceptQueued(fd, pending)
		if err := unix.Shutdown(fd, unix.SHUT_RD); err != nil {
			s.cfg.Logger.Warn("graceful shutdown: shutdown(2) on the listener", "fd", fd, "err", err)
		}
	}
	n := 0
	for _, ch := range pending {
		select {
		case r, ok := <-ch:
			if ok && r.Err == nil {
				n++
			}
		case <-ctx.Done():
			return n
		}
	}
	return n
}

// acceptQueued accepts every connection queued on the listening socket fd
// and enrolls each on a loop, round robin.
func (s *Server) acceptQueued(fd int, pending []<-chan gnet.RegisteredResult) []<-chan gnet.RegisteredResult {
	loops := s.loopList()
	for i := 0; ; i++ {
		nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch err {
		case nil:
		case unix.EINTR, unix.ECONNABORTED:
			continue
		default: // EAGAIN: the queue is empty
			return pending
		}
		f := os.NewFile(uintptr(nfd), "accepted")
		nc, err := net.FileConn(f) // a dup: f is closed below
		f.Close()
		if err != nil {
			s.cfg.Logger.Warn("graceful shutdown: queued connection", "err", err)
			continue
		}
		var ch <-chan gnet.RegisteredResult
		if len(loops) > 0 {
			ch, err = loops[i%len(loops)].el.Enroll(context.Background(), nc)
		} else {
			ch, err = s.eng.Register(gnet.NewNetConnContext(context.Background(), nc))
		}
		if err != nil {
			nc.Close()
			s.cfg.Logger.Warn("graceful shutdown: enrolling a queued connection", "err", err)
			continue
		}
		pending = append(pending, ch)
	}
}

// listenerFDs finds this process's listening TCP sockets bound to a: gnet
// opens one per loop (SO_REUSEPORT) and does not expose them.
func listenerFDs(a *net.TCPAddr) []int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || v != 1 {
			continue
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			continue
		}
		if b := sockaddrTCP(sa); b != nil && b.Port == a.Port && b.IP.Equal(a.IP) {
			fds = append(fds, fd)
		}
	}
	return fds
}

// unwatch removes the sockets lfds from every epoll set of this process
// that watches them (gnet's loops').
func unwatch(lfds []int) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	want := make(map[int]bool, len(lfds))
	for _, fd := range lfds {
		want[fd] = true
	}
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || link != "anon_inode:[eventpoll]" {
			continue
		}
		ep, _ := strconv.Atoi(e.Name())
		for _, fd := range epollTargets(e.Name()) {
			if want[fd] {
				_ = unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fd, nil)
			}
		}
	}
}

// epollTargets lists the fds an epoll instance watches ("tfd:" lines of
// its fdinfo).
func epollTargets(name string) []int {
	f, err := os.Open("/proc/self/fdinfo/" + name)
	if err != nil {
		return nil
	}
	defer f.Close()
	var fds []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "tfd:" {
			if fd, err := strconv.Atoi(fields[1]); err == nil {
				fds = append(fds, fd)
			}
		}
	}
	return fds
}
