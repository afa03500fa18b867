package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStatSelf(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.PPID != os.Getppid() || st.Comm != strings.TrimSpace(string(comm)) {
		t.Errorf("got pid=%d ppid=%d comm=%q, want %d %d %q", st.PID, st.PPID, st.Comm,
			os.Getpid(), os.Getppid(), strings.TrimSpace(string(comm)))
	}
	// The state is the main thread's, which in Go may well be asleep.
	if !strings.ContainsRune("RS", rune(st.State)) {
		t.Errorf("state = %c, want R or S", st.State)
	}
}

// The CPU time read from /proc/self/stat must lie between two getrusage
// readings taken around it; stat truncates utime and stime to clock ticks
// separately, so the lower bound gets two ticks of slack.
func TestStatCPUMatchesRusage(t *testing.T) {
	burn()
	before := rusageCPU(t)
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	after := rusageCPU(t)
	got := st.CPU()
	if got < before-2*clockTick || got > after {
		t.Errorf("stat CPU %v outside rusage bracket [%v, %v]", got, before, after)
	}
	if got == 0 {
		t.Error("stat CPU is zero after burning CPU")
	}
}

// burn spends a few tens of milliseconds of CPU, so the counters are not zero.
func burn() {
	x := uint64(1)
	for i := range 50_000_000 {
		x = x*6364136223846793005 + uint64(i)
	}
	sink = x
}

var sink uint64

func rusageCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestParseStatOddComm(t *testing.T) {
	// comm may contain spaces and parentheses; proc(5) says to split at the last ')'.
	line := "4242 (a) b (c)) S 7 4242 4242 0 -1 4194560 100 0 0 0 25 13 0 0 20 0 3 0 100 1000 200\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != 4242 || st.Comm != "a) b (c)" || st.State != 'S' || st.PPID != 7 || st.UTime != 25 || st.STime != 13 || st.CUTime != 0 || st.CSTime != 0 {
		t.Errorf("got %+v", st)
	}
	if st.CPU() != 38*clockTick {
		t.Errorf("CPU = %v, want %v", st.CPU(), 38*clockTick)
	}
}

func TestParseStatBad(t *testing.T) {
	for _, in := range []string{
		"", "4242", "4242 (x", "x (y) S 1 2 3 4 5 6 7 8 9 10 11 12",
		"1 (y) S 1 2 3", "1 (y) S p 2 3 4 5 6 7 8 9 10 11 12",
		"1 (y) S 1 2 3 4 5 6 7 8 9 10 u 12", "1 (y) S 1 2 3 4 5 6 7 8 9 10 11 -12",
	} {
		if _, err := parseStat([]byte(in)); err == nil {
			t.Errorf("parseStat(%q): no error", in)
		}
	}
}

func TestProcessTreeFindsChild(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	tree := processTree(os.Getpid())
	if len(tree) < 2 || tree[0].PID != os.Getpid() {
		t.Fatalf("tree = %+v", tree)
	}
	found := false
	for _, st := range tree[1:] {
		found = found || (st.PID == cmd.Process.Pid && st.PPID == os.Getpid())
	}
	if !found {
		t.Errorf("child %d not in tree %+v", cmd.Process.Pid, tree)
	}
	if processTree(1<<30) != nil {
		t.Error("tree of a nonexistent pid is not empty")
	}
}

func TestTreeMemSelf(t *testing.T) {
	m := TreeMem(os.Getpid())
	if m.RSS <= 0 || m.HWM < m.RSS {
		t.Errorf("got RSS=%d HWM=%d, want 0 < RSS <= HWM", m.RSS, m.HWM)
	}
}

func TestParseStatus(t *testing.T) {
	m, err := parseStatus([]byte("Name:\tx\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t1\n"))
	if err != nil || m.RSS != 1<<20 || m.HWM != 2<<20 {
		t.Errorf("got %+v, %v", m, err)
	}
	for _, in := range []string{"Name:\tx\n", "VmRSS:\t1 MB\nVmHWM:\t1 kB\n", "VmRSS:\tx kB\nVmHWM:\t1 kB\n"} {
		if _, err := parseStatus([]byte(in)); err == nil {
			t.Errorf("parseStatus(%q): no error", in)
		}
	}
}
