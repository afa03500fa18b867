package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Outcome is everything measured for one scenario on one server.
type Outcome struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	NA       string `json:"na,omitempty"` // why there is no number
	// Missing: NA because a backend's package is not installed (gunicorn,
	// uWSGI, fcgiwrap, php-fpm): -strict skips it rather than failing.
	Missing  bool            `json:"missing,omitempty"`
	Backend  string          `json:"backend,omitempty"`
	Runs     []Run           `json:"runs,omitempty"`
	Mem      *MemResult      `json:"mem,omitempty"`
	Plain    *PlainCheck     `json:"plain_wrk,omitempty"` // -plain-check
	Loris    *LorisResult    `json:"slowloris,omitempty"`
	SlowRead *SlowReadResult `json:"slow_read,omitempty"`
	// StackMem is the memory of the server and its application after the
	// runs of a scenario with one (hasApp).
	StackMem *StackMem `json:"stack_mem,omitempty"`
}

// StackMem is resident memory in bytes, summed over each process tree: RSS
// (shared pages counted in every process, as ps does) and PSS (shared pages
// divided among their sharers: the sum is what the tree costs the machine).
type StackMem struct {
	Server     int64 `json:"server_rss"`
	Backend    int64 `json:"backend_rss,omitempty"`
	ServerPSS  int64 `json:"server_pss,omitempty"`
	BackendPSS int64 `json:"backend_pss,omitempty"`
}

// Run is one measured wrk run.
type Run struct {
	Index     int           `json:"index"`
	Wrk       WrkResult     `json:"wrk"`
	Output    string        `json:"wrk_output"`
	ServerCPU time.Duration `json:"server_cpu_ns"`
	// ServerSys is ServerCPU's kernel part (0 where not measured: a CGI
	// server's cgroup on cgroup v1).
	ServerSys  time.Duration `json:"server_sys_ns,omitempty"`
	BackendCPU time.Duration `json:"backend_cpu_ns,omitempty"`
	// MachineCPU is the busy time of every CPU over the run (/proc/stat):
	// what is left after the server, backend and wrk is someone else's.
	MachineCPU time.Duration `json:"machine_cpu_ns,omitempty"`
	Err        string        `json:"error,omitempty"`
}

// CPUPerReq is the server's CPU time per request in microseconds.
func (r Run) CPUPerReq() float64 { return perReq(r.ServerCPU, r.Wrk.Requests) }

// SysPerReq is the kernel part of CPUPerReq.
func (r Run) SysPerReq() float64 { return perReq(r.ServerSys, r.Wrk.Requests) }

// BackendCPUPerReq is the FastCGI backend's CPU time per request in µs.
func (r Run) BackendCPUPerReq() float64 { return perReq(r.BackendCPU, r.Wrk.Requests) }

func perReq(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}

// Harness runs scenarios against servers with one set of options.
type Harness struct {
	opt         Options
	tmp         string
	root        string
	backends    map[string]Backend
	backendErrs map[string]error // why a backend is not in backends
	seq         int
}

// instance is a started server with its optional backend.
type instance struct {
	srv, backend *Proc
	env          Env
	// stack: the backend is part of the row's server (nginx+gunicorn and
	// the like), so its CPU counts as the server's.
	stack bool
	// group, when set, holds the server and backend and is what their CPU
	// is read from (cgi-hello: see cpuGroup).
	group *cpuGroup
}

func (in *instance) stop() {
	in.srv.Stop()
	if in.backend != nil {
		in.backend.Stop()
	}
	if in.group != nil {
		in.group.remove()
	}
}

// cpu samples the CPU time of the server's and the backend's process trees
// (the backend's is 0 when there is none) and of the whole machine.
func (in *instance) cpu() (srv, backend, machine time.Duration) {
	if in.backend != nil {
		backend = TreeCPU(in.backend.PID())
	}
	srv = TreeCPU(in.srv.PID())
	if in.group != nil {
		// Server, backend and every script they ran: all the server's.
		return in.group.usage(), 0, machineBusy()
	}
	if in.stack {
		srv, backend = srv+backend, 0
	}
	return srv, backend, machineBusy()
}

// sys samples the kernel part of what cpu reports as the server's.
func (in *instance) sys() time.Duration {
	if in.group != nil {
		return in.group.sysUsage()
	}
	d := TreeSys(in.srv.PID())
	if in.stack && in.backend != nil {
		d += TreeSys(in.backend.PID())
	}
	return d
}

