package main

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// wsgiPool runs the workers of one wsgi upstream. Each of its N positions
// owns two slots, each a unix socket and a backend of the upstream with a
// connection limit of 1: the worker serving is on one slot, enabled; its
// replacement starts on the other, disabled until it is ready, and only
// then is the old one disabled, drained and stopped. gale's queue holds
// the requests no worker is free for.
type wsgiPool struct {
	log     *slog.Logger
	name    string
	w       *config.WSGI
	dir     string   // private directory of the sockets and the script
	script  string   // the worker program, written into dir
	sockets []string // by slot: position i has slots 2i and 2i+1
	u       *upstream.Upstream
	slotOf  map[*upstream.Backend]int
	srv     atomic.Pointer[reactor.Server]

	positions []*wsgiPosition
	stop      chan struct{}
	wg        sync.WaitGroup
	stopOnce  sync.Once
	watcher   *pyWatcher

	// Counters for /metrics.
	recycles, kills, restarts, reloads atomic.Int64
}

// newWSGIPool prepares the pool for w (validated): its private directory,
// the worker program and the socket paths. Nothing runs until start.
func newWSGIPool(log *slog.Logger, name string, w *config.WSGI) (*wsgiPool, error) {
	n := w.Workers
	if n <= 0 {
		n = runtime.NumCPU()
	}
	dir, err := os.MkdirTemp("", "gale-wsgi-") // 0700: only gale reaches the sockets
	if err != nil {
		return nil, err
	}
	pl := &wsgiPool{log: log.With("upstream", name), name: name, w: w, dir: dir,
		script: filepath.Join(dir, "gale_wsgi_worker.py"), stop: make(chan struct{})}
	if err := os.WriteFile(pl.script, wsgiWorkerPy, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for s := 0; s < 2*n; s++ {
		pl.sockets = append(pl.sockets, filepath.Join(dir, fmt.Sprintf("w%d.sock", s)))
	}
	for i := 0; i < n; i++ {
		wp := &wsgiPosition{pl: pl, i: i, replace: make(chan string, 1), stuck: make(chan int, 1)}
		wp.serving.Store(-1)
		pl.positions = append(pl.positions, wp)
	}
	return pl, nil
}

// backends are the slots' sockets as upstream addresses.
func (pl *wsgiPool) backends() []string {
	out := make([]string, len(pl.sockets))
	for i, s := range pl.sockets {
		out[i] = "unix:" + s
	}
	return out
}

// start ties the pool to u (whose backends are the slots, in order) and
// starts the workers; the slots stay disabled until theirs are ready.
func (pl *wsgiPool) start(u *upstream.Upstream) {
	pl.u = u
	pl.slotOf = make(map[*upstream.Backend]int, len(u.Backends))
	for s, b := range u.Backends {
		pl.slotOf[b] = s
		b.Disable()
	}
	u.Managed = true
	u.OnTimeout = pl.timedOut
	for _, wp := range pl.positions {
		pl.wg.Add(1)
		go wp.run()
	}
	if pl.w.Reload {
		pl.watcher = watchPython(pl.log, pl.w.Dir, func(file string) { pl.reload("changed: " + file) })
	}
}

// setServer gives the pool the server whose queues wait for its workers.
func (pl *wsgiPool) setServer(srv *reactor.Server) { pl.srv.Store(srv) }

// timedOut is the upstream's OnTimeout (on an event loop): the worker on
// b is stuck in a request that got 504; it takes no other and is killed
// and replaced.
func (pl *wsgiPool) timedOut(b *upstream.Backend) {
	s, ok := pl.slotOf[b]
	if !ok {
		return
	}
	b.Disable()
	select {
	case pl.positions[s/2].stuck <- s:
	default:
	}
}

// reload replaces every worker (SIGHUP, a changed *.py file): new ones
// import the application afresh; an import error keeps the old ones.
func (pl *wsgiPool) reload(why string) {
	pl.reloads.Add(1)
	pl.log.Info("replacing the wsgi workers", "why", why)
	for _, wp := range pl.positions {
		select {
		case wp.replace <- why:
		default: // one is pending already
		}
	}
}

// waitReady waits until every position has a worker serving, one has
// failed to start and none serves, or within passes. It reports an error
// when no worker serves.
func (pl *wsgiPool) waitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		serving, failed := 0, 0
		for _, wp := range pl.positions {
			if wp.serving.Load() >= 0 {
				serving++
			}
			if wp.failures.Load() > 0 {
				failed++
			}
		}
		switch {
		case serving == len(pl.positions):
			return nil
		case serving == 0 && failed == len(pl.positions):
			return fmt.Errorf("the application %s did not start (its traceback is in the log above)", pl.w.App)
		case time.Now().After(deadline):
			if serving > 0 {
				return nil
			}
			return fmt.Errorf("no worker of %s was ready within %v", pl.w.App, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the workers (SIGTERM, then SIGKILL) and removes the sockets.
func (pl *wsgiPool) Stop() {
	pl.stopOnce.Do(func() {
		if pl.watcher != nil {
			pl.watcher.Stop()
		}
		close(pl.stop)
		pl.wg.Wait()
		os.RemoveAll(pl.dir)
	})
}

// maxRequests is a new worker's request budget: max_requests plus up to
// 10% jitter, so that workers started together are not all replaced at
// once; 0 means no limit.
func (pl *wsgiPool) maxRequests() int {
	n := pl.w.MaxRequests
	if n <= 0 {
		return 0
	}
	return n + rand.IntN(n/10+1)
}

// poke tells the server's queues that a slot was enabled.
func (pl *wsgiPool) poke() {
	if srv := pl.srv.Load(); srv != nil {
		srv.Poke(pl.u)
	}
}

// workerCounts counts the workers serving, and of those the busy ones (a
// request in flight), for /metrics; idle connections are those pooled.
func (pl *wsgiPool) workerCounts(idleConns func(*upstream.Backend) int) (serving, busy, starting int) {
	for _, wp := range pl.positions {
		s := int(wp.serving.Load())
		if st := wp.State(); st == posStarting || st == posReplacing {
			starting++
		}
		if s < 0 {
			continue
		}
		serving++
		b := pl.u.Backends[s]
		if b.Conns()-idleConns(b) > 0 {
			busy++
		}
	}
	return serving, busy, starting
}
