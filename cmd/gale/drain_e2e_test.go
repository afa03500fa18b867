package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// launch starts gale on addr without waiting for it (the port may already
// be served by another gale); ready reports when it printed its URL.
func launch(t *testing.T, addr string, args ...string) *proc {
	t.Helper()
	return launchCmd(t, exec.Command(galeBin, append([]string{"-listen", addr}, args...)...), addr)
}

// launchCmd is launch for a command the caller built (one that ends up
// running gale on addr).
func launchCmd(t *testing.T, cmd *exec.Cmd, addr string) *proc {
	t.Helper()
	out := &outBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, out: out}
	t.Cleanup(func() {
		// The tests' keep-alive connections to this gale are not leaks.
		http.DefaultClient.CloseIdleConnections()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("gale (pid %d) output:\n%s", cmd.Process.Pid, out)
		}
	})
	return p
}

// waitServing waits until p printed the line that says it is serving.
func (p *proc) waitServing(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.out.String(), "gale: serving ") {
		if time.Now().After(deadline) {
			t.Fatalf("gale did not start within %v:\n%s", within, p.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitExit waits for p to exit and fails unless it exits 0 within d.
func (p *proc) waitExit(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("gale exited with %v", err)
		}
	case <-time.After(d):
		t.Fatalf("gale did not exit within %v of SIGTERM", d)
	}
	return time.Since(began)
}

// wrkResult is what the tests read from wrk's report.
type wrkResult struct {
	requests                      int64
	connect, read, write, timeout int64
	non2xx                        int64
	text                          string
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// startWrk runs wrk against url for d in the background, with extra
// arguments (a header) before the URL.
func startWrk(t *testing.T, url string, conns int, d time.Duration, extra ...string) <-chan wrkResult {
	t.Helper()
	bin, err := exec.LookPath("wrk")
	if err != nil {
		t.Fatal("wrk is not installed (scripts/install-deps.sh installs it)")
	}
	res := make(chan wrkResult, 1)
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	args := append([]string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	go func() {
		defer cancel()
		out, err := cmd.CombinedOutput()
		r := wrkResult{text: string(out)}
		if err != nil {
			r.text += "\nwrk: " + err.Error()
		}
		if m := wrkRequests.FindStringSubmatch(r.text); m != nil {
			r.requests, _ = strconv.ParseInt(m[1], 10, 64)
		}
		if m := wrkSocket.FindStringSubmatch(r.text); m != nil {
			r.connect, _ = strconv.ParseInt(m[1], 10, 64)
			r.read, _ = strconv.ParseInt(m[2], 10, 64)
			r.write, _ = strconv.ParseInt(m[3], 10, 64)
			r.timeout, _ = strconv.ParseInt(m[4], 10, 64)
		}
		if m := wrkNon2xx.FindStringSubmatch(r.text); m != nil {
			r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
		}
		res <- r
	}()
	return res
}

// probeLog records what fresh connections met during a drain.
type probeLog struct {
	mu        sync.Mutex
	served    int
	refused   int
	broken    []string // accepted, then no complete response
	lateServe int      // served after a refusal
}

// probe opens a connection every few milliseconds until stop, making one
// request on each: it is served, or refused, nothing in between.
func dialProbe(addr string, stop <-chan struct{}, log *probeLog) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(3 * time.Millisecond):
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			log.mu.Lock()
			var ne net.Error
			if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &ne) && ne.Timeout() {
				// Refused, or a SYN that got no answer in time (dropped
				// while the listener shut, or by a loaded kernel): either
				// way no connection was accepted, nothing was lost.
				log.refused++
			} else {
				log.broken = append(log.broken, "dial: "+err.Error())
			}
			log.mu.Unlock()
			continue
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
		}
		c.Close()
		log.mu.Lock()
		switch {
		case err != nil:
			log.broken = append(log.broken, err.Error())
		case resp.StatusCode != 200 || string(body) != "alpha\n":
			log.broken = append(log.broken, fmt.Sprintf("%d %q", resp.StatusCode, body))
		case log.refused > 0:
			log.lateServe++
		default:
			log.served++
		}
		log.mu.Unlock()
	}
}

