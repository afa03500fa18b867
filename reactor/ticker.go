package reactor

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// The ticker drives each loop's clock-driven work (loop.tick: timers,
// parked connections' idle timeouts, the Date line, the access log), on
// the loop's own goroutine, every Config.Tick, but only for loops that
// have something due. Waking a loop costs far more than the tick's work:
// the loop leaves epoll_wait, and Go's sysmon, which retakes the P of a
// thread blocked in a syscall, polls every 20 µs to 10 ms for a while after
// each wake. Ticking two loops every 50 ms cost 3.6–4.5 % of a core with
// 18,000 idle keep-alive connections and nothing due for a minute. So a
// loop that had no event during a whole tick tells the ticker when it next
// needs one (settle), and the ticker sleeps until the earliest such time,
// as nginx sleeps in epoll_wait until its earliest timer. The first event
// on a sleeping loop (stamp) brings its ticks back and wakes the ticker.
// gnet's own ticker (WithTicker) cannot be woken early, so gale has its
// own.

// ticker is the server's tick goroutine.
type ticker struct {
	epoch   time.Time     // the origin of loop.quietUntil (monotonic)
	wake    chan struct{} // a loop woke up or was created: recompute the sleep
	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool
}

// farAway is how long the ticker sleeps when no loop has anything due.
const farAway = time.Hour

func (t *ticker) init() {
	t.epoch = time.Now()
	t.wake = make(chan struct{}, 1)
	t.stop = make(chan struct{})
	t.done = make(chan struct{})
}

// since is now on the ticker's clock.
func (t *ticker) since() int64 { return int64(time.Since(t.epoch)) }

// runTicker ticks the loops until stopTicker.
func (s *Server) runTicker() {
	t := &s.ticker
	defer close(t.done)
	timer := time.NewTimer(s.cfg.Tick)
	defer timer.Stop()
	for {
		tick := false
		select {
		case <-t.stop:
			return
		case <-timer.C:
			tick = true
		case <-t.wake:
		}
		timer.Reset(s.tickLoops(tick))
	}
}

// tickLoops queues a tick on every loop that wants one now (only when tick
// is set: a wake-up just recomputes) and returns how long to sleep.
func (s *Server) tickLoops(tick bool) time.Duration {
	now := s.ticker.since()
	next := int64(math.MaxInt64)
	s.loops.Range(func(_, v any) bool {
		l := v.(*loop)
		u := l.quietUntil.Load()
		if u == 0 || now >= u {
			if tick {
				_ = l.el.Execute(context.Background(), l.tickTask)
			}
			u = now + int64(s.cfg.Tick)
		}
		next = min(next, u)
		return true
	})
	if next == math.MaxInt64 {
		return farAway
	}
	return time.Duration(next - now)
}

// wakeTicker has the ticker recompute its sleep.
func (s *Server) wakeTicker() {
	select {
	case s.ticker.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// startTicker starts the ticker (OnBoot).
func (s *Server) startTicker() {
	s.ticker.started.Store(true)
	go s.runTicker()
}

// stopTicker stops the ticker once the engine has stopped.
func (s *Server) stopTicker() {
	close(s.ticker.stop)
	if s.ticker.started.Load() {
		<-s.ticker.done
	}
}

// unquiet has a sleeping loop ticked again from the next tick on.
func (l *loop) unquiet() {
	if l.quiet {
		l.quiet = false
		l.quietUntil.Store(0)
		l.s.wakeTicker()
	}
}

// settle runs at the end of each tick. A loop that had no event since the
// previous tick sleeps until its earliest deadline: the wheel's next timer
// or the oldest parked connection's idle timeout.
func (l *loop) settle() {
	if l.active {
		l.active = false
		return
	}
	if len(l.alBuf) > 0 || l.hasPooledConns() {
		return // the access log and the starvation check want every tick
	}
	next := l.wheel.nextDue()
	if due, ok := l.parkedNextDue(); ok {
		next = min(next, due)
	}
	if next <= l.wheel.cur+1 {
		return // due at the next tick anyway
	}
	until := int64(math.MaxInt64)
	if next != math.MaxInt64 {
		until = int64(l.wheel.timeOf(next).Sub(l.s.ticker.epoch))
	}
	l.quiet = true
	l.quietUntil.Store(until)
}

// hasPooledConns reports whether any upstream pool of the loop holds a
// connection.
func (l *loop) hasPooledConns() bool {
	for _, p := range l.pools {
		if len(p.conns) > 0 {
			return true
		}
	}
	return false
}
