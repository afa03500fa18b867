package reactor_test

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/uwsgi"
)

// uwsgiApp is a plain WSGI application for uWSGI's --socket: it describes
// the request and its body, answers with a length, chunked (framed by the
// application itself: uWSGI passes it through) or up to the close, and
// streams.
const uwsgiApp = `import hashlib, time

def application(env, start_response):
    path = env['PATH_INFO']
    if path == '/stream':
        start_response('200 OK', [('Content-Type', 'text/plain'), ('X-Accel-Buffering', 'no')])
        def gen():
            yield b'first\n'
            time.sleep(1)
            yield b'second\n'
        return gen()
    if path == '/chunked':
        start_response('201 Created', [('Content-Type', 'text/plain'), ('Transfer-Encoding', 'chunked')])
        return [b'3\r\nabc\r\n', b'4\r\ndefg\r\n0\r\n\r\n']
    if path == '/close':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'no ', b'length']
    body = env['wsgi.input'].read()
    out = ("method=%s script=%s info=%s q=%s cl=%s len=%d sha256=%s" % (
        env['REQUEST_METHOD'], env.get('SCRIPT_NAME'), env.get('PATH_INFO'), env.get('QUERY_STRING'),
        env.get('CONTENT_LENGTH'), len(body), hashlib.sha256(body).hexdigest())).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(out))), ('X-Host', env.get('HTTP_HOST', ''))])
    return [out]
`

// startUWSGISocket runs uWSGI with a uwsgi socket (--socket, what nginx's
// uwsgi_pass connects to) on a loopback port, serving uwsgiApp; extra are
// more uWSGI options.
func startUWSGISocket(t *testing.T, extra ...string) string {
	t.Helper()
	return startUWSGIApp(t, uwsgiApp, append([]string{"--socket", "ADDR"}, extra...)...)
}

// startUWSGIGaleSocket runs gale in front of the uwsgi socket at addr,
// with client header sections up to 128 KiB, and returns its error log.
func startUWSGIGaleSocket(t *testing.T, addr string) (*server, *logBuffer) {
	t.Helper()
	u := &upstream.Upstream{Name: "uwsgi", Protocol: uwsgi.Protocol, Backends: []*upstream.Backend{{Network: "tcp", Address: addr}}}
	u.Init(2)
	logs := &logBuffer{}
	lim := httpcodec.DefaultLimits()
	lim.MaxHeaderBytes = 128 << 10
	return startWith(t, reactor.Config{Handler: wsgiRoute{u}, Limits: &lim, Logger: slog.New(slog.NewTextHandler(logs, nil))}, nil, nil), logs
}

