package main

import (
	"runtime"
	"testing"

	"github.com/gale-http/gale/internal/config"
)

func TestSpareP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "")
	runtime.GOMAXPROCS(1)
	spareP(2)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("2 loops on GOMAXPROCS 1: GOMAXPROCS %d, want 3", got)
	}
	runtime.GOMAXPROCS(8)
	spareP(2)
	if got := runtime.GOMAXPROCS(0); got != 8 {
		t.Errorf("2 loops on GOMAXPROCS 8: lowered to %d", got)
	}
	t.Setenv("GOMAXPROCS", "1")
	runtime.GOMAXPROCS(1)
	spareP(2)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS=1 in the environment: overridden to %d", got)
	}
}

// TestBusyGoroutines: a CGI location anywhere counts its supervisor.
func TestBusyGoroutines(t *testing.T) {
	cfg := &config.Config{VHosts: []*config.VHost{{Locations: []*config.Location{{Prefix: "/"}}}}}
	if n := busyGoroutines(cfg); n != 0 {
		t.Errorf("no CGI: %d", n)
	}
	cfg.VHosts = append(cfg.VHosts, &config.VHost{Locations: []*config.Location{{Prefix: "/"}, {Prefix: "/cgi-bin/", CGI: &config.CGI{}}}})
	if n := busyGoroutines(cfg); n != 1 {
		t.Errorf("a CGI location: %d, want 1", n)
	}
}
