package reactor_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/reactor"
)

// TestBusyAddr: Serve on an address another server listens on fails with
// EADDRINUSE instead of joining that server's SO_REUSEPORT group and
// taking part of its connections. With Config.ReusePort it joins, and its
// graceful shutdown stops only its own listeners: the first server serves
// on.
func TestBusyAddr(t *testing.T) {
	s := start(t, reactor.Config{}, site)
	second, err := reactor.New(reactor.Config{Addr: s.addr, Loops: 1, Handler: &handlers.Router{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- second.Serve() }()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("Serve on a busy address: %v, want EADDRINUSE", err)
		}
		t.Logf("Serve on a busy address: %v", err)
	case <-second.Ready():
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		second.Shutdown(ctx)
		<-done
		t.Fatal("a second server started on an address another one listens on")
	case <-time.After(5 * time.Second):
		t.Fatal("Serve on a busy address neither failed nor started")
	}

	joined, err := reactor.New(reactor.Config{Addr: s.addr, Loops: 1, Handler: &handlers.Router{}, ReusePort: true})
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- joined.Serve() }()
	select {
	case <-joined.Ready():
	case err := <-done:
		t.Fatalf("Serve with ReusePort on an address another server listens on: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve with ReusePort did not start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := joined.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown of the joined server: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the joined server's Serve: %v", err)
	}
	for i := 0; i < 10; i++ {
		if resp, body := httpGet(t, s.url("/a.txt")); resp.StatusCode != 200 || body != "alpha\n" {
			t.Fatalf("the first server after the second's shutdown: %d %q", resp.StatusCode, body)
		}
	}
}

// TestEngineStopIsAnError: when the engine stops without Shutdown (gnet
// stops it itself after an error it deems fatal), Serve returns an error,
// so gale exits non-zero and a supervisor restarts it; it used to return
// nil, as after a clean stop.
func TestEngineStopIsAnError(t *testing.T) {
	s := start(t, reactor.Config{}, site)
	s.stopped = true
	if err := reactor.StopEngine(s.srv); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err == nil {
			t.Fatal("Serve returned nil after the engine stopped without Shutdown")
		}
		t.Logf("Serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the engine stopped")
	}
}
