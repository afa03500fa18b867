// Package cgiexec runs CGI scripts (RFC 3875) as an upstream.Protocol, as
// lighttpd's mod_cgi does, without blocking the event loop.
//
// Each connection the engine asks for (upstream.Dialer) is one end of a
// socketpair; at the other end a goroutine of the Runner reads the request
// the engine writes there like to any backend: a netstring of the CGI
// variables (FastCGI pair encoding, so that every length is explicit),
// then CONTENT_LENGTH body bytes. It starts the script with the variables
// as its environment, its own end of the socketpair as stdout (read on the
// loop like any upstream connection), a pipe fed with exactly the body as
// stdin (EOF at CONTENT_LENGTH, so a script reading to EOF works), and its
// stderr to the error log. The script runs in a process group of its own.
//
// The goroutine then waits for whichever comes first: the script's exit
// (a pidfd) or the engine closing its end (a timeout answered 504, a
// client that left, a shutdown: POLLHUP), which kills the group. Either
// way the group is killed once the script exits (what it left running
// would hold resources nobody answers for), the script is reaped, and
// only then is the socketpair closed: the engine's end of the response is
// the end of the process, and no zombie outlives a request. A script that
// cannot start gets a 502 written back with the reason in the log.
package cgiexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
	"github.com/gale-http/gale/upstream/fastcgi"
)

// DefaultPath is the PATH of a script's environment unless configured.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// maxHead bounds the request head read from the engine: the CGI variables
// of a request within any sane header limit.
const maxHead = 4 << 20

// Runner is the CGI protocol: an upstream.Protocol and upstream.Dialer
// shared by every loop. Configure it before use.
type Runner struct {
	upstream.Unframed
	// Assign maps a script's extension (".py") to the interpreter that
	// runs it, given the script's path as argument (lighttpd's
	// cgi.assign); a script whose extension has none is executed itself
	// and must be executable.
	Assign map[string]string
	// Log receives the scripts' stderr, failures to start, kills and
	// non-zero exits; nil means slog.Default().
	Log *slog.Logger
	// sem holds a token per script process alive (started or about to
	// be, until reaped): the cap is exact even while a killed script is
	// being reaped after the engine let go of its connection.
	sem chan struct{}
}

// New returns a Runner that runs at most maxScripts scripts at once.
func New(maxScripts int, assign map[string]string, log *slog.Logger) *Runner {
	return &Runner{Assign: assign, Log: log, sem: make(chan struct{}, max(maxScripts, 1))}
}

var (
	_ upstream.Protocol = (*Runner)(nil)
	_ upstream.Dialer   = (*Runner)(nil)
)

// Name implements upstream.Protocol.
func (r *Runner) Name() string { return "cgi" }

// Caps implements upstream.Protocol: one request per process, whose
// length is stated (a chunked body is received whole first).
func (r *Runner) Caps() upstream.Caps { return upstream.Caps{NeedsLength: true} }

// EncodeHead implements upstream.Protocol: the CGI variables as FastCGI
// pairs inside a netstring, read back by the script goroutine.
func (r *Runner) EncodeHead(dst []byte, ri *cgi.RequestInfo, bodyLen int64) []byte {
	ri.ContentLength = bodyLen
	mark := len(dst)
	return cgi.Netstring(cgi.AppendEnv(dst, cgi.FastCGI, ri), mark)
}

// NewConn implements upstream.Protocol: one request, its response until
// the close.
func (r *Runner) NewConn(int) upstream.ConnCodec { return upstream.NewOneShot() }

// Response implements upstream.Protocol: a CGI response (or an NPH one).
func (r *Runner) Response() upstream.ResponseFormat { return upstream.CGIResponse }

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Dial implements upstream.Dialer: a socketpair whose far end a goroutine
// serves (see the package comment). It waits, within ctx, for a process
// slot: the engine's budget is the same cap, so the wait is only for a
// killed script still being reaped.
func (r *Runner) Dial(ctx context.Context, _ *upstream.Backend) (net.Conn, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("cgi: no script slot free: %w", ctx.Err())
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		<-r.sem
		return nil, fmt.Errorf("cgi: socketpair: %w", err)
	}
	f := os.NewFile(uintptr(fds[0]), "cgi")
	c, err := net.FileConn(f) // a dup; gnet dups it again when it enrolls it
	f.Close()
	if err != nil {
		unix.Close(fds[1])
		<-r.sem
		return nil, fmt.Errorf("cgi: %w", err)
	}
	go r.serve(os.NewFile(uintptr(fds[1]), "cgi-script"))
	return c, nil
}

// serve runs the one request the engine writes to end, then closes end and
// frees the slot.
func (r *Runner) serve(end *os.File) {
	defer func() { <-r.sem }()
	defer end.Close()
	head, err := readNetstring(end)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			r.log().Error("cgi: bad request from the engine", "err", err)
		}
		return // io.EOF: the engine closed a connection it did not use
	}
	req, err := parseHead(head)
	if err != nil {
		r.log().Error("cgi: bad request from the engine", "err", err)
		return
	}
	r.run(end, req)
}

// request is what a script is run with.
type request struct {
	script string
	env    []string
	length int64
}

// command builds the script's command: its interpreter by extension, or
// the script itself.
func (r *Runner) command(req *request) *exec.Cmd {
	var cmd *exec.Cmd
	if interp := r.Assign[filepath.Ext(req.script)]; interp != "" {
		cmd = exec.Command(interp, req.script)
	} else {
		cmd = exec.Command(req.script)
	}
	cmd.Env = req.env
	cmd.Dir = filepath.Dir(req.script) // RFC 3875 section 7.2; Apache and lighttpd do it
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second // stderr held by something the group kill missed
	return cmd
}