// mem samples the resident memory of the server's and the backend's
// process trees after the runs (a stack's backend counts as its server's).
func (in *instance) mem() *StackMem {
	m := &StackMem{Server: TreeMem(in.srv.PID()).RSS, ServerPSS: TreePSS(in.srv.PID())}
	if in.backend != nil {
		m.Backend, m.BackendPSS = TreeMem(in.backend.PID()).RSS, TreePSS(in.backend.PID())
	}
	if in.stack {
		m.Server, m.ServerPSS = m.Server+m.Backend, m.ServerPSS+m.BackendPSS
		m.Backend, m.BackendPSS = 0, 0
	}
	return m
}

// Run measures sc on srv. Anything that prevents a measurement becomes the
// outcome's NA reason rather than a number.
func (h *Harness) Run(sc Scenario, srv Server) Outcome {
	out := Outcome{Scenario: sc.Name, Server: srv.Name(), Backend: sc.Backend}
	if _, ok := srv.(stackServer); ok {
		out.Backend = "" // part of the row's server
	}
	if why := runsHere(sc, srv); why != "" {
		out.NA = why
		return out
	}
	if err := srv.Check(); err != nil {
		out.NA = err.Error()
		return out
	}
	if _, ok := srv.(cacher); sc.Cache && !ok {
		out.NA = "no response cache"
		return out
	}
	in, err := h.start(sc, srv)
	if err != nil {
		out.NA = err.Error()
		var me missingError
		out.Missing = errors.As(err, &me)
		return out
	}
	defer in.stop()
	want := expectedBody(sc)
	if err := checkResponse(in.env.Addr(), sc.Path, want); err != nil {
		out.NA = "wrong response: " + err.Error()
		return out
	}
	switch sc.Kind {
	case KindWrk:
		h.runWrkScenario(sc, in, &out)
	case KindIdle:
		m := runIdle(in.srv.PID(), in.env.Addr(), sc.Path, h.opt.IdleConns, want)
		out.Mem = &m
	case KindSlow:
		m := runSlow(in.srv.PID(), in.env.Addr(), sc.Path, h.opt.SlowClients, h.opt.SlowRate, want)
		out.Mem = &m
	case KindLoris:
		h.runLoris(sc, in, &out)
	case KindSlowRead:
		h.runSlowRead(sc, in, &out)
	}
	return out
}

