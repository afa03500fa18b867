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
		fmt.Fprintf(w, "===== %s (%s), static scenarios =====\n%s\n", s.Name(), status, s.Config(e))
		if f, ok := s.(scenarioFilter); ok && !f.Runs(Scenario{Backend: "php"}) {
			continue // a variant for other scenarios only
		}
		e.FastCGI = Socket(dir)
		fmt.Fprintf(w, "===== %s, FastCGI scenarios (php-hello, fcgi-go) =====\n%s\n", s.Name(), s.Config(e))
	}
	for _, name := range []string{"php", "go"} {
		if b, ok := h.backends[name]; ok {
			fmt.Fprintf(w, "===== backend %s (started per server, pinned to -server-cpus %q) =====\n%s\n",
				b.Name(), h.opt.ServerCPUs, b.Config(filepath.Join(h.tmp, "N-server")))
		}
	}
}
