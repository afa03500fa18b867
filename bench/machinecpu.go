package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// otherLimit is the share of one core that processes other than the
// server, its backend and wrk may use during a run before the run is
// flagged: beyond it the figures measure the machine's other tenants too.
const otherLimit = 0.10

// machineBusy is the busy time of every CPU together since boot, from the
// first line of /proc/stat (user, nice, system, irq, softirq, steal; idle and
// iowait are not busy). Steal counts: it is time the hypervisor gave to
// someone else, which the server and wrk lost.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	d, _ := parseBusy(b)
	return d
}

// parseBusy parses the "cpu " line of /proc/stat.
func parseBusy(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		n, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: field %d: %w", i, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// childCPU is the user+system time of a finished command and the children
// it waited for (taskset execs wrk, so that is wrk's own time).
func childCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// OtherUtil is the share of one core that everything but the server, its
// backend and wrk used during the run (the harness's own share included).
func (r Run) OtherUtil() float64 {
	if r.Wrk.Elapsed <= 0 || r.MachineCPU == 0 {
		return 0
	}
	other := r.MachineCPU - r.ServerCPU - r.BackendCPU - r.Wrk.ClientCPU
	return max(0, float64(other)/float64(r.Wrk.Elapsed))
}

// worstOther is the highest OtherUtil of o's runs. Only plain throughput
// scenarios count: in slowloris and slow-read-1000 the harness itself loads
// the machine by design.
func worstOther(o Outcome) float64 {
	worst := 0.0
	if sc, _ := scenarioByName(o.Scenario); sc.Kind != KindWrk {
		return 0
	}
	for _, r := range o.Runs {
		worst = max(worst, r.OtherUtil())
	}
	return worst
}

// busyWarnings lists the scenarios with a run in which other processes used
// more than otherLimit of a core.
func busyWarnings(outs []Outcome) []string {
	var w []string
	for _, o := range outs {
		if worst := worstOther(o); worst > otherLimit {
			w = append(w, fmt.Sprintf("%s on %s: other processes used up to %.0f%% of a core during a run; the machine was not quiet",
				o.Scenario, o.Server, 100*worst))
		}
	}
	return w
}
