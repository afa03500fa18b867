package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Proc is a process the harness started: a server or a FastCGI backend.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	log  string // file holding its stdout and stderr
	done chan struct{}
	err  error // Wait's result, valid once done is closed
}

// PID is the process id; under taskset it is the server itself, because
// taskset execs its command.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// startProc starts name with args, pinned to cpus, in its own process group
// so Stop can reach every child it forked. Output goes to logPath; env adds
// variables to the harness's environment.
func startProc(label, cpus, logPath string, env []string, name string, args ...string) (*Proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own copy
	cmd := pinned(context.Background(), cpus, name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	p := &Proc{Name: label, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// startListening starts a server or backend (see startProc) with its
// output in dir/label.out and waits until network/addr accepts a connection.
func startListening(label, cpus, dir, network, addr string, env []string, name string, args ...string) (*Proc, error) {
	p, err := startProc(label, cpus, filepath.Join(dir, label+".out"), env, name, args...)
	if err != nil {
		return nil, err
	}
	if err := p.waitDial(network, addr, 10*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// Exited reports whether the process has already ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// LogTail summarizes the process's output for an error report: the first
// line (where nginx's [emerg] and Go's flag errors land) and the last.
func (p *Proc) LogTail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return lines[0] + " … " + lines[len(lines)-1]
}

// Stop asks the process to terminate, then kills its process group if it has
// not gone within three seconds. Whatever is left of the group once it has
// gone is killed too: a master that exits at SIGTERM may leave its forked
// workers running (fcgiwrap -c N does), which would hold CPU and sockets
// into the next scenario and outlive the harness.
func (p *Proc) Stop() {
	defer func() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }()
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// waitDial waits until network/addr accepts a connection, the process exits,
// or timeout passes.
func (p *Proc) waitDial(network, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("%s exited (%v): %s", p.Name, p.err, p.LogTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s not reachable after %v: %v; log: %s", p.Name, addr, timeout, err, p.LogTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort asks the kernel for an unused TCP port on the loopback.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lookBin finds a binary on PATH, with a report-friendly error.
func lookBin(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not installed", name)
	}
	return p, nil
}
