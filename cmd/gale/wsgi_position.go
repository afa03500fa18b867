package main

import (
	"sync/atomic"
	"time"
)

// wsgiPosition is one of a pool's N workers over time: the process
// serving (cur) on one of its two slots, the one it replaced (old) while
// that drains or dies on the other, and the events that call for a
// replacement. Its goroutine (run) owns cur and old.
type wsgiPosition struct {
	pl *wsgiPool
	i  int

	cur, old *wsgiProc
	// replace asks for a replacement (reload), stuck reports a slot whose
	// request timed out (harakiri); both buffered, never blocking.
	replace chan string
	stuck   chan int

	// For the metrics and waitReady: the position's state (a posState),
	// the slot serving (-1: none), and failed starts since the last good
	// one.
	state    atomic.Int32
	serving  atomic.Int32
	failures atomic.Int32
}

// posState is where a position is in its life. Its goroutine sets it;
// the metrics read it.
type posState int32

const (
	posStarting  posState = iota // no worker serves; one is starting
	posServing                   // a worker serves
	posReplacing                 // a worker serves; its replacement is starting
	posBackoff                   // no worker serves; the last start failed, the next waits
	posStopped                   // the pool stopped
)

func (wp *wsgiPosition) setState(s posState) { wp.state.Store(int32(s)) }

// State is the position's current state.
func (wp *wsgiPosition) State() posState { return posState(wp.state.Load()) }

// run keeps a worker serving at this position until the pool stops.
func (wp *wsgiPosition) run() {
	defer wp.pl.wg.Done()
	defer wp.shutdown()
	delay := minRestartDelay
	why := "start"
	for {
		switch wp.replaceWith(why) {
		case startStopped:
			return
		case startFailed:
			if wp.cur == nil {
				// Nothing serves here: try again after a backoff (or at
				// once on a reload, the fix may be in).
				wp.pl.log.Warn("wsgi worker did not start; retrying", "worker", wp.i, "in", delay)
				select {
				case <-time.After(delay):
				case why = <-wp.replace:
				case <-wp.pl.stop:
					return
				}
				delay = min(2*delay, maxRestartDelay)
				continue
			}
			// The previous worker keeps serving the previous code.
			wp.pl.log.Error("wsgi worker did not start; the previous one keeps serving", "worker", wp.i)
		case startOK:
			delay = minRestartDelay
		}
		var stopped bool
		if why, stopped = wp.wait(); stopped {
			return
		}
	}
}

// startResult is how an attempt to start a replacement ended.
type startResult int

const (
	startOK      startResult = iota // the new worker serves, the old one drains
	startFailed                     // it exited or timed out before ready
	startStopped                    // the pool is stopping
)

// replaceWith starts a worker on the free slot and, once it is ready,
// enables it and retires cur: the replacement comes first, so requests
// never lack a worker here for longer than they would anyway.
func (wp *wsgiPosition) replaceWith(why string) startResult {
	pl := wp.pl
	// The free slot: not cur's, and when none serves, preferably not
	// the one the last worker still drains or dies on.
	slot := 2 * wp.i
	if busy := wp.cur; busy != nil && busy.slot == slot || busy == nil && wp.old != nil && wp.old.slot == slot {
		slot++
	}
	if wp.old != nil && wp.old.slot == slot {
		// The free slot's last worker still drains: it is gone within
		// the read timeout (then killed).
		select {
		case <-wp.old.exited:
		case <-pl.stop:
			return startStopped
		}
		wp.old = nil
	}
	after := posBackoff // unless the new worker serves
	if wp.cur != nil {
		wp.setState(posReplacing)
		after = posServing
	} else {
		wp.setState(posStarting)
	}
	defer func() { wp.setState(after) }()
	p, err := pl.startProc(wp.i, slot)
	if err != nil {
		pl.log.Error("wsgi worker", "worker", wp.i, "err", err)
		wp.failures.Add(1)
		return startFailed
	}
	timeout := time.NewTimer(wsgiStartTimeout)
	defer timeout.Stop()
	select {
	case <-p.ready:
	case <-p.exited:
		select {
		case <-p.ready: // ready, then died at once: handled by wait
		default:
			pl.log.Error("wsgi worker exited before the application was ready", "worker", wp.i, "pid", p.pid(), "why", why, "err", p.err)
			wp.failures.Add(1)
			return startFailed
		}
	case <-timeout.C:
		pl.log.Error("wsgi worker not ready in time; killed", "worker", wp.i, "pid", p.pid(), "within", wsgiStartTimeout)
		p.kill()
		<-p.exited
		wp.failures.Add(1)
		return startFailed
	case <-pl.stop:
		p.terminate()
		after = posStopped
		return startStopped
	}
	wp.failures.Store(0)
	after = posServing
	pl.u.Backends[slot].Enable()
	wp.serving.Store(int32(slot))
	pl.poke()
	if old := wp.cur; old != nil {
		wp.retire(old, false)
	}
	wp.cur = p
	pl.log.Info("wsgi worker ready", "worker", wp.i, "pid", p.pid(), "why", why)
	return startOK
}

