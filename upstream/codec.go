package upstream

import (
	"context"
	"net"
	"time"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream/cgi"
)

// Caps declares what a protocol can do. The engine (reactor) reads them to
// decide how it pools, queues, cancels and retries; it never looks at the
// protocol's bytes.
type Caps struct {
	// Multiplex: a connection may carry several requests at once, when the
	// backend agrees (learned per backend, see Prober).
	Multiplex bool
	// KeepAlive: a connection may carry another request after one ended.
	KeepAlive bool
	// Pipeline: a request may be written behind one the backend still
	// runs, on a kept-alive connection to a backend that serves one at a
	// time (the backend reads it when it is done with the first).
	Pipeline bool
	// NeedsLength: the request head states the body's length, so a
	// chunked request body is received whole before the head is encoded.
	NeedsLength bool
	// InBandCancel: a request can be cancelled on its connection
	// (Protocol.Cancel) without closing it under the others.
	InBandCancel bool
	// OpenPool: the backend takes as many connections as it is given and
	// serves them concurrently (an HTTP server: an event loop such as
	// uvicorn's or Go's, or threads with a queue of their own), where
	// php-fpm serves a fixed pool it reports. Its default budget is
	// OneShotBudget's, as nginx's `keepalive 64` in front of such an app,
	// not a few connections per loop: with 4, an async backend whose
	// requests wait on a database serves 4 at a time, and the loop hands
	// it a few requests per round instead of a batch.
	OpenPool bool
}

// Protocol is one upstream protocol's codec: stateless, shared by every
// loop, chosen per Upstream. Its methods only append bytes; the engine
// owns sockets, buffers, timers and the request's body (kept raw, framed
// by the codec when it is sent).
type Protocol interface {
	// Name names the protocol in logs and metrics ("fastcgi").
	Name() string
	Caps() Caps
	// EncodeHead appends the request head for ri, stating a body of
	// bodyLen bytes (-1: none), under the placeholder request ID 1.
	EncodeHead(dst []byte, ri *cgi.RequestInfo, bodyLen int64) []byte
	// PatchID sets the request ID in a head EncodeHead built (a no-op
	// where the protocol has no IDs).
	PatchID(head []byte, id uint16)
	// MaxFrame is the most body bytes one frame carries.
	MaxFrame() int
	// FrameBody appends the framing that precedes n body bytes (n at
	// most MaxFrame) of request id.
	FrameBody(dst []byte, id uint16, n int) []byte
	// FrameEnd appends what ends request id's body (even an empty one).
	FrameEnd(dst []byte, id uint16) []byte
	// Cancel appends what cancels request id in band (Caps.InBandCancel).
	Cancel(dst []byte, id uint16) []byte
	// NewConn returns the protocol state of a new connection that may
	// carry up to maxMux requests at once.
	NewConn(maxMux int) ConnCodec
	// Response is the format of what the codec's streams receive.
	Response() ResponseFormat
}

// ResponseFormat is how a backend's response reaches a Stream: the engine
// parses its head with the matching parser into a normalized ResponseHead.
// Protocols of one family share a format, so one head parser serves them
// all (CGI: FastCGI, SCGI, CGI scripts).
type ResponseFormat uint8

const (
	// CGIResponse is a CGI response (RFC 3875 section 6): header lines, a
	// Status header, Location, a blank line, the body.
	CGIResponse ResponseFormat = iota
	// HTTPResponse is an HTTP/1.x response. Its codec parses the head
	// itself, since it needs the head to find where the body ends, and
	// hands it over parsed: its streams are HeadStreams, which get the
	// head through Head and then, through Data, the body alone, decoded
	// of its transfer coding. Nothing is parsed twice.
	HTTPResponse
)

