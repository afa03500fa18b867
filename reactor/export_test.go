package reactor

import (
	"context"
	"sync"
	"time"
	"unsafe"
)

// ParkStats reports, summed over the loops, the parked connections and the
// parked slots in use (live or dead), read on each loop's goroutine.
func ParkStats(s *Server) (live, used int) {
	live = s.onLoops(func(l *loop) int { return l.parked.live })
	used = s.onLoops(func(l *loop) int { return l.parked.used })
	return live, used
}

// ParkChunkLen is the number of slots in a chunk of the park queue.
const ParkChunkLen = parkChunkLen

// ParkSlotSize is the size of one parked connection's slot.
const ParkSlotSize = unsafe.Sizeof(parked{})

// StopEngine stops s's gnet engine behind the server's back, as gnet does
// on its own after an error it deems fatal.
func StopEngine(s *Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.eng.Stop(ctx)
}

// ClientLoops maps the remote address of every client connection, active
// or parked, to an opaque value naming its loop, read on each loop.
func ClientLoops(s *Server) map[string]any {
	out := map[string]any{}
	var mu sync.Mutex
	s.onLoops(func(l *loop) int {
		mu.Lock()
		defer mu.Unlock()
		for cs := l.conns.head; cs != nil; cs = cs.next {
			out[cs.gc.RemoteAddr().String()] = l
		}
		for ch := l.parked.head; ch != nil; ch = ch.next {
			for i := range ch.slots {
				if gc := ch.slots[i].gc; gc != nil {
					out[gc.RemoteAddr().String()] = l
				}
			}
		}
		return 0
	})
	return out
}

// Ticks is the number of ticks the loops have run, summed. Asking wakes
// each loop, which costs it up to two more ticks.
func Ticks(s *Server) int {
	return s.onLoops(func(l *loop) int { return int(l.stats.ticks) })
}
