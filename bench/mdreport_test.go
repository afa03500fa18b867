package main

import (
	"strings"
	"testing"
	"time"
)

// -md holds the command as typed, the throughput table and the verdicts.
func TestWriteMarkdownReport(t *testing.T) {
	rep := Report{Started: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Host: HostInfo{CPUs: 2, CPUName: "EPYC", LoadAvg: "0.01 0.02 0.03"},
		Options:  Options{Runs: 3, Duration: 4 * time.Second, Warmup: time.Second, Threads: 1, Conns: 64, ServerCPUs: "0", ClientCPUs: "1"},
		Outcomes: []Outcome{outcome("static-4k", "gale", 4, 140), outcome("static-4k", "nginx", 6, 100), outcome("static-4k", "lighttpd", 5, 130)}}
	var b strings.Builder
	writeMarkdownReport(&b, rep, []string{"/tmp/go-build1/exe/bench", "-servers", "gale,nginx,lighttpd"})
	got := b.String()
	for _, want := range []string{
		"Measured 2026-12-06 09:00 UTC on 2 × EPYC",
		"load average at start 0.01 0.02 0.03",
		"    go run ./bench -servers gale,nginx,lighttpd\n",
		"| static-4k | gale | 140 [140–140] |",
		"| static-4k | rps ≥ 1.3× nginx, CPU ≤ 0.9× lighttpd | 1.40× | 0.80× lighttpd | met |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
