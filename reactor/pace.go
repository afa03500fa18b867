package reactor

import "time"

// A rate limit without nodelay (nginx limit_req's default) paces a burst:
// a request above the rate waits for its turn. gale's handlers answer
// synchronously, so the reactor does the waiting: the request stays unread
// in the connection's inbound buffer (it costs nothing more than while it
// arrived), the connection's timer fires at its turn, and the request is
// parsed and served again, with Ctx.Paced telling the limit it was counted
// already. Requests pipelined behind it wait with it, in order.

// paceState is where a connection is with a held request.
type paceState uint8

const (
	paceNone  paceState = iota
	paceHeld            // its next request waits until paceDue
	pacePaced           // its next request's turn came: serve it uncounted
)

// holdRequest holds cs's next request for d. The timer is armed once the
// responses before it are written (afterWrite calls armPace), since the
// connection's timer serves their writes until then.
func (l *loop) holdRequest(cs *conn, d time.Duration) {
	cs.pace = paceHeld
	cs.paceDue = l.now.Add(d).UnixNano()
}

// armPace sets cs's timer for its held request's turn.
func (l *loop) armPace(cs *conn) {
	l.wheel.schedule(&cs.t, timerPace, l.now, max(time.Duration(cs.paceDue-l.now.UnixNano()), 0))
}

// paceDone serves the held request: its turn came.
func (l *loop) paceDone(cs *conn) {
	if cs.pace != paceHeld {
		return
	}
	cs.pace = pacePaced
	l.process(cs)
}
