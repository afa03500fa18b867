package testenv

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// recordingTB is a testing.TB that records failures and cleanups instead
// of acting on them, so a test can watch CheckLeaks judge another "test".
type recordingTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recordingTB) Helper()                   { r.TB.Helper() }
func (r *recordingTB) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }

// finish runs the cleanups last-first, as testing does.
func (r *recordingTB) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// TestCheckLeaksCatchesAnFD: an fd opened and kept open is reported, by
// what it names; the same fd closed in time is not.
func TestCheckLeaksCatchesAnFD(t *testing.T) {
	rec := &recordingTB{TB: t}
	CheckLeaks(rec)
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	rec.finish()
	f.Close()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "/dev/null") {
		t.Fatalf("a leaked fd was not reported: %q", rec.errors)
	}

	rec = &recordingTB{TB: t}
	CheckLeaks(rec)
	f, err = os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	rec.finish()
	if len(rec.errors) != 0 {
		t.Fatalf("a closed fd was reported: %q", rec.errors)
	}
}

// TestCheckLeaksCatchesAGoroutine: a goroutine still blocked at cleanup is
// reported with its stack; one that ends by then is not.
func TestCheckLeaksCatchesAGoroutine(t *testing.T) {
	rec := &recordingTB{TB: t}
	CheckLeaks(rec)
	stop := make(chan struct{})
	go leakyWorker(stop)
	rec.finish()
	close(stop)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "leakyWorker") {
		t.Fatalf("a leaked goroutine was not reported: %q", rec.errors)
	}

	rec = &recordingTB{TB: t}
	CheckLeaks(rec)
	stop = make(chan struct{})
	go leakyWorker(stop)
	close(stop) // it ends while CheckLeaks waits for things to settle
	rec.finish()
	if len(rec.errors) != 0 {
		t.Fatalf("a finished goroutine was reported: %q", rec.errors)
	}
}

func leakyWorker(stop chan struct{}) { <-stop }
