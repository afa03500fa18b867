package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// slowRcvBuf is each slow client's socket receive buffer. Kept small so the
// server's send buffer fills and the server, not the kernel, has to hold
// (or better, not hold) the rest of the 16 MiB.
const slowRcvBuf = 64 << 10

// slowChunk is how much a slow client reads between pauses.
const slowChunk = 64 << 10

// runSlow has clients download path concurrently, each reading at most rate
// bytes/s, while it samples the server's RSS.
func runSlow(pid int, addr, path string, clients int, rate float64, want []byte) MemResult {
	m := MemResult{Target: clients}
	settle()
	m.BaseRSS = TreeMem(pid).RSS
	cpu0 := TreeCPU(pid)
	stop := make(chan struct{})
	peak := make(chan int64)
	go sampleRSS(pid, stop, peak)

	// Every client gets the time it needs at rate, three times over.
	budget := 3*time.Duration(float64(len(want))/rate*float64(time.Second)) + 30*time.Second
	var (
		tally errTally
		okMu  sync.Mutex
		wg    sync.WaitGroup
	)
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Stagger the dials over ~250 ms so the listen backlog holds them.
			time.Sleep(time.Duration(i) * 250 * time.Millisecond / time.Duration(clients))
			if err := slowGet(addr, path, rate, want, start.Add(budget)); err != nil {
				tally.add(err)
				return
			}
			okMu.Lock()
			m.OK++
			okMu.Unlock()
		}()
	}
	wg.Wait()
	m.Elapsed = time.Since(start)
	close(stop)
	m.PeakRSS = <-peak
	m.PeakHWM = TreeMem(pid).HWM
	m.ServerCPU = TreeCPU(pid) - cpu0
	m.Errors, m.FirstErr = tally.n, tally.first
	if m.OK > 0 {
		m.PerConn = float64(m.PeakRSS-m.BaseRSS) / float64(clients)
	}
	return m
}

// sampleRSS reports the highest tree RSS seen until stop is closed.
func sampleRSS(pid int, stop <-chan struct{}, peak chan<- int64) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var hi int64
	for {
		if rss := TreeMem(pid).RSS; rss > hi {
			hi = rss
		}
		select {
		case <-stop:
			peak <- hi
			return
		case <-t.C:
		}
	}
}

// slowDialer shrinks SO_RCVBUF before connect, so the advertised window is
// small from the handshake on.
var slowDialer = net.Dialer{
	Timeout: 10 * time.Second,
	Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, slowRcvBuf)
		})
		if err != nil {
			return err
		}
		return serr
	},
}

// slowGet downloads path at no more than rate bytes/s and checks every byte.
func slowGet(addr, path string, rate float64, want []byte, deadline time.Time) error {
	c, err := slowDialer.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, slowChunk), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return readPaced(resp.Body, rate, want)
}

// readPaced reads r to EOF at no more than rate bytes/s, comparing with want.
func readPaced(r io.Reader, rate float64, want []byte) error {
	buf := make([]byte, slowChunk)
	start := time.Now()
	off := 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if off+n > len(want) || !bytes.Equal(buf[:n], want[off:off+n]) {
				return fmt.Errorf("body differs at or after byte %d", off)
			}
			off += n
			due := time.Duration(float64(off) / rate * float64(time.Second))
			if wait := due - time.Since(start); wait > 0 {
				time.Sleep(wait)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", off, err)
		}
	}
	if off != len(want) {
		return fmt.Errorf("got %d bytes, want %d", off, len(want))
	}
	return nil
}
