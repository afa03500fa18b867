package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime/stime in /proc/PID/stat. Linux
// fixes it at 100 for user space on every architecture Go supports, and the
// standard library has no sysconf(_SC_CLK_TCK) to ask.
const clockTick = 10 * time.Millisecond

// procStat is the part of /proc/PID/stat the harness uses.
type procStat struct {
	PID   int
	Comm  string
	State byte
	PPID  int
	// UTime and STime are in clock ticks and, read from /proc/PID/stat (not
	// /proc/PID/task/TID/stat), already cover every thread of the process,
	// including threads that have exited.
	UTime, STime uint64
	// CUTime and CSTime are the CPU time of its children that exited and
	// that it waited for (and, recursively, theirs): CGI scripts, recycled
	// workers.
	CUTime, CSTime uint64
}

// errBadStat reports a /proc/PID/stat line that does not parse.
var errBadStat = errors.New("procstat: malformed stat line")

// parseStat parses one /proc/PID/stat line. comm may hold spaces and ')' so
// the fields after it are found from the last ')', as proc(5) advises.
func parseStat(line []byte) (procStat, error) {
	var st procStat
	open := bytes.IndexByte(line, '(')
	closing := bytes.LastIndexByte(line, ')')
	if open < 1 || closing < open {
		return st, errBadStat
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line[:open])))
	if err != nil {
		return st, fmt.Errorf("%w: pid: %v", errBadStat, err)
	}
	st.PID, st.Comm = pid, string(line[open+1:closing])
	// Fields from 3 (state) on; utime and stime are fields 14 and 15.
	rest := strings.Fields(string(line[closing+1:]))
	if len(rest) < 15 || len(rest[0]) != 1 {
		return st, errBadStat
	}
	st.State = rest[0][0]
	if st.PPID, err = strconv.Atoi(rest[1]); err != nil {
		return st, fmt.Errorf("%w: ppid: %v", errBadStat, err)
	}
	if st.UTime, err = strconv.ParseUint(rest[11], 10, 64); err != nil {
		return st, fmt.Errorf("%w: utime: %v", errBadStat, err)
	}
	if st.STime, err = strconv.ParseUint(rest[12], 10, 64); err != nil {
		return st, fmt.Errorf("%w: stime: %v", errBadStat, err)
	}
	// cutime and cstime are signed in proc(5) but never negative in practice.
	cu, err1 := strconv.ParseInt(rest[13], 10, 64)
	cs, err2 := strconv.ParseInt(rest[14], 10, 64)
	if err1 != nil || err2 != nil || cu < 0 || cs < 0 {
		return st, fmt.Errorf("%w: cutime/cstime %q %q", errBadStat, rest[13], rest[14])
	}
	st.CUTime, st.CSTime = uint64(cu), uint64(cs)
	return st, nil
}

// readStat reads /proc/PID/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// CPU returns the user+system CPU time of a procStat.
func (s procStat) CPU() time.Duration {
	return time.Duration(s.UTime+s.STime) * clockTick
}

// ChildCPU returns the CPU time of the exited children it waited for.
func (s procStat) ChildCPU() time.Duration {
	return time.Duration(s.CUTime+s.CSTime) * clockTick
}

// processTree returns root and all its descendants, found by scanning the
// ppid of every process (no dependence on CONFIG_PROC_CHILDREN).
func processTree(root int) []procStat {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := make(map[int][]procStat)
	var self *procStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // exited while we scanned
		}
		if pid == root {
			self = &st
		}
		children[st.PPID] = append(children[st.PPID], st)
	}
	if self == nil {
		return nil
	}
	tree := []procStat{*self}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i].PID]...)
	}
	return tree
}

// TreeCPU sums the CPU time of root's process tree, the children that
// exited and were waited for included (cutime+cstime): a CGI script that
// ran and ended between two samples counts for the server that forked it
// (gale, lighttpd) or for fcgiwrap. A live child's CPU moves into its
// parent's cutime when it is reaped, so nothing counts twice.
func TreeCPU(root int) time.Duration {
	var d time.Duration
	for _, st := range processTree(root) {
		d += st.CPU() + st.ChildCPU()
	}
	return d
}

// TreeSys is TreeCPU's kernel part (stime+cstime): what the system
// calls of the tree cost, a floor for a server whose work is mostly
// system calls (a proxy connecting to its backend per request).
func TreeSys(root int) time.Duration {
	var d time.Duration
	for _, st := range processTree(root) {
		d += time.Duration(st.STime+st.CSTime) * clockTick
	}
	return d
}

// memStatus holds the resident-set fields of /proc/PID/status, in bytes.
type memStatus struct {
	RSS, HWM int64
}

// parseStatus extracts VmRSS and VmHWM (peak RSS) from /proc/PID/status.
func parseStatus(b []byte) (memStatus, error) {
	var m memStatus
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("procstat: %s: unexpected %q", key, val)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("procstat: %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.HWM = kb << 10
		}
		found++
	}
	if found != 2 {
		return m, errors.New("procstat: VmRSS/VmHWM missing (kernel thread or zombie?)")
	}
	return m, nil
}

// TreeMem sums VmRSS and VmHWM over root's process tree. Pages shared
// between processes (nginx master and worker) are counted once per process,
// as ps and top do.
func TreeMem(root int) memStatus {
	var sum memStatus
	for _, st := range processTree(root) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(st.PID), "status"))
		if err != nil {
			continue
		}
		m, err := parseStatus(b)
		if err != nil {
			continue
		}
		sum.RSS += m.RSS
		sum.HWM += m.HWM
	}
	return sum
}

// parsePss extracts the Pss line of /proc/PID/smaps_rollup, in bytes.
func parsePss(b []byte) (int64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || key != "Pss" {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("procstat: Pss: unexpected %q", val)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: Pss: %w", err)
		}
		return kb << 10, nil
	}
	return 0, errors.New("procstat: Pss missing")
}

// TreePSS sums the proportional set size over root's process tree: pages
// shared among processes (a master and its forked workers) are divided
// among them, so the sum is what the tree costs; 0 where smaps_rollup
// (Linux 4.14) is missing.
func TreePSS(root int) int64 {
	var sum int64
	for _, st := range processTree(root) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(st.PID), "smaps_rollup"))
		if err != nil {
			continue
		}
		if p, err := parsePss(b); err == nil {
			sum += p
		}
	}
	return sum
}