// start brings up the backend (if any) and the server in a fresh directory.
func (h *Harness) start(sc Scenario, srv Server) (*instance, error) {
	h.seq++
	dir := filepath.Join(h.tmp, strconv.Itoa(h.seq)+"-"+srv.Name()+"-"+sc.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	in := &instance{env: Env{Dir: dir, Root: h.root, Port: port, CPUs: h.opt.ServerCPUs, MaxConns: h.opt.IdleConns + 1024, Cache: sc.Cache}}
	if sc.CGI {
		if in.env.Root, err = writeCGIRoot(dir); err != nil {
			return nil, err
		}
		in.env.CGI = true
	}
	key := sc.Backend
	if st, ok := srv.(stackServer); ok {
		key, in.stack = st.stackBackend(), true
	}
	if key != "" {
		b, ok := h.backends[key]
		if !ok {
			return nil, missingError{fmt.Errorf("backend %q unavailable: %v", key, h.backendErrs[key])}
		}
		// The backend shares the server's CPUs: the pair is "the server".
		if in.backend, err = b.Start(dir, h.opt.ServerCPUs); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		setBackendEnv(&in.env, key, b)
	}
	if sc.WSGI && !in.stack {
		if err := writeWSGIApp(dir); err != nil {
			return nil, err
		}
		in.env.WSGIDir = dir
	}
	if in.srv, err = srv.Start(in.env); err != nil {
		if in.backend != nil {
			in.backend.Stop()
		}
		return nil, fmt.Errorf("start: %w", err)
	}
	if sc.CGI {
		if err := in.adoptGroup(filepath.Base(h.tmp) + "-" + strconv.Itoa(h.seq)); err != nil {
			if in.stack {
				// fcgiwrap's scripts would cost nothing: no figure.
				in.stop()
				return nil, err
			}
			// gale and lighttpd wait for their scripts: cutime has them.
			fmt.Fprintf(os.Stderr, "bench: %s: %v; counting the scripts through cutime\n", srv.Name(), err)
			in.group = nil
		}
	}
	return in, nil
}

// adoptGroup puts the instance's processes into a CPU-accounting cgroup.
func (in *instance) adoptGroup(name string) error {
	g, err := newCPUGroup(name)
	if err != nil {
		return fmt.Errorf("%w (cgi-hello counts the scripts' CPU through a cgroup: run as root)", err)
	}
	roots := []int{in.srv.PID()}
	if in.backend != nil {
		roots = append(roots, in.backend.PID())
	}
	if err := g.adopt(roots...); err != nil {
		g.remove()
		return err
	}
	in.group = g
	return nil
}

// warmedWrk returns the wrk options for sc's measured runs (script: a Lua
// script path or ""), after warming the server up with them.
func (h *Harness) warmedWrk(sc Scenario, in *instance, script string) WrkOptions {
	wo := WrkOptions{Threads: h.opt.Threads, Conns: h.opt.Conns, URL: "http://" + in.env.Addr() + sc.Path,
		Script: script, CPUs: h.opt.ClientCPUs}
	if h.opt.Warmup > 0 {
		warmWrk(wo, h.opt.Warmup)
	}
	wo.Duration = h.opt.Duration
	return wo
}

// runWrkScenario warms up, then runs wrk opt.Runs times, sampling CPU time of
// the server (and backend) process trees around each run. With -plain-check
// one plain wrk run (plaincheck.go) goes in the middle of them.
func (h *Harness) runWrkScenario(sc Scenario, in *instance, out *Outcome) {
	var script string
	if sc.Pipeline > 0 {
		p, err := writeScript(in.env.Dir, "pipeline.lua", pipelineScript(sc.Pipeline, sc.Path))
		if err != nil {
			out.NA = err.Error()
			return
		}
		script = p
	}
	wo := h.warmedWrk(sc, in, script)
	for i := range h.opt.Runs {
		out.Runs = append(out.Runs, measureWrk(i, wo, in))
		if h.opt.PlainCheck && i == plainAfter(h.opt.Runs) {
			out.Plain = runPlain(wo, in)
		}
	}
	if hasApp(sc) {
		out.StackMem = in.mem()
	}
}

// missingError is a backend that is not installed here.
type missingError struct{ error }

// setBackendEnv tells the server where the backend key (b) listens, in the
// Env field of its protocol.
func setBackendEnv(e *Env, key string, b Backend) {
	switch b.Proto() {
	case protoHTTP:
		e.Proxy = Socket(e.Dir)
		if key == backendGoHTTP {
			e.ProxyKeepAlive = proxyKeepAlive
		}
	case protoUWSGI:
		e.UWSGI = Socket(e.Dir)
	default:
		e.FastCGI = Socket(e.Dir)
	}
}

// hasApp reports whether sc runs an application (a backend, gale wsgi's
// workers, CGI scripts) whose memory the report shows beside the server's.
func hasApp(sc Scenario) bool { return sc.Backend != "" || sc.WSGI || sc.CGI }

// measureWrk runs wrk once and attributes CPU time to it.
func measureWrk(i int, wo WrkOptions, in *instance) Run {
	r := Run{Index: i}
	sys0 := in.sys()
	cpu0, bcpu0, busy0 := in.cpu()
	res, text, err := runWrk(context.Background(), wo)
	cpu1, bcpu1, busy1 := in.cpu()
	r.ServerCPU, r.BackendCPU, r.MachineCPU = cpu1-cpu0, bcpu1-bcpu0, busy1-busy0
	r.ServerSys = in.sys() - sys0
	r.Wrk, r.Output = res, text
	if err != nil {
		r.Err = err.Error()
	}
	if in.srv.Exited() {
		r.Err = "server exited: " + in.srv.LogTail()
	}
	return r
}

// checkResponse fetches path once and compares status and body, so a
// misconfigured server shows "n/a" instead of a fast 404 figure.
func checkResponse(addr, path string, want []byte) error {
	// No keep-alive: an idle connection left behind would delay h2o's
	// graceful stop.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, firstLines(string(got), 1))
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("GET %s: body of %d bytes differs from the expected %d", path, len(got), len(want))
	}
	return nil
}
