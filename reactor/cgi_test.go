package reactor_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/testenv"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgiexec"
)

// The CGI supervisor lives as long as the process: started before any
// test counts goroutines and fds, it is not a leak of the first CGI test.
func init() {
	if err := cgiexec.Start(); err != nil {
		panic(err)
	}
}

// cgiScripts are the scripts of the CGI tests, below cgi-bin/ (mode 0755
// unless named *.noexec; *.py and *.php are run by their interpreters).
var cgiScripts = map[string]string{
	"env.sh": `#!/bin/sh
printf 'Content-Type: text/plain\r\nX-Script: %s\r\n\r\n' "$SCRIPT_NAME"
echo "method=$REQUEST_METHOD info=$PATH_INFO q=$QUERY_STRING cl=$CONTENT_LENGTH gw=$GATEWAY_INTERFACE host=$HTTP_HOST path=$PATH te=${HTTP_TRANSFER_ENCODING-unset}"
echo "cwd=$(pwd)"
echo "to stderr from env.sh" >&2
`,
	"cat.sh": `#!/bin/sh
printf 'Status: 201 Created\r\nContent-Type: application/octet-stream\r\n\r\n'
cat
`,
	"sum.py": `import hashlib, os, sys
body = sys.stdin.buffer.read()
sys.stdout.write("Content-Type: text/plain\r\n\r\n")
sys.stdout.write("len=%d cl=%s sha256=%s" % (len(body), os.environ.get("CONTENT_LENGTH"), hashlib.sha256(body).hexdigest()))
`,
	"hello.php":    `<?php header("X-Powered: php-cgi"); echo "php ", $_SERVER["REQUEST_METHOD"], " ", $_GET["x"] ?? "", " ", $_SERVER["PATH_INFO"] ?? "";`,
	"nph-hi.sh":    "#!/bin/sh\nprintf 'HTTP/1.1 203 Non-Authoritative\\r\\nContent-Type: text/plain\\r\\n\\r\\nnph body'\n",
	"local.sh":     "#!/bin/sh\nprintf 'Location: /static.txt\\r\\n\\r\\n'\n",
	"silent.sh":    "#!/bin/sh\nexit 3\n",
	"garbage.sh":   "#!/bin/sh\necho 'this is no header'\necho\n",
	"sleep.sh":     "#!/bin/sh\nsleep 30.77\necho 'Content-Type: text/plain'\necho\necho late\n",
	"nap.sh":       "#!/bin/sh\nsleep 0.05\nprintf 'Content-Type: text/plain\\r\\n\\r\\nnapped'\n",
	"rest.sh":      "#!/bin/sh\nsleep 1\nprintf 'Content-Type: text/plain\\r\\n\\r\\nrested'\n",
	"plain.noexec": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho ran\n",
}

// startCGI runs gale with a CGI location over cgi-bin/ (prefix mode, or
// by extension when exts is given) and the scripts above, at most
// maxScripts at once, and returns it with its error log.
func startCGI(t *testing.T, maxScripts int, readTimeout time.Duration, exts ...string) (*server, *logBuffer) {
	t.Helper()
	testenv.CheckLeaks(t)
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "cgi-bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range cgiScripts {
		mode := os.FileMode(0o755)
		if strings.HasSuffix(name, ".noexec") {
			mode = 0o644
		}
		if err := os.WriteFile(filepath.Join(root, "cgi-bin", name), []byte(src), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "static.txt"), []byte("static file"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	runner := cgiexec.New(maxScripts, map[string]string{".py": "/usr/bin/python3", ".php": phpCGI(t)}, log)
	u := &upstream.Upstream{Name: "cgi", Protocol: runner, Backends: []*upstream.Backend{{Network: "cgi", Address: "cgi-bin"}},
		MaxConns: maxScripts, ReadTimeout: readTimeout}
	u.Init(2)
	static, err := handlers.NewStatic(handlers.DefaultStaticConfig(root))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { static.Close() })
	rt := &handlers.Router{}
	rt.Handle("/", static)
	h := &handlers.CGI{Static: static, Upstream: u, Root: root, Exts: exts, Internal: static}
	if len(exts) > 0 {
		for _, e := range exts {
			rt.HandleExt(e, h)
		}
	} else {
		rt.Handle("/cgi-bin/", h)
	}
	s := startWith(t, reactor.Config{Handler: rt, Logger: log}, nil, nil)
	s.root = root
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gale log:\n%s", lastLines(logs.String(), 30))
		}
	})
	return s, logs
}