// run starts the script and sees it to its end.
func (r *Runner) run(end *os.File, req *request) {
	log := r.log()
	cmd := r.command(req)
	cmd.Stdout = end
	cmd.Stderr = &stderrLog{log: log, script: req.script}
	var stdin *os.File
	if req.length > 0 {
		pr, pw, err := os.Pipe()
		if err != nil {
			r.refuse(end, req, err)
			return
		}
		cmd.Stdin, stdin = pr, pw
		defer pr.Close() // the child has its own copy once started
	}
	if err := cmd.Start(); err != nil {
		if stdin != nil {
			stdin.Close()
		}
		r.refuse(end, req, err)
		return
	}
	fed := make(chan struct{})
	if stdin != nil {
		go feed(stdin, end, req.length, fed)
	} else {
		close(fed)
	}
	pid := cmd.Process.Pid
	killed := !watch(end, pid)
	if killed {
		log.Info("cgi: script killed: its request ended first (timeout, client gone or shutdown)", "script", req.script, "pid", pid)
	}
	// Kill what the script left running in its group while it is still
	// a zombie, so that its ID, the group's, cannot have been reused.
	var info unix.Siginfo
	for unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
	}
	unix.Kill(-pid, unix.SIGKILL)
	err := cmd.Wait()
	<-fed // the engine's body is all read: its writes never fail on our close
	var ee *exec.ExitError
	if errors.As(err, &ee) && !killed {
		log.Warn("cgi: script exited with an error", "script", req.script, "status", ee.ProcessState.String())
	}
}

// watch waits until the script exits (true) or the engine closes its end
// of the socketpair (false: the group is killed).
func watch(end *os.File, pid int) bool {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		// Before Linux 5.3: no way to watch both; the script runs to its
		// end, and its output fails once the engine is gone.
		return true
	}
	defer unix.Close(pidfd)
	fds := []unix.PollFd{{Fd: int32(end.Fd()), Events: 0}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			break
		}
	}
	if fds[1].Revents&unix.POLLIN != 0 {
		return true
	}
	unix.Kill(-pid, unix.SIGKILL)
	return false
}

// feed copies the request body, n bytes, from end to the script's stdin
// and closes it (EOF). What the script does not read is drained, so the
// engine's writes complete; it stops early only when the engine closed.
func feed(stdin, end *os.File, n int64, done chan struct{}) {
	defer close(done)
	k, _ := io.CopyN(stdin, end, n)
	stdin.Close()
	if k < n {
		io.CopyN(io.Discard, end, n-k)
	}
}

// refuse answers a request whose script could not start with a 502, and
// logs why.
func (r *Runner) refuse(end *os.File, req *request, err error) {
	r.log().Error("cgi: cannot run script", "script", req.script, "err", err)
	io.CopyN(io.Discard, end, req.length)
	io.WriteString(end, "Status: 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n502 Bad Gateway\n")
}

// stderrLog writes a script's stderr to the error log, a record per
// write, with the script's name.
type stderrLog struct {
	log    *slog.Logger
	script string
}

func (s *stderrLog) Write(p []byte) (int, error) {
	if msg := strings.TrimRight(string(p), "\r\n"); msg != "" {
		s.log.Warn("cgi stderr", "script", s.script, "msg", msg)
	}
	return len(p), nil
}

// readNetstring reads one netstring from f without reading past it (the
// body follows): the length a byte at a time, then exactly the rest.
func readNetstring(f *os.File) ([]byte, error) {
	var b [1]byte
	n := 0
	for digits := 0; ; digits++ {
		if _, err := io.ReadFull(f, b[:]); err != nil {
			return nil, err
		}
		if b[0] == ':' && digits > 0 {
			break
		}
		if b[0] < '0' || b[0] > '9' || digits == 8 {
			return nil, fmt.Errorf("bad netstring length")
		}
		n = n*10 + int(b[0]-'0')
	}
	if n > maxHead {
		return nil, fmt.Errorf("request head of %d bytes", n)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("netstring not ended by a comma")
	}
	return buf[:n], nil
}

// parseHead turns the FastCGI pairs of head into the script's request: its
// environment as NAME=value strings, all views of one string, with PATH
// added unless configured. A variable whose name or value holds a NUL,
// or whose name holds '=', is dropped: exec would refuse it, and a NUL
// must not cut one variable into two.
func parseHead(head []byte) (*request, error) {
	req := &request{length: -1}
	var buf []byte
	var ends []int
	hasPath := false
	err := fastcgi.ParsePairs(head, func(name, value []byte) error {
		if len(name) == 0 || bytes.ContainsAny(name, "=\x00") || bytes.IndexByte(value, 0) >= 0 {
			return nil
		}
		switch string(name) {
		case "SCRIPT_FILENAME":
			req.script = string(value)
		case "CONTENT_LENGTH":
			if len(value) > 0 {
				n, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || n < 0 {
					return fmt.Errorf("bad CONTENT_LENGTH %q", value)
				}
				req.length = n
			}
		case "PATH":
			hasPath = true
		}
		buf = append(append(append(buf, name...), '='), value...)
		ends = append(ends, len(buf))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !hasPath {
		buf = append(buf, "PATH="+DefaultPath...)
		ends = append(ends, len(buf))
	}
	if !filepath.IsAbs(req.script) {
		return nil, fmt.Errorf("no absolute SCRIPT_FILENAME (%q)", req.script)
	}
	all := string(buf)
	req.env = make([]string, len(ends))
	start := 0
	for i, e := range ends {
		req.env[i] = all[start:e]
		start = e
	}
	return req, nil
}
