package cgiexec

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The supervisor watches every script of every Runner from one goroutine,
// in an epoll set of its own that is itself waited on through the Go
// poller (an epoll fd is pollable). Per script it watches:
//   - the runner's end of the socketpair: first for the request head the
//     engine writes there (EPOLLIN), then only for the engine's hang-up (a
//     timeout answered 504, a client gone, a shutdown), which kills the
//     script's process group;
//   - the script's pidfd: its exit, on which what it left running in its
//     group is killed (its ID, the group's, cannot have been reused while
//     it is a zombie) and it is reaped;
//   - its stderr pipe, whose lines go to the error log, naming the script.
//
// So a running script costs no goroutine and no thread (only a request
// with a body gets a goroutine, which feeds the script's stdin), and the
// event loop never blocks: it writes the request into its end of the
// socketpair and reads the response from it, like any upstream
// connection. os/exec would cost a goroutine and a blocked thread per
// script for its wait and its stderr, and lock-step handoffs between them
// and the loop: more CPU than the rest of the request (see the package
// comment for the figures).
type supervisor struct {
	epfd    int
	devNull int // every script without a body reads this as stdin
	f       *os.File

	mu      sync.Mutex
	watched map[int32]*script // by fd: a script's end, pidfd and stderr
	seq     uint32            // the next script's; stale events carry an older one

	ev  [64]unix.EpollEvent
	buf [64 << 10]byte
}

var (
	supOnce sync.Once
	sup     *supervisor
	supErr  error
)

// Start starts the process's supervisor now rather than at the first CGI
// request: its goroutine and its two fds (its epoll set, /dev/null) live
// as long as the process. Tests that count goroutines and fds call it
// before they count. Calling it again does nothing.
func Start() error {
	_, err := theSupervisor()
	return err
}

// theSupervisor starts the process's supervisor on first use.
func theSupervisor() (*supervisor, error) {
	supOnce.Do(func() { sup, supErr = startSupervisor() })
	return sup, supErr
}

func startSupervisor() (*supervisor, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("cgi: epoll_create1: %w", err)
	}
	devNull, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("cgi: %s: %w", os.DevNull, err)
	}
	s := &supervisor{epfd: epfd, devNull: devNull, watched: make(map[int32]*script)}
	if err := unix.SetNonblock(epfd, true); err == nil {
		s.f = os.NewFile(uintptr(epfd), "cgi-supervisor") // pollable: non-blocking
	}
	go s.run()
	return s, nil
}

// run harvests events forever: through the Go poller when it took the
// epoll fd, else blocking in epoll_wait on this goroutine's thread.
func (s *supervisor) run() {
	if s.f != nil {
		if rc, err := s.f.SyscallConn(); err == nil {
			err = rc.Read(func(uintptr) bool {
				for s.harvest(0) > 0 {
				}
				return false // wait until the set has events again
			})
			_ = err // not pollable after all: block below
		}
	}
	for {
		s.harvest(-1)
	}
}

// harvest handles the events ready within msec and returns how many.
func (s *supervisor) harvest(msec int) int {
	n, err := unix.EpollWait(s.epfd, s.ev[:], msec)
	if err == unix.EINTR {
		return 1 // look again
	}
	if err != nil {
		return 0
	}
	for i := range n {
		ev := &s.ev[i]
		s.mu.Lock()
		sc := s.watched[ev.Fd]
		s.mu.Unlock()
		if sc == nil || sc.seq != uint32(ev.Pad) {
			continue // a closed fd's event, or its number's earlier owner's
		}
		switch int(ev.Fd) {
		case sc.end:
			s.onEnd(sc, ev.Events)
		case sc.pidfd:
			s.onExit(sc)
		case sc.errR:
			s.onStderr(sc)
		}
	}
	return n
}

// watch adds fd, one of sc's, to the set for events.
func (s *supervisor) watch(sc *script, fd int, events uint32) error {
	s.mu.Lock()
	s.watched[int32(fd)] = sc
	s.mu.Unlock()
	ev := unix.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(sc.seq)}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		s.forget(fd)
		return err
	}
	return nil
}

