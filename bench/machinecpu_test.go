package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseBusy(t *testing.T) {
	stat := "cpu  100 5 50 9000 30 2 3 7 0 0\ncpu0 50 2 25 4500 15 1 1 3 0 0\n"
	got, err := parseBusy([]byte(stat))
	if want := (100 + 5 + 50 + 2 + 3 + 7) * clockTick; err != nil || got != want {
		t.Errorf("parseBusy = %v, %v; want %v", got, err, want)
	}
	if _, err := parseBusy([]byte("intr 1 2 3\n")); err == nil {
		t.Error("a file without the cpu line must be an error")
	}
}

// What the server, backend and wrk did not use is someone else's; only
// throughput scenarios are judged.
func TestOtherUtilAndWarnings(t *testing.T) {
	run := Run{Wrk: WrkResult{Elapsed: 4 * time.Second, ClientCPU: 3 * time.Second, Requests: 1},
		ServerCPU: 3 * time.Second, BackendCPU: time.Second, MachineCPU: 8 * time.Second}
	if got := run.OtherUtil(); got < 0.249 || got > 0.251 {
		t.Errorf("OtherUtil = %v, want 0.25", got)
	}
	quiet := run
	quiet.MachineCPU = 7*time.Second + 100*time.Millisecond
	outs := []Outcome{
		{Scenario: "static-4k", Server: "gale", Runs: []Run{quiet, run}},
		{Scenario: "static-4k", Server: "nginx", Runs: []Run{quiet}},
		{Scenario: "slowloris", Server: "gale", Runs: []Run{run}},
	}
	w := strings.Join(busyWarnings(outs), "\n")
	if !strings.Contains(w, "static-4k on gale: other processes used up to 25%") || strings.Count(w, "\n") != 0 {
		t.Errorf("busy warnings:\n%s", w)
	}
}
