package httpproxy

import (
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// phase is where the response on a connection is.
type phase uint8

const (
	phaseHead    phase = iota // reading the head (and any 1xx before it)
	phaseLength               // reading Content-Length bytes of body
	phaseChunked              // decoding a chunked body
	phaseClose                // the body runs until the backend closes
	phaseTunnel               // after a 101: raw bytes until a close
)

// Conn is the protocol state of one HTTP/1.1 connection to a backend: at
// most one request in flight, its response parsed as it arrives. It does
// no I/O and belongs to one event loop.
//
// A response ends at its framing's end (never by guessing), and the
// connection is reused only when the response said so (keep-alive, a
// known length) and ended exactly at the end of what was read: a byte
// more would be an answer to nothing, which is an error.
type Conn struct {
	s        upstream.HeadStream // the request in flight; nil once detached
	active   bool                // a request is in flight
	aborted  bool                // its client left: its output is dropped
	headReq  bool
	upgrade  bool // the request asked to switch protocols
	phase    phase
	left     int64 // body bytes left (phaseLength)
	reusable bool
	once     bool   // one request per connection (uwsgi): never reused, no tunnel
	ends     uint32 // responses ended, to spot bytes after one in a Feed
	p        httpcodec.ResponseParser
	dec      httpcodec.ChunkedDecoder
}

// NewOneShotConn returns the state of a connection that carries one
// request, whose response is HTTP/1.x (uwsgi: uWSGI closes after each
// response). Its response is parsed as on a kept-alive connection, but
// the connection is never reused, whatever the response says, and a 101
// is a protocol error: the protocol has no tunnel.
func NewOneShotConn() *Conn { return &Conn{reusable: true, once: true} }

// SetLimit implements upstream.ConnCodec: one request at a time, always.
func (c *Conn) SetLimit(int) {}

// Limit implements upstream.ConnCodec: 1, or 0 once a one-shot
// connection's request is taken.
func (c *Conn) Limit() int { return b2i(c.reusable || !c.once) }

// Active implements upstream.ConnCodec.
func (c *Conn) Active() int { return b2i(c.active) }

// Live implements upstream.ConnCodec.
func (c *Conn) Live() int { return b2i(c.active && !c.aborted) }

// Quarantined implements upstream.ConnCodec: an aborted request keeps the
// connection until it closes (nothing cancels it in band).
func (c *Conn) Quarantined() int { return b2i(c.active && c.aborted) }

// Idle implements upstream.ConnCodec.
func (c *Conn) Idle() bool { return !c.active || c.aborted }

// Reusable implements upstream.Reuser: the last response allowed another
// request on the connection.
func (c *Conn) Reusable() bool { return c.reusable && !c.aborted }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Begin implements upstream.ConnCodec. s must be an upstream.HeadStream.
func (c *Conn) Begin(s upstream.Stream) (uint16, bool) {
	hs, ok := s.(upstream.HeadStream)
	if c.active || !c.reusable || !ok {
		return 0, false
	}
	c.s, c.active, c.aborted = hs, true, false
	c.headReq, c.upgrade = hs.HeadRequest(), hs.UpgradeRequest() && !c.once
	if c.once {
		c.reusable = false
	}
	c.phase = phaseHead
	c.p.Reset()
	return 1, true
}

// Abort implements upstream.ConnCodec: the output is dropped; the engine
// closes the connection (there is no in-band cancel).
func (c *Conn) Abort(uint16) {
	if c.active {
		c.s, c.aborted = nil, true
	}
}

// Detach implements upstream.ConnCodec.
func (c *Conn) Detach(uint16) { c.s = nil }

// Requests implements upstream.ConnCodec.
func (c *Conn) Requests(dst []upstream.Stream) []upstream.Stream {
	if c.active && c.s != nil {
		dst = append(dst, c.s)
	}
	return dst
}

// PeerClosed implements upstream.ConnCodec: the close ends a
// close-delimited body (RFC 9112 section 6.3 rule 8) or a tunnel
// cleanly; anywhere else it cuts the response short and the engine
// decides.
func (c *Conn) PeerClosed() {
	c.reusable = false
	if c.active && (c.phase == phaseClose || c.phase == phaseTunnel) {
		c.end()
	}
}

// Feed implements upstream.ConnCodec: it parses the head (a 103 goes to
// an upstream.InterimStream, other 1xx responses are dropped: gale
// handled 100-continue with its client itself), hands it to the stream, then passes body bytes until the
// framing says the response ended. A head not complete yet is left
// unconsumed (the parser starts over with more bytes, bounded by
// httpcodec.MaxResponseHead). Bytes after the end of a response are an
// error: nothing asked for them (gale does not pipeline).
func (c *Conn) Feed(buf []byte) (n int, err error) {
	ends := c.ends
	for n < len(buf) {
		if !c.active || c.ends != ends {
			c.reusable = false
			return n, httpcodec.ErrRespExtra
		}
		var k int
		switch c.phase {
		case phaseHead:
			k, err = c.head(buf[n:])
			if err == httpcodec.ErrNeedMore {
				return n, nil
			}
		case phaseLength:
			k = int(min(c.left, int64(len(buf)-n)))
			c.left -= int64(k)
			err = c.data(buf[n : n+k])
			if err == nil && c.left == 0 {
				c.end()
			}
		case phaseChunked:
			var d []byte
			k, d, err = c.dec.Decode(buf[n:])
			if err == nil {
				err = c.data(d)
			}
			if err == nil && c.dec.Done() {
				c.end()
			}
		case phaseClose, phaseTunnel:
			k = len(buf) - n
			err = c.data(buf[n:])
		}
		n += k
		if err != nil {
			c.reusable = false
			return n, err
		}
	}
	return n, nil
}

// head parses a response head at the start of b and starts its body.
func (c *Conn) head(b []byte) (int, error) {
	k, err := c.p.Parse(b, c.headReq)
	if err != nil {
		return 0, err
	}
	if c.p.Interim() {
		// The final head follows. A 103 goes on to the client when the
		// stream forwards hints; other 1xx are gale's business.
		if c.p.Status == 103 && c.s != nil {
			if is, ok := c.s.(upstream.InterimStream); ok {
				is.Interim(&c.p)
			}
		}
		return k, nil
	}
	c.reusable = c.p.KeepAlive && !c.once
	if c.p.Framing == httpcodec.FrameTunnel && !c.upgrade {
		return 0, httpcodec.ErrRespUpgrade // nobody asked for it
	}
	if c.s != nil {
		if err := c.s.Head(&c.p); err != nil {
			return k, err
		}
	}
	switch c.p.Framing {
	case httpcodec.FrameNone:
		c.end()
	case httpcodec.FrameLength:
		c.phase, c.left = phaseLength, c.p.ContentLength
		if c.left == 0 {
			c.end()
		}
	case httpcodec.FrameChunked:
		c.phase = phaseChunked
		c.dec.Reset(&httpcodec.ResponseLimits)
	case httpcodec.FrameClose:
		c.phase = phaseClose
	case httpcodec.FrameTunnel:
		c.phase = phaseTunnel
	}
	return k, nil
}

// data passes body bytes to the stream.
func (c *Conn) data(p []byte) error {
	if len(p) == 0 || c.s == nil {
		return nil
	}
	return c.s.Data(p)
}

// end ends the response: the connection is free first, then the stream
// is told (it may start the next request).
func (c *Conn) end() {
	s := c.s
	c.s, c.active, c.phase = nil, false, phaseHead
	c.ends++
	if c.aborted {
		c.aborted, c.reusable = false, false
		return
	}
	if s != nil {
		s.End(0, 0)
	}
}
