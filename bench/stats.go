package main

import (
	"fmt"
	"slices"
	"time"
)

// Spread is the median, minimum and maximum of a set of runs.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// spreadOf summarizes xs; the median of an even count is the mean of the two
// middle values. An empty xs gives the zero Spread.
func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// Summary is what the report shows for one wrk outcome.
type Summary struct {
	RPS       Spread
	CPUPerReq float64 // median server µs per request
	SysPerReq float64 // median of its kernel part (0: not measured)
	// CPUUtil is the median share of one CPU the server used during a run;
	// well under 1 means something else (wrk, a noisy neighbour) was the limit.
	CPUUtil float64
	// WrkUtil is the median share of its CPU wrk used: near 1 with CPUUtil
	// well below it, the figure is wrk's limit, not the server's.
	WrkUtil    float64
	BackendCPU float64 // median backend µs per request (FastCGI scenarios)
	P50, P99   time.Duration
	Non2xx     int64 // summed over runs
	SockErrs   int64 // summed over runs
	FailedRuns int   // runs that produced no figure
	NA         string
}

// Errors reports whether any run saw error responses or socket errors.
func (s Summary) Errors() bool { return s.Non2xx > 0 || s.SockErrs > 0 || s.FailedRuns > 0 }

// errText is the errors column of a report row: "0", or what went wrong.
func (s Summary) errText() string {
	if !s.Errors() {
		return "0"
	}
	return fmt.Sprintf("⚠ non-2xx %d, socket %d, failed runs %d", s.Non2xx, s.SockErrs, s.FailedRuns)
}

// summarize reduces an outcome's runs to medians. Runs that produced no
// figure (wrk failed, server died) are left out and counted; if none is left
// the summary is n/a with the first run's error.
func summarize(o Outcome) Summary {
	s := Summary{NA: o.NA}
	var rps, cpu, sys, util, wutil, bcpu, p50, p99 []float64
	for _, r := range o.Runs {
		if r.Err != "" || r.Wrk.Requests == 0 {
			s.FailedRuns++
			continue
		}
		rps = append(rps, r.Wrk.RPS)
		cpu = append(cpu, r.CPUPerReq())
		sys = append(sys, r.SysPerReq())
		if r.Wrk.Elapsed > 0 {
			util = append(util, float64(r.ServerCPU)/float64(r.Wrk.Elapsed))
			wutil = append(wutil, float64(r.Wrk.ClientCPU)/float64(r.Wrk.Elapsed))
		}
		bcpu = append(bcpu, r.BackendCPUPerReq())
		p50 = append(p50, float64(r.Wrk.P("50")))
		p99 = append(p99, float64(r.Wrk.P("99")))
		s.Non2xx += r.Wrk.Non2xx
		s.SockErrs += r.Wrk.Sock.Total()
	}
	if len(rps) == 0 && s.NA == "" {
		s.NA = firstErr(o.Runs)
	}
	s.RPS = spreadOf(rps)
	s.CPUPerReq = spreadOf(cpu).Median
	s.SysPerReq = spreadOf(sys).Median
	s.CPUUtil = spreadOf(util).Median
	s.WrkUtil = spreadOf(wutil).Median
	s.BackendCPU = spreadOf(bcpu).Median
	s.P50 = time.Duration(spreadOf(p50).Median)
	s.P99 = time.Duration(spreadOf(p99).Median)
	return s
}

// firstErr is the first error among runs, for an n/a reason.
func firstErr(runs []Run) string {
	for _, r := range runs {
		if r.Err != "" {
			return r.Err
		}
	}
	if len(runs) == 0 {
		return "no runs"
	}
	return "wrk completed no request"
}
