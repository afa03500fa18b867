// Package cgiexec runs CGI scripts (RFC 3875) as an upstream.Protocol, as
// lighttpd's mod_cgi does, without blocking the event loop.
//
// Each connection the engine asks for (upstream.Dialer) is one end of a
// socketpair; the other end is watched by the package's supervisor (see
// supervisor.go), which reads there the request the engine writes like to
// any backend: a netstring of the CGI variables (FastCGI pair encoding, so
// that every length is explicit), then CONTENT_LENGTH body bytes. It
// starts the script with the variables as its environment, its own end of
// the socketpair as stdout (read on the loop like any upstream
// connection), a pipe fed with exactly the body as stdin (EOF at
// CONTENT_LENGTH, so a script reading to EOF works), and its stderr to
// the error log. The script runs in a process group of its own.
//
// The supervisor then waits for whichever comes first: the script's exit
// (its pidfd) or the engine closing its end (a timeout answered 504, a
// client that left, a shutdown: a hang-up), which kills the group. Either
// way the group is killed once the script exits (what it left running
// would hold resources nobody answers for), the script is reaped, and
// only then is the socketpair closed: the engine's end of the response is
// the end of the process, and no zombie outlives a request. A script that
// cannot start gets a 502 written back with the reason in the log.
package cgiexec

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// DefaultPath is the PATH of a script's environment unless configured.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

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

// New returns a Runner that runs at most maxScripts scripts at once. An
// interpreter in assign named without a path is looked up in PATH now,
// not at every request.
func New(maxScripts int, assign map[string]string, log *slog.Logger) *Runner {
	resolved := make(map[string]string, len(assign))
	for ext, interp := range assign {
		if !filepath.IsAbs(interp) {
			if p, err := exec.LookPath(interp); err == nil {
				interp = p
			}
		}
		resolved[ext] = interp
	}
	return &Runner{Assign: resolved, Log: log, sem: make(chan struct{}, max(maxScripts, 1))}
}

var (
	_ upstream.Protocol   = (*Runner)(nil)
	_ upstream.LoopDialer = (*Runner)(nil)
)

// Name implements upstream.Protocol.
func (r *Runner) Name() string { return "cgi" }

// Caps implements upstream.Protocol: one request per process, whose
// length is stated (a chunked body is received whole first).
func (r *Runner) Caps() upstream.Caps { return upstream.Caps{NeedsLength: true} }

// EncodeHead implements upstream.Protocol: the CGI variables as FastCGI
// pairs inside a netstring, read back by the supervisor.
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

// argv is the command line that runs script: its interpreter by
// extension (lighttpd's cgi.assign), or the script itself.
func (r *Runner) argv(script string) []string {
	if interp := r.Assign[filepath.Ext(script)]; interp != "" {
		return []string{interp, script}
	}
	return []string{script}
}

// dirOf is the directory a script runs in: its own.
func dirOf(script string) string { return filepath.Dir(script) }

// DialFD implements upstream.LoopDialer: a socketpair made on the loop,
// whose far end the supervisor watches. ok is false when no script slot
// is free at once (a killed script still being reaped): Dial waits then.
func (r *Runner) DialFD(*upstream.Backend) (fd int, ok bool, err error) {
	select {
	case r.sem <- struct{}{}:
	default:
		return -1, false, nil
	}
	fd, err = r.pair()
	return fd, true, err
}

// Dial implements upstream.Dialer: DialFD's socketpair, made on the dial's
// goroutine after waiting, within ctx, for a script slot.
func (r *Runner) Dial(ctx context.Context, _ *upstream.Backend) (net.Conn, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("cgi: no script slot free: %w", ctx.Err())
	}
	fd, err := r.pair()
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "cgi")
	c, err := net.FileConn(f) // a dup; gnet dups it again when it enrolls it
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("cgi: %w", err)
	}
	return c, nil
}

// pair makes the socketpair of a script slot the caller holds, hands its
// far end to the supervisor and returns the engine's, non-blocking; on
// an error the slot is free again.
func (r *Runner) pair() (int, error) {
	s, err := theSupervisor()
	if err != nil {
		<-r.sem
		return -1, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		<-r.sem
		return -1, fmt.Errorf("cgi: socketpair: %w", err)
	}
	// The far end becomes the script's stdout: blocking, as a program
	// expects its stdout to be (F_SETFL clears O_NONBLOCK, and only it).
	if _, err = unix.FcntlInt(uintptr(fds[1]), unix.F_SETFL, 0); err == nil {
		err = s.add(r, fds[1])
	}
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		<-r.sem
		return -1, fmt.Errorf("cgi: %w", err)
	}
	return fds[0], nil
}

// logStderr logs the script's stderr, a record per line, with the
// script's name; a line not yet ended waits for its end, up to 4 KiB.
func (sc *script) logStderr(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			sc.errLine = append(sc.errLine, p...)
			if len(sc.errLine) >= 4<<10 {
				sc.flushStderr()
			}
			return
		}
		sc.errLine = append(sc.errLine, p[:i]...)
		sc.flushStderr()
		p = p[i+1:]
	}
}

// flushStderr logs the line logStderr holds, if any.
func (sc *script) flushStderr() {
	if msg := strings.TrimRight(string(sc.errLine), "\r\n"); msg != "" {
		sc.r.log().Warn("cgi stderr", "script", sc.req.script, "msg", msg)
	}
	sc.errLine = sc.errLine[:0]
}
