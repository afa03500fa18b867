package main

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wsgiWorkerPy is the worker gale runs for `gale wsgi`: a FastCGI
// responder for one WSGI application, Python standard library only.
//
//go:embed wsgi_worker.py
var wsgiWorkerPy []byte

// wsgiStartTimeout bounds a worker's import of the application: one that
// is not ready by then (an import that waits on a database forever) is
// killed and counts as failed.
const wsgiStartTimeout = 60 * time.Second

// wsgiProc is one worker process on one slot (socket) of its pool. Its
// channels are its life: ready closes on the worker's "ready" (the
// application imported, the socket listening), recycle receives its
// "recycle" (max_requests served), exited closes once the process is gone.
type wsgiProc struct {
	slot    int
	cmd     *exec.Cmd
	ready   chan struct{}
	recycle chan struct{}
	exited  chan struct{}
	err     error // how it exited, once exited is closed
}

// pid is the worker's process id.
func (p *wsgiProc) pid() int { return p.cmd.Process.Pid }

// startProc starts a worker for position i on slot, its output in the log.
func (pl *wsgiPool) startProc(i, slot int) (*wsgiProc, error) {
	args := []string{pl.script, "--socket", pl.sockets[slot], "--app", pl.w.App, "--dir", pl.w.Dir, "--status-fd", "3"}
	if n := pl.maxRequests(); n > 0 {
		args = append(args, "--max-requests", strconv.Itoa(n))
	}
	cmd := exec.Command(pl.w.Python, args...)
	cmd.Dir = pl.w.Dir
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	cmd.SysProcAttr = childProcAttr()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		statusR.Close()
		statusW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		statusR.Close()
		statusW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{statusW} // fd 3
	err = cmd.Start()
	// The child has its copies; the read ends see EOF when it exits.
	statusW.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		statusR.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("starting %s: %w", pl.w.Python, err)
	}
	p := &wsgiProc{slot: slot, cmd: cmd, ready: make(chan struct{}), recycle: make(chan struct{}, 1), exited: make(chan struct{})}
	log := pl.log.With("worker", i, "pid", cmd.Process.Pid)
	go p.readStatus(statusR)
	go logOutput(log, outR, slog.LevelInfo, "app stdout")
	go logOutput(log, errR, slog.LevelWarn, "app stderr")
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// readStatus reads the worker's status pipe until it closes.
func (p *wsgiProc) readStatus(r *os.File) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	readyClosed := false
	for sc.Scan() {
		switch sc.Text() {
		case "ready":
			if !readyClosed {
				readyClosed = true
				close(p.ready)
			}
		case "recycle":
			select {
			case p.recycle <- struct{}{}:
			default:
			}
		}
	}
}

// logOutput logs each line the worker writes, with the request it was
// serving when the worker tagged the line ("[req GET /path] ..."). A line
// longer than the buffer is logged in pieces: the pipe is read to its end
// whatever comes, or the worker's next print would fail.
func logOutput(log *slog.Logger, r io.ReadCloser, level slog.Level, msg string) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 16<<10)
	for {
		chunk, err := br.ReadSlice('\n')
		if line := strings.TrimRight(string(chunk), "\r\n"); line != "" || err == nil {
			logLine(log, level, msg, line)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// logLine logs one line of a worker's output.
func logLine(log *slog.Logger, level slog.Level, msg, line string) {
	if rest, ok := strings.CutPrefix(line, "[req "); ok {
		if req, text, ok := strings.Cut(rest, "] "); ok {
			log.Log(context.Background(), level, msg, "request", req, "text", text)
			return
		}
	}
	log.Log(context.Background(), level, msg, "text", line)
}

// kill ends the worker at once (it is stuck in a request).
func (p *wsgiProc) kill() { _ = p.cmd.Process.Kill() }

// terminate stops the worker: SIGTERM, then SIGKILL after stopGrace; it
// returns once the process is gone.
func (p *wsgiProc) terminate() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopGrace):
		p.kill()
		<-p.exited
	}
}

// rss is the worker's resident memory in bytes (0 when unknown).
func (p *wsgiProc) rss() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid()) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
