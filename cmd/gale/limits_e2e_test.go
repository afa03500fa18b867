package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestLimitFlags: -max-requests closes a keep-alive connection after its
// Nth response (which says Connection: close), and -max-conns answers
// connections beyond the cap 503 with Retry-After and closes them.
func TestLimitFlags(t *testing.T) {
	testenv.CheckLeaks(t)
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("alpha\n"), 0o644)
	p := startGale(t, "-root", root, "-max-requests", "3", "-max-conns", "4", "-loops", "2")

	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 || resp.Close != (i == 3) {
			t.Fatalf("request %d of 3: status %d, Connection: close %v", i, resp.StatusCode, resp.Close)
		}
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
		t.Fatalf("after the 3rd response: %v, %q (want EOF)", err, rest)
	}
	c.Close()

	// Fill the cap. A connection closed a moment ago (the one above, the
	// readiness probe) may still count: retry until four are held.
	var held []net.Conn
	deadline := time.Now().Add(5 * time.Second)
	for len(held) < 4 {
		h, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		fmt.Fprintf(h, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
		h.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(h), nil)
		switch {
		case err == nil && resp.StatusCode == 200:
			held = append(held, h)
		case err == nil && resp.StatusCode == 503 && time.Now().Before(deadline):
			h.Close()
			time.Sleep(20 * time.Millisecond)
		default:
			t.Fatalf("conn %d under the cap: %v %v", len(held), resp, err)
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		x, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(x, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
		x.SetReadDeadline(time.Now().Add(5 * time.Second))
		raw, err := io.ReadAll(x)
		x.Close()
		got := string(raw)
		if err == nil && strings.HasPrefix(got, "HTTP/1.1 503 ") && strings.Contains(got, "\r\nRetry-After: 1\r\n") {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("5th connection over -max-conns 4 got %q, %v", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The log reaches us through a pipe: give it a moment.
	for !strings.Contains(p.out.String(), "connection limit reached") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for the refusal:\n%s", p.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
