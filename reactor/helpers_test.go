package reactor_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// server is a gale running in this process on a loopback port.
type server struct {
	srv  *reactor.Server
	addr string
	root string
	done chan error
	// stopped is set by tests that shut the server down themselves.
	stopped bool
}

// start runs gale over a static root filled with files (name -> content).
func start(t *testing.T, cfg reactor.Config, files map[string]string) *server {
	t.Helper()
	return startWith(t, cfg, files, nil)
}

// appScripts are the scripts the tests ask of Go, raw and uWSGI backends.
// The front controller hands only scripts that exist below the root to the
// application (see handlers.FrontController), so they exist there, empty:
// the backend answers them, whatever the file holds.
var appScripts = map[string]string{
	"a.php": "", "big.php": "", "echo.php": "", "fast.php": "", "hello.php": "", "hold.php": "",
	"index.php": "", "leave.php": "", "n.php": "", "pair.php": "", "post.php": "", "sleep.php": "",
	"slow.php": "", "stay.php": "", "upload.php": "", "warm.php": "", "x.php": "",
	"ok.php": "", "block.php": "", "deny.php": "", "die.php": "", "next.php": "",
	testenv.SmugglingScript[1:]: "",
}

func startWith(t *testing.T, cfg reactor.Config, files map[string]string, u *upstream.Upstream) *server {
	t.Helper()
	testenv.CheckLeaks(t)
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	static, err := handlers.NewStatic(handlers.DefaultStaticConfig(root))
	if err != nil {
		t.Fatal(err)
	}
	rt := &handlers.Router{}
	rt.Handle("/", static)
	if u != nil {
		loops := cfg.Loops
		if loops == 0 {
			loops = 2
		}
		u.Init(loops)
		rt.Handle("/", handlers.NewFrontController(static, u, root))
	}
	if cfg.Handler == nil {
		cfg.Handler = rt // a test may bring its own handler tree
	}
	if cfg.Addr == "" {
		cfg.Addr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	srv, err := reactor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{srv: srv, addr: cfg.Addr, root: root, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-s.done:
		t.Fatalf("serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		defer static.Close()
		// Idle keep-alive connections would hold the drain for its grace.
		http.DefaultClient.CloseIdleConnections()
		if s.stopped {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// dial opens a raw client connection.
func (s *server) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes raw bytes and reads one response with net/http's reader.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, raw string, method string) (*http.Response, string) {
	t.Helper()
	if raw != "" {
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response to %q: %v", firstLine(raw), err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	resp.Body.Close()
	return resp, string(body)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\r'); i >= 0 {
		return s[:i]
	}
	return s
}

// expectClosed asserts the server closes c (EOF) within d, after any bytes.
func expectClosed(t *testing.T, c net.Conn, br *bufio.Reader, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("want close, got %v (after %q)", err, rest)
	}
	if len(rest) > 0 {
		t.Fatalf("want close, got extra bytes %q", rest)
	}
}
