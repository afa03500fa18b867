package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// workerHarness drives the embedded worker (its path is argv[1]) in one
// Python process, over a socketpair, without gale:
//
//	writes: one request per application below, on a socket that counts the
//	        worker's writes; prints what each response cost (JSON)
//	bench N APP: N requests to APP (bare or flask), pipelined in batches so
//	        that the worker never sleeps; prints its CPU µs per request
const workerHarness = `import importlib.util, json, socket, sys, time

spec = importlib.util.spec_from_file_location("gale_wsgi_worker", sys.argv[1])
w = importlib.util.module_from_spec(spec)
spec.loader.exec_module(w)


class Counting:
    """The worker's end of the socketpair, counting its writes."""
    def __init__(self, sock):
        self.sock, self.writes = sock, 0
    def recv(self, n):
        return self.sock.recv(n)
    def sendall(self, data):
        self.writes += 1
        self.sock.sendall(data)
    def makefile(self, *args, **kw):
        return self.sock.makefile(*args, **kw)
    def close(self):
        self.sock.close()


def frame(rtype, data):
    pad = -len(data) % 8
    return w.HEADER.pack(1, rtype, 1, len(data), pad) + data + b"\0" * pad


def request(keep):
    params = w.encode_pairs([("REQUEST_METHOD", "GET"), ("PATH_INFO", "/hello"), ("SERVER_NAME", "127.0.0.1:8080"),
        ("SERVER_PORT", "8080"), ("CONTENT_TYPE", ""), ("CONTENT_LENGTH", ""), ("HTTP_HOST", "127.0.0.1:8080")])
    return (w.HEADER.pack(1, w.BEGIN_REQUEST, 1, 8, 0) + bytes([0, w.RESPONDER, keep, 0, 0, 0, 0, 0]) +
        frame(w.PARAMS, params) + frame(w.PARAMS, b"") + frame(w.STDIN, b""))


def records(data):
    """The response's records: stdout, stderr, whether END_REQUEST came last."""
    out, err, i, ended = b"", b"", 0, False
    while i < len(data):
        _, rtype, _, clen, plen = w.HEADER.unpack_from(data, i)
        content = data[i + 8:i + 8 + clen]
        i += 8 + clen + plen
        ended = rtype == w.END_REQUEST and i == len(data)
        if rtype == w.STDOUT:
            out += content
        elif rtype == w.STDERR:
            err += content
    return out.decode(), err.decode(), ended


state = {}


class Closing:
    """A response iterable with close(), as werkzeug's ClosingIterator."""
    def __init__(self, it):
        self.it = it
    def __iter__(self):
        return self.it
    def close(self):
        state["closed"] = True


def sized(environ, start_response):
    """Flask's shape: a generator with Content-Length, one block."""
    def gen():
        yield b"hello"
        state["overran"] = True
        yield b"more"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    environ["wsgi.errors"].write("partial line")
    return Closing(gen())


def listed(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hel", b"lo"]


def empty(environ, start_response):
    start_response("204 No Content", [])
    return []


def streamed(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"a")
    return iter([b"b", b"c"])


def unsized(environ, start_response):
    """A Content-Length that is not a length announces nothing."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "-1")])
    return iter([b"a", b"b"])


def bare(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, World!"]


def writes():
    report = {}
    for app in (sized, listed, empty, streamed, unsized):
        state.clear()
        a, b = socket.socketpair()
        a.sendall(request(0))
        sock = Counting(b)
        w.Worker(app, None, None, 0).serve_conn(w.Conn(sock))
        b.close()
        data = b""
        while True:
            chunk = a.recv(65536)
            if not chunk:
                break
            data += chunk
        out, err, ended = records(data)
        report[app.__name__] = {"writes": sock.writes, "stdout": out, "stderr": err, "ended": ended,
            "closed": state.get("closed", False), "overran": state.get("overran", False)}
    print(json.dumps(report))


def bench(n, name):
    if name == "flask":
        from flask import Flask
        app = Flask("bench")
        app.route("/hello")(lambda: "Hello, World!")
    else:
        app = bare
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    a.setblocking(False)
    worker, conn, batch = w.Worker(app, None, None, 0), w.Conn(b), 100
    reqs = request(1) * batch

    def serve(k):
        a.sendall(reqs)
        for _ in range(k):
            req = worker.read_request(conn)
            if len(req) == 5:  # the worker before the environ was built on reading
                worker.run(conn, req[0], req[2], req[3], req[4])
            else:
                worker.run(conn, req[0], req[2])
        try:
            while a.recv(1 << 20):
                pass
        except BlockingIOError:
            pass

    serve(batch)
    t0 = time.process_time()
    for _ in range(n // batch):
        serve(batch)
    print((time.process_time() - t0) / (n // batch * batch) * 1e6)


if sys.argv[2] == "writes":
    writes()
else:
    bench(int(sys.argv[3]), sys.argv[4])
`

