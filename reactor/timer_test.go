package reactor

import (
	"testing"
	"time"
)

// testOwner is a timer owner that records its firings and runs a hook.
type testOwner struct {
	n     timerNode
	fired []timerKind
	hook  func()
}

func (o *testOwner) expire(kind timerKind) {
	o.fired = append(o.fired, kind)
	if o.hook != nil {
		o.hook()
	}
}

func newOwners(n int) []*testOwner {
	os := make([]*testOwner, n)
	for i := range os {
		os[i] = &testOwner{}
		os[i].n.owner = os[i]
	}
	return os
}

var t0 = time.Unix(1_000_000, 0)

func newWheel() *wheel {
	w := &wheel{}
	w.init(t0, 50*time.Millisecond)
	return w
}

// TestWheelFiresOnceInOrder: timers fire at their tick, never early, each
// once, with the kind they were armed with.
func TestWheelFiresOnceInOrder(t *testing.T) {
	w := newWheel()
	os := newOwners(3)
	w.schedule(&os[0].n, timerQueue, t0, 100*time.Millisecond)
	w.schedule(&os[1].n, timerUpstream, t0, 20*time.Second) // more than a round
	w.schedule(&os[2].n, timerIdle, t0, 100*time.Millisecond)
	w.cancel(&os[2].n)

	w.advance(t0.Add(100*time.Millisecond), fireTimer)
	if len(os[0].fired) != 0 {
		t.Fatalf("fired early at its deadline's tick: %v", os[0].fired)
	}
	w.advance(t0.Add(151*time.Millisecond), fireTimer)
	if len(os[0].fired) != 1 || os[0].fired[0] != timerQueue {
		t.Fatalf("first timer: fired %v, want [queue]", os[0].fired)
	}
	if os[0].n.linked() {
		t.Fatal("a fired timer stays armed")
	}
	for d := time.Second; d < 20*time.Second; d += time.Second {
		w.advance(t0.Add(d), fireTimer)
	}
	if len(os[1].fired) != 0 {
		t.Fatalf("long timer fired before its round: %v", os[1].fired)
	}
	w.advance(t0.Add(20*time.Second+60*time.Millisecond), fireTimer)
	if len(os[1].fired) != 1 {
		t.Fatalf("long timer: fired %v times, want once", len(os[1].fired))
	}
	if len(os[2].fired) != 0 {
		t.Fatal("a cancelled timer fired")
	}
}

// TestWheelCallbackCancelsNeighbours: a callback that cancels other timers
// of the same slot (a timeout closing an upstream connection, whose OnClose
// cancels the other requests' timers) must not crash the wheel or fire
// what it cancelled; the ones it keeps still fire.
func TestWheelCallbackCancelsNeighbours(t *testing.T) {
	w := newWheel()
	os := newOwners(5)
	for _, o := range os {
		w.schedule(&o.n, timerUpstream, t0, 300*time.Millisecond)
	}
	// The first to fire cancels 1 and 3, and re-arms 2 in the same slot's tick.
	first := os[0]
	first.hook = func() {
		w.cancel(&os[1].n)
		w.cancel(&os[3].n)
		w.schedule(&os[2].n, timerQueue, t0.Add(350*time.Millisecond), 0)
	}
	w.advance(t0.Add(360*time.Millisecond), fireTimer)
	if len(first.fired) != 1 {
		t.Fatalf("first fired %d times", len(first.fired))
	}
	if len(os[1].fired)+len(os[3].fired) != 0 {
		t.Fatal("a timer cancelled by another's callback fired")
	}
	if len(os[4].fired) != 1 {
		t.Fatalf("a timer left alone fired %d times, want 1", len(os[4].fired))
	}
	if len(os[2].fired) != 0 || !os[2].n.linked() {
		t.Fatalf("re-armed timer: fired %v, linked %v; want armed for the next tick", os[2].fired, os[2].n.linked())
	}
	w.advance(t0.Add(410*time.Millisecond), fireTimer)
	if len(os[2].fired) != 1 || os[2].fired[0] != timerQueue {
		t.Fatalf("re-armed timer fired %v, want [queue]", os[2].fired)
	}
}

// TestWheelCallbackCancelsAll: the callback cancels every other timer of
// its slot, the slot's last one included.
func TestWheelCallbackCancelsAll(t *testing.T) {
	w := newWheel()
	os := newOwners(4)
	for _, o := range os {
		w.schedule(&o.n, timerSend, t0, 100*time.Millisecond)
	}
	fired := 0
	for _, o := range os {
		o.hook = func() {
			fired++
			for _, x := range os {
				w.cancel(&x.n)
			}
		}
	}
	w.advance(t0.Add(time.Second), fireTimer)
	if fired != 1 {
		t.Fatalf("%d callbacks ran, want 1", fired)
	}
}

// TestWheelRearmInCallback: a callback re-arming its own timer for now
// does not fire it again in the same advance (no loop without end).
func TestWheelRearmInCallback(t *testing.T) {
	w := newWheel()
	os := newOwners(1)
	o := os[0]
	w.schedule(&o.n, timerPark, t0, 0)
	o.hook = func() { w.schedule(&o.n, timerPark, t0.Add(60*time.Millisecond), 0) }
	w.advance(t0.Add(60*time.Millisecond), fireTimer)
	if len(o.fired) != 1 {
		t.Fatalf("fired %d times in one advance", len(o.fired))
	}
	w.advance(t0.Add(110*time.Millisecond), fireTimer)
	if len(o.fired) != 2 {
		t.Fatalf("re-armed timer fired %d times, want 2", len(o.fired))
	}
}

// TestWheelLongGap: an advance after more than a whole round fires
// everything due once.
func TestWheelLongGap(t *testing.T) {
	w := newWheel()
	os := newOwners(wheelSlots + 3)
	for i, o := range os {
		w.schedule(&o.n, timerIdle, t0, time.Duration(i)*50*time.Millisecond)
	}
	w.advance(t0.Add(time.Hour), fireTimer)
	for i, o := range os {
		if len(o.fired) != 1 {
			t.Fatalf("timer %d fired %d times", i, len(o.fired))
		}
	}
}
