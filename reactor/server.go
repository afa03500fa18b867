// Package reactor is gale's gnet event handler: one event loop per core,
// per-loop state with no locks on the request path, the connection life
// cycle (parse, handle, write, keep-alive, close), the per-loop timer wheel,
// outbound flow control and graceful drain.
package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/upstream"
)

// Server runs the HTTP/1.1 engine.
type Server struct {
	gnet.BuiltinEventEngine

	cfg Config

	eng      gnet.Engine
	booted   chan struct{}
	addr     atomic.Pointer[net.TCPAddr]
	loops    sync.Map // gnet.EventLoop -> *loop
	ticker   ticker
	limit    connLimit
	draining atomic.Bool
	// handler is Config.Handler until SetHandler swaps it (reload); each
	// request loads it once, so a request is answered by one tree.
	handler atomic.Pointer[handlerRef]
}

type handlerRef struct{ h handlers.Handler }

// New returns a server for cfg; call Serve to run it.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Handler == nil {
		return nil, errors.New("reactor: Config.Handler is nil")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("reactor: listen address %q: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, booted: make(chan struct{})}
	s.ticker.init()
	s.handler.Store(&handlerRef{cfg.Handler})
	return s, nil
}

// SetHandler makes h answer every request parsed from now on, on every
// connection, open or new; requests in progress finish with the handler
// they started with. It is how a configuration reload takes effect
// without closing any connection.
func (s *Server) SetHandler(h handlers.Handler) {
	if h != nil {
		s.handler.Store(&handlerRef{h})
	}
}

// currentHandler is the handler for a request starting now.
func (s *Server) currentHandler() handlers.Handler { return s.handler.Load().h }

// RetireUpstream winds down the connection pools of an upstream that no
// handler routes to any more (a reload removed or replaced it): on every
// loop its idle connections close now, busy ones close when their
// requests finish, and queued requests are still served. Call it after
// SetHandler.
func (s *Server) RetireUpstream(u *upstream.Upstream) {
	u.Retire()
	s.post(func(l *loop) {
		if p := l.pools[u]; p != nil {
			p.retire()
		}
	})
}

// Poke tells every loop that u's backends changed (Backend.Enable,
// Disable): idle connections to disabled backends close now, so their
// workers drain without waiting for a request or the idle timeout, and
// requests queued for u try again now rather than at the next release of
// a connection.
func (s *Server) Poke(u *upstream.Upstream) {
	s.post(func(l *loop) {
		p := l.pools[u]
		if p == nil {
			return
		}
		for i := 0; i < len(p.idle); {
			if uc := p.idle[i]; uc.b.Disabled() {
				l.upClose(uc) // removes it from p.idle
				continue
			}
			i++
		}
		p.retry()
	})
}

// post runs fn on every loop, each on its own loop, without waiting.
func (s *Server) post(fn func(*loop)) {
	for _, l := range s.loopList() {
		_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			l.stamp()
			fn(l)
			return nil
		}))
	}
}

// ErrStopped is what Serve returns when the engine stopped without
// Shutdown: gnet stops it after an error it deems fatal (it logs the error
// first), and a server that then exits 0 is one a supervisor does not
// restart.
var ErrStopped = errors.New("reactor: the engine stopped without Shutdown")

// Serve listens and serves until Shutdown; it returns nil after a clean
// stop. It fails with EADDRINUSE when a socket listens on the address
// already, unless Config.ReusePort says to join it, and with ErrStopped
// when the engine stops without Shutdown.
func (s *Server) Serve() error {
	if !s.cfg.ReusePort {
		if err := addrFree(s.cfg.Addr); err != nil {
			return err
		}
	}
	defer s.closeWriteWaits()
	defer s.stopTicker()
	err := gnet.Run(s, "tcp://"+s.cfg.Addr,
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithReusePort(true),
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{s.cfg.Logger}),
	)
	if err == nil && !s.draining.Load() {
		err = ErrStopped
	}
	return err
}

// Ready is closed once the server is listening.
func (s *Server) Ready() <-chan struct{} { return s.booted }

