package reactor_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/reactor"
)

var site = map[string]string{
	"index.html":     "<h1>home</h1>\n",
	"a.txt":          "alpha\n",
	"b.txt":          "bravo bravo\n",
	"dir/index.html": "<p>dir</p>\n",
	"style.css":      strings.Repeat("body { color: #123456; margin: 0 auto; }\n", 200),
}

func TestKeepAliveNetHTTP(t *testing.T) {
	s := start(t, reactor.Config{}, site)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	reused := 0
	for i := 0; i < 20; i++ {
		req, _ := http.NewRequest("GET", s.url("/a.txt"), nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused++
				}
			},
		}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "alpha\n" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		if resp.Header.Get("Date") == "" || resp.Header.Get("Server") != "gale" {
			t.Fatalf("missing Date/Server: %v", resp.Header)
		}
	}
	if reused != 19 {
		t.Fatalf("connection reused %d times of 19", reused)
	}
}

func TestPipelinedTenInOneWrite(t *testing.T) {
	s := start(t, reactor.Config{}, site)
	paths := []string{"/a.txt", "/b.txt", "/", "/nope", "/a.txt", "/dir/", "/b.txt", "/a.txt", "/style.css", "/a.txt"}
	var raw strings.Builder
	for i, p := range paths {
		method := "GET"
		if i == 4 {
			method = "HEAD"
		}
		fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: t\r\n\r\n", method, p)
	}
	c := s.dial(t)
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, raw.String()); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		method := "GET"
		if i == 4 {
			method = "HEAD"
		}
		resp, body := roundTrip(t, c, br, "", method)
		want, ok := site[strings.TrimPrefix(p, "/")]
		if p == "/" {
			want, ok = site["index.html"], true
		}
		if p == "/dir/" {
			want, ok = site["dir/index.html"], true
		}
		switch {
		case !ok && resp.StatusCode != 404:
			t.Fatalf("#%d %s: status %d, want 404", i, p, resp.StatusCode)
		case ok && resp.StatusCode != 200:
			t.Fatalf("#%d %s: status %d", i, p, resp.StatusCode)
		case ok && method == "HEAD" && (body != "" || resp.ContentLength != int64(len(want))):
			t.Fatalf("#%d HEAD: body %q, length %d", i, body, resp.ContentLength)
		case ok && method == "GET" && body != want:
			t.Fatalf("#%d %s: body %q, want %q", i, p, body, want)
		}
	}
}

