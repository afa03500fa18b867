package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestBusyPortRefused: a second gale on the port a first one serves exits
// 1 with "address already in use" instead of joining the first one's
// SO_REUSEPORT group and taking part of its traffic; the first serves on.
// One started with -reuseport joins (TestRestartSamePort runs the restart
// itself).
func TestBusyPortRefused(t *testing.T) {
	testenv.CheckLeaks(t)
	first, second := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(first, "who.txt"), []byte("first\n"), 0o644)
	os.WriteFile(filepath.Join(second, "who.txt"), []byte("second\n"), 0o644)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	a := launch(t, addr, "-root", first, "-loops", "2")
	a.waitServing(t, 10*time.Second)

	b := launch(t, addr, "-root", second, "-loops", "2")
	err := waitExit(b, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("second gale on a busy port: %v, want exit status 1; output:\n%s", err, b.out)
	}
	if out := b.out.String(); !strings.Contains(out, "address already in use") || strings.Contains(out, "gale: serving") {
		t.Fatalf("second gale on a busy port said:\n%s", out)
	}
	for i := 0; i < 20; i++ {
		if resp, body := get(t, "http://"+addr+"/who.txt"); resp.StatusCode != 200 || string(body) != "first\n" {
			t.Fatalf("request %d: %d %q, want the first gale's file", i, resp.StatusCode, body)
		}
	}

	c := launch(t, addr, "-root", second, "-loops", "2", "-reuseport")
	c.waitServing(t, 10*time.Second)
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 2; i++ {
		resp, body := get(t, "http://"+addr+"/who.txt")
		if resp.StatusCode != 200 {
			t.Fatalf("with a gale joined: %d %q", resp.StatusCode, body)
		}
		seen[string(body)] = true
		http.DefaultClient.CloseIdleConnections() // a new connection each time
	}
	if !seen["first\n"] || !seen["second\n"] {
		t.Fatalf("200 connections with a gale joined by -reuseport reached %v, want both", seen)
	}
}
