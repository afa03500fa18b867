package reactor_test

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/httpproxy"
)

// startGunicorn runs Debian's gunicorn (an HTTP server) on a loopback
// port with a one-line WSGI app.
func startGunicorn(t *testing.T) string {
	t.Helper()
	const bin = "/usr/bin/gunicorn"
	if _, err := os.Stat(bin); err != nil {
		t.Fatal("gunicorn is not installed (make test-deps)")
	}
	dir := t.TempDir()
	app := "def app(env, sr):\n    sr('200 OK', [('Content-Type', 'text/plain')])\n    return [b'http app\\n']\n"
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := exec.Command(bin, "-b", addr, "-w", "1", "--chdir", dir, "app:app")
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("gunicorn output:\n%s", lastLines(out.String(), 20))
		}
	})
	testenv.WaitPort(t, addr, 10*time.Second)
	return addr
}

// TestFastCGIToHTTPBackend: gale -fastcgi pointed at gunicorn (issue 16
// item 6). gunicorn waits for the CRLF of a request line that FastCGI
// records never hold, so the request used to hang until gunicorn's worker
// timeout; now the end of gale's params record makes it answer its 400 at
// once, and gale answers 502 and says what is wrong, for a GET and a POST.
func TestFastCGIToHTTPBackend(t *testing.T) {
	addr := startGunicorn(t)
	logs := &logBuffer{}
	u := &upstream.Upstream{Name: "app", Backends: []*upstream.Backend{{Network: "tcp", Address: addr}}}
	s := startWith(t, reactor.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))}, appScripts, u)
	for _, raw := range []string{
		"GET /index.php HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /post.php HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
	} {
		c := s.dial(t)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		began := time.Now()
		if _, err := c.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 512)
		n, err := c.Read(buf)
		c.Close()
		if took := time.Since(began); err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 502 ") || took > 3*time.Second {
			t.Fatalf("%q: %q %v after %v, want a 502 at once", firstLine(raw), buf[:n], err, took)
		}
	}
	if !strings.Contains(logs.String(), "this backend speaks HTTP, not FastCGI") {
		t.Errorf("the log does not say what is wrong:\n%s", logs.String())
	}
}

// TestHTTPToFastCGIBackend: the reverse mistake, a proxy location pointed
// at php-fpm. php-fpm reads the request line as a FastCGI record of a
// version it does not know and closes without a byte: gale answers 502
// at once and its log line says what the close may mean.
func TestHTTPToFastCGIBackend(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 1})
	logs := &logBuffer{}
	u := &upstream.Upstream{Name: "app", Protocol: httpproxy.Protocol, Backends: []*upstream.Backend{{Network: "unix", Address: fpm.Socket}}}
	u.Init(2)
	s := startWith(t, reactor.Config{Handler: handlers.NewProxy(u, nil), Logger: slog.New(slog.NewTextHandler(logs, nil))}, nil, nil)
	c := s.dial(t)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	began := time.Now()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if took := time.Since(began); err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 502 ") || took > 3*time.Second {
		t.Fatalf("%q %v after %v, want a 502 at once", buf[:n], err, took)
	}
	if !strings.Contains(logs.String(), "FastCGI") {
		t.Errorf("the log does not say what the close may mean:\n%s", logs.String())
	}
}
