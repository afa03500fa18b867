package reactor

import (
	"context"
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
