package reactor

import (
	"context"
	"net"
	"os"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Closing the listener is the delicate step of a graceful shutdown or a
// zero-downtime restart. gnet has no call that closes only its listeners,
// and it cannot simply be done under it: a loop that sees an event on a
// shut listener calls accept and gets EINVAL. And a listener closed with
// connections in its accept queue resets them: clients whose handshake the
// kernel completed would see a reset.
//
// So gale, on each of its listening sockets (one per loop with
// SO_REUSEPORT):
//
//  1. has every loop stop watching it (Engine.StopAccepting, which gale
//     added to its copy of gnet, internal/gnet): once it returns, no loop
//     accepts on it again;
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
	lfds, err := s.eng.StopAccepting(ctx)
	if err != nil {
		s.cfg.Logger.Warn("graceful shutdown: stopping the listeners", "addr", s.Addr(), "err", err)
	}
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
		case unix.EAGAIN:
			return pending // the queue is empty
		default:
			s.cfg.Logger.Warn("graceful shutdown: accepting the queued connections", "err", err)
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

// addrFree fails with EADDRINUSE when a socket listens on addr already.
// gnet binds its listeners with SO_REUSEPORT, so that each loop has one,
// and a socket bound with SO_REUSEPORT joins any SO_REUSEPORT group of the
// same user on that address instead of failing: a second gale would take
// part of the first one's connections. A socket bound without it, as a
// probe, finds out first. SO_REUSEADDR keeps connections of an earlier
// process in TIME_WAIT from counting, as for gnet's sockets. (Two gales
// started in the same instant can both pass; one started while another
// serves cannot.)
func addrFree(addr string) error {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil || ta.Port == 0 {
		return nil // gnet reports a bad address; port 0 picks a free one
	}
	// The family and address as gnet chooses them (pkg/socket's
	// GetTCPSockAddr): an IPv4 address binds AF_INET, an IPv6 one AF_INET6
	// alone, no address AF_INET6 for both.
	family := unix.AF_INET6
	var sa unix.Sockaddr
	if ip4 := ta.IP.To4(); ip4 != nil {
		family = unix.AF_INET
		a := &unix.SockaddrInet4{Port: ta.Port}
		copy(a.Addr[:], ip4)
		sa = a
	} else {
		a := &unix.SockaddrInet6{Port: ta.Port}
		copy(a.Addr[:], ta.IP.To16())
		sa = a
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if family == unix.AF_INET6 && ta.IP != nil {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}
