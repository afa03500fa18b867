package reactor_test

import (
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
)

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
