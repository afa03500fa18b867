package main

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/fcgidemo"
	"github.com/gale-http/gale/internal/testenv"
)

// TestFastCGIMemoryBound: 500 clients that read slowly at first each get a
// 16 MiB FastCGI response. gale reads the responses off the backend at the
// backend's speed, holds at most its response memory budget in memory and
// spools the rest to files, so its RSS stays under 128 MiB; every download
// then completes intact (CRC-32 of the whole body), and no spool file is
// left open once its response is sent.
func TestFastCGIMemoryBound(t *testing.T) {
	// Room for all 500 at once: Go interleaves the responses fairly, so
	// none would finish early enough to free a slot within the queue
	// timeout.
	memoryBound(t, nil, "-fastcgi", "-fastcgi-max-conns", "16")
}

// TestProxyMemoryBound: the same through the HTTP upstream (issue 13: 500
// slow readers of a 16 MiB proxied response, RSS under 128 MiB, every byte
// intact). HTTP/1.1 carries one response per connection, so the budget is
// one connection per client.
func TestProxyMemoryBound(t *testing.T) {
	memoryBound(t, []string{"-http"}, "-proxy", "-fastcgi-max-conns", "512")
}

// memoryBound runs the demo application (gale fcgi-demo with demoFlags)
// on a unix socket and gale in front of it with backendFlag pointing
// there plus galeFlags, then has 500 slow readers download 16 MiB each.
func memoryBound(t *testing.T, demoFlags []string, backendFlag string, galeFlags ...string) {
	const (
		clients = 500
		size    = 16 << 20
		rssMax  = 128 << 20
		slowMax = 40 * time.Second // bounds the slow phase if gale stalls
	)
	h := crc32.NewIEEE()
	io.CopyN(h, fcgidemo.Bytes(), size)
	want := h.Sum32()

	// The backend is gale's own demo application in a process of its own:
	// in this one, under the race detector, it would take most of the
	// test's time.
	sock := filepath.Join(t.TempDir(), "app.sock")
	app := exec.Command(galeBin, append([]string{"fcgi-demo", "-listen", "unix:" + sock}, demoFlags...)...)
	app.Stderr = os.Stderr
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if i == 250 {
			t.Fatal("fcgi-demo did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}

	root := t.TempDir()
	p := startGale(t, append([]string{"-root", root, backendFlag, "unix:" + sock, "-loops", "2", "-log-level", "warn"}, galeFlags...)...)
	pid := p.cmd.Process.Pid

	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			if rss, err := testenv.ProcRSS(pid); err == nil && rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	began := time.Now()
	var slowPhase time.Duration
	var headsIn sync.WaitGroup // every client has its head: the backend has been asked for all
	headsIn.Add(clients)
	// The slow phase lasts until every client has its head and gale has
	// read a quarter of all the responses from the backend (its read(2)
	// count; slow clients add little through sendfile): 2 GiB, which gale
	// must hold somewhere other than its memory. (Not more: past a few GiB
	// the kernel throttles the spool writes to the disk's speed.)
	allHeads := make(chan struct{})
	go func() {
		headsIn.Wait()
		for limit := time.Now().Add(slowMax); time.Now().Before(limit); time.Sleep(50 * time.Millisecond) {
			if n, err := procRChar(pid); err != nil || n >= clients*size/4 {
				break
			}
		}
		slowPhase = time.Since(began)
		close(allHeads)
	}()
	errs := make(chan error, clients)
	hold := make(chan struct{}) // keeps the connections open for the spool check
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			download(p.addr, size, want, &headsIn, allHeads, errs, hold)
		}()
	}
	failed := 0
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			if failed < 5 {
				t.Error(err)
			}
			failed++
		}
	}
	close(stop)
	sampler.Wait()
	t.Logf("%d clients x %d MiB in %v (slow phase %v), %d failed; gale's peak RSS %.1f MiB",
		clients, size>>20, time.Since(began).Round(time.Millisecond), slowPhase.Round(time.Millisecond), failed, float64(peak.Load())/(1<<20))
	if failed > 0 {
		t.Fatalf("%d of %d downloads failed", failed, clients)
	}
	if peak.Load() > rssMax {
		t.Fatalf("gale's RSS peaked at %.1f MiB serving %d slow readers of %d MiB responses (%s; bound %d MiB)",
			float64(peak.Load())/(1<<20), clients, size>>20, backendFlag, rssMax>>20)
	}
	// Spool files are unlinked at creation and take disk until closed.
	// None may outlive its response, even on a kept-alive connection.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := openSpools(t, pid)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spool files still open after every response was sent", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(hold)
	wg.Wait()
}

// download fetches 16 MiB from the demo application over a raw kept-alive
// connection: slowly (a few KiB, then a pause) until allHeads, so gale must
// hold or spool most of each response, then at full speed, checking length
// and CRC. It reports on errs and keeps the connection open until hold.
func download(addr string, size int, want uint32, headsIn *sync.WaitGroup, allHeads <-chan struct{}, errs chan<- error, hold <-chan struct{}) {
	if err := fetchBig(addr, size, want, headsIn, allHeads, errs, hold); err != nil {
		errs <- err
	}
}

func fetchBig(addr string, size int, want uint32, headsIn *sync.WaitGroup, allHeads <-chan struct{}, errs chan<- error, hold <-chan struct{}) (err error) {
	headDone := false
	defer func() {
		if !headDone {
			headsIn.Done()
		}
	}()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(32 << 10)
	c.SetDeadline(time.Now().Add(90 * time.Second))
	if _, err := io.WriteString(c, "GET /app/bytes?n=16777216 HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		return err
	}
	br := bufio.NewReaderSize(c, 32<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	headDone = true
	headsIn.Done()
	if resp.StatusCode != 200 || resp.ContentLength != int64(size) {
		return fmt.Errorf("status %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	h := crc32.NewIEEE()
	buf := make([]byte, 32<<10)
	got := 0
	slow := true
	for {
		if slow {
			select {
			case <-allHeads:
				slow = false
			case <-time.After(100 * time.Millisecond):
			}
		}
		lim := len(buf)
		if slow {
			lim = 4 << 10
		}
		n, err := resp.Body.Read(buf[:lim])
		h.Write(buf[:n])
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", got, err)
		}
	}
	if got != size || h.Sum32() != want {
		return fmt.Errorf("got %d bytes, crc %08x, want %d bytes, crc %08x", got, h.Sum32(), size, want)
	}
	errs <- nil
	<-hold // the connection stays open, idle
	return nil
}

// procRChar is the bytes pid has read (/proc/PID/io rchar).
func procRChar(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	var n int
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			_, err = fmt.Sscan(v, &n)
			return n, err
		}
	}
	return 0, fmt.Errorf("no rchar for pid %d", pid)
}

// openSpools counts gale's open spool files.
func openSpools(t *testing.T, pid int) int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.Contains(target, "gale-spool-") {
			n++
		}
	}
	return n
}
