package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// PlainCheck is one run of wrk as a person would type it, beside the
// harness's own runs on the same server instance: no --latency, no
// --timeout, launched through sh -c from the exact command line stored
// here, so the figure can be reproduced by pasting Command into a shell
// while the server runs. If the harness's figures and this one disagree by
// more than the harness runs disagree among themselves, the harness is
// measuring something of its own.
type PlainCheck struct {
	Command   string        `json:"command"`
	Wrk       WrkResult     `json:"wrk"`
	Output    string        `json:"wrk_output"`
	ServerCPU time.Duration `json:"server_cpu_ns"`
	Err       string        `json:"error,omitempty"`
}

// plainTolerance widens the harness runs' own [min, max] before a plain run
// outside it counts as a disagreement: with three runs the range
// underestimates the noise, and a plain run 1 % outside it says nothing.
const plainTolerance = 0.03

// plainCommand is the shell command of the check for wo: the same load
// (threads, connections, duration, pipelining script, CPUs) as the
// harness's runs, nothing else.
func plainCommand(wo WrkOptions) string {
	var b strings.Builder
	if wo.CPUs != "" {
		fmt.Fprintf(&b, "taskset -c %s ", wo.CPUs)
	}
	fmt.Fprintf(&b, "wrk -t%d -c%d -d%s", wo.Threads, wo.Conns, wrkSeconds(wo.Duration))
	if wo.Script != "" {
		b.WriteString(" -s " + wo.Script)
	}
	b.WriteString(" " + wo.URL)
	return b.String()
}

// runPlain runs the plain check once and samples the server's CPU around it.
func runPlain(wo WrkOptions, in *instance) *PlainCheck {
	pc := &PlainCheck{Command: plainCommand(wo)}
	cpu0, _, _ := in.cpu()
	cmd := exec.Command("sh", "-c", pc.Command)
	out, err := cmd.CombinedOutput()
	cpu1, _, _ := in.cpu()
	pc.ServerCPU, pc.Output = cpu1-cpu0, string(out)
	res, perr := parseWrk(pc.Output)
	res.ClientCPU = childCPU(cmd) // sh waited for wrk: its rusage holds wrk's
	pc.Wrk = res
	switch {
	case err != nil:
		pc.Err = fmt.Sprintf("%v: %s", err, firstLines(pc.Output, 2))
	case perr != nil:
		pc.Err = perr.Error()
	}
	return pc
}

// CPUPerReq is the server's CPU µs per request during the plain run.
func (pc *PlainCheck) CPUPerReq() float64 { return perReq(pc.ServerCPU, pc.Wrk.Requests) }

// plainVerdict compares a plain run with the harness's runs: delta is
// plain/median - 1, and ok is false when the plain figure lies outside the
// runs' [min, max] widened by plainTolerance.
func plainVerdict(plain float64, runs Spread) (delta float64, ok bool) {
	if runs.Median <= 0 {
		return 0, true
	}
	delta = plain/runs.Median - 1
	lo, hi := runs.Min*(1-plainTolerance), runs.Max*(1+plainTolerance)
	return delta, plain >= lo && plain <= hi
}

// plainCell renders the plain-wrk column: rps, µs/request and the gap to
// the harness's median, flagged ⚠ when beyond the runs' noise.
func plainCell(o Outcome, s Summary) string {
	pc := o.Plain
	if pc == nil {
		return ""
	}
	if pc.Err != "" || pc.Wrk.Requests == 0 {
		return "⚠ failed"
	}
	delta, ok := plainVerdict(pc.Wrk.RPS, s.RPS)
	cell := fmt.Sprintf("%s (%+.0f%%), %.1f µs", thousands(pc.Wrk.RPS), 100*delta, pc.CPUPerReq())
	if !ok {
		cell = "⚠ " + cell
	}
	return cell
}

// plainWarnings lists the outcomes whose plain run disagrees with the
// harness's runs, with the command to repeat it.
func plainWarnings(outs []Outcome) []string {
	var w []string
	for _, o := range outs {
		if o.Plain == nil {
			continue
		}
		s := summarize(o)
		if s.NA != "" {
			continue
		}
		if o.Plain.Err != "" {
			w = append(w, fmt.Sprintf("%s on %s: plain wrk failed: %s", o.Scenario, o.Server, o.Plain.Err))
			continue
		}
		delta, ok := plainVerdict(o.Plain.Wrk.RPS, s.RPS)
		if !ok {
			w = append(w, fmt.Sprintf("%s on %s: plain wrk %s rps is %+.1f%% off the harness's median %s [%s–%s] (%s)",
				o.Scenario, o.Server, thousands(o.Plain.Wrk.RPS), 100*delta, thousands(s.RPS.Median),
				thousands(s.RPS.Min), thousands(s.RPS.Max), o.Plain.Command))
		}
	}
	return w
}

// plainAfter is the index of the measured run after which the plain check
// runs: the middle, so a drift of the machine over the runs falls on both
// sides of it rather than against it.
func plainAfter(runs int) int { return (runs - 1) / 2 }
