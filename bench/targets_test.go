package main

import (
	"strings"
	"testing"
	"time"
)

// outcome is a throughput outcome with one run per rps value, each at
// cpuUS µs of server CPU per request.
func outcome(sc, server string, cpuUS float64, rps ...float64) Outcome {
	o := Outcome{Scenario: sc, Server: server}
	for i, r := range rps {
		o.Runs = append(o.Runs, Run{Index: i, Wrk: WrkResult{RPS: r, Requests: 1000, Elapsed: time.Second},
			ServerCPU: time.Duration(cpuUS * 1000 * float64(time.Microsecond))})
	}
	return o
}

// The ratio is to nginx's best configuration, not to the one that stalls.
func TestReferenceIsBestNginx(t *testing.T) {
	outs := []Outcome{
		outcome("pipeline-4k", "nginx", 4, 20),
		outcome("pipeline-4k", nginxNoPush, 5, 100),
		outcome("pipeline-4k", "gale", 1, 300),
	}
	if got := referenceRPS(outs)["pipeline-4k"]; got != 100 {
		t.Errorf("reference = %v, want 100", got)
	}
	var b strings.Builder
	writeMarkdown(&b, outs)
	if !strings.Contains(b.String(), "| pipeline-4k | gale | 300 [300–300] | 1.0 |") || !strings.Contains(b.String(), "| 3.00× |") {
		t.Errorf("gale's ratio is not to the best nginx:\n%s", b.String())
	}
}

func TestVerdictTable(t *testing.T) {
	disagree := outcome("static-4k", "nginx", 6, 100, 100, 100)
	disagree.Plain = &PlainCheck{Wrk: WrkResult{RPS: 125, Requests: 1}}
	outs := []Outcome{
		outcome("static-612", "gale", 4, 140), outcome("static-612", "nginx", 6, 100), outcome("static-612", "lighttpd", 5, 130),
		outcome("static-4k", "gale", 4.7, 120), disagree, outcome("static-4k", "lighttpd", 5, 130),
		outcome("php-hello", "gale", 20, 140), outcome("php-hello", "nginx", 25, 100),
		{Scenario: "idle-10k", Server: "gale", Mem: &MemResult{Target: 10, OK: 10, PerConn: 590}},
	}
	var b strings.Builder
	verdictTable(&b, outs)
	got := b.String()
	for _, want := range []string{
		"| static-612 | rps ≥ 1.3× nginx, CPU ≤ 0.9× lighttpd | 1.40× | 0.80× lighttpd | met |",
		"| static-4k | rps ≥ 1.3× nginx, CPU ≤ 0.9× lighttpd | 1.20× | 0.94× lighttpd | missed: rps by 8%, CPU by 4%; unsure: plain wrk disagrees with the harness for nginx |",
		"| php-hello | rps ≥ 1.3× nginx, CPU ≤ 0.5× nginx | 1.40× | 0.80× nginx | missed: CPU by 60% |",
		"| idle-10k | ≤ 600 B per idle connection | | 590 B per connection | met |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("verdicts lack %q:\n%s", want, got)
		}
	}
}

// A server that had CPU to spare while wrk had none is wrk-bound.
func TestWrkBound(t *testing.T) {
	bound := outcome("static-612", "gale", 4, 200000) // 80 % of the server's CPU
	bound.Runs[0].Wrk.ClientCPU = 950 * time.Millisecond
	busy := outcome("static-612", "nginx", 10, 100000) // 100 %
	busy.Runs[0].Wrk.ClientCPU = 950 * time.Millisecond
	for i := range bound.Runs {
		bound.Runs[i].Wrk.Requests = 200000
		busy.Runs[i].Wrk.Requests = 100000
	}
	bound.Runs[0].ServerCPU, busy.Runs[0].ServerCPU = 800*time.Millisecond, time.Second
	if got := strings.Join(wrkBound("static-612", []Outcome{bound, busy}), ","); got != "gale" {
		t.Errorf("wrk-bound = %q, want gale", got)
	}
}