// TestUWSGIProtocol: a WSGI application on uWSGI's --socket behind gale,
// over the uwsgi protocol: a GET with a query, a POST body's checksum, a
// chunked upload that reaches the application with its exact length,
// responses delimited by a length, by chunks and by the close, a streamed
// one, all on one client connection; and a request whose uwsgi vars would
// exceed 65535 bytes gets 431 without reaching uWSGI.
func TestUWSGIProtocol(t *testing.T) {
	s, logs := startUWSGIGaleSocket(t, startUWSGISocket(t, "--buffer-size", "32768"))
	c := s.dial(t)
	br := bufio.NewReader(c)
	empty := sha256.Sum256(nil)

	resp, body := roundTrip(t, c, br, "GET /things/7?a=b&c=%20d HTTP/1.1\r\nHost: h.test\r\n\r\n", "GET")
	if want := "method=GET script= info=/things/7 q=a=b&c=%20d cl=0 len=0 sha256=" + hex.EncodeToString(empty[:]); resp.StatusCode != 200 || body != want || resp.Header.Get("X-Host") != "h.test" {
		t.Fatalf("GET: %d %q %q, want %q", resp.StatusCode, resp.Header, body, want)
	}

	payload := make([]byte, 1<<20+3)
	rand.Read(payload)
	sum := sha256.Sum256(payload)
	want := fmt.Sprintf("method=POST script= info=/upload q= cl=%d len=%d sha256=%s", len(payload), len(payload), hex.EncodeToString(sum[:]))
	for _, chunked := range []bool{false, true} {
		if resp, b := httpPost(t, s.url("/upload"), payload, chunked); resp.StatusCode != 200 || b != want {
			t.Fatalf("POST chunked=%v: %d %q, want %q", chunked, resp.StatusCode, b, want)
		}
	}
	resp, body = roundTrip(t, c, br, "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", "PUT")
	abc := sha256.Sum256([]byte("abcdefg"))
	if want := "method=PUT script= info=/up q= cl=7 len=7 sha256=" + hex.EncodeToString(abc[:]); body != want {
		t.Fatalf("chunked PUT: %d %q, want %q", resp.StatusCode, body, want)
	}

	if resp, body = roundTrip(t, c, br, "GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n", "GET"); resp.StatusCode != 201 || body != "abcdefg" {
		t.Fatalf("chunked response: %d %q", resp.StatusCode, body)
	}
	if resp, body = roundTrip(t, c, br, "GET /close HTTP/1.1\r\nHost: h\r\n\r\n", "GET"); resp.StatusCode != 200 || body != "no length" {
		t.Fatalf("close-delimited response: %d %q", resp.StatusCode, body)
	}
	if resp, body = roundTrip(t, c, br, "HEAD /close HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD"); resp.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}

	// Streamed: the first part reaches the client while the application
	// still sleeps before the second.
	began := time.Now()
	if _, err := io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	sresp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	sr := bufio.NewReader(sresp.Body)
	first, err := sr.ReadString('\n')
	if err != nil || first != "first\n" {
		t.Fatalf("stream: %q %v", first, err)
	}
	if d := time.Since(began); d > 800*time.Millisecond {
		t.Fatalf("the first part took %v: held, not streamed", d.Round(time.Millisecond))
	}
	rest, err := io.ReadAll(sr)
	sresp.Body.Close()
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("stream rest: %q %v", rest, err)
	}

	// 431: the vars block would be over the 16-bit size.
	big := strings.Repeat("x", 70<<10)
	resp, _ = roundTrip(t, c, br, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: "+big+"\r\n\r\n", "GET")
	if resp.StatusCode != 431 {
		t.Fatalf("vars over 65535 bytes: %d", resp.StatusCode)
	}
	if l := logs.String(); !strings.Contains(l, "65535") || !strings.Contains(l, "protocol=uwsgi") {
		t.Fatalf("no log line naming the limit:\n%s", l)
	}
	// Just under the limit still goes through (uWSGI's buffer-size is 32 KiB
	// here, so this is a header it takes).
	c2 := s.dial(t)
	br2 := bufio.NewReader(c2)
	if resp, body := roundTrip(t, c2, br2, "GET /ok HTTP/1.1\r\nHost: h\r\nX-Big: "+strings.Repeat("y", 20<<10)+"\r\n\r\n", "GET"); resp.StatusCode != 200 || !strings.HasPrefix(body, "method=GET script= info=/ok") {
		t.Fatalf("20 KiB header: %d %q", resp.StatusCode, body)
	}
}

// TestUWSGIBufferSize: uWSGI with its default buffer-size (4096) closes
// the connection on a larger vars block; gale answers 502, at once (the
// request is not resent), with a log line saying to raise --buffer-size.
func TestUWSGIBufferSize(t *testing.T) {
	s, logs := startUWSGIGaleSocket(t, startUWSGISocket(t))
	c := s.dial(t)
	br := bufio.NewReader(c)
	if resp, body := roundTrip(t, c, br, "GET /small HTTP/1.1\r\nHost: h\r\nCookie: "+strings.Repeat("c", 2<<10)+"\r\n\r\n", "GET"); resp.StatusCode != 200 || !strings.HasPrefix(body, "method=GET script= info=/small") {
		t.Fatalf("2 KiB cookie: %d %q", resp.StatusCode, body)
	}
	resp, _ := roundTrip(t, c, br, "GET /big HTTP/1.1\r\nHost: h\r\nCookie: "+strings.Repeat("c", 6<<10)+"\r\n\r\n", "GET")
	if resp.StatusCode != 502 {
		t.Fatalf("6 KiB cookie over uWSGI's buffer-size: %d", resp.StatusCode)
	}
	if l := logs.String(); !strings.Contains(l, "raise uWSGI's --buffer-size") {
		t.Fatalf("the 502's log line does not say what to raise:\n%s", l)
	}
}

// uwsgiSlowApp sleeps for the milliseconds in the query, then names the
// worker's pid: the application for the load tests below.
const uwsgiSlowApp = `import os, time

def application(env, start_response):
    ms = int(env.get('QUERY_STRING') or '0')
    if ms:
        time.sleep(ms / 1000.0)
    out = ('pid=%d' % os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(out)))])
    return [out]
`

// loadResult is one answer of loadRun.
type loadResult struct {
	code int
	body string
}

