package main

import (
	"errors"
	"reflect"
	"time"

	"github.com/gale-http/gale/internal/config"
)

// reload is SIGHUP: read the configuration again; if it is good, build the
// new handler tree (reusing unchanged upstreams, processes and caches) and
// swap it in: requests parsed from now on use it, on open connections as
// on new ones, and nothing is closed. A bad configuration changes nothing.
func (st *state) reload() {
	log := st.log
	if st.o.config == "" {
		if st.gen.reloadWSGI("SIGHUP") {
			return
		}
		log.Warn("SIGHUP: gale was started without -config; nothing to reload")
		return
	}
	cfg, err := st.loadConfig()
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				log.Error("reload: configuration error", "at", e.Error())
			}
			log.Error("reload rejected: the previous configuration keeps serving", "file", st.o.config, "errors", len(errs))
			return
		}
		log.Error("reload rejected: the previous configuration keeps serving", "file", st.o.config, "err", err)
		return
	}
	old := st.gen
	gen, err := build(log, cfg, loopsFor(old.cfg), old)
	if err != nil {
		log.Error("reload rejected: the previous configuration keeps serving", "file", st.o.config, "err", err)
		return
	}
	keepRestartOnly(st, old.cfg, cfg)
	st.setLevel(cfg)
	gen.setServer(st.srv)
	st.srv.SetHandler(gen.handler)
	st.gen = gen
	spareP(loopsFor(old.cfg) + busyGoroutines(cfg)) // CGI added: its supervisor's P
	for _, name := range sortedKeys(gen.upstreams) {
		if lu := gen.upstreams[name]; lu.wsgi != nil && old.upstreams[name] == lu {
			// Same settings, maybe new code: a rolling replacement.
			lu.wsgi.reload("SIGHUP")
		}
	}
	if st.admin != nil {
		st.admin.SetTargets(gen.targets())
		st.admin.SetPools(gen.wsgiPools())
		st.admin.respCache.Store(gen.respCache)
	}
	st.retire(old, gen)
	log.Info("configuration reloaded", "file", st.o.config, "vhosts", len(cfg.VHosts), "upstreams", len(cfg.Upstreams))
}

// retire winds down what old used and gen does not: upstream pools close
// their idle connections now and busy ones after their requests; spawned
// processes stop once their upstream has no connection left (or after its
// read timeout); static handlers close after a grace period, since a
// FastCGI response may still ask one for an X-Accel-Redirect.
func (st *state) retire(old, gen *generation) {
	ups, statics := old.notIn(gen)
	grace := 5 * time.Second
	for _, lu := range ups {
		st.srv.RetireUpstream(lu.u)
		grace = max(grace, lu.u.ReadTimeout+5*time.Second)
		var stop func()
		switch {
		case lu.spawn != nil && !gen.usesSpawn(lu.spawn):
			stop = lu.spawn.Stop
		case lu.wsgi != nil:
			stop = lu.wsgi.Stop
		}
		if stop != nil {
			u := lu.u
			st.wg.Add(1)
			go func() {
				defer st.wg.Done()
				deadline := time.Now().Add(u.ReadTimeout + u.ConnectTimeout)
				for time.Now().Before(deadline) {
					busy := 0
					for _, b := range u.Backends {
						busy += b.Conns()
					}
					if busy == 0 {
						break
					}
					select {
					case <-time.After(50 * time.Millisecond):
					case <-st.exiting:
						deadline = time.Time{}
					}
				}
				st.log.Info("stopping backends of a retired upstream", "upstream", u.Name)
				stop()
			}()
		}
	}
	for _, s := range statics {
		st.later(grace, func() { s.Close() })
	}
}

// keepRestartOnly logs the changes a reload cannot apply (the listener,
// the loops, the settings the reactor and the logs hold) and keeps their
// old values in cfg.
func keepRestartOnly(st *state, old, cfg *config.Config) {
	for _, c := range []struct {
		what     string
		old, new any
	}{
		{"listen", old.Listen, cfg.Listen},
		{"loops", old.Loops, cfg.Loops},
		{"timeouts", old.Timeouts, cfg.Timeouts},
		{"limits", old.Limits, cfg.Limits},
		{"log.format", old.Log.Format, cfg.Log.Format},
		{"log.access", old.Log.Access, cfg.Log.Access},
		{"log.access_format", old.Log.AccessFormat, cfg.Log.AccessFormat},
		{"admin", old.Admin, cfg.Admin},
	} {
		if !reflect.DeepEqual(c.old, c.new) {
			st.log.Warn("reload: this setting changed but takes effect only after a restart; the old value stays in force",
				"setting", c.what, "old", c.old, "new", c.new)
		}
	}
	// Keep the values in force, so the next reload compares against them
	// (and warns again while the file still differs).
	cfg.Listen, cfg.Loops, cfg.Timeouts, cfg.Limits = old.Listen, old.Loops, old.Timeouts, old.Limits
	cfg.Log.Format, cfg.Log.Access, cfg.Log.AccessFormat, cfg.Admin = old.Log.Format, old.Log.Access, old.Log.AccessFormat, old.Admin
}