func TestHTTP10AndConnectionHeader(t *testing.T) {
	s := start(t, reactor.Config{}, site)

	// HTTP/1.0 without keep-alive: answered, then closed (RFC 9112 9.3).
	c := s.dial(t)
	br := bufio.NewReader(c)
	resp, body := roundTrip(t, c, br, "GET /a.txt HTTP/1.0\r\n\r\n", "GET")
	if resp.StatusCode != 200 || body != "alpha\n" || !resp.Close {
		t.Fatalf("1.0: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	expectClosed(t, c, br, 3*time.Second)

	// HTTP/1.0 with keep-alive: the connection persists.
	c = s.dial(t)
	br = bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		resp, _ = roundTrip(t, c, br, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET")
		if resp.StatusCode != 200 || resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("1.0 keep-alive #%d: %d %v", i, resp.StatusCode, resp.Header)
		}
	}

	// HTTP/1.1 with Connection: close: answered with close, then closed.
	c = s.dial(t)
	br = bufio.NewReader(c)
	resp, _ = roundTrip(t, c, br, "GET /b.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
	if !resp.Close {
		t.Fatalf("want Connection: close, got %v", resp.Header)
	}
	expectClosed(t, c, br, 3*time.Second)
}

// TestErrorStatuses sends malformed or oversized requests and checks the
// status and that the connection is closed after it.
func TestErrorStatuses(t *testing.T) {
	s := start(t, reactor.Config{}, site)
	long := strings.Repeat("a", 9000)
	cases := []struct {
		name, raw string
		status    int
	}{
		{"not found", "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n", 404},
		{"dotfile", "GET /.env HTTP/1.1\r\nHost: t\r\n\r\n", 404},
		{"method not allowed", "DELETE /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", 405},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400},
		{"cl and te", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"te gzip", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"uri too long", "GET /" + long + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
		{"headers too large", "GET / HTTP/1.1\r\nHost: t\r\nX: " + strings.Repeat("b", 17000) + "\r\n\r\n", 431},
		{"body too large", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 20000000\r\n\r\n", 413},
		{"http 2.0", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505},
		{"traversal", "GET /../etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t)
			br := bufio.NewReader(c)
			resp, _ := roundTrip(t, c, br, tc.raw, "GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status >= 400 && tc.status != 404 && tc.status != 405 {
				if !resp.Close {
					t.Fatalf("status %d without Connection: close", tc.status)
				}
				expectClosed(t, c, br, 3*time.Second)
			}
		})
	}
}

func TestHeaderTimeout408(t *testing.T) {
	s := start(t, reactor.Config{HeaderTimeout: 300 * time.Millisecond, Tick: 20 * time.Millisecond}, site)
	c := s.dial(t)
	br := bufio.NewReader(c)
	began := time.Now()
	resp, _ := roundTrip(t, c, br, "GET /a.txt HTTP/1.1\r\nHost: t\r\n", "GET")
	if resp.StatusCode != 408 {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	if waited := time.Since(began); waited < 300*time.Millisecond {
		t.Fatalf("408 after %v, before the 300ms header timeout", waited)
	}
	expectClosed(t, c, br, 3*time.Second)
}

func TestIdleKeepAliveTimeout(t *testing.T) {
	s := start(t, reactor.Config{IdleTimeout: 300 * time.Millisecond, Tick: 20 * time.Millisecond}, site)
	c := s.dial(t)
	br := bufio.NewReader(c)
	resp, _ := roundTrip(t, c, br, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	began := time.Now()
	expectClosed(t, c, br, 3*time.Second)
	if waited := time.Since(began); waited < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", waited)
	}
}

// TestSendTimeout: a client that never reads a large response is closed.
func TestSendTimeout(t *testing.T) {
	s := start(t, reactor.Config{SendTimeout: 400 * time.Millisecond, Tick: 20 * time.Millisecond}, nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB: more than socket buffers hold
	if err := os.WriteFile(filepath.Join(s.root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	c := s.dial(t)
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // never read: the server must give up
	// What the socket buffers hold arrives, then the close (EOF, or a
	// reset): never the whole body, never a wait for more.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after %d bytes: %v: the stalled connection was not closed", n, err)
	}
	if n >= int64(len(big)) {
		t.Fatalf("read the whole %d bytes: the stalled connection was not closed", n)
	}
}

// TestGracefulShutdownInFlight: a slow download in progress when Shutdown
// starts completes intact, and Shutdown returns without error.
func TestGracefulShutdownInFlight(t *testing.T) {
	s := start(t, reactor.Config{}, nil)
	big := bytes.Repeat([]byte("gale-drain-test!"), 2<<20) // 32 MiB, streamed from disk
	if err := os.WriteFile(filepath.Join(s.root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	c := s.dial(t)
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		shut <- s.srv.Shutdown(ctx)
	}()
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var got int64
	for {
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		got += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		time.Sleep(time.Millisecond) // a slow reader: about 250 MiB/s at most
	}
	if want := sha256.Sum256(big); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("body corrupted: %d bytes", got)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not finish after the download")
	}
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
	s.stopped = true
}

func TestCurlCompressedAndRange(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is required (make test-deps installs it)")
	}
	s := start(t, reactor.Config{}, site)
	// Compressed variants are built in the background after the first
	// request caches the file: poll, bounded.
	var head, body string
	for i := 0; ; i++ {
		out, err := exec.Command(curl, "-sS", "--compressed", "-D", "-", s.url("/style.css")).CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v\n%s", err, out)
		}
		head, body, _ = strings.Cut(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n\n")
		lh := strings.ToLower(head)
		if strings.Contains(lh, "content-encoding: gzip") || strings.Contains(lh, "content-encoding: zstd") {
			break
		}
		if i == 100 {
			t.Fatalf("curl --compressed got no compressed variant after 2 s:\n%s", head)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body != site["style.css"] {
		t.Fatalf("decompressed body differs (%d bytes)", len(body))
	}
	out, err := exec.Command(curl, "-sS", "-r", "2-4", s.url("/b.txt")).CombinedOutput()
	if err != nil || string(out) != "avo" {
		t.Fatalf("curl -r 2-4: %q %v", out, err)
	}
}

// TestBodiesSkippedBeforeNextRequest: a request body no handler reads is
// framed exactly as declared (Content-Length or chunked) and skipped, so
// the pipelined request after it is answered on the same connection; a
// malformed chunked body gets 400 alone.
func TestBodiesSkippedBeforeNextRequest(t *testing.T) {
	s := start(t, reactor.Config{}, site)
	c := s.dial(t)
	br := bufio.NewReader(c)
	raw := "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nGET / HTTP/1.1" +
		"POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n" +
		"GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n"
	io.WriteString(c, raw)
	for i, want := range []int{405, 405, 200} {
		resp, body := roundTrip(t, c, br, "", "GET")
		if resp.StatusCode != want {
			t.Fatalf("#%d: status %d, want %d", i, resp.StatusCode, want)
		}
		if want == 200 && body != "bravo bravo\n" {
			t.Fatalf("body %q", body)
		}
	}

	c = s.dial(t)
	br = bufio.NewReader(c)
	resp, _ := roundTrip(t, c, br, "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", "GET")
	if resp.StatusCode != 400 {
		t.Fatalf("non-hex chunk size: status %d, want 400", resp.StatusCode)
	}
	expectClosed(t, c, br, 3*time.Second)
}

// TestLargeCachedBodiesBySendfile: cached representations from 32 KiB up
// go out with sendfile from the cache's memfd: identity, a range of it and
// the gzip variant arrive byte-exact, many times over one connection.
func TestLargeCachedBodiesBySendfile(t *testing.T) {
	text := strings.Repeat("line of a large cached stylesheet, compressible;\n", 4000) // ~196 KiB
	s := start(t, reactor.Config{}, map[string]string{"big.css": text})
	c := s.dial(t)
	br := bufio.NewReader(c)
	for i := 0; i < 20; i++ {
		resp, body := roundTrip(t, c, br, "GET /big.css HTTP/1.1\r\nHost: t\r\n\r\n", "GET")
		if resp.StatusCode != 200 || body != text {
			t.Fatalf("#%d: %d, %d bytes", i, resp.StatusCode, len(body))
		}
		resp, body = roundTrip(t, c, br, "GET /big.css HTTP/1.1\r\nHost: t\r\nRange: bytes=1000-60999\r\n\r\n", "GET")
		if resp.StatusCode != 206 || body != text[1000:61000] {
			t.Fatalf("#%d range: %d, %d bytes", i, resp.StatusCode, len(body))
		}
	}
	// The gzip variant is built in the background; once there, it is sent
	// by sendfile too (it is over 32 KiB only if the text compresses
	// poorly, so check the bytes whichever path it takes).
	deadline := time.Now().Add(3 * time.Second)
	for {
		req, _ := http.NewRequest("GET", s.url("/big.css"), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || string(plain) != text {
				t.Fatalf("gzip variant decompresses to %d bytes, %v", len(plain), err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no gzip variant after 3 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
