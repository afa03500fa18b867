package reactor

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// The engine's state machines (pool, upConn, exchange) driven without a
// backend or a network: a fake codec speaking a line protocol, fake gnet
// connections and event loop, and the loop's own wheel advanced by hand.

// fakeProto is a codec whose request head is "Q<id:3> <path>\n" and whose
// backend answers with "D<id:3> <len>\n<bytes>" (response data) and
// "E<id:3>\n" (end).
type fakeProto struct{ caps upstream.Caps }

func (f fakeProto) Name() string        { return "fake" }
func (f fakeProto) Caps() upstream.Caps { return f.caps }
func (f fakeProto) EncodeHead(dst []byte, ri *cgi.RequestInfo, n int64) []byte {
	return append(append(append(dst, "Q001 "...), ri.Path...), '\n')
}
func (f fakeProto) PatchID(head []byte, id uint16) { copy(head[1:4], fmt.Sprintf("%03d", id)) }
func (f fakeProto) MaxFrame() int                  { return 1 << 20 }
func (f fakeProto) FrameBody(dst []byte, id uint16, n int) []byte {
	return fmt.Appendf(dst, "B%03d %d\n", id, n)
}
func (f fakeProto) FrameEnd(dst []byte, id uint16) []byte { return dst }
func (f fakeProto) Cancel(dst []byte, id uint16) []byte   { return fmt.Appendf(dst, "C%03d\n", id) }
func (f fakeProto) NewConn(maxMux int) upstream.ConnCodec {
	return &fakeConn{max: maxMux, limit: 1, streams: map[uint16]upstream.Stream{}}
}
func (f fakeProto) Response() upstream.ResponseFormat { return upstream.CGIResponse }

type fakeConn struct {
	max, limit, quarantined int
	streams                 map[uint16]upstream.Stream
	aborted                 map[uint16]bool
}

func (c *fakeConn) SetLimit(n int)   { c.limit = min(max(n, 1), c.max) }
func (c *fakeConn) Limit() int       { return c.limit }
func (c *fakeConn) Active() int      { return len(c.streams) }
func (c *fakeConn) Live() int        { return len(c.streams) - c.quarantined }
func (c *fakeConn) Quarantined() int { return c.quarantined }
func (c *fakeConn) Idle() bool       { return c.Live() == 0 }
func (c *fakeConn) Detach(id uint16) { c.streams[id] = nil }
func (c *fakeConn) PeerClosed()      {}
func (c *fakeConn) Abort(id uint16) {
	if c.aborted == nil {
		c.aborted = map[uint16]bool{}
	}
	if _, ok := c.streams[id]; ok && !c.aborted[id] {
		c.aborted[id], c.streams[id] = true, nil
		c.quarantined++
	}
}
func (c *fakeConn) Begin(s upstream.Stream) (uint16, bool) {
	if len(c.streams) >= c.limit {
		return 0, false
	}
	for id := uint16(1); ; id++ {
		if _, taken := c.streams[id]; !taken {
			c.streams[id] = s
			return id, true
		}
	}
}
func (c *fakeConn) Requests(dst []upstream.Stream) []upstream.Stream {
	for _, s := range c.streams {
		if s != nil {
			dst = append(dst, s)
		}
	}
	return dst
}
func (c *fakeConn) Feed(buf []byte) (int, error) {
	n := 0
	for {
		nl := bytes.IndexByte(buf[n:], '\n')
		if nl < 0 {
			return n, nil
		}
		line := string(buf[n : n+nl])
		id64, err := strconv.Atoi(line[1:4])
		if err != nil {
			return n, err
		}
		id := uint16(id64)
		s, ok := c.streams[id]
		if !ok {
			return n, fmt.Errorf("fake: unknown id %d", id)
		}
		switch line[0] {
		case 'D':
			k, _ := strconv.Atoi(line[5:])
			if n+nl+1+k > len(buf) {
				return n, nil
			}
			data := buf[n+nl+1 : n+nl+1+k]
			n += nl + 1 + k
			if s != nil {
				if err := s.Data(data); err != nil {
					return n, err
				}
			}
		case 'E':
			n += nl + 1
			if c.aborted[id] {
				continue
			}
			delete(c.streams, id)
			if s != nil {
				s.End(0, 0)
			}
		default:
			return n, fmt.Errorf("fake: bad line %q", line)
		}
	}
}

