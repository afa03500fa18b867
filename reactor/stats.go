package reactor

import (
	"sync"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/upstream"
)

// Handler labels for request counters: which part of gale produced the
// response.
const (
	// HandlerStatic is any synchronous handler (static files, the router's
	// 404, OPTIONS, 405).
	HandlerStatic = iota
	// HandlerFastCGI is a response from a FastCGI application.
	HandlerFastCGI
	// HandlerInternal is an X-Accel-Redirect or local redirect served
	// from the static handler on behalf of an application.
	HandlerInternal
	// HandlerNone is an error answered before any handler ran: a bad
	// request (400, 413, ...) or a request timeout (408).
	HandlerNone
	numHandlers
)

// HandlerNames are the metric label values of the Handler* constants.
var HandlerNames = [numHandlers]string{"static", "fastcgi", "internal", "none"}

// UpstreamBuckets are the upper bounds, in seconds, of the upstream latency
// histogram (Prometheus' default buckets).
var UpstreamBuckets = [...]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// loopStats are one loop's counters. Plain fields: only the loop's own
// goroutine writes them, and a scrape reads them on that goroutine too (a
// task queued with Execute), so the request path pays no atomic or lock.
type loopStats struct {
	requests    [numHandlers][6]uint64 // [handler][status/100], 0 = unknown
	sentBytes   uint64                 // response bytes written (heads and bodies)
	cacheHits   uint64
	cacheMisses uint64
	ticks       uint64 // loop.tick runs: few while the loop is idle (ticker.go)
	backends    map[*upstream.Backend]*backendStats
}

// backendStats are one loop's counters for one backend.
type backendStats struct {
	addr      string // the backend's address, formatted once for the access log
	requests  uint64
	pipelined uint64 // sent behind another request on a busy connection
	errors    [numUpErrors]uint64
	latency   [len(UpstreamBuckets) + 1]uint64 // non-cumulative; last is +Inf
	sumSec    float64
}

// Upstream error kinds.
const (
	upErrConnect  = iota // dial failed
	upErrProtocol        // bad FastCGI stream
	upErrTimeout         // no answer within the read timeout (504)
	upErrLost            // connection lost with the request in flight (502)
	numUpErrors
)

// UpstreamErrorKinds are the label values of the upstream error kinds.
var UpstreamErrorKinds = [numUpErrors]string{"connect", "protocol", "timeout", "lost"}

func (st *loopStats) backend(b *upstream.Backend) *backendStats {
	bs := st.backends[b]
	if bs == nil {
		if st.backends == nil {
			st.backends = make(map[*upstream.Backend]*backendStats)
		}
		bs = &backendStats{}
		st.backends[b] = bs
	}
	return bs
}

// count records one finished response.
func (st *loopStats) count(handler, status int) {
	c := status / 100
	if c < 0 || c > 5 {
		c = 0
	}
	st.requests[handler][c]++
}

// observe records one upstream exchange of d.
func (bs *backendStats) observe(d time.Duration) {
	bs.requests++
	sec := d.Seconds()
	bs.sumSec += sec
	i := 0
	for i < len(UpstreamBuckets) && sec > UpstreamBuckets[i] {
		i++
	}
	bs.latency[i]++
}

// countCache records a static cache outcome from the handler's response.
func (st *loopStats) countCache(c handlers.CacheResult) {
	switch c {
	case handlers.CacheHit:
		st.cacheHits++
	case handlers.CacheMiss:
		st.cacheMisses++
	}
}

// Stats is a snapshot of the server's counters, summed over its loops.
type Stats struct {
	// Requests counts responses by handler (Handler* constants) and status
	// class (index status/100; 0 for none).
	Requests [numHandlers][6]uint64
	// SentBytes counts response bytes handed to the socket layer.
	SentBytes uint64
	// CacheHits and CacheMisses count static requests answered from the
	// cache and from disk.
	CacheHits, CacheMisses uint64
	// Conns is the number of open client connections.
	Conns int
	// Loops is the number of loops that answered (those that have served a
	// connection).
	Loops int
	// Upstreams holds per-upstream and per-backend figures for every
	// upstream a loop has used.
	Upstreams map[*upstream.Upstream]*UpstreamStats
	// Backends holds per-backend figures.
	Backends map[*upstream.Backend]*BackendStats
}

// UpstreamStats are the figures of one upstream.
type UpstreamStats struct {
	// Queued is the number of requests waiting for a connection.
	Queued int
}

// BackendStats are the figures of one backend.
type BackendStats struct {
	// Idle is the number of idle pooled connections.
	Idle int
	// Requests counts completed exchanges; Latency is their histogram
	// over UpstreamBuckets (cumulative, Prometheus style) and SumSeconds
	// the sum of their durations.
	Requests   uint64
	Latency    [len(UpstreamBuckets)]uint64
	SumSeconds float64
	// Errors counts failures by kind (UpstreamErrorKinds).
	Errors [numUpErrors]uint64
	// Pipelined counts requests sent behind another on a connection to a
	// backend that serves one at a time (Upstream.Pipeline).
	Pipelined uint64
}

// Stats gathers a snapshot by running a task on every loop, which copies
// that loop's counters: the loops keep plain counters, never shared.
func (s *Server) Stats() *Stats {
	out := &Stats{Upstreams: map[*upstream.Upstream]*UpstreamStats{}, Backends: map[*upstream.Backend]*BackendStats{}}
	select {
	case <-s.booted:
	default:
		return out
	}
	var mu sync.Mutex
	s.onLoops(func(l *loop) int {
		mu.Lock()
		defer mu.Unlock()
		l.addStats(out)
		return 0
	})
	// Open client connections are counted once, for the connection cap
	// (limits.go), parked ones included.
	out.Conns = int(s.limit.open.Load())
	return out
}

// addStats adds this loop's counters to out; it runs on the loop.
func (l *loop) addStats(out *Stats) {
	st := &l.stats
	out.Loops++
	for h := range st.requests {
		for c := range st.requests[h] {
			out.Requests[h][c] += st.requests[h][c]
		}
	}
	out.SentBytes += st.sentBytes
	out.CacheHits += st.cacheHits
	out.CacheMisses += st.cacheMisses
	bsOf := func(b *upstream.Backend) *BackendStats {
		o := out.Backends[b]
		if o == nil {
			o = &BackendStats{}
			out.Backends[b] = o
		}
		return o
	}
	for b, bs := range st.backends {
		o := bsOf(b)
		o.Requests += bs.requests
		o.Pipelined += bs.pipelined
		o.SumSeconds += bs.sumSec
		var cum uint64
		for i := range o.Latency {
			cum += bs.latency[i]
			o.Latency[i] += cum
		}
		for i := range o.Errors {
			o.Errors[i] += bs.errors[i]
		}
	}
	for u, p := range l.pools {
		us := out.Upstreams[u]
		if us == nil {
			us = &UpstreamStats{}
			out.Upstreams[u] = us
		}
		for _, r := range p.queue[p.qhead:] {
			if r.state == exWaiting {
				us.Queued++
			}
		}
		for _, uc := range p.idle {
			bsOf(uc.b).Idle++
		}
	}
}

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }
