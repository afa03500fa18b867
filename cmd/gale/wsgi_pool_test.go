package main

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/fastcgi"
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
		if st := pl.positions[i].State(); st != posServing {
			t.Errorf("worker %d's position is in state %d once ready", i, st)
		}
		if s != int32(2*i) && s != int32(2*i+1) || u.Backends[s].Disabled() {
			t.Fatalf("worker %d serves on slot %d (disabled %v)", i, s, u.Backends[s].Disabled())
		}
		if c, err := net.Dial("unix", pl.sockets[s]); err != nil {
			t.Fatalf("worker %d's socket: %v", i, err)
		} else {
			c.Close()
		}
	}
	// FCGI_GET_VALUES: one connection, one request, no multiplexing.
	v, err := fastcgi.Codec{}.Probe(context.Background(), "unix", pl.sockets[first[1]], 5*time.Second)
	if err != nil || v != (upstream.Probed{MaxConns: 1, MaxReqs: 1, Multiplex: false}) {
		t.Errorf("FCGI_GET_VALUES: %+v %v", v, err)
	}
	checkRawFastCGI(t, pl.sockets[first[1]])

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
	for i, wp := range pl.positions {
		if wp.State() != posStopped {
			t.Errorf("worker %d's position is in state %d after Stop", i, wp.State())
		}
	}
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

// checkRawFastCGI sends a worker what gale never does: a role other than
// responder, and a second request on a busy connection. Each gets its
// END_REQUEST with the FastCGI status that says why.
func checkRawFastCGI(t *testing.T, sock string) {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var out []byte
	out = fastcgi.AppendBeginRequest(out, 7, 2, true) // FCGI_AUTHORIZER
	out = fastcgi.AppendBeginRequest(out, 1, fastcgi.RoleResponder, true)
	out = fastcgi.AppendBeginRequest(out, 2, fastcgi.RoleResponder, true)
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	want := map[uint16]uint8{7: fastcgi.StatusUnknownRole, 2: fastcgi.StatusCantMpxConn}
	var buf []byte
	tmp := make([]byte, 512)
	for len(want) > 0 {
		rec, n, err := fastcgi.ParseRecord(buf)
		if err == fastcgi.ErrNeedMore {
			k, rerr := c.Read(tmp)
			if rerr != nil {
				t.Fatalf("waiting for END_REQUEST of %v: %v", want, rerr)
			}
			buf = append(buf, tmp[:k]...)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		buf = buf[n:]
		if rec.Type != fastcgi.TypeEndRequest || len(rec.Content) < 5 {
			t.Fatalf("unexpected record %+v", rec.Header)
		}
		if st, ok := want[rec.ID]; !ok || rec.Content[4] != st {
			t.Errorf("END_REQUEST of request %d: protocol status %d, want %d", rec.ID, rec.Content[4], st)
		}
		delete(want, rec.ID)
	}
}