// fakeGC is a gnet.Conn in memory: what is written, what the backend sent.
type fakeGC struct {
	gnet.Conn
	ctx     any
	in, out []byte
	closed  bool
}

func (c *fakeGC) Write(b []byte) (int, error) { c.out = append(c.out, b...); return len(b), nil }
func (c *fakeGC) Peek(int) ([]byte, error)    { return c.in, nil }
func (c *fakeGC) Discard(n int) (int, error)  { c.in = c.in[n:]; return n, nil }
func (c *fakeGC) InboundBuffered() int        { return len(c.in) }
func (c *fakeGC) OutboundBuffered() int       { return 0 }
func (c *fakeGC) Fd() int                     { return -1 }
func (c *fakeGC) Context() any                { return c.ctx }
func (c *fakeGC) SetContext(v any)            { c.ctx = v }
func (c *fakeGC) RemoteAddr() net.Addr        { return fakeAddr }
func (c *fakeGC) LocalAddr() net.Addr         { return fakeAddr }
func (c *fakeGC) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		c.out = append(c.out, b...)
		n += len(b)
	}
	return n, nil
}

// fakeEL closes connections as gnet does: OnClose runs at once. Tasks
// queued from other goroutines (the flush timer's) are kept, not run:
// the rig's loop runs on the test's goroutine alone.
type fakeEL struct {
	gnet.EventLoop
	s     *Server
	mu    sync.Mutex
	tasks []gnet.Runnable
}

func (e *fakeEL) Close(c gnet.Conn) error {
	gc := c.(*fakeGC)
	if gc.closed {
		return nil
	}
	gc.closed = true
	e.s.OnClose(c, nil)
	return nil
}
func (e *fakeEL) Execute(_ context.Context, r gnet.Runnable) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tasks = append(e.tasks, r)
	return nil
}

type nopHandler struct{}

func (nopHandler) Serve(*handlers.Ctx, *httpcodec.Request, *handlers.Response) {}

// routeAll sends every request to u, as a pass-through location does.
type routeAll struct{ u *upstream.Upstream }

func (h routeAll) Serve(_ *handlers.Ctx, req *httpcodec.Request, resp *handlers.Response) {
	resp.RouteUpstream(h.u, "/", req.Path, nil)
}

// rig is a loop with one upstream speaking the fake protocol.
type rig struct {
	t     *testing.T
	l     *loop
	u     *upstream.Upstream
	dials []*upConn
}

func newRig(t *testing.T, u *upstream.Upstream, caps upstream.Caps) *rig {
	t.Helper()
	s, err := New(Config{Handler: nopHandler{}})
	if err != nil {
		t.Fatal(err)
	}
	el := &fakeEL{s: s}
	l := newLoop(s, el)
	backends, _ := upstream.ParseAddrs("127.0.0.1:1")
	u.Name, u.Backends, u.Protocol = "fake", backends, fakeProto{caps}
	u.Init(1)
	backends[0].ProbeDone()
	r := &rig{t: t, l: l, u: u}
	l.dialHook = func(uc *upConn) { r.dials = append(r.dials, uc) }
	s.SetHandler(routeAll{u})
	return r
}

// connect completes the i-th dial.
func (r *rig) connect(i int) *fakeGC {
	gc := &fakeGC{}
	gc.ctx = r.dials[i]
	r.l.upOpen(r.dials[i], gc)
	return gc
}

// client is a downstream connection over a socketpair; read returns what
// its client received.
type client struct {
	cs   *conn
	peer int
}

func (r *rig) client() *client {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	gc := &fakeGC{}
	cs := &conn{gc: gc, fd: int32(fds[0]), l: r.l, peer: socketPeer(gc.RemoteAddr())}
	gc.ctx = cs
	cs.t.owner = cs
	r.l.conns.add(cs)
	r.l.s.limit.open.Add(1)
	return &client{cs: cs, peer: fds[1]}
}

