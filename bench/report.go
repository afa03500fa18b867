package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Report is everything one harness invocation measured; -json writes it.
type Report struct {
	Started  time.Time `json:"started"`
	Host     HostInfo  `json:"host"`
	Options  Options   `json:"options"`
	Outcomes []Outcome `json:"outcomes"`
}

// HostInfo describes where the numbers were taken.
type HostInfo struct {
	CPUs    int    `json:"cpus"`
	Kernel  string `json:"kernel"`
	GoVer   string `json:"go"`
	CPUName string `json:"cpu_model"`
	LoadAvg string `json:"loadavg_at_start"`
}

// writeJSON writes r, with every raw run, to path.
func writeJSON(path string, r Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// reference is the server every ratio is relative to. Where nginx ran in
// more than one configuration (nginx and nginx-nopush-off on pipelined
// scenarios) the ratio is to its best median: a target met against nginx's
// weaker setting is not met.
const reference = "nginx"

// isReference reports whether server is nginx in any configuration.
func isReference(server string) bool {
	return server == reference || strings.HasPrefix(server, reference+"-")
}

// referenceRPS is, per throughput scenario, nginx's best median rps.
func referenceRPS(outs []Outcome) map[string]float64 {
	ref := make(map[string]float64)
	for _, o := range outs {
		if sc, _ := scenarioByName(o.Scenario); sc.Kind != KindWrk || !isReference(o.Server) {
			continue
		}
		if m := summarize(o).RPS.Median; m > ref[o.Scenario] {
			ref[o.Scenario] = m
		}
	}
	return ref
}

// writeMarkdown writes the throughput table and the memory table, each
// only if one of its scenarios ran.
func writeMarkdown(w io.Writer, outs []Outcome) {
	ref := referenceRPS(outs)
	var thr, mem, loris, slowRead []Outcome
	for _, o := range outs {
		if sc, _ := scenarioByName(o.Scenario); sc.Kind == KindLoris {
			loris = append(loris, o)
			continue
		} else if sc.Kind == KindSlowRead {
			slowRead = append(slowRead, o)
			continue
		} else if sc.Kind != KindWrk {
			mem = append(mem, o)
			continue
		}
		thr = append(thr, o)
	}
	if len(thr) > 0 {
		fmt.Fprintln(w, "| scenario | server | rps median [min–max] | CPU µs/req (kernel) | server CPU | wrk CPU | backend µs/req | p50 | p99 | vs nginx | plain wrk: rps (vs median), CPU/req | errors |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, o := range thr {
			fmt.Fprintln(w, wrkRow(o, ref[o.Scenario]))
		}
	}
	writeStackMem(w, thr)
	if len(loris) > 0 {
		if len(thr) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "| scenario | server | rps alone | rps beside the trickle | rps lost | trickling connections | errors |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for _, o := range loris {
			fmt.Fprintln(w, lorisRow(o))
		}
	}
	if len(slowRead) > 0 {
		if len(thr) > 0 || len(loris) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "| scenario | server | slow readers | server CPU with them alone | rps alone | rps beside them | rps kept | errors |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
		for _, o := range slowRead {
			fmt.Fprintln(w, slowReadRow(o))
		}
	}
	if len(mem) == 0 {
		return
	}
	if len(thr) > 0 || len(loris) > 0 || len(slowRead) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "| scenario | server | ok / target | still open | base RSS | peak RSS | RSS growth per conn | time | CPU while idle | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, o := range mem {
		fmt.Fprintln(w, memRow(o))
	}
}

// wrkRow renders one throughput row; refRPS is nginx's median (0 if none).
func wrkRow(o Outcome, refRPS float64) string {
	s := summarize(o)
	if s.NA != "" {
		return fmt.Sprintf("| %s | %s | n/a: %s | | | | | | | | | |", o.Scenario, o.Server, mdEscape(s.NA))
	}
	rps := fmt.Sprintf("%s [%s–%s]", thousands(s.RPS.Median), thousands(s.RPS.Min), thousands(s.RPS.Max))
	if s.Errors() {
		rps = "⚠ " + rps
	}
	backend := ""
	if o.Backend != "" {
		backend = fmt.Sprintf("%.1f", s.BackendCPU)
	}
	ratio := ""
	if refRPS > 0 {
		ratio = fmt.Sprintf("%.2f×", s.RPS.Median/refRPS)
	}
	cpu := fmt.Sprintf("%.1f", s.CPUPerReq)
	if s.SysPerReq > 0 {
		cpu += fmt.Sprintf(" (%.1f)", s.SysPerReq)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %.0f%% | %.0f%% | %s | %s | %s | %s | %s | %s |", o.Scenario, o.Server, rps,
		cpu, 100*s.CPUUtil, 100*s.WrkUtil, backend, fmtLatency(s.P50), fmtLatency(s.P99), ratio, plainCell(o, s), s.errText())
}

// writeStackMem writes the memory of the servers and their applications
// after the runs of the scenarios that have one (wsgi-flask: gale and its
// workers against nginx plus gunicorn), if any was recorded.
func writeStackMem(w io.Writer, thr []Outcome) {
	header := false
	for _, o := range thr {
		m := o.StackMem
		if m == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w)
			fmt.Fprintln(w, "| scenario | server | server RSS | backend RSS | total RSS | total PSS |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|")
			header = true
		}
		backend := "—"
		if o.Backend != "" {
			backend = mib(m.Backend)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", o.Scenario, o.Server, mib(m.Server), backend,
			mib(m.Server+m.Backend), mib(m.ServerPSS+m.BackendPSS))
	}
}

// memRow renders one memory-scenario row.
func memRow(o Outcome) string {
	if o.NA != "" || o.Mem == nil {
		return fmt.Sprintf("| %s | %s | n/a: %s | | | | | | | |", o.Scenario, o.Server, mdEscape(o.NA))
	}
	m := o.Mem
	ok := fmt.Sprintf("%d / %d", m.OK, m.Target)
	if m.OK != m.Target {
		ok = "⚠ " + ok
	}
	open, idleCPU := "", ""
	if sc, _ := scenarioByName(o.Scenario); sc.Kind == KindIdle {
		open, idleCPU = strconv.Itoa(m.StillOpen), fmt.Sprintf("%.1f%%", 100*m.IdleCPU)
	}
	errs := "0"
	if m.Errors > 0 {
		errs = fmt.Sprintf("⚠ %d: %s", m.Errors, mdEscape(m.FirstErr))
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %.1fs | %s | %s |", o.Scenario, o.Server, ok, open,
		mib(m.BaseRSS), mib(m.PeakRSS), kib(m.PerConn), m.Elapsed.Seconds(), idleCPU, errs)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b float64) string { return fmt.Sprintf("%.2f KiB", b/(1<<10)) }

// fmtLatency prints µs below a millisecond, ms below a second, s above.
// wrk sometimes prints 0.00us for a percentile it has no samples for (seen
// with pipelining); that is shown as n/a, not as zero.
func fmtLatency(d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// thousands renders a rate rounded to an integer with thousands separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mdEscape keeps an error message on one table row.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.Join(strings.Fields(s), " ")
}

// firstLines returns up to n lines of s, joined on one line.
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}