// loadRun sends n GETs of s's /load?<query(i)> from the given number of
// concurrent clients and returns each answer (code -1: the request failed).
func loadRun(s *server, n, clients int, query func(i int) string) []loadResult {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	out := make([]loadResult, n)
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	done := make(chan struct{})
	for w := 0; w < clients; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range next {
				resp, err := client.Get(s.url("/load?" + query(i)))
				if err != nil {
					out[i] = loadResult{-1, err.Error()}
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				out[i] = loadResult{resp.StatusCode, string(b)}
			}
		}()
	}
	for w := 0; w < clients; w++ {
		<-done
	}
	return out
}

// startUWSGISlow runs uWSGI with uwsgiSlowApp and the given options, and
// gale in front of it.
func startUWSGISlow(t *testing.T, extra ...string) (*server, *logBuffer) {
	t.Helper()
	return startUWSGIGaleSocket(t, startUWSGIApp(t, uwsgiSlowApp, append([]string{"--socket", "ADDR"}, extra...)...))
}

// TestUWSGIUnderLoad: uWSGI killing workers stuck past 1 s (--harakiri),
// then, in a uWSGI of its own, recycling its workers every 2 seconds
// (--max-worker-lifetime; Debian's uWSGI 2.0.21 ignores --max-requests,
// which is passed too), while 32 clients keep 2 workers busy: every
// request but the harakiri'd ones is answered 200 by some worker, those
// get a 502 or 504, and gale keeps serving. (Apart: a worker retiring at
// its lifetime finishes its request, a stuck one too; and Debian's uWSGI
// under load sometimes lets a stuck request finish past --harakiri, so at
// least one of three must be killed, the others may answer 200.)
func TestUWSGIUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	// Each stuck request is harakiri'd (502 or 504) or, when uWSGI's
	// master comes late to it, finishes (200); the function counts the
	// harakiri'd ones.
	killed := 0
	check := func(t *testing.T, res []loadResult, stuck map[int]bool) map[string]bool {
		pids := map[string]bool{}
		for i, r := range res {
			switch {
			case stuck[i]:
				switch r.code {
				case 502, 504:
					killed++
				case 200:
				default:
					t.Errorf("stuck request %d: %d %q, want 502 or 504, or 200 if it escaped harakiri", i, r.code, r.body)
				}
			case r.code != 200 || !strings.HasPrefix(r.body, "pid="):
				t.Errorf("request %d: %d %q", i, r.code, r.body)
			default:
				pids[r.body] = true
			}
		}
		return pids
	}
	t.Run("harakiri", func(t *testing.T) {
		s, logs := startUWSGISlow(t, "--harakiri", "1")
		// 300 quick requests, 3 of them stuck for 4 s.
		stuck := map[int]bool{50: true, 150: true, 250: true}
		check(t, loadRun(s, 300, 32, func(i int) string {
			if stuck[i] {
				return "4000"
			}
			return "0"
		}), stuck)
		if killed == 0 {
			t.Errorf("none of the 3 stuck requests was harakiri'd")
		}
		if t.Failed() {
			t.Logf("gale's log:\n%s", lastLines(logs.String(), 30))
		}
	})
	t.Run("recycling", func(t *testing.T) {
		s, logs := startUWSGISlow(t, "--max-requests", "10", "--min-worker-lifetime", "1", "--max-worker-lifetime", "2")
		// 500 requests of 10 ms on 2 workers: some 3 s, so a worker is
		// replaced under load, and none of it reaches a client.
		pids := check(t, loadRun(s, 500, 32, func(int) string { return "10" }), nil)
		if len(pids) < 3 {
			t.Errorf("%d distinct worker pids served 500 requests: uWSGI did not recycle them", len(pids))
		}
		if t.Failed() {
			t.Logf("gale's log:\n%s", lastLines(logs.String(), 30))
		}
	})
}

// TestUWSGIListenQueueBurst: 300 requests at once to 2 uWSGI workers with
// a listen queue of 16 wait in gale's FIFO queue (the budget is 8
// connections) instead of overflowing uWSGI's backlog into refused or
// dropped connections, which nginx turns into 502s: all 200.
func TestUWSGIListenQueueBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	s, logs := startUWSGISlow(t, "--listen", "16")
	for i, r := range loadRun(s, 300, 300, func(int) string { return "10" }) {
		if r.code != 200 || !strings.HasPrefix(r.body, "pid=") {
			t.Errorf("burst request %d: %d %q", i, r.code, r.body)
		}
	}
	if t.Failed() {
		t.Logf("gale's log:\n%s", lastLines(logs.String(), 30))
	}
}
