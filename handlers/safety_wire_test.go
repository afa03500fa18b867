package handlers_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"golang.org/x/sys/unix"
)

// traversalCase is one raw request target and the status gale must answer.
type traversalCase struct {
	rule   string
	target string // request-target, exact bytes
	status int
	body   string // for 200: the exact body
}

// traversalCorpus: attempts to read outside the root or hidden and special
// files inside it. 400 is the parser refusing the target (RFC 3986 section
// 5.2.4 climbing above "/", an encoded '/' or NUL, a broken escape); 404 is
// the static handler not finding, or refusing to serve, the file.
var traversalCorpus = []traversalCase{
	{"control: a file in the root", "/ok.txt", 200, "ok"},
	{"control: dot-segments inside the root are resolved", "/sub/../ok.txt", 200, "ok"},
	{"control: encoded dot-segments inside the root", "/sub/%2e%2e/ok.txt", 200, "ok"},
	{"control: absolute-form inside the root", "http://a/sub/a.txt", 200, "a"},
	{"control: a symlink inside the root", "/in-link.txt", 200, "a"},

	{"RFC 3986 5.2.4: '..' above the root", "/../secret.txt", 400, ""},
	{"RFC 3986 5.2.4: '..' above the root from a subdirectory", "/sub/../../secret.txt", 400, ""},
	{"RFC 3986 2.1: encoded dots %2e%2e", "/%2e%2e/secret.txt", 400, ""},
	{"RFC 3986 2.1: encoded dots, upper case", "/%2E%2E/secret.txt", 400, ""},
	{"RFC 3986 2.1: mixed encoded and raw dots", "/.%2e/secret.txt", 400, ""},
	{"RFC 3986 2.1: mixed, the other way", "/%2e./secret.txt", 400, ""},
	{"RFC 3986 2.1: encoded dots deep", "/sub/%2e%2e/%2E%2e/secret.txt", 400, ""},
	{"RFC 3986 2.1: decoded once: %252e%252e is a name", "/%252e%252e/secret.txt", 404, ""},
	{"RFC 3986 2.1: double-encoded from a subdirectory", "/sub/%252e%252e/%252e%252e/secret.txt", 404, ""},
	{"RFC 3986 2.1: encoded slash", "/..%2fsecret.txt", 400, ""},
	{"RFC 3986 2.1: encoded slash, upper case", "/sub%2F..%2F..%2Fsecret.txt", 400, ""},
	{"POSIX: backslash is a name byte, not a separator", "/..\\secret.txt", 404, ""},
	{"POSIX: backslashes, raw", "/sub\\..\\..\\secret.txt", 404, ""},
	{"POSIX: encoded backslash", "/..%5csecret.txt", 404, ""},
	{"POSIX: encoded backslashes from a subdirectory", "/sub%5c..%5c..%5csecret.txt", 404, ""},
	{"NUL: encoded NUL truncating an extension", "/secret.txt%00.html", 400, ""},
	{"NUL: encoded NUL after a file in the root", "/ok.txt%00", 400, ""},
	{"UTF-8: overlong '.' (%c0%ae) is not a dot", "/%c0%ae%c0%ae/secret.txt", 404, ""},
	{"UTF-8: three-byte overlong '.'", "/%e0%80%ae%e0%80%ae/secret.txt", 404, ""},
	{"UTF-8: overlong '/' (%c0%af)", "/..%c0%afsecret.txt", 404, ""},
	{"IIS: %u escapes are not escapes", "/%u002e%u002e/secret.txt", 400, ""},
	{"RFC 3986 2.1: truncated escape", "/%2", 400, ""},
	{"RFC 9112 3.2.2: '..' in absolute-form", "http://a/../secret.txt", 400, ""},
	{"RFC 9112 3.2.2: encoded '..' in absolute-form", "http://a/sub/%2e%2e/%2e%2e/secret.txt", 400, ""},
	{"RFC 9112 3.2.2: absolute-form naming another host's file", "http://a//secret.txt", 404, ""},
	{"empty segments collapse: no escape through '//'", "//secret.txt", 404, ""},
	{"query does not reach the filesystem", "/ok.txt/../../secret.txt?x", 400, ""},

	{"symlink: file out of the root", "/out.txt", 404, ""},
	{"symlink: absolute, file out of the root", "/abs.txt", 404, ""},
	{"symlink: directory out of the root", "/updir/secret.txt", 404, ""},
	{"symlink: absolute directory out of the root", "/outerdir/secret.txt", 404, ""},
	{"symlink: to /dev/zero", "/zero", 404, ""},
	{"symlink: to /proc/self/environ", "/environ", 404, ""},
	{"symlink: to /etc/passwd", "/passwd", 404, ""},
	{"special: a fifo in the root (must not block the loop)", "/fifo", 404, ""},
	{"special: a fifo, asked twice", "/fifo?again", 404, ""},
	{"special: a character device in the root", "/null", 404, ""},
	{"special: a unix socket in the root", "/sock", 404, ""},
	{"dotfile: .env", "/.env", 404, ""},
	{"dotfile: .git/config", "/.git/config", 404, ""},
	{"dotfile: .git/ directory", "/.git/", 404, ""},
	{"dotfile: .htaccess", "/.htaccess", 404, ""},
	{"dotfile: encoded dot (%2eenv)", "/%2eenv", 404, ""},
	{"dotfile: reached through '..'", "/sub/../.env", 404, ""},
	{"dotfile: in absolute-form", "http://a/.git/config", 404, ""},
}