// runWorkerHarness runs workerHarness on the embedded worker with args.
func runWorkerHarness(tb testing.TB, args ...string) []byte {
	tb.Helper()
	dir := tb.TempDir()
	worker, harness := filepath.Join(dir, "gale_wsgi_worker.py"), filepath.Join(dir, "harness.py")
	if err := os.WriteFile(worker, wsgiWorkerPy, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(harness, []byte(workerHarness), 0o600); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(wsgiPython, append([]string{harness, worker}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			tb.Fatalf("harness %v: %v\n%s", args, err, ee.Stderr)
		}
		tb.Fatal(err)
	}
	return out
}

// TestWSGIWorkerWrites checks what each shape of response costs the
// worker in writes: the last block goes out with END_REQUEST (after
// close()), so a response known whole (a list, or a block reaching
// Content-Length, where PEP 3333 lets the server stop iterating) takes
// one write and gale one read; a stream still goes out as produced.
func TestWSGIWorkerWrites(t *testing.T) {
	needPython(t)
	type result struct {
		Writes          int
		Stdout, Stderr  string
		Ended           bool
		Closed, Overran bool
	}
	var got map[string]result
	if err := json.Unmarshal(runWorkerHarness(t, "writes"), &got); err != nil {
		t.Fatal(err)
	}
	head := "Status: 200 OK\r\nContent-Type: text/plain\r\n"
	want := map[string]result{
		// wsgi.errors' partial line is flushed into the same write.
		"sized":    {Writes: 1, Stdout: head + "Content-Length: 5\r\n\r\nhello", Stderr: "partial line", Ended: true, Closed: true},
		"listed":   {Writes: 2, Stdout: head + "\r\nhello", Ended: true},
		"empty":    {Writes: 1, Stdout: "Status: 204 No Content\r\n\r\n", Ended: true},
		"streamed": {Writes: 4, Stdout: head + "\r\nabc", Ended: true},
		"unsized":  {Writes: 3, Stdout: head + "Content-Length: -1\r\n\r\nab", Ended: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("worker writes\n got %+v\nwant %+v", got, want)
	}
}

// BenchmarkWSGIWorker measures the worker's CPU per request outside gale
// (no sleeps, no wakeups: the requests wait in its socket), for a bare
// application and for Flask's hello; the metric is the worker's own
// clock, not ns/op, which counts the interpreter's start. At least 2,000
// requests run whatever b.N: go test -bench WSGIWorker -benchtime 20000x.
func BenchmarkWSGIWorker(b *testing.B) {
	for _, app := range []string{"bare", "flask"} {
		b.Run(app, func(b *testing.B) {
			if app == "flask" && exec.Command(wsgiPython, "-c", "import flask").Run() != nil {
				b.Skipf("%s cannot import flask", wsgiPython)
			}
			n := max(b.N, 2000)
			out := runWorkerHarness(b, "bench", strconv.Itoa(n), app)
			us, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			if err != nil {
				b.Fatalf("harness: %q", out)
			}
			b.ReportMetric(us, "cpu-µs/req")
		})
	}
}
