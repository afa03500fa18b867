package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// flaskApp is the WSGI application the proxy tests run under gunicorn and
// waitress (Debian's python3-flask).
const flaskApp = `
import hashlib, os
from flask import Flask, request, redirect, Response, make_response

app = Flask(__name__)

@app.route("/")
def hello():
    return "hello from flask"

@app.route("/q")
def query():
    return "a=%s b=%s xff=%s proto=%s host=%s" % (request.args.get("a"), request.args.get("b"),
        request.headers.get("X-Forwarded-For"), request.headers.get("X-Forwarded-Proto"), request.host)

@app.route("/form", methods=["POST"])
def form():
    return "name=%s" % request.form.get("name")

@app.route("/upload", methods=["POST"])
def upload():
    data = request.get_data()
    return "%d %s" % (len(data), hashlib.sha256(data).hexdigest())

@app.route("/big")
def big():
    chunk = bytes(range(256)) * 4096  # 1 MiB
    def gen():
        for _ in range(50):
            yield chunk
    return Response(gen(), mimetype="application/octet-stream", headers={"Content-Length": str(50 << 20)})

@app.route("/cookie")
def cookie():
    r = make_response("cookie set")
    r.set_cookie("a", "1")
    r.set_cookie("b", "2")
    return r

@app.route("/go")
def go():
    return redirect("/there")

@app.route("/pid")
def pid():
    return str(os.getpid())
`

// startPython runs args (gunicorn, waitress-serve) serving flaskApp on a
// free port and waits until it accepts. The process is killed at cleanup.
func startPython(t *testing.T, dir string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	if _, err := os.Stat(args[0]); err != nil {
		t.Skipf("%s not installed (scripts/install-deps.sh)", args[0])
	}
	port := testenv.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "ADDR", addr)
		args[i] = strings.ReplaceAll(args[i], "PORT", fmt.Sprint(port))
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &outBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", args[0], out)
		}
	})
	testenv.WaitPort(t, addr, 10*time.Second)
	return cmd, addr
}

func flaskDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(flaskApp), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readResp(t *testing.T, resp *http.Response, err error) (int, string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestProxyGunicornFlask: gale -root DIR -proxy ADDR in front of Debian's
// gunicorn (sync and gthread workers) running a Flask app.
func TestProxyGunicornFlask(t *testing.T) {
	for _, worker := range []string{"sync", "gthread"} {
		t.Run(worker, func(t *testing.T) {
			testenv.CheckLeaks(t)
			dir := flaskDir(t)
			_, addr := startPython(t, dir, "/usr/bin/gunicorn", "-b", "ADDR", "-w", "1", "-k", worker, "--threads", "2", "app:app")
			root := t.TempDir()
			os.WriteFile(filepath.Join(root, "static.txt"), []byte("from disk"), 0o644)
			p := startGale(t, "-root", root, "-proxy", addr, "-loops", "2")
			client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

			for path, want := range map[string]string{
				"/":              "hello from flask",
				"/static.txt":    "from disk",
				"/q?a=1&b=x%20y": "a=1 b=x y xff=127.0.0.1 proto=http host=" + p.addr,
				"/missing-page":  "",
				"/cookie":        "cookie set",
			} {
				resp, err := client.Get(p.url(path))
				code, body := readResp(t, resp, err)
				switch {
				case path == "/missing-page":
					if code != 404 {
						t.Errorf("%s: %d", path, code)
					}
				case body != want || code != 200:
					t.Errorf("%s: %d %q, want %q", path, code, body, want)
				case path == "/cookie" && len(resp.Header.Values("Set-Cookie")) != 2:
					t.Errorf("cookies: %q", resp.Header.Values("Set-Cookie"))
				}
			}
			resp, err := client.Get(p.url("/go"))
			if code, _ := readResp(t, resp, err); code != 302 || resp.Header.Get("Location") != "/there" {
				t.Errorf("redirect: %d %q", code, resp.Header.Get("Location"))
			}
			resp, err = client.PostForm(p.url("/form"), url.Values{"name": {"gale & co"}})
			if _, body := readResp(t, resp, err); body != "name=gale & co" {
				t.Errorf("form: %q", body)
			}

			// A 10 MiB upload, and a chunked one: checksums match.
			up := make([]byte, 10<<20)
			rand.Read(up)
			sum := sha256.Sum256(up)
			resp, err = client.Post(p.url("/upload"), "application/octet-stream", strings.NewReader(string(up)))
			if _, body := readResp(t, resp, err); body != fmt.Sprintf("%d %s", len(up), hex.EncodeToString(sum[:])) {
				t.Errorf("upload: %q", body)
			}
			resp, err = client.Post(p.url("/upload"), "application/octet-stream", io.MultiReader(strings.NewReader("chunked "), strings.NewReader("body")))
			small := sha256.Sum256([]byte("chunked body"))
			if _, body := readResp(t, resp, err); body != "12 "+hex.EncodeToString(small[:]) {
				t.Errorf("chunked upload: %q", body)
			}

			// 50 MiB to a client that does not read: gale takes it all from
			// the only worker, which answers the next request at once.
			c, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.(*net.TCPConn).SetReadBuffer(64 << 10)
			fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
			time.Sleep(200 * time.Millisecond)
			start := time.Now()
			var freed bool
			for time.Since(start) < 5*time.Second && !freed {
				resp, err := (&http.Client{Timeout: time.Second}).Get(p.url("/"))
				if err == nil {
					_, body := readResp(t, resp, err)
					freed = body == "hello from flask"
				}
			}
			if !freed || time.Since(start) > 3*time.Second {
				t.Errorf("the worker was not free again within a second or so: %v", time.Since(start))
			}
			br := bufio.NewReader(c)
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			big, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			n, err := io.Copy(h, big.Body)
			want := sha256.New()
			chunk := make([]byte, 1<<20)
			for i := range chunk {
				chunk[i] = byte(i)
			}
			for i := 0; i < 50; i++ {
				want.Write(chunk)
			}
			if err != nil || n != 50<<20 || string(h.Sum(nil)) != string(want.Sum(nil)) {
				t.Errorf("50 MiB: %d bytes, %v, intact %v", n, err, string(h.Sum(nil)) == string(want.Sum(nil)))
			}
		})
	}
}

// TestProxyGunicornRecycling: gunicorn --max-requests 10 recycles its
// workers under load, then is killed and restarted: no client error from
// the recycling, 502s (not hangs) while it is down, and answers again
// within a second of its restart.
func TestProxyGunicornRecycling(t *testing.T) {
	testenv.CheckLeaks(t)
	dir := flaskDir(t)
	args := []string{"/usr/bin/gunicorn", "-b", "ADDR", "-w", "2", "-k", "gthread", "--threads", "2", "--max-requests", "10", "app:app"}
	cmd, addr := startPython(t, dir, append([]string(nil), args...)...)
	p := startGale(t, "-proxy", addr, "-loops", "2")
	client := &http.Client{Timeout: 10 * time.Second}
	var errs atomic.Int64
	var firstErr atomic.Value
	const total, workers = 5000, 32
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= total {
				resp, err := client.Get(p.url("/"))
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || string(b) != "hello from flask" {
						err = fmt.Errorf("%d %q", resp.StatusCode, b)
					}
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	loadStart := time.Now()
	wg.Wait()
	t.Logf("%d requests in %v", total, time.Since(loadStart))
	if n := errs.Load(); n > 0 {
		t.Errorf("%d of %d requests failed under --max-requests 10; first: %v", n, total, firstErr.Load())
	}

	// Killed: 502 quickly.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	resp, err := client.Get(p.url("/"))
	if code, _ := readResp(t, resp, err); code != 502 || time.Since(start) > 2*time.Second {
		t.Errorf("backend down: %d after %v", code, time.Since(start))
	}
	// Restarted on the same address: answers within a second.
	host, port, _ := net.SplitHostPort(addr)
	restart := exec.Command(args[0], "-b", net.JoinHostPort(host, port), "-w", "1", "app:app")
	restart.Dir = dir
	restart.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := restart.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-restart.Process.Pid, syscall.SIGKILL); restart.Wait() }()
	testenv.WaitPort(t, addr, 10*time.Second)
	up := time.Now()
	for {
		resp, err := client.Get(p.url("/"))
		if err == nil {
			if code, _ := readResp(t, resp, err); code == 200 {
				break
			}
		}
		if time.Since(up) > time.Second {
			t.Fatalf("no answer within a second of the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProxyWaitress: the same app under waitress (HTTP/1.1 keep-alive,
// chunked responses of unknown length).
func TestProxyWaitress(t *testing.T) {
	testenv.CheckLeaks(t)
	dir := flaskDir(t)
	_, addr := startPython(t, dir, "/usr/bin/waitress-serve", "--listen=ADDR", "app:app")
	p := startGale(t, "-proxy", addr, "-loops", "1")
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 20; i++ {
		resp, err := client.Get(p.url("/q?a=" + fmt.Sprint(i)))
		if code, body := readResp(t, resp, err); code != 200 || !strings.HasPrefix(body, fmt.Sprintf("a=%d b=None xff=127.0.0.1", i)) {
			t.Fatalf("%d %q", code, body)
		}
	}
	resp, err := client.Get(p.url("/big"))
	if code, body := readResp(t, resp, err); code != 200 || len(body) != 50<<20 {
		t.Fatalf("big: %d %d", code, len(body))
	}
}

// asgiApp is an ASGI application for uvicorn: a hello, and a Server-Sent
// Events stream that holds its last event back for a while.
const asgiApp = `
import asyncio

async def app(scope, receive, send):
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            m = await receive()
            if m["type"] != "websocket.receive":
                return
            await send({"type": "websocket.send", "text": m.get("text"), "bytes": m.get("bytes")})
    if scope["type"] != "http":
        return
    if scope["path"] == "/events":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        await send({"type": "http.response.body", "body": b"data: first\n\n", "more_body": True})
        await asyncio.sleep(3)
        await send({"type": "http.response.body", "body": b"data: last\n\n"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello from uvicorn"})
`

// TestProxyUvicornEvents: an ASGI app on Debian's uvicorn; its first
// Server-Sent Event reaches the client long before the stream ends.
func TestProxyUvicornEvents(t *testing.T) {
	testenv.CheckLeaks(t)
	if err := exec.Command("/usr/bin/python3", "-c", "import uvicorn").Run(); err != nil {
		t.Skip("python3-uvicorn not installed (scripts/install-deps.sh)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "asgi.py"), []byte(asgiApp), 0o644); err != nil {
		t.Fatal(err)
	}
	_, addr := startPython(t, dir, "/usr/bin/python3", "-m", "uvicorn", "--log-level", "warning", "--host", "127.0.0.1", "--port", "PORT", "asgi:app")
	p := startGale(t, "-proxy", addr, "-loops", "1")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(p.url("/"))
	if code, body := readResp(t, resp, err); code != 200 || body != "hello from uvicorn" {
		t.Fatalf("%d %q", code, body)
	}
	start := time.Now()
	resp, err = http.Get(p.url("/events"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: first\n" || time.Since(start) > 2*time.Second {
		t.Fatalf("first event %q %v after %v", line, err, time.Since(start))
	}
}

// wsClient is a python3-websockets client: it sends messages through gale
// and checks each echo.
const wsClient = `
import asyncio, sys, websockets

async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        for m in ["hello", "x" * 300000, b"\\x00\\x01" * 1000]:
            await ws.send(m)
            r = await ws.recv()
            assert r == m, (len(r), len(m))
    print("echo ok")

asyncio.run(main())
`

// TestProxyUvicornWebSocket: a WebSocket echo on uvicorn through gale,
// with Debian's python3-websockets as the client.
func TestProxyUvicornWebSocket(t *testing.T) {
	testenv.CheckLeaks(t)
	if err := exec.Command("/usr/bin/python3", "-c", "import uvicorn, websockets").Run(); err != nil {
		t.Skip("python3-uvicorn or python3-websockets not installed (scripts/install-deps.sh)")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "asgi.py"), []byte(asgiApp), 0o644)
	os.WriteFile(filepath.Join(dir, "client.py"), []byte(wsClient), 0o644)
	_, addr := startPython(t, dir, "/usr/bin/python3", "-m", "uvicorn", "--log-level", "warning", "--host", "127.0.0.1", "--port", "PORT", "asgi:app")
	p := startGale(t, "-proxy", addr, "-loops", "1")
	cmd := exec.Command("/usr/bin/python3", filepath.Join(dir, "client.py"), "ws://"+p.addr+"/ws")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "echo ok" {
		t.Fatalf("%v: %s", err, out)
	}
}
