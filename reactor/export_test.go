package reactor

import "unsafe"

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

// Ticks is the number of ticks the loops have run, summed. Asking wakes
// each loop, which costs it up to two more ticks.
func Ticks(s *Server) int {
	return s.onLoops(func(l *loop) int { return int(l.stats.ticks) })
}
