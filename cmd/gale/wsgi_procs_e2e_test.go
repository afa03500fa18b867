package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestWSGIMaxRequests: workers replaced every 10 requests (plus jitter)
// under 5,000 requests from 32 clients fail none of them.
func TestWSGIMaxRequests(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "conform.py", conformApp)
	p := startWSGI(t, dir, "-workers", "2", "-max-requests", "10", "conform")
	const total, clients = 5000, 32
	var issued atomic.Int64
	var mu sync.Mutex
	pids := map[string]bool{}
	failed := &counter{}
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	began := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for issued.Add(1) <= total {
				code, body, err := fetch(c, p.url("/pid"))
				if err != nil || code != 200 {
					failed.add(strings.TrimSpace(string(body)) + " " + http.StatusText(code) + " " + errString(err))
					continue
				}
				mu.Lock()
				pids[string(body)] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n, first := failed.get()
	t.Logf("%d requests in %v, %d workers seen", total, time.Since(began).Round(time.Millisecond), len(pids))
	if n > 0 {
		t.Errorf("%d of %d requests failed while workers were recycled, e.g. %q", n, total, first)
	}
	// A worker serves on while its replacement starts, so it may serve
	// more than its budget: how many more depends on how long a Python
	// process takes to start, which a loaded machine stretches (18
	// workers, not the usual 100 or so, beside a benchmark). Without
	// recycling the 2 first workers would serve all 5,000; 8 is three
	// replacements each.
	if len(pids) < 8 {
		t.Errorf("only %d workers served %d requests with max_requests 10", len(pids), total)
	}
	if !strings.Contains(p.out.String(), "why=max_requests") {
		t.Errorf("no replacement for max_requests in the log")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestWSGITimeoutKillsWorker: a request past the read timeout gets 504,
// its worker is killed and replaced, and the next request is served;
// meanwhile a request queued for the busy worker gets 503 after the
// queue timeout.
func TestWSGITimeoutKillsWorker(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "conform.py", conformApp)
	admin := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	p := startWSGI(t, dir, "-workers", "1", "-timeout", "1500ms", "-queue-timeout", "300ms", "-admin", admin, "conform")
	c := &http.Client{Timeout: 10 * time.Second}
	stuck := pidOf(t, c, p, "/pid")

	type result struct {
		code  int
		took  time.Duration
		retry string
	}
	slow := make(chan result, 1)
	go func() {
		began := time.Now()
		resp, err := c.Get(p.url("/sleep?30"))
		if err != nil {
			slow <- result{code: -1}
			return
		}
		resp.Body.Close()
		slow <- result{code: resp.StatusCode, took: time.Since(began)}
	}()
	time.Sleep(200 * time.Millisecond)
	began := time.Now()
	resp, err := c.Get(p.url("/pid"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(began); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || took > time.Second {
		t.Errorf("a request queued behind the busy worker: %d (Retry-After %q) after %v; want 503 after the 300ms queue timeout",
			resp.StatusCode, resp.Header.Get("Retry-After"), took)
	}
	if _, m, _ := fetch(c, "http://"+admin+"/metrics"); !strings.Contains(string(m), `gale_wsgi_workers{state="busy",upstream="app"} 1`) {
		t.Errorf("/metrics while the worker sleeps in a request: no busy worker")
	}
	r := <-slow
	if r.code != 504 || r.took > 3*time.Second {
		t.Fatalf("the stuck request: %d after %v; want 504 after the 1.5s timeout", r.code, r.took)
	}
	next := pidOf(t, c, p, "/pid")
	if next == stuck {
		t.Errorf("the stuck worker %d still serves", stuck)
	}
	deadline := time.Now().Add(3 * time.Second)
	for alive(stuck) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(stuck) {
		t.Errorf("the stuck worker %d is still alive", stuck)
	}
	waitLog(t, p, "stuck past the read timeout; killed", time.Second)
	_, metrics, err := fetch(c, "http://"+admin+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`gale_wsgi_kills_total{upstream="app"} 1`,
		`gale_wsgi_workers{state="idle",upstream="app"} 1`,
		`gale_wsgi_workers{state="busy",upstream="app"} 0`,
		`gale_wsgi_recycles_total{upstream="app"} 0`,
		`gale_upstream_queued_requests{upstream="app"} 0`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestWSGIPipelinedBehindStuck: a GET pipelined behind a request that
// then gets stuck (sent within the 20 ms window, so it waits in the
// worker's socket, not gale's queue) is answered 200 by the replacement
// once the stuck worker is killed at the timeout: the worker never read
// it, and gale resends it.
func TestWSGIPipelinedBehindStuck(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "conform.py", conformApp)
	admin := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	p := startWSGI(t, dir, "-workers", "1", "-timeout", "1s", "-admin", admin, "conform")
	c := &http.Client{Timeout: 10 * time.Second}
	pipelined := func() int {
		_, m, err := fetch(c, "http://"+admin+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(string(m), "\n") {
			if strings.HasPrefix(line, `gale_upstream_pipelined_requests_total{`) {
				var v int
				fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
				n += v
			}
		}
		return n
	}
	// The window is short: on a slow machine the GET may miss it and
	// wait in the queue instead, which proves nothing; try again.
	for attempt := 0; attempt < 3 && pipelined() == 0; attempt++ {
		stuck := pidOf(t, c, p, "/pid")
		slow := make(chan int, 1)
		go func() {
			code, _, _ := fetch(c, p.url("/sleep?30"))
			slow <- code
		}()
		time.Sleep(5 * time.Millisecond)
		code, body, err := fetch(c, p.url("/pid"))
		if err != nil || code != 200 {
			t.Fatalf("the GET behind the stuck request: %d %q %v; want 200 from the replacement", code, body, err)
		}
		if string(body) == fmt.Sprint(stuck) {
			t.Errorf("the GET behind the stuck request was answered by the stuck worker %d", stuck)
		}
		if code := <-slow; code != 504 {
			t.Fatalf("the stuck request: %d, want 504", code)
		}
	}
	if pipelined() == 0 {
		t.Skip("the GET never went behind the stuck request within the window (a slow machine)")
	}
}

// TestWSGIReload: with -reload, editing a .py file under load replaces
// the workers without a failed request and the new code answers within
// 2 s; an edit that does not import leaves the previous workers serving,
// the traceback in the log.
func TestWSGIReload(t *testing.T) {
	needPython(t, "flask")
	dir := t.TempDir()
	writeFile(t, dir, "app.py", wsgiFlaskApp)
	p := startWSGI(t, dir, "-workers", "2", "-reload", "app:app")
	c := &http.Client{Timeout: 10 * time.Second}
	stop := make(chan struct{})
	ok, failed, done := hammer(p, "/version", 8, stop)
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			done.Wait()
		}
	}
	defer halt()
	time.Sleep(300 * time.Millisecond)

	writeFile(t, dir, "app.py", strings.Replace(wsgiFlaskApp, `VERSION = "v1"`, `VERSION = "v2"`, 1))
	edited := time.Now()
	for {
		_, body, _ := fetch(c, p.url("/version"))
		if string(body) == "v2" {
			break
		}
		if time.Since(edited) > 2*time.Second {
			t.Fatalf("the new code did not answer within 2s of the edit (last answer %q)", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("new code answered %v after the edit", time.Since(edited).Round(time.Millisecond))

	writeFile(t, dir, "app.py", wsgiFlaskApp+"\ndef broken(:\n")
	waitLog(t, p, "SyntaxError", 5*time.Second)
	waitLog(t, p, "the previous one keeps serving", 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	halt()
	if _, body, err := fetch(c, p.url("/version")); err != nil || string(body) != "v2" {
		t.Errorf("after a failed reload: %q %v; want the previous workers' v2", body, err)
	}
	served, _ := ok.get()
	n, first := failed.get()
	if n > 0 || served == 0 {
		t.Errorf("%d requests failed (%d served) across the reloads, e.g. %q", n, served, first)
	}
}

// TestWSGIImportErrorAtStart: an application that does not import stops
// `gale wsgi` at startup with its traceback, rather than serve 503s.
func TestWSGIImportErrorAtStart(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "broken.py", "import no_such_module_here\n")
	cmd := exec.Command(galeBin, "wsgi", "-listen", "127.0.0.1:0", "-python", wsgiPython, "-workers", "1", "broken")
	cmd.Dir = dir
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gale wsgi kept running with an application that does not import:\n%s", out)
	}
	if err == nil || !strings.Contains(string(out), "ModuleNotFoundError: No module named 'no_such_module_here'") ||
		!strings.Contains(string(out), "did not start") {
		t.Errorf("gale wsgi with a broken application: %v\n%s", err, out)
	}
}

// TestWSGIConfigFile: a wsgi upstream in the YAML file, beside static
// files; SIGHUP with the file unchanged replaces its workers.
func TestWSGIConfigFile(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "app/conform.py", conformApp)
	writeFile(t, dir, "www/robots.txt", "User-agent: *\n")
	writeFile(t, dir, "www/hello.php", `<?php echo "php says hello\n";`)
	phpCGI, err := exec.LookPath("php-cgi")
	if err != nil {
		t.Fatal("php-cgi is missing: run scripts/install-deps.sh (package php8.2-cgi)")
	}
	os.Mkdir(filepath.Join(dir, "sock"), 0o700)
	cfg := writeFile(t, dir, "gale.yaml", `upstreams:
  py:
    timeouts: {read: 5s}
    wsgi: {app: conform, dir: app, python: `+wsgiPython+`, workers: 1}
  php:
    max_conns: 1
    spawn:
      command: [`+phpCGI+`, -b, "{socket}"]
      socket: sock/php.sock
      env: {PHP_FCGI_CHILDREN: "0", PHP_FCGI_MAX_REQUESTS: "0"}
vhosts:
  - root: www
    locations:
      - {prefix: /, fastcgi: {upstream: py, mode: pass}}
      - {prefix: /sub/, fastcgi: {upstream: py, mode: pass}}
      - {prefix: /robots.txt}
      - {ext: [.php], fastcgi: {upstream: php}}
`)
	if out, err := exec.Command(galeBin, "-t", "-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("gale -t: %v\n%s", err, out)
	}
	p := launch(t, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), "-config", cfg)
	p.waitServing(t, 30*time.Second)
	c := &http.Client{Timeout: 10 * time.Second}
	if code, body, err := fetch(c, p.url("/robots.txt")); err != nil || code != 200 || string(body) != "User-agent: *\n" {
		t.Errorf("static file beside the application: %d %q %v", code, body, err)
	}
	if code, body, err := fetch(c, p.url("/hello.php")); err != nil || code != 200 || string(body) != "php says hello\n" {
		t.Errorf("PHP beside the application: %d %q %v", code, body, err)
	}
	// Mounted below "/", the application sees where (SCRIPT_NAME) and
	// the rest of the path (PATH_INFO).
	_, body, err := fetch(c, p.url("/sub/environ/x"))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Path []int             `json:"path_codepoints"`
		CGI  map[string]string `json:"cgi"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if pathInfo := string(runesOf(env.Path)); env.CGI["SCRIPT_NAME"] != "/sub" || pathInfo != "/environ/x" {
		t.Errorf("mounted at /sub/: SCRIPT_NAME %q, PATH_INFO %q; want /sub and /environ/x", env.CGI["SCRIPT_NAME"], pathInfo)
	}
	before := pidOf(t, c, p, "/pid")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, "why=SIGHUP", 10*time.Second)
	// No request comes meanwhile: the old worker's connection, idle in
	// gale's pool, is closed at the swap, so the worker stops now rather
	// than after the idle timeout.
	for deadline := time.Now().Add(2 * time.Second); alive(before); {
		if time.Now().After(deadline) {
			t.Fatalf("the replaced worker %d still runs 2s after the swap", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	now := pidOf(t, c, p, "/pid")
	if now == before {
		t.Errorf("SIGHUP did not replace the worker %d", before)
	}

	// A changed wsgi section is a new pool; the old one stops.
	b, _ := os.ReadFile(cfg)
	writeFile(t, dir, "gale.yaml", strings.Replace(string(b), "workers: 1", "workers: 2", 1))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); alive(now); {
		if time.Now().After(deadline) {
			t.Fatalf("the retired pool's worker %d still runs", now)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitLog(t, p, `msg="wsgi worker ready" upstream=py worker=1`, time.Second)
	if again := pidOf(t, c, p, "/pid"); again == now {
		t.Errorf("the retired pool's worker %d still answers", now)
	}
}

// TestWSGIMaxRSS: a worker above max_rss is replaced.
func TestWSGIMaxRSS(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "conform.py", conformApp)
	p := startWSGI(t, dir, "-workers", "1", "-max-rss", "1MiB", "conform")
	c := &http.Client{Timeout: 10 * time.Second}
	first := pidOf(t, c, p, "/pid")
	for deadline := time.Now().Add(5 * time.Second); pidOf(t, c, p, "/pid") == first; {
		if time.Now().After(deadline) {
			t.Fatalf("the worker %d above max_rss 1MiB was not replaced", first)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitLog(t, p, "above max_rss; replacing it", time.Second)
}

func runesOf(codepoints []int) []rune {
	out := make([]rune, len(codepoints))
	for i, c := range codepoints {
		out[i] = rune(c)
	}
	return out
}
