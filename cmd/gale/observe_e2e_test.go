package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gale-http/gale/internal/fcgidemo"
	"github.com/gale-http/gale/internal/testenv"
)

// scrape GETs /metrics and parses it.
func scrape(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

// metric finds the sample of family name whose labels include want.
func metric(mf map[string]*dto.MetricFamily, name string, want ...string) *dto.Metric {
	f := mf[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func value(t *testing.T, mf map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m := metric(mf, name, labels...)
	if m == nil {
		t.Fatalf("no metric %s%v", name, labels)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("%s is neither counter nor gauge", name)
	return 0
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func readLines(path string) []string {
	data, _ := os.ReadFile(path)
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestMetricsLogsHealth runs gale with the admin listener, a JSON access
// log and the Go FastCGI demo as upstream, sends known traffic (static
// hits and misses, FastCGI 200s and 404s, a bad request, idle
// connections) and checks every counter, every log line, the health
// endpoints as the backend goes away, and the log reopen on SIGUSR1.
func TestMetricsLogsHealth(t *testing.T) {
	testenv.CheckLeaks(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	os.Mkdir(root, 0o755)
	css := bytes.Repeat([]byte("p { color: red }\n"), 100)
	os.WriteFile(filepath.Join(root, "style.css"), css, 0o644)
	sock := filepath.Join(dir, "app.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go fcgidemo.Serve(ln)
	defer ln.Close()

	admin := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	logPath := filepath.Join(dir, "access.log")
	p := startGale(t, "-root", root, "-loops", "2", "-fastcgi", "unix:"+sock, "-admin", admin,
		"-access-log", logPath, "-access-log-format", "json", "-log-format", "json")
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}()
	testenv.WaitPort(t, admin, 5*time.Second)

	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	do := func(path string, want int) int {
		t.Helper()
		resp, err := client.Get(p.url(path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		return len(body)
	}
	var bodies int
	for range 10 {
		bodies += do("/style.css", 200)
	}
	for range 5 {
		bodies += do("/app/sleep?ms=20", 200)
	}
	for range 2 {
		bodies += do("/nothing-here", 404) // unknown paths go to the application
	}
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
	if b, _ := io.ReadAll(c); !bytes.HasPrefix(b, []byte("HTTP/1.1 400 ")) {
		t.Fatalf("duplicate Host: %q", b)
	}
	c.Close()
	client.CloseIdleConnections()

	// Three idle connections are counted as active, and no more.
	var idle []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	var mf map[string]*dto.MetricFamily
	waitFor(t, "3 active connections", func() bool {
		mf = scrape(t, admin)
		return value(t, mf, "gale_http_connections_active") == 3
	})
	for _, c := range idle {
		c.Close()
	}

	backend := "unix:" + sock
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gale_http_requests_total", []string{"handler", "static", "code", "2xx"}, 10},
		{"gale_http_requests_total", []string{"handler", "static", "code", "4xx"}, 0},
		{"gale_http_requests_total", []string{"handler", "fastcgi", "code", "2xx"}, 5},
		{"gale_http_requests_total", []string{"handler", "fastcgi", "code", "4xx"}, 2},
		{"gale_http_requests_total", []string{"handler", "none", "code", "4xx"}, 1},
		{"gale_http_requests_total", []string{"handler", "fastcgi", "code", "5xx"}, 0},
		{"gale_cache_hits_total", nil, 9},
		{"gale_cache_misses_total", nil, 1},
		{"gale_upstream_backend_up", []string{"upstream", "fastcgi", "backend", backend}, 1},
		{"gale_upstream_queued_requests", []string{"upstream", "fastcgi"}, 0},
		{"gale_upstream_errors_total", []string{"backend", backend, "kind", "connect"}, 0},
		{"gale_upstream_errors_total", []string{"backend", backend, "kind", "lost"}, 0},
	}
	for _, c := range checks {
		if got := value(t, mf, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := value(t, mf, "gale_http_sent_bytes_total"); got < float64(bodies) || got > float64(bodies)+18*400 {
		t.Errorf("sent bytes %v: want the %d body bytes plus heads", got, bodies)
	}
	if got := value(t, mf, "gale_cache_bytes"); got < float64(len(css)) {
		t.Errorf("cache bytes %v < the cached file's %d", got, len(css))
	}
	if got := value(t, mf, "gale_upstream_connections_idle", "backend", backend); got < 1 {
		t.Errorf("idle upstream connections %v, want at least 1 kept alive", got)
	}
	h := metric(mf, "gale_upstream_response_seconds", "upstream", "fastcgi", "backend", backend).GetHistogram()
	if h.GetSampleCount() != 7 || h.GetSampleSum() < 0.1 {
		t.Errorf("upstream latency: %d samples summing to %vs, want 7 and >= 0.1 s (5 × 20 ms sleeps)", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.Bucket {
		if b.GetUpperBound() == 0.01 && b.GetCumulativeCount() > 2 {
			t.Errorf("%d responses within 10 ms; only the two 404s can be", b.GetCumulativeCount())
		}
	}

	// The access log: one JSON line per request, flushed on the tick.
	var lines []string
	waitFor(t, "18 access log lines", func() bool { lines = readLines(logPath); return len(lines) >= 18 })
	if len(lines) != 18 {
		t.Fatalf("%d access log lines, want 18:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	count := map[string]int{}
	for _, ln := range lines {
		var e struct {
			Status     int      `json:"status"`
			URI        string   `json:"uri"`
			Bytes      int      `json:"body_bytes_sent"`
			Remote     string   `json:"remote_addr"`
			UpAddr     string   `json:"upstream_addr"`
			UpTime     *float64 `json:"upstream_response_time"`
			ReqTime    *float64 `json:"request_time"`
			UserAgent  string   `json:"user_agent"`
			RawHandler string   `json:"-"`
		}
		if err := json.Unmarshal([]byte(ln), &e); err != nil {
			t.Fatalf("not JSON: %s: %v", ln, err)
		}
		if e.ReqTime == nil || (e.Remote != "127.0.0.1" && e.Status != 400) {
			t.Errorf("line without request_time or remote_addr: %s", ln)
		}
		switch {
		case e.URI == "/style.css":
			if e.Status != 200 || e.Bytes != len(css) || e.UpAddr != "" {
				t.Errorf("static line: %s", ln)
			}
		case e.URI == "/app/sleep?ms=20":
			if e.Status != 200 || e.UpAddr != backend || e.UpTime == nil || *e.UpTime < 0.019 || *e.ReqTime < *e.UpTime || e.Bytes == 0 {
				t.Errorf("fastcgi line: %s", ln)
			}
		case e.URI == "/nothing-here":
			if e.Status != 404 || e.UpAddr != backend {
				t.Errorf("fastcgi 404 line: %s", ln)
			}
		case e.Status == 400:
		default:
			t.Errorf("unexpected line: %s", ln)
		}
		count[e.URI]++
	}
	if count["/style.css"] != 10 || count["/app/sleep?ms=20"] != 5 || count["/nothing-here"] != 2 || count[""] != 1 {
		t.Errorf("lines per URI: %v", count)
	}

	// SIGUSR1 after a rotation: new lines go to a new file, none are lost.
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGUSR1)
	waitFor(t, "the reopen", func() bool { return strings.Contains(p.out.String(), "access log reopened") })
	do("/style.css", 200)
	waitFor(t, "a line in the new file", func() bool { return len(readLines(logPath)) == 1 })
	if n := len(readLines(logPath + ".1")); n != 18 {
		t.Errorf("rotated file has %d lines, want 18", n)
	}

	// A client that gives up before the application answers: 499.
	c, err = net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /app/sleep?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	waitFor(t, "the 499 line", func() bool {
		l := readLines(logPath)
		return len(l) == 2 && strings.Contains(l[1], `"status":499`) && strings.Contains(l[1], `"uri":"/app/sleep?ms=300"`)
	})
	mf = scrape(t, admin)
	if got := value(t, mf, "gale_http_requests_total", "handler", "fastcgi", "code", "4xx"); got != 3 {
		t.Errorf("fastcgi 4xx after a 499: %v, want 3", got)
	}

	// Health: ready while the backend accepts; not once it is gone.
	status := func(path string) (int, string) {
		resp, err := http.Get("http://" + admin + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, body := status("/readyz"); code != 200 {
		t.Fatalf("/readyz with a live backend: %d %s", code, body)
	}
	ln.Close()
	if code, body := status("/readyz"); code != 503 || !strings.Contains(body, "upstream fastcgi: no healthy backend") {
		t.Fatalf("/readyz without its backend: %d %q", code, body)
	}
	if code, _ := status("/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if err := runHealthcheck([]string{"-admin", admin}); err != nil {
		t.Fatalf("healthcheck against a live gale: %v", err)
	}
	if err := runHealthcheck([]string{"-url", "http://" + admin + "/readyz"}); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("healthcheck of a 503: %v", err)
	}
}

// TestMetricsUpstreamDown: a backend that refuses connections gives 502s
// counted as connect errors and 5xx, logged with the backend's address,
// and /readyz says why it is not ready.
func TestMetricsUpstreamDown(t *testing.T) {
	testenv.CheckLeaks(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "nobody.sock")
	admin := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	logPath := filepath.Join(dir, "access.log")
	// The front controller sends only scripts that exist to the backend.
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte("<?php"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startGale(t, "-root", dir, "-loops", "1", "-fastcgi", "unix:"+sock, "-admin", admin, "-access-log", logPath)
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}()
	testenv.WaitPort(t, admin, 5*time.Second)
	for range 2 {
		if resp, _ := get(t, p.url("/index.php")); resp.StatusCode != 502 {
			t.Fatalf("with the backend down: %d, want 502", resp.StatusCode)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	mf := scrape(t, admin)
	backend := "unix:" + sock
	if got := value(t, mf, "gale_upstream_errors_total", "backend", backend, "kind", "connect"); got != 2 {
		t.Errorf("connect errors %v, want 2", got)
	}
	if got := value(t, mf, "gale_http_requests_total", "handler", "fastcgi", "code", "5xx"); got != 2 {
		t.Errorf("fastcgi 5xx %v, want 2", got)
	}
	if h := metric(mf, "gale_upstream_response_seconds", "backend", backend).GetHistogram(); h.GetSampleCount() != 0 {
		t.Errorf("%d latency samples without a response", h.GetSampleCount())
	}
	var lines []string
	waitFor(t, "2 log lines", func() bool { lines = readLines(logPath); return len(lines) == 2 })
	for _, l := range lines {
		if !strings.Contains(l, `"GET /index.php HTTP/1.1" 502 `) {
			t.Errorf("log line: %s", l)
		}
	}
	resp, err := http.Get("http://" + admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "upstream fastcgi: no healthy backend") || !strings.Contains(string(body), sock) {
		t.Errorf("/readyz: %d %q", resp.StatusCode, body)
	}
}
