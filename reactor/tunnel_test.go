package reactor_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// floodTunnel has fill write to w until a write stalls for stallFor (the
// receiver stopped taking bytes, all the way back), or up to limit bytes,
// and returns how many it wrote.
func floodTunnel(w net.Conn, stallFor time.Duration, limit int) int {
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i)
	}
	total := 0
	for total < limit {
		w.SetWriteDeadline(time.Now().Add(stallFor))
		n, err := w.Write(buf)
		total += n
		if err != nil {
			break
		}
	}
	w.SetWriteDeadline(time.Time{})
	return total
}

// drainExact reads exactly n bytes of floodTunnel's pattern from r.
func drainExact(t *testing.T, r io.Reader, n int) {
	t.Helper()
	buf := make([]byte, 64<<10)
	got := 0
	for got < n {
		k, err := r.Read(buf[:min(len(buf), n-got)])
		for i := 0; i < k; i++ {
			if buf[i] != byte((got+i)%(64<<10)) {
				t.Fatalf("byte %d differs", got+i)
			}
		}
		got += k
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", got, n, err)
		}
	}
}

// TestProxyTunnelBackpressure: a WebSocket tunnel whose receiver stops
// reading holds its sender back, each way: the sender's writes stall
// after what the sockets' buffers and gale's high-water mark hold (some
// MiB), instead of gale reading on into memory or its spool file; once
// the receiver reads, every byte arrives, in order.
func TestProxyTunnelBackpressure(t *testing.T) {
	const limit = 256 << 20 // what a flood would reach without backpressure
	const bound = 48 << 20  // socket buffers on both sides and gale's mark
	for _, dir := range []string{"backend to client", "client to backend"} {
		t.Run(dir, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			backend := make(chan net.Conn, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					c.Close()
					return
				}
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				backend <- c
			}()
			s := startProxy(t, ln.Addr().String(), "", nil)
			c := s.dial(t)
			defer c.Close()
			io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			if err != nil || resp.StatusCode != 101 {
				t.Fatal(resp, err)
			}
			c.SetReadDeadline(time.Time{})
			var b net.Conn
			select {
			case b = <-backend:
			case <-time.After(5 * time.Second):
				t.Fatal("the backend got no handshake")
			}
			defer b.Close()

			sender, receiver := b, io.Reader(br)
			if dir == "client to backend" {
				sender, receiver = c, b
			}
			began := time.Now()
			sent := floodTunnel(sender, 500*time.Millisecond, limit)
			t.Logf("%s: %d KiB written before the writes stalled (%v)", dir, sent>>10, time.Since(began).Round(time.Millisecond))
			if sent >= bound {
				t.Fatalf("%d MiB went into the tunnel while nobody read: no backpressure", sent>>20)
			}
			drainExact(t, receiver, sent)
		})
	}
}
