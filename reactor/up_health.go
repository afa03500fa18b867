package reactor

import "time"

// starveAfter is how long a new connection's first request may go without
// a byte back before gale concludes the backend has no free worker.
const starveAfter = 200 * time.Millisecond

func (uc *upConn) setStarving(v bool) {
	if uc.starving != v {
		uc.starving = v
		if v {
			uc.b.Starving().Add(1)
		} else {
			uc.b.Starving().Add(-1)
		}
	}
}

// checkStarvation runs on every tick: it spots new connections the backend
// does not serve, and closes idle connections to a backend that has such
// connections, on any loop. A backend with sync workers (php-fpm, gunicorn)
// serves one connection per worker: idle kept-alive connections pin them.
func (l *loop) checkStarvation() {
	for _, p := range l.pools {
		for _, uc := range p.conns {
			if !uc.answered && uc.state == ucOpen && !uc.sentAt.IsZero() && l.now.Sub(uc.sentAt) > starveAfter && !uc.starving {
				uc.setStarving(true)
			}
		}
		for i := 0; i < len(p.idle); {
			uc := p.idle[i]
			if uc.b.Starving().Load() > 0 {
				// Logged only when it closes something: a slow first
				// request alone also looks like this.
				l.s.cfg.Logger.Warn("backend accepted a connection but serves nothing on it: closing an idle connection that may pin its worker (set the connection budget to the backend's worker count, e.g. pm.max_children)",
					"backend", uc.name)
				l.upClose(uc) // removes it from p.idle
				continue
			}
			i++
		}
	}
}
