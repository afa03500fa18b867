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
import gc
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
LONG = struct.Struct("!I")
END_BODY = struct.Struct("!IB3x")
PADDING = [b"\0" * n for n in range(8)]
MAX_CONTENT = 65535
# A record's content and padding fit in one recv of this size.
RECV_SIZE = 65536
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
    """One FastCGI connection from gale.

    It reads into its own buffer, RECV_SIZE at a time, and slices records
    out of it: gale writes a request's records together, so one recv
    usually brings a whole request (a file object would cost two reads per
    record, each a Python-level call)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""  # bytes received, parsed up to pos
        self.pos = 0

    def read_record(self):
        """Returns (type, request id, content) or None at a clean EOF."""
        buf, pos = self.buf, self.pos
        if len(buf) - pos < 8 and not self.fill(8):
            return None
        buf, pos = self.buf, self.pos
        version, rtype, rid, clen, plen = HEADER.unpack_from(buf, pos)
        if version != VERSION:
            raise ProtocolError("FastCGI version %d" % version)
        end = pos + 8 + clen + plen
        if len(buf) < end:
            self.fill(8 + clen + plen)
            buf, pos = self.buf, self.pos
            end = pos + 8 + clen + plen
        self.pos = end
        return rtype, rid, buf[pos + 8:end - plen]

    def fill(self, need):
        """Receives until need bytes are buffered past pos. False at EOF
        before any (a clean end between records); a record cut short is a
        ProtocolError."""
        rest = self.buf[self.pos:]
        chunks, have = [rest], len(rest)
        while have < need:
            data = self.sock.recv(max(RECV_SIZE, need - have))
            if not data:
                if have == 0:
                    return False
                raise ProtocolError("truncated record")
            chunks.append(data)
            have += len(data)
        self.buf, self.pos = b"".join(chunks), 0
        return True

    def send(self, rtype, rid, data=b""):
        """Writes data as records of rtype (an empty one when data is)."""
        self.sendall(frame(rtype, rid, data))

    def sendall(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ClientGone(str(e)) from e

    def end_request(self, rid, app_status=0, protocol_status=REQUEST_COMPLETE):
        self.sendall(end_record(rid, app_status, protocol_status))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def frame(rtype, rid, data):
    """data as records of rtype, padded to 8 bytes (an empty record when
    data is)."""
    n = len(data)
    if n <= MAX_CONTENT:
        pad = -n % 8
        return b"".join((HEADER.pack(VERSION, rtype, rid, n, pad), data, PADDING[pad]))
    out = []
    view = memoryview(data)
    while view:
        chunk = view[:MAX_CONTENT]
        pad = -len(chunk) % 8
        out += (HEADER.pack(VERSION, rtype, rid, len(chunk), pad), chunk, PADDING[pad])
        view = view[MAX_CONTENT:]
    return b"".join(out)


def end_record(rid, app_status=0, protocol_status=REQUEST_COMPLETE):
    """FCGI_END_REQUEST for rid."""
    return HEADER.pack(VERSION, END_REQUEST, rid, 8, 0) + END_BODY.pack(app_status, protocol_status)


def decode_pairs(data, pairs):
    """Adds the FastCGI name-value pairs in data to the dict pairs, as
    latin-1 native strings (PEP 3333), and returns it. The block is decoded
    once and the names and values sliced out of the text: a decode per
    string costs more than the rest of the loop."""
    text = data.decode("latin-1")
    i, n = 0, len(data)
    try:
        while i < n:
            nl = data[i]
            if nl < 128:
                i += 1
            else:
                nl = LONG.unpack_from(data, i)[0] & 0x7FFFFFFF
                i += 4
            vl = data[i]
            if vl < 128:
                i += 1
            else:
                vl = LONG.unpack_from(data, i)[0] & 0x7FFFFFFF
                i += 4
            j = i + nl
            k = j + vl
            if k > n:
                raise ProtocolError("truncated name-value pair")
            pairs[text[i:j]] = text[j:k]
            i = k
    except (IndexError, struct.error):
        raise ProtocolError("truncated name-value pair") from None
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
            try:
                self.conn.sendall(self.take())
            except ClientGone:
                pass

    def take(self):
        """The pending text as FCGI_STDERR records (b"" when none)."""
        if not self.pending:
            return b""
        data, self.pending = self.pending, ""
        return frame(STDERR, self.rid, data.encode("utf-8", "backslashreplace"))


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
        self.length = None  # the Content-Length header's value, if any
        self.count = 0  # body bytes written

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
        length = None
        for h in headers:
            if type(h) is not tuple or len(h) != 2 or type(h[0]) is not str or type(h[1]) is not str:
                raise TypeError("headers must be (str, str) tuples, got %r" % (h,))
            name, value = h
            if "\n" in name or "\r" in name or ":" in name or "\n" in value or "\r" in value:
                raise ValueError("bad header %r" % (h,))
            if len(name) == 14 and name.lower() == "content-length" and value.isascii() and value.isdigit():
                length = int(value)
        self.status, self.headers, self.length = status, list(headers), length
        return self.write

    def write(self, data):
        if self.status is None:
            raise AssertionError("write() before start_response")
        if type(data) is not bytes:
            raise TypeError("response data must be bytes, not %s" % type(data).__name__)
        self.count += len(data)
        if not self.sent:
            self.conn.sendall(frame(STDOUT, self.rid, self.head() + data))
        elif data:
            self.conn.send(STDOUT, self.rid, data)

    def last(self, data):
        """Checks a block the application yielded; True when it completes
        the body its Content-Length announced. PEP 3333 lets the server stop
        iterating there, and the block can then go out with END_REQUEST."""
        if self.status is None:
            raise AssertionError("the application yielded before start_response")
        if type(data) is not bytes:
            raise TypeError("response data must be bytes, not %s" % type(data).__name__)
        return self.length is not None and self.count + len(data) >= self.length

    def head(self):
        """The response head as FCGI_STDOUT content, marked sent."""
        self.sent = True
        return ("Status: %s\r\n%s\r\n" % (self.status, "".join(["%s: %s\r\n" % h for h in self.headers]))).encode("latin-1")

    def finish(self, data, errors):
        """Sends what is left of the response in one write: the head if it
        is not out yet, the last block data, the pending wsgi.errors text
        and END_REQUEST. gale then reads the whole response at once, and
        the worker pays one send, not three."""
        self.count += len(data)
        out = b""
        if not self.sent:
            out = frame(STDOUT, self.rid, self.head() + data)
        elif data:
            out = frame(STDOUT, self.rid, data)
        self.conn.sendall(b"".join((out, errors.take(), end_record(self.rid))))


def error_page(resp):
    """A 500 for an error before anything was sent."""
    resp.status, resp.headers = "500 Internal Server Error", [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(ERROR_BODY)))]
    return ERROR_BODY


ERROR_BODY = b"Internal Server Error\n"

# The environ keys every request has (PEP 3333): CGI variables with
# defaults, which gale's params override, and the wsgi.* constants, which
# override any param.
ENVIRON_DEFAULTS = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "",
    "QUERY_STRING": "",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
}
ENVIRON_WSGI = {
    "wsgi.version": (1, 0),
    "wsgi.input_terminated": True,
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.file_wrapper": FileWrapper,
}
# The spool of a request without a body: never read (Input stops at 0).
NO_BODY = io.BytesIO()


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
            rid, keep, environ, body = req
            try:
                self.run(conn, rid, environ)
            finally:
                if body is not None:
                    body.close()
            self.served += 1
            if self.served == self.max_requests:
                self.tell("recycle")
            if not keep:
                return

    def read_request(self, conn):
        """Reads records up to a whole request: (id, keep_conn, environ,
        body spool or None); None at EOF. environ has every CGI variable
        and wsgi.input."""
        rid, keep, params, body = 0, False, [], None
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
                role, flags = content[0] << 8 | content[1], content[2]
                if rid:
                    conn.end_request(r, protocol_status=CANT_MPX_CONN)
                    continue
                if role != RESPONDER:
                    conn.end_request(r, protocol_status=UNKNOWN_ROLE)
                    continue
                rid, keep = r, bool(flags & KEEP_CONN)
                params, params_done, body = [], False, None
                continue
            if r != rid:
                continue  # a stray record of a request already ended
            if rtype == ABORT_REQUEST:
                conn.end_request(rid, app_status=1)
                if body is not None:
                    body.close()
                if not keep:
                    return None
                rid, body = 0, None
                continue
            if rtype == PARAMS:
                if content:
                    params.append(content)
                else:
                    params_done = True
                continue
            if rtype == STDIN:
                if content:
                    if body is None:
                        body = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
                    body.write(content)
                    continue
                if not params_done:
                    raise ProtocolError("STDIN ended before PARAMS")
                environ = decode_pairs(params[0] if len(params) == 1 else b"".join(params), dict(ENVIRON_DEFAULTS))
                environ.update(ENVIRON_WSGI)
                size = 0
                if body is not None:
                    size = body.tell()
                    body.seek(0)
                try:
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = 0
                environ["wsgi.input"] = Input(NO_BODY if body is None else body, max(0, min(length, size)))
                return rid, keep, environ, body
            if rtype == DATA:
                continue
            raise ProtocolError("unexpected record type %d" % rtype)

    def management(self, conn, rtype, content):
        if rtype == GET_VALUES:
            known = {"FCGI_MAX_CONNS": "1", "FCGI_MAX_REQS": "1", "FCGI_MPXS_CONNS": "0"}
            asked = decode_pairs(content, {})
            conn.send(GET_VALUES_RESULT, 0, encode_pairs([(k, known[k]) for k in asked if k in known]))
            return
        conn.send(UNKNOWN_TYPE, 0, bytes([rtype]) + b"\0" * 7)

    def run(self, conn, rid, environ):
        """Runs the application for one request and sends its response."""
        global current
        # gale's SERVER_NAME is the Host header, port included; WSGI's is
        # the name alone (the port is SERVER_PORT).
        name, port = environ["SERVER_NAME"], environ["SERVER_PORT"]
        if name.endswith(":" + port):
            environ["SERVER_NAME"] = name[:-len(port) - 1]
        # gale sends both, empty when the request has no body.
        if not environ.get("CONTENT_TYPE", True):
            del environ["CONTENT_TYPE"]
        if not environ.get("CONTENT_LENGTH", True):
            del environ["CONTENT_LENGTH"]
        https = environ.get("HTTPS", "").lower() in ("on", "1") or environ.get("REQUEST_SCHEME") == "https"
        environ["wsgi.url_scheme"] = "https" if https else "http"
        environ["wsgi.errors"] = errors = Errors(conn, rid)
        current = "%s %s" % (environ["REQUEST_METHOD"], environ.get("REQUEST_URI") or environ["PATH_INFO"])
        resp = Response(conn, rid)
        try:
            result = None
            tail = b""  # the last block, sent with END_REQUEST
            try:
                result = self.app(environ, resp.start_response)
                # A list's last block is known before it is reached.
                left = len(result) if type(result) is list or type(result) is tuple else -1
                for data in result:
                    left -= 1
                    if resp.last(data) or left == 0:
                        tail = data
                        break
                    if data:
                        resp.write(data)
                if resp.status is None:
                    raise AssertionError("the application returned before start_response")
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
                errors.flush()
                raise ClientGone("application error after the response began")
            tail = error_page(resp)
        finally:
            current = ""
            sys.stdout.flush()
            sys.stderr.flush()
        # The last block waited for close(): what gale reads next is the
        # whole rest of the response, END_REQUEST included.
        resp.finish(tail, errors)


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
    # What the import built lives as long as the worker: out of the
    # collector's sight, a full collection need not walk it again.
    gc.collect()
    gc.freeze()
    Worker(app, listen(args.socket), status, args.max_requests).serve_forever()


if __name__ == "__main__":
    main()