// read returns what c's client received: through gnet (small responses
// of a batch) and straight to the socket (the engine's writes).
func (c *client) read(t *testing.T) string {
	t.Helper()
	gc := c.cs.gc.(*fakeGC)
	got := string(gc.out)
	gc.out = gc.out[:0]
	buf := make([]byte, 64<<10)
	n, err := unix.Read(c.peer, buf)
	if err == unix.EAGAIN {
		return got
	}
	if err != nil {
		t.Fatal(err)
	}
	return got + string(buf[:n])
}

// request starts a GET of path from c, as parseBatch would.
func (r *rig) request(c *client, path string) *exchange {
	l := r.l
	l.stamp()
	raw := "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"
	if _, err := l.parser.Parse([]byte(raw), &l.req); err != nil {
		r.t.Fatal(err)
	}
	l.rawHead = []byte(raw)
	route := &handlers.UpstreamRoute{Upstream: r.u, ScriptName: l.req.Path}
	c.cs.nreq++
	l.startExchange(c.cs, route, nil)
	l.flush(c.cs)
	return c.cs.ex
}

// answer feeds gc the backend's response to id and runs the loop's
// upstream read.
func (r *rig) answer(gc *fakeGC, id uint16, body string, end bool) {
	resp := "Status: 200\r\nContent-Type: text/plain\r\n\r\n" + body
	gc.in = fmt.Appendf(gc.in, "D%03d %d\n%s", id, len(resp), resp)
	if end {
		gc.in = fmt.Appendf(gc.in, "E%03d\n", id)
	}
	r.l.upTraffic(gc.ctx.(*upConn))
}

// advance moves the loop's clock and wheel on by d.
func (r *rig) advance(d time.Duration) {
	r.l.now = r.l.now.Add(d)
	r.l.wheel.advance(r.l.now, fireTimer)
}

func TestEngineQueueThenReuse(t *testing.T) {
	r := newRig(t, &upstream.Upstream{MaxConns: 1}, upstream.Caps{KeepAlive: true})
	a, b := r.client(), r.client()
	ra := r.request(a, "/a")
	if ra.state != exDialing || len(r.dials) != 1 {
		t.Fatalf("first request: state %d, %d dials; want dialing, 1", ra.state, len(r.dials))
	}
	rb := r.request(b, "/b")
	if rb.state != exWaiting || r.u.Waiting.Load() != 1 {
		t.Fatalf("second request beyond the budget: state %d, waiting %d", rb.state, r.u.Waiting.Load())
	}
	gc := r.connect(0)
	if ra.state != exSent || string(gc.out) != "Q001 /a\n" {
		t.Fatalf("after the dial: state %d, wrote %q", ra.state, gc.out)
	}
	r.answer(gc, 1, "hello a", true)
	if got := a.read(t); !bytes.Contains([]byte(got), []byte("hello a")) {
		t.Fatalf("client a got %q", got)
	}
	uc := r.dials[0]
	if rb.state != exSent || rb.up != uc || r.u.Waiting.Load() != 0 {
		t.Fatalf("queued request: state %d, on the freed connection %v, waiting %d", rb.state, rb.up == uc, r.u.Waiting.Load())
	}
	if string(gc.out) != "Q001 /a\nQ001 /b\n" {
		t.Fatalf("wire %q", gc.out)
	}
	r.answer(gc, 1, "hello b", true)
	if got := b.read(t); !bytes.Contains([]byte(got), []byte("hello b")) {
		t.Fatalf("client b got %q", got)
	}
	if uc.state != ucIdle || len(r.u.Backends) != 1 || r.u.Backends[0].Conns() != 1 {
		t.Fatalf("connection: %s, budget %d; want idle, 1", uc.state, r.u.Backends[0].Conns())
	}
	// Its idle timeout closes it and returns the budget.
	r.advance(r.u.IdleTimeout + time.Second)
	if uc.state != ucClosed || r.u.Backends[0].Conns() != 0 {
		t.Fatalf("after the idle timeout: %s, budget %d", uc.state, r.u.Backends[0].Conns())
	}
}

