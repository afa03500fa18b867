package main

import (
	"fmt"
	"io"
	"strings"
)

// target is one of gale's performance targets (README, "Performance"): a
// minimum rps ratio to nginx's best configuration, a maximum CPU/request
// ratio to a peer, or a maximum RSS growth per idle connection.
type target struct {
	Scenarios []string
	MinRPS    float64 // gale rps / nginx's best median; 0: no rps target
	CPUPeer   string  // server whose CPU/request gale's is compared with
	MaxCPU    float64 // gale CPU/request / CPUPeer's; 0: no CPU target
	MaxIdle   float64 // bytes of RSS per idle connection; 0: not a memory target
}

// targets are the README's, in its order.
var targets = []target{
	{Scenarios: []string{"static-612", "static-4k", "static-64k", "static-1m", "pipeline-4k"}, MinRPS: 1.3, CPUPeer: "lighttpd", MaxCPU: 0.9},
	{Scenarios: []string{"php-hello"}, MinRPS: 1.3, CPUPeer: "nginx", MaxCPU: 0.5},
	{Scenarios: []string{"fcgi-go"}, MinRPS: 1.3},
	{Scenarios: []string{"idle-10k"}, MaxIdle: 600},
}

// verdictTable writes, per scenario that ran, gale's ratios against the
// targets and a verdict. A verdict whose figures the plain-wrk check
// contradicts (gale's or a compared peer's) says so instead of "met".
func verdictTable(w io.Writer, outs []Outcome) {
	gale := make(map[string]Outcome)
	for _, o := range outs {
		if o.Server == "gale" {
			gale[o.Scenario] = o
		}
	}
	ref := referenceRPS(outs)
	fmt.Fprintln(w, "| scenario | target | rps vs nginx | CPU/request | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, t := range targets {
		for _, sc := range t.Scenarios {
			if g, ok := gale[sc]; ok {
				fmt.Fprintln(w, verdictRow(t, sc, g, ref[sc], outs))
			}
		}
	}
}

// verdictRow renders one scenario's verdict row.
func verdictRow(t target, sc string, g Outcome, refRPS float64, outs []Outcome) string {
	if t.MaxIdle > 0 {
		if g.NA != "" || g.Mem == nil {
			return fmt.Sprintf("| %s | ≤ %.0f B per idle connection | | | n/a |", sc, t.MaxIdle)
		}
		v := "met"
		if g.Mem.PerConn > t.MaxIdle || g.Mem.OK < g.Mem.Target {
			v = "missed"
		}
		return fmt.Sprintf("| %s | ≤ %.0f B per idle connection | | %.0f B per connection | %s |", sc, t.MaxIdle, g.Mem.PerConn, v)
	}
	goal := fmt.Sprintf("rps ≥ %.1f× nginx", t.MinRPS)
	if t.MaxCPU > 0 {
		goal += fmt.Sprintf(", CPU ≤ %.1f× %s", t.MaxCPU, t.CPUPeer)
	}
	gs := summarize(g)
	if gs.NA != "" || refRPS == 0 {
		return fmt.Sprintf("| %s | %s | | | n/a: gale or nginx has no figure |", sc, goal)
	}
	var missed []string
	rps := gs.RPS.Median / refRPS
	if rps < t.MinRPS {
		missed = append(missed, fmt.Sprintf("rps by %s", pct(1-rps/t.MinRPS)))
	}
	cpuCell := ""
	if t.MaxCPU > 0 {
		peer, ok := bestCPU(t.CPUPeer, sc, outs)
		if !ok {
			return fmt.Sprintf("| %s | %s | %.2f× | n/a | n/a: %s has no figure |", sc, goal, rps, t.CPUPeer)
		}
		cpu := gs.CPUPerReq / peer
		cpuCell = fmt.Sprintf("%.2f× %s", cpu, t.CPUPeer)
		if cpu > t.MaxCPU {
			missed = append(missed, fmt.Sprintf("CPU by %s", pct(cpu/t.MaxCPU-1)))
		}
	}
	v := "met"
	if len(missed) > 0 {
		v = "missed: " + strings.Join(missed, ", ")
	}
	if bad := plainDisagrees(sc, t.CPUPeer, outs); len(bad) > 0 {
		v += "; unsure: plain wrk disagrees with the harness for " + strings.Join(bad, ", ")
	}
	if wb := wrkBound(sc, outs); len(wb) > 0 {
		v += "; wrk-bound: " + strings.Join(wb, ", ") + " (their rps is wrk's limit; CPU/request still compares the servers)"
	}
	return fmt.Sprintf("| %s | %s | %.2f× | %s | %s |", sc, goal, rps, cpuCell, v)
}

// bestCPU is the lowest median CPU/request among peer's configurations in
// sc (nginx may have run twice): the peer at its best.
func bestCPU(peer, sc string, outs []Outcome) (float64, bool) {
	best, found := 0.0, false
	for _, o := range outs {
		if o.Scenario != sc || !(o.Server == peer || (peer == reference && isReference(o.Server))) {
			continue
		}
		s := summarize(o)
		if s.NA != "" || s.CPUPerReq <= 0 {
			continue
		}
		if !found || s.CPUPerReq < best {
			best, found = s.CPUPerReq, true
		}
	}
	return best, found
}

// plainDisagrees lists the servers of sc whose verdict figures (gale,
// nginx in any configuration, the CPU peer) the plain-wrk check contradicts.
func plainDisagrees(sc, cpuPeer string, outs []Outcome) []string {
	var bad []string
	for _, o := range outs {
		if o.Scenario != sc || o.Plain == nil {
			continue
		}
		if o.Server != "gale" && !isReference(o.Server) && o.Server != cpuPeer {
			continue
		}
		s := summarize(o)
		if s.NA != "" {
			continue
		}
		if _, ok := plainVerdict(o.Plain.Wrk.RPS, s.RPS); !ok || o.Plain.Err != "" {
			bad = append(bad, o.Server)
		}
	}
	return bad
}

// pct renders a shortfall: whole percents, one decimal below 1 %.
func pct(f float64) string {
	if f < 0.01 {
		return fmt.Sprintf("%.1f%%", 100*f)
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// wrkBound lists the servers of sc whose runs wrk, not the server, limited:
// wrk used nearly all of its CPU while the server had a tenth of its own
// to spare.
func wrkBound(sc string, outs []Outcome) []string {
	var bound []string
	for _, o := range outs {
		if o.Scenario != sc {
			continue
		}
		if s := summarize(o); s.NA == "" && s.WrkUtil >= 0.9 && s.CPUUtil < 0.9 {
			bound = append(bound, o.Server)
		}
	}
	return bound
}
