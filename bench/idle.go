package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// MemResult is the outcome of a memory scenario (idle-10k, slow-500).
type MemResult struct {
	Target    int           `json:"target"`               // connections or clients attempted
	OK        int           `json:"ok"`                   // answered (idle) or fully and correctly downloaded (slow)
	StillOpen int           `json:"still_open,omitempty"` // idle: connections the server kept open
	BaseRSS   int64         `json:"base_rss"`             // server tree RSS before, bytes
	PeakRSS   int64         `json:"peak_rss"`             // idle: RSS with all open; slow: highest sample
	PeakHWM   int64         `json:"peak_hwm"`             // sum of VmHWM over the tree at the end
	PerConn   float64       `json:"rss_per_conn"`         // (PeakRSS-BaseRSS) per OK connection (idle) or per client (slow), bytes
	Elapsed   time.Duration `json:"elapsed_ns"`
	ServerCPU time.Duration `json:"server_cpu_ns"`
	IdleCPU   float64       `json:"idle_cpu,omitempty"` // idle: share of one core used over idleWindow with every connection open and idle
	FirstErr  string        `json:"first_error,omitempty"`
	Errors    int           `json:"errors"`
}

// errTally counts errors and keeps the first.
type errTally struct {
	mu    sync.Mutex
	n     int
	first string
}

func (t *errTally) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

func (t *errTally) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.first = err.Error()
	}
	t.n++
}

// openWorkers bounds concurrent dials so the server's listen backlog, not
// the client, is never the limit being measured.
const openWorkers = 32

// openGiveUp stops opening connections after this many failures: a server
// at its connection limit would otherwise cost a timeout per remaining one.
const openGiveUp = 100

// idleWindow is how long the server's CPU is sampled with every idle
// connection open: a server that has nothing to do should use none.
const idleWindow = 3 * time.Second

// openTimeout bounds one connection's dial, request and response.
const openTimeout = 3 * time.Second

// runIdle opens n keep-alive connections, makes one request on each, and
// leaves them idle while it measures the server's RSS.
func runIdle(pid int, addr, path string, n int, want []byte) MemResult {
	m := MemResult{Target: n}
	settle()
	m.BaseRSS = TreeMem(pid).RSS
	cpu0 := TreeCPU(pid)
	start := time.Now()
	var tally errTally
	conns := openIdle(addr, path, n, want, &tally)
	m.Elapsed = time.Since(start)
	settle()
	mem := TreeMem(pid)
	m.PeakRSS, m.PeakHWM = mem.RSS, mem.HWM
	m.ServerCPU = TreeCPU(pid) - cpu0
	m.OK, m.Errors, m.FirstErr = len(conns), tally.n, tally.first
	if m.OK > 0 {
		m.PerConn = float64(m.PeakRSS-m.BaseRSS) / float64(m.OK)
	}
	cpu1, t1 := TreeCPU(pid), time.Now()
	time.Sleep(idleWindow)
	m.IdleCPU = float64(TreeCPU(pid)-cpu1) / float64(time.Since(t1))
	m.StillOpen = countOpen(conns)
	for _, c := range conns {
		c.Close()
	}
	return m
}

// settle gives the server a moment to finish what the last client did and
// return freed memory before RSS is sampled.
func settle() { time.Sleep(300 * time.Millisecond) }

// openIdle opens n connections, each after one correct request/response.
func openIdle(addr, path string, n int, want []byte, tally *errTally) []net.Conn {
	var (
		mu    sync.Mutex
		conns = make([]net.Conn, 0, n)
		wg    sync.WaitGroup
		jobs  = make(chan struct{}, n)
	)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	for range openWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if tally.count() >= openGiveUp {
					return
				}
				c, err := openOne(addr, req, want)
				if err != nil {
					tally.add(err)
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return conns
}

// openOne dials, sends req and checks the response, leaving the connection
// open for keep-alive.
func openOne(addr string, req, want []byte) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, openTimeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(openTimeout))
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 1024), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
	case resp.StatusCode != http.StatusOK:
		err = fmt.Errorf("status %d", resp.StatusCode)
	case resp.Close:
		err = errors.New("server asked to close the connection")
	case !bytes.Equal(body, want):
		err = fmt.Errorf("body of %d bytes, want %d", len(body), len(want))
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// countOpen reports how many connections the server has not closed: a read
// that times out means open, EOF or a reset means closed. One shared
// deadline keeps this to a fraction of a second for any n.
func countOpen(conns []net.Conn) int {
	deadline := time.Now().Add(100 * time.Millisecond)
	var one [1]byte
	open := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(deadline)
		_, err := c.Read(one[:])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			open++
		}
	}
	return open
}