func TestEngineQueueTimeout(t *testing.T) {
	r := newRig(t, &upstream.Upstream{MaxConns: 1, QueueTimeout: time.Second}, upstream.Caps{KeepAlive: true})
	a, b := r.client(), r.client()
	r.request(a, "/a")
	rb := r.request(b, "/b")
	r.advance(900 * time.Millisecond)
	if rb.state != exWaiting {
		t.Fatalf("before the queue timeout: state %d", rb.state)
	}
	r.advance(300 * time.Millisecond)
	if got := b.read(t); !bytes.HasPrefix([]byte(got), []byte("HTTP/1.1 503")) {
		t.Fatalf("after the queue timeout, client b got %q", got)
	}
	if rb.state != exFinished || r.u.Waiting.Load() != 0 {
		t.Fatalf("state %d, waiting %d", rb.state, r.u.Waiting.Load())
	}
}

// A reused connection the backend closes right after an end, with a
// request just sent on it: the request was not read, so it goes again on a
// fresh connection and does not count against its retries.
func TestEngineCloseAfterEndResends(t *testing.T) {
	r := newRig(t, &upstream.Upstream{MaxConns: 2}, upstream.Caps{KeepAlive: true})
	a := r.client()
	r.request(a, "/a")
	gc := r.connect(0)
	r.answer(gc, 1, "one", true)
	a.read(t)
	rb := r.request(a, "/b")
	uc := r.dials[0]
	if rb.up != uc || !uc.reused {
		t.Fatal("second request not on the reused connection")
	}
	r.l.el.Close(gc) // the backend's close, as OnClose sees it
	if uc.state != ucClosed || uc.loss != lossAfterEnd {
		t.Fatalf("connection %s, loss %d; want closed after end", uc.state, uc.loss)
	}
	if rb.state != exDialing || !rb.fresh || rb.requeues != 1 || rb.retries != 0 || len(r.dials) != 2 {
		t.Fatalf("request: state %d fresh %v requeues %d retries %d dials %d", rb.state, rb.fresh, rb.requeues, rb.retries, len(r.dials))
	}
	gc2 := r.connect(1)
	r.answer(gc2, 1, "two", true)
	if got := a.read(t); !bytes.Contains([]byte(got), []byte("two")) {
		t.Fatalf("client got %q", got)
	}
}

// An upstream timeout on a connection carrying one request at a time with
// another pipelined behind: 504 for the first, the connection closed by
// gale (not counted against the backend's keep-alive), and the one behind
// resent unread.
func TestEngineTimeoutResendsPipelined(t *testing.T) {
	u := &upstream.Upstream{MaxConns: 1, Pipeline: 2, PipelineWindow: time.Hour, ReadTimeout: time.Second}
	r := newRig(t, u, upstream.Caps{KeepAlive: true, Pipeline: true})
	u.Backends[0].ObserveReuse() // the backend keeps connections: pipelining allowed
	a, b := r.client(), r.client()
	ra := r.request(a, "/slow")
	gc := r.connect(0)
	rb := r.request(b, "/next")
	if rb.up != ra.up || ra.up.proto.Live() != 2 {
		t.Fatalf("second request not pipelined: on %p, live %d", rb.up, ra.up.proto.Live())
	}
	uc := ra.up
	r.advance(1500 * time.Millisecond)
	if got := a.read(t); !bytes.HasPrefix([]byte(got), []byte("HTTP/1.1 504")) {
		t.Fatalf("timed-out client got %q", got)
	}
	if !gc.closed || uc.loss != lossTimeout || uc.b.NoKeepAlive(r.l.now) {
		t.Fatalf("connection closed %v, loss %d, no-keepalive %v", gc.closed, uc.loss, uc.b.NoKeepAlive(r.l.now))
	}
	if rb.state != exDialing || !rb.fresh || rb.retries != 0 {
		t.Fatalf("pipelined request: state %d fresh %v retries %d", rb.state, rb.fresh, rb.retries)
	}
}

