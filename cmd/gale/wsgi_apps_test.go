package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// wsgiPython is the interpreter of the WSGI tests: Debian's, which has
// python3-flask and python3-django (scripts/install-deps.sh test).
const wsgiPython = "/usr/bin/python3"

// needPython skips unless Debian's python3 imports the modules.
func needPython(t *testing.T, modules ...string) {
	t.Helper()
	args := []string{"-c", "import sys\nfor m in sys.argv[1:]: __import__(m)"}
	if out, err := exec.Command(wsgiPython, append(args, modules...)...).CombinedOutput(); err != nil {
		t.Skipf("%s cannot import %v (make test-deps): %v\n%s", wsgiPython, modules, err, out)
	}
}

// startWSGI runs `gale wsgi` in dir with args (the application last) and
// waits until it serves.
func startWSGI(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	all := append([]string{"wsgi", "-listen", addr, "-python", wsgiPython, "-loops", "2"}, args...)
	cmd := exec.Command(galeBin, all...)
	cmd.Dir = dir
	p := launchCmd(t, cmd, addr)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.out.String(), "gale: serving ") {
		if !alive(cmd.Process.Pid) || time.Now().After(deadline) {
			t.Fatalf("gale wsgi did not start:\n%s", p.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// pidOf GETs a path that answers the worker's pid.
func pidOf(t *testing.T, c *http.Client, p *proc, path string) int {
	t.Helper()
	code, body, err := fetch(c, p.url(path))
	if err != nil || code != 200 {
		t.Fatalf("GET %s: %d %v %s", path, code, err, body)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(body)))
	if err != nil {
		t.Fatalf("GET %s: not a pid: %q", path, body)
	}
	return pid
}

// waitLog waits until gale's output contains want.
func waitLog(t *testing.T, p *proc, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("gale's log has no %q within %v", want, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// conformApp is a bare WSGI application that reports what it received,
// so the test asserts the worker's side of PEP 3333.
const conformApp = `import json, os, sys, time, hashlib, urllib.parse

state = {"closes": 0, "reraised": False}


class Body:
    """An iterable with close(), counted."""
    def __init__(self, parts):
        self.parts = parts
    def __iter__(self):
        return iter(self.parts)
    def close(self):
        state["closes"] += 1


def text(start_response, body, status="200 OK", headers=()):
    start_response(status, [("Content-Type", "text/plain")] + list(headers))
    return [body.encode() if isinstance(body, str) else body]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/environ"):
        inp = environ["wsgi.input"]
        line = inp.readline()
        rest = inp.read()
        more = inp.read(10)
        environ["wsgi.errors"].write("conformance: to wsgi.errors\n")
        environ["wsgi.errors"].flush()
        report = {
            "not_str": sorted(k for k, v in environ.items() if not k.startswith("wsgi.") and type(v) is not str),
            "key_types": sorted({type(k).__name__ for k in environ}),
            "path_codepoints": [ord(c) for c in path],
            "cgi": {k: environ.get(k) for k in ("REQUEST_METHOD", "SCRIPT_NAME", "QUERY_STRING",
                    "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_X_TEST")},
            "wsgi": {"version": list(environ["wsgi.version"]), "url_scheme": environ["wsgi.url_scheme"],
                     "multithread": environ["wsgi.multithread"], "multiprocess": environ["wsgi.multiprocess"],
                     "run_once": environ["wsgi.run_once"], "input_terminated": environ.get("wsgi.input_terminated"),
                     "file_wrapper": callable(environ.get("wsgi.file_wrapper"))},
            "input": {"line": line.decode("latin-1"), "rest": rest.decode("latin-1"), "more": len(more)},
        }
        return text(start_response, json.dumps(report), headers=[("Content-Type", "application/json")])
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"via write;")
        return Body([b"via iterable"])
    if path == "/state":
        return text(start_response, json.dumps(state))
    if path == "/exc_info":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("before the head")
        except ValueError:
            start_response("500 Replaced", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"replaced"]
    if path == "/exc_info_late":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial")
        try:
            raise ValueError("after the head")
        except ValueError:
            try:
                start_response("500 Late", [], sys.exc_info())
            except ValueError:
                state["reraised"] = True
                raise
        return [b"not reached"]
    if path == "/twice":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            start_response("200 OK", [])
        except AssertionError:
            return [b"refused"]
        return [b"accepted"]
    if path == "/file":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](open(__file__, "rb"), 1024)
    if path == "/stream":
        flag = urllib.parse.parse_qs(environ["QUERY_STRING"])["flag"][0]
        def gen():
            yield b"first\n"
            deadline = time.time() + 10
            while not os.path.exists(flag) and time.time() < deadline:
                time.sleep(0.01)
            yield b"last\n"
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Accel-Buffering", "no")])
        return gen()
    if path == "/iter_raise":
        def gen():
            yield b"ok so far"
            raise RuntimeError("raised inside the iterator")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return gen()
    if path == "/long-print":
        print("x" * 100000)
        return text(start_response, "printed")
    if path == "/pid":
        return text(start_response, str(os.getpid()))
    if path == "/sleep":
        time.sleep(float(environ["QUERY_STRING"] or "5"))
        return text(start_response, "slept")
    if path == "/upload":
        h, n, inp = hashlib.sha256(), 0, environ["wsgi.input"]
        while True:
            chunk = inp.read(65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        return text(start_response, "%d %s" % (n, h.hexdigest()))
    return text(start_response, "no such page", status="404 Not Found")
`

// wsgiFlaskApp is a small Flask application; VERSION is what tests edit.
const wsgiFlaskApp = `import os, time, hashlib
from flask import Flask, request, redirect, make_response, Response

VERSION = "v1"
app = Flask(__name__)


@app.route("/")
def index():
    print("index served")
    return "hello " + VERSION


@app.route("/version")
def version():
    return VERSION


@app.route("/pid")
def pid():
    return str(os.getpid())


@app.route("/form", methods=["GET", "POST"])
def form():
    if request.method == "POST":
        return "name=%s tags=%s" % (request.form["name"], ",".join(request.form.getlist("tag")))
    return '<form method="post"><input name="name"></form>'


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files["file"]
    data = f.read()
    return "%d %s" % (len(data), hashlib.sha256(data).hexdigest())


@app.route("/cookies")
def cookies():
    r = make_response("cookies set")
    r.set_cookie("a", "1")
    r.set_cookie("b", "2", httponly=True)
    r.set_cookie("c", "3", path="/cookies")
    return r


@app.route("/echo-cookies")
def echo_cookies():
    return ",".join("%s=%s" % kv for kv in sorted(request.cookies.items()))


@app.route("/old")
def old():
    return redirect("/version")


@app.route("/fail")
def fail():
    raise RuntimeError("flask view failed")


@app.route("/stream")
def stream():
    flag = request.args["flag"]
    def gen():
        yield "first\n"
        deadline = time.time() + 10
        while not os.path.exists(flag) and time.time() < deadline:
            time.sleep(0.01)
        yield "last\n"
    return Response(gen(), headers={"X-Accel-Buffering": "no"})


@app.route("/iter-raise")
def iter_raise():
    def gen():
        yield "begun\n"
        raise RuntimeError("flask generator failed")
    return Response(gen())
`
