package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

var galeBin string

func TestMain(m *testing.M) {
	if spec := os.Getenv(nofileEnv); spec != "" {
		execWithNofile(spec) // a child of launchNofile: becomes gale
	}
	dir, err := os.MkdirTemp("", "gale-e2e-")
	if err != nil {
		panic(err)
	}
	galeBin = filepath.Join(dir, "gale")
	build := exec.Command("go", "build", "-o", galeBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gale:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a gale process under test.
type proc struct {
	cmd  *exec.Cmd
	addr string
	out  *outBuffer
}

// outBuffer collects a process's output; exec copies into it from its own
// goroutine while the test reads it.
type outBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *outBuffer) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *outBuffer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// startGale starts gale on a free port and waits until it accepts.
func startGale(t *testing.T, args ...string) *proc {
	t.Helper()
	p := launch(t, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), args...)
	testenv.WaitPort(t, p.addr, 10*time.Second)
	return p
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestDemoSite: with no -root, gale serves its embedded demo and says where.
func TestDemoSite(t *testing.T) {
	testenv.CheckLeaks(t)
	p := startGale(t)
	resp, body := get(t, p.url("/"))
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("gale is running")) {
		t.Fatalf("demo: %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(p.out.String(), "http://"+p.addr+"/") {
		t.Fatalf("gale did not print its URL; output:\n%s", p.out)
	}
}

// TestSlowReaderLargeFile: a 50 MiB file read slowly arrives intact while
// gale's RSS stays far below the file's size (it streams with sendfile under
// a watermark instead of buffering the file per client).
func TestSlowReaderLargeFile(t *testing.T) {
	testenv.CheckLeaks(t)
	root := t.TempDir()
	data := make([]byte, 50<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startGale(t, "-root", root, "-loops", "1")
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A small receive buffer makes the reader slow in the kernel too.
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	fmt.Fprintf(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	buf := make([]byte, 128<<10)
	var got, peak int64
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		got += int64(n)
		if i%16 == 0 {
			if rss, err := testenv.ProcRSS(p.cmd.Process.Pid); err == nil && rss > peak {
				peak = rss
			}
			time.Sleep(2 * time.Millisecond) // about 1 GiB/s at most: slow against loopback
		}
		if err == io.EOF {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("after %d bytes: %v", got, err)
		}
	}
	if sum := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), sum[:]) || got != int64(len(data)) {
		t.Fatalf("got %d bytes, checksum mismatch", got)
	}
	t.Logf("peak RSS during the download: %.1f MiB", float64(peak)/(1<<20))
	if peak > 40<<20 {
		t.Fatalf("peak RSS %.1f MiB while serving a 50 MiB file to one slow reader", float64(peak)/(1<<20))
	}
}

// TestChangedFileServedFresh: a cached file rewritten on disk is served new
// within a second.
func TestChangedFileServedFresh(t *testing.T) {
	testenv.CheckLeaks(t)
	root := t.TempDir()
	f := filepath.Join(root, "page.html")
	os.WriteFile(f, []byte("version one\n"), 0o644)
	p := startGale(t, "-root", root)
	for i := 0; i < 3; i++ { // cached after the first
		if _, body := get(t, p.url("/page.html")); string(body) != "version one\n" {
			t.Fatalf("got %q", body)
		}
	}
	os.WriteFile(f, []byte("version two, longer\n"), 0o644)
	changed := time.Now()
	for {
		_, body := get(t, p.url("/page.html"))
		if string(body) == "version two, longer\n" {
			break
		}
		if time.Since(changed) > 1100*time.Millisecond {
			t.Fatalf("still stale after %v: %q", time.Since(changed), body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Atomic replace by rename, as deploy tools do.
	tmp := filepath.Join(root, ".page.tmp")
	os.WriteFile(tmp, []byte("version three\n"), 0o644)
	os.Rename(tmp, f)
	changed = time.Now()
	for {
		_, body := get(t, p.url("/page.html"))
		if string(body) == "version three\n" {
			break
		}
		if time.Since(changed) > 1100*time.Millisecond {
			t.Fatalf("still stale after rename: %q", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.Remove(f)
	changed = time.Now()
	for {
		resp, _ := get(t, p.url("/page.html"))
		if resp.StatusCode == 404 {
			break
		}
		if time.Since(changed) > 1100*time.Millisecond {
			t.Fatalf("deleted file still served: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIGTERMDrains: SIGTERM during a download lets it finish, then gale
// exits 0.
func TestSIGTERMDrains(t *testing.T) {
	testenv.CheckLeaks(t)
	root := t.TempDir()
	data := bytes.Repeat([]byte("drain me please!"), 1<<20) // 16 MiB
	os.WriteFile(filepath.Join(root, "big.bin"), data, 0o644)
	p := startGale(t, "-root", root, "-shutdown-timeout", "20s")
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(32 << 10)
	fmt.Fprintf(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for i := 0; ; i++ {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i%8 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if sum := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Fatal("download corrupted across SIGTERM")
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("gale exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gale did not exit after draining")
	}
}
