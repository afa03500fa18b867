package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// wsgiSiteApp is a Flask application that routes by path, as Django and
// Flask projects do: it answers with what it was given (the mount, the
// variables, the body), an X-Accel-Redirect, a slow stream, a quick
// response without a length and an event stream.
const wsgiSiteApp = `import time
from flask import Flask, Response, request, url_for

app = Flask(__name__)
application = app


@app.route('/')
def home():
    return 'home script_root=%s' % request.script_root


@app.route('/users/<int:uid>')
def user(uid):
    return 'user %d at %s' % (uid, url_for('user', uid=uid))


@app.route('/echo', methods=['POST'])
def echo():
    body = request.get_data()
    return 'len=%d te=%s body=%s' % (len(body), request.environ.get('HTTP_TRANSFER_ENCODING', '-'), body.decode())


@app.route('/env')
def env():
    e = request.environ
    return ' '.join('%s=%s' % (k, e.get(k, '-')) for k in (
        'SERVER_NAME', 'HTTP_HOST', 'REQUEST_URI', 'SCRIPT_NAME', 'PATH_INFO', 'SERVER_SOFTWARE',
        'HTTP_KEEP_ALIVE', 'HTTP_X_HOP', 'HTTP_TE', 'HTTP_UPGRADE', 'HTTP_PROXY_AUTHORIZATION'))


@app.route('/protected')
@app.route('/px/protected')
def protected():
    return Response('the app body', headers={'X-Accel-Redirect': '/private/report.txt'})


@app.route('/slow')
def slow():
    def gen():
        yield 'first\n'
        time.sleep(1)
        yield 'second\n'
    return Response(gen(), mimetype='text/plain')


@app.route('/quick')
def quick():
    return Response(iter(['hel', 'lo']), mimetype='text/plain')


@app.route('/events')
def events():
    return Response(iter(['data: 1\n\n']), mimetype='text/event-stream')
`

// startUWSGIFlask runs uWSGI with the python3 plugin serving wsgiSiteApp
// from Debian's /usr/bin/python3 packages, on a uwsgi socket and a
// FastCGI socket, and returns both addresses.
func startUWSGIFlask(t *testing.T, dir string) (uw, fcgi string) {
	t.Helper()
	requirePeers(t, "/usr/bin/uwsgi", "/usr/lib/uwsgi/plugins/python3_plugin.so")
	fcgi = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	_, uw = startPython(t, dir, "/usr/bin/uwsgi", "--plugin", "python3", "--socket", "ADDR", "--fastcgi-socket", fcgi,
		"--wsgi-file", "app.py", "--master", "--processes", "2", "--die-on-term", "--disable-logging")
	testenv.WaitPort(t, fcgi, 10*time.Second)
	return uw, fcgi
}

