package reactor_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/httpproxy"
	"golang.org/x/sys/unix"
)

// startProxy runs gale with every request proxied to the HTTP backend at
// addr ("host:port" or "unix:/path"), files from root served first when
// root is not "".
func startProxy(t *testing.T, addr string, root string, u *upstream.Upstream) *server {
	t.Helper()
	testenv.CheckLeaks(t)
	bs, err := upstream.ParseAddrs(addr)
	if err != nil {
		t.Fatal(err)
	}
	if u == nil {
		u = &upstream.Upstream{}
	}
	u.Name, u.Backends, u.Protocol = "app", bs, httpproxy.Protocol
	u.Init(2)
	var static *handlers.Static
	if root != "" {
		static, err = handlers.NewStatic(handlers.DefaultStaticConfig(root))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { static.Close() })
	}
	rt := &handlers.Router{}
	rt.Handle("/", handlers.NewProxy(u, static))
	cfg := reactor.Config{Handler: rt, Loops: 2, Addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	srv, err := reactor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{srv: srv, addr: cfg.Addr, root: root, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-s.done:
		t.Fatalf("serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// goBackend serves h with net/http on a loopback port; it counts the
// connections it accepted.
func goBackend(t *testing.T, h http.Handler, idle time.Duration) (string, *countingListener) {
	t.Helper()
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{Listener: nl}
	hs := &http.Server{Handler: h, IdleTimeout: idle}
	done := make(chan struct{})
	go func() { hs.Serve(l); close(done) }()
	t.Cleanup(func() { hs.Close(); <-done })
	return nl.Addr().String(), l
}

// echoHandler answers with what it received: method, target, the fields
// gale sent, and the body's length and SHA-256.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sum := sha256.Sum256(body)
	w.Header().Set("X-Method", r.Method)
	w.Header().Set("X-Target", r.RequestURI)
	w.Header().Set("X-Host", r.Host)
	w.Header().Set("X-Len", fmt.Sprint(len(body), " ", r.ContentLength, " ", r.TransferEncoding))
	w.Header().Set("X-Sum", hex.EncodeToString(sum[:]))
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "X-Hop", "Te", "Expect", "Cookie", "Keep-Alive"} {
		w.Header().Set("Echo-"+k, strings.Join(r.Header.Values(k), "|"))
	}
	w.Header().Set("Connection", "X-Secret")
	w.Header().Set("X-Secret", "for gale only")
	w.Header().Add("Set-Cookie", "a=1")
	w.Header().Add("Set-Cookie", "b=2")
	io.WriteString(w, "ok")
}

func TestProxyGoBackend(t *testing.T) {
	addr, l := goBackend(t, http.HandlerFunc(echoHandler), 0)
	s := startProxy(t, addr, "", nil)
	c := s.dial(t)
	br := bufio.NewReader(c)

	resp, body := roundTrip(t, c, br, "GET /p/a?x=1&y=%20 HTTP/1.1\r\nHost: example.org\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"+
		"TE: trailers\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nCookie: c=1\r\n\r\n", "GET")
	want := map[string]string{
		"X-Method": "GET", "X-Target": "/p/a?x=1&y=%20", "X-Host": "example.org",
		"Echo-X-Forwarded-For": "127.0.0.1", "Echo-X-Forwarded-Proto": "http", "Echo-X-Forwarded-Host": "example.org",
		"Echo-Forwarded": `for=127.0.0.1;host="example.org";proto=http`, "Echo-X-Hop": "", "Echo-Te": "", "Echo-Cookie": "c=1",
		"X-Secret": "", "Connection": "", "Server": "gale",
	}
	if body != "ok" || resp.StatusCode != 200 {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 2 {
		t.Errorf("Set-Cookie %q", got)
	}

	// A 10 MiB upload arrives whole, with its length; a chunked one with
	// its exact length too.
	up := make([]byte, 10<<20)
	rand.Read(up)
	sum := sha256.Sum256(up)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	go fmt.Fprintf(c, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n%s", len(up), up)
	resp, _ = roundTrip(t, c, br, "", "POST")
	if resp.StatusCode == 100 {
		resp, _ = roundTrip(t, c, br, "", "POST")
	}
	if resp.Header.Get("X-Sum") != hex.EncodeToString(sum[:]) || resp.Header.Get("X-Len") != fmt.Sprint(len(up), " ", len(up), " []") || resp.Header.Get("Echo-Expect") != "" {
		t.Fatalf("upload: %v", resp.Header)
	}
	resp, _ = roundTrip(t, c, br, "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "POST")
	if resp.Header.Get("X-Len") != "11 11 []" {
		t.Fatalf("chunked upload: %q", resp.Header.Get("X-Len"))
	}
	resp, body = roundTrip(t, c, br, "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD")
	if resp.StatusCode != 200 || body != "" || resp.Header.Get("X-Method") != "HEAD" {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}
	// All of it on one upstream connection: keep-alive.
	if n := l.accepted.Load(); n != 1 {
		t.Errorf("%d upstream connections for 4 requests", n)
	}
}

// Responses of every framing reach the client intact, re-framed by gale.
func TestProxyResponseFramings(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16) // beyond the head buffer
	mux := http.NewServeMux()
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 3; i++ {
			io.WriteString(w, "part ")
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
	mux.HandleFunc("/204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/304", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"x"`)
		w.WriteHeader(304)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/there", 302) })
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "closing")
	})
	addr, l := goBackend(t, mux, 0)
	s := startProxy(t, addr, "", nil)
	c := s.dial(t)
	br := bufio.NewReader(c)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/chunked", 200, "part part part "},
		{"/big", 200, string(big)},
		{"/204", 204, ""},
		{"/304", 304, ""},
		{"/redirect", 302, ""},
		{"/nothing", 404, "404 page not found\n"},
		{"/close", 200, "closing"},
		{"/chunked", 200, "part part part "},
	} {
		resp, body := roundTrip(t, c, br, "GET "+tc.path+" HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
		if resp.StatusCode != tc.status || body != tc.body && tc.status != 302 {
			t.Fatalf("%s: %d, %d bytes", tc.path, resp.StatusCode, len(body))
		}
		if tc.path == "/redirect" && resp.Header.Get("Location") != "/there" {
			t.Fatalf("Location %q", resp.Header.Get("Location"))
		}
	}
	// The backend's Connection: close cost one more connection, no more.
	if n := l.accepted.Load(); n != 2 {
		t.Errorf("%d upstream connections, want 2", n)
	}
}

// rawHTTPBackend answers every request it reads on a connection with
// answer(n), n counting requests on that connection, then closes the
// connection when close(n) says so.
func rawHTTPBackend(t *testing.T, answer func(n int) string, closeAfter func(n int) bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 1; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					io.WriteString(c, answer(n))
					if closeAfter(n) {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// Response smuggling: a backend's ambiguous framing is a 502 for its
// client, never passed on; a close-delimited body and an HTTP/1.0
// backend are fine.
func TestProxyRawBackends(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		closeAfter   bool
		status       int
		body         string
	}{
		{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, 502, ""},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", false, 502, ""},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 502, ""},
		{"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", false, 502, ""},
		{"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false, 502, ""},
		{"an extra response", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil", false, 0, ""},
		{"close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close", true, 200, "until the close"},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", true, 200, "old"},
		{"100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, 200, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawHTTPBackend(t, func(int) string { return tc.answer }, func(int) bool { return tc.closeAfter })
			s := startProxy(t, addr, "", nil)
			for i := 0; i < 3; i++ {
				c := s.dial(t)
				br := bufio.NewReader(c)
				resp, body := roundTrip(t, c, br, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
				if tc.status == 0 {
					// Either the response before the garbage, or 502 when
					// both arrived in one read: never "evil".
					if body == "evil" || resp.StatusCode != 200 && resp.StatusCode != 502 {
						t.Fatalf("%d %q", resp.StatusCode, body)
					}
					continue
				}
				if resp.StatusCode != tc.status || tc.status == 200 && body != tc.body {
					t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
				}
			}
		})
	}
}

// The keep-alive race: a backend that closes idle connections after 100 ms
// (gunicorn after 2 s, uvicorn after 5 s), asked at random intervals
// around that, never costs a client an error.
func TestProxyIdleCloseRace(t *testing.T) {
	addr, l := goBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), 100*time.Millisecond)
	s := startProxy(t, addr, "", nil)
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 1; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				n, _ := rand.Int(rand.Reader, big.NewInt(40))
				time.Sleep(time.Duration(85+n.Int64()) * time.Millisecond)
				resp, err := client.Get(s.url("/x"))
				if err != nil {
					errs <- err
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != "ok" {
					errs <- fmt.Errorf("%d %q", resp.StatusCode, b)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d upstream connections for 40 requests", l.accepted.Load())
}

// Server-Sent Events are streamed: the head reaches the client before any
// event exists, and the first event while the backend still holds the
// stream open.
func TestProxyEventStream(t *testing.T) {
	release, headSeen := make(chan struct{}), make(chan struct{})
	addr, _ := goBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-headSeen:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "data: last\n\n")
	}), 0)
	s := startProxy(t, addr, "", nil)
	defer close(release)
	c := s.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /events HTTP/1.1\r\nHost: h\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("head before the first event: %v", err)
	}
	close(headSeen)
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event: %q %v", line, err)
	}
}

// gale -root DIR -proxy ADDR: files from DIR, everything else from the
// application.
func TestProxyStaticFirst(t *testing.T) {
	addr, _ := goBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app "+r.Method+" "+r.URL.Path) }), 0)
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "style.css"), []byte("body{}"), 0o644)
	s := startProxy(t, addr, root, nil)
	for path, want := range map[string]string{"/style.css": "body{}", "/login": "app GET /login", "/": "app GET /"} {
		resp, err := http.Get(s.url(path))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("%s: %q, want %q", path, b, want)
		}
	}
	resp, err := http.Post(s.url("/style.css"), "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "app POST /style.css" {
		t.Errorf("POST to a file: %q", b)
	}
}

// A backend closing idle connections (gunicorn's keepalive, 2 s) is not
// taken for one that closes after every request: its responses said
// keep-alive, so gale goes on reusing its connections while they are busy.
func TestProxyIdleCloseKeepsReuse(t *testing.T) {
	addr, l := goBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), 50*time.Millisecond)
	s := startProxy(t, addr, "", &upstream.Upstream{MaxConns: 1})
	client := &http.Client{Timeout: 5 * time.Second}
	get := func() {
		resp, err := client.Get(s.url("/x"))
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	for i := 0; i < 5; i++ { // each connection closed idle after one request
		get()
		time.Sleep(150 * time.Millisecond)
	}
	before := l.accepted.Load()
	for i := 0; i < 20; i++ {
		get()
	}
	if n := l.accepted.Load() - before; n > 2 {
		t.Errorf("%d upstream connections for 20 back-to-back requests: keep-alive given up", n)
	}
}

// wsEcho answers a WebSocket handshake with 101 and then echoes raw bytes
// until the client closes (the framing is the peers' business: gale only
// tunnels). Any other request gets 426.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("Connection") != "Upgrade" {
		http.Error(w, "upgrade: "+r.Header.Get("Upgrade")+" connection: "+r.Header.Get("Connection"), 426)
		return
	}
	c, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+r.Header.Get("Sec-WebSocket-Key")+"\r\n\r\n")
	buf := make([]byte, 64<<10)
	for {
		n, err := brw.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// A WebSocket handshake goes through to the backend, whose 101 turns the
// two connections into a tunnel: bytes both ways, in order, until either
// side closes; the client's close reaches the backend.
func TestProxyWebSocketTunnel(t *testing.T) {
	addr, l := goBackend(t, http.HandlerFunc(wsEcho), 0)
	s := startProxy(t, addr, "", nil)
	c := s.dial(t)
	br := bufio.NewReader(c)
	// The first frame rides with the handshake: it waits for the 101.
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: k1\r\nSec-WebSocket-Version: 13\r\n\r\nearly ")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Connection") != "Upgrade" || resp.Header.Get("Sec-WebSocket-Accept") != "k1" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	want := "early "
	got := make([]byte, 0, 4<<20)
	read := func() {
		for len(got) < len(want) {
			buf := make([]byte, 64<<10)
			n, err := br.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				t.Fatalf("after %d of %d bytes: %v", len(got), len(want), err)
			}
		}
		if string(got) != want {
			t.Fatalf("echo differs (%d bytes, want %d)", len(got), len(want))
		}
	}
	read()
	// A few MiB each way, written while the echo comes back.
	big := make([]byte, 3<<20)
	rand.Read(big)
	go c.Write(big)
	want += string(big)
	read()
	c.Close()
	// The backend sees the close: its connection ends, and gale's budget
	// is back (a plain request still works, on a new connection).
	deadline := time.Now().Add(3 * time.Second)
	for l.open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := l.open.Load(); n != 0 {
		t.Fatalf("%d backend connections still open after the client left", n)
	}
	resp2, err := http.Get(s.url("/plain"))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 426 {
		t.Fatalf("plain request: %d", resp2.StatusCode)
	}
}

// The backend ending the tunnel closes the client connection; a 101 that
// nobody asked for is a 502.
func TestProxyTunnelBackendCloses(t *testing.T) {
	addr := rawHTTPBackend(t, func(int) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye"
	}, func(int) bool { return true })
	s := startProxy(t, addr, "", nil)
	c := s.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != 101 {
		t.Fatal(resp, err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "bye" {
		t.Fatalf("%q %v", rest, err)
	}
	c2 := s.dial(t)
	resp, _ = roundTrip(t, c2, bufio.NewReader(c2), "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
	if resp.StatusCode != 502 {
		t.Fatalf("unasked 101: %d", resp.StatusCode)
	}
}

// A backend on a unix socket (gunicorn -b unix:/run/app.sock).
func TestProxyUnixBackend(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "app.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(echoHandler)}
	done := make(chan struct{})
	go func() { hs.Serve(ln); close(done) }()
	t.Cleanup(func() { hs.Close(); <-done })
	s := startProxy(t, "unix:"+sock, "", nil)
	resp, err := http.Get(s.url("/u?x"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Target") != "/u?x" || resp.Header.Get("Echo-X-Forwarded-For") != "127.0.0.1" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
}

// TestProxyEarlyHints: a backend's 103 Early Hints reaches an HTTP/1.1
// client before the final response, its fields as sent (RFC 8297); a 100
// is not forwarded; an HTTP/1.0 client, which cannot take a 1xx, gets the
// final response only. Exact bytes up to the final head's Date.
func TestProxyEarlyHints(t *testing.T) {
	answer := "HTTP/1.1 100 Continue\r\n\r\n" +
		"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nLink: </app.js>; rel=preload\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	addr := rawHTTPBackend(t, func(int) string { return answer }, func(int) bool { return false })
	s := startProxy(t, addr, "", nil)
	for _, tc := range []struct {
		req, want string
	}{
		{"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nLink: </app.js>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n"},
		{"GET / HTTP/1.0\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\n"},
	} {
		c := s.dial(t)
		if _, err := io.WriteString(c, tc.req); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, len(tc.want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != tc.want {
			t.Fatalf("%q: got %q (%v), want %q", tc.req, got, err, tc.want)
		}
		resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader("HTTP/1.1 200 OK\r\n"), c)), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "ok" {
			t.Fatalf("%q: final body %q", tc.req, body)
		}
		c.Close()
	}
}

// TestIdleBudgetElsewhere: with a budget of one connection across two
// loops, the connection idle on one loop is given up at once for a request
// on the other, instead of that request waiting for the idle timeout (or
// the queue timeout's 503). Each request comes on a new client connection,
// so the requests alternate between the loops.
func TestIdleBudgetElsewhere(t *testing.T) {
	addr, _ := goBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), 0)
	s := startProxy(t, addr, "", &upstream.Upstream{MaxConns: 1, QueueTimeout: 2 * time.Second})
	for i := 0; i < 6; i++ {
		c := s.dial(t)
		began := time.Now()
		resp, body := roundTrip(t, c, bufio.NewReader(c), "GET /x HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
		c.Close()
		if d := time.Since(began); resp.StatusCode != 200 || body != "ok" || d > time.Second {
			t.Fatalf("request %d: %d %q after %v", i, resp.StatusCode, body, d.Round(time.Millisecond))
		}
	}
}

// TestUnixBacklogFull: a unix-socket backend whose listen queue is full
// (connect fails with EAGAIN) does not fail the request: the dial falls
// back to one that waits for room, and the request is answered once the
// backend accepts again.
func TestUnixBacklogFull(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "app.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), sock)
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Fill the queue: connects that nobody accepts, until one would block.
	var fillers []int
	defer func() {
		for _, c := range fillers {
			unix.Close(c)
		}
	}()
	for i := 0; i < 16; i++ {
		c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fillers = append(fillers, c)
		if err := unix.Connect(c, &unix.SockaddrUnix{Name: sock}); err == unix.EAGAIN {
			break
		}
	}
	s := startProxy(t, "unix:"+sock, "", nil)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.url("/x"))
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	select {
	case g := <-got:
		t.Fatalf("answered while the backend's queue was full: %s", g)
	case <-time.After(300 * time.Millisecond):
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	select {
	case g := <-got:
		if g != "200 ok" {
			t.Fatalf("after the backend accepted again: %s", g)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer after the backend accepted again")
	}
}
