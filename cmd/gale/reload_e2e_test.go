package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestReloadUnderLoad: clients on keep-alive connections hammer gale while
// it is sent SIGHUP five times, alternating two configurations (different
// roots, and the /app/ upstream replaced by one spawned on other sockets)
// and once a bad one. No request fails; after each good reload new
// requests see the new configuration (on the same connections), after the
// bad one the old configuration keeps serving and the rejection is
// logged; replaced backends are stopped.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/v.txt", "A\n")
	writeFile(t, dir, "b/v.txt", "B\n")
	os.Mkdir(filepath.Join(dir, "sock"), 0o700)
	conf := func(v string) string {
		return fmt.Sprintf(`
upstreams:
  app:
    spawn:
      command: [%q, fcgi-demo, -listen, "unix:{socket}"]
      socket: sock/%s.sock
vhosts:
  - root: %s
    locations:
      - prefix: /
      - prefix: /app/
        fastcgi: {upstream: app, mode: pass}
`, galeBin, v, strings.ToLower(v))
	}
	cfg := writeFile(t, dir, "gale.yaml", conf("A"))
	p := startGale(t, "-config", cfg, "-loops", "2")
	gale := p.cmd.Process.Pid
	firstApp := onlyChild(t, gale, "fcgi-demo")

	const workers = 8
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	seen := make([]atomic.Value, workers) // last version each worker saw
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Watch the client connections: Go's client silently retries a GET on
	// a kept-alive connection the server closed, so a dropped connection
	// shows only as a read that met EOF (or a reset) on the client side.
	var dials, serverClosed atomic.Int64
	tr := &http.Transport{MaxIdleConnsPerHost: workers, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &watchedConn{Conn: c, closed: &serverClosed}, nil
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200000; i++ { // bounded; stop ends it long before
				select {
				case <-stop:
					return
				default:
				}
				path := "/v.txt"
				if i%4 == 3 {
					path = "/app/sleep?ms=1"
				}
				status, body, err := fetchHost(client, p, "t", path)
				if err != nil || status != 200 {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d %v %.60q", path, status, err, body))
					mu.Unlock()
					continue
				}
				ok.Add(1)
				if path == "/v.txt" {
					seen[w].Store(body)
				}
			}
		}()
	}
	// waitVersion waits until every worker has seen version v.
	waitVersion := func(v string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			all := true
			for w := range seen {
				if got, _ := seen[w].Load().(string); got != v+"\n" {
					all = false
				}
			}
			if all {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("workers did not all see version %s within 10 s", v)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitVersion("A")
	hup := func() {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	for i, step := range []string{"B", "A", "bad", "B", "A"} {
		before := ok.Load()
		if step == "bad" {
			writeFile(t, dir, "gale.yaml", conf("A")+"  - root: nowhere\n    rot: x\n")
			hup()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(p.out.String(), "reload rejected") {
				if time.Now().After(deadline) {
					t.Fatal("no log line for the rejected reload")
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			waitVersion("A") // still serving
		} else {
			writeFile(t, dir, "gale.yaml", conf(step))
			hup()
			waitVersion(step)
		}
		time.Sleep(100 * time.Millisecond) // load on the new configuration
		t.Logf("step %d (%s): %d requests since the previous step", i+1, step, ok.Load()-before)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed, %d client connections, over 5 reloads", ok.Load(), failed.Load(), dials.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed across reloads, e.g. %q", failed.Load(), failures[:min(len(failures), 5)])
	}
	if n := serverClosed.Load(); n != 0 {
		t.Fatalf("gale closed %d of %d client connections across the reloads", n, dials.Load())
	}
	if n := strings.Count(p.out.String(), `msg="configuration reloaded"`); n != 4 {
		t.Errorf("%d successful reloads logged, want 4", n)
	}
	for _, want := range []string{`at="` + cfg + `:14:5: unknown key \"rot\"`, `vhosts[1].root: `} {
		if !strings.Contains(p.out.String(), want) {
			t.Errorf("the rejected reload's log has no %q", want)
		}
	}
	// The app upstream was replaced each time: one fcgi-demo remains, not
	// the first one.
	deadline := time.Now().Add(5 * time.Second)
	for {
		kids := childrenOf(gale, "fcgi-demo")
		if len(kids) == 1 && kids[0] != firstApp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fcgi-demo children %v (first was %d): replaced backends not stopped", kids, firstApp)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// watchedConn counts the reads that find the connection closed by the
// server (EOF or reset), not by the client itself.
type watchedConn struct {
	net.Conn
	closed *atomic.Int64
	once   sync.Once
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		c.once.Do(func() { c.closed.Add(1) })
	}
	return n, err
}

// TestReloadListenChangeNeedsRestart: a reload that changes the listen
// address says it needs a restart, keeps serving on the old address, and
// applies the rest of the file.
func TestReloadListenChangeNeedsRestart(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/v.txt", "A\n")
	writeFile(t, dir, "b/v.txt", "B\n")
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	other := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := writeFile(t, dir, "gale.yaml", "listen: "+addr+"\nvhosts: [{root: a}]\n")
	out := &outBuffer{}
	cmd := exec.Command(galeBin, "-config", cfg)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, out: out}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("gale output:\n%s", out)
		}
	}()
	testenv.WaitPort(t, addr, 10*time.Second)
	writeFile(t, dir, "gale.yaml", "listen: "+other+"\nvhosts: [{root: b}]\n")
	cmd.Process.Signal(syscall.SIGHUP)
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, body, err := fetchHost(c, p, "t", "/v.txt"); err == nil && body == "B\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reload did not take effect on the old address")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "takes effect only after a restart") || !strings.Contains(out.String(), "setting=listen") {
		t.Fatalf("no log line saying the listen change needs a restart:\n%s", out)
	}
	if conn, err := net.DialTimeout("tcp", other, 200*time.Millisecond); err == nil {
		conn.Close()
		t.Fatalf("gale listens on the new address %s without a restart", other)
	}
}
