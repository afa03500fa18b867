package main

import (
	"testing"
	"time"
)

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		in   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{7}, Spread{Median: 7, Min: 7, Max: 7, N: 1}},
		{[]float64{3, 1, 2}, Spread{Median: 2, Min: 1, Max: 3, N: 3}},
		{[]float64{4, 1, 3, 2}, Spread{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{[]float64{5, 5, 1, 9, 5}, Spread{Median: 5, Min: 1, Max: 9, N: 5}},
	}
	for _, tt := range tests {
		if got := spreadOf(tt.in); got != tt.want {
			t.Errorf("spreadOf(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	in := []float64{3, 1, 2}
	spreadOf(in)
	if in[0] != 3 || in[1] != 1 {
		t.Error("spreadOf reordered its input")
	}
}

func TestSummarize(t *testing.T) {
	run := func(rps float64, req int64, cpu time.Duration, p99 time.Duration, non2xx int64) Run {
		return Run{Wrk: WrkResult{RPS: rps, Requests: req, Non2xx: non2xx,
			Percentiles: map[string]time.Duration{"50": p99 / 2, "99": p99}}, ServerCPU: cpu}
	}
	o := Outcome{Runs: []Run{
		run(100, 1000, 10*time.Millisecond, 3*time.Millisecond, 0),
		run(300, 3000, 60*time.Millisecond, 1*time.Millisecond, 2),
		run(200, 2000, 60*time.Millisecond, 2*time.Millisecond, 0),
		{Index: 3, Err: "wrk: boom"},
	}}
	s := summarize(o)
	if s.NA != "" || s.RPS != (Spread{Median: 200, Min: 100, Max: 300, N: 3}) {
		t.Errorf("rps = %+v, NA = %q", s.RPS, s.NA)
	}
	// CPU µs/req per run: 10, 20, 30 -> median 20.
	if s.CPUPerReq != 20 || s.P99 != 2*time.Millisecond || s.P50 != time.Millisecond {
		t.Errorf("cpu=%v p50=%v p99=%v", s.CPUPerReq, s.P50, s.P99)
	}
	if s.Non2xx != 2 || s.FailedRuns != 1 || !s.Errors() {
		t.Errorf("non2xx=%d failed=%d errors=%v", s.Non2xx, s.FailedRuns, s.Errors())
	}
	allFailed := summarize(Outcome{Runs: []Run{{Err: "wrk: refused"}}})
	if allFailed.NA != "wrk: refused" {
		t.Errorf("NA = %q, want the run's error", allFailed.NA)
	}
}
