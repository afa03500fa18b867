package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRewrites: internal rewrites (issue 16 item 12, nginx rewrite ...
// last) from a configuration, over the wire: DokuWiki's userewrite=1
// rules in front of real php-cgi (the script gets the rewritten
// SCRIPT_NAME and QUERY_STRING, REQUEST_URI stays the client's), a
// chunked upload through a rewrite (its head is encoded once the body is
// in, from the route), a rewrite to a static file, one to an HTTP
// upstream (the backend gets the rewritten target), and `gale -t`
// refusing a rewrite to another host. And a location's header rules on
// the application's responses (item 14): a field the script sends
// removed, one set, on 2xx and 3xx only; and request header rules for
// FastCGI and HTTP: a forged X-Forwarded-Proto removed, fields set over
// the client's, a Cookie kept from the API.
func TestRewrites(t *testing.T) {
	phpCGI, err := exec.LookPath("php-cgi")
	if err != nil {
		t.Fatal("php-cgi is missing: run scripts/install-deps.sh (package php8.2-cgi)")
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "api %s key=%s cookie=%q", r.RequestURI, r.Header.Get("X-Api-Key"), r.Header.Get("Cookie"))
	}))
	defer api.Close()

	dir := t.TempDir()
	show := `<?php header("X-Debug: 1"); printf("%s script=%s query=%s uri=%s media=%s len=%d", basename(__FILE__), $_SERVER["SCRIPT_NAME"], $_SERVER["QUERY_STRING"], $_SERVER["REQUEST_URI"], $_GET["media"] ?? "-", strlen(file_get_contents("php://input")));`
	for name, body := range map[string]string{
		"www/doku.php":               show,
		"www/lib/exe/fetch.php":      show,
		"www/lib/exe/detail.php":     show,
		"www/lib/images/favicon.ico": "ICO",
		"www/hdr.php":                `<?php printf("proto=%s site=%s", $_SERVER["HTTP_X_FORWARDED_PROTO"] ?? "", $_SERVER["HTTP_X_SITE"] ?? "");`,
		"www/gone.php":               `<?php header("X-Debug: 1"); http_response_code(404); echo "gone";`,
	} {
		writeFile(t, dir, name, body)
	}
	check(t, os.Mkdir(filepath.Join(dir, "sock"), 0o700))
	cfg := writeFile(t, dir, "gale.yaml", fmt.Sprintf(`
upstreams:
  php:
    max_conns: 1
    spawn:
      command: [%q, -b, "{socket}"]
      socket: sock/php.sock
      env: {PHP_FCGI_CHILDREN: "0", PHP_FCGI_MAX_REQUESTS: "0"}
  api: {protocol: http, backends: [%s]}
vhosts:
  - root: www
    rewrites:
      - {match: "^/_media/(.*)$", to: "/lib/exe/fetch.php?media=$1"}
      - {match: "^/_detail/(.*)$", to: "/lib/exe/detail.php?media=$1"}
      - {match: "^/favicon\\.ico$", to: /lib/images/favicon.ico}
      - {match: "^/v1/(.*)$", to: "/api/$1"}
      - {match: "^/(wiki:.*)$", to: "/doku.php?id=$1"}
    locations:
      - prefix: /
        fastcgi: {upstream: php}
        headers: {set: {X-Frame-Options: DENY}, remove: [X-Debug]}
        request_headers: {set: {X-Site: doku}, remove: [X-Forwarded-Proto]}
      - prefix: /api/
        proxy: {upstream: api}
        request_headers: {set: {X-Api-Key: k1}, remove: [Cookie]}
`, phpCGI, strings.TrimPrefix(api.URL, "http://")))
	if out, err := exec.Command(galeBin, "-t", "-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("gale -t: %v\n%s", err, out)
	}
	p := startGale(t, "-config", cfg, "-loops", "2")
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	waitServed(t, c, p, "/lib/images/favicon.ico", "ICO")
	for _, tc := range []struct{ path, body string }{
		{"/_media/wiki:logo.png?w=10", "fetch.php script=/lib/exe/fetch.php query=media=wiki:logo.png&w=10 uri=/_media/wiki:logo.png?w=10 media=wiki:logo.png len=0"},
		{"/_detail/a%20b.png", "detail.php script=/lib/exe/detail.php query=media=a%20b.png uri=/_detail/a%20b.png media=a b.png len=0"},
		{"/favicon.ico", "ICO"},
		{"/v1/users/7?x=1", `api /api/users/7?x=1 key=k1 cookie=""`},
		{"/hdr.php", "proto= site=doku"},
		{"/doku.php?id=start", "doku.php script=/doku.php query=id=start uri=/doku.php?id=start media=- len=0"},
	} {
		req, _ := http.NewRequest("GET", p.url(tc.path), nil)
		// What a client forges, and what the rules replace or drop.
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Site", "forged")
		req.Header.Set("X-Api-Key", "forged")
		req.Header.Set("Cookie", "session=1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != tc.body {
			t.Errorf("%s: %d %q, want %q", tc.path, resp.StatusCode, b, tc.body)
		}
	}
	for _, tc := range []struct {
		path   string
		status int
		frame  string
	}{{"/doku.php", 200, "DENY"}, {"/gone.php", 404, ""}} {
		resp, err := c.Get(p.url(tc.path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("X-Frame-Options") != tc.frame || (resp.Header.Get("X-Debug") == "") != (tc.status == 200) {
			t.Errorf("%s: %d %v, want %d with X-Frame-Options %q, X-Debug only on the 404", tc.path, resp.StatusCode, resp.Header, tc.status, tc.frame)
		}
	}
	// A chunked upload through a rewrite: PHP needs its length, so the
	// head is encoded after the body, with the rewritten route.
	req, _ := http.NewRequest("POST", p.url("/_media/up.txt?x=2"), io.MultiReader(strings.NewReader("hello "), strings.NewReader("chunked")))
	req.ContentLength = -1
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "fetch.php script=/lib/exe/fetch.php query=media=up.txt&x=2 uri=/_media/up.txt?x=2 media=up.txt len=13"; string(b) != want {
		t.Errorf("chunked POST: %d %q, want %q", resp.StatusCode, b, want)
	}

	bad := writeFile(t, dir, "bad.yaml", "vhosts:\n  - root: www\n    rewrites:\n      - {match: \"^/x$\", to: \"https://elsewhere/\"}\n")
	out, err := exec.Command(galeBin, "-t", "-config", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "rewrites[0]") || !strings.Contains(string(out), "local path") {
		t.Errorf("gale -t on a rewrite to another host: %v\n%s", err, out)
	}
}