// forget removes fd from the set before it is closed: the set would keep a
// file another process still holds (the script's stdout is end's file).
func (s *supervisor) forget(fd int) {
	s.mu.Lock()
	delete(s.watched, int32(fd))
	s.mu.Unlock()
	unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// closeFD forgets fd and closes it.
func (s *supervisor) closeFD(fd int) {
	s.forget(fd)
	unix.Close(fd)
}

// closeOwn closes fd, a file no other process holds (a pidfd, the read
// end of a stderr pipe): its close takes it out of the set, no
// EPOLL_CTL_DEL needed.
func (s *supervisor) closeOwn(fd int) {
	s.mu.Lock()
	delete(s.watched, int32(fd))
	s.mu.Unlock()
	unix.Close(fd)
}

// add watches end, the runner's end of a new socketpair, for r's next
// request.
func (s *supervisor) add(r *Runner, end int) error {
	s.mu.Lock()
	s.seq++
	sc := &script{r: r, sup: s, seq: s.seq, end: end, pidfd: -1, errR: -1}
	s.mu.Unlock()
	sc.holds.Store(1)
	return s.watch(sc, end, unix.EPOLLIN)
}

// phase is where a script is in its life.
type phase uint8

const (
	phHead    phase = iota // the request head arriving on end
	phRunning              // the script runs
	phDone                 // reaped, or never started: end closes once nothing holds it
)

// script is one request's script, from its head to its reaping.
type script struct {
	r     *Runner
	sup   *supervisor
	seq   uint32
	end   int // the runner's end of the socketpair: the script's stdout
	phase phase
	head  []byte // the request head so far (phHead)
	req   *request

	pid, pidfd, errR int
	killed           bool   // the engine hung up first: the group was killed
	errLine          []byte // a stderr line not yet ended

	// holds counts who still uses end: the supervisor until the script
	// is reaped, and a body's feeder until the engine's body is read.
	holds atomic.Int32
}

// onEnd handles end's events: the head's bytes, or the engine's hang-up.
func (s *supervisor) onEnd(sc *script, events uint32) {
	switch sc.phase {
	case phHead:
		n, _, err := unix.Recvfrom(sc.end, s.buf[:], unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			return
		case err != nil:
			sc.r.log().Error("cgi: reading the request from the engine", "err", err)
			sc.abandon()
			return
		case n == 0:
			sc.abandon() // the engine closed a connection it did not use
			return
		}
		sc.head = append(sc.head, s.buf[:n]...)
		head, rest, err := splitNetstring(sc.head)
		if err == errShort {
			if len(sc.head) > maxHead+16 {
				err = fmt.Errorf("request head over %d bytes", maxHead)
			} else {
				return
			}
		}
		if err != nil {
			sc.r.log().Error("cgi: bad request from the engine", "err", err)
			sc.abandon()
			return
		}
		sc.start(head, rest)
	case phRunning:
		// Only a hang-up (the engine closed its end) ends the script: not
		// a half-close, which would leave the response wanted.
		if events&(unix.EPOLLHUP|unix.EPOLLERR) == 0 {
			sc.hangupOnly() // bytes after the head of a request without a body
			return
		}
		unix.Kill(-sc.pid, unix.SIGKILL)
		sc.killed = true
		sc.r.log().Info("cgi: script killed: its request ended first (timeout, client gone or shutdown)", "script", sc.req.script, "pid", sc.pid)
		s.forget(sc.end) // level-triggered: the hang-up would be reported again
	}
}

// hangupOnly stops watching end for input: its hang-up is still reported.
func (sc *script) hangupOnly() {
	ev := unix.EpollEvent{Events: 0, Fd: int32(sc.end), Pad: int32(sc.seq)}
	unix.EpollCtl(sc.sup.epfd, unix.EPOLL_CTL_MOD, sc.end, &ev)
}

// abandon ends a script that never started.
func (sc *script) abandon() {
	sc.phase = phDone
	sc.head = nil
	sc.release()
}

// release drops a hold on end; the last one closes it and frees the slot.
func (sc *script) release() {
	if sc.holds.Add(-1) == 0 {
		sc.sup.closeFD(sc.end)
		<-sc.r.sem
	}
}

// start runs the script of the request whose head is whole; rest is what
// followed the head in the same reads: the start of the body.
func (sc *script) start(head, rest []byte) {
	s, r := sc.sup, sc.r
	req, err := parseHead(head)
	if err != nil {
		r.log().Error("cgi: bad request from the engine", "err", err)
		sc.abandon()
		return
	}
	sc.req = req
	rest = rest[:min(int64(len(rest)), max(req.length, 0))]
	sc.head = nil // rest stays a view of its array, for the feeder
	stdin, feedW := s.devNull, -1
	var p [2]int
	if req.length > 0 {
		if err = unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			sc.refuse(req, rest, err)
			return
		}
		stdin, feedW = p[0], p[1]
	}
	var e [2]int
	if err = unix.Pipe2(e[:], unix.O_CLOEXEC); err != nil {
		if feedW >= 0 {
			unix.Close(stdin)
			unix.Close(feedW)
		}
		sc.refuse(req, rest, err)
		return
	}
	pidfd := -1
	argv := r.argv(req.script)
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir:   dirOf(req.script), // RFC 3875 section 7.2; Apache and lighttpd do it
		Env:   req.env,
		Files: []uintptr{uintptr(stdin), uintptr(sc.end), uintptr(e[1])},
		Sys:   &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd},
	})
	unix.Close(e[1])
	if feedW >= 0 {
		unix.Close(stdin)
	}
	if err != nil {
		unix.Close(e[0])
		if feedW >= 0 {
			unix.Close(feedW)
		}
		sc.refuse(req, rest, err)
		return
	}
	sc.pid, sc.errR, sc.phase = pid, e[0], phRunning
	if pidfd < 0 {
		pidfd, err = sc.exitNotice()
	}
	if err == nil {
		err = s.watch(sc, pidfd, unix.EPOLLIN)
	}
	if err != nil {
		// Nothing would ever reap it: end it now, as a timeout would.
		r.log().Error("cgi: cannot watch the script", "script", req.script, "err", err)
		unix.Kill(-pid, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
		unix.Close(e[0])
		if feedW >= 0 {
			unix.Close(feedW)
		}
		sc.refuse(req, rest, err)
		return
	}
	sc.pidfd = pidfd
	if err := s.watch(sc, sc.errR, unix.EPOLLIN); err != nil {
		r.log().Warn("cgi: the script's stderr is not read", "script", req.script, "err", err)
		unix.Close(sc.errR)
		sc.errR = -1
	}
	// From now on end is only the script's stdout to the engine: its
	// hang-up is all that is watched. Without a body nothing more arrives
	// (onEnd stops reading if something does); a body is the feeder's to
	// read, so only the hang-up (always reported) is asked for.
	if feedW >= 0 {
		sc.hangupOnly()
		sc.holds.Add(1)
		go sc.feed(feedW, rest, req.length)
	}
}

