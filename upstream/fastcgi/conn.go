package fastcgi

import "github.com/gale-http/gale/upstream"

// slot is one request ID's state; ID i lives at slots[i-1].
type slot struct {
	sink    upstream.Stream
	inUse   bool
	aborted bool // quarantined: FCGI_ABORT_REQUEST sent, never reused on this Conn
}

// Conn is the client-side protocol state of one upstream connection: which
// request IDs are in flight, where their records go, and what the
// application said about multiplexing. The reactor owns the socket: it
// writes what the Append functions produce and feeds what it reads; Conn
// does no I/O and is used by one event loop only.
//
// Until the application answers FCGI_GET_VALUES with FCGI_MPXS_CONNS=1, at
// most one request is in flight (php-fpm answers 0 and serves one request
// per connection); after that, up to the smaller of maxMux and the
// application's FCGI_MAX_REQS.
type Conn struct {
	slots  []slot
	limit  int
	maxMux int
	active int // requests in flight, quarantined ones included
	// quarantined counts aborted IDs: their slots stay taken until the
	// connection closes (see Abort).
	quarantined int
	values      Values
}

// NewConn returns a Conn that will multiplex at most maxMux requests once
// the application allows it.
func NewConn(maxMux int) *Conn {
	c := &Conn{}
	c.Reset(maxMux)
	return c
}

// Reset prepares c for a fresh connection, keeping its storage.
func (c *Conn) Reset(maxMux int) {
	maxMux = min(max(maxMux, 1), 0xffff)
	if cap(c.slots) < maxMux {
		c.slots = make([]slot, maxMux)
	}
	c.slots = c.slots[:maxMux]
	clear(c.slots)
	*c = Conn{slots: c.slots, limit: 1, maxMux: maxMux}
}

// AppendGetValues appends the FCGI_GET_VALUES query gale sends on connect,
// asking for FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS.
func (c *Conn) AppendGetValues(dst []byte) []byte {
	return AppendGetValues(dst, ValueMaxConns, ValueMaxReqs, ValueMpxsConns)
}

// Values returns what the application reported; Known is false until its
// answer arrived.
func (c *Conn) Values() Values { return c.values }

// Limit is the number of requests that may be in flight at once now.
func (c *Conn) Limit() int { return c.limit }

// Active is the number of request IDs taken: requests in flight and
// quarantined (aborted) IDs. Begin succeeds while Active < Limit.
func (c *Conn) Active() int { return c.active }

// Live is the number of requests in flight, quarantined IDs excluded.
func (c *Conn) Live() int { return c.active - c.quarantined }

// Quarantined is the number of aborted IDs held until the connection closes.
func (c *Conn) Quarantined() int { return c.quarantined }

// Idle reports whether no live request is in flight. A connection goes back
// to the pool only when it is idle, has no quarantined ID and Feed consumed
// every byte read, i.e. at a clean FCGI_END_REQUEST boundary.
func (c *Conn) Idle() bool { return c.active == c.quarantined }

// Begin allocates a request ID whose records will go to sink. It reports
// false when the connection is at its limit. The lowest free ID is reused,
// so IDs stay small, as the spec asks.
func (c *Conn) Begin(sink upstream.Stream) (id uint16, ok bool) {
	if c.active >= c.limit {
		return 0, false
	}
	for i := range c.slots[:c.limit] {
		if !c.slots[i].inUse {
			c.slots[i] = slot{sink: sink, inUse: true}
			c.active++
			return uint16(i + 1), true
		}
	}
	return 0, false
}

// Abort quarantines id after the reactor sent FCGI_ABORT_REQUEST for it:
// its records are dropped from now on and the ID is never reused on this
// Conn, because an application may answer the abort with an
// FCGI_END_REQUEST and still write the handler's output and a second
// FCGI_END_REQUEST later (Go's net/http/fcgi does: its handler goroutine
// runs on). Only a new connection proves the ID clean, so the reactor
// closes a connection with quarantined IDs once it has no live request.
func (c *Conn) Abort(id uint16) {
	if s := c.slot(id); s != nil && !s.aborted {
		s.sink, s.aborted = nil, true
		c.quarantined++
	}
}

