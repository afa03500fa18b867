package reactor_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/scgi"
)

// wsgiRoute hands every request to u as a WSGI application mounted at /:
// SCRIPT_NAME empty, PATH_INFO the path (what nginx's scgi and uwsgi
// params give a Python application).
type wsgiRoute struct{ u *upstream.Upstream }

func (h wsgiRoute) Serve(_ *handlers.Ctx, req *httpcodec.Request, resp *handlers.Response) {
	resp.RouteUpstream(h.u, "/srv", nil, req.Path)
}

// startSCGIGale runs gale in front of the SCGI server at addr.
func startSCGIGale(t *testing.T, addr string, tune func(*upstream.Upstream)) *server {
	t.Helper()
	u := &upstream.Upstream{Name: "scgi", Protocol: scgi.Protocol, Backends: []*upstream.Backend{{Network: "tcp", Address: addr}}}
	if tune != nil {
		tune(u)
	}
	u.Init(2)
	return startWith(t, reactor.Config{Handler: wsgiRoute{u}}, nil, nil)
}

// readSCGI reads one SCGI request from c: its headers, in order, as
// "NAME=value", and its body (CONTENT_LENGTH bytes).
func readSCGI(c net.Conn) (vars []string, body []byte, err error) {
	br := bufio.NewReader(c)
	lenText, err := br.ReadString(':')
	if err != nil {
		return nil, nil, err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(lenText, ":"))
	if err != nil {
		return nil, nil, fmt.Errorf("netstring length %q", lenText)
	}
	raw := make([]byte, n+1)
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, nil, err
	}
	if raw[n] != ',' {
		return nil, nil, fmt.Errorf("netstring ends with %q", raw[n])
	}
	f := strings.Split(string(raw[:n]), "\x00")
	for i := 0; i+1 < len(f); i += 2 {
		vars = append(vars, f[i]+"="+f[i+1])
	}
	cl, _ := strconv.Atoi(strings.TrimPrefix(vars[0], "CONTENT_LENGTH="))
	body = make([]byte, cl)
	_, err = io.ReadFull(br, body)
	return vars, body, err
}

// rawSCGI is an SCGI server on a loopback port that hands each request to
// answer, writes what it returns and closes the connection.
func rawSCGI(t *testing.T, answer func(vars []string, body []byte) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				vars, body, err := readSCGI(c)
				if err != nil {
					return
				}
				io.WriteString(c, answer(vars, body))
			}()
		}
	}()
	return ln.Addr().String()
}

func varOf(vars []string, name string) string {
	for _, v := range vars {
		if k, val, _ := strings.Cut(v, "="); k == name {
			return val
		}
	}
	return "<unset>"
}