// exitNotice is start's fallback where the kernel gives no pidfd (before
// Linux 5.3): an eventfd, watched in the pidfd's place, that a goroutine
// signals once the script has exited (and is still a zombie: its group's
// ID cannot be reused before onExit kills the group).
func (sc *script) exitNotice() (int, error) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return -1, err
	}
	go func() {
		var info unix.Siginfo
		for unix.Waitid(unix.P_PID, sc.pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
		}
		writeAll(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}()
	return efd, nil
}

// refuse answers a request whose script could not start with a 502, and
// logs why: on a goroutine, because the body must be read first.
func (sc *script) refuse(req *request, rest []byte, err error) {
	sc.r.log().Error("cgi: cannot run script", "script", req.script, "err", err)
	sc.phase = phDone
	sc.sup.forget(sc.end)
	go func() {
		drain(sc.end, req.length-int64(len(rest)))
		writeAll(sc.end, []byte("Status: 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n502 Bad Gateway\n"))
		sc.release()
	}()
}

// onExit reaps an exited script: its group killed first, its stderr read
// to the end, its exit logged unless it succeeded or was killed.
func (s *supervisor) onExit(sc *script) {
	if sc.phase != phRunning {
		return
	}
	unix.Kill(-sc.pid, unix.SIGKILL) // what it left running in its group
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(sc.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	if sc.pidfd >= 0 {
		s.closeOwn(sc.pidfd)
		sc.pidfd = -1
	}
	if sc.errR >= 0 {
		// What it wrote before it exited is in the pipe: read it without
		// waiting for an EOF that something it left may withhold.
		if n, err := unix.IoctlGetInt(sc.errR, unix.TIOCINQ); err == nil && n > 0 { // TIOCINQ is FIONREAD
			s.onStderr(sc)
		}
		sc.flushStderr()
		if sc.errR >= 0 {
			s.closeOwn(sc.errR)
			sc.errR = -1
		}
	}
	if !sc.killed && (ws.Signaled() || ws.ExitStatus() != 0) {
		sc.r.log().Warn("cgi: script exited with an error", "script", sc.req.script, "status", waitString(ws))
	}
	sc.phase = phDone
	sc.release()
}

// onStderr reads what the script wrote to stderr and logs its lines.
func (s *supervisor) onStderr(sc *script) {
	n, err := unix.Read(sc.errR, s.buf[:])
	if err == unix.EINTR || err == unix.EAGAIN {
		return
	}
	if n <= 0 {
		sc.flushStderr()
		s.closeOwn(sc.errR)
		sc.errR = -1
		return
	}
	sc.logStderr(s.buf[:n])
}

// waitString renders an exit status as os.ProcessState does.
func waitString(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "signal: " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// feed writes the request body, n bytes, to the script's stdin: first
// rest, what came with the head, then the rest of end. It closes stdin at
// n (EOF). What the script does not read is drained, so the engine's
// writes complete.
func (sc *script) feed(stdin int, rest []byte, n int64) {
	defer sc.release()
	ok := writeAll(stdin, rest) == nil
	left := n - int64(len(rest))
	buf := make([]byte, 32<<10)
	for ok && left > 0 {
		k, err := unix.Read(sc.end, buf[:min(int64(len(buf)), left)])
		if err == unix.EINTR {
			continue
		}
		if k <= 0 {
			break // the engine hung up
		}
		left -= int64(k)
		ok = writeAll(stdin, buf[:k]) == nil
	}
	unix.Close(stdin)
	drain(sc.end, left)
}

// writeAll writes b to the blocking fd.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// drain reads and drops n bytes of the blocking fd, or until it ends.
func drain(fd int, n int64) {
	var buf [8 << 10]byte
	for n > 0 {
		k, err := unix.Read(fd, buf[:min(int64(len(buf)), n)])
		if err == unix.EINTR {
			continue
		}
		if k <= 0 {
			return
		}
		n -= int64(k)
	}
}
