package main

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPlainCommand(t *testing.T) {
	wo := WrkOptions{Threads: 1, Conns: 64, Duration: 4 * time.Second, URL: "http://127.0.0.1:8080/612.bin", CPUs: "1"}
	if got, want := plainCommand(wo), "taskset -c 1 wrk -t1 -c64 -d4s http://127.0.0.1:8080/612.bin"; got != want {
		t.Errorf("plainCommand = %q, want %q", got, want)
	}
	wo.CPUs, wo.Script = "", "/tmp/p.lua"
	if got, want := plainCommand(wo), "wrk -t1 -c64 -d4s -s /tmp/p.lua http://127.0.0.1:8080/612.bin"; got != want {
		t.Errorf("plainCommand = %q, want %q", got, want)
	}
}

func TestPlainVerdict(t *testing.T) {
	runs := Spread{Median: 100, Min: 95, Max: 110, N: 3}
	for _, c := range []struct {
		plain float64
		ok    bool
	}{{100, true}, {93, true}, {113, true}, {90, false}, {120, false}} {
		if _, ok := plainVerdict(c.plain, runs); ok != c.ok {
			t.Errorf("plainVerdict(%v) ok = %v, want %v", c.plain, ok, c.ok)
		}
	}
	if d, _ := plainVerdict(80, runs); d > -0.19 || d < -0.21 {
		t.Errorf("delta = %v, want -0.2", d)
	}
}

// The plain run goes in the middle of the harness's runs.
func TestPlainAfter(t *testing.T) {
	for runs, want := range map[int]int{1: 0, 2: 0, 3: 1, 5: 2} {
		if got := plainAfter(runs); got != want {
			t.Errorf("plainAfter(%d) = %d, want %d", runs, got, want)
		}
	}
}

// A plain run against a real server parses and samples the server's CPU.
func TestRunPlainAgainstNginx(t *testing.T) {
	if _, err := lookBin("wrk"); err != nil {
		t.Skip(err)
	}
	e := testEnv(t)
	p := startServer(t, &nginx{}, e)
	wo := WrkOptions{Threads: 1, Conns: 4, Duration: time.Second, URL: "http://" + e.Addr() + "/612.bin"}
	pc := runPlain(wo, &instance{srv: p, env: e})
	if pc.Err != "" || pc.Wrk.Requests == 0 || pc.ServerCPU <= 0 {
		t.Fatalf("plain run: %+v\n%s", pc, pc.Output)
	}
}

// -quick turns the plain check off unless it is asked for.
func TestQuickDisablesPlainCheck(t *testing.T) {
	saved, savedArgs := flag.CommandLine, os.Args
	t.Cleanup(func() { flag.CommandLine, os.Args = saved, savedArgs })
	for _, c := range []struct {
		args []string
		want bool
	}{{nil, true}, {[]string{"-quick"}, false}, {[]string{"-quick", "-plain-check"}, true}, {[]string{"-plain-check=false"}, false}} {
		flag.CommandLine = flag.NewFlagSet("bench", flag.ContinueOnError)
		os.Args = append([]string{"bench"}, c.args...)
		if got := parseFlags().PlainCheck; got != c.want {
			t.Errorf("%s: PlainCheck = %v, want %v", strings.Join(c.args, " "), got, c.want)
		}
	}
}

// The plain run's cell and warning: within the noise, no mark; beyond it,
// ⚠ and the command to repeat it.
func TestPlainCellAndWarnings(t *testing.T) {
	in := outcome("static-4k", "nginx", 6, 100, 95, 105)
	in.Plain = &PlainCheck{Command: "wrk x", Wrk: WrkResult{RPS: 102, Requests: 1000}, ServerCPU: 6 * time.Millisecond}
	out := outcome("static-4k", "gale", 4, 100, 95, 105)
	out.Plain = &PlainCheck{Command: "wrk y", Wrk: WrkResult{RPS: 130, Requests: 1000}, ServerCPU: 4 * time.Millisecond}
	if got, want := plainCell(in, summarize(in)), "102 (+2%), 6.0 µs"; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
	if got, want := plainCell(out, summarize(out)), "⚠ 130 (+30%), 4.0 µs"; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
	w := strings.Join(plainWarnings([]Outcome{in, out}), "\n")
	if !strings.Contains(w, "static-4k on gale: plain wrk 130 rps is +30.0% off the harness's median 100 [95–105] (wrk y)") || strings.Contains(w, "nginx") {
		t.Errorf("warnings:\n%s", w)
	}
}
