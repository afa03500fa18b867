"""gale's WSGI worker: serves one WSGI application over FastCGI.

gale embeds this file and runs it, one process per worker, each on its own
unix socket (`gale wsgi module:callable`). Standard library only, Python
3.9 or later. It serves one connection and one request at a time: gale
holds at most one connection to it and queues the rest itself, so it always
knows which worker is busy.

Protocol with gale beside FastCGI: the status pipe (--status-fd) gets
"ready" once the application is imported and the socket listens, and
"recycle" once --max-requests requests are served (gale then starts a
replacement, drains this worker and stops it with SIGTERM). Output lines
written while a request runs are prefixed "[req METHOD URI] " so that gale's
log says which request printed them.
"""

import argparse
import importlib
import io
import os
import signal
import socket
import struct
import sys
import tempfile
import traceback

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
DATA, GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = 8, 9, 10, 11
RESPONDER = 1
KEEP_CONN = 1
REQUEST_COMPLETE, CANT_MPX_CONN, OVERLOADED, UNKNOWN_ROLE = 0, 1, 2, 3

HEADER = struct.Struct("!BBHHBx")
MAX_CONTENT = 65535
# Bodies up to this size stay in memory; larger ones go to a temp file.
SPOOL_MEMORY = 1 << 20

# The request being served, for tagging output lines ("" between requests).
current = ""


class TaggedOutput(io.TextIOBase):
    """A text stream that writes whole lines to fd, each prefixed with the
    request being served, so gale's log ties them to it."""

    def __init__(self, fd):
        self.fd = fd
        self.pending = ""

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        self.pending += s
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self._emit(line)
        return len(s)

    def flush(self):
        if self.pending:
            line, self.pending = self.pending, ""
            self._emit(line)

    def _emit(self, line):
        tag = "[req %s] " % current if current else ""
        data = (tag + line + "\n").encode("utf-8", "backslashreplace")
        while data:
            try:
                n = os.write(self.fd, data)
            except InterruptedError:
                continue
            data = data[n:]


class ProtocolError(Exception):
    """The peer broke the FastCGI protocol: the connection is closed."""


class ClientGone(Exception):
    """The connection to gale broke while the response was written."""


class Conn:
    """One FastCGI connection from gale."""

    def __init__(self, sock):
        self.sock = sock
        self.rfile = sock.makefile("rb", buffering=65536)

    def read_record(self):
        """Returns (type, request id, content) or None at a clean EOF."""
        head = self.rfile.read(HEADER.size)
        if not head:
            return None
        if len(head) < HEADER.size:
            raise ProtocolError("truncated record header")
        version, rtype, rid, clen, plen = HEADER.unpack(head)
        if version != VERSION:
            raise ProtocolError("FastCGI version %d" % version)
        body = self.rfile.read(clen + plen)
        if len(body) < clen + plen:
            raise ProtocolError("truncated record")
        return rtype, rid, body[:clen]

    def send(self, rtype, rid, data=b""):
        """Writes data as records of rtype (an empty one when data is)."""
        out = []
        view = memoryview(data)
        while True:
            chunk = view[:MAX_CONTENT]
            pad = -len(chunk) % 8
            out.append(HEADER.pack(VERSION, rtype, rid, len(chunk), pad))
            out.append(chunk)
            if pad:
                out.append(b"\0" * pad)
            view = view[MAX_CONTENT:]
            if not view:
                break
        try:
            self.sock.sendall(b"".join(out))
        except OSError as e:
            raise ClientGone(str(e)) from e

    def end_request(self, rid, app_status=0, protocol_status=REQUEST_COMPLETE):
        self.send(END_REQUEST, rid, struct.pack("!IB3x", app_status, protocol_status))

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


def decode_pairs(data):
    """FastCGI name-value pairs, as latin-1 native strings (PEP 3333)."""
    pairs, i, n = {}, 0, len(data)

    def length():
        nonlocal i
        if i >= n:
            raise ProtocolError("truncated name-value pair")
        if data[i] < 128:
            i += 1
            return data[i - 1]
        if i + 4 > n:
            raise ProtocolError("truncated name-value pair")
        v = struct.unpack("!I", data[i:i + 4])[0] & 0x7FFFFFFF
        i += 4
        return v

    while i < n:
        nl = length()
        vl = length()
        if i + nl + vl > n:
            raise ProtocolError("truncated name-value pair")
        name = data[i:i + nl].decode("latin-1")
        value = data[i + nl:i + nl + vl].decode("latin-1")
        i += nl + vl
        pairs[name] = value
    return pairs


def encode_pairs(pairs):
    out = bytearray()
    for name, value in pairs:
        for s in (name, value):
            if len(s) < 128:
                out.append(len(s))
            else:
                out += struct.pack("!I", len(s) | 0x80000000)
        out += name.encode("latin-1") + value.encode("latin-1")
    return bytes(out)


