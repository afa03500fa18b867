package fastcgi

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/gale-http/gale/upstream"
	"testing"
)

// recSink records everything a request receives.
type recSink struct {
	out, errs  bytes.Buffer
	ended      bool
	app        uint32
	proto      uint8
	failStdout error
	onEnd      func()
}

func (s *recSink) Data(p []byte) error {
	s.out.Write(p)
	return s.failStdout
}
func (s *recSink) Log(p []byte) { s.errs.Write(p) }
func (s *recSink) End(app uint32, proto uint8) {
	s.ended, s.app, s.proto = true, app, proto
	if s.onEnd != nil {
		s.onEnd()
	}
}

func stdout(id uint16, s string) []byte {
	return AppendStream(nil, TypeStdout, id, []byte(s), true)
}

func TestConnDispatchInterleaved(t *testing.T) {
	c := NewConn(4)
	var a, b recSink
	if id, ok := c.Begin(&a); !ok || id != 1 {
		t.Fatalf("first Begin: %d %v", id, ok)
	}
	if _, ok := c.Begin(&b); ok {
		t.Fatal("second Begin allowed before multiplexing was negotiated")
	}
	var vals []byte
	vals = AppendHeader(vals, TypeGetValuesResult, 0, 0, 0)
	vals = AppendPair(vals, []byte(ValueMpxsConns), []byte("1"))
	vals = AppendPair(vals, []byte(ValueMaxReqs), []byte("3"))
	vals = patchLength(vals, 0)
	if n, err := c.Feed(vals); err != nil || n != len(vals) {
		t.Fatalf("values: %d %v", n, err)
	}
	if v := c.Values(); !v.Known || !v.MpxsConns || v.MaxReqs != 3 || c.Limit() != 3 {
		t.Fatalf("values %+v limit %d", v, c.Limit())
	}
	if id, ok := c.Begin(&b); !ok || id != 2 {
		t.Fatalf("Begin after MPXS: %d %v", id, ok)
	}
	var wire []byte
	wire = append(wire, stdout(2, "B1")...)
	wire = append(wire, stdout(1, "A1")...)
	wire = AppendStream(wire, TypeStderr, 1, []byte("warn"), false)
	wire = append(wire, stdout(2, "B2")...)
	wire = AppendStreamEnd(wire, TypeStdout, 2)
	wire = AppendEndRequest(wire, 2, 0, StatusRequestComplete)
	wire = append(wire, stdout(1, "A2")...)
	wire = AppendEndRequest(wire, 1, 7, StatusOverloaded)
	// Feed in every split: a partial record is left for the next call.
	for split := 0; split <= len(wire); split++ {
		c2 := NewConn(4)
		c2.setValues(c.Values())
		var a2, b2 recSink
		c2.Begin(&a2)
		c2.Begin(&b2)
		n, err := c2.Feed(wire[:split])
		if err != nil || n > split {
			t.Fatalf("split %d: %d %v", split, n, err)
		}
		m, err := c2.Feed(wire[n:])
		if err != nil || n+m != len(wire) {
			t.Fatalf("split %d: rest %d %v", split, m, err)
		}
		if a2.out.String() != "A1A2" || a2.errs.String() != "warn" || !a2.ended || a2.app != 7 ||
			a2.proto != StatusOverloaded || b2.out.String() != "B1B2" || !b2.ended || !c2.Idle() {
			t.Fatalf("split %d: a=%q/%q/%v b=%q", split, a2.out.String(), a2.errs.String(), a2.ended, b2.out.String())
		}
	}
}

