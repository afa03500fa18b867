// Package testenv holds helpers shared by gale's integration tests: free
// loopback ports, leak checks, and the real peers (curl, php-fpm) they need.
package testenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitPort waits until addr accepts TCP connections.
func WaitPort(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	if err := dialWait("tcp", addr, within); err != nil {
		t.Fatalf("%s not accepting after %v: %v", addr, within, err)
	}
}

// dialWait waits until network/addr accepts a connection, returning the
// last dial error if it does not within the given time.
func dialWait(network, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// OpenFDs counts this process's open file descriptors.
func OpenFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// fdTargets maps each open fd to what it names ("socket:[123]", a path),
// for saying which fds leaked.
func fdTargets() map[string]string {
	m := map[string]string{}
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory fd ReadDir used, closed since
		}
		m[e.Name()] = target
	}
	return m
}

// Goroutines counts this process's goroutines, leaving out the idle
// workers of gnet's goroutine pool (ants): gnet dials and enrolls on them
// and the pool keeps them a while by design; they are not ours to leak.
func Goroutines() int { return len(goroutineStacks()) }

// goroutineStacks returns the stack of every goroutine but ants' workers,
// keyed by goroutine id ("goroutine 17").
func goroutineStacks() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	m := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.TrimSpace(g) == "" || strings.Contains(g, "panjf2000/ants") {
			continue
		}
		id, _, _ := strings.Cut(g, " [")
		m[id] = g
	}
	return m
}

// CheckLeaks records goroutine and fd counts now and, at cleanup, fails
// the test if they grew (allowing time for closes to settle), naming the
// fds and goroutines that are new. Call it first in a test, before
// anything that registers cleanups (servers, peers), so that it runs after
// all of them.
func CheckLeaks(t testing.TB) {
	t.Helper()
	gs0, fs0 := goroutineStacks(), fdTargets()
	g0, f0 := len(gs0), OpenFDs(t)
	// Goroutines are compared by ID (never reused), not by count: one
	// ending elsewhere while another leaks would even the count out.
	newGoroutines := func() int {
		n := 0
		for id := range goroutineStacks() {
			if _, ok := gs0[id]; !ok {
				n++
			}
		}
		return n
	}
	t.Cleanup(func() {
		var g, f int
		for i := 0; i < 50; i++ {
			f = OpenFDs(t)
			if newGoroutines() == 0 && f <= f0 {
				return
			}
			time.Sleep(40 * time.Millisecond)
		}
		g = Goroutines()
		var extra []string
		for fd, target := range fdTargets() {
			if old, ok := fs0[fd]; !ok || old != target {
				extra = append(extra, "fd "+fd+" -> "+target)
			}
		}
		for id, stack := range goroutineStacks() {
			if _, ok := gs0[id]; !ok {
				extra = append(extra, stack)
			}
		}
		t.Errorf("leak: goroutines %d -> %d, fds %d -> %d; new:\n%s", g0, g, f0, f, strings.Join(extra, "\n"))
	})
}

// ProcRSS returns the resident set size of pid in bytes.
func ProcRSS(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(line[6:]), "%d kB", &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
