package fastcgi

import "testing"

// TestConnAbortQuarantine: an aborted ID takes no more output, survives the
// END_REQUEST that answers the abort and a second one from the handler
// (Go's net/http/fcgi writes both), and is never handed out again, so a
// late record can never reach a new request.
func TestConnAbortQuarantine(t *testing.T) {
	c := NewConn(4)
	c.SetLimit(2)
	var a, b recSink
	idA, _ := c.Begin(&a)
	c.Abort(idA)
	if c.Live() != 0 || c.Active() != 1 || c.Quarantined() != 1 || !c.Idle() {
		t.Fatalf("after Abort: live %d active %d quarantined %d idle %v", c.Live(), c.Active(), c.Quarantined(), c.Idle())
	}
	idB, ok := c.Begin(&b)
	if !ok || idB == idA {
		t.Fatalf("Begin after Abort: id %d ok %v (aborted id %d)", idB, ok, idA)
	}
	if _, ok := c.Begin(&recSink{}); ok {
		t.Fatal("a quarantined ID does not count against the limit")
	}
	var wire []byte
	wire = AppendEndRequest(wire, idA, 0, 0) // the answer to the abort
	wire = append(wire, stdout(idA, "late handler output")...)
	wire = AppendEndRequest(wire, idA, 0, 0) // the handler's own END
	wire = append(wire, stdout(idB, "B")...)
	wire = AppendEndRequest(wire, idB, 0, 0)
	if n, err := c.Feed(wire); err != nil || n != len(wire) {
		t.Fatalf("Feed: %d %v", n, err)
	}
	if a.out.Len() != 0 || a.ended {
		t.Fatalf("aborted request got output %q ended %v", a.out.String(), a.ended)
	}
	if b.out.String() != "B" || !b.ended {
		t.Fatalf("live request: %q ended %v", b.out.String(), b.ended)
	}
	if c.Quarantined() != 1 || c.Active() != 1 || !c.Idle() {
		t.Fatalf("quarantine lifted: active %d quarantined %d", c.Active(), c.Quarantined())
	}
	if id, _ := c.Begin(&recSink{}); id == idA {
		t.Fatalf("aborted ID %d reused", id)
	}
}
