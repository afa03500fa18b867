package main

import (
	"os"
	"runtime"
)

// spareP gives the Go scheduler one P more than gale has event loops,
// unless GOMAXPROCS is set in the environment.
//
// Each gnet loop blocks in epoll_wait holding a P. When no P is idle, the
// runtime's sysmon takes the P away from every wait longer than ~20 µs and,
// finding all Ps idle, parks itself until the loop's next system call wakes
// it with a futex: a P handoff and a wakeup per request on a server that
// waits for php-fpm on the same CPU. With one P to spare, sysmon leaves a
// waiting loop's P alone (up to 10 ms) and backs off. Measured with gale
// and php-fpm pinned to one CPU (scripts/php-ab.sh): 5-8 % fewer
// CPU µs per request in medians of A/B pairs on a noisy VM; static files
// unchanged.
func spareP(loops int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if runtime.GOMAXPROCS(0) < loops+1 {
		runtime.GOMAXPROCS(loops + 1)
	}
}