// HeadStream is a Stream whose codec delivers the response head parsed
// (HTTPResponse). The engine's exchange is one; a codec that needs it
// refuses, in Begin, a stream that is not.
type HeadStream interface {
	Stream
	// Head receives the response head. h is the codec's and stays valid
	// until the stream's End; a non-nil error stops Feed, which returns
	// it.
	Head(h ResponseHead) error
	// HeadRequest reports whether the request was HEAD: its response has
	// no body, whatever its head says (RFC 9112 section 6.3).
	HeadRequest() bool
	// UpgradeRequest reports whether the request asked to switch
	// protocols (WebSocket): a 101 then turns the connection into a
	// tunnel, whose bytes both ways are the stream's Data until either
	// side closes. A 101 to any other request is a protocol error.
	UpgradeRequest() bool
}

// InterimStream is implemented by a HeadStream that forwards a backend's
// 103 Early Hints (RFC 8297) to its client before the final response: a
// codec that parses HTTP heads calls Interim for each 103 it reads. Other
// 1xx responses stay between gale and the backend (gale answers a
// client's Expect: 100-continue itself; 102 is obsolete).
type InterimStream interface {
	// Interim receives a 103's head, valid during the call only.
	Interim(h ResponseHead)
}

// HeadLimiter is implemented by a Protocol whose request head has a
// largest size (uwsgi: its vars block's size is a 16-bit number).
// EncodeHead cannot fail, so the engine checks the head it built: a longer
// one is answered 431 (the client's header fields are what make it long)
// and never sent, with a log line saying why.
type HeadLimiter interface {
	// HeadLimit is the longest head the protocol can carry, and the
	// limit in words for the log.
	HeadLimit() (max int, why string)
}

// LossHinter is implemented by a Protocol whose backends answer a request
// they refuse by closing the connection without a byte (uWSGI, a vars
// block over its buffer-size): the engine adds the hint to the log line of
// the 502 such a close gives, so that it says what to change.
type LossHinter interface {
	// LossHint says what a close before any answer to a head of headLen
	// bytes may mean, or "" when nothing about the head explains it.
	LossHint(headLen int) string
}

// Reuser is implemented by a ConnCodec whose responses may say that the
// connection ends with them (HTTP's "Connection: close", an HTTP/1.0
// backend): once Idle, the engine closes a connection that is not
// Reusable rather than pool it. A codec that does not implement it is
// reusable whenever its Caps say KeepAlive.
type Reuser interface {
	Reusable() bool
}

// ConnCodec is the protocol state of one upstream connection, owned by one
// event loop: which requests are in flight, and where the bytes the
// backend sends go. It does no I/O.
type ConnCodec interface {
	// SetLimit sets how many requests may be in flight at once.
	SetLimit(n int)
	Limit() int
	// Active counts requests in flight, cancelled ones included; Live
	// excludes them; Quarantined counts the cancelled IDs that stay taken
	// until the connection closes; Idle: nothing live.
	Active() int
	Live() int
	Quarantined() int
	Idle() bool
	// Begin takes an ID for s; false when the limit is reached.
	Begin(s Stream) (id uint16, ok bool)
	// Feed parses the backend's bytes and drives the streams; it returns
	// the bytes consumed (a partial frame stays for the next call). On
	// error the connection is unusable.
	Feed(buf []byte) (n int, err error)
	// Abort marks id cancelled: its output is dropped and its ID never
	// reused on this connection.
	Abort(id uint16)
	// Detach stops delivering id's output, keeping the ID taken until its
	// end arrives.
	Detach(id uint16)
	// Requests appends the streams in flight (detached ones excluded).
	Requests(dst []Stream) []Stream
	// PeerClosed runs when the backend closed the connection, before the
	// engine retries or fails what is still in flight: a protocol whose
	// responses end with the close (SCGI, CGI, HTTP without a length)
	// ends those streams there, cleanly.
	PeerClosed()
}

