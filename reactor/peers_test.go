package reactor_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// startPeer runs a real peer (uWSGI, gunicorn) until the test ends and
// returns the loopback address it listens on: "ADDR" in args is replaced
// by a free one, and startPeer waits for it to accept. At the end the peer
// gets SIGTERM, then SIGKILL after 5 s; its output is logged when the
// test failed.
func startPeer(t *testing.T, bin string, args ...string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	args = append([]string(nil), args...)
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "ADDR", addr)
	}
	runPeer(t, bin, args...)
	testenv.WaitPort(t, addr, 10*time.Second)
	return addr
}

// runPeer starts bin with args until the test ends (SIGTERM, then SIGKILL
// after 5 s) and returns its output, which is logged when the test failed.
func runPeer(t *testing.T, bin string, args ...string) *logBuffer {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s is not installed (make test-deps)", bin)
	}
	cmd := exec.Command(path, args...)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), lastLines(out.String(), 20))
		}
	})
	return out
}

// writeApp writes a Python application's source to app.py in a fresh
// directory and returns its path.
func writeApp(t *testing.T, src string) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "app.py")
	if err := os.WriteFile(app, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

// startUWSGIApp runs Debian's uWSGI with its python3 plugin (2 processes,
// logging off) serving the WSGI application src, with the socket option
// and the rest in args ("ADDR" is the address); it returns the address.
func startUWSGIApp(t *testing.T, src string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(uwsgiPlugin); err != nil {
		t.Fatalf("uWSGI's python3 plugin is missing (make test-deps): %v", err)
	}
	return startPeer(t, "uwsgi", append([]string{"--plugin", "python3", "--wsgi-file", writeApp(t, src),
		"--master", "--processes", "2", "--die-on-term", "--disable-logging"}, args...)...)
}