func TestConnIDReuseFromEnd(t *testing.T) {
	c := NewConn(1)
	first := &recSink{}
	first.onEnd = func() {
		// The ID is free inside End, so the next request can start there.
		if id, ok := c.Begin(&recSink{}); !ok || id != 1 {
			t.Errorf("Begin inside End: %d %v", id, ok)
		}
	}
	c.Begin(first)
	if _, err := c.Feed(AppendEndRequest(nil, 1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if c.Active() != 1 {
		t.Fatalf("active %d", c.Active())
	}
}

func TestConnDetach(t *testing.T) {
	c := NewConn(1)
	var s recSink
	id, _ := c.Begin(&s)
	c.Detach(id)
	wire := append(stdout(id, "dropped"), AppendEndRequest(nil, id, 0, 0)...)
	if _, err := c.Feed(wire); err != nil || s.out.Len() != 0 || s.ended || !c.Idle() {
		t.Fatalf("err %v out %q ended %v idle %v", err, s.out.String(), s.ended, c.Idle())
	}
}

func TestConnViolations(t *testing.T) {
	tests := []struct {
		name string
		wire []byte
		want error
	}{
		{"unknown id", stdout(5, "x"), ErrUnknownID},
		{"id after end", append(AppendEndRequest(nil, 1, 0, 0), stdout(1, "late")...), ErrUnknownID},
		{"bad version", []byte("HTTP/1.1 200 OK\r\n"), ErrVersion},
		{"short end request", AppendStream(nil, TypeEndRequest, 1, []byte{0, 0, 0}, false), ErrEndRequest},
		{"params from app", AppendStream(nil, TypeParams, 1, []byte{0, 0}, false), ErrUnexpectedType},
		{"stdout on id 0", stdout(0, "x"), ErrUnexpectedType},
		{"bad values", AppendStream(nil, TypeGetValuesResult, 0, []byte{9, 9}, false), ErrPairs},
		{"unknown type for other", AppendUnknownType(nil, 99), ErrUnexpectedType},
	}
	for _, tt := range tests {
		c := NewConn(2)
		c.Begin(&recSink{})
		_, err := c.Feed(tt.wire)
		var pe *ProtocolError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	// A sink's error is returned as is.
	c := NewConn(1)
	boom := fmt.Errorf("bad head")
	c.Begin(&recSink{failStdout: boom})
	if _, err := c.Feed(stdout(1, "x")); err != boom {
		t.Errorf("sink error: %v", err)
	}
}

func TestConnUnknownTypeForGetValues(t *testing.T) {
	c := NewConn(8)
	if _, err := c.Feed(AppendUnknownType(nil, TypeGetValues)); err != nil {
		t.Fatal(err)
	}
	if v := c.Values(); !v.Known || v.MpxsConns || c.Limit() != 1 {
		t.Fatalf("%+v limit %d", v, c.Limit())
	}
}

func TestConnGetValuesQuery(t *testing.T) {
	got := NewConn(1).AppendGetValues(nil)
	rec, n, err := ParseRecord(got)
	if err != nil || n != len(got) || rec.Type != TypeGetValues || rec.ID != 0 {
		t.Fatalf("%+v %v", rec.Header, err)
	}
	if p := decodePairs(t, rec.Content); fmt.Sprint(p) != "[FCGI_MAX_CONNS= FCGI_MAX_REQS= FCGI_MPXS_CONNS=]" {
		t.Fatalf("pairs %q", p)
	}
}

// Go's net/http/fcgi follows its GET_VALUES_RESULT with an empty one.
func TestConnEmptyValuesResultAfterAnswer(t *testing.T) {
	c := NewConn(8)
	var wire []byte
	wire = AppendStream(wire, TypeGetValuesResult, 0, AppendPair(nil, []byte(ValueMpxsConns), []byte("1")), true)
	wire = AppendStreamEnd(wire, TypeGetValuesResult, 0)
	if _, err := c.Feed(wire); err != nil {
		t.Fatal(err)
	}
	if v := c.Values(); !v.MpxsConns || c.Limit() != 8 {
		t.Fatalf("%+v limit %d", v, c.Limit())
	}
}

func TestConnSetLimitAndRequests(t *testing.T) {
	c := NewConn(3)
	c.SetLimit(10)
	if c.Limit() != 3 {
		t.Fatalf("limit %d, want the maxMux cap 3", c.Limit())
	}
	var a, b, d recSink
	c.Begin(&a)
	idB, _ := c.Begin(&b)
	c.Begin(&d)
	if _, ok := c.Begin(&recSink{}); ok {
		t.Fatal("Begin past the limit")
	}
	c.Detach(idB)
	got := c.Requests(nil)
	if len(got) != 2 || got[0] != upstream.Stream(&a) || got[1] != upstream.Stream(&d) {
		t.Fatalf("requests %v", got)
	}
	c.SetLimit(0)
	if c.Limit() != 1 {
		t.Fatalf("limit %d, want 1", c.Limit())
	}
}
