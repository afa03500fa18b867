package reactor

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// corkRig is a loop that corks and one connection whose socket is one end
// of a socketpair; peer is the other end, non-blocking.
func corkRig(tb testing.TB) (l *loop, cs *conn, peer int) {
	tb.Helper()
	s, err := New(Config{Handler: nopHandler{}})
	if err != nil {
		tb.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	l = newLoop(s, nil)
	l.cork = corkOn
	mc := &memConn{}
	cs = &conn{gc: mc, fd: int32(fds[0]), l: l, peer: socketPeer(mc.RemoteAddr())}
	cs.t.owner = cs
	return l, cs, fds[1]
}

// readAll takes what the peer end holds now.
func readAll(fd int, buf []byte) []byte {
	n := 0
	for n < len(buf) {
		k, err := unix.Read(fd, buf[n:])
		if k <= 0 || err != nil {
			break
		}
		n += k
	}
	return buf[:n]
}

// TestCorkHoldsUntilRoundEnds: corked responses reach the socket only at
// uncork, all of them, in order, from copies (the caller's buffers may be
// reused at once), and the connection is busy meanwhile (pipelined
// requests wait), idle after.
func TestCorkHoldsUntilRoundEnds(t *testing.T) {
	l, cs, peer := corkRig(t)
	head, body := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), []byte("hello")
	l.corkWrite(cs, [][]byte{head, body})
	copy(body, "XXXXX") // the caller's view is reused
	l.corkWrite(cs, [][]byte{[]byte("second")})
	buf := make([]byte, 4096)
	if got := readAll(peer, buf); len(got) != 0 {
		t.Fatalf("written before the round ended: %q", got)
	}
	if !cs.out.busy() || len(l.corked) != 1 {
		t.Fatalf("busy %v, %d corked; want busy, 1", cs.out.busy(), len(l.corked))
	}
	l.uncork()
	want := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhellosecond"
	if got := readAll(peer, buf); !bytes.Equal(got, []byte(want)) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	if cs.out != nil || cs.corked || len(l.corked) != 0 {
		t.Fatalf("after uncork: queue %v, corked %v, list %d; want none", cs.out, cs.corked, len(l.corked))
	}
}

// TestCorkGoneConn: a connection closed before the round ends is skipped.
func TestCorkGoneConn(t *testing.T) {
	l, cs, peer := corkRig(t)
	l.corkWrite(cs, [][]byte{[]byte("lost")})
	cs.gone = true
	l.dropOut(cs)
	l.uncork()
	if got := readAll(peer, make([]byte, 64)); len(got) != 0 {
		t.Fatalf("a gone connection was written: %q", got)
	}
}

// TestCorkBounds: a write over corkMax, or one that would take the
// round's corked bytes over corkRoundMax, is not held back.
func TestCorkBounds(t *testing.T) {
	l, _, _ := corkRig(t)
	if !l.canCork(corkMax) || l.canCork(corkMax+1) {
		t.Fatalf("canCork(corkMax) %v, canCork(corkMax+1) %v; want true, false", l.canCork(corkMax), l.canCork(corkMax+1))
	}
	l.corkedBytes = corkRoundMax - 10
	if l.canCork(11) || !l.canCork(10) {
		t.Fatal("the round's bound is not kept")
	}
	l.uncork()
	if l.corkedBytes != 0 {
		t.Fatalf("corkedBytes %d after uncork, want 0", l.corkedBytes)
	}
}
