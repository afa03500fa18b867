package main

import (
	"strings"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 73060.73: "73,061", 1234567: "1,234,567"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	run := func(rps float64, non2xx int64) Run {
		return Run{Wrk: WrkResult{RPS: rps, Requests: 1000, Non2xx: non2xx, Elapsed: 10 * time.Millisecond,
			Percentiles: map[string]time.Duration{"50": 200 * time.Microsecond, "99": 1500 * time.Microsecond}},
			ServerCPU: 5 * time.Millisecond}
	}
	withSys := run(300, 0)
	withSys.ServerSys = 3500 * time.Microsecond
	outs := []Outcome{
		{Scenario: "static-4k", Server: "gale", Runs: []Run{run(200, 0)}},
		{Scenario: "static-4k", Server: "nginx", Runs: []Run{run(100, 3)}},
		{Scenario: "static-4k", Server: "caddy", NA: "caddy not installed | really"},
		{Scenario: "proxy-go", Server: "gale", Runs: []Run{withSys}},
		{Scenario: "slow-500", Server: "nginx", Mem: &MemResult{Target: 500, OK: 499, BaseRSS: 1 << 20, PeakRSS: 3 << 20, Errors: 1, FirstErr: "EOF"}},
		{Scenario: "slow-read-1000", Server: "gale", Runs: []Run{run(200, 0), run(180, 0)},
			SlowRead: &SlowReadResult{Readers: 1000, WaitCPU: 0.004, AloneRPS: 200, UnderRPS: 180, Ratio: 0.9}},
		{Scenario: "slow-read-1000", Server: "nginx", SlowRead: &SlowReadResult{Readers: 1000, Failed: 2}},
	}
	var b strings.Builder
	writeMarkdown(&b, outs)
	got := b.String()
	for _, want := range []string{
		"| static-4k | gale | 200 [200–200] | 5.0 | 50% | 0% |  | 200µs | 1.50ms | 2.00× |  | 0 |",
		"| static-4k | nginx | ⚠ 100 [100–100] | 5.0 | 50% | 0% |  | 200µs | 1.50ms | 1.00× |  | ⚠ non-2xx 3, socket 0, failed runs 0 |",
		"| static-4k | caddy | n/a: caddy not installed \\| really |",
		"| proxy-go | gale | 300 [300–300] | 5.0 (3.5) | 50% |",
		"| slow-500 | nginx | ⚠ 499 / 500 |  | 1.0 MiB | 3.0 MiB |",
		"| ⚠ 1: EOF |",
		"| slow-read-1000 | gale | 1000 | 0.4% | 200 | 180 | 90% | 0 |",
		"| slow-read-1000 | nginx | ⚠ 1000, 2 failed | 0.0% |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q:\n%s", want, got)
		}
	}
}

func TestGaleFailures(t *testing.T) {
	ok := Run{Wrk: WrkResult{RPS: 100, Requests: 100}}
	outs := []Outcome{
		{Scenario: "static-4k", Server: "gale", Runs: []Run{ok}},
		{Scenario: "slow-read-1000", Server: "gale", Runs: []Run{ok, {Index: 1}},
			SlowRead: &SlowReadResult{Readers: 1000, Failed: 3}},
		{Scenario: "slow-read-1000", Server: "nginx", Runs: []Run{{Index: 1}}},
	}
	got := strings.Join(galeFailures(outs), "\n")
	for _, want := range []string{"slow-read-1000 run 1: no request answered", "slow-read-1000: 3 of 1000 slow readers failed"} {
		if !strings.Contains(got, want) {
			t.Errorf("failures lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "static-4k") || strings.Count(got, "\n") != 1 {
		t.Errorf("unexpected failures:\n%s", got)
	}
}
