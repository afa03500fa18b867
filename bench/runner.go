package main

import (
	"bytes"
	"context"
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
	Scenario string          `json:"scenario"`
	Server   string          `json:"server"`
	NA       string          `json:"na,omitempty"` // why there is no number
	Backend  string          `json:"backend,omitempty"`
	Runs     []Run           `json:"runs,omitempty"`
	Mem      *MemResult      `json:"mem,omitempty"`
	Plain    *PlainCheck     `json:"plain_wrk,omitempty"` // -plain-check
	Loris    *LorisResult    `json:"slowloris,omitempty"`
	SlowRead *SlowReadResult `json:"slow_read,omitempty"`
}

// Run is one measured wrk run.
type Run struct {
	Index      int           `json:"index"`
	Wrk        WrkResult     `json:"wrk"`
	Output     string        `json:"wrk_output"`
	ServerCPU  time.Duration `json:"server_cpu_ns"`
	BackendCPU time.Duration `json:"backend_cpu_ns,omitempty"`
	// MachineCPU is the busy time of every CPU over the run (/proc/stat):
	// what is left after the server, backend and wrk is someone else's.
	MachineCPU time.Duration `json:"machine_cpu_ns,omitempty"`
	Err        string        `json:"error,omitempty"`
}

// CPUPerReq is the server's CPU time per request in microseconds.
func (r Run) CPUPerReq() float64 { return perReq(r.ServerCPU, r.Wrk.Requests) }

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
}

func (in *instance) stop() {
	in.srv.Stop()
	if in.backend != nil {
		in.backend.Stop()
	}
}

// cpu samples the CPU time of the server's and the backend's process trees
// (the backend's is 0 when there is none) and of the whole machine.
func (in *instance) cpu() (srv, backend, machine time.Duration) {
	if in.backend != nil {
		backend = TreeCPU(in.backend.PID())
	}
	return TreeCPU(in.srv.PID()), backend, machineBusy()
}

// Run measures sc on srv. Anything that prevents a measurement becomes the
// outcome's NA reason rather than a number.
func (h *Harness) Run(sc Scenario, srv Server) Outcome {
	out := Outcome{Scenario: sc.Name, Server: srv.Name(), Backend: sc.Backend}
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
	if sc.Backend != "" {
		b, ok := h.backends[sc.Backend]
		if !ok {
			return nil, fmt.Errorf("backend %q unavailable: %v", sc.Backend, h.backendErrs[sc.Backend])
		}
		// The backend shares the server's CPUs: the pair is "the server".
		if in.backend, err = b.Start(dir, h.opt.ServerCPUs); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		in.env.FastCGI = Socket(dir)
	}
	if in.srv, err = srv.Start(in.env); err != nil {
		if in.backend != nil {
			in.backend.Stop()
		}
		return nil, fmt.Errorf("start: %w", err)
	}
	return in, nil
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
}

// measureWrk runs wrk once and attributes CPU time to it.
func measureWrk(i int, wo WrkOptions, in *instance) Run {
	r := Run{Index: i}
	cpu0, bcpu0, busy0 := in.cpu()
	res, text, err := runWrk(context.Background(), wo)
	cpu1, bcpu1, busy1 := in.cpu()
	r.ServerCPU, r.BackendCPU, r.MachineCPU = cpu1-cpu0, bcpu1-bcpu0, busy1-busy0
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