// TestSCGIWire: what gale sends an SCGI server (CONTENT_LENGTH first,
// SCGI=1, the CGI variables, the raw body; a chunked upload with its exact
// length) and what it makes of the answer, which ends at the close.
func TestSCGIWire(t *testing.T) {
	got := make(chan []string, 4)
	addr := rawSCGI(t, func(vars []string, body []byte) string {
		got <- vars
		return "Status: 201 Created\r\nX-Seen: " + varOf(vars, "REQUEST_METHOD") + " " + string(body) + "\r\n\r\nmade"
	})
	s := startSCGIGale(t, addr, nil)
	c := s.dial(t)
	br := bufio.NewReader(c)
	resp, body := roundTrip(t, c, br, "POST /things/7?a=b HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX_Spoof: 1\r\nProxy: evil\r\n\r\nhello", "POST")
	if resp.StatusCode != 201 || resp.Header.Get("X-Seen") != "POST hello" || body != "made" || resp.ContentLength != 4 {
		t.Fatalf("got %d %q %q", resp.StatusCode, resp.Header, body)
	}
	vars := <-got
	if vars[0] != "CONTENT_LENGTH=5" || vars[1] != "SCGI=1" {
		t.Fatalf("SCGI must start with CONTENT_LENGTH and SCGI=1: %q", vars[:2])
	}
	for _, want := range []string{"REQUEST_METHOD=POST", "PATH_INFO=/things/7", "SCRIPT_NAME=", "QUERY_STRING=a=b",
		"REQUEST_URI=/things/7?a=b", "CONTENT_TYPE=text/plain", "HTTP_HOST=h", "SERVER_PROTOCOL=HTTP/1.1", "REMOTE_ADDR=127.0.0.1"} {
		k, v, _ := strings.Cut(want, "=")
		if varOf(vars, k) != v {
			t.Errorf("%s: got %q, want %q", k, varOf(vars, k), v)
		}
	}
	seen := map[string]bool{}
	for _, v := range vars {
		k, _, _ := strings.Cut(v, "=")
		if seen[k] {
			t.Errorf("duplicate SCGI header %s", k)
		}
		seen[k] = true
		if k == "HTTP_X_SPOOF" || k == "HTTP_PROXY" {
			t.Errorf("%s forwarded", k)
		}
	}
	// Chunked: the body is received whole, then sent with its length.
	resp, _ = roundTrip(t, c, br, "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", "PUT")
	if resp.Header.Get("X-Seen") != "PUT abcdefg" {
		t.Fatalf("chunked upload: %q", resp.Header.Get("X-Seen"))
	}
	if v := <-got; v[0] != "CONTENT_LENGTH=7" {
		t.Fatalf("chunked upload stated %q", v[0])
	}
	// Without a body: CONTENT_LENGTH 0, not empty.
	roundTrip(t, c, br, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
	if v := <-got; v[0] != "CONTENT_LENGTH=0" {
		t.Fatalf("GET stated %q", v[0])
	}
}

// TestSCGIBadAnswers: a server that closes without a head, or sends
// garbage, gets a 502; a non-parsed-header answer is passed on.
func TestSCGIBadAnswers(t *testing.T) {
	addr := rawSCGI(t, func(vars []string, _ []byte) string {
		switch varOf(vars, "PATH_INFO") {
		case "/nothing":
			return ""
		case "/garbage":
			return "no header here\r\n\r\n"
		case "/headless":
			return "Content-Type: text/plain\r\n" // closes inside the head
		}
		return "HTTP/1.1 202 Accepted\r\nX-NPH: yes\r\n\r\nnph body"
	})
	s := startSCGIGale(t, addr, nil)
	for path, want := range map[string]int{"/nothing": 502, "/garbage": 502, "/headless": 502, "/nph": 202} {
		resp, err := http.Get(s.url(path))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		if path == "/nph" && (string(b) != "nph body" || resp.Header.Get("X-NPH") != "yes") {
			t.Errorf("nph: %q %q", resp.Header, b)
		}
	}
}

// flaskApp is a Flask application for uWSGI's SCGI socket.
const flaskApp = `import hashlib
from flask import Flask, request, redirect, Response

app = Flask(__name__)

@app.route("/")
def index():
    return "hello %s" % request.args.get("name", "")

@app.route("/form", methods=["POST"])
def form():
    return "form a=%s b=%s" % (request.form["a"], request.form["b"])

@app.route("/upload", methods=["POST", "PUT"])
def upload():
    body = request.get_data()
    return "len=%d sha256=%s" % (len(body), hashlib.sha256(body).hexdigest())

@app.route("/cookie")
def cookie():
    r = Response("cookie %s" % request.cookies.get("c", ""))
    r.set_cookie("seen", "1")
    return r

@app.route("/go")
def go():
    return redirect("/")

@app.route("/stream")
def stream():
    return Response(("part %d\n" % i for i in range(5)), mimetype="text/plain")
`

// startUWSGISCGI runs uWSGI with an SCGI socket on a loopback port serving
// the Flask app above (Debian's python3-flask, through uWSGI's python3
// plugin, which uses /usr/lib/python3/dist-packages).
func startUWSGISCGI(t *testing.T) string {
	t.Helper()
	return startUWSGIApp(t, flaskApp, "--scgi-socket", "ADDR", "--callable", "app", "--buffer-size", "32768")
}

// TestSCGIFlask: a Flask application on uWSGI's --scgi-socket behind gale:
// GET with a query, a form POST, a 10 MiB upload checksum, a chunked
// upload, cookies, a redirect, a streamed response.
func TestSCGIFlask(t *testing.T) {
	s := startSCGIGale(t, startUWSGISCGI(t), nil)
	get := func(path string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", s.url(path), nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, b := get("/?name=gale"); resp.StatusCode != 200 || b != "hello gale" {
		t.Fatalf("GET: %d %q", resp.StatusCode, b)
	}
	resp, err := http.Post(s.url("/form"), "application/x-www-form-urlencoded", strings.NewReader("a=1&b=two"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "form a=1 b=two" {
		t.Fatalf("form: %d %q", resp.StatusCode, b)
	}
	big := make([]byte, 10<<20)
	rand.Read(big)
	sum := sha256.Sum256(big)
	want := fmt.Sprintf("len=%d sha256=%s", len(big), hex.EncodeToString(sum[:]))
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(big)
		if chunked {
			body = io.MultiReader(bytes.NewReader(big[:3<<20]), bytes.NewReader(big[3<<20:])) // no length: chunked
		}
		req, _ := http.NewRequest("PUT", s.url("/upload"), body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Fatalf("upload (chunked %v): %d %q", chunked, resp.StatusCode, b)
		}
	}
	if resp, b := get("/cookie", "Cookie", "c=42"); b != "cookie 42" || !strings.HasPrefix(resp.Header.Get("Set-Cookie"), "seen=1") {
		t.Fatalf("cookie: %q %q", resp.Header, b)
	}
	if resp, _ := get("/go"); resp.StatusCode != 302 || resp.Header.Get("Location") != "/" {
		t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, b := get("/stream"); resp.StatusCode != 200 || b != "part 0\npart 1\npart 2\npart 3\npart 4\n" {
		t.Fatalf("stream: %d %q", resp.StatusCode, b)
	}
}