// Beyond the second request on a connection that carries one at a time,
// a request is pipelined only while the ones ahead are expected (their
// recent average) to end within the window: a fresh connection, whose
// average starts at the window, takes one behind its first; fast requests
// let it carry up to the limit; slow ones bring it back. (The window is an
// hour so that the test's real clock never matters.)
func TestEnginePipelineDepthFollowsRequestTime(t *testing.T) {
	u := &upstream.Upstream{MaxConns: 1, Pipeline: 4, PipelineWindow: time.Hour, ReadTimeout: 2 * time.Hour}
	r := newRig(t, u, upstream.Caps{KeepAlive: true, Pipeline: true})
	u.Backends[0].ObserveReuse() // the backend keeps connections: pipelining allowed
	var ex [6]*exchange
	get := func(i int) *exchange {
		ex[i] = r.request(r.client(), fmt.Sprintf("/%d", i))
		return ex[i]
	}
	get(0)
	gc := r.connect(0)
	uc := ex[0].up
	if get(1); ex[1].up != uc {
		t.Fatal("the second request was not pipelined behind the first")
	}
	if get(2); ex[2].state != exWaiting {
		t.Fatalf("a fresh connection took a third request (state %d): nothing says the first two are quick", ex[2].state)
	}
	r.answer(gc, ex[0].id, "0", true)
	if ex[2].up != uc || uc.proto.Live() != 2 {
		t.Fatalf("the queued request did not go behind the running one: on it %v, live %d", ex[2].up == uc, uc.proto.Live())
	}
	uc.perRequest = time.Minute // quick requests: two or three ahead take minutes
	if get(3); ex[3].up != uc {
		t.Fatal("a request behind two quick ones was queued")
	}
	if get(4); ex[4].up != uc {
		t.Fatal("a request behind three quick ones was queued")
	}
	if get(5); ex[5].state != exWaiting || uc.proto.Live() != 4 {
		t.Fatalf("a fifth request went beyond the limit of 4: state %d, live %d", ex[5].state, uc.proto.Live())
	}
	uc.perRequest = 25 * time.Minute // slow ones: three ahead would take over the hour
	r.answer(gc, ex[1].id, "1", true)
	if ex[5].state != exWaiting {
		t.Fatalf("a request went behind three slow ones: state %d", ex[5].state)
	}
	if uc.perRequest >= 25*time.Minute {
		t.Errorf("the average did not follow a quick request: %v", uc.perRequest)
	}
	r.answer(gc, ex[2].id, "2", true)
	if ex[5].up != uc {
		t.Fatalf("a request was not pipelined behind two whose average (%v) fits the window twice", uc.perRequest)
	}
}

// A protocol error in the read that also ended another request: that
// request's client is answered, and nothing new is given to the broken
// connection.
func TestEngineProtocolErrorAfterEnd(t *testing.T) {
	u := &upstream.Upstream{MaxConns: 1, MaxMux: 4}
	r := newRig(t, u, upstream.Caps{KeepAlive: true, Multiplex: true})
	u.Backends[0].SetValues(u, 0, 0, true) // the backend multiplexes
	a, b := r.client(), r.client()
	r.request(a, "/a")
	gc := r.connect(0)
	rb := r.request(b, "/b")
	uc := r.dials[0]
	if rb.up != uc {
		t.Fatal("second request not multiplexed")
	}
	resp := "Status: 200\r\n\r\nok"
	gc.in = fmt.Appendf(gc.in, "D001 %d\n%sE001\nX999\n", len(resp), resp)
	// Client a's next request is in hand: its response ending moves it on.
	a.cs.gc.(*fakeGC).in = []byte("GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
	r.l.upTraffic(uc)
	if got := a.read(t); !bytes.Contains([]byte(got), []byte("ok")) {
		t.Fatalf("client whose response ended in the read got %q", got)
	}
	if rc := a.cs.ex; rc == nil || rc.up == uc || rc.state != exDialing || len(r.dials) != 2 {
		t.Fatalf("the next request went to the broken connection, or nowhere: %+v", rc)
	}
	if got := b.read(t); !bytes.HasPrefix([]byte(got), []byte("HTTP/1.1 502")) {
		t.Fatalf("client on the broken connection got %q", got)
	}
	if uc.state != ucClosed || uc.loss != lossBroken {
		t.Fatalf("connection %s loss %d", uc.state, uc.loss)
	}
}

var fakeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5556}
