package reactor_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startGunicornUnix runs Debian's gunicorn with n sync workers (its
// default class: one connection per worker at a time) on a unix socket,
// serving a one-line WSGI app, and returns the socket's path.
func startGunicornUnix(t *testing.T, n int) string {
	t.Helper()
	app := writeApp(t, "def app(env, sr):\n    sr('200 OK', [('Content-Type', 'text/plain')])\n    return [b'ok']\n")
	sock := filepath.Join(t.TempDir(), "app.sock")
	out := runPeer(t, "/usr/bin/gunicorn", "-b", "unix:"+sock, "-w", strconv.Itoa(n), "--chdir", filepath.Dir(app), "app:app")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("gunicorn did not listen on %s:\n%s", sock, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProxyAbortedDialsFreeWorkers: clients that leave while gale connects
// to gunicorn for them. gunicorn's sync worker takes one connection at a
// time and blocks reading its request, so a connection gale opened for a
// request that then left, and kept idle, pinned a worker until gale's idle
// timeout (gunicorn's worker timeout kills it after 30 s): after the end of
// a wrk run the whole app stood still. A connection that never carried a
// request is now closed, not kept; the workers are free at once.
func TestProxyAbortedDialsFreeWorkers(t *testing.T) {
	sock := startGunicornUnix(t, 2)
	s := startProxy(t, "unix:"+sock, "", nil)
	resp, err := http.Get(s.url("/warm"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	for round := 0; round < 3; round++ {
		var cs []net.Conn
		for i := 0; i < 16; i++ {
			c := s.dial(t)
			if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		for _, c := range cs {
			c.Close()
		}
	}
	time.Sleep(300 * time.Millisecond)
	// Straight to gunicorn, bypassing gale: a free worker answers at once.
	for i := 0; i < 4; i++ {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		io.WriteString(c, "GET /direct HTTP/1.0\r\n\r\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.HasPrefix(line, "HTTP/1.0 200") && !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("direct request %d: %q %v: gunicorn's workers are pinned by connections gale keeps without a request", i, line, err)
		}
	}
	// And through gale.
	for i := 0; i < 4; i++ {
		began := time.Now()
		resp, err := http.Get(s.url("/after"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" || time.Since(began) > time.Second {
			t.Fatalf("request %d after the aborts: %d %q in %v", i, resp.StatusCode, body, time.Since(began))
		}
	}
}
