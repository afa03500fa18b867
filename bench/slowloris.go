package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// LorisResult is the outcome of the slowloris scenario: wrk's throughput
// with the server to itself, then beside connections that trickle request
// heads a byte at a time.
type LorisResult struct {
	Conns      int     `json:"conns"`       // trickling connections kept open
	Interval   string  `json:"interval"`    // between two bytes on one connection
	AloneRPS   float64 `json:"alone_rps"`   // median of the runs without the trickle
	UnderRPS   float64 `json:"under_rps"`   // median of the runs beside it
	Ratio      float64 `json:"ratio"`       // median over pairs of runs of under / alone
	Got408     int64   `json:"got_408"`     // trickling connections answered 408
	OtherClose int64   `json:"other_close"` // closed without a 408 (or dial errors)
	Open       int64   `json:"open_at_end"` // trickling connections open when the last run ended
}

// lorisInterval is the gap between two bytes of one trickling connection:
// slow enough to be an attack (a head takes minutes), fast enough to beat
// any idle timeout that is not a header timeout.
const lorisInterval = 2 * time.Second

// lorisHead is what each trickling connection sends, one byte at a time.
var lorisHead = []byte("GET /4k.bin HTTP/1.1\r\nHost: bench\r\nUser-Agent: slowloris\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")

// runLoris measures wrk alone, then beside the trickle (started afresh and
// fully open before wrk starts), in pairs: the machine's load drifts, and
// the ratio within a pair is steadier than a ratio of medians.
func (h *Harness) runLoris(sc Scenario, in *instance, out *Outcome) {
	wo := h.warmedWrk(sc, in, "")
	res := &LorisResult{Conns: h.opt.LorisConns, Interval: lorisInterval.String()}
	var alone, under, ratios []float64
	for i := range h.opt.Runs {
		a := measureWrk(2*i, wo, in)
		out.Runs = append(out.Runs, a)
		t := startTrickle(in.env.Addr(), h.opt.LorisConns)
		if err := t.waitOpen(30 * time.Second); err != nil {
			t.stop()
			out.NA = err.Error()
			return
		}
		u := measureWrk(2*i+1, wo, in)
		out.Runs = append(out.Runs, u)
		res.Open = t.open.Load()
		t.stop()
		res.Got408 += t.got408.Load()
		res.OtherClose += t.other.Load()
		alone, under = append(alone, a.Wrk.RPS), append(under, u.Wrk.RPS)
		if a.Wrk.RPS > 0 {
			ratios = append(ratios, u.Wrk.RPS/a.Wrk.RPS)
		}
	}
	res.AloneRPS, res.UnderRPS = spreadOf(alone).Median, spreadOf(under).Median
	res.Ratio = spreadOf(ratios).Median
	out.Loris = res
}

// trickle keeps n connections open that send lorisHead a byte per
// lorisInterval; a connection the server closes is replaced.
type trickle struct {
	addr   string
	done   chan struct{}
	wg     sync.WaitGroup
	open   atomic.Int64
	got408 atomic.Int64
	other  atomic.Int64
	target int
}

func startTrickle(addr string, n int) *trickle {
	t := &trickle{addr: addr, done: make(chan struct{}), target: n}
	for i := range n {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			// Stagger the first dials over a second, so the attack is a
			// steady trickle rather than one burst of bytes a tick.
			if !t.sleep(time.Duration(i) * time.Second / time.Duration(n)) {
				return
			}
			for t.one() {
			}
		}()
	}
	return t
}

// sleep waits d unless the trickle stops first.
func (t *trickle) sleep(d time.Duration) bool {
	select {
	case <-t.done:
		return false
	case <-time.After(d):
		return true
	}
}

// one runs one trickling connection until the server closes it; it
// reports whether to start another.
func (t *trickle) one() bool {
	c, err := net.DialTimeout("tcp", t.addr, 5*time.Second)
	if err != nil {
		t.other.Add(1)
		return t.sleep(lorisInterval)
	}
	defer c.Close()
	t.open.Add(1)
	defer t.open.Add(-1)
	var buf [512]byte
	for i := 0; ; i = (i + 1) % len(lorisHead) {
		select {
		case <-t.done:
			return false
		default:
		}
		if _, err := c.Write(lorisHead[i : i+1]); err != nil {
			t.other.Add(1)
			return true
		}
		// The read wait is the pause between bytes; an answer ends it.
		_ = c.SetReadDeadline(time.Now().Add(lorisInterval))
		n, err := c.Read(buf[:])
		switch {
		case n > 0 && bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 408 ")):
			t.got408.Add(1)
			return true
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		default:
			t.other.Add(1)
			return true
		}
	}
}

// waitOpen waits until every trickling connection is open.
func (t *trickle) waitOpen(within time.Duration) error {
	deadline := time.Now().Add(within)
	for t.open.Load() < int64(t.target) {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d trickling connections open after %v", t.open.Load(), t.target, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func (t *trickle) stop() {
	close(t.done)
	t.wg.Wait()
}

// lorisRow renders the slowloris line of the report.
func lorisRow(o Outcome) string {
	l := o.Loris
	if o.NA != "" || l == nil {
		return fmt.Sprintf("| %s | %s | n/a: %s | | | | |", o.Scenario, o.Server, mdEscape(o.NA))
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %.1f%% | %d open, %d × 408, %d other | %s |", o.Scenario, o.Server,
		thousands(l.AloneRPS), thousands(l.UnderRPS), 100*(1-l.Ratio), l.Open, l.Got408, l.OtherClose, summarize(o).errText())
}
