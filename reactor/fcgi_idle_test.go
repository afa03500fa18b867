package reactor_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// TestSlowBackendOutlivesIdleTimeout: a request the backend takes longer
// than the keep-alive idle timeout to answer is answered; the idle timer
// is for a connection waiting for its next request, not for one waiting
// on its backend (it used to close the connection: an empty reply).
func TestSlowBackendOutlivesIdleTimeout(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1200 * time.Millisecond)
		io.WriteString(w, "slow but sure\n")
	})
	s := startGoFCGIWith(t, h, reactor.Config{Loops: 1, IdleTimeout: 400 * time.Millisecond}, &upstream.Upstream{})
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.url("/slow.php"))
	if err != nil {
		t.Fatalf("request slower than the idle timeout: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "slow but sure\n" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

// TestDrainAnswersRequestOnBackend: a request that reaches a backend
// during a graceful shutdown gets its whole answer, with Connection: close
// (the hand-off's write used to shut the connection's write side, as for
// an idle connection, before the answer came).
func TestDrainAnswersRequestOnBackend(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.php" {
			time.Sleep(200 * time.Millisecond)
		}
		io.WriteString(w, "answered\n")
	})
	s := startGoFCGIWith(t, h, reactor.Config{Loops: 1}, &upstream.Upstream{})
	c := s.dial(t)
	br := bufio.NewReader(c)
	if resp, body := roundTrip(t, c, br, "GET /ok.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 || body != "answered\n" {
		t.Fatalf("before the drain: %d %q", resp.StatusCode, body)
	}
	s.stopped = true
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- s.srv.Shutdown(ctx)
	}()
	waitFor(t, "the drain", s.srv.Draining)
	resp, body := roundTrip(t, c, br, "GET /slow.php HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
	if resp.StatusCode != 200 || body != "answered\n" || !resp.Close {
		t.Fatalf("during the drain: %d %q close=%v, want 200 \"answered\" and Connection: close", resp.StatusCode, body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-s.done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
