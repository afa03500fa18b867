package reactor_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/reactor"
)

// TestSlowReadersCostNoCPU: 1,000 clients ask for a 4 MiB file through a
// 4 KiB receive buffer and never read, leaving 1,000 writers stalled on
// full sockets. Beside them, paced keep-alive clients are all served
// promptly, and the whole test process (gale and every client) stays well
// under half a core: a stalled writer waits for its socket's EPOLLOUT and
// costs nothing until then. The paced clients alone cost 9–15 %; when gale
// polled stalled writers every millisecond, the window took 100 % and more.
func TestSlowReadersCostNoCPU(t *testing.T) {
	const (
		slow    = 1000
		window  = 2 * time.Second
		clients = 4
		pace    = 20 * time.Millisecond // between two requests of a client
		maxCPU  = 0.40                  // of one core, over the window
		maxWait = time.Second           // for any one normal request
	)
	big := strings.Repeat("0123456789abcdef", 256<<10) // 4 MiB
	s := start(t, reactor.Config{}, map[string]string{"big.bin": big, "small.txt": "small"})
	// A small MSS keeps the kernel from growing each server socket's send
	// buffer to megabytes (a gigabyte of kernel memory for the test).
	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		_ = rc.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
			if err == nil {
				err = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, 536)
			}
		})
		return err
	}}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2*slow+1024 {
		t.Fatalf("RLIMIT_NOFILE %d (%v): the test needs %d descriptors", lim.Cur, err, 2*slow+1024)
	}
	for i := range slow {
		c, err := d.Dial("tcp", s.addr)
		if err != nil {
			t.Fatalf("slow reader %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // every response fills its socket

	began := time.Now()
	cpu0 := processCPU(t)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		served  int
		slowest time.Duration
		bad     []string
	)
	for range clients {
		c := s.dial(t)
		br := bufio.NewReader(c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(began) < window {
				t0 := time.Now()
				err := getSmall(c, br)
				took := time.Since(t0)
				mu.Lock()
				served++
				slowest = max(slowest, took)
				if err != nil {
					bad = append(bad, err.Error())
				}
				mu.Unlock()
				if err != nil {
					return
				}
				time.Sleep(pace)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	share := float64(processCPU(t)-cpu0) / float64(elapsed)
	t.Logf("%d slow readers: %d requests served beside them in %v, slowest %v; process CPU %.1f%% of a core",
		slow, served, elapsed.Round(time.Millisecond), slowest.Round(time.Microsecond), 100*share)
	if len(bad) > 0 {
		t.Fatalf("%d of %d normal requests failed; first: %s", len(bad), served, bad[0])
	}
	if want := int(window/pace) * clients / 2; served < want {
		t.Errorf("%d normal requests served beside the slow readers, want at least %d", served, want)
	}
	if slowest > maxWait {
		t.Errorf("a normal request took %v beside the slow readers (limit %v)", slowest, maxWait)
	}
	if share > maxCPU {
		t.Errorf("process CPU %.1f%% of a core with %d stalled writers (limit %.0f%%): are stalled writers polled?",
			100*share, slow, 100*maxCPU)
	}
}

// getSmall asks for /small.txt on a keep-alive connection and checks the
// answer.
func getSmall(c net.Conn, br *bufio.Reader) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(body) != "small" {
		return fmt.Errorf("status %d, body %q", resp.StatusCode, body)
	}
	return nil
}

// processCPU is the user and system CPU time this process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