class Input(io.RawIOBase):
    """wsgi.input: the request body, never more than CONTENT_LENGTH bytes."""

    def __init__(self, spool, length):
        self.spool = spool
        self.left = length

    def readable(self):
        return True

    def read(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.spool.read(size) if size else b""
        self.left -= len(data)
        return data

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def readline(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.spool.readline(size) if size else b""
        self.left -= len(data)
        return data

    def readlines(self, hint=-1):
        lines, total = [], 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class Errors:
    """wsgi.errors: text sent to gale as FCGI_STDERR (its error log)."""

    def __init__(self, conn, rid):
        self.conn, self.rid, self.pending = conn, rid, ""

    def write(self, s):
        self.pending += s
        if "\n" in self.pending:
            self.flush()

    def writelines(self, seq):
        for s in seq:
            self.write(s)

    def flush(self):
        if self.pending:
            data, self.pending = self.pending, ""
            try:
                self.conn.send(STDERR, self.rid, data.encode("utf-8", "backslashreplace"))
            except ClientGone:
                pass


class FileWrapper:
    """wsgi.file_wrapper: iterates a file-like object in blocks."""

    def __init__(self, filelike, blksize=65536):
        self.filelike, self.blksize = filelike, blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


class Response:
    """start_response and write() for one request (PEP 3333)."""

    def __init__(self, conn, rid):
        self.conn, self.rid = conn, rid
        self.status = None
        self.headers = None
        self.sent = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called a second time without exc_info")
        if type(status) is not str:
            raise TypeError("status must be a str, not %s" % type(status).__name__)
        if len(status) < 4 or not status[:3].isdigit() or status[3] != " ":
            raise ValueError("status %r is not 'NNN Reason'" % status)
        for h in headers:
            if type(h) is not tuple or len(h) != 2 or type(h[0]) is not str or type(h[1]) is not str:
                raise TypeError("headers must be (str, str) tuples, got %r" % (h,))
            if "\n" in h[0] + h[1] or "\r" in h[0] + h[1] or ":" in h[0]:
                raise ValueError("bad header %r" % (h,))
        self.status, self.headers = status, list(headers)
        return self.write

    def write(self, data):
        if self.status is None:
            raise AssertionError("write() before start_response")
        if type(data) is not bytes:
            raise TypeError("response data must be bytes, not %s" % type(data).__name__)
        if not self.sent:
            self.send_head(data)
        elif data:
            self.conn.send(STDOUT, self.rid, data)

    def send_head(self, body=b""):
        lines = ["Status: %s\r\n" % self.status]
        lines += ["%s: %s\r\n" % h for h in self.headers]
        lines.append("\r\n")
        self.sent = True
        self.conn.send(STDOUT, self.rid, "".join(lines).encode("latin-1") + body)


def error_page(resp):
    """A 500 for an error before anything was sent."""
    body = b"Internal Server Error\n"
    resp.status, resp.headers = "500 Internal Server Error", [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    resp.send_head(body)


class Worker:
    def __init__(self, app, sock, status, max_requests):
        self.app, self.sock, self.status = app, sock, status
        self.max_requests, self.served = max_requests, 0

    def tell(self, msg):
        if self.status is not None:
            try:
                os.write(self.status, (msg + "\n").encode())
            except OSError:
                pass

    def serve_forever(self):
        self.tell("ready")
        while True:
            try:
                s, _ = self.sock.accept()
            except InterruptedError:
                continue
            conn = Conn(s)
            try:
                self.serve_conn(conn)
            except ProtocolError as e:
                sys.stderr.write("gale wsgi worker: connection dropped: %s\n" % e)
            except (ClientGone, OSError):
                # gale closed the connection (its client left, a timeout)
                # and logged why; or the application failed after its
                # head, traceback printed. The next connection is served.
                pass
            finally:
                conn.close()

    def serve_conn(self, conn):
        """Serves requests on conn until gale closes it."""
        while True:
            req = self.read_request(conn)
            if req is None:
                return
            rid, keep, params, body, length = req
            try:
                self.run(conn, rid, params, body, length)
            finally:
                body.close()
            self.served += 1
            if self.served == self.max_requests:
                self.tell("recycle")
            if not keep:
                return

    def read_request(self, conn):
        """Reads records up to a whole request: (id, keep_conn, params,
        body spool, length); None at EOF."""
        rid, keep, params, body = 0, False, bytearray(), None
        params_done = False
        while True:
            rec = conn.read_record()
            if rec is None:
                if rid:
                    raise ProtocolError("connection closed inside a request")
                return None
            rtype, r, content = rec
            if r == 0:
                self.management(conn, rtype, content)
                continue
            if rtype == BEGIN_REQUEST:
                if len(content) < 3:
                    raise ProtocolError("short BEGIN_REQUEST")
                role, flags = struct.unpack("!HB", content[:3])
                if rid:
                    conn.end_request(r, protocol_status=CANT_MPX_CONN)
                    continue
                if role != RESPONDER:
                    conn.end_request(r, protocol_status=UNKNOWN_ROLE)
                    continue
                rid, keep = r, bool(flags & KEEP_CONN)
                params, params_done = bytearray(), False
                body = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
                continue
            if r != rid:
                continue  # a stray record of a request already ended
            if rtype == ABORT_REQUEST:
                conn.end_request(rid, app_status=1)
                body.close()
                if not keep:
                    return None
                rid, body = 0, None
                continue
            if rtype == PARAMS:
                if content:
                    params += content
                else:
                    params_done = True
                continue
            if rtype == STDIN:
                if content:
                    body.write(content)
                    continue
                if not params_done:
                    raise ProtocolError("STDIN ended before PARAMS")
                env = decode_pairs(bytes(params))
                size = body.tell()
                body.seek(0)
                try:
                    length = int(env.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = 0
                return rid, keep, env, body, max(0, min(length, size))
            if rtype == DATA:
                continue
            raise ProtocolError("unexpected record type %d" % rtype)

    def management(self, conn, rtype, content):
        if rtype == GET_VALUES:
            known = {"FCGI_MAX_CONNS": "1", "FCGI_MAX_REQS": "1", "FCGI_MPXS_CONNS": "0"}
            asked = decode_pairs(content)
            conn.send(GET_VALUES_RESULT, 0, encode_pairs([(k, known[k]) for k in asked if k in known]))
            return
        conn.send(UNKNOWN_TYPE, 0, bytes([rtype]) + b"\0" * 7)

    def run(self, conn, rid, params, body, length):
        """Runs the application for one request and sends its response."""
        global current
        environ = dict(params)
        environ.setdefault("REQUEST_METHOD", "GET")
        environ.setdefault("SCRIPT_NAME", "")
        environ.setdefault("PATH_INFO", "")
        environ.setdefault("QUERY_STRING", "")
        environ.setdefault("SERVER_NAME", "localhost")
        environ.setdefault("SERVER_PORT", "80")
        environ.setdefault("SERVER_PROTOCOL", "HTTP/1.1")
        # gale's SERVER_NAME is the Host header, port included; WSGI's is
        # the name alone (the port is SERVER_PORT).
        name, port = environ["SERVER_NAME"], environ["SERVER_PORT"]
        if name.endswith(":" + port):
            environ["SERVER_NAME"] = name[:-len(port) - 1]
        for k in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(k) == "":
                del environ[k]
        https = environ.get("HTTPS", "").lower() in ("on", "1") or environ.get("REQUEST_SCHEME") == "https"
        errors = Errors(conn, rid)
        environ.update({
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if https else "http",
            "wsgi.input": Input(body, length),
            "wsgi.input_terminated": True,
            "wsgi.errors": errors,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
        })
        current = "%s %s" % (environ["REQUEST_METHOD"], environ.get("REQUEST_URI") or environ["PATH_INFO"])
        resp = Response(conn, rid)
        try:
            result = None
            try:
                result = self.app(environ, resp.start_response)
                for data in result:
                    if data:
                        resp.write(data)
                    elif resp.status is None:
                        raise AssertionError("the application yielded before start_response")
                if not resp.sent:
                    resp.write(b"")
            finally:
                if result is not None and hasattr(result, "close"):
                    result.close()
        except ClientGone:
            raise
        except Exception:
            traceback.print_exc()
            if resp.sent:
                # The head is out: only a cut connection tells gale, and
                # through it the client, that the response is incomplete.
                raise ClientGone("application error after the response began")
            error_page(resp)
        finally:
            current = ""
            errors.flush()
            sys.stdout.flush()
            sys.stderr.flush()
        conn.end_request(rid)


def load(spec):
    module, _, name = spec.partition(":")
    obj = importlib.import_module(module)
    for part in (name or "application").split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError("%s is not callable" % spec)
    return obj


def listen(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(16)
    return sock


def main():
    ap = argparse.ArgumentParser(description="gale's WSGI worker (FastCGI)")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--app", required=True, help="module:callable")
    ap.add_argument("--dir", default=".", help="the application's directory, first on sys.path")
    ap.add_argument("--status-fd", type=int, default=-1)
    ap.add_argument("--max-requests", type=int, default=0)
    args = ap.parse_args()
    # gale stops its workers itself: a Ctrl-C in the terminal is for gale.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout = TaggedOutput(1)
    sys.stderr = TaggedOutput(2)
    os.chdir(args.dir)
    sys.path.insert(0, os.getcwd())
    status = args.status_fd if args.status_fd >= 0 else None
    try:
        app = load(args.app)
    except BaseException:
        sys.stderr.write("gale wsgi worker: cannot load %s\n" % args.app)
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(3)
    Worker(app, listen(args.socket), status, args.max_requests).serve_forever()


if __name__ == "__main__":
    main()