// Stream receives one request's response from a ConnCodec. Slices are
// views into the buffer given to Feed, valid only during the call.
type Stream interface {
	// Data receives response bytes, in the protocol's ResponseFormat. A
	// non-nil error stops Feed, which returns it.
	Data(p []byte) error
	// Log receives the backend's error output for this request.
	Log(p []byte)
	// End reports the end of the response; the request's ID is free
	// already, so End may start the next request on the connection.
	// appStatus is the application's exit status, protoStatus 0 when the
	// protocol completed the request, else its reason for refusing it
	// (FastCGI: CANT_MPX_CONN, OVERLOADED, UNKNOWN_ROLE); both for the log.
	End(appStatus uint32, protoStatus uint8)
}

// Prober is implemented by a Protocol that can ask a backend what it
// supports (FastCGI's FCGI_GET_VALUES), on a connection of its own.
type Prober interface {
	Probe(ctx context.Context, network, addr string, timeout time.Duration) (Probed, error)
}

// Dialer is implemented by a Protocol that makes its connections itself
// instead of dialing a backend's address: CGI, whose "backend" is a
// socketpair with, at the far end, the protocol's own goroutine that reads
// the request, runs the script and hands it that end as its stdout. The
// engine calls Dial on the dial's goroutine, with the connect timeout in
// ctx, where it would call net.Dialer; everything else about the
// connection (enrolling it on the loop, the budget, the codec, the close)
// is as for a dialed one.
type Dialer interface {
	Dial(ctx context.Context, b *Backend) (net.Conn, error)
}

// LoopDialer is a Dialer that can also make its connection on the event
// loop, without waiting: DialFD returns a connected unix-domain stream
// socket, non-blocking and close-on-exec, which the engine attaches to the
// loop as it does a unix socket it connected itself (no goroutine, no Go
// poller, no dup). ok false means it cannot without waiting: the engine
// then calls Dial on a goroutine. An error is the dial's failure.
type LoopDialer interface {
	Dialer
	DialFD(b *Backend) (fd int, ok bool, err error)
}

// Probed is what a backend said of itself; zero values mean not said.
type Probed struct {
	MaxConns, MaxReqs int
	Multiplex         bool
}

// ResponseHead is a backend's response head, normalized whatever the
// protocol, as its parser holds it: what the engine, the internal
// redirects and a response cache need. Views stay valid until the
// parser's Reset.
type ResponseHead interface {
	// StatusCode is the response status.
	StatusCode() int
	// Length is the body length the backend declared, or -1.
	Length() int64
	// AccelRedirect is the X-Accel-Redirect target, or nil.
	AccelRedirect() []byte
	// LocalRedirect is the target of a local redirect (a CGI Location
	// that is a path, without Status), or nil.
	LocalRedirect() []byte
	// NoBuffering reports "X-Accel-Buffering: no": stream, do not hold.
	NoBuffering() bool
	// AppendHead appends the status line and the fields to forward.
	AppendHead(dst []byte) []byte
}

var (
	_ ResponseHead = (*cgi.ResponseParser)(nil)
	_ ResponseHead = (*httpcodec.ResponseParser)(nil)
)

// Unframed is embedded by a Protocol whose body goes raw after its head,
// its length stated there, with no request IDs and no in-band cancel
// (closing the connection cancels): HTTP, SCGI, uwsgi, CGI. It supplies
// those methods of Protocol, each doing nothing.
type Unframed struct{}

// PatchID implements Protocol: there are no request IDs.
func (Unframed) PatchID([]byte, uint16) {}

// MaxFrame implements Protocol: the body goes raw, so a frame is as large
// as the engine likes.
func (Unframed) MaxFrame() int { return 1 << 30 }

// FrameBody implements Protocol: nothing precedes body bytes.
func (Unframed) FrameBody(dst []byte, _ uint16, _ int) []byte { return dst }

// FrameEnd implements Protocol: the body's end is its stated length.
func (Unframed) FrameEnd(dst []byte, _ uint16) []byte { return dst }

// Cancel implements Protocol: nothing; closing the connection cancels.
func (Unframed) Cancel(dst []byte, _ uint16) []byte { return dst }
