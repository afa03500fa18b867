package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// openAccessLog opens the access log cfg.Log asks for ("off": none) and
// sets it on rc; the returned function closes it.
func openAccessLog(cfg *config.Config, rc *reactor.Config) (closeFn func(), err error) {
	if cfg.Log.Access == "off" || cfg.Log.Access == "" {
		return func() {}, nil
	}
	format, err := reactor.ParseAccessFormat(cfg.Log.AccessFormat)
	if err != nil {
		return nil, err
	}
	al, err := reactor.OpenAccessLog(cfg.Log.Access, format)
	if err != nil {
		return nil, err
	}
	rc.AccessLog = al
	return func() { al.Close() }, nil
}

// startObservability starts what watches a running server: SIGUSR1
// reopening the access log, and the admin listener (/metrics, /healthz,
// /readyz) when cfg.Admin is set. The returned function stops both.
func (st *state) startObservability(cfg *config.Config, srv *reactor.Server, log *slog.Logger) (stop func(), err error) {
	stopUSR1 := reopenOnUSR1(srv, log)
	if cfg.Admin == "" {
		return stopUSR1, nil
	}
	statics, ups := st.gen.targets()
	adm, err := startAdmin(cfg.Admin, srv, statics, ups, log)
	if err != nil {
		stopUSR1()
		return nil, err
	}
	st.admin = adm
	adm.SetPools(st.gen.wsgiPools())
	adm.respCache.Store(st.gen.respCache)
	log.Info("admin listener", "addr", adm.Addr().String())
	return func() {
		stopUSR1()
		adm.Close()
	}, nil
}

// targets lists the static caches and upstreams a generation serves with,
// for the metrics and /readyz.
func (g *generation) targets() ([]*handlers.Static, []*upstream.Upstream) {
	var statics []*handlers.Static
	for _, k := range sortedKeys(g.statics) {
		statics = append(statics, g.statics[k])
	}
	var ups []*upstream.Upstream
	for _, k := range sortedKeys(g.upstreams) {
		ups = append(ups, g.upstreams[k].u)
	}
	return statics, ups
}

// reopenOnUSR1 reopens the access log on every SIGUSR1 (logrotate's
// postrotate), until the returned stop function is called.
func reopenOnUSR1(srv *reactor.Server, log *slog.Logger) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sig:
				if err := srv.ReopenAccessLog(); err != nil {
					log.Error("reopening the access log", "err", err)
				} else {
					log.Info("access log reopened")
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
	}
}

// wsgiPools lists the wsgi worker pools a generation runs, for metrics.
func (g *generation) wsgiPools() []*wsgiPool {
	var out []*wsgiPool
	for _, k := range sortedKeys(g.upstreams) {
		if pl := g.upstreams[k].wsgi; pl != nil {
			out = append(out, pl)
		}
	}
	return out
}
