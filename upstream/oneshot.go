package upstream

import "errors"

// ErrUnsolicited: a backend of a one-request-per-connection protocol sent
// bytes when no request was in flight.
var ErrUnsolicited = errors.New("upstream: bytes from the backend with no request in flight")

// OneShot is the ConnCodec of the protocols that carry one request per
// connection and whose response runs until the backend closes it (SCGI,
// CGI scripts): every byte read is the response, the close is its end.
// After its request a OneShot takes no other (its Limit drops to 0), so
// the engine never reuses the connection.
type OneShot struct {
	s       Stream
	active  bool // a request is in flight
	used    bool // Begin ran: the connection's one request is taken
	aborted bool
}

// NewOneShot returns the state of a new one-request connection.
func NewOneShot() *OneShot { return &OneShot{} }

// SetLimit implements ConnCodec: the limit is 1, then 0.
func (o *OneShot) SetLimit(int) {}

// Limit implements ConnCodec.
func (o *OneShot) Limit() int {
	if o.used {
		return 0
	}
	return 1
}

// Active implements ConnCodec.
func (o *OneShot) Active() int {
	if o.active {
		return 1
	}
	return 0
}

// Live implements ConnCodec.
func (o *OneShot) Live() int {
	if o.active && !o.aborted {
		return 1
	}
	return 0
}

// Quarantined implements ConnCodec: an aborted request keeps the
// connection from being reused (it never is anyway).
func (o *OneShot) Quarantined() int {
	if o.aborted {
		return 1
	}
	return 0
}

// Idle implements ConnCodec.
func (o *OneShot) Idle() bool { return o.Live() == 0 }

// Begin implements ConnCodec: the connection's one request, ID 1.
func (o *OneShot) Begin(s Stream) (uint16, bool) {
	if o.used {
		return 0, false
	}
	o.s, o.active, o.used = s, true, true
	return 1, true
}

// Feed implements ConnCodec: all of buf is the response.
func (o *OneShot) Feed(buf []byte) (int, error) {
	if !o.active {
		if len(buf) == 0 {
			return 0, nil
		}
		return 0, ErrUnsolicited
	}
	if o.s != nil && len(buf) > 0 {
		if err := o.s.Data(buf); err != nil {
			return len(buf), err
		}
	}
	return len(buf), nil
}

// Abort implements ConnCodec: the output is dropped.
func (o *OneShot) Abort(uint16) {
	if o.active {
		o.s, o.aborted = nil, true
	}
}

// Detach implements ConnCodec.
func (o *OneShot) Detach(uint16) { o.s = nil }

// Requests implements ConnCodec.
func (o *OneShot) Requests(dst []Stream) []Stream {
	if o.active && o.s != nil {
		dst = append(dst, o.s)
	}
	return dst
}

// PeerClosed implements ConnCodec: the close ends the response.
func (o *OneShot) PeerClosed() {
	if !o.active {
		return
	}
	s := o.s
	o.s, o.active = nil, false
	if s != nil {
		s.End(0, 0)
	}
}
