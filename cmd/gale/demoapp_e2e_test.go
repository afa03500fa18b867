package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestDemoApp: with no -root and no -fastcgi, gale runs `gale fcgi-demo`
// as a child and serves /app/ from it over FastCGI; a killed child is
// restarted and /app/ works again; SIGTERM to gale stops the child too.
func TestDemoApp(t *testing.T) {
	testenv.CheckLeaks(t)
	p := startGale(t)
	if _, body := get(t, p.url("/")); !bytes.Contains(body, []byte(`href="/app/"`)) {
		t.Errorf("demo index has no link to /app/:\n%s", body)
	}
	if resp, body := get(t, p.url("/app/?q=1")); resp.StatusCode != 200 ||
		!bytes.Contains(body, []byte("<h1>gale FastCGI demo</h1>")) || !bytes.Contains(body, []byte("<td>q=1</td>")) {
		t.Fatalf("/app/: %d %q", resp.StatusCode, body)
	}
	payload := make([]byte, 300<<10)
	rand.Read(payload)
	sum := sha256.Sum256(payload)
	want := string(payload) + "sha256=" + hex.EncodeToString(sum[:]) + "\n"
	if body := postEcho(t, p, payload); body != want {
		t.Fatalf("/app/echo: got %d bytes, want %d (payload and its SHA-256)", len(body), len(want))
	}

	pid := demoChild(t, p.cmd.Process.Pid)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// While the app restarts gale answers 502 at once: nothing hangs.
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		status, body, err := fetch(client, p.url("/app/"))
		if err != nil {
			t.Fatalf("/app/ %v after the demo app was killed: %v", time.Since(killed).Round(time.Millisecond), err)
		}
		if status == 200 && bytes.Contains(body, []byte("gale FastCGI demo")) {
			break
		}
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("/app/ still %d 2 s after the demo app was killed", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("/app/ back %v after the kill", time.Since(killed).Round(time.Millisecond))
	again := demoChild(t, p.cmd.Process.Pid)
	if again == pid {
		t.Fatalf("demo app pid %d did not change across the restart", pid)
	}
	if body := postEcho(t, p, payload); body != want {
		t.Fatalf("/app/echo after the restart: got %d bytes, want %d", len(body), len(want))
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(p, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if alive(again) {
		t.Fatalf("demo app %d still running after gale exited", again)
	}
}

func fetch(c *http.Client, url string) (int, []byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes(), err
}

func postEcho(t *testing.T, p *proc, payload []byte) string {
	t.Helper()
	resp, err := http.Post(p.url("/app/echo"), "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("/app/echo: %d %q", resp.StatusCode, b.Bytes())
	}
	return b.String()
}

// demoChild finds the pid of gale's `fcgi-demo` child in /proc.
func demoChild(t *testing.T, parent int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		i := bytes.LastIndexByte(stat, ')')
		var state byte
		var ppid int
		if i < 0 {
			continue
		}
		if _, err := fmt.Sscanf(string(stat[i+1:]), " %c %d", &state, &ppid); err != nil || ppid != parent || state == 'Z' {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), "fcgi-demo") {
			return pid
		}
	}
	t.Fatalf("no fcgi-demo child of gale (pid %d)", parent)
	return 0
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func waitExit(p *proc, within time.Duration) error {
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("gale exited with %v", err)
		}
		return nil
	case <-time.After(within):
		return fmt.Errorf("gale did not exit within %v", within)
	}
}

// TestFCGIDemoSubcommand: `gale fcgi-demo` replaces a stale socket, serves
// the demo application to a gale started with -fastcgi, and exits 0 on
// SIGTERM, removing its socket; a live socket is not stolen.
func TestFCGIDemoSubcommand(t *testing.T) {
	testenv.CheckLeaks(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close() // the file stays, nobody listens: as after a crash

	app := exec.Command(galeBin, "fcgi-demo", "-listen", "unix:"+sock)
	var out bytes.Buffer
	app.Stdout, app.Stderr = &out, &out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if app.ProcessState == nil {
			app.Process.Kill()
			app.Wait()
		}
	})
	waitUnix(t, sock)

	second := exec.Command(galeBin, "fcgi-demo", "-listen", "unix:"+sock)
	if msg, err := second.CombinedOutput(); err == nil || !strings.Contains(string(msg), "another process") {
		t.Errorf("second fcgi-demo on a live socket: %v %q", err, msg)
	}

	// Unknown paths go to the application, which routes on REQUEST_URI.
	p := startGale(t, "-root", t.TempDir(), "-fastcgi", "unix:"+sock)
	if resp, body := get(t, p.url("/app/sleep?ms=5")); resp.StatusCode != 200 || string(body) != "slept 5 ms\n" {
		t.Fatalf("through -fastcgi: %d %q", resp.StatusCode, body)
	}

	if err := app.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := app.Wait(); err != nil {
		t.Fatalf("fcgi-demo exited with %v: %s", err, out.String())
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

func waitUnix(t *testing.T, path string) {
	t.Helper()
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return
		}
		if i == 250 {
			t.Fatalf("nothing listens on %s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
