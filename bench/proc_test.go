package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestStopReapsGroup: a server whose master exits at SIGTERM and leaves
// its forked workers running (fcgiwrap -c 4 does) leaves nothing behind:
// Stop kills what remains of the process group.
func TestStopReapsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The shell starts a child, records it and waits; SIGTERM ends the
	// shell, not the child.
	p, err := startProc("forker", "", filepath.Join(dir, "out"), nil, "/bin/sh", "-c", "sleep 60 & echo $! > "+pidFile+"; wait")
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0; {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 1 {
			for _, c := range b[:len(b)-1] {
				child = child*10 + int(c-'0')
			}
		} else if time.Now().After(deadline) {
			t.Fatal("the child did not start")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	p.Stop()
	for deadline := time.Now().Add(5 * time.Second); syscall.Kill(child, 0) == nil; {
		if time.Now().After(deadline) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("child %d outlived Stop", child)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
