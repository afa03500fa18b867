package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestSlowReadersMemoryBound: 500 clients download a 16 MiB file at once,
// each through a 64 KiB receive window and pausing between reads, so
// gale's send buffers fill and it must stream rather than buffer. gale's
// RSS stays under 128 MiB (it would need 8 GiB to hold every response) and
// every download arrives intact.
func TestSlowReadersMemoryBound(t *testing.T) {
	const (
		clients = 500
		size    = 16 << 20
		limit   = 128 << 20
	)
	testenv.CheckLeaks(t)
	root := t.TempDir()
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	p := startGale(t, "-root", root, "-loops", "2")

	stop := make(chan struct{})
	peakc := make(chan int64)
	go func() { // sample gale's RSS until the downloads end
		var peak int64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := testenv.ProcRSS(p.cmd.Process.Pid); err == nil && rss > peak {
				peak = rss
			}
			select {
			case <-stop:
				peakc <- peak
				return
			case <-tick.C:
			}
		}
	}()

	dialer := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	began := time.Now()
	deadline := began.Add(5 * time.Minute) // a bound, not a target
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := slowDownload(&dialer, p.addr, want, size, deadline); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("client %d: %w", i, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	peak := <-peakc
	t.Logf("%d × %d MiB in %v; gale's peak RSS %.1f MiB", clients, size>>20, time.Since(began).Round(time.Millisecond), float64(peak)/(1<<20))
	if len(errs) > 0 {
		t.Fatalf("%d of %d downloads failed; first: %v", len(errs), clients, errs[0])
	}
	if peak > limit {
		t.Fatalf("gale's RSS peaked at %.1f MiB with %d slow readers, over %d MiB", float64(peak)/(1<<20), clients, limit>>20)
	}
}

// slowDownload fetches /big.bin, reading 64 KiB at a time with a pause
// after each read, and checks its length and checksum.
func slowDownload(d *net.Dialer, addr string, want [32]byte, size int64, deadline time.Time) error {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return readSlowly(resp.Body, 2*time.Millisecond, size, want)
}

// readSlowly reads body to its end, pausing between reads as a slow client
// does, and checks that it was size bytes with SHA-256 want.
func readSlowly(body io.Reader, pause time.Duration, size int64, want [sha256.Size]byte) error {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var got int64
	for {
		n, err := body.Read(buf)
		h.Write(buf[:n])
		got += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", got, err)
		}
		time.Sleep(pause)
	}
	if got != size || !bytes.Equal(h.Sum(nil), want[:]) {
		return fmt.Errorf("got %d bytes, checksum mismatch", got)
	}
	return nil
}
