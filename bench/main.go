// Command bench is gale's benchmark harness: it runs gale, nginx, lighttpd,
// h2o and caddy (those installed) with equivalent configurations through
// the same scenarios and reports throughput, CPU per request, latency and
// memory.
//
//	go run ./bench -quick -servers nginx,gale -scenarios static-4k,php-hello
//	go run ./bench -show-config -servers nginx
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Options are the harness's flags.
type Options struct {
	Servers     string        `json:"servers"`
	Scenarios   string        `json:"scenarios"`
	Runs        int           `json:"runs"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Threads     int           `json:"threads"`
	Conns       int           `json:"conns"`
	ServerCPUs  string        `json:"server_cpus"`
	ClientCPUs  string        `json:"client_cpus"`
	Quick       bool          `json:"quick"`
	IdleConns   int           `json:"idle_conns"`
	SlowClients int           `json:"slow_clients"`
	SlowRate    float64       `json:"slow_rate"`
	LorisConns  int           `json:"slowloris_conns"`
	SlowReaders int           `json:"slow_readers"`
	JSON        string        `json:"-"`
	Markdown    string        `json:"-"`
	SVG         string        `json:"-"`
	ShowConfig  bool          `json:"-"`
	GaleBin     string        `json:"gale_bin"`
	GaleFlags   string        `json:"gale_flags,omitempty"`
	PlainCheck  bool          `json:"plain_check"`
	Keep        bool          `json:"-"`
	Strict      bool          `json:"-"`
}

func parseFlags() Options {
	var o Options
	flag.StringVar(&o.Servers, "servers", "gale,nginx,lighttpd,h2o,caddy", "comma-separated servers to run")
	flag.StringVar(&o.Scenarios, "scenarios", "all", "comma-separated scenarios: "+scenarioNames())
	flag.IntVar(&o.Runs, "runs", 3, "measured runs per scenario and server")
	flag.DurationVar(&o.Duration, "duration", 4*time.Second, "length of each run")
	flag.DurationVar(&o.Warmup, "warmup", 1*time.Second, "warm-up before the runs")
	flag.IntVar(&o.Threads, "threads", 1, "wrk threads (-t)")
	flag.IntVar(&o.Conns, "conns", 64, "wrk connections (-c)")
	defServer, defClient := "", ""
	if runtime.NumCPU() >= 2 {
		defServer, defClient = "0", "1"
	}
	flag.StringVar(&o.ServerCPUs, "server-cpus", defServer, "taskset CPU list for the server and its backend (\"\" = no pinning)")
	flag.StringVar(&o.ClientCPUs, "client-cpus", defClient, "taskset CPU list for wrk")
	flag.BoolVar(&o.Quick, "quick", false, "1 run of 2s after a 0.5s warm-up (overrides -runs, -duration, -warmup)")
	flag.IntVar(&o.IdleConns, "idle-conns", 10000, "connections opened by idle-10k")
	flag.IntVar(&o.SlowClients, "slow-clients", 500, "clients of slow-500")
	flag.Float64Var(&o.SlowRate, "slow-rate", 2<<20, "bytes/s each slow-500 client reads")
	flag.IntVar(&o.LorisConns, "slowloris-conns", 1000, "trickling connections of slowloris")
	flag.IntVar(&o.SlowReaders, "slow-readers", 1000, "connections of slow-read-1000 that request the 16 MiB file and never read")
	flag.StringVar(&o.JSON, "json", "", "write every raw run as JSON to this file")
	flag.StringVar(&o.SVG, "svg", "", "write a bar chart (rps and CPU/request) to this SVG file")
	flag.BoolVar(&o.ShowConfig, "show-config", false, "print each server's configuration and exit")
	flag.StringVar(&o.GaleBin, "gale-bin", "", "prebuilt gale binary (default: go build ./cmd/gale)")
	flag.StringVar(&o.GaleFlags, "gale-flags", "", "extra gale flags, space-separated; {dir} is the run's temp dir (e.g. \"-access-log {dir}/access.log\")")
	flag.BoolVar(&o.Keep, "keep", false, "keep the temp dir (configs, logs)")
	flag.BoolVar(&o.Strict, "strict", false, "exit non-zero when any of gale's scenarios has no number or had errors (a smoke test)")
	flag.BoolVar(&o.PlainCheck, "plain-check", true, "run one plain `taskset wrk` beside the harness's runs of each throughput scenario and warn when they disagree (default off with -quick)")
	flag.StringVar(&o.Markdown, "md", "", "write the tables and the verdicts against gale's targets, as markdown, to this file")
	flag.Parse()
	if o.Quick {
		o.Runs, o.Duration, o.Warmup = 1, 2*time.Second, 500*time.Millisecond
		if !flagSet("plain-check") {
			// A smoke test has no noise figure to compare against.
			o.PlainCheck = false
		}
	}
	return o
}

// flagSet reports whether name was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func main() {
	o := parseFlags()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o Options) error {
	scens, err := selectScenarios(o.Scenarios)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "gale-bench-")
	if err != nil {
		return err
	}
	// World-readable: servers that drop privileges must reach the root.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	servers, err := selectServers(o, tmp)
	if err != nil {
		return err
	}
	h := &Harness{opt: o, tmp: tmp, root: filepath.Join(tmp, "root")}
	h.backends, h.backendErrs = loadBackends(scens, tmp)
	if o.ShowConfig {
		showConfig(os.Stdout, servers, h)
		return nil
	}
	if o.ClientCPUs != "" {
		if err := pinSelf(o.ClientCPUs); err != nil {
			return err
		}
	}
	if err := raiseNoFile(uint64(o.IdleConns + 4096)); err != nil {
		fmt.Fprintln(os.Stderr, "bench: RLIMIT_NOFILE:", err)
	}
	if err := prepareRoot(h.root); err != nil {
		return err
	}
	// The document root (17 MiB) and any binary built above are dirty page
	// cache: without this, the kernel writes them back some 30 s later
	// (vm.dirty_expire_centisecs), in the middle of the first scenarios.
	syscall.Sync()
	rep := Report{Started: time.Now(), Host: hostInfo(), Options: o}
	fmt.Fprintf(os.Stderr, "bench: load average %s (others' work on this machine skews every figure)\n", rep.Host.LoadAvg)
	for _, sc := range scens {
		for _, srv := range servers {
			if f, ok := srv.(scenarioFilter); ok && !f.Runs(sc) {
				continue
			}
			fmt.Fprintf(os.Stderr, "bench: %s on %s\n", sc.Name, srv.Name())
			rep.Outcomes = append(rep.Outcomes, h.Run(sc, srv))
		}
	}
	writeMarkdown(os.Stdout, rep.Outcomes)
	for _, w := range append(busyWarnings(rep.Outcomes), plainWarnings(rep.Outcomes)...) {
		fmt.Fprintln(os.Stderr, "bench: warning:", w)
	}
	if err := writeOutputs(o, rep, servers); err != nil {
		return err
	}
	if o.Strict {
		if bad := galeFailures(rep.Outcomes); len(bad) > 0 {
			return fmt.Errorf("gale failed: %s", strings.Join(bad, "; "))
		}
	}
	return nil
}

// galeFailures lists gale's scenarios that produced no number or saw
// errors: in a smoke test either is a failure.
func galeFailures(outs []Outcome) []string {
	var bad []string
	for _, oc := range outs {
		if oc.Server != "gale" {
			continue
		}
		switch {
		case oc.NA != "":
			bad = append(bad, oc.Scenario+": "+oc.NA)
		case oc.Mem != nil && (oc.Mem.Errors > 0 || oc.Mem.OK < oc.Mem.Target):
			bad = append(bad, fmt.Sprintf("%s: %d/%d ok, %d errors (%s)", oc.Scenario, oc.Mem.OK, oc.Mem.Target, oc.Mem.Errors, oc.Mem.FirstErr))
		case oc.SlowRead != nil && oc.SlowRead.Failed > 0:
			bad = append(bad, fmt.Sprintf("%s: %d of %d slow readers failed to connect or send", oc.Scenario, oc.SlowRead.Failed, oc.SlowRead.Readers))
		}
		for _, r := range oc.Runs {
			switch {
			case r.Err != "" || r.Wrk.Errors():
				bad = append(bad, fmt.Sprintf("%s run %d: %s non-2xx=%d socket=%+v", oc.Scenario, r.Index, r.Err, r.Wrk.Non2xx, r.Wrk.Sock))
			case r.Wrk.Requests == 0:
				bad = append(bad, fmt.Sprintf("%s run %d: no request answered", oc.Scenario, r.Index))
			}
		}
	}
	return bad
}

// writeOutputs writes the -json and -svg files.
func writeOutputs(o Options, rep Report, servers []Server) error {
	if o.JSON != "" {
		if err := writeJSON(o.JSON, rep); err != nil {
			return err
		}
	}
	if o.Markdown != "" {
		if err := writeMarkdownFile(o.Markdown, rep, os.Args); err != nil {
			return err
		}
	}
	if o.SVG == "" {
		return nil
	}
	f, err := os.Create(o.SVG)
	if err != nil {
		return err
	}
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.Name()
	}
	title := fmt.Sprintf("gale bench — %s, %d run(s) × %v, wrk -t%d -c%d", rep.Started.Format("2006-01-02"),
		o.Runs, o.Duration, o.Threads, o.Conns)
	if err := writeSVG(f, title, names, chartRows(rep.Outcomes)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// selectServers resolves -servers, building gale when it is selected.
// "nginx" brings its tcp_nopush-off variant along (it runs only the
// pipelined scenarios), so a table never shows nginx with only one of the
// two settings that each win somewhere.
func selectServers(o Options, tmp string) ([]Server, error) {
	var names []string
	for _, name := range strings.Split(o.Servers, ",") {
		name = strings.TrimSpace(name)
		names = append(names, name)
		if name == "nginx" && !strings.Contains(","+o.Servers+",", ","+nginxNoPush+",") {
			names = append(names, nginxNoPush)
		}
	}
	var out []Server
	for _, name := range names {
		var found Server
		var have []string
		for _, s := range allServers() {
			have = append(have, s.Name())
			if s.Name() == name {
				found = s
			}
		}
		if found == nil {
			return nil, fmt.Errorf("unknown server %q (have: %s)", name, strings.Join(have, ","))
		}
		if g, ok := found.(*gale); ok {
			g.bin = o.GaleBin
			g.extra = strings.Fields(strings.ReplaceAll(o.GaleFlags, "{dir}", tmp))
			if g.bin == "" {
				g.bin, g.buildErr = buildGale(tmp)
			}
		}
		out = append(out, found)
	}
	return out, nil
}

// buildGale builds ./cmd/gale into tmp; on failure gale reports n/a.
func buildGale(tmp string) (string, error) {
	mod, err := moduleDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "gale")
	if err := goBuild(mod, "./cmd/gale", bin); err != nil {
		return "", err
	}
	return bin, nil
}

// loadBackends finds php-fpm and builds the Go FastCGI helper, only for the
// scenarios that need them; errs holds why a backend is missing.
func loadBackends(scens []Scenario, tmp string) (m map[string]Backend, errs map[string]error) {
	m, errs = make(map[string]Backend), make(map[string]error)
	for _, sc := range scens {
		switch sc.Backend {
		case "php":
			bin, err := lookBin("php-fpm8.2")
			if err != nil {
				bin, err = lookBin("php-fpm")
			}
			if err != nil {
				errs["php"] = err
				continue
			}
			m["php"] = &phpFPM{bin: bin}
		case "go":
			mod, err := moduleDir()
			bin := filepath.Join(tmp, "fcgihello")
			if err == nil {
				err = goBuild(mod, "./bench/internal/fcgihello", bin)
			}
			if err != nil {
				errs["go"] = err
				continue
			}
			m["go"] = &goFCGI{bin: bin}
		}
	}
	return m, errs
}

// moduleDir is the root of the gale module, for go build.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module; run from the gale repository")
	}
	return filepath.Dir(gomod), nil
}

// raiseNoFile lifts RLIMIT_NOFILE to at least want (as root) or to the hard
// limit, for the harness and the servers it starts, which inherit it.
func raiseNoFile(want uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return nil
		}
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < want {
		return fmt.Errorf("limit %d is below the %d idle-10k needs", lim.Cur, want)
	}
	return nil
}

// hostInfo records the machine for the JSON report.
func hostInfo() HostInfo {
	h := HostInfo{CPUs: runtime.NumCPU(), GoVer: runtime.Version()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		h.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPUName = strings.TrimSpace(v)
				break
			}
		}
	}
	return h
}
