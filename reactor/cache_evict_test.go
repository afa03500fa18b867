package reactor_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
)

// bigByte is byte i of version v of the big body: every offset and
// version differs, so a byte read from the wrong place shows.
func bigByte(v, i int) byte { return byte(i*131 + i>>9 + v*71) }

// TestCacheEvictedUnderSlowClient: a cached body far larger than the
// socket buffers is being written to a client that does not read; its
// entry is purged and its page evicted by other entries (and the pages
// mapped after it), and the client then reads every byte of the version
// it was sent. The response cache's pages are unmapped when evicted, so
// this holds only because the page stays pinned until the write queue
// drains; once it has, the page's memory goes back.
func TestCacheEvictedUnderSlowClient(t *testing.T) {
	const (
		bigSize  = 6 << 20 // well past what the socket buffers take
		fillSize = 512 << 10
		budget   = 32 << 20
	)
	var version atomic.Int64
	o := startOrigin(t, func(o *origin, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		if r.URL.Path != "/big" {
			w.Header().Set("Content-Length", strconv.Itoa(fillSize))
			w.Write(make([]byte, fillSize))
			return
		}
		v := int(version.Add(1))
		w.Header().Set("X-Version", strconv.Itoa(v))
		w.Header().Set("Content-Length", strconv.Itoa(bigSize))
		b := make([]byte, bigSize)
		for i := range b {
			b[i] = bigByte(v, i)
		}
		w.Write(b)
	})
	c := handlers.NewRespCache(budget, bigSize)
	s := startCached(t, o.addr, &handlers.CachePolicy{Cache: c})
	cget(t, s, "/big") // stored (its head went before its end: no "stored" in it)

	// The slow client: a receive buffer of a few KiB (set before the
	// handshake, so the window is small too), and no reading yet.
	d := net.Dialer{Timeout: 2 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	slow, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /big HTTP/1.1\r\nHost: example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the hit is queued, mostly unsent

	// The client reads its first half slowly while the entry is purged
	// and its page pushed out, and /big stored again (a new version) in
	// pages mapped after the old one went (or would have); then it waits
	// for the rest of the eviction, and reads the other half.
	if n := c.PurgeKey("example.com/big", false); n != 1 {
		t.Fatalf("purge: %d", n)
	}
	rest, read := make(chan struct{}), make(chan error, 1)
	go func() { read <- readBig(slow, bigSize, rest) }()
	restOnce := sync.OnceFunc(func() { close(rest) })
	defer restOnce() // a failure below must not leave the reader waiting
	for i := range 2 * budget / fillSize {
		cget(t, s, fmt.Sprintf("/fill/%d", i))
	}
	if r, b := cget(t, s, "/big"); r.Header.Get("X-Version") != "2" || len(b) != bigSize || b[1000] != bigByte(2, 1000) {
		t.Fatalf("/big after the purge: version %q, %d bytes", r.Header.Get("X-Version"), len(b))
	}
	for i := range 2 * budget / fillSize {
		cget(t, s, fmt.Sprintf("/fill2/%d", i))
	}
	held, _, ev := c.Usage()
	if ev < 2*budget/fillSize {
		t.Fatalf("%d evictions: the big page may not have gone", ev)
	}
	restOnce()
	if err := <-read; err != nil {
		t.Fatal(err)
	}

	// Written: the evicted page is released, and unmapped, which the
	// cache's count of what it holds shows.
	deadline := time.Now().Add(2 * time.Second)
	for {
		after, _, _ := c.Usage()
		if after <= held-bigSize {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache holds %d bytes, %d before the slow client read: the page was not released", after, held)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readBig reads the response to GET /big from c, slowly (4 KiB a
// millisecond), checking every byte against version 1; past half the
// body it waits for rest to close.
func readBig(c net.Conn, size int, rest chan struct{}) error {
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), &http.Request{Method: "GET"})
	if err != nil {
		return err
	}
	if resp.Header.Get("X-Version") != "1" || resp.ContentLength != int64(size) {
		return fmt.Errorf("slow client's head: %v", resp.Header)
	}
	buf := make([]byte, 4096)
	for at := 0; at < size; {
		if at >= size/2 && rest != nil {
			<-rest
			rest = nil
		}
		n, err := resp.Body.Read(buf)
		for i := range n {
			if buf[i] != bigByte(1, at+i) {
				return fmt.Errorf("byte %d: %#x, want %#x", at+i, buf[i], bigByte(1, at+i))
			}
		}
		at += n
		if err != nil && at < size {
			return fmt.Errorf("after %d bytes: %w", at, err)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}
