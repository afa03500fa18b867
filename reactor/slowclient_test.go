package reactor_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
)

// TestTrickledHeaders408: 1,000 connections that send a request head one
// byte at a time, a byte every 150 ms, each get 408 and a close once the
// header timeout has passed since their first byte — trickling does not
// extend it — while a normal client is served meanwhile.
func TestTrickledHeaders408(t *testing.T) {
	const (
		n       = 1000
		timeout = 1500 * time.Millisecond
		gap     = 150 * time.Millisecond
	)
	s := start(t, reactor.Config{HeaderTimeout: timeout, Tick: 20 * time.Millisecond}, site)
	head := "GET /a.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: a-very-slow-client/1.0\r\n\r\n" // longer than timeout/gap bytes
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = s.dial(t)
	}
	began := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		bad     []string
		slowest time.Duration
	)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(4 * timeout))
			raw, err := io.ReadAll(c) // until the server closes
			took := time.Since(began)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				bad = append(bad, err.Error())
			case !strings.HasPrefix(string(raw), "HTTP/1.1 408 Request Timeout\r\n") || !strings.Contains(string(raw), "\r\nConnection: close\r\n"):
				bad = append(bad, "got "+string(raw))
			case took < timeout:
				bad = append(bad, "408 after "+took.String()+", before the header timeout")
			}
			if took > slowest {
				slowest = took
			}
		}()
	}
	// One writer trickles a byte to every connection each gap.
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for k := 0; k < len(head); k++ {
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write([]byte{head[k]}) // fails once the server closed: fine
			}
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
		}
	}()
	// A well-behaved client is served while the trickle goes on.
	time.Sleep(timeout / 2)
	resp, err := http.Get(s.url("/a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "alpha\n" {
		t.Fatalf("normal client during the trickle: %d %q", resp.StatusCode, body)
	}
	wg.Wait()
	close(stop)
	writer.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d of %d trickling connections not answered 408 properly; first: %s", len(bad), n, bad[0])
	}
	t.Logf("all %d got 408; the last after %v (header timeout %v)", n, slowest, timeout)
}
