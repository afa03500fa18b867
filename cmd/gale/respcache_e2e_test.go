package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// TestResponseCacheE2E: gale from a config file caches a real HTTP
// backend's responses: the hit's Cache-Status in the header, the access
// log and /metrics, the tag header kept from the client, and purges by
// URL and by tag on the admin listener sending the next request back to
// the backend.
func TestResponseCacheE2E(t *testing.T) {
	testenv.CheckLeaks(t)
	var hits atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Surrogate-Key", "post-"+strings.TrimPrefix(r.URL.Path, "/"))
		fmt.Fprint(w, "page "+r.URL.Path)
	})}
	go backend.Serve(ln)
	defer backend.Close()
	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	admin := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	conf := writeFile(t, dir, "gale.yaml", fmt.Sprintf(`log: {access: %s, access_format: json}
admin: %s
upstreams:
  app: {protocol: http, backends: [%s]}
vhosts:
  - locations:
      - prefix: /
        proxy: {upstream: app}
        cache: {ttl: 1m, tag_header: Surrogate-Key}
`, access, admin, ln.Addr()))
	p := startGale(t, "-config", conf)
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}()
	fetch := func(path string) (*http.Response, string) {
		resp, body := get(t, p.url(path))
		return resp, string(body)
	}
	fetch("/1")
	resp, body := fetch("/1")
	if body != "page /1" || hits.Load() != 1 || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "gale; hit; ttl=") {
		t.Fatalf("second GET: %q, backend %d, Cache-Status %q", body, hits.Load(), resp.Header.Get("Cache-Status"))
	}
	if resp.Header.Get("Surrogate-Key") != "" {
		t.Fatal("the tag header reached the client")
	}
	testenv.WaitPort(t, admin, 5*time.Second)
	purge := func(form url.Values) string {
		resp, err := http.PostForm("http://"+admin+"/cache/purge", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	host := p.addr
	if got := purge(url.Values{"url": {"http://" + host + "/1"}}); got != "purged 1" {
		t.Fatalf("purge by URL: %q", got)
	}
	fetch("/1")
	fetch("/2")
	if hits.Load() != 3 {
		t.Fatalf("after the purge the backend saw %d requests, want 3", hits.Load())
	}
	if got := purge(url.Values{"tag": {"post-2"}}); got != "purged 1" {
		t.Fatalf("purge by tag: %q", got)
	}
	fetch("/1")
	fetch("/2")
	if hits.Load() != 4 {
		t.Fatalf("after the tag purge the backend saw %d requests, want 4 (/2 only)", hits.Load())
	}
	_, metrics := get(t, "http://"+admin+"/metrics")
	if !regexp.MustCompile(`(?m)^gale_response_cache_lookups_total\{result="hit"\} 2$`).Match(metrics) ||
		!regexp.MustCompile(`(?m)^gale_response_cache_entries 2$`).Match(metrics) {
		t.Errorf("/metrics:\n%s", grepLines(string(metrics), "gale_response_cache"))
	}
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && len(lines) < 6; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(access)
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	var rec map[string]any
	if len(lines) < 2 || json.Unmarshal([]byte(lines[1]), &rec) != nil || rec["cache"] != "gale; hit" {
		t.Fatalf("access log: %q", lines)
	}
}