// Detach stops delivering id's output (the client went away) while keeping
// the ID reserved until its FCGI_END_REQUEST arrives, so the stream stays
// in sync. The reactor uses it when it closes the connection anyway (a
// timeout, a bad response); a client that left goes through Abort.
func (c *Conn) Detach(id uint16) {
	if s := c.slot(id); s != nil {
		s.sink = nil
	}
}

// slot returns the in-flight slot for id, or nil.
func (c *Conn) slot(id uint16) *slot {
	if id == 0 || int(id) > len(c.slots) || !c.slots[id-1].inUse {
		return nil
	}
	return &c.slots[id-1]
}

// Feed parses every complete record in buf and dispatches it, returning
// the bytes consumed. A partial record at the end is left for the next
// call: the reactor keeps buf[n:] (gnet: Discard(n)) and feeds again when
// more bytes arrive. On error the connection is unusable: records for IDs
// not in flight, unexpected types and malformed records are
// *ProtocolError; a stream's Data error is returned as is.
func (c *Conn) Feed(buf []byte) (n int, err error) {
	for {
		rec, m, err := ParseRecord(buf[n:])
		if err == ErrNeedMore {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += m
		if err := c.dispatch(&rec); err != nil {
			return n, err
		}
	}
}

// dispatch routes one record.
func (c *Conn) dispatch(r *Record) error {
	if r.ID == 0 {
		return c.management(r)
	}
	s := c.slot(r.ID)
	if s == nil {
		return protoErr(ErrUnknownID, r.Type, r.ID)
	}
	switch r.Type {
	case TypeStdout:
		if len(r.Content) > 0 && s.sink != nil {
			return s.sink.Data(r.Content)
		}
	case TypeStderr:
		if len(r.Content) > 0 && s.sink != nil {
			s.sink.Log(r.Content)
		}
	case TypeEndRequest:
		if s.aborted {
			return nil // the slot stays quarantined: more may follow
		}
		return c.end(r, s)
	default:
		return protoErr(ErrUnexpectedType, r.Type, r.ID)
	}
	return nil
}

// end handles FCGI_END_REQUEST: the ID is freed first, then the sink told.
func (c *Conn) end(r *Record, s *slot) error {
	if len(r.Content) != 8 {
		return protoErr(ErrEndRequest, r.Type, r.ID)
	}
	b := r.Content
	app := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	sink := s.sink
	*s = slot{}
	c.active--
	if sink != nil {
		sink.End(app, b[4])
	}
	return nil
}

// management handles records with request ID 0.
func (c *Conn) management(r *Record) error {
	switch r.Type {
	case TypeGetValuesResult:
		// Go's net/http/fcgi writes the result as a stream and ends it
		// with an empty record; that one must not erase the answer.
		if len(r.Content) == 0 && c.values.Known {
			return nil
		}
		v, err := ParseValues(r.Content)
		if err != nil {
			return err
		}
		c.setValues(v)
		return nil
	case TypeUnknownType:
		// The application does not know FCGI_GET_VALUES (the only
		// management record gale sends): nothing is negotiated.
		if len(r.Content) == 8 && r.Content[0] == TypeGetValues {
			c.setValues(Values{Known: true})
			return nil
		}
	}
	return protoErr(ErrUnexpectedType, r.Type, r.ID)
}

// setValues records the application's answer and raises the limit when it
// multiplexes. The limit never drops below the requests already in flight.
func (c *Conn) setValues(v Values) {
	c.values = v
	if !v.MpxsConns {
		return
	}
	limit := c.maxMux
	if v.MaxReqs > 0 {
		limit = min(limit, v.MaxReqs)
	}
	c.limit = max(limit, c.limit)
}
