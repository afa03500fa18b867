package upstream

import (
	"errors"
	"testing"
)

type recStream struct {
	data  string
	ended int
	err   error
}

func (s *recStream) Data(p []byte) error { s.data += string(p); return s.err }
func (s *recStream) Log([]byte)          {}
func (s *recStream) End(uint32, uint8)   { s.ended++ }

// TestOneShot: one request per connection, its response everything read
// until the close, and nothing after.
func TestOneShot(t *testing.T) {
	o := NewOneShot()
	if o.Limit() != 1 || !o.Idle() {
		t.Fatal("a new one-shot connection takes a request")
	}
	if _, err := o.Feed([]byte("x")); !errors.Is(err, ErrUnsolicited) {
		t.Fatalf("bytes before a request: %v", err)
	}
	s := &recStream{}
	if id, ok := o.Begin(s); !ok || id != 1 {
		t.Fatal("Begin refused")
	}
	if _, ok := o.Begin(&recStream{}); ok || o.Limit() != 0 || o.Live() != 1 || o.Idle() {
		t.Fatal("a second request was taken")
	}
	for _, p := range []string{"Status: 200\r\n", "\r\nbody"} {
		if n, err := o.Feed([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Feed: %d %v", n, err)
		}
	}
	if got := o.Requests(nil); len(got) != 1 || got[0] != s {
		t.Fatal("the request in flight is not listed")
	}
	o.PeerClosed()
	o.PeerClosed()
	if s.ended != 1 || s.data != "Status: 200\r\n\r\nbody" || !o.Idle() || o.Active() != 0 || len(o.Requests(nil)) != 0 {
		t.Fatalf("after the close: ended %d data %q", s.ended, s.data)
	}
	if _, err := o.Feed([]byte("late")); !errors.Is(err, ErrUnsolicited) {
		t.Fatalf("bytes after the end: %v", err)
	}
}

// TestOneShotAbortDetach: an aborted request's output is dropped and it
// never ends; a detached one is not listed.
func TestOneShotAbortDetach(t *testing.T) {
	o, s := NewOneShot(), &recStream{}
	o.Begin(s)
	o.Abort(1)
	if o.Live() != 0 || o.Quarantined() != 1 || !o.Idle() {
		t.Fatal("abort did not quarantine")
	}
	o.Feed([]byte("dropped"))
	o.PeerClosed()
	if s.data != "" || s.ended != 0 {
		t.Fatalf("aborted stream got %q, ended %d", s.data, s.ended)
	}
	o, s = NewOneShot(), &recStream{}
	o.Begin(s)
	o.Detach(1)
	if len(o.Requests(nil)) != 0 || o.Live() != 1 {
		t.Fatal("detached stream still listed, or no longer live")
	}
	o.Feed([]byte("dropped"))
	if s.data != "" {
		t.Fatal("detached stream got data")
	}
	// A stream's error stops Feed.
	o, s = NewOneShot(), &recStream{err: errors.New("bad head")}
	o.Begin(s)
	if _, err := o.Feed([]byte("x")); err == nil {
		t.Fatal("the stream's error was lost")
	}
}
