package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// adminDialTimeout bounds /readyz's connect to each backend.
const adminDialTimeout = time.Second

// admin is the optional admin listener: Prometheus /metrics, /healthz and
// /readyz on a plain net/http server, in its own goroutines, away from the
// event loops (a scrape costs the loops one short task each).
type admin struct {
	srv *reactor.Server

	mu        sync.Mutex // guards the targets, replaced on a reload
	statics   []*handlers.Static
	upstreams []*upstream.Upstream
	pools     []*wsgiPool
	// respCache is the response cache purged and reported (nil: none).
	respCache atomic.Pointer[handlers.RespCache]

	http *http.Server
	ln   net.Listener
	done chan struct{}
}

// startAdmin listens on addr and serves the admin endpoints for srv.
func startAdmin(addr string, srv *reactor.Server, statics []*handlers.Static, ups []*upstream.Upstream, log *slog.Logger) (*admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-admin: %w", err)
	}
	a := &admin{srv: srv, statics: statics, upstreams: ups, ln: ln, done: make(chan struct{})}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &collector{a: a}, &cacheCollector{a: a})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.HandleFunc("POST /cache/purge", a.purge)
	a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		defer close(a.done)
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener", "err", err)
		}
	}()
	return a, nil
}

// SetTargets replaces the caches and upstreams reported (after a reload).
func (a *admin) SetTargets(statics []*handlers.Static, ups []*upstream.Upstream) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statics, a.upstreams = statics, ups
}

// SetPools replaces the wsgi worker pools reported (at start, after a
// reload).
func (a *admin) SetPools(pools []*wsgiPool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pools = pools
}

func (a *admin) wsgiPools() []*wsgiPool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pools
}

func (a *admin) targets() ([]*handlers.Static, []*upstream.Upstream) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.statics, a.upstreams
}

// Addr is the bound admin address.
func (a *admin) Addr() net.Addr { return a.ln.Addr() }

// Close stops the admin listener.
func (a *admin) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = a.http.Shutdown(ctx)
	<-a.done
}

// readyz answers 200 when gale listens, is not draining, and every
// upstream has a backend that is not marked down and accepts a connection;
// otherwise 503 with the reasons, one per line.
func (a *admin) readyz(w http.ResponseWriter, r *http.Request) {
	var why []string
	select {
	case <-a.srv.Ready():
		if a.srv.Draining() {
			why = append(why, "draining")
		}
	default:
		why = append(why, "not listening yet")
	}
	_, ups := a.targets()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range ups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := upstreamReady(r.Context(), u); err != nil {
				mu.Lock()
				why = append(why, err.Error())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(why) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(why, "\n"))
		return
	}
	fmt.Fprintln(w, "ready")
}

// upstreamReady reports nil when one of u's backends is up and accepts a
// connection.
func upstreamReady(ctx context.Context, u *upstream.Upstream) error {
	var errs []string
	now := time.Now()
	for _, b := range u.Backends {
		if b.Disabled() {
			continue // a wsgi worker slot not serving: nothing should answer there
		}
		if !b.Up(now) {
			errs = append(errs, b.String()+": marked down")
			continue
		}
		d := net.Dialer{Timeout: adminDialTimeout}
		c, err := d.DialContext(ctx, b.Network, b.Address)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		c.Close()
		return nil
	}
	return fmt.Errorf("upstream %s: no healthy backend (%s)", u.Name, strings.Join(errs, "; "))
}

// collector turns a reactor.Stats snapshot, taken at scrape time, into
// constant metrics: the loops keep plain counters and never share them.
type collector struct{ a *admin }

var (
	descRequests    = prometheus.NewDesc("gale_http_requests_total", "Responses by handler and status class.", []string{"handler", "code"}, nil)
	descSent        = prometheus.NewDesc("gale_http_sent_bytes_total", "Response bytes (heads and bodies) handed to the socket layer.", nil, nil)
	descConns       = prometheus.NewDesc("gale_http_connections_active", "Open client connections.", nil, nil)
	descLoops       = prometheus.NewDesc("gale_event_loops_active", "Event loops that have served a connection.", nil, nil)
	descCacheHits   = prometheus.NewDesc("gale_cache_hits_total", "Static requests answered from the in-memory cache.", nil, nil)
	descCacheMisses = prometheus.NewDesc("gale_cache_misses_total", "Static requests looked up on disk.", nil, nil)
	descCacheBytes  = prometheus.NewDesc("gale_cache_bytes", "Memory held by the static cache, compressed variants included.", nil, nil)
	upLabels        = []string{"upstream", "backend"}
	descUpConns     = prometheus.NewDesc("gale_upstream_connections", "Connections open or dialing to the backend, all loops.", upLabels, nil)
	descUpLimit     = prometheus.NewDesc("gale_upstream_connections_limit", "The backend's connection budget.", upLabels, nil)
	descUpIdle      = prometheus.NewDesc("gale_upstream_connections_idle", "Idle pooled connections to the backend.", upLabels, nil)
	descUpUp        = prometheus.NewDesc("gale_upstream_backend_up", "1 unless the passive health check marked the backend down.", upLabels, nil)
	descUpQueued    = prometheus.NewDesc("gale_upstream_queued_requests", "Requests waiting for a connection to the upstream.", []string{"upstream"}, nil)
	descUpPipelined = prometheus.NewDesc("gale_upstream_pipelined_requests_total", "Requests sent behind another on a busy connection to a backend that serves one at a time.", []string{"upstream", "backend"}, nil)
	descUpErrors    = prometheus.NewDesc("gale_upstream_errors_total", "Backend failures by kind: connect, protocol, timeout (504), lost (502).", []string{"upstream", "backend", "kind"}, nil)
	descUpLatency   = prometheus.NewDesc("gale_upstream_response_seconds", "Time from sending a request to the backend to the end of its response.", upLabels, nil)
	descBuild       = prometheus.NewDesc("gale_build_info", "gale's version.", []string{"version"}, nil)
	descWSGIWorkers = prometheus.NewDesc("gale_wsgi_workers", "WSGI workers by state: busy (a request in flight), idle (serving, free), starting (importing the application).", []string{"upstream", "state"}, nil)
	descWSGIRecycle = prometheus.NewDesc("gale_wsgi_recycles_total", "WSGI workers replaced after max_requests or above max_rss.", []string{"upstream"}, nil)
	descWSGIKills   = prometheus.NewDesc("gale_wsgi_kills_total", "WSGI workers killed because a request passed the read timeout (504).", []string{"upstream"}, nil)
	descWSGIRestart = prometheus.NewDesc("gale_wsgi_restarts_total", "WSGI workers that exited by themselves and were replaced.", []string{"upstream"}, nil)
	descWSGIReload  = prometheus.NewDesc("gale_wsgi_reloads_total", "Replacements of all WSGI workers (SIGHUP, a changed *.py file with reload).", []string{"upstream"}, nil)
)

var codeClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descSent, descConns, descLoops, descCacheHits, descCacheMisses, descCacheBytes,
		descUpConns, descUpLimit, descUpIdle, descUpUp, descUpQueued, descUpPipelined, descUpErrors, descUpLatency, descBuild,
		descWSGIWorkers, descWSGIRecycle, descWSGIKills, descWSGIRestart, descWSGIReload} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.a.srv.Stats()
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, version)
	for h, name := range reactor.HandlerNames {
		for cl, n := range st.Requests[h] {
			if cl == 0 && n == 0 {
				continue
			}
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n), name, codeClasses[cl])
		}
	}
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(st.SentBytes))
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(st.Conns))
	ch <- prometheus.MustNewConstMetric(descLoops, prometheus.GaugeValue, float64(st.Loops))
	ch <- prometheus.MustNewConstMetric(descCacheHits, prometheus.CounterValue, float64(st.CacheHits))
	ch <- prometheus.MustNewConstMetric(descCacheMisses, prometheus.CounterValue, float64(st.CacheMisses))
	statics, ups := c.a.targets()
	var cacheBytes int64
	for _, s := range statics {
		cacheBytes += s.CacheBytes()
	}
	ch <- prometheus.MustNewConstMetric(descCacheBytes, prometheus.GaugeValue, float64(cacheBytes))
	c.collectWSGI(ch, st)
	now := time.Now()
	for _, u := range ups {
		queued := 0
		if us := st.Upstreams[u]; us != nil {
			queued = us.Queued
		}
		ch <- prometheus.MustNewConstMetric(descUpQueued, prometheus.GaugeValue, float64(queued), u.Name)
		for _, b := range u.Backends {
			name := b.String()
			bs := st.Backends[b]
			if bs == nil {
				bs = &reactor.BackendStats{}
			}
			up := 0.0
			if b.Up(now) {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(descUpUp, prometheus.GaugeValue, up, u.Name, name)
			ch <- prometheus.MustNewConstMetric(descUpConns, prometheus.GaugeValue, float64(b.Conns()), u.Name, name)
			ch <- prometheus.MustNewConstMetric(descUpLimit, prometheus.GaugeValue, float64(b.Limit()), u.Name, name)
			ch <- prometheus.MustNewConstMetric(descUpIdle, prometheus.GaugeValue, float64(bs.Idle), u.Name, name)
			ch <- prometheus.MustNewConstMetric(descUpPipelined, prometheus.CounterValue, float64(bs.Pipelined), u.Name, name)
			for k, kind := range reactor.UpstreamErrorKinds {
				ch <- prometheus.MustNewConstMetric(descUpErrors, prometheus.CounterValue, float64(bs.Errors[k]), u.Name, name, kind)
			}
			buckets := make(map[float64]uint64, len(reactor.UpstreamBuckets))
			for i, le := range reactor.UpstreamBuckets {
				buckets[le] = bs.Latency[i]
			}
			ch <- prometheus.MustNewConstHistogram(descUpLatency, bs.Requests, bs.SumSeconds, buckets, u.Name, name)
		}
	}
}

// collectWSGI reports the wsgi worker pools.
func (c *collector) collectWSGI(ch chan<- prometheus.Metric, st *reactor.Stats) {
	idleConns := func(b *upstream.Backend) int {
		if bs := st.Backends[b]; bs != nil {
			return bs.Idle
		}
		return 0
	}
	for _, pl := range c.a.wsgiPools() {
		serving, busy, starting := pl.workerCounts(idleConns)
		ch <- prometheus.MustNewConstMetric(descWSGIWorkers, prometheus.GaugeValue, float64(busy), pl.name, "busy")
		ch <- prometheus.MustNewConstMetric(descWSGIWorkers, prometheus.GaugeValue, float64(serving-busy), pl.name, "idle")
		ch <- prometheus.MustNewConstMetric(descWSGIWorkers, prometheus.GaugeValue, float64(starting), pl.name, "starting")
		ch <- prometheus.MustNewConstMetric(descWSGIRecycle, prometheus.CounterValue, float64(pl.recycles.Load()), pl.name)
		ch <- prometheus.MustNewConstMetric(descWSGIKills, prometheus.CounterValue, float64(pl.kills.Load()), pl.name)
		ch <- prometheus.MustNewConstMetric(descWSGIRestart, prometheus.CounterValue, float64(pl.restarts.Load()), pl.name)
		ch <- prometheus.MustNewConstMetric(descWSGIReload, prometheus.CounterValue, float64(pl.reloads.Load()), pl.name)
	}
}
