package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// writeFile writes name under dir (creating directories) and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	// Write and rename: a reload never reads half a file.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// fetchHost GETs path from p with the Host header set to host.
func fetchHost(c *http.Client, p *proc, host, path string) (int, string, error) {
	req, err := http.NewRequest("GET", p.url(path), nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestConfigCheck: `gale -t` accepts the annotated example and reports
// each error of a bad file as FILE:LINE:COL: message, exiting 1.
func TestConfigCheck(t *testing.T) {
	out, err := exec.Command(galeBin, "-t", "-config", "../../examples/gale.yaml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("examples/gale.yaml: %v\n%s", err, out)
	}
	bad := writeFile(t, t.TempDir(), "bad.yaml", `listen: localhost
loops: many
timeouts:
  idel: 3s
upstreams:
  php: {backends: [unix:/run/php.sock]}
vhosts:
  - root: /nonexistent/gale
    locations:
      - prefix: /
        fastcgi: {upstream: pgp}
`)
	out, err = exec.Command(galeBin, "-t", "-config", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("bad config: want exit status 1, got %v\n%s", err, out)
	}
	want := []string{
		bad + `:1:9: listen: bad address "localhost"`,
		bad + `:2:8: loops: want an integer, got "many"`,
		bad + `:4:3: unknown key "idel" in timeouts`,
		bad + `:8:11: vhosts[0].root: /nonexistent/gale: no such file or directory`,
		bad + `:11:29: vhosts[0].locations[0].fastcgi.upstream: no upstream named "pgp"`,
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(want)+1 || !strings.Contains(lines[len(lines)-1], "test failed") {
		t.Fatalf("want %d error lines and a verdict, got:\n%s", len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start %q", i+1, lines[i], w)
		}
	}
}

// TestConfigVHostsAndSpawnedBackends: a configuration with two vhosts
// (exact and wildcard names, a default), prefix and extension locations,
// and two spawned upstreams: `gale fcgi-demo` (2 processes) and php-cgi.
// Killed backends are restarted and serve again; gale's exit stops them.
func TestConfigVHostsAndSpawnedBackends(t *testing.T) {
	phpCGI, err := exec.LookPath("php-cgi")
	if err != nil {
		t.Fatal("php-cgi is missing: run scripts/install-deps.sh (package php8.2-cgi)")
	}
	dir := t.TempDir()
	writeFile(t, dir, "a/index.html", "site A\n")
	writeFile(t, dir, "a/hello.php", `<?php echo "php ", getmypid(), " ", $_SERVER["SCRIPT_NAME"], "\n";`)
	writeFile(t, dir, "a/index.php", `<?php echo "front ", $_SERVER["REQUEST_URI"], "\n";`)
	writeFile(t, dir, "b/index.html", "site B\n")
	cfg := writeFile(t, dir, "gale.yaml", fmt.Sprintf(`
upstreams:
  demo:
    spawn:
      command: [%q, fcgi-demo, -listen, "unix:{socket}"]
      count: 2
      socket: sock/demo-{n}.sock
  php:
    max_conns: 1
    spawn:
      command: [%q, -b, "{socket}"]
      socket: sock/php.sock
      env: {PHP_FCGI_CHILDREN: "0", PHP_FCGI_MAX_REQUESTS: "0"}
vhosts:
  - names: [b.test, "*.b.test"]
    root: b
  - names: [a.test]
    default: true
    root: a
    locations:
      - prefix: /
        fastcgi: {upstream: php}
      - prefix: /app/
        fastcgi: {upstream: demo, mode: pass}
`, galeBin, phpCGI))
	os.Mkdir(filepath.Join(dir, "sock"), 0o700)
	p := startGale(t, "-config", cfg, "-loops", "2")
	c := &http.Client{Timeout: 5 * time.Second}
	for _, tc := range []struct{ host, path, want string }{
		{"a.test", "/", "site A\n"},
		{"b.test", "/", "site B\n"},
		{"X.B.Test:8080", "/", "site B\n"},
		{"unknown.test", "/", "site A\n"},
		{"a.test", "/hello.php", "/hello.php\n"},
		{"a.test", "/no/such/page", "front /no/such/page\n"},
		{"a.test", "/app/", "gale FastCGI demo"},
	} {
		status, body, err := fetchHost(c, p, tc.host, tc.path)
		if err != nil || status != 200 || !strings.Contains(body, tc.want) {
			t.Fatalf("Host %s %s: %d %q %v, want %q", tc.host, tc.path, status, body, err, tc.want)
		}
	}

	gale := p.cmd.Process.Pid
	phpPid := onlyChild(t, gale, "php-cgi")
	demos := childrenOf(gale, "fcgi-demo")
	if len(demos) != 2 {
		t.Fatalf("%d fcgi-demo children, want 2", len(demos))
	}
	// Kill php-cgi: it is restarted and PHP answers again, from a new pid.
	syscall.Kill(phpPid, syscall.SIGKILL)
	again := waitServed(t, c, p, "/hello.php", "php ")
	if newPid := onlyChild(t, gale, "php-cgi"); newPid == phpPid || !strings.HasPrefix(again, "php "+strconv.Itoa(newPid)+" ") {
		t.Fatalf("php-cgi %d killed; now pid %d answers %q", phpPid, newPid, again)
	}
	// Kill one demo process: the other serves meanwhile, and it comes back.
	syscall.Kill(demos[0], syscall.SIGKILL)
	waitServed(t, c, p, "/app/", "gale FastCGI demo")
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := childrenOf(gale, "fcgi-demo")
		if len(now) == 2 && now[0] != demos[0] && now[1] != demos[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fcgi-demo children %v after killing %d", now, demos[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 0; i < 20; i++ { // both processes serve: every request succeeds
		if status, body, err := fetchHost(c, p, "a.test", "/app/"); err != nil || status != 200 {
			t.Fatalf("/app/ after the restart: %d %v %.80q", status, err, body)
		}
	}

	all := append(childrenOf(gale, "fcgi-demo"), childrenOf(gale, "php-cgi")...)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(p, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, pid := range all {
		if alive(pid) {
			t.Errorf("spawned backend %d still running after gale exited", pid)
		}
	}
	if socks, _ := filepath.Glob(filepath.Join(dir, "sock", "*")); len(socks) != 0 {
		t.Errorf("sockets left behind: %v", socks)
	}
}

// waitServed polls path (Host a.test) until it answers 200 with want in
// the body, within 3 s, and returns the body.
func waitServed(t *testing.T, c *http.Client, p *proc, path, want string) string {
	t.Helper()
	start := time.Now()
	for {
		status, body, err := fetchHost(c, p, "a.test", path)
		if err == nil && status == 200 && strings.Contains(body, want) {
			t.Logf("%s served again %v after the kill", path, time.Since(start).Round(time.Millisecond))
			return body
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("%s: %d %v %.80q 3 s after the kill", path, status, err, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childrenOf lists the live children of parent whose command line
// contains name, in pid order.
func childrenOf(parent int, name string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		i := bytes.LastIndexByte(stat, ')')
		if err != nil || i < 0 {
			continue
		}
		var state byte
		var ppid int
		if _, err := fmt.Sscanf(string(stat[i+1:]), " %c %d", &state, &ppid); err != nil || ppid != parent || state == 'Z' {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.Contains(cmdline, []byte(name)) {
			out = append(out, pid)
		}
	}
	return out
}

// onlyChild waits for exactly one child named name and returns its pid.
func onlyChild(t *testing.T, parent int, name string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if pids := childrenOf(parent, name); len(pids) == 1 {
			return pids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("children named %s of %d: %v, want one", name, parent, childrenOf(parent, name))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConfigLogAndAdmin: the config file's log: and admin: sections take
// effect (access log lines in JSON, the admin listener's /healthz and
// /metrics), not only the flags of the same names.
func TestConfigLogAndAdmin(t *testing.T) {
	testenv.CheckLeaks(t)
	dir := t.TempDir()
	writeFile(t, dir, "www/index.html", "hello from the config\n")
	access := filepath.Join(dir, "access.log")
	admin := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	conf := writeFile(t, dir, "gale.yaml", fmt.Sprintf(`log:
  access: %s
  access_format: json
admin: %s
vhosts:
  - root: %s
`, access, admin, filepath.Join(dir, "www")))
	p := startGale(t, "-config", conf)
	resp, body := get(t, p.url("/index.html"))
	if resp.StatusCode != 200 || string(body) != "hello from the config\n" {
		t.Fatalf("GET /index.html: %d %q", resp.StatusCode, body)
	}
	// The access log is flushed on the loop's tick (100 ms).
	var line string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(access)
		if s := strings.TrimSpace(string(b)); s != "" {
			line = s
			break
		}
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("access log line %q is not JSON: %v", line, err)
	}
	if rec["status"] != float64(200) || rec["method"] != "GET" || rec["uri"] != "/index.html" {
		t.Errorf("access log line %q: want status 200 for GET /index.html", line)
	}
	testenv.WaitPort(t, admin, 5*time.Second)
	if resp, _ := get(t, "http://"+admin+"/healthz"); resp.StatusCode != 200 {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
	_, metrics := get(t, "http://"+admin+"/metrics")
	if !regexp.MustCompile(`(?m)^gale_http_requests_total\{code="2xx",handler="static"\} 1$`).Match(metrics) {
		t.Errorf("/metrics has no gale_http_requests_total for the one static 2xx:\n%s", grepLines(string(metrics), "gale_http_requests_total"))
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