// phpCGI is Debian's php-cgi (make test-deps installs it).
func phpCGI(t *testing.T) string {
	const p = "/usr/bin/php-cgi"
	if _, err := os.Stat(p); err != nil {
		t.Fatal("php-cgi is not installed (make test-deps)")
	}
	return p
}

// do sends a request and returns the response with its body.
func do(t *testing.T, method, url string, body io.Reader, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestCGIScripts: shell, Python (by /usr/bin/python3) and PHP (by php-cgi)
// scripts: the RFC 3875 variables, PATH_INFO, the body on stdin with EOF
// at its end (cat), a chunked upload with its exact CONTENT_LENGTH, stderr
// in the error log, the script's directory as working directory.
func TestCGIScripts(t *testing.T) {
	s, logs := startCGI(t, 4, 10*time.Second)
	resp, body := do(t, "GET", s.url("/cgi-bin/env.sh/extra/path?a=1&b=2"), nil)
	body = strings.Replace(body, " cl=0 ", " cl= ", 1) // no body: either is RFC 3875's "NULL"
	want := "method=GET info=/extra/path q=a=1&b=2 cl= gw=CGI/1.1 host=" + s.addr + " path=" + cgiexec.DefaultPath + " te=unset\ncwd=" + filepath.Join(s.root, "cgi-bin") + "\n"
	if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Script") != "/cgi-bin/env.sh" {
		t.Fatalf("env.sh: %d %q %q\nwant %q", resp.StatusCode, resp.Header, body, want)
	}
	if !strings.Contains(logs.String(), "to stderr from env.sh") {
		t.Errorf("the script's stderr is not in the log")
	}
	resp, body = do(t, "POST", s.url("/cgi-bin/cat.sh"), strings.NewReader("posted bytes"))
	if resp.StatusCode != 201 || body != "posted bytes" {
		t.Fatalf("cat.sh: %d %q", resp.StatusCode, body)
	}
	// Chunked (no length): the script sees the exact length, reads to EOF.
	resp, body = do(t, "PUT", s.url("/cgi-bin/cat.sh"), io.MultiReader(strings.NewReader("chunk one,"), strings.NewReader(" chunk two")))
	if resp.StatusCode != 201 || body != "chunk one, chunk two" {
		t.Fatalf("chunked cat.sh: %d %q", resp.StatusCode, body)
	}
	big := make([]byte, 3<<20)
	rand.Read(big)
	sum := sha256.Sum256(big)
	resp, body = do(t, "POST", s.url("/cgi-bin/sum.py"), bytes.NewReader(big))
	if want := fmt.Sprintf("len=%d cl=%d sha256=%s", len(big), len(big), hex.EncodeToString(sum[:])); body != want {
		t.Fatalf("sum.py: %d %q, want %q", resp.StatusCode, body, want)
	}
	resp, body = do(t, "GET", s.url("/cgi-bin/hello.php/more?x=42"), nil)
	if resp.StatusCode != 200 || body != "php GET 42 /more" || resp.Header.Get("X-Powered") != "php-cgi" {
		t.Fatalf("hello.php: %d %q %q", resp.StatusCode, resp.Header, body)
	}
	// A directory, a missing script, a dotfile: 404, never a file served.
	for _, p := range []string{"/cgi-bin/", "/cgi-bin/nope.sh", "/cgi-bin/.hidden"} {
		if resp, _ := do(t, "GET", s.url(p), nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestCGIResponses: an nph script's status line, a local redirect served
// internally, and the clear 502s: a script that is not executable, one
// that prints nothing, one that prints no header.
func TestCGIResponses(t *testing.T) {
	s, logs := startCGI(t, 4, 10*time.Second)
	resp, body := do(t, "GET", s.url("/cgi-bin/nph-hi.sh"), nil)
	if resp.StatusCode != 203 || body != "nph body" {
		t.Fatalf("nph: %d %q", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", s.url("/cgi-bin/local.sh"), nil)
	if resp.StatusCode != 200 || body != "static file" {
		t.Fatalf("local redirect: %d %q", resp.StatusCode, body)
	}
	for _, p := range []string{"/cgi-bin/plain.noexec", "/cgi-bin/silent.sh", "/cgi-bin/garbage.sh"} {
		if resp, _ := do(t, "GET", s.url(p), nil); resp.StatusCode != 502 {
			t.Errorf("%s: %d, want 502", p, resp.StatusCode)
		}
	}
	for _, want := range []string{"cgi: cannot run script", "plain.noexec", "permission denied", "ended without a head", "exit status 3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestCGIByExtension: a location by extension runs *.sh scripts anywhere
// below the root, PATH_INFO after the script.
func TestCGIByExtension(t *testing.T) {
	s, _ := startCGI(t, 2, 10*time.Second, ".sh")
	resp, body := do(t, "GET", s.url("/cgi-bin/env.sh/p"), nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "method=GET info=/p ") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if resp, body := do(t, "GET", s.url("/static.txt"), nil); body != "static file" {
		t.Fatalf("static: %d %q", resp.StatusCode, body)
	}
}

// scriptProcs counts the scripts alive whose command line holds marker
// (process groups: a shell's child before its exec has the shell's
// command line), and the zombies among this process's children.
func scriptProcs(marker string) (live, zombies int) {
	self := strconv.Itoa(os.Getpid())
	groups := map[string]bool{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 3 {
			continue
		}
		if f[0] == "Z" && f[1] == self {
			zombies++
			continue
		}
		if cmd, err := os.ReadFile("/proc/" + d.Name() + "/cmdline"); err == nil && bytes.Contains(cmd, []byte(marker)) {
			groups[f[2]] = true
		}
	}
	return len(groups), zombies
}

// TestCGITimeoutKillsGroup: a script silent past the timeout gets a 504,
// and it and its child (the sleep) are killed; nothing is left, no zombie.
func TestCGITimeoutKillsGroup(t *testing.T) {
	s, logs := startCGI(t, 2, 400*time.Millisecond)
	start := time.Now()
	resp, _ := do(t, "GET", s.url("/cgi-bin/sleep.sh"), nil)
	if resp.StatusCode != 504 || time.Since(start) > 3*time.Second {
		t.Fatalf("%d after %v, want 504 soon after 400ms", resp.StatusCode, time.Since(start))
	}
	var live, zombies int
	for i := 0; i < 100; i++ {
		if live, zombies = scriptProcs("30.77"); live+zombies == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if live+zombies > 0 {
		t.Fatalf("after the timeout: %d processes left, %d zombies", live, zombies)
	}
	if !strings.Contains(logs.String(), "script killed") {
		t.Errorf("the kill is not logged")
	}
}

// TestCGICap: 200 concurrent requests to a script, at most 8 at once: all
// answered, never more than 8 script processes (counted in /proc while
// they run), none left after, no zombie, no fd or goroutine leaked
// (CheckLeaks).
func TestCGICap(t *testing.T) {
	const maxScripts, clients = 8, 200
	s, _ := startCGI(t, maxScripts, 10*time.Second)
	var peak atomic.Int32
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n, _ := scriptProcs("nap.sh"); int32(n) > peak.Load() {
				peak.Store(int32(n))
			}
		}
	}()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(s.url("/cgi-bin/nap.sh"))
			if err != nil {
				bad.Add(1)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "napped" {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	if bad.Load() > 0 {
		t.Fatalf("%d of %d requests failed", bad.Load(), clients)
	}
	if p := peak.Load(); p > maxScripts || p == 0 {
		t.Fatalf("peak of %d script processes, cap %d", p, maxScripts)
	}
	t.Logf("peak %d script processes", peak.Load())
	if live, zombies := scriptProcs("nap.sh"); live+zombies > 0 {
		t.Fatalf("%d scripts left, %d zombies", live, zombies)
	}
}

// TestCGIRunningScriptsCostNoGoroutine: a running script is watched, not
// waited for: 8 scripts running at once add no goroutine per script (the
// os/exec runner this replaced held three each: its request, its wait and
// its stderr), and each still answers.
func TestCGIRunningScriptsCostNoGoroutine(t *testing.T) {
	const n = 8
	s, _ := startCGI(t, n, 10*time.Second)
	before := runtime.NumGoroutine()
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /cgi-bin/rest.sh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	deadline := time.Now().Add(900 * time.Millisecond)
	for live, _ := scriptProcs("rest.sh"); live < n; live, _ = scriptProcs("rest.sh") {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d scripts running", live, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if grew := runtime.NumGoroutine() - before; grew >= n {
		t.Errorf("%d scripts running: %d goroutines more", n, grew)
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil || !bytes.HasPrefix(b, []byte("HTTP/1.1 200 ")) || !bytes.Contains(b, []byte("rested")) {
			t.Fatalf("answer %q, %v", b, err)
		}
	}
}