// TestPathRoutedWSGI runs a Flask app under uWSGI behind gale, mounted
// below a prefix over the uwsgi protocol and over FastCGI, and at the
// root of another vhost, with gunicorn behind a proxy location (issue 16
// items 1, 2, 3, 5 and 7), each checked on the wire:
//   - 1: SCRIPT_NAME is the mount and PATH_INFO the rest, so the app's
//     routes and the URLs it builds work under /app/, with either protocol;
//   - 2: a chunked upload reaches Werkzeug whole, no hop-by-hop field
//     becomes an HTTP_* variable;
//   - 3: SERVER_NAME is the vhost's name, else the Host without its port,
//     else the address the client reached; an absolute-form target's
//     authority is HTTP_HOST and REQUEST_URI its origin-form;
//   - 5: X-Accel-Redirect from a pass location and from a proxy location
//     serves an internal location's file;
//   - 7: a slow stream's first bytes arrive before it ends, a quick one
//     still goes out with a Content-Length, buffering: off and an event
//     stream go out as they come (chunked).
func TestPathRoutedWSGI(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "app.py", wsgiSiteApp)
	writeFile(t, dir, "www/index.html", "static home")
	writeFile(t, dir, "private/report.txt", "the report")
	uw, fc := startUWSGIFlask(t, dir)
	requirePeers(t, "/usr/bin/gunicorn")
	_, gu := startPython(t, dir, "/usr/bin/gunicorn", "-b", "ADDR", "-w", "1", "app:app")
	cfg := writeFile(t, dir, "gale.yaml", fmt.Sprintf(`
upstreams:
  uw: {protocol: uwsgi, backends: [%s]}
  fc: {protocol: fastcgi, backends: [%s]}
  gu: {protocol: http, backends: [%s]}
vhosts:
  - names: [wsgi.test]
    root: www
    locations:
      - prefix: /
      - prefix: /app/
        fastcgi: {upstream: uw, mode: pass}
      - prefix: /fcgi/
        fastcgi: {upstream: fc, mode: pass}
      - prefix: /live/
        fastcgi: {upstream: uw, mode: pass}
        buffering: "off"
      - prefix: /px/
        proxy: {upstream: gu}
      - prefix: /private/
        alias: private
        internal: true
  - names: ["*.example"]
    default: true
    root: www
    locations:
      - prefix: /
        fastcgi: {upstream: uw, mode: pass}
`, uw, fc, gu))
	if out, err := runGale("-t", "-config", cfg); err != nil {
		t.Fatalf("gale -t: %v\n%s", err, out)
	}
	p := startGale(t, "-config", cfg)
	ip := strings.Split(p.addr, ":")[0]
	for _, tc := range []struct {
		item, raw string
		status    int
		body      string // the body's start
		header    string // "Name: value", or "-Name" for absent
	}{
		{"1 uwsgi: the mount is SCRIPT_NAME", get11("wsgi.test", "/app/"), 200, "home script_root=/app", ""},
		{"1 uwsgi: a route below the mount", get11("wsgi.test", "/app/users/7"), 200, "user 7 at /app/users/7", ""},
		{"1 fastcgi: a route below the mount", get11("wsgi.test", "/fcgi/users/8"), 200, "user 8 at /fcgi/users/8", ""},
		{"1 at the root: SCRIPT_NAME empty", get11("a.example", "/users/9"), 200, "user 9 at /users/9", ""},
		{"1 fastcgi: variables", get11("wsgi.test", "/fcgi/env"), 200,
			"SERVER_NAME=wsgi.test HTTP_HOST=wsgi.test REQUEST_URI=/fcgi/env SCRIPT_NAME=/fcgi PATH_INFO=/env SERVER_SOFTWARE=gale/", ""},
		{"2: chunked upload", "POST /app/echo HTTP/1.1\r\nHost: wsgi.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
			200, "len=11 te=- body=hello world", ""},
		{"2: chunked upload over FastCGI", "POST /fcgi/echo HTTP/1.1\r\nHost: wsgi.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			200, "len=3 te=- body=abc", ""},
		{"2: hop-by-hop fields", "GET /app/env HTTP/1.1\r\nHost: wsgi.test\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: 5\r\nX-Hop: 1\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: x\r\n\r\n",
			200, "SERVER_NAME=wsgi.test HTTP_HOST=wsgi.test REQUEST_URI=/app/env SCRIPT_NAME=/app PATH_INFO=/env SERVER_SOFTWARE=gale/", ""},
		{"3: a wildcard vhost: the Host without its port", get11("a.example:8080", "/env"), 200,
			"SERVER_NAME=a.example HTTP_HOST=a.example:8080 REQUEST_URI=/env SCRIPT_NAME= PATH_INFO=/env", ""},
		{"3: an IPv6 Host", get11("[::1]:8080", "/env"), 200, "SERVER_NAME=[::1] HTTP_HOST=[::1]:8080", ""},
		{"3: HTTP/1.0 without Host: the listen address", "GET /env HTTP/1.0\r\n\r\n", 200, "SERVER_NAME=" + ip + " HTTP_HOST=- ", ""},
		{"3: absolute-form", "GET http://wsgi.test/app/env?x=1 HTTP/1.1\r\nHost: forged.example\r\n\r\n", 200,
			"SERVER_NAME=wsgi.test HTTP_HOST=wsgi.test REQUEST_URI=/app/env?x=1 SCRIPT_NAME=/app PATH_INFO=/env", ""},
		{"5: X-Accel-Redirect from a pass location", get11("wsgi.test", "/app/protected"), 200, "the report", ""},
		{"5: X-Accel-Redirect from a proxy location", get11("wsgi.test", "/px/protected"), 200, "the report", ""},
		{"5: the internal location to a client", get11("wsgi.test", "/private/report.txt"), 404, "", ""},
		{"7: a quick response keeps its length", get11("wsgi.test", "/app/quick"), 200, "hello", "Content-Length: 5"},
		{"7: buffering off streams", get11("wsgi.test", "/live/quick"), 200, "hello", "Transfer-Encoding: chunked"},
		{"7: an event stream streams (uwsgi)", get11("wsgi.test", "/app/events"), 200, "data: 1", "Transfer-Encoding: chunked"},
		{"7: an event stream streams (FastCGI)", get11("wsgi.test", "/fcgi/events"), 200, "data: 1", "Transfer-Encoding: chunked"},
	} {
		resp, body := rawRoundTrip(t, p.addr, tc.raw)
		if resp.StatusCode != tc.status || !strings.HasPrefix(body, tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.item, resp.StatusCode, body, tc.status, tc.body)
		}
		switch tc.header {
		case "Content-Length: 5":
			if resp.ContentLength != 5 {
				t.Errorf("%s: length %d (TE %v), want 5", tc.item, resp.ContentLength, resp.TransferEncoding)
			}
		case "Transfer-Encoding: chunked":
			if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
				t.Errorf("%s: TE %v (length %d), want chunked", tc.item, resp.TransferEncoding, resp.ContentLength)
			}
		}
	}
	// 7: the first line of a stream that takes a second arrives at once.
	c, err := net.Dial("tcp", p.addr)
	check(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	began := time.Now()
	_, err = io.WriteString(c, get11("wsgi.test", "/app/slow"))
	check(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	check(t, err)
	first := make([]byte, len("first\n"))
	_, err = io.ReadFull(resp.Body, first)
	check(t, err)
	if took := time.Since(began); string(first) != "first\n" || took > 700*time.Millisecond {
		t.Errorf("7: a slow stream's first line %q after %v, want it before the app's 1 s sleep ends", first, took)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second\n" {
		t.Errorf("7: the rest of the stream: %q %v", rest, err)
	}
}

// requirePeers fails the test when a real peer it runs is missing: these
// tests exist to talk to the real thing (make test-deps installs them).
func requirePeers(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing (make test-deps): %v", p, err)
		}
	}
}

// get11 is a plain HTTP/1.1 GET for path with Host host.
func get11(host, path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
}

// rawRoundTrip writes raw, exactly, on a new connection to addr and reads
// one response.
func rawRoundTrip(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, raw)
	check(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	check(t, err)
	b, err := io.ReadAll(resp.Body)
	check(t, err)
	return resp, string(b)
}
