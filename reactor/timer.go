package reactor

import (
	"math"
	"time"
)

// timerKind says which deadline a connection's single timer stands for.
// A connection waits for at most one thing at a time, so one timer each is
// enough and rescheduling is an O(1) unlink and link.
type timerKind uint8

const (
	timerNone     timerKind = iota
	timerIdle               // keep-alive: waiting for the first byte of the next request
	timerHeader             // first byte to end of headers -> 408
	timerBody               // request body inactivity -> 408
	timerSend               // a stalled writer made no progress -> close
	timerLinger             // half-closed after the last response, waiting for the peer's FIN
	timerQueue              // a FastCGI request waiting for a pooled connection -> 503
	timerUpstream           // a FastCGI response silent too long -> 504
	timerConnect            // an upstream dial
	timerUpIdle             // a pooled upstream connection unused
	timerPark               // keep-alive, idle for parkDelay: park the connection (park.go)
	timerPace               // a request held by a rate limit: its turn (pace.go)
)

// timerNode is an intrusive entry of the wheel, embedded in each conn.
type timerNode struct {
	prev, next *timerNode
	// due is the tick the timer fires at, truncated to 32 bits: deadlines
	// are far less than 2^31 ticks ahead, so comparing by the signed
	// difference is exact, and the node stays small (one is embedded in
	// every idle connection).
	due   uint32
	kind  timerKind
	owner timerOwner
}

// timerOwner is what a timer belongs to: a client connection, an upstream
// connection or a FastCGI request.
type timerOwner interface {
	expire(kind timerKind)
}

func (n *timerNode) linked() bool { return n.next != nil }

// wheelSlots is a power of two; with the default 50 ms tick it spans 12.8 s
// per round. Longer deadlines stay in their slot for extra rounds: the due
// tick is checked when the slot is visited.
const wheelSlots = 256

// wheel is a hashed timer wheel owned by one event loop (no locks). It is
// advanced from the loop's tick task; timers fire at most one tick late.
type wheel struct {
	slots [wheelSlots]timerNode // sentinels of circular lists
	tick  time.Duration
	base  time.Time // time of tick 0
	cur   int64     // last processed tick
	// soon is at most the earliest due tick of the armed timers
	// (math.MaxInt64: none), once it is after cur; at or before cur it
	// is unknown. schedule lowers it, cancelling and firing leave it
	// low, nextDue finds it again. An idle loop uses it to skip ticks
	// (loop.settle).
	soon int64
}

func (w *wheel) init(now time.Time, tick time.Duration) {
	w.tick = tick
	w.base = now
	for i := range w.slots {
		s := &w.slots[i]
		s.prev, s.next = s, s
	}
}

func (w *wheel) ticksAt(t time.Time) int64 { return int64(t.Sub(w.base) / w.tick) }

// dueIn is the tick a deadline d after now fires at, rounded up: never
// early. Parked connections (park.go) keep their deadlines in the same
// ticks.
func (w *wheel) dueIn(now time.Time, d time.Duration) int64 { return w.ticksAt(now.Add(d)) + 1 }

// schedule (re)arms n to fire after d from now.
func (w *wheel) schedule(n *timerNode, kind timerKind, now time.Time, d time.Duration) {
	w.cancel(n)
	due := w.dueIn(now, d)
	if due <= w.cur {
		due = w.cur + 1
	}
	if due < w.soon {
		w.soon = due
	}
	n.due, n.kind = uint32(due), kind
	s := &w.slots[due&(wheelSlots-1)]
	n.prev, n.next = s.prev, s
	s.prev.next = n
	s.prev = n
}

// cancel disarms n; a no-op when it is not armed.
func (w *wheel) cancel(n *timerNode) {
	if !n.linked() {
		return
	}
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
	n.kind = timerNone
}

// advance fires every timer due at or before now, disarmed, with the kind it
// was armed with. fire may do anything to any timer (cancel or rearm
// others, close connections whose OnClose cancels theirs): the due nodes of
// a slot are first moved onto a private list, which is then popped from its
// head until empty, as Linux's __run_timers does. A node cancelled meanwhile
// simply leaves that list; a node rearmed meanwhile lands in a slot, due at
// the earliest the tick after the one being run, so one advance never fires
// a timer twice.
func (w *wheel) advance(now time.Time, fire func(n *timerNode, kind timerKind)) {
	target := w.ticksAt(now)
	steps := target - w.cur
	if steps > wheelSlots {
		// One full round visits every slot once; starting it a round
		// before target keeps a timer rearmed during it within the round.
		w.cur, steps = target-wheelSlots, wheelSlots
	}
	var due timerNode
	due.prev, due.next = &due, &due
	for i := int64(1); i <= steps; i++ {
		s := &w.slots[(w.cur+1)&(wheelSlots-1)]
		w.cur++ // timers rearmed while this slot runs go to a later tick
		for n := s.next; n != s; {
			next := n.next
			if int32(n.due-uint32(target)) <= 0 {
				n.prev.next = n.next
				n.next.prev = n.prev
				n.prev, n.next = due.prev, &due
				due.prev.next = n
				due.prev = n
			}
			n = next
		}
		for due.next != &due {
			n := due.next
			kind := n.kind
			w.cancel(n)
			fire(n, kind)
		}
	}
	w.cur = target
}

// nextDue returns the tick the earliest armed timer is due at, at most;
// math.MaxInt64 when none is armed. Called after advance (every armed
// timer is then due after cur); it walks every timer only when the bound
// schedule keeps has passed, which a loop going idle does once.
func (w *wheel) nextDue() int64 {
	if w.soon > w.cur {
		return w.soon
	}
	first := int64(math.MaxInt64)
	for i := range w.slots {
		s := &w.slots[i]
		for n := s.next; n != s; n = n.next {
			first = min(first, w.tickOf(n.due))
		}
	}
	w.soon = first
	return first
}

// tickOf widens a 32-bit due tick (see timerNode.due) near cur.
func (w *wheel) tickOf(due uint32) int64 { return w.cur + int64(int32(due-uint32(w.cur))) }

// timeOf is when tick t begins.
func (w *wheel) timeOf(t int64) time.Time { return w.base.Add(time.Duration(t) * w.tick) }
