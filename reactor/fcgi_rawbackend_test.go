package reactor_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/fastcgi"
)

// rawBackend is a FastCGI peer written for fault injection: it parses
// what gale sends with the fastcgi codec and answers each request with
// exactly the bytes its script writes, garbage included.
type rawBackend struct {
	ln   net.Listener
	mpxs bool
	// script answers one request (its ID) on its connection; it runs on
	// its own goroutine while the connection keeps reading.
	script func(c *rawConn, id uint16)

	mu      sync.Mutex
	begins  int // BEGIN_REQUEST records seen
	reqConn int // connections that carried a request
	events  chan rawEvent
	wg      sync.WaitGroup
}

// rawEvent is something the backend saw: a record type for an ID on a
// connection (its serial number), or the connection's end (typ 0).
type rawEvent struct {
	conn int
	typ  uint8
	id   uint16
}

// rawConn is one accepted connection.
type rawConn struct {
	net.Conn
	serial int
	wmu    sync.Mutex
}

// write sends b whole, serialized with the other writers.
func (c *rawConn) write(b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.Conn.Write(b)
}

// stdout is the STDOUT record(s) for s on id.
func stdout(id uint16, s string) []byte {
	var b []byte
	for len(s) > 0 {
		n := min(len(s), 65535)
		b = fastcgi.AppendStream(b, fastcgi.TypeStdout, id, []byte(s[:n]), false)
		s = s[n:]
	}
	return b
}

func endReq(id uint16) []byte { return fastcgi.AppendEndRequest(nil, id, 0, 0) }

func startRawBackend(t *testing.T, mpxs bool, script func(c *rawConn, id uint16)) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{ln: ln, mpxs: mpxs, script: script, events: make(chan rawEvent, 1024)}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for serial := 1; ; serial++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.serve(&rawConn{Conn: c, serial: serial})
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.wg.Wait()
	})
	return b
}

func (b *rawBackend) serve(c *rawConn) {
	defer c.Close()
	var scripts sync.WaitGroup
	defer scripts.Wait()
	br := bufio.NewReader(c)
	counted := false
	for {
		var h [fastcgi.HeaderLen]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			if counted {
				b.events <- rawEvent{conn: c.serial}
			}
			return
		}
		hd := fastcgi.DecodeHeader(h[:])
		body := make([]byte, int(hd.ContentLength)+int(hd.PaddingLength))
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		switch {
		case hd.Type == fastcgi.TypeGetValues:
			v := "0"
			if b.mpxs {
				v = "1"
			}
			pairs := append([]byte{15, 1}, "FCGI_MPXS_CONNS"+v...)
			c.write(append(fastcgi.AppendHeader(nil, fastcgi.TypeGetValuesResult, 0, len(pairs), 0), pairs...))
			continue
		case hd.Type == fastcgi.TypeBeginRequest:
			b.mu.Lock()
			b.begins++
			if !counted {
				b.reqConn++
			}
			b.mu.Unlock()
			counted = true
		case hd.Type == fastcgi.TypeStdin && hd.ContentLength == 0:
			id := hd.ID
			scripts.Add(1)
			go func() {
				defer scripts.Done()
				b.script(c, id)
			}()
		}
		if hd.Type != fastcgi.TypeParams && hd.Type != fastcgi.TypeStdin {
			b.events <- rawEvent{conn: c.serial, typ: hd.Type, id: hd.ID}
		}
	}
}

// counts returns the BEGIN_REQUESTs and request connections seen.
func (b *rawBackend) counts() (begins, conns int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.begins, b.reqConn
}

// await waits for an event matching want, skipping others.
func (b *rawBackend) await(t *testing.T, what string, want func(rawEvent) bool) rawEvent {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-b.events:
			if want(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("backend never saw %s", what)
		}
	}
}

// startRaw puts an in-process gale in front of b, with its log captured.
func startRaw(t *testing.T, b *rawBackend, u *upstream.Upstream) (*server, *logBuffer, *upstream.Backend) {
	t.Helper()
	backends, err := upstream.ParseAddrs(b.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if u == nil {
		u = &upstream.Upstream{}
	}
	u.Name, u.Backends = "raw", backends
	logs := &logBuffer{}
	cfg := reactor.Config{Loops: 1, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	return startWith(t, cfg, appScripts, u), logs, backends[0]
}

// readAll reads c until EOF or the deadline; a reset counts as the end.
func readAll(t *testing.T, c net.Conn, within time.Duration) ([]byte, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return b, err
	}
	return b, nil
}

// waitConns waits until the backend's connection budget in use drops to n.
func waitConns(t *testing.T, b *upstream.Backend, n int) {
	t.Helper()
	for i := 0; b.Conns() != n; i++ {
		if i == 100 {
			t.Fatalf("backend connections in use: %d, want %d", b.Conns(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
