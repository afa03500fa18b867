package reactor

import (
	"math"
	"testing"
	"time"
)

// TestWheelNextDue: the earliest armed timer is found whatever was
// cancelled or fired before it, across wheel rounds, and an empty wheel
// says so.
func TestWheelNextDue(t *testing.T) {
	base := time.Unix(1000, 0)
	tick := 10 * time.Millisecond
	var w wheel
	w.init(base, tick)
	if got := w.nextDue(); got != math.MaxInt64 {
		t.Fatalf("empty wheel: next due %d", got)
	}
	var a, b, c timerNode
	w.schedule(&a, timerIdle, base, 50*time.Millisecond)  // tick 6
	w.schedule(&b, timerIdle, base, 5*time.Second)        // tick 501: two rounds on
	w.schedule(&c, timerIdle, base, 200*time.Millisecond) // tick 21
	if got := w.nextDue(); got != 6 {
		t.Fatalf("next due %d, want 6", got)
	}
	w.cancel(&a) // the bound stays at 6 until the wheel passes it
	w.advance(base.Add(100*time.Millisecond), func(*timerNode, timerKind) { t.Fatal("nothing is due") })
	if got := w.nextDue(); got != 21 {
		t.Fatalf("after cancelling the first: next due %d, want 21", got)
	}
	fired := 0
	w.advance(base.Add(300*time.Millisecond), func(*timerNode, timerKind) { fired++ })
	if got := w.nextDue(); fired != 1 || got != 501 {
		t.Fatalf("after the second fired (%d fired): next due %d, want 501", fired, got)
	}
	if w.timeOf(501).Before(base.Add(5 * time.Second)) {
		t.Fatalf("tick 501 begins at %v, before the deadline", w.timeOf(501).Sub(base))
	}
	w.schedule(&a, timerIdle, base.Add(300*time.Millisecond), time.Second) // tick 131: earlier again
	if got := w.nextDue(); got != 131 {
		t.Fatalf("after scheduling an earlier one: next due %d, want 131", got)
	}
	w.cancel(&a)
	w.cancel(&b)
	w.advance(base.Add(2*time.Second), func(*timerNode, timerKind) { t.Fatal("nothing is armed") })
	if got := w.nextDue(); got != math.MaxInt64 {
		t.Fatalf("all cancelled: next due %d", got)
	}
}