// TestSIGTERMUnderLoad: SIGTERM while wrk loads gale and 200 slow
// downloads are in flight. Every download completes intact; gale stops
// accepting (fresh connections are refused, never accepted and then
// dropped); wrk sees no error besides refused connects; gale exits 0.
func TestSIGTERMUnderLoad(t *testing.T) {
	testenv.CheckLeaks(t)
	const (
		downloads = 200
		size      = 16 << 20
	)
	root := t.TempDir()
	data := make([]byte, size)
	rand.Read(data)
	os.WriteFile(filepath.Join(root, "big.bin"), data, 0o644)
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("alpha\n"), 0o644)
	want := sha256.Sum256(data)
	p := startGale(t, "-root", root, "-loops", "2", "-shutdown-timeout", "60s")

	// The downloads read their heads, then wait for SIGTERM before reading
	// the bodies: all 200 are in flight when it arrives.
	var (
		heads, bodies sync.WaitGroup
		mu            sync.Mutex
		failed        []error
	)
	term := make(chan struct{})
	dialer := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
	}}
	fail := func(err error) {
		mu.Lock()
		failed = append(failed, err)
		mu.Unlock()
	}
	for i := 0; i < downloads; i++ {
		heads.Add(1)
		bodies.Add(1)
		go func() {
			defer bodies.Done()
			headDone := false
			defer func() {
				if !headDone {
					heads.Done()
				}
			}()
			c, err := dialer.Dial("tcp", p.addr)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Minute))
			fmt.Fprintf(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
			if err != nil {
				fail(err)
				return
			}
			heads.Done()
			headDone = true
			<-term
			if err := readSlowly(resp.Body, time.Millisecond, size, want); err != nil {
				fail(fmt.Errorf("download %d: %w", i, err))
			}
		}()
	}
	heads.Wait()
	if len(failed) > 0 {
		t.Fatalf("before SIGTERM: %v", failed[0])
	}

	wrk := startWrk(t, p.url("/a.txt"), 32, 3*time.Second)
	stopProbe := make(chan struct{})
	var plog probeLog
	probeDone := make(chan struct{})
	go func() { dialProbe(p.addr, stopProbe, &plog); close(probeDone) }()
	time.Sleep(700 * time.Millisecond) // under load

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	close(term)
	took := p.waitExit(t, 90*time.Second)
	bodies.Wait()
	close(stopProbe)
	<-probeDone
	w := <-wrk
	t.Logf("gale exited %v after SIGTERM; wrk: %d requests, %d refused connects; probe: %d served, then %d refused",
		took.Round(time.Millisecond), w.requests, w.connect+w.write, plog.served, plog.refused)
	if len(failed) > 0 {
		t.Fatalf("%d of %d in-flight downloads failed; first: %v", len(failed), downloads, failed[0])
	}
	// wrk connects without blocking, so a refused connect shows up as a
	// connect or a write error; a request cut off would be a read error.
	if w.requests == 0 || w.non2xx > 0 || w.read > 0 || w.timeout > 0 {
		t.Fatalf("wrk saw errors besides refused connects:\n%s", w.text)
	}
	if len(plog.broken) > 0 || plog.lateServe > 0 {
		t.Fatalf("fresh connections: %d accepted and dropped (first: %v), %d served after one was refused", len(plog.broken), plog.broken, plog.lateServe)
	}
	if plog.served == 0 || plog.refused == 0 {
		t.Fatalf("probe: %d served, %d refused: want both", plog.served, plog.refused)
	}
}

// TestRestartSamePort: a second gale started on the same port with
// -reuseport (joining the first one's SO_REUSEPORT group), then the first
// drains after SIGTERM: wrk runs across the
// switch, one with keep-alive and one opening a connection per request
// (so connections are always queued on the listeners), have no failed
// request, and the first gale exits 0.
func TestRestartSamePort(t *testing.T) {
	testenv.CheckLeaks(t)
	// What README's "Graceful restart" recommends: without it a handshake
	// completing on the old listener in the instant it shuts is reset, a
	// window the test hits on a loaded machine (CI runs packages in
	// parallel under -race).
	enableMigrateReq(t)
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("alpha\n"), 0o644)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	old := launch(t, addr, "-root", root, "-loops", "2")
	old.waitServing(t, 10*time.Second)

	wrk := startWrk(t, "http://"+addr+"/a.txt", 16, 4*time.Second)
	churn := startWrk(t, "http://"+addr+"/a.txt", 16, 4*time.Second, "-H", "Connection: close")
	time.Sleep(time.Second)
	next := launch(t, addr, "-root", root, "-loops", "2", "-reuseport")
	next.waitServing(t, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // both serve for a moment
	if err := old.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	took := old.waitExit(t, 30*time.Second)
	for _, w := range []wrkResult{<-wrk, <-churn} {
		t.Logf("old gale exited %v after SIGTERM; wrk across the switch: %d requests", took.Round(time.Millisecond), w.requests)
		if w.requests == 0 || w.non2xx > 0 || w.connect+w.read+w.write+w.timeout > 0 {
			t.Fatalf("requests failed across the restart (net.ipv4.tcp_migrate_req = %s):\n%s", migrateReq(), w.text)
		}
	}
	if resp, body := get(t, "http://"+addr+"/a.txt"); resp.StatusCode != 200 || string(body) != "alpha\n" {
		t.Fatalf("new gale after the switch: %d %q", resp.StatusCode, body)
	}
}

// enableMigrateReq sets net.ipv4.tcp_migrate_req to 1 for the test when it
// may (root), and restores it afterwards.
func enableMigrateReq(t *testing.T) {
	const p = "/proc/sys/net/ipv4/tcp_migrate_req"
	prev, err := os.ReadFile(p)
	if err != nil || strings.TrimSpace(string(prev)) == "1" {
		return
	}
	if err := os.WriteFile(p, []byte("1"), 0o644); err != nil {
		t.Logf("net.ipv4.tcp_migrate_req stays %s: %v", strings.TrimSpace(string(prev)), err)
		return
	}
	t.Cleanup(func() { os.WriteFile(p, prev, 0o644) })
}

// migrateReq reads net.ipv4.tcp_migrate_req, for failure messages.
func migrateReq() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_migrate_req")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
