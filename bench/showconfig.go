package main

import (
	"fmt"
	"io"
	"path/filepath"
)

// showConfig prints, for every selected server, the configuration it gets
// for static scenarios and for FastCGI scenarios, then the backends'.
func showConfig(w io.Writer, servers []Server, h *Harness) {
	for _, s := range servers {
		status := "installed"
		if err := s.Check(); err != nil {
			status = "n/a: " + err.Error()
		}
		dir := filepath.Join(h.tmp, "N-"+s.Name())
		e := Env{Dir: dir, Root: h.root, Port: 8080, CPUs: h.opt.ServerCPUs, MaxConns: h.opt.IdleConns + 1024}
		if st, ok := s.(*stack); ok {
			// nginx's configuration for its backend, in its one scenario.
			switch st.backend {
			case backendGunicorn:
				e.Proxy = Socket(dir)
			case backendUWSGI:
				e.UWSGI = Socket(dir)
			case backendFcgiwrap:
				e.CGI, e.Root, e.FastCGI = true, filepath.Join(dir, "www"), Socket(dir)
			}
			fmt.Fprintf(w, "===== %s (%s), %s =====\n%s\n", s.Name(), status, st.scenario, s.Config(e))
			continue
		}
		fmt.Fprintf(w, "===== %s (%s), static scenarios =====\n%s\n", s.Name(), status, s.Config(e))
		if f, ok := s.(scenarioFilter); ok && !f.Runs(Scenario{Backend: "php"}) {
			continue // a variant for other scenarios only
		}
		// Each further scenario's configuration, for the servers that run it.
		for _, v := range []struct {
			title string
			sc    Scenario
			set   func(*Env)
		}{
			{"FastCGI scenarios (php-hello, fcgi-go)", Scenario{Backend: backendPHP}, func(e *Env) { e.FastCGI = Socket(dir) }},
			{"proxy-go", mustScenario("proxy-go"), func(e *Env) { e.Proxy, e.ProxyKeepAlive = Socket(dir), proxyKeepAlive }},
			{"gunicorn-flask", mustScenario("gunicorn-flask"), func(e *Env) { e.Proxy = Socket(dir) }},
			{"uwsgi-flask", mustScenario("uwsgi-flask"), func(e *Env) { e.UWSGI = Socket(dir) }},
			{"cgi-hello", mustScenario("cgi-hello"), func(e *Env) { e.CGI, e.Root = true, filepath.Join(dir, "www") }},
		} {
			if v.sc.Name != "" && runsHere(v.sc, s) != "" {
				continue
			}
			ev := e
			v.set(&ev)
			fmt.Fprintf(w, "===== %s, %s =====\n%s\n", s.Name(), v.title, s.Config(ev))
		}
	}
	for _, name := range []string{backendPHP, backendGoFCGI, backendGoHTTP, backendGunicorn, backendUWSGI, backendFcgiwrap} {
		if b, ok := h.backends[name]; ok {
			fmt.Fprintf(w, "===== backend %s (started per server, pinned to -server-cpus %q) =====\n%s\n",
				b.Name(), h.opt.ServerCPUs, b.Config(filepath.Join(h.tmp, "N-server")))
		}
	}
}

// mustScenario is a scenario of allScenarios by name.
func mustScenario(name string) Scenario {
	sc, ok := scenarioByName(name)
	if !ok {
		panic("no scenario " + name)
	}
	return sc
}
