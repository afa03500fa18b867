package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/reactor"
)

// state is a running gale: its command line, the configuration generation
// serving, and what a reload needs.
type state struct {
	o   *options
	set map[string]bool

	demoDir, demoSockDir string
	wsgi                 *wsgiCommand // `gale wsgi`, nil otherwise

	log   *slog.Logger
	level slog.LevelVar
	srv   *reactor.Server
	gen   *generation
	admin *admin // nil without an admin listener

	// What reloads replaced closes after a grace period, or at exit
	// (exiting closed), whichever comes first; wg waits for it.
	wg      sync.WaitGroup
	exiting chan struct{}
}

// newLogger makes the error log cfg asks for, its level adjustable by
// reloads.
func (st *state) newLogger(cfg *config.Config) *slog.Logger {
	st.setLevel(cfg)
	opts := &slog.HandlerOptions{Level: &st.level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func (st *state) setLevel(cfg *config.Config) {
	var l slog.Level
	_ = l.UnmarshalText([]byte(cfg.Log.Level)) // validated
	st.level.Set(l)
}

// reactorConfig maps cfg onto the reactor's settings.
func reactorConfig(cfg *config.Config, gen *generation, log *slog.Logger) reactor.Config {
	lim := httpcodec.Limits{
		MaxRequestLine:  int(cfg.Limits.MaxRequestLine),
		MaxHeaderBytes:  int(cfg.Limits.MaxHeaderBytes),
		MaxHeaders:      cfg.Limits.MaxHeaders,
		MaxBody:         cfg.MaxBodyCeiling(),
		MaxChunkExt:     int(cfg.Limits.MaxChunkExt),
		MaxTrailerBytes: int(cfg.Limits.MaxTrailerBytes),
	}
	rc := reactor.Config{
		Addr:               cfg.Listen,
		Loops:              loopsFor(cfg),
		Handler:            gen.handler,
		Limits:             &lim,
		IdleTimeout:        cfg.Timeouts.Idle.D(),
		HeaderTimeout:      cfg.Timeouts.Header.D(),
		BodyTimeout:        cfg.Timeouts.Body.D(),
		SendTimeout:        cfg.Timeouts.Send.D(),
		MaxRequestsPerConn: cfg.Limits.MaxRequestsPerConn,
		MaxConns:           cfg.Limits.MaxConns,
		ProxyProtocol:      cfg.ProxyProtocol,
		Logger:             log,
	}
	if r := cfg.RealIP; r != nil {
		rc.TrustedProxies, rc.RealIPHeader = r.TrustedProxies(), r.Header
	}
	if lc := cfg.LimitConn; lc != nil {
		rc.LimitConn = reactor.NewConnLimit(lc.Max, lc.Slots, lc.Status)
	}
	return rc
}

// serve runs gale with cfg until SIGTERM or SIGINT; SIGHUP reloads.
func (st *state) serve(cfg *config.Config) error {
	// Signals are caught from the start: a SIGHUP sent as soon as the port
	// answers must not kill gale (its default action).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)
	log := st.newLogger(cfg)
	slog.SetDefault(log)
	st.log = log
	checkNofile(log, cfg)
	st.exiting = make(chan struct{})
	gen, err := build(log, cfg, loopsFor(cfg), nil)
	if err != nil {
		return err
	}
	st.gen = gen
	defer func() {
		st.closeRetiring()
		st.gen.close()
	}()
	rc := reactorConfig(cfg, gen, log)
	rc.ReusePort = st.o.reusePort
	closeAccess, err := openAccessLog(cfg, &rc)
	if err != nil {
		return err
	}
	defer closeAccess()
	spareP(rc.Loops + busyGoroutines(cfg))
	srv, err := reactor.New(rc)
	if err != nil {
		return err
	}
	st.srv = srv
	gen.setServer(srv)
	stopObs, err := st.startObservability(cfg, srv, log)
	if err != nil {
		return err
	}
	defer stopObs()
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	select {
	case err := <-done:
		if errors.Is(err, syscall.EADDRINUSE) && !st.o.reusePort {
			return fmt.Errorf("listen %s: %w (another process listens on it; -reuseport joins a gale that does, for a graceful restart)", cfg.Listen, err)
		}
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	case <-srv.Ready():
	}
	fmt.Printf("gale: serving %s on %s (%d loops)\n", st.what(cfg), serveURL(srv.Addr(), cfg.Listen), rc.Loops)

	for {
		select {
		case err := <-done:
			// Nothing asked it to stop: exit non-zero, so that a
			// supervisor (Restart=on-failure) starts gale again.
			if err == nil {
				err = reactor.ErrStopped
			}
			log.Error("the server stopped without a signal; exiting with status 1", "err", err)
			return err
		case s := <-sig:
			if s == syscall.SIGHUP {
				st.reload()
				continue
			}
			log.Info("draining", "signal", s.String(), "deadline", st.gen.cfg.ShutdownTimeout.D())
		}
		break
	}
	ctx, cancel := context.WithTimeout(context.Background(), st.gen.cfg.ShutdownTimeout.D())
	defer cancel()
	serr := srv.Shutdown(ctx)
	if err := <-done; err != nil {
		return err
	}
	if serr != nil {
		log.Warn("shutdown cut requests off", "err", serr)
	}
	return nil
}

// checkNofile raises the open file limit (raiseNofile) and warns when
// -max-conns cannot be reached under it: past the limit gale stops
// accepting for a moment at a time, and clients wait in the kernel's
// queue instead of getting the 503 that -max-conns promises.
func checkNofile(log *slog.Logger, cfg *config.Config) {
	n, err := raiseNofile()
	if err != nil {
		log.Warn("could not raise the open file limit to the hard limit", "nofile", n, "err", err)
	}
	log.Debug("open file limit", "nofile", n)
	if mc := cfg.Limits.MaxConns; mc > 0 && uint64(mc) >= n {
		log.Warn("max_conns is not below the open file limit: gale runs out of file descriptors first", "max_conns", mc, "nofile", n)
	}
}

// what says what gale serves, for the startup line.
func (st *state) what(cfg *config.Config) string {
	switch {
	case st.o.config != "":
		return st.o.config
	case st.wsgi != nil:
		return "the WSGI application " + st.wsgi.w.App
	case st.demoDir != "" && len(cfg.VHosts) == 1 && cfg.VHosts[0].Root == st.demoDir:
		return "the built-in demo site"
	case len(cfg.VHosts) > 0:
		return cfg.VHosts[cfg.DefaultVHost()].Root
	}
	return "nothing"
}

// later runs fn after d, or at exit if that comes first.
func (st *state) later(d time.Duration, fn func()) {
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		select {
		case <-time.After(d):
		case <-st.exiting:
		}
		fn()
	}()
}

// closeRetiring runs every pending retirement now (at exit).
func (st *state) closeRetiring() {
	close(st.exiting)
	st.wg.Wait()
}
