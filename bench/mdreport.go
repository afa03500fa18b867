package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// writeMarkdownFile writes what -md asks for: where and how the figures
// were taken, the tables, the plain-wrk warnings and the verdicts against
// gale's targets, so the README's performance section is a copy of it.
func writeMarkdownFile(path string, rep Report, argv []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	writeMarkdownReport(f, rep, argv)
	return f.Close()
}

// writeMarkdownReport is writeMarkdownFile's content.
func writeMarkdownReport(w io.Writer, rep Report, argv []string) {
	h, o := rep.Host, rep.Options
	fmt.Fprintf(w, "Measured %s on %d × %s, kernel %s, %s; load average at start %s.\n",
		rep.Started.UTC().Format("2006-01-02 15:04 MST"), h.CPUs, h.CPUName, h.Kernel, h.GoVer, h.LoadAvg)
	fmt.Fprintf(w, "Peers: %s. %d run(s) × %v after %v of warm-up, wrk -t%d -c%d; server on CPU %q, wrk on CPU %q.\n\n",
		strings.Join(peerVersions(), ", "), o.Runs, o.Duration, o.Warmup, o.Threads, o.Conns, o.ServerCPUs, o.ClientCPUs)
	// argv[0] is a temp path under go run: show the command as typed.
	fmt.Fprintf(w, "    go run ./bench %s\n\n", strings.Join(argv[1:], " "))
	worst := 0.0
	for _, o := range rep.Outcomes {
		worst = max(worst, worstOther(o))
	}
	fmt.Fprintf(w, "Other processes (the harness included) used at most %.1f%% of a core during any measured wrk run.\n\n", 100*worst)
	writeMarkdown(w, rep.Outcomes)
	if warn := append(busyWarnings(rep.Outcomes), plainWarnings(rep.Outcomes)...); len(warn) > 0 {
		fmt.Fprintln(w)
		for _, s := range warn {
			fmt.Fprintln(w, "- ⚠ "+mdEscape(s))
		}
	}
	fmt.Fprintln(w)
	verdictTable(w, rep.Outcomes)
}

// versionCommands print each peer's version (nginx -v writes to stderr).
var versionCommands = [][]string{
	{"nginx", "-v"}, {"lighttpd", "-v"}, {"h2o", "--version"}, {"caddy", "version"},
	{"php-fpm8.2", "-v"}, {"wrk", "-v"},
}

// peerVersions is the first line of each installed peer's version output.
func peerVersions() []string {
	var out []string
	for _, c := range versionCommands {
		if _, err := exec.LookPath(c[0]); err != nil {
			continue
		}
		b, _ := exec.Command(c[0], c[1:]...).CombinedOutput() // wrk -v exits 1
		line := firstLines(string(b), 1)
		if line == "" {
			continue
		}
		if !strings.Contains(line, c[0]) { // caddy prints the bare number
			line = c[0] + " " + line
		}
		out = append(out, mdEscape(line))
	}
	return out
}
