package main

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/upstream"
)

// TestWSGIPoolInProcess drives a pool in the test process (so -race sees
// its goroutines): workers become ready on one slot each, a timed-out
// slot is disabled and its worker replaced on the other slot, a reload
// replaces every worker, and Stop leaves no socket behind.
func TestWSGIPoolInProcess(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "conform.py", conformApp)
	logs := &outBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	pl, err := newWSGIPool(log, "py", &config.WSGI{App: "conform", Dir: dir, Python: wsgiPython, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	backends, err := upstream.ParseAddrs(strings.Join(pl.backends(), ","))
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream.Upstream{Name: "py", Backends: backends, MaxConns: 1, Pipeline: 1}
	u.Init(1)
	pl.start(u)
	defer pl.Stop()
	if err := pl.waitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	slots := func() (s [2]int32) {
		for i, wp := range pl.positions {
			s[i] = wp.serving.Load()
		}
		return s
	}
	first := slots()
	for i, s := range first {
		if s != int32(2*i) && s != int32(2*i+1) || u.Backends[s].Disabled() {
			t.Fatalf("worker %d serves on slot %d (disabled %v)", i, s, u.Backends[s].Disabled())
		}
		if c, err := net.Dial("unix", pl.sockets[s]); err != nil {
			t.Fatalf("worker %d's socket: %v", i, err)
		} else {
			c.Close()
		}
	}

	u.OnTimeout(u.Backends[first[0]])
	if !u.Backends[first[0]].Disabled() {
		t.Errorf("a timed-out slot stays enabled")
	}
	waitSlots(t, pl, func(s [2]int32) bool { return s[0] >= 0 && s[0] != first[0] && s[1] == first[1] })
	if pl.kills.Load() != 1 {
		t.Errorf("kills = %d, want 1", pl.kills.Load())
	}

	before := slots()
	pl.reload("test")
	waitSlots(t, pl, func(s [2]int32) bool { return s[0] >= 0 && s[1] >= 0 && s[0] != before[0] && s[1] != before[1] })
	pl.Stop()
	if _, err := net.Dial("unix", pl.sockets[0]); err == nil {
		t.Errorf("a worker still listens after Stop")
	}
	if t.Failed() {
		t.Logf("pool log:\n%s", logs)
	}
}

// waitSlots waits until the pool's serving slots satisfy ok.
func waitSlots(t *testing.T, pl *wsgiPool, ok func([2]int32) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var s [2]int32
		for i, wp := range pl.positions {
			s[i] = wp.serving.Load()
		}
		if ok(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("serving slots %v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
