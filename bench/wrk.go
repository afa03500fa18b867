package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WrkResult is what one wrk run printed, parsed.
type WrkResult struct {
	Requests  int64         `json:"requests"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	RPS       float64       `json:"rps"`
	BytesRead float64       `json:"bytes_read"`
	// LatencyAvg and LatencyMax come from the "Thread Stats" table.
	LatencyAvg time.Duration `json:"latency_avg_ns"`
	LatencyMax time.Duration `json:"latency_max_ns"`
	// Percentiles maps "50", "75", "90", "99" to the --latency distribution.
	Percentiles map[string]time.Duration `json:"percentiles_ns"`
	Non2xx      int64                    `json:"non_2xx_3xx"`
	Sock        SocketErrors             `json:"socket_errors"`
	// ClientCPU is wrk's own user+system time, from its rusage (not printed).
	ClientCPU time.Duration `json:"client_cpu_ns,omitempty"`
}

// SocketErrors is wrk's "Socket errors:" line; wrk omits the line when all
// four are zero.
type SocketErrors struct {
	Connect int64 `json:"connect"`
	Read    int64 `json:"read"`
	Write   int64 `json:"write"`
	Timeout int64 `json:"timeout"`
}

// Total is the sum of all socket errors.
func (s SocketErrors) Total() int64 { return s.Connect + s.Read + s.Write + s.Timeout }

// Errors reports whether the run saw any non-2xx/3xx response or socket
// error, which makes its throughput figure suspect.
func (r WrkResult) Errors() bool { return r.Non2xx > 0 || r.Sock.Total() > 0 }

// P returns a latency percentile ("50", "99"), or 0 if wrk did not print it.
func (r WrkResult) P(pct string) time.Duration { return r.Percentiles[pct] }

// errNoSummary reports wrk output without the "requests in" summary line,
// typically because wrk could not connect at all.
var errNoSummary = errors.New("wrk: no summary line in output")

// parseWrk parses the text wrk 4.x prints with --latency.
func parseWrk(out string) (WrkResult, error) {
	r := WrkResult{Percentiles: make(map[string]time.Duration)}
	summary := false
	inDist := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		var err error
		switch {
		case line == "Latency Distribution":
			inDist = true
			continue
		case inDist && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			r.Percentiles[strings.TrimSuffix(f[0], "%")], err = parseWrkDuration(f[1])
		case len(f) >= 4 && f[0] == "Latency":
			if r.LatencyAvg, err = parseWrkDuration(f[1]); err == nil {
				r.LatencyMax, err = parseWrkDuration(f[3])
			}
		case strings.Contains(line, " requests in "):
			summary = true
			err = parseSummary(f, &r)
		case strings.HasPrefix(line, "Socket errors:"):
			err = parseSocketErrors(strings.TrimPrefix(line, "Socket errors:"), &r.Sock)
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			r.Non2xx, err = strconv.ParseInt(f[len(f)-1], 10, 64)
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			r.RPS, err = strconv.ParseFloat(f[1], 64)
		}
		if len(f) != 2 || !strings.HasSuffix(f[0], "%") {
			inDist = false
		}
		if err != nil {
			return r, fmt.Errorf("wrk: line %q: %w", line, err)
		}
	}
	if !summary {
		return r, errNoSummary
	}
	return r, nil
}

// parseSummary parses "80363 requests in 1.10s, 332.39MB read".
func parseSummary(f []string, r *WrkResult) error {
	if len(f) != 6 || f[1] != "requests" || f[5] != "read" {
		return errors.New("unexpected summary shape")
	}
	var err error
	if r.Requests, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return err
	}
	if r.Elapsed, err = parseWrkDuration(strings.TrimSuffix(f[3], ",")); err != nil {
		return err
	}
	r.BytesRead, err = parseWrkBytes(f[4])
	return err
}

// parseSocketErrors parses " connect 0, read 22928, write 0, timeout 0".
func parseSocketErrors(s string, e *SocketErrors) error {
	for _, part := range strings.Split(s, ",") {
		kv := strings.Fields(part)
		if len(kv) != 2 {
			return fmt.Errorf("socket errors: bad part %q", part)
		}
		n, err := strconv.ParseInt(kv[1], 10, 64)
		if err != nil {
			return err
		}
		switch kv[0] {
		case "connect":
			e.Connect = n
		case "read":
			e.Read = n
		case "write":
			e.Write = n
		case "timeout":
			e.Timeout = n
		default:
			return fmt.Errorf("socket errors: unknown kind %q", kv[0])
		}
	}
	return nil
}

// wrkTimeUnits are the suffixes of wrk's format_time (src/units.c).
var wrkTimeUnits = []struct {
	suffix string
	unit   time.Duration
}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}

// parseWrkDuration parses wrk's "199.00us", "2.49ms", "1.10s", "1.00m".
func parseWrkDuration(s string) (time.Duration, error) {
	for _, u := range wrkTimeUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, err
		}
		return time.Duration(v * float64(u.unit)), nil
	}
	return 0, fmt.Errorf("duration %q: unknown unit", s)
}

// wrkByteUnits are the suffixes of wrk's format_binary, longest first so
// "MB" is not read as "B".
var wrkByteUnits = []struct {
	suffix string
	mult   float64
}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}}

// parseWrkBytes parses wrk's binary-unit byte counts: "332.39MB", "0.00B".
func parseWrkBytes(s string) (float64, error) {
	for _, u := range wrkByteUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		return v * u.mult, err
	}
	return 0, fmt.Errorf("bytes %q: unknown unit", s)
}

// WrkOptions configures one wrk run.
type WrkOptions struct {
	Threads, Conns int
	Duration       time.Duration
	URL            string
	Script         string // Lua script path, or ""
	CPUs           string // taskset CPU list for wrk, or ""
}

// runWrk runs wrk and parses its output. The raw output is returned even on
// error so the report can show what wrk said.
func runWrk(ctx context.Context, o WrkOptions) (WrkResult, string, error) {
	args := []string{"-t" + strconv.Itoa(o.Threads), "-c" + strconv.Itoa(o.Conns),
		"-d" + wrkSeconds(o.Duration), "--latency", "--timeout", "5s"}
	if o.Script != "" {
		args = append(args, "-s", o.Script)
	}
	args = append(args, o.URL)
	cmd := pinned(ctx, o.CPUs, "wrk", args...)
	out, err := cmd.CombinedOutput()
	res, perr := parseWrk(string(out))
	res.ClientCPU = childCPU(cmd)
	if err != nil && perr != nil {
		return res, string(out), fmt.Errorf("wrk: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return res, string(out), perr
}

// wrkSeconds renders a duration for wrk's -d, which takes whole seconds
// only: anything else is rounded up.
func wrkSeconds(d time.Duration) string {
	return strconv.Itoa(int((d+time.Second-1)/time.Second)) + "s"
}

// warmWrk loads the server for d, which may be under a second: wrk runs for
// the next whole second and is killed at d. Its output is not needed; the
// response was already checked.
func warmWrk(o WrkOptions, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	o.Duration = d
	_, _, _ = runWrk(ctx, o)
}

// pipelineScript is a wrk Lua script that sends depth requests per write.
// wrk counts each response, so Requests/sec stays per request.
func pipelineScript(depth int, path string) string {
	return fmt.Sprintf(`-- %d pipelined GETs per write, built once in init.
init = function(args)
  local r = {}
  for i = 1, %d do
    r[i] = wrk.format(nil, %q)
  end
  req = table.concat(r)
end

request = function()
  return req
end
`, depth, depth, path)
}

// writeScript writes a Lua script into dir and returns its path.
func writeScript(dir, name, body string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(body), 0o644)
}

// pinned builds a command run under taskset when cpus is set.
func pinned(ctx context.Context, cpus, name string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "taskset", append([]string{"-c", cpus, name}, args...)...)
}