// TestTraversalOverTheWire sends the corpus on raw sockets to a real gale
// and checks every status and that no response, for any row, carries a
// byte of the secret planted outside the root, of a dotfile, or of the
// process environment. Special files are answered without blocking: the
// fifo has no writer, so opening it without O_NONBLOCK would hang the
// event loop and every later row would time out.
func TestTraversalOverTheWire(t *testing.T) {
	testenv.CheckLeaks(t)
	secret := "GALE-SECRET-" + randHex(t)
	dotSecret := "GALE-DOTFILE-" + randHex(t)
	outer := t.TempDir()
	root := filepath.Join(outer, "www")
	put := func(rel, body string) {
		p := filepath.Join(root, rel)
		check(t, os.MkdirAll(filepath.Dir(p), 0o755))
		check(t, os.WriteFile(p, []byte(body), 0o644))
	}
	check(t, os.WriteFile(filepath.Join(outer, "secret.txt"), []byte(secret), 0o644))
	put("ok.txt", "ok")
	put("sub/a.txt", "a")
	// Names a decoding bug would reach: a literal "%2e%2e" directory and a
	// name with a backslash hold no secret, so reaching them is harmless.
	for _, dot := range []string{".env", ".git/config", ".htaccess"} {
		put(dot, dotSecret)
	}
	check(t, os.Symlink("sub/a.txt", filepath.Join(root, "in-link.txt")))
	check(t, os.Symlink("../secret.txt", filepath.Join(root, "out.txt")))
	check(t, os.Symlink(filepath.Join(outer, "secret.txt"), filepath.Join(root, "abs.txt")))
	check(t, os.Symlink("..", filepath.Join(root, "updir")))
	check(t, os.Symlink(outer, filepath.Join(root, "outerdir")))
	check(t, os.Symlink("/dev/zero", filepath.Join(root, "zero")))
	check(t, os.Symlink("/proc/self/environ", filepath.Join(root, "environ")))
	check(t, os.Symlink("/etc/passwd", filepath.Join(root, "passwd")))
	check(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	sock, err := net.Listen("unix", filepath.Join(root, "sock"))
	check(t, err)
	defer sock.Close()
	hasDevice := true
	if err := unix.Mknod(filepath.Join(root, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		if !errors.Is(err, unix.EPERM) {
			t.Fatal(err)
		}
		hasDevice = false // not root: the device row is skipped
	}

	addr := startStatic(t, root)
	t.Cleanup(func() {
		// Should a loop be stuck opening the fifo for reading (no
		// O_NONBLOCK), a writer's open releases it so the server can
		// shut down and the test fails instead of hanging.
		if fd, err := unix.Open(filepath.Join(root, "fifo"), unix.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			unix.Close(fd)
		}
	})
	env := os.Environ()
	for _, c := range traversalCorpus {
		if c.target == "/null" && !hasDevice {
			t.Logf("%s: skipped, mknod not permitted", c.rule)
			continue
		}
		status, body, raw := rawGet(t, addr, c.target)
		if status != c.status || (c.status == 200 && body != c.body) {
			t.Errorf("%s: GET %s: %d %q, want %d %q", c.rule, c.target, status, body, c.status, c.body)
		}
		for _, leak := range []string{secret, dotSecret} {
			if strings.Contains(raw, leak) {
				t.Errorf("%s: GET %s: the response holds a secret", c.rule, c.target)
			}
		}
		for _, kv := range env {
			if len(kv) > 8 && strings.Contains(raw, kv) {
				t.Errorf("%s: GET %s: the response holds the environment (%.20s...)", c.rule, c.target, kv)
			}
		}
	}
}

// rawGet sends one GET with target as exact bytes and returns the status,
// the body and the whole response as read.
func rawGet(t *testing.T, addr, target string) (int, string, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	check(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(io.LimitReader(c, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: %v (a special file blocking the loop?)", target, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(all))), nil)
	if err != nil {
		t.Fatalf("GET %s: %v in %q", target, err, all)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), string(all)
}

// startStatic runs an in-process gale serving root with the default static
// configuration, and stops it at cleanup.
func startStatic(t *testing.T, root string) string {
	t.Helper()
	static, err := handlers.NewStatic(handlers.DefaultStaticConfig(root))
	check(t, err)
	rt := &handlers.Router{}
	rt.Handle("/", static)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	srv, err := reactor.New(reactor.Config{Addr: addr, Loops: 2, Handler: rt})
	check(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		defer static.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return addr
}

func randHex(t *testing.T) string {
	b := make([]byte, 8)
	_, err := rand.Read(b)
	check(t, err)
	return hex.EncodeToString(b)
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