// Addr is the bound listen address, once Ready.
func (s *Server) Addr() *net.TCPAddr { return s.addr.Load() }

// OnBoot records the engine and the bound address.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	s.startTicker()
	if fd, err := eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			s.addr.Store(sockaddrTCP(sa))
		}
		unix.Close(fd)
	}
	close(s.booted)
	return gnet.None
}

func sockaddrTCP(sa unix.Sockaddr) *net.TCPAddr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}

// loopOf returns the state of the event loop that owns c.
func (s *Server) loopOf(c gnet.Conn) *loop {
	el := c.EventLoop()
	if v, ok := s.loops.Load(el); ok {
		return v.(*loop)
	}
	v, loaded := s.loops.LoadOrStore(el, newLoop(s, el))
	l := v.(*loop)
	if !loaded {
		s.wakeTicker() // it may sleep with no loop to tick
	}
	if s.draining.Load() && !l.draining {
		l.drain() // a loop's first connection arrived during the drain
	}
	return l
}

// OnOpen attaches per-connection state.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if uc, ok := c.Context().(*upConn); ok {
		uc.l.stamp()
		uc.l.upOpen(uc, c)
		return nil, gnet.None
	}
	l := s.loopOf(c)
	l.open(c)
	return nil, gnet.None
}

// OnClose releases per-connection state. gnet may reuse the fd at once, so
// nothing touches c afterwards.
func (s *Server) OnClose(c gnet.Conn, err error) gnet.Action {
	switch x := c.Context().(type) {
	case *conn:
		x.l.stamp()
		x.l.forgetWritable(x)
		x.l.closed(x, err)
	case *parked:
		s.loopOf(c).parkedClosed(x)
	case *upConn:
		x.l.stamp()
		x.l.forgetWritable(x)
		x.l.upClosed(x, err)
	}
	return gnet.None
}

// OnTraffic parses and answers every complete request in the inbound buffer.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	switch x := c.Context().(type) {
	case *conn:
		x.l.traffic(x)
	case *parked:
		l := s.loopOf(c)
		l.traffic(l.wake(x))
	case *upConn:
		x.l.upTraffic(x)
	}
	return gnet.None
}

// Shutdown drains: every response from now on says "Connection: close",
// busy connections close after their current response, idle ones after a
// short grace (drainIdleGrace: a keep-alive client about to send its next
// request gets an answer, not a closed socket); the listening sockets stop
// accepting (listener.go), connections already queued on them are served.
// When no client connection is left (or ctx ends) the engine stops. It
// returns ctx's error when the deadline cut requests off.
func (s *Server) Shutdown(ctx context.Context) error {
	<-s.booted
	s.draining.Store(true)
	s.onLoops(func(l *loop) int { l.drain(); return 0 })
	if n := s.closeListeners(ctx); n > 0 {
		s.cfg.Logger.Info("graceful shutdown: serving connections the listener had queued", "conns", n)
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var err error
	for s.limit.open.Load() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			s.cfg.Logger.Warn("shutdown deadline reached with requests in progress")
		case <-t.C:
			continue
		}
		break
	}
	s.FlushAccessLog()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if e := s.eng.Stop(stopCtx); e != nil && err == nil {
		err = e
	} else if e == nil {
		s.flushStopped()
	}
	return err
}

// onLoops runs fn on every event loop, on that loop's goroutine, and
// returns the sum of what it returned.
func (s *Server) onLoops(fn func(*loop) int) int {
	loops := s.loopList()
	res := make(chan int, len(loops))
	for _, l := range loops {
		l := l
		err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			l.stamp()
			res <- fn(l)
			return nil
		}))
		if err != nil {
			res <- 0
		}
	}
	sum := 0
	for range loops {
		sum += <-res
	}
	return sum
}

// loopList returns the loops that exist so far (a loop is created with its
// first connection).
func (s *Server) loopList() []*loop {
	var loops []*loop
	s.loops.Range(func(_, v any) bool {
		loops = append(loops, v.(*loop))
		return true
	})
	return loops
}

// gnetLogger routes gnet's own log lines into the error log.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Info(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "src", "gnet") }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "src", "gnet") }
