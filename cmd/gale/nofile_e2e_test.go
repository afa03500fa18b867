package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// nofileEnv asks TestMain to set RLIMIT_NOFILE and exec gale:
// "SOFT:HARD:PATH-TO-GALE".
const nofileEnv = "GALE_TEST_EXEC_NOFILE"

// execWithNofile sets this process's RLIMIT_NOFILE as spec says and
// replaces the process with gale, which inherits the limit and this
// process's arguments. It does not return.
func execWithNofile(spec string) {
	parts := strings.SplitN(spec, ":", 3)
	var lim syscall.Rlimit
	if len(parts) != 3 {
		fmt.Fprintf(os.Stderr, "%s=%q: want SOFT:HARD:PATH\n", nofileEnv, spec)
		os.Exit(2)
	}
	fmt.Sscan(parts[0], &lim.Cur)
	fmt.Sscan(parts[1], &lim.Max)
	// syscall.Setrlimit also makes exec keep this limit instead of the one
	// the Go runtime found at start.
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		os.Exit(2)
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, nofileEnv+"=") {
			env = append(env, e)
		}
	}
	err := syscall.Exec(parts[2], append([]string{parts[2]}, os.Args[1:]...), env)
	fmt.Fprintln(os.Stderr, "exec gale:", err)
	os.Exit(2)
}

// launchNofile is launch with gale's RLIMIT_NOFILE set to soft:hard: the
// test binary runs itself again, sets the limit and execs gale.
func launchNofile(t *testing.T, soft, hard uint64, addr string, args ...string) *proc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, append([]string{"-listen", addr}, args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%d:%s", nofileEnv, soft, hard, galeBin))
	return launchCmd(t, cmd, addr)
}

// nofileLimit reads pid's soft and hard RLIMIT_NOFILE from /proc.
func nofileLimit(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
	}
	t.Fatalf("no open files limit in /proc/%d/limits:\n%s", pid, b)
	return ""
}

// TestOutOfFDs: a client opens three times as many connections as gale
// may have file descriptors (RLIMIT_NOFILE 64) and holds them, so accept
// fails with EMFILE. gale logs it, stops accepting for a moment and tries
// again, keeps answering the connections it has, serves new ones once the
// client lets go, and never exits. (gnet stops its engine on an accept
// error; gale used to exit 0.) The soft limit, started below the hard one,
// is at the hard one.
func TestOutOfFDs(t *testing.T) {
	testenv.CheckLeaks(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("alpha\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	const soft, hard = 48, 64
	p := launchNofile(t, soft, hard, addr, "-root", root, "-loops", "2")
	p.waitServing(t, 10*time.Second)
	pid := p.cmd.Process.Pid
	if got, want := nofileLimit(t, pid), fmt.Sprintf("%d %d", hard, hard); got != want {
		t.Fatalf("gale's open files limit (soft hard) is %s, want %s", got, want)
	}

	// A keep-alive client from before the flood.
	keep, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	kr := bufio.NewReader(keep)
	if status := askOnce(t, keep, kr); status != 200 {
		t.Fatalf("before the flood: %d", status)
	}

	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < 3*hard; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: %v", i, err)
		}
		held = append(held, c)
		io.WriteString(c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.out.String(), "too many open files") {
		if time.Now().After(deadline) {
			t.Fatalf("gale logged no accept failure with %d connections held:\n%s", len(held), p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // several accept retries
	if !alive(pid) {
		t.Fatalf("gale exited when it ran out of file descriptors:\n%s", p.out)
	}
	// The connection it had is still answered (the status may say that a
	// file could not be opened: there is no fd to open it with).
	status := askOnce(t, keep, kr)
	t.Logf("the kept connection, out of fds: %d", status)

	for _, c := range held {
		c.Close()
	}
	held = nil
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline = time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/a.txt")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == "alpha\n" {
				break
			}
			err = fmt.Errorf("%d %q", resp.StatusCode, body)
		}
		if time.Now().After(deadline) || !alive(pid) {
			t.Fatalf("new connections not served after the flood let go: %v (alive %v)\n%s", err, alive(pid), p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status := askOnce(t, keep, kr); status != 200 {
		t.Fatalf("the kept connection after the flood: %d", status)
	}
	keep.Close()
	client.CloseIdleConnections()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitExit(t, 30*time.Second)
}

// askOnce sends one GET /a.txt on c and returns the response's status.
func askOnce(t *testing.T, c net.Conn, br *bufio.Reader) int {
	t.Helper()
	io.WriteString(c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("request on a kept-alive connection: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
