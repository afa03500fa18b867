package main

import (
	"os"
	"runtime"

	"github.com/gale-http/gale/internal/config"
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
//
// The CGI supervisor (upstream/cgiexec) is a goroutine that also holds a
// P while it works (for the vfork of each script, tens of µs): with CGI
// locations configured it counts as one loop more, or sysmon takes a
// waiting loop's P whenever the supervisor spawns and keeps itself at its
// shortest tick. Measured on cgi-hello (gale and its scripts on CPU 0, wrk
// -t1 -c64 on CPU 1, three runs each, by hand): 112-116 µs of gale's own
// CPU per request with GOMAXPROCS 3 against 136-145 µs with 2; to repeat
// it, compare `GOMAXPROCS=2 scripts/cgi-cpu-split.sh BIN 3` with
// `GOMAXPROCS=3 ...` (lighttpd ignores the variable).
func spareP(loops int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if runtime.GOMAXPROCS(0) < loops+1 {
		runtime.GOMAXPROCS(loops + 1)
	}
}

// busyGoroutines counts what, besides the loops, holds a P while it works
// under cfg: the CGI supervisor when a location runs CGI scripts.
func busyGoroutines(cfg *config.Config) int {
	for _, vh := range cfg.VHosts {
		for _, loc := range vh.Locations {
			if loc.CGI != nil {
				return 1
			}
		}
	}
	return 0
}
