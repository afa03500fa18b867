package main

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Restart backoff of supervised backends: the first restart
// comes quickly (a crash or a kill is usually a one-off), later ones slow
// down so a child that cannot start does not spin.
const (
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = 5 * time.Second
	// A child that ran this long before exiting counts as healthy: the
	// next restart is quick again.
	stableRun = 10 * time.Second
	// stopGrace is how long the child has to exit after SIGTERM.
	stopGrace = 3 * time.Second
)

// child is a process gale keeps running: it starts it, restarts it with a
// backoff whenever it exits, and stops it on Stop.
type child struct {
	path string
	args []string
	env  []string // nil: gale's environment
	// socket, when set, is the unix socket the child listens on: a stale
	// file left by a killed child is removed before each start, since
	// most FastCGI programs (php-cgi) refuse to bind over it.
	socket string
	log    *slog.Logger
	stop   chan struct{}
	done   chan struct{}
}

// superviseProcess starts c (path, args, env, socket and log set) and
// keeps it running until Stop.
func superviseProcess(c *child) *child {
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.loop()
	return c
}

func (c *child) loop() {
	defer close(c.done)
	delay := minRestartDelay
	for {
		began := time.Now()
		if stopped := c.runOnce(); stopped {
			return
		}
		if time.Since(began) >= stableRun {
			delay = minRestartDelay
		}
		c.log.Warn("child process exited, restarting", "cmd", c.args, "in", delay)
		select {
		case <-time.After(delay):
		case <-c.stop:
			return
		}
		delay = min(2*delay, maxRestartDelay)
	}
}

// runOnce runs the child until it exits (false) or Stop is called (true).
func (c *child) runOnce() (stopped bool) {
	if c.socket != "" {
		removeStaleSocket(c.socket)
	}
	cmd := exec.Command(c.path, c.args...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		c.log.Error("child process did not start", "cmd", c.args, "err", err)
		return false
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			c.log.Warn("child process failed", "pid", cmd.Process.Pid, "err", err)
		}
		return false
	case <-c.stop:
	}
	c.terminate(cmd, exited)
	return true
}

// terminate stops a running child: SIGTERM, then SIGKILL after stopGrace.
func (c *child) terminate(cmd *exec.Cmd, exited <-chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopGrace):
		_ = cmd.Process.Kill()
		<-exited
	}
	if c.socket != "" {
		removeStaleSocket(c.socket)
	}
}

// removeStaleSocket removes a socket file nothing accepts on.
func removeStaleSocket(path string) {
	st, err := os.Lstat(path)
	if err != nil || st.Mode().Type() != os.ModeSocket {
		return
	}
	if conn, err := net.DialTimeout("unix", path, 100*time.Millisecond); err == nil {
		conn.Close()
		return
	}
	_ = os.Remove(path)
}

// Stop terminates the child (SIGTERM, then SIGKILL after a grace period)
// and waits until it is gone.
func (c *child) Stop() {
	close(c.stop)
	<-c.done
}

// waitUnixSocket waits until something accepts connections on path.
func waitUnixSocket(path string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		conn, err := net.DialTimeout("unix", path, 100*time.Millisecond)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return errors.Join(errors.New("not accepting connections"), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