// retire takes p out of rotation and stops it: at once when it is stuck
// (kill), else once its connection closed (drained).
func (wp *wsgiPosition) retire(p *wsgiProc, kill bool) {
	pl := wp.pl
	b := pl.u.Backends[p.slot]
	b.Disable()
	if wp.serving.Load() == int32(p.slot) {
		wp.serving.Store(-1)
	}
	wp.old = p
	pl.poke() // its idle connections close now
	if kill {
		p.kill()
		return
	}
	go func() {
		// Busy connections close as their requests end (Disable); a
		// quiet spell of two checks rules out a request that picked the
		// slot just before it was disabled.
		deadline := time.Now().Add(pl.u.ReadTimeout + pl.u.ConnectTimeout)
		for quiet := 0; quiet < 2 && time.Now().Before(deadline); {
			if b.Conns() == 0 {
				quiet++
			} else {
				quiet = 0
			}
			select {
			case <-time.After(25 * time.Millisecond):
			case <-p.exited:
				return
			}
		}
		p.terminate()
	}()
}

// wait blocks until something calls for a replacement and says what;
// stopped when the pool stops.
func (wp *wsgiPosition) wait() (why string, stopped bool) {
	pl := wp.pl
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		cur := wp.cur
		select {
		case <-cur.exited:
			pl.restarts.Add(1)
			pl.log.Warn("wsgi worker exited; replacing it", "worker", wp.i, "pid", cur.pid(), "err", cur.err)
			wp.retire(cur, false)
			wp.cur = nil
			wp.setState(posStarting)
			return "exited", false
		case <-cur.recycle:
			pl.recycles.Add(1)
			return "max_requests", false
		case s := <-wp.stuck:
			if s != cur.slot {
				continue // a worker already replaced
			}
			pl.kills.Add(1)
			pl.log.Warn("wsgi worker stuck past the read timeout; killed", "worker", wp.i, "pid", cur.pid(), "timeout", pl.u.ReadTimeout)
			wp.retire(cur, true)
			wp.cur = nil
			wp.setState(posStarting)
			return "timeout", false
		case why := <-wp.replace:
			return why, false
		case <-tick.C:
			if limit := int64(pl.w.MaxRSS); limit > 0 {
				if rss := cur.rss(); rss > limit {
					pl.recycles.Add(1)
					pl.log.Info("wsgi worker above max_rss; replacing it", "worker", wp.i, "pid", cur.pid(), "rss", rss, "max_rss", limit)
					return "max_rss", false
				}
			}
		case <-pl.stop:
			return "", true
		}
	}
}

// shutdown stops this position's processes when the pool stops.
func (wp *wsgiPosition) shutdown() {
	for _, p := range []*wsgiProc{wp.cur, wp.old} {
		if p != nil {
			wp.pl.u.Backends[p.slot].Disable()
			p.terminate()
		}
	}
	wp.serving.Store(-1)
	wp.setState(posStopped)
}
