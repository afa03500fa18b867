package main

import (
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// SlowReadResult is the outcome of the slow-read scenario: the server's CPU
// while many connections wait, each with a 16 MiB response it cannot send
// because the client reads nothing, and wrk's throughput on a small file
// alone and beside them.
type SlowReadResult struct {
	Readers  int     `json:"readers"`   // connections that requested the big file
	Failed   int64   `json:"failed"`    // of them, dials or requests that failed
	WaitCPU  float64 `json:"wait_cpu"`  // median share of one core used with only the readers connected
	AloneRPS float64 `json:"alone_rps"` // median of the runs without the readers
	UnderRPS float64 `json:"under_rps"` // median of the runs beside them
	Ratio    float64 `json:"ratio"`     // median over pairs of runs of under / alone
}

// readWindow is how long the server's CPU is sampled with only the readers
// connected, after readSettle lets their responses fill the sockets.
const (
	readWindow = 3 * time.Second
	readSettle = time.Second
)

// readerMSS is the slow readers' TCP maximum segment size. Linux grows a
// sender's socket buffer with its congestion window, in segments: at
// loopback's 64 KiB MSS each stalled socket would hold up to 4 MiB of
// kernel memory (4 GiB for 1,000 readers); at 536 bytes, about 130 KiB.
// The server's work per stalled connection is the same.
const readerMSS = 536

// runSlowRead measures, in pairs of runs like runLoris: wrk alone; then
// -slow-readers connections that request the 16 MiB file through a 4 KiB
// receive buffer and never read; the server's CPU with only them
// connected; and wrk beside them.
func (h *Harness) runSlowRead(sc Scenario, in *instance, out *Outcome) {
	wo := h.warmedWrk(sc, in, "")
	res := &SlowReadResult{Readers: h.opt.SlowReaders}
	var alone, under, ratios, wait []float64
	for i := range h.opt.Runs {
		a := measureWrk(2*i, wo, in)
		out.Runs = append(out.Runs, a)
		readers, failed := openReaders(in.env.Addr(), "/16m.bin", h.opt.SlowReaders)
		res.Failed += failed
		time.Sleep(readSettle)
		cpu0, t0 := TreeCPU(in.srv.PID()), time.Now()
		time.Sleep(readWindow)
		wait = append(wait, float64(TreeCPU(in.srv.PID())-cpu0)/float64(time.Since(t0)))
		u := measureWrk(2*i+1, wo, in)
		out.Runs = append(out.Runs, u)
		for _, c := range readers {
			c.Close()
		}
		alone, under = append(alone, a.Wrk.RPS), append(under, u.Wrk.RPS)
		if a.Wrk.RPS > 0 {
			ratios = append(ratios, u.Wrk.RPS/a.Wrk.RPS)
		}
	}
	res.AloneRPS, res.UnderRPS = spreadOf(alone).Median, spreadOf(under).Median
	res.Ratio, res.WaitCPU = spreadOf(ratios).Median, spreadOf(wait).Median
	out.SlowRead = res
}

// readerDialer makes connections that take almost nothing from the server
// until they read (see readerMSS).
var readerDialer = net.Dialer{
	Timeout: 10 * time.Second,
	Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			if serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, readerMSS)
			}
		})
		if err != nil {
			return err
		}
		return serr
	},
}

// openReaders opens n connections that each send one GET for path and
// never read; it returns those that sent it and how many failed.
func openReaders(addr, path string, n int) ([]net.Conn, int64) {
	var (
		mu     sync.Mutex
		conns  = make([]net.Conn, 0, n)
		failed int64
		wg     sync.WaitGroup
		jobs   = make(chan struct{}, n)
	)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
	for range openWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				c, err := readerDialer.Dial("tcp", addr)
				if err == nil {
					if _, err = io.WriteString(c, req); err != nil {
						c.Close()
					}
				}
				mu.Lock()
				if err != nil {
					failed++
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return conns, failed
}

// slowReadRow renders the slow-read line of the report.
func slowReadRow(o Outcome) string {
	r := o.SlowRead
	if o.NA != "" || r == nil {
		return fmt.Sprintf("| %s | %s | n/a: %s | | | | |", o.Scenario, o.Server, mdEscape(o.NA))
	}
	readers := fmt.Sprintf("%d", r.Readers)
	if r.Failed > 0 {
		readers = fmt.Sprintf("⚠ %d, %d failed", r.Readers, r.Failed)
	}
	return fmt.Sprintf("| %s | %s | %s | %.1f%% | %s | %s | %.0f%% | %s |", o.Scenario, o.Server, readers,
		100*r.WaitCPU, thousands(r.AloneRPS), thousands(r.UnderRPS), 100*r.Ratio, summarize(o).errText())
}
