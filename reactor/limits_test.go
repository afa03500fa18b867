package reactor_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
)

// TestMaxConns: beyond Config.MaxConns a new connection is answered 503
// with Retry-After and closed, without its request being served; once a
// connection closes, new ones are served again. Parked (idle) connections
// count too.
func TestMaxConns(t *testing.T) {
	log := &syncBuffer{}
	s := start(t, reactor.Config{MaxConns: 8, Tick: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(log, nil))}, site)
	var held []net.Conn
	for i := 0; i < 8; i++ {
		c := s.dial(t)
		resp, _ := roundTrip(t, c, bufio.NewReader(c), "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		if resp.StatusCode != 200 {
			t.Fatalf("conn %d under the limit: %d", i, resp.StatusCode)
		}
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond) // let them park
	for i := 0; i < 3; i++ {
		c := s.dial(t)
		io.WriteString(c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		raw, err := io.ReadAll(c) // everything up to the server's close
		if err != nil {
			t.Fatalf("over the limit: %v after %q", err, raw)
		}
		got := string(raw)
		if !strings.HasPrefix(got, "HTTP/1.1 503 Service Unavailable\r\n") ||
			!strings.Contains(got, "\r\nRetry-After: 1\r\n") ||
			!strings.Contains(got, "\r\nConnection: close\r\n") ||
			strings.Contains(got, "alpha") {
			t.Fatalf("over the limit got %q", got)
		}
		c.Close()
	}
	// Three refusals within a second: one log line.
	if n := strings.Count(log.String(), "connection limit reached"); n != 1 {
		t.Fatalf("%d log lines for 3 refusals in a second, want 1:\n%s", n, log)
	}
	// One held connection closes: a slot frees up (the refused ones are
	// gone too).
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := s.dial(t)
		resp, _ := roundTrip(t, c, bufio.NewReader(c), "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		c.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d after a connection closed", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The held ones were never disturbed.
	for i, c := range held[1:] {
		resp, _ := roundTrip(t, c, bufio.NewReader(c), "GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		if resp.StatusCode != 200 {
			t.Fatalf("held conn %d: %d", i+1, resp.StatusCode)
		}
	}
}

// syncBuffer is a log sink the server writes from its loops while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRefusedConnReleased: a connection refused over MaxConns gives its
// fd back as soon as gale has read the client's request, and within a
// quarter second if the client sends nothing, instead of lingering two
// seconds for a FIN the client may never send: a flood of refused clients
// holding their sockets open must not use up gale's file descriptors.
// Each still reads its whole 503.
func TestRefusedConnReleased(t *testing.T) {
	s := start(t, reactor.Config{MaxConns: 1}, site)
	held := s.dial(t)
	if resp, _ := roundTrip(t, held, bufio.NewReader(held), "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET"); resp.StatusCode != 200 {
		t.Fatalf("under the limit: %d", resp.StatusCode)
	}
	for _, request := range []string{"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", ""} {
		c := s.dial(t)
		io.WriteString(c, request)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		raw, err := io.ReadAll(c) // up to gale's FIN
		if err != nil || !strings.HasPrefix(string(raw), "HTTP/1.1 503 ") {
			t.Fatalf("over the limit (request %q): %v after %q", request, err, raw)
		}
		// The client keeps its end open and sends nothing more; gale's
		// end, half-closed, must not stay open (Conns counts the refused
		// connections until they close).
		answered := time.Now()
		for s.srv.Stats().Conns > 1 {
			if time.Since(answered) > time.Second {
				t.Fatalf("request %q: gale still holds the refused connection a second after its answer", request)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("request %q: gale closed the refused connection %v after its answer", request, time.Since(answered).Round(time.Millisecond))
	}
}
